"""Convolution: F.conv1d/conv2d/conv_transpose1d/conv_transpose2d/unfold/fold and the modules,
against float64 NumPy references (tests/conv_ref.py) and PyTorch when installed (weights copied),
with gradients (gradcheck, gradgradcheck, jvp), errors and hostile sizes."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import conv_ref
import numpy as np
import pytest
import tinygrad_ext as tgx
from conftest import make_noncontig, to_numpy

F = tgx.nn.functional
RNG = np.random.default_rng(0)


def arr(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def T(a, grad=False):
    return tgx.tensor(a).requires_grad_(grad) if grad else tgx.tensor(a)


CONV2D = [  # (x shape, w shape, bias, kwargs)
    ((2, 3, 7, 6), (4, 3, 3, 3), True, {}),
    ((2, 3, 7, 6), (4, 3, 3, 3), True, {"padding": 1}),
    ((1, 4, 9, 8), (6, 2, 3, 2), True, {"stride": 2, "padding": (1, 2), "groups": 2}),
    ((2, 2, 11, 9), (3, 2, 3, 3), False, {"stride": (3, 2), "dilation": (2, 3), "padding": 2}),
    ((1, 6, 5, 5), (6, 1, 3, 3), True, {"padding": 1, "groups": 6}),  # depthwise
    ((1, 3, 6, 5), (9, 1, 2, 2), True, {"groups": 3, "padding": "same"}),  # even kernel, 'same'
    ((2, 3, 5, 7), (4, 3, 3, 2), True, {"padding": "same", "dilation": 2}),
    ((2, 5, 4, 4), (3, 5, 1, 1), True, {}),  # 1x1: no im2col
    ((2, 5, 4, 4), (3, 5, 1, 1), False, {"stride": 2}),
    ((1, 2, 1, 13), (2, 2, 1, 4), True, {"stride": (1, 3)}),
    ((3, 8, 8), (2, 3, 3, 3), True, {"padding": "valid"}),  # unbatched
    ((2, 16, 20, 20), (8, 16, 3, 3), True, {"padding": 1}),  # several column blocks per image
]


@pytest.mark.parametrize("xs,ws,bias,kw", CONV2D, ids=[str(i) for i in range(len(CONV2D))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_vs_numpy(xs, ws, bias, kw, dtype):
    if len(xs) == 3:
        xs = (ws[1],) + xs[1:]
    x, w = arr(*xs, dtype=dtype), arr(*ws, dtype=dtype)
    b = arr(ws[0], dtype=dtype) if bias else None
    got = F.conv2d(T(x), T(w), T(b) if bias else None, **kw)
    assert str(got.dtype).endswith(dtype)
    tol = 1e-12 if dtype == "float64" else 2e-4
    np.testing.assert_allclose(to_numpy(got), conv_ref.conv2d(x, w, b, **kw), rtol=tol, atol=tol)


@pytest.mark.parametrize("xs,ws,bias,kw", CONV2D, ids=[str(i) for i in range(len(CONV2D))])
def test_conv2d_grads_vs_torch(xs, ws, bias, kw):
    torch = pytest.importorskip("torch")
    if len(xs) == 3:
        xs = (ws[1],) + xs[1:]
    x, w, b = arr(*xs), arr(*ws), arr(ws[0])
    tx, tw, tb = T(x, True), T(w, True), T(b, True)
    px, pw, pb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(tx, tw, tb if bias else None, **kw)
    py = torch.nn.functional.conv2d(px, pw, pb if bias else None, **kw)
    np.testing.assert_allclose(to_numpy(y), py.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = arr(*tuple(y.shape))
    got = tgx.autograd.grad(y, [tx, tw] + ([tb] if bias else []), T(g))
    want = torch.autograd.grad(py, [px, pw] + ([pb] if bias else []), torch.tensor(g))
    for a, e in zip(got, want):
        np.testing.assert_allclose(to_numpy(a), e.numpy(), rtol=1e-11, atol=1e-11)


CONV_T = [  # (x shape, w shape (in, out/groups, kh, kw), bias, kwargs)
    ((2, 3, 4, 5), (3, 2, 3, 3), True, {}),
    ((1, 4, 3, 3), (4, 3, 3, 3), True, {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    ((2, 2, 3, 2), (2, 3, 2, 4), False, {"stride": (2, 3), "output_padding": (1, 2), "dilation": (1, 2)}),
    ((1, 2, 4, 4), (2, 2, 3, 3), True, {"stride": 1, "dilation": 3, "output_padding": 2, "padding": 2}),
    ((2, 4, 5, 5), (4, 3, 1, 1), True, {}),  # 1x1
    ((3, 4, 4), (3, 2, 2, 2), True, {"stride": 2}),  # unbatched
]


@pytest.mark.parametrize("xs,ws,bias,kw", CONV_T, ids=[str(i) for i in range(len(CONV_T))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_transpose2d_vs_numpy(xs, ws, bias, kw, dtype):
    x, w = arr(*xs, dtype=dtype), arr(*ws, dtype=dtype)
    cout = ws[1] * kw.get("groups", 1)
    b = arr(cout, dtype=dtype) if bias else None
    got = F.conv_transpose2d(T(x), T(w), T(b) if bias else None, **kw)
    tol = 1e-12 if dtype == "float64" else 2e-4
    np.testing.assert_allclose(to_numpy(got), conv_ref.conv_transpose2d(x, w, b, **kw), rtol=tol,
                               atol=tol)


@pytest.mark.parametrize("xs,ws,bias,kw", CONV_T, ids=[str(i) for i in range(len(CONV_T))])
def test_conv_transpose2d_vs_torch(xs, ws, bias, kw):
    torch = pytest.importorskip("torch")
    x, w = arr(*xs), arr(*ws)
    b = arr(ws[1] * kw.get("groups", 1)) if bias else None
    got = F.conv_transpose2d(T(x), T(w), T(b) if bias else None, **kw)
    want = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w),
                                                torch.tensor(b) if bias else None, **kw)
    np.testing.assert_allclose(to_numpy(got), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1}, {"padding": "same", "dilation": 2},
                                {"groups": 2, "padding": "valid"}, {"stride": 3, "dilation": 2}])
def test_conv1d_and_transpose1d(kw):
    x, w, b = arr(2, 4, 11), arr(6, 4 // kw.get("groups", 1), 3), arr(6)
    got = F.conv1d(T(x), T(w), T(b), **kw)
    np.testing.assert_allclose(to_numpy(got), conv_ref.conv1d(x, w, b, **kw), rtol=1e-12, atol=1e-12)
    # unbatched
    got1 = F.conv1d(T(x[0]), T(w), T(b), **kw)
    np.testing.assert_allclose(to_numpy(got1), to_numpy(got)[0], rtol=1e-13, atol=1e-13)
    # conv_transpose1d == conv_transpose2d with height 1
    wt = arr(4, 3, 3)
    y = F.conv_transpose1d(T(x), T(wt), None, stride=2, padding=1, output_padding=1)
    ref = conv_ref.conv_transpose2d(x[:, :, None], wt[:, :, None], None, (1, 2), (0, 1), (0, 1))
    np.testing.assert_allclose(to_numpy(y), ref[:, :, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layout", ["transpose", "strided", "flip"])
def test_noncontiguous_inputs(layout):
    x, w, b = arr(2, 3, 6, 5), arr(4, 3, 3, 2), arr(4)
    tx, tw = make_noncontig(x, layout), make_noncontig(w, layout)
    if tx is None:
        pytest.skip("no way to build views")
    got = F.conv2d(tx, tw, T(b), padding=1, stride=(1, 2))
    np.testing.assert_allclose(to_numpy(got), conv_ref.conv2d(x, w, b, padding=1, stride=(1, 2)),
                               rtol=1e-12, atol=1e-12)
    got = F.conv_transpose2d(tx, tw.permute(1, 0, 2, 3), None, stride=2)
    np.testing.assert_allclose(to_numpy(got), conv_ref.conv_transpose2d(x, w.transpose(1, 0, 2, 3), None, 2),
                               rtol=1e-12, atol=1e-12)


# ---- unfold / fold ------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": (2, 3), "stride": 2},
                                {"kernel_size": 3, "padding": 1, "dilation": 2},
                                {"kernel_size": (3, 1), "stride": (1, 2), "padding": (2, 0)}])
def test_unfold_fold(kw):
    x = arr(2, 3, 7, 6)
    cols = F.unfold(T(x), **kw)
    np.testing.assert_array_equal(to_numpy(cols), conv_ref.unfold(x, **kw))
    back = F.fold(cols, (7, 6), **kw)
    np.testing.assert_allclose(to_numpy(back), conv_ref.fold(conv_ref.unfold(x, **kw), (7, 6), **kw),
                               rtol=1e-14, atol=1e-14)
    # round trip: fold(unfold(x)) == x * (how many blocks cover each pixel)
    cover = to_numpy(F.fold(F.unfold(tgx.ones(1, 1, 7, 6, dtype=tgx.float64), **kw), (7, 6), **kw))
    np.testing.assert_allclose(to_numpy(back), x * cover, rtol=1e-14, atol=1e-14)
    # unbatched
    np.testing.assert_array_equal(to_numpy(F.unfold(T(x[0]), **kw)), to_numpy(cols)[0])
    np.testing.assert_allclose(to_numpy(F.fold(cols[0], (7, 6), **kw)), to_numpy(back)[0])


def test_unfold_fold_modules_vs_torch():
    torch = pytest.importorskip("torch")
    x = arr(2, 3, 6, 6)
    u, pu = tgx.nn.Unfold(3, padding=1, stride=2), torch.nn.Unfold(3, padding=1, stride=2)
    assert repr(u) == repr(pu)
    cols = u(T(x))
    np.testing.assert_array_equal(to_numpy(cols), pu(torch.tensor(x)).numpy())
    f, pf = tgx.nn.Fold((6, 6), 3, padding=1, stride=2), torch.nn.Fold((6, 6), 3, padding=1, stride=2)
    assert repr(f) == repr(pf)
    np.testing.assert_allclose(to_numpy(f(cols)), pf(torch.tensor(to_numpy(cols))).numpy())


# ---- autograd -----------------------------------------------------------------------------------
GRAD_CASES = [
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
     ((2, 4, 5, 5), (4, 2, 3, 2), (4,))),
    ("conv2d same", lambda x, w, b: F.conv2d(x, w, b, padding="same"), ((1, 2, 4, 5), (3, 2, 2, 3), (3,))),
    ("conv2d 1x1", lambda x, w, b: F.conv2d(x, w, b), ((2, 3, 3, 3), (2, 3, 1, 1), (2,))),
    ("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                            output_padding=1, groups=2, dilation=(1, 2)),
     ((2, 4, 3, 3), (4, 1, 3, 2), (2,))),
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2), ((2, 3, 8), (2, 3, 3), (2,))),
    ("conv_transpose1d", lambda x, w, b: F.conv_transpose1d(x, w, b, stride=3, output_padding=2),
     ((2, 2, 4), (2, 3, 2), (3,))),
]


@pytest.mark.parametrize("name,fn,shapes", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck_gradgradcheck_jvp(name, fn, shapes):
    xs = [arr(*s) for s in shapes]
    assert tgx.autograd.gradcheck(fn, tuple(T(a, True) for a in xs), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert tgx.autograd.gradgradcheck(fn, tuple(T(a, True) for a in xs), eps=1e-6, atol=1e-5, rtol=1e-3)
    vs = [arr(*s) for s in shapes]
    out, jv = tgx.func.jvp(fn, tuple(T(a) for a in xs), tuple(T(v) for v in vs))
    # conv is bilinear: the central difference is exact up to rounding
    eps = 1e-3
    hi = to_numpy(fn(*[T(a + eps * v) for a, v in zip(xs, vs)]))
    lo = to_numpy(fn(*[T(a - eps * v) for a, v in zip(xs, vs)]))
    np.testing.assert_allclose(to_numpy(jv), (hi - lo) / (2 * eps), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(to_numpy(out), to_numpy(fn(*[T(a) for a in xs])), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["unfold", "fold"])
def test_unfold_fold_gradcheck(name):
    if name == "unfold":
        fn, x = (lambda t: F.unfold(t, (2, 3), dilation=(2, 1), padding=1, stride=2)), arr(2, 2, 5, 6)
    else:
        fn, x = (lambda t: F.fold(t, (5, 6), (2, 3), dilation=(2, 1), padding=1, stride=2)), arr(2, 12, 9)
    assert tgx.autograd.gradcheck(fn, (T(x, True),))
    assert tgx.autograd.gradgradcheck(fn, (T(x, True),))


def test_grad_names_and_double_backward_vs_torch():
    torch = pytest.importorskip("torch")
    x, w = arr(2, 3, 5, 5), arr(4, 3, 3, 3)
    tx, tw = T(x, True), T(w, True)
    y = F.conv2d(tx, tw, padding=1)
    assert y.grad_fn.name() == "ConvolutionBackward0"
    gx, gw = tgx.autograd.grad((y * y).sum(), [tx, tw], create_graph=True)
    hess = tgx.autograd.grad((gx * gx).sum() + (gw * gw).sum(), [tx, tw])
    px, pw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    py = torch.nn.functional.conv2d(px, pw, padding=1)
    pgx, pgw = torch.autograd.grad((py * py).sum(), [px, pw], create_graph=True)
    phess = torch.autograd.grad((pgx * pgx).sum() + (pgw * pgw).sum(), [px, pw])
    for a, e in zip(hess, phess):
        np.testing.assert_allclose(to_numpy(a), e.numpy(), rtol=1e-10, atol=1e-9)


# ---- modules ------------------------------------------------------------------------------------
MODULES = [
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("Conv2d", (3, 16, 3), {"padding": 1}, (2, 3, 8, 8)),
    ("Conv2d", (4, 8, (3, 2)), {"stride": 2, "groups": 2, "bias": False, "dilation": 2}, (2, 4, 9, 8)),
    ("Conv2d", (4, 4, 4), {"padding": "same", "padding_mode": "reflect"}, (1, 4, 7, 6)),
    ("Conv2d", (2, 3, 3), {"padding": 2, "padding_mode": "circular"}, (1, 2, 5, 5)),
    ("Conv2d", (2, 3, 3), {"padding": (1, 2), "padding_mode": "replicate"}, (1, 2, 5, 5)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
     (2, 4, 5, 5)),
    ("ConvTranspose1d", (3, 2, 4), {"stride": 3}, (2, 3, 5)),
]


@pytest.mark.parametrize("cls,args,kw,xs", MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_modules_vs_torch(cls, args, kw, xs):
    torch = pytest.importorskip("torch")
    m, pm = getattr(tgx.nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    assert repr(m) == repr(pm)
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in pm.state_dict().items()}
    pm.load_state_dict({k: torch.from_numpy(to_numpy(v).copy()) for k, v in m.state_dict().items()})
    x = arr(*xs, dtype=np.float32)
    tx, px = T(x, True), torch.tensor(x, requires_grad=True)
    y, py = m(tx), pm(px)
    np.testing.assert_allclose(to_numpy(y), py.detach().numpy(), rtol=1e-4, atol=1e-5)
    y.sum().backward()
    py.sum().backward()
    np.testing.assert_allclose(to_numpy(tx.grad), px.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(to_numpy(m.weight.grad), pm.weight.grad.numpy(), rtol=1e-4, atol=1e-3)


def test_module_shapes_and_default_init():
    tgx.manual_seed(0)
    c = tgx.nn.Conv2d(6, 32, (3, 5), groups=2)
    assert tuple(c.weight.shape) == (32, 3, 3, 5) and tuple(c.bias.shape) == (32,)
    bound = 1 / math.sqrt(3 * 3 * 5)  # kaiming_uniform_(a=sqrt(5)) gives U(+-1/sqrt(fan_in))
    w = to_numpy(c.weight.detach())
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(to_numpy(c.bias.detach())).max() <= bound
    t = tgx.nn.ConvTranspose2d(6, 4, 3, groups=2)
    assert tuple(t.weight.shape) == (6, 2, 3, 3) and tuple(t.bias.shape) == (4,)
    assert tuple(t(tgx.zeros(1, 6, 4, 4)).shape) == (1, 4, 6, 6)
    assert tuple(t(tgx.zeros(1, 6, 4, 4), output_size=(6, 6)).shape) == (1, 4, 6, 6)
    assert tgx.nn.Conv2d(2, 2, 3, dtype=tgx.float64).weight.dtype == tgx.float64


def test_module_errors():
    with pytest.raises(ValueError, match="divisible by groups"):
        tgx.nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        tgx.nn.Conv2d(3, 3, 3, groups=0)
    with pytest.raises(ValueError, match="padding_mode"):
        tgx.nn.Conv2d(3, 3, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="strided"):
        tgx.nn.Conv2d(3, 3, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="invalid padding string"):
        tgx.nn.Conv2d(3, 3, 3, padding="full")
    with pytest.raises(ValueError, match="zeros"):
        tgx.nn.ConvTranspose2d(3, 3, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="output size"):
        tgx.nn.ConvTranspose2d(3, 3, 3, stride=2)(tgx.zeros(1, 3, 4, 4), output_size=(20, 20))


# ---- errors and hostile input -------------------------------------------------------------------
def _err(cls, match, fn):
    with pytest.raises(cls, match=match):
        fn()


def test_errors_name_the_op_and_values():
    x, w = T(arr(2, 4, 5, 5)), T(arr(3, 2, 3, 3))
    _err(ValueError, r"\[conv2d\].*weight of shape \(3, 2, 3, 3\).*to have 2 channels, but got 4",
         lambda: F.conv2d(x, w))
    _err(ValueError, r"\[conv2d\] given groups=2, expected weight to be divisible by 2",
         lambda: F.conv2d(x, w, groups=2))
    _err(ValueError, r"\[conv2d\] non-positive groups", lambda: F.conv2d(x, w, groups=0))
    _err(ValueError, r"\[conv2d\] non-positive stride", lambda: F.conv2d(x, T(arr(3, 4, 3, 3)), stride=0))
    _err(ValueError, r"\[conv2d\] non-positive stride", lambda: F.conv2d(x, T(arr(3, 4, 3, 3)), stride=-2))
    _err(ValueError, r"\[conv2d\] negative padding", lambda: F.conv2d(x, T(arr(3, 4, 3, 3)), padding=-1))
    _err(ValueError, r"\[conv2d\] non-positive dilation", lambda: F.conv2d(x, T(arr(3, 4, 3, 3)), dilation=0))
    _err(ValueError, r"\[conv2d\] expected stride to be a single integer value or a list of 2",
         lambda: F.conv2d(x, T(arr(3, 4, 3, 3)), stride=(1, 2, 3)))
    _err(ValueError, r"\[conv2d\] expected 3-D \(unbatched\) or 4-D \(batched\) input",
         lambda: F.conv2d(T(arr(1, 2, 4, 5, 5)), w))
    _err(ValueError, r"\[conv2d\] expected 4-D weight", lambda: F.conv2d(x, T(arr(3, 4, 3))))
    _err(ValueError, r"\[conv2d\] Kernel size can't be greater|\[conv2d\] calculated padded input size",
         lambda: F.conv2d(x, T(arr(3, 4, 7, 7))))
    _err(ValueError, r"\[conv2d\] .*bias to be 1-D with 3 elements",
         lambda: F.conv2d(x, T(arr(3, 4, 3, 3)), T(arr(2))))
    _err(ValueError, r"\[conv2d\] padding='same' is not supported for strided",
         lambda: F.conv2d(x, T(arr(3, 4, 3, 3)), padding="same", stride=2))
    _err(ValueError, r"\[conv2d\] invalid padding string 'full'",
         lambda: F.conv2d(x, T(arr(3, 4, 3, 3)), padding="full"))
    _err(TypeError, r"\[conv2d\] stride must be an int or a tuple of ints",
         lambda: F.conv2d(x, T(arr(3, 4, 3, 3)), stride=1.5))
    _err(ValueError, r"\[conv_transpose2d\] output padding must be smaller than either stride or dilation",
         lambda: F.conv_transpose2d(x, T(arr(4, 2, 3, 3)), output_padding=1))
    _err(ValueError, r"\[conv_transpose2d\] .*to have 4 channels, but got 3",
         lambda: F.conv_transpose2d(T(arr(1, 3, 2, 2)), T(arr(4, 2, 3, 3))))
    _err(ValueError, r"\[conv_transpose2d\] .*output size .* is too small",
         lambda: F.conv_transpose2d(T(arr(1, 4, 1, 1)), T(arr(4, 2, 1, 1)), padding=1))
    _err(ValueError, r"\[conv1d\] expected 2-D \(unbatched\) or 3-D",
         lambda: F.conv1d(x, T(arr(3, 4, 3))))
    _err(ValueError, r"\[unfold\] .*sliding blocks", lambda: F.unfold(x, 6))
    _err(ValueError, r"\[unfold\] expected 3-D \(unbatched\) or 4-D", lambda: F.unfold(T(arr(4, 5)), 2))
    _err(ValueError, r"\[fold\] expected size of input's dimension 1 to be divisible",
         lambda: F.fold(T(arr(2, 26, 4)), (4, 4), 3))
    _err(ValueError, r"\[fold\] .*sliding blocks 2 \* 2 = 4, but got input.size\(2\)=5",
         lambda: F.fold(T(arr(2, 27, 5)), (4, 4), 3))
    with pytest.raises(TypeError):
        F.conv2d(None, w)
    with pytest.raises(TypeError):
        tgx.conv2d(x, None)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
def test_unsupported_dtypes(dtype):
    x = tgx.zeros(1, 2, 4, 4, dtype=getattr(tgx, dtype))
    w = tgx.zeros(2, 2, 3, 3, dtype=getattr(tgx, dtype))
    for fn in (lambda: F.conv2d(x, w), lambda: F.conv_transpose2d(x, w), lambda: F.unfold(x, 2)):
        with pytest.raises(TypeError, match=dtype):
            fn()


def test_mixed_float_dtypes_raise():
    with pytest.raises(TypeError, match=r"\[conv2d\] input \(float64\) and weight \(float32\)"):
        F.conv2d(T(arr(1, 2, 4, 4)), T(arr(2, 2, 3, 3, dtype=np.float32)))
    with pytest.raises(TypeError, match="bias"):
        F.conv2d(T(arr(1, 2, 4, 4)), T(arr(2, 2, 3, 3)), T(arr(2, dtype=np.float32)))


DIRECT = [  # stride-1 convolutions of every flavour (N, C, H, W, O, kh, kw, padding, dilation, groups)
    (3, 3, 32, 32, 16, 3, 3, 1, 1, 1),     # a first layer
    (5, 16, 14, 14, 32, 3, 3, 0, 1, 1),    # 'valid'
    (2, 5, 9, 17, 1, 3, 3, 1, 1, 1),       # one output channel; 5 in the input gradient
    (4, 7, 6, 5, 13, 3, 3, 1, 1, 1),       # 13 rows in uneven register blocks
    (1, 60, 6, 7, 9, 3, 3, 1, 1, 1),       # 540 product rows: chunks; one image over threads
    (2, 4, 10, 12, 6, 2, 4, "same", 1, 1),  # even kernel, asymmetric padding
    (3, 6, 11, 13, 6, 3, 3, 2, 2, 2),      # dilation and groups
    (2, 3, 5, 4, 8, 3, 3, 3, 1, 1),        # padding beyond the kernel (cropped input gradient)
    (9, 2, 4, 4, 17, 3, 3, 1, 1, 1),       # tiny images side by side, 17 rows
    (2, 1, 1, 40, 3, 1, 5, 0, 1, 1),       # 1-d
    (2, 3, 16, 33, 8, 3, 3, 1, 1, 1),      # rows ending mid-vector
    (70, 2, 5, 5, 4, 3, 3, 1, 1, 1),       # many images: full batches and a remainder
    (2, 3, 4, 5, 4, 1, 1, 1, 1, 1),        # 1x1 with padding
]


@pytest.mark.parametrize("case", DIRECT, ids=[str(i) for i in range(len(DIRECT))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threads", [1, 2])
def test_stride1_maps_vs_definition(case, dtype, threads):
    # forward, input gradient and weight gradient of stride-1 convolutions (the direct kernels)
    # against the float64 definition, for both thread counts
    n, c, h, w_, o, kh, kw, pad, dil, groups = case
    x, w, gy = arr(n, c, h, w_, dtype=dtype), arr(o, c // groups, kh, kw, dtype=dtype), None
    b = arr(o, dtype=dtype)
    if pad == "same":
        th, tw = dil * (kh - 1), dil * (kw - 1)
        pads = ((th // 2, th - th // 2), (tw // 2, tw - tw // 2))
    else:
        pads = ((pad, pad), (pad, pad))
    old = tgx.get_num_threads()
    tgx.set_num_threads(threads)
    try:
        tx, tw, tb = T(x, True), T(w, True), T(b, True)
        y = F.conv2d(tx, tw, tb, padding=pad, dilation=dil, groups=groups)
        gy = arr(*y.shape, dtype=dtype)
        dx, dw, db = tgx.autograd.grad(y, [tx, tw, tb], T(gy))
    finally:
        tgx.set_num_threads(old)
    ry, rdx, rdw = conv_ref.conv2d_stride1_maps(x, w, gy, pads, (dil, dil), groups)
    ry = ry + b[None, :, None, None]
    for got, want in ((y, ry), (dx, rdx), (dw, rdw), (db, gy.astype(np.float64).sum((0, 2, 3)))):
        scale = np.abs(want).max() + 1
        tol = 1e-12 if dtype == "float64" else 1e-5
        np.testing.assert_allclose(to_numpy(got), want, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("env", ["TGX_NO_AVX512", "TGX_FORCE_PORTABLE"])
def test_stride1_maps_on_other_kernel_paths(env):
    # the same sweep with the AVX2 kernels (on AVX-512 CPUs; elsewhere they are the default) and
    # with the portable build (im2col + GEMM): the kernel choice is made once per process
    if os.environ.get(env) == "1":
        pytest.skip(f"{env}=1 already")
    e = dict(os.environ, **{env: "1"}, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k",
                        "stride1_maps_vs_definition", __file__], env=e, capture_output=True,
                       text=True, cwd=os.path.dirname(__file__))
    assert r.returncode == 0 and " passed" in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]


def test_zero_sizes():
    # empty batch, zero input channels (bias only), zero-width output blocks
    y = F.conv2d(T(arr(0, 3, 5, 5)), T(arr(4, 3, 3, 3)), T(arr(4)))
    assert tuple(y.shape) == (0, 4, 3, 3)
    b = arr(4)
    y = F.conv2d(T(np.zeros((2, 0, 5, 5))), T(np.zeros((4, 0, 3, 3))), T(b))
    np.testing.assert_array_equal(to_numpy(y), np.broadcast_to(b[None, :, None, None], (2, 4, 3, 3)))
    tx, tw = T(arr(0, 3, 5, 5), True), T(arr(4, 3, 3, 3), True)
    F.conv2d(tx, tw, padding=1).sum().backward()
    assert tuple(tx.grad.shape) == (0, 3, 5, 5)
    np.testing.assert_array_equal(to_numpy(tw.grad), np.zeros((4, 3, 3, 3)))
    assert tuple(F.conv_transpose2d(T(arr(0, 2, 3, 3)), T(arr(2, 3, 2, 2))).shape) == (0, 3, 4, 4)
    assert tuple(F.unfold(T(arr(0, 2, 3, 3)), 2).shape) == (0, 8, 4)


def test_hostile_parameters_do_not_crash():
    x, w = T(arr(1, 1, 3, 3)), T(arr(1, 1, 2, 2))
    # huge padding: a valid but huge output -> a clean error, not a crash
    with pytest.raises((ValueError, MemoryError)):
        F.conv2d(x, w, padding=2**40)
    with pytest.raises(ValueError):
        F.conv2d(x, w, padding=2**62)
    with pytest.raises(ValueError):
        F.conv2d(x, w, dilation=2**62)
    with pytest.raises(ValueError):
        F.conv_transpose2d(x, w, stride=2**62)
    with pytest.raises(ValueError):
        F.unfold(x, 2, padding=2**62)
    with pytest.raises(ValueError):
        F.conv2d(x, T(np.zeros((1, 1, 0, 2))))
    with pytest.raises(ValueError, match="out of range"):
        F.conv2d(x, w, stride=2**70)
    # padding larger than the input: every window outside except the padded border
    y = F.conv2d(x, w, padding=5, stride=4)
    np.testing.assert_allclose(to_numpy(y), conv_ref.conv2d(to_numpy(x), to_numpy(w), None, 4, 5),
                               rtol=1e-12, atol=1e-12)


def test_direct_paths_keep_nonfinite_values_where_they_belong():
    # the direct kernels also multiply zeros from padding and dropped columns; an inf in x (for
    # the weight grad) or in w (for the input grad) must not turn those zeros into nan: the
    # results equal the definition (0 * inf only where the definition has it)
    x = np.ones((1, 1, 6, 8))
    x[0, 0, 2, 7] = np.inf
    w = T(np.ones((1, 1, 3, 3)), True)
    F.conv2d(T(x), w).sum().backward()
    g = to_numpy(w.grad)
    assert np.isfinite(g[:, :, :, :2]).all() and np.isinf(g[:, :, :, 2]).all()
    np.testing.assert_array_equal(g[0, 0, :, :2], np.full((3, 2), 24.0))
    wn = np.ones((1, 1, 3, 3))
    wn[0, 0, 0, 0] = np.inf
    xt = T(np.ones((1, 1, 5, 5)), True)
    F.conv2d(xt, T(wn)).sum().backward()
    dx = to_numpy(xt.grad)
    assert np.isinf(dx[:3, :3]).all() if dx.ndim == 2 else np.isinf(dx[0, 0, :3, :3]).all()
    assert np.isfinite(dx[0, 0, 3:, :]).all() and np.isfinite(dx[0, 0, :, 3:]).all()


def test_weight_grad_of_an_empty_output_is_zero():
    # stride-1 transposed conv of a height-0 input: a valid, non-empty output and OH = 0 inside
    x = T(np.zeros((1, 2, 0, 5)), True)
    w = T(arr(2, 3, 3, 3), True)
    F.conv_transpose2d(x, w).sum().backward()
    np.testing.assert_array_equal(to_numpy(w.grad), np.zeros((2, 3, 3, 3)))
    x = T(np.zeros((2, 3, 0, 40)), True)  # a wide dilated kernel: (KW - 1) dw > a vector
    w = T(arr(3, 4, 3, 3), True)
    F.conv_transpose2d(x, w, dilation=(1, 20)).sum().backward()
    np.testing.assert_array_equal(to_numpy(w.grad), np.zeros((3, 4, 3, 3)))
