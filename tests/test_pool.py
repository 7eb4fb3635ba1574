"""Pooling, interpolate, group norm, channel dropout: NumPy float64 references (tests/opinfo_pool.py)
always, PyTorch as a second oracle when installed (values, indices, gradients, module reprs),
autograd (gradcheck, gradgradcheck, jvp) on tricky configurations, and the errors."""

from __future__ import annotations

import warnings

import numpy as np
import opinfo  # noqa: F401  (registers the entries before opinfo_pool is imported below)
import pytest
import tinygrad_ext as tgx
import tinygrad_ext.nn as nn
import tinygrad_ext.nn.functional as F
from conftest import make_noncontig
from opinfo_pool import np_adaptive_pool, np_avg_pool, np_group_norm, np_interpolate, np_max_pool

RNG = np.random.default_rng(0)


def arr(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def close(got, want, rtol=1e-6, atol=1e-7):
    np.testing.assert_allclose(np.asarray(got.detach().numpy() if hasattr(got, "detach") else got),
                               np.asarray(want), rtol=rtol, atol=atol)


MAX_CASES = [  # (shape, kwargs): odd sizes, ceil_mode, padding, dilation, rectangular windows
    ((2, 3, 7, 9), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 2, 9, 8), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    ((1, 2, 8, 11), dict(kernel_size=(2, 4), stride=(3, 1), padding=(1, 2), ceil_mode=True)),
    ((2, 1, 5, 5), dict(kernel_size=5, stride=3, padding=2, ceil_mode=True)),
    ((1, 1, 1, 1), dict(kernel_size=1)),
    ((3, 6, 6), dict(kernel_size=3, stride=1, padding=1)),
]
AVG_CASES = [
    ((2, 3, 7, 9), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((1, 2, 8, 11), dict(kernel_size=(2, 4), stride=(3, 1), padding=(1, 2), ceil_mode=True)),
    ((1, 2, 8, 11), dict(kernel_size=(2, 4), stride=(3, 1), padding=(1, 2), ceil_mode=True,
                         count_include_pad=False)),
    ((2, 1, 5, 5), dict(kernel_size=3, stride=2, padding=1, divisor_override=7)),
    ((3, 6, 6), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
]


# ---- NumPy references (always) ---------------------------------------------------------------
@pytest.mark.parametrize("shape,kw", MAX_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_vs_numpy(shape, kw, dtype):
    x = arr(*shape, dtype=dtype)
    out, idx = F.max_pool2d(tgx.tensor(x), return_indices=True, **kw)
    want, want_idx = np_max_pool(x, **kw)
    assert out.dtype == tgx.tensor(x).dtype and idx.dtype == tgx.int64
    np.testing.assert_array_equal(out.numpy(), want)
    np.testing.assert_array_equal(idx.numpy(), want_idx)


@pytest.mark.parametrize("shape,kw", AVG_CASES)
def test_avg_pool2d_vs_numpy(shape, kw):
    x = arr(*shape)
    close(F.avg_pool2d(tgx.tensor(x), **kw), np_avg_pool(x, **kw), rtol=1e-12, atol=1e-14)


def test_1d_and_adaptive_vs_numpy():
    x = arr(2, 3, 13)
    kw = dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)
    v, i = F.max_pool1d(tgx.tensor(x), return_indices=True, **kw)
    wv, wi = np_max_pool(x, spatial=1, **kw)
    np.testing.assert_array_equal(v.numpy(), wv)
    np.testing.assert_array_equal(i.numpy(), wi)
    close(F.avg_pool1d(tgx.tensor(x), 4, 3, 2, True, False),
          np_avg_pool(x, 4, 3, 2, True, False, spatial=1))
    x2 = arr(2, 3, 7, 10)
    for os in [(3, 4), 1, (7, 10), (9, 13), (None, 3)]:
        close(F.adaptive_avg_pool2d(tgx.tensor(x2), os), np_adaptive_pool(x2, os))
        v, i = F.adaptive_max_pool2d(tgx.tensor(x2), os, return_indices=True)
        wv, wi = np_adaptive_pool(x2, os, kind="max")
        np.testing.assert_array_equal(v.numpy(), wv)
        np.testing.assert_array_equal(i.numpy(), wi)
    close(F.adaptive_avg_pool1d(tgx.tensor(x), 5), np_adaptive_pool(x, 5, spatial=1))
    np.testing.assert_array_equal(F.adaptive_max_pool1d(tgx.tensor(x), 5).numpy(),
                                  np_adaptive_pool(x, 5, kind="max", spatial=1)[0])


def test_large_parallel_vs_numpy():
    """Enough rows to split over threads; a transposed (channels-last) input read in place."""
    x = arr(4, 16, 32, 30, dtype=np.float32)
    v, i = F.max_pool2d(tgx.tensor(x), 3, 2, 1, return_indices=True)
    wv, wi = np_max_pool(x, 3, 2, 1)
    np.testing.assert_array_equal(v.numpy(), wv)
    np.testing.assert_array_equal(i.numpy(), wi)
    t = make_noncontig(x, "transpose")
    if t is not None:
        np.testing.assert_array_equal(F.max_pool2d(t, 3, 2, 1).numpy(), wv)
        close(F.avg_pool2d(t, 2), np_avg_pool(x, 2), rtol=1e-6, atol=1e-6)


def test_nan_and_inf_windows():
    x = np.full((1, 1, 4, 4), -np.inf)
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 3, 3] = 5.0
    v, i = F.max_pool2d(tgx.tensor(x), 2, return_indices=True)
    wv, wi = np_max_pool(x, 2)
    np.testing.assert_array_equal(v.numpy(), wv)  # nan propagates, -inf windows stay -inf
    np.testing.assert_array_equal(i.numpy(), wi)  # all -inf: the first tap
    assert np.isnan(v.numpy()[0, 0, 0, 0]) and i.numpy()[0, 0, 0, 0] == 1
    assert i.numpy()[0, 0, 1, 0] == 8


def test_integer_max_pool_and_ties():
    x = np.array([[[[1, 3, 3, 0], [3, 2, 1, 1], [0, 0, 0, 0], [7, 7, 7, 7]]]], np.int64)
    for dt in (np.uint8, np.int32, np.int64):
        v, i = F.max_pool2d(tgx.tensor(x.astype(dt)), 2, return_indices=True)
        assert str(v.dtype).endswith(np.dtype(dt).name)
        np.testing.assert_array_equal(v.numpy(), [[[[3, 3], [7, 7]]]])
        np.testing.assert_array_equal(i.numpy(), [[[[1, 2], [12, 14]]]])  # first maximum


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=2, stride=1),
                                dict(kernel_size=3, stride=1), dict(kernel_size=3, stride=2),
                                dict(kernel_size=3, stride=3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int32, np.int64])
def test_fixed_window_lanes_ties_nan_inf(kw, dtype):
    # 2x2 and 3x3 windows without padding take a vector path (a vector of output columns at a
    # time, lanes past the row end repeated): widths around the lane counts, many ties, and for
    # floats nan and -inf in random places; values and indices equal the reference's
    for w in (3, 7, 8, 9, 16, 17, 19, 35):
        x = RNG.integers(-3, 3, size=(2, 3, 7, w)).astype(dtype)
        if np.dtype(dtype).kind == "f":
            x[RNG.random(x.shape) < 0.05] = np.nan
            x[RNG.random(x.shape) < 0.05] = -np.inf
        v, i = F.max_pool2d(tgx.tensor(x), return_indices=True, **kw)
        wv, wi = np_max_pool(x, **kw)
        np.testing.assert_array_equal(v.numpy(), wv)
        np.testing.assert_array_equal(i.numpy(), wi)
        t = tgx.tensor(x).permute(0, 1, 3, 2)  # strided columns
        v, i = F.max_pool2d(t, return_indices=True, **kw)
        wv, wi = np_max_pool(np.ascontiguousarray(x.transpose(0, 1, 3, 2)), **kw)
        np.testing.assert_array_equal(v.numpy(), wv)
        np.testing.assert_array_equal(i.numpy(), wi)


def test_empty_batch_and_unbatched():
    x = tgx.zeros(0, 2, 5, 5, requires_grad=True)
    y = F.max_pool2d(x, 2)
    assert tuple(y.shape) == (0, 2, 2, 2)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 2, 5, 5)
    assert tuple(F.avg_pool2d(x, 3, 1, 1).shape) == (0, 2, 5, 5)
    assert tuple(F.adaptive_avg_pool2d(x, (3, 0)).shape) == (0, 2, 3, 0)
    xu = arr(3, 6, 7)
    close(F.avg_pool2d(tgx.tensor(xu), 2), np_avg_pool(xu, 2))
    assert tuple(F.max_pool1d(tgx.tensor(arr(3, 8)), 3).shape) == (3, 2)


def test_interpolate_and_group_norm_vs_numpy():
    x = arr(2, 3, 4, 5)
    for kw in [dict(scale_factor=2), dict(size=(7, 3)), dict(scale_factor=(0.5, 1.6)),
               dict(size=(6, 9), mode="bilinear", align_corners=True),
               dict(size=(3, 8), mode="bilinear"), dict(scale_factor=1.5, mode="bilinear")]:
        close(F.interpolate(tgx.tensor(x), **kw), np_interpolate(x, **kw), rtol=1e-12, atol=1e-12)
    w, b = arr(6), arr(6)
    x = arr(2, 6, 3, 4)
    close(F.group_norm(tgx.tensor(x), 3, tgx.tensor(w), tgx.tensor(b)),
          np_group_norm(x, w, b, 3), rtol=1e-10, atol=1e-12)


# ---- autograd ------------------------------------------------------------------------------------
GRAD_CASES = [
    lambda x: F.max_pool2d(x, 3, 2, 1, dilation=1, ceil_mode=True),
    lambda x: F.max_pool2d(x, (2, 3), (1, 2), (1, 1), dilation=(2, 1)),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: F.avg_pool2d(x, 2, 1, 1, divisor_override=3),
    lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
    lambda x: F.adaptive_max_pool2d(x, (2, 3)),
    lambda x: F.max_pool1d(x.reshape(2, 2, 20), 3, 2, 1, 2, True),
    lambda x: F.avg_pool1d(x.reshape(2, 2, 20), 4, 3, 2, True, False),
    lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
    lambda x: F.interpolate(x, size=(7, 3), mode="nearest"),
    lambda x: F.group_norm(x, 2) * x,
]


@pytest.mark.parametrize("i", range(len(GRAD_CASES)))
def test_gradcheck_gradgradcheck_jvp(i):
    fn = GRAD_CASES[i]
    x0 = RNG.standard_normal((2, 2, 5, 4))
    x = tgx.tensor(x0, requires_grad=True)
    assert tgx.autograd.gradcheck(fn, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert tgx.autograd.gradgradcheck(fn, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
    v = RNG.standard_normal(x0.shape)
    _, jv = tgx.func.jvp(fn, (tgx.tensor(x0),), (tgx.tensor(v),))
    eps = 1e-6
    num = (fn(tgx.tensor(x0 + eps * v)).numpy() - fn(tgx.tensor(x0 - eps * v)).numpy()) / (2 * eps)
    close(jv, num, rtol=1e-4, atol=1e-6)


def test_max_pool_grad_goes_to_argmax_and_double_backward():
    x0 = arr(1, 2, 6, 6)
    x = tgx.tensor(x0, requires_grad=True)
    g0 = arr(1, 2, 3, 3)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    g = tgx.tensor(g0, requires_grad=True)
    (gx,) = tgx.autograd.grad(out, x, g, create_graph=True)
    want = np.zeros(36 * 2)
    flat = idx.numpy().reshape(2, 9) + np.arange(2)[:, None] * 36
    want[flat.ravel()] = g0.reshape(-1)
    close(gx, want.reshape(x0.shape), rtol=0, atol=0)
    assert gx.grad_fn is not None  # the scatter is itself recorded: its vjp gathers
    v0 = arr(1, 2, 6, 6)
    (gg,) = tgx.autograd.grad(gx, g, tgx.tensor(v0))
    close(gg, np_max_pool(v0, 2)[0] * 0 + v0.reshape(2, 36)[np.arange(2)[:, None],
                                                        idx.numpy().reshape(2, 9)].reshape(g0.shape))


# ---- PyTorch as an oracle ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _both(torch, x0, requires_grad=True):
    return (tgx.tensor(x0, requires_grad=requires_grad),
            torch.tensor(x0, requires_grad=requires_grad))


def _check_fn_vs_torch(torch, fn_tgx, fn_torch, x0, rtol=1e-6, atol=1e-7, grad=True):
    a, b = _both(torch, x0, grad)
    ya, yb = fn_tgx(a), fn_torch(b)
    close(ya, yb.detach().numpy(), rtol, atol)
    if grad:
        g = RNG.standard_normal(tuple(yb.shape)).astype(x0.dtype)
        ya.backward(tgx.tensor(g))
        yb.backward(torch.tensor(g))
        close(a.grad, b.grad.numpy(), rtol, atol)


@pytest.mark.parametrize("shape,kw", MAX_CASES)
def test_max_pool2d_vs_torch(torch, shape, kw):
    x0 = arr(*shape)
    v, i = F.max_pool2d(tgx.tensor(x0), return_indices=True, **kw)
    tv, ti = torch.nn.functional.max_pool2d(torch.tensor(x0), return_indices=True, **kw)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    _check_fn_vs_torch(torch, lambda t: F.max_pool2d(t, **kw),
                       lambda t: torch.nn.functional.max_pool2d(t, **kw), x0)


@pytest.mark.parametrize("shape,kw", AVG_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_avg_pool2d_vs_torch(torch, shape, kw, dtype):
    tol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-14)
    _check_fn_vs_torch(torch, lambda t: F.avg_pool2d(t, **kw),
                       lambda t: torch.nn.functional.avg_pool2d(t, **kw), arr(*shape, dtype=dtype), *tol)


def test_adaptive_and_1d_vs_torch(torch):
    tF = torch.nn.functional
    x0 = arr(2, 3, 7, 10)
    for os in [(3, 4), 1, (9, 13), (None, 3), (5, None)]:
        _check_fn_vs_torch(torch, lambda t: F.adaptive_avg_pool2d(t, os),
                           lambda t: tF.adaptive_avg_pool2d(t, os), x0)
        _check_fn_vs_torch(torch, lambda t: F.adaptive_max_pool2d(t, os),
                           lambda t: tF.adaptive_max_pool2d(t, os), x0)
        np.testing.assert_array_equal(
            F.adaptive_max_pool2d(tgx.tensor(x0), os, True)[1].numpy(),
            tF.adaptive_max_pool2d(torch.tensor(x0), os, True)[1].numpy())
    x1 = arr(2, 3, 13)
    for kw in [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True),
               dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)]:
        _check_fn_vs_torch(torch, lambda t: F.max_pool1d(t, **kw), lambda t: tF.max_pool1d(t, **kw), x1)
    for kw in [dict(kernel_size=3), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True,
                                         count_include_pad=False)]:
        _check_fn_vs_torch(torch, lambda t: F.avg_pool1d(t, **kw), lambda t: tF.avg_pool1d(t, **kw), x1)
    _check_fn_vs_torch(torch, lambda t: F.adaptive_avg_pool1d(t, 5), lambda t: tF.adaptive_avg_pool1d(t, 5), x1)
    _check_fn_vs_torch(torch, lambda t: F.adaptive_max_pool1d(t, 5), lambda t: tF.adaptive_max_pool1d(t, 5), x1)
    # the top-level functions exist where torch has them
    for name in ("max_pool1d", "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d", "max_pool1d_with_indices"):
        a, b = getattr(tgx, name)(tgx.tensor(x1), 2), getattr(torch, name)(torch.tensor(x1), 2)
        a, b = (a, b) if not isinstance(a, tuple) else (a[0], b[0])
        close(a, b.numpy())


INTERP_CASES = [
    dict(scale_factor=2), dict(scale_factor=3), dict(size=(7, 3)), dict(scale_factor=(0.5, 1.6)),
    dict(scale_factor=1.3, recompute_scale_factor=True), dict(size=(5, 9), mode="nearest-exact"),
    dict(scale_factor=0.7, mode="nearest-exact"),
    dict(size=(6, 9), mode="bilinear", align_corners=True),
    dict(size=(1, 1), mode="bilinear", align_corners=True),
    dict(size=(3, 8), mode="bilinear"), dict(scale_factor=1.5, mode="bilinear"),
    dict(scale_factor=(2.3, 0.6), mode="bilinear"),
]


@pytest.mark.parametrize("kw", INTERP_CASES)
def test_interpolate_vs_torch(torch, kw):
    _check_fn_vs_torch(torch, lambda t: F.interpolate(t, **kw),
                       lambda t: torch.nn.functional.interpolate(t, **kw), arr(2, 3, 4, 5), 1e-12, 1e-12)
    _check_fn_vs_torch(torch, lambda t: F.interpolate(t, **kw),
                       lambda t: torch.nn.functional.interpolate(t, **kw),
                       arr(1, 2, 6, 5, dtype=np.float32), 1e-5, 1e-6, grad=False)


def test_linear_interpolate_3d_vs_torch(torch):
    for kw in [dict(size=8, mode="linear", align_corners=True), dict(scale_factor=1.5, mode="linear"),
               dict(scale_factor=2.5)]:
        _check_fn_vs_torch(torch, lambda t: F.interpolate(t, **kw),
                           lambda t: torch.nn.functional.interpolate(t, **kw), arr(2, 3, 5))


def test_upsample_modules_vs_torch(torch):
    x0 = arr(2, 3, 4, 5)
    for args, kw in [((), dict(scale_factor=2)), ((), dict(size=(3, 7), mode="bilinear")),
                     ((), dict(scale_factor=1.5, mode="bilinear", align_corners=True))]:
        m, tm = nn.Upsample(*args, **kw), torch.nn.Upsample(*args, **kw)
        assert repr(m) == repr(tm)
        _check_fn_vs_torch(torch, m, tm, x0)
    _check_fn_vs_torch(torch, nn.UpsamplingBilinear2d(scale_factor=2),
                       torch.nn.UpsamplingBilinear2d(scale_factor=2), x0)
    _check_fn_vs_torch(torch, nn.UpsamplingNearest2d(size=(5, 3)),
                       torch.nn.UpsamplingNearest2d(size=(5, 3)), x0)


def test_group_norm_vs_torch(torch):
    x0 = arr(3, 6, 4, 5)
    m, tm = nn.GroupNorm(3, 6, dtype=tgx.float64), torch.nn.GroupNorm(3, 6).double()
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(arr(6)))
        tm.bias.copy_(torch.tensor(arr(6)))
    m.load_state_dict({k: tgx.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    assert repr(m) == repr(tm)
    _check_fn_vs_torch(torch, m, tm, x0, 1e-10, 1e-12)
    close(m.weight.grad, tm.weight.grad.numpy(), 1e-10, 1e-12)
    close(m.bias.grad, tm.bias.grad.numpy(), 1e-10, 1e-12)
    for groups, shape in [(1, (2, 4, 3)), (4, (2, 4)), (2, (2, 4, 2, 3, 2))]:
        _check_fn_vs_torch(torch, lambda t: F.group_norm(t, groups, eps=1e-3),
                           lambda t: torch.nn.functional.group_norm(t, groups, eps=1e-3), arr(*shape),
                           1e-10, 1e-12)
    for kw in (dict(affine=False), dict(bias=False), dict(eps=1e-3)):
        assert repr(nn.GroupNorm(2, 4, **kw)) == repr(torch.nn.GroupNorm(2, 4, **kw))


def test_batch_norm2d_vs_torch(torch):
    m, tm = nn.BatchNorm2d(3, dtype=tgx.float64), torch.nn.BatchNorm2d(3).double()
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(arr(3)))
        tm.bias.copy_(torch.tensor(arr(3)))
    m.load_state_dict({k: tgx.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    for _ in range(2):
        _check_fn_vs_torch(torch, m, tm, arr(4, 3, 5, 6), 1e-10, 1e-12)
    close(m.running_mean, tm.running_mean.numpy(), 1e-10, 1e-12)
    close(m.running_var, tm.running_var.numpy(), 1e-10, 1e-12)
    close(m.weight.grad, tm.weight.grad.numpy(), 1e-9, 1e-10)
    m.eval(), tm.eval()
    _check_fn_vs_torch(torch, m, tm, arr(2, 3, 4, 4), 1e-10, 1e-12)
    with pytest.raises(ValueError):
        m(tgx.zeros(3, 4, 4, dtype=tgx.float64))


def test_module_reprs_and_forward_vs_torch(torch):
    x0 = arr(2, 4, 9, 8)
    pairs = [
        ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
        ("MaxPool2d", ((2, 3),), dict(dilation=(1, 2))),
        ("AvgPool2d", (2,), {}),
        ("AvgPool2d", (3, 2, 1), dict(count_include_pad=False, ceil_mode=True)),
        ("AdaptiveAvgPool2d", ((None, 3),), {}),
        ("AdaptiveAvgPool2d", (1,), {}),
        ("AdaptiveMaxPool2d", ((3, 2),), {}),
    ]
    for name, args, kw in pairs:
        m, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
        assert repr(m) == repr(tm), name
        _check_fn_vs_torch(torch, m, tm, x0)
    x1 = arr(2, 4, 11)
    for name, args, kw in [("MaxPool1d", (3,), dict(stride=2, padding=1)), ("AvgPool1d", (3,), {}),
                           ("AdaptiveAvgPool1d", (4,), {}), ("AdaptiveMaxPool1d", (4,), {})]:
        m, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
        assert repr(m) == repr(tm), name
        _check_fn_vs_torch(torch, m, tm, x1)
    for name in ("Dropout1d", "Dropout2d"):
        assert repr(getattr(nn, name)(0.3)) == repr(getattr(torch.nn, name)(0.3))
    mi, tmi = nn.MaxPool2d(2, return_indices=True), torch.nn.MaxPool2d(2, return_indices=True)
    np.testing.assert_array_equal(mi(tgx.tensor(x0))[1].numpy(), tmi(torch.tensor(x0))[1].numpy())


# ---- channel dropout -------------------------------------------------------------------------------
def test_dropout2d():
    x = tgx.ones(8, 16, 3, 3)
    y = F.dropout2d(x, 0.5).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0) | (per_channel == 2.0))
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # whole channels
    assert 0 < (per_channel[..., 0] == 0).sum() < 128
    assert F.dropout2d(x, 0.5, training=False) is x
    assert np.all(F.dropout2d(x, 1.0).numpy() == 0)
    m = nn.Dropout2d(0.25)
    m.eval()
    assert m(x) is x
    z = tgx.ones(4, 5, 2, 2)
    F.dropout2d(z, 0.5, inplace=True)
    assert set(np.unique(z.numpy())) <= {0.0, 2.0}
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout2d(x, 1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(-0.1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y3 = F.dropout2d(tgx.ones(4, 6, 5), 0.5).numpy()
    assert any("3D input" in str(m.message) for m in w)
    assert np.all(y3.min(-1) == y3.max(-1))  # (N, C, L): whole rows
    y1 = F.dropout1d(tgx.ones(6, 7), 0.5).numpy()  # unbatched (C, L)
    assert np.all(y1.min(-1) == y1.max(-1))
    xg = tgx.ones(2, 3, 2, 2, requires_grad=True)
    F.dropout2d(xg, 0.5).sum().backward()
    assert set(np.unique(xg.grad.numpy())) <= {0.0, 2.0}


# ---- errors ------------------------------------------------------------------------------------------
X = tgx.zeros(2, 3, 7, 9)
ERRORS = [
    (lambda: F.max_pool2d(X, 0), ValueError, r"\[max_pool2d\] kernel_size should be greater than zero"),
    (lambda: F.max_pool2d(X, 2, stride=0), ValueError, "stride should be greater than zero"),
    (lambda: F.max_pool2d(X, 2, dilation=0), ValueError, "dilation should be greater than zero"),
    (lambda: F.max_pool2d(X, 2, padding=-1), ValueError, "pad must be non-negative"),
    (lambda: F.max_pool2d(X, 3, padding=2), ValueError, "pad should be at most half"),
    (lambda: F.avg_pool2d(X, 2, padding=2), ValueError, r"\[avg_pool2d\] pad should be at most half"),
    (lambda: F.max_pool2d(X, (2, 2, 2)), ValueError, "single int, or a tuple of two ints"),
    (lambda: F.max_pool1d(tgx.zeros(2, 3, 5), (2, 2)), ValueError, "tuple of one int"),
    (lambda: F.max_pool2d(X, 10), ValueError, r"\[max_pool2d\] .*too small"),
    (lambda: F.avg_pool2d(X, (1, 10)), ValueError, "too small"),
    (lambda: F.max_pool2d(tgx.zeros(7, 9), 2), ValueError, r"expected a 3D or 4D"),
    (lambda: F.max_pool1d(tgx.zeros(5), 2), ValueError, r"\[max_pool1d\] expected a 2D or 3D"),
    (lambda: F.max_pool2d(tgx.zeros(1, 0, 4, 4), 2), ValueError, "non-zero sizes"),
    (lambda: F.adaptive_avg_pool2d(tgx.zeros(1, 1, 0, 4), 2), ValueError, "non-zero sizes"),
    (lambda: F.avg_pool2d(X, 2, divisor_override=0), ValueError, "divisor must be not zero"),
    (lambda: F.avg_pool2d(tgx.zeros(1, 1, 4, 4, dtype=tgx.int64), 2), NotImplementedError, "int64"),
    (lambda: F.adaptive_avg_pool2d(tgx.zeros(1, 1, 4, 4, dtype=tgx.int32), 2), NotImplementedError, "int32"),
    (lambda: F.max_pool2d(tgx.zeros(1, 1, 4, 4, dtype=tgx.bool), 2), NotImplementedError, "bool"),
    (lambda: F.adaptive_avg_pool2d(X, (-1, 2)), ValueError, "greater than or equal to 0"),
    (lambda: F.adaptive_max_pool2d(X, (1, 2, 3)), ValueError, "output_size"),
    (lambda: F.max_pool2d(None, 2), TypeError, "max_pool2d"),
    (lambda: tgx.max_pool2d(None, 2), TypeError, None),
    (lambda: F.max_pool2d(X, "a"), TypeError, "max_pool2d"),
    (lambda: F.avg_pool2d(X, 2, divisor_override=1.5), TypeError, None),
    (lambda: F.interpolate(X, size=3, scale_factor=2), ValueError, "only one of size or scale_factor"),
    (lambda: F.interpolate(X), ValueError, "either size or scale_factor"),
    (lambda: F.interpolate(X, size=(2, 3, 4)), ValueError, "same number of spatial dimensions"),
    (lambda: F.interpolate(X, size=3, align_corners=True), ValueError, "align_corners"),
    (lambda: F.interpolate(tgx.zeros(1, 2, 3), size=4, mode="bilinear"), NotImplementedError, "4D"),
    (lambda: F.interpolate(X, size=4, mode="bicubic"), NotImplementedError, "bicubic"),
    (lambda: F.interpolate(X, scale_factor=0.01), ValueError, "output size"),
    (lambda: F.interpolate(X, scale_factor=-1.0), ValueError, "scale_factor"),
    (lambda: F.group_norm(X, 2), ValueError, r"\[group_norm\] .*divisible by num_groups"),
    (lambda: F.group_norm(X, 3, tgx.ones(4)), ValueError, "weight"),
    (lambda: nn.GroupNorm(3, 4), ValueError, "divisible"),
    # hostile sizes: no overflow, no crash
    (lambda: F.max_pool2d(X, 2**62, dilation=2**62), ValueError, "too small"),
    (lambda: F.adaptive_avg_pool2d(X, (2**40, 2**40)), (ValueError, MemoryError), None),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(i):
    fn, exc, match = ERRORS[i]
    with pytest.raises(exc, match=match):
        fn()


def test_hostile_but_valid():
    assert tuple(F.max_pool2d(X, 2, stride=2**62).shape) == (2, 3, 1, 1)
    assert tuple(F.max_pool2d(X, 2, stride=2**62, padding=1).shape) == (2, 3, 1, 1)
    assert tuple(F.avg_pool2d(X, (7, 9), stride=2**40, ceil_mode=True).shape) == (2, 3, 1, 1)
    assert tuple(F.adaptive_avg_pool2d(tgx.zeros(0, 3, 2, 2), (2**40, 2**40)).shape) == (0, 3, 2**40, 2**40)


def test_adaptive_pool_unallocatable_output_is_a_memory_error():
    # The output size is the caller's: an impossible one must fail cleanly at allocation.
    for f in (tgx.adaptive_avg_pool1d, tgx.adaptive_max_pool1d):
        with pytest.raises(MemoryError):
            f(tgx.ones(2, 3), 2**40)
