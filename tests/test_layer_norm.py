"""F.layer_norm / nn.LayerNorm: the fused C++ op (csrc/ops/norm.cpp) against a NumPy float64
reference and PyTorch (when installed): shapes, optional weight/bias, views, empty inputs,
errors, first-order grads (fused kernel) and create_graph grads (ops), jvp."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext import nn
from tinygrad_ext.nn import functional as F


def np_layer_norm(x, k, w=None, b=None, eps=1e-5):
    x = np.asarray(x, np.float64)
    axes = tuple(range(x.ndim - k, x.ndim))
    m = x.mean(axis=axes, keepdims=True)
    v = ((x - m) ** 2).mean(axis=axes, keepdims=True)
    y = (x - m) / np.sqrt(v + eps)
    if w is not None:
        y = y * np.asarray(w, np.float64)
    if b is not None:
        y = y + np.asarray(b, np.float64)
    return y


def np_layer_norm_grads(x, k, g, w=None, eps=1e-5):
    """(gx, gw, gb) of sum(g * layer_norm(x)) from the closed form, float64."""
    x, g = np.asarray(x, np.float64), np.asarray(g, np.float64)
    axes = tuple(range(x.ndim - k, x.ndim))
    lead = tuple(range(x.ndim - k))
    m = x.mean(axis=axes, keepdims=True)
    rstd = 1 / np.sqrt(((x - m) ** 2).mean(axis=axes, keepdims=True) + eps)
    xh = (x - m) * rstd
    gxh = g * (1.0 if w is None else np.asarray(w, np.float64))
    gx = rstd * (gxh - gxh.mean(axis=axes, keepdims=True)
                 - xh * (gxh * xh).mean(axis=axes, keepdims=True))
    return gx, (g * xh).sum(axis=lead), g.sum(axis=lead)


CASES = [  # input shape, normalized_shape
    ((4, 5), (5,)),
    ((2, 3, 7), (7,)),
    ((2, 3, 4), (3, 4)),
    ((6,), (6,)),
    ((3, 1), (1,)),
    ((2, 33), 33),  # int normalized_shape; odd length (SIMD tails)
    ((5, 300), (300,)),  # more than one 64-column block in the weight-grad sums
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("affine", ["wb", "w", "b", "none"])
@pytest.mark.parametrize("shape,ns", CASES)
def test_forward_backward_vs_numpy(shape, ns, affine, dtype):
    rng = np.random.default_rng(zlib.crc32(repr((shape, affine)).encode()))
    nsh = (ns,) if isinstance(ns, int) else ns
    k = len(nsh)
    x = rng.standard_normal(shape) * 2 + 0.5
    w = rng.standard_normal(nsh) if "w" in affine else None
    b = rng.standard_normal(nsh) if "b" in affine else None
    g = rng.standard_normal(shape)
    dt = getattr(tgx, dtype)
    xt = tgx.tensor(x, dtype=dt, requires_grad=True)
    wt = tgx.tensor(w, dtype=dt, requires_grad=True) if w is not None else None
    bt = tgx.tensor(b, dtype=dt, requires_grad=True) if b is not None else None
    y = F.layer_norm(xt, ns, wt, bt, eps=1e-5)
    assert y.dtype == dt and tuple(y.shape) == shape
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    xs = x.astype(dtype)
    np.testing.assert_allclose(y.detach().numpy(), np_layer_norm(xs, k, w, b), **tol)
    y.backward(tgx.tensor(g, dtype=dt))
    gx, gw, gb = np_layer_norm_grads(xs, k, g, w)
    tol = dict(rtol=1e-3, atol=1e-4) if dtype == "float32" else dict(rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(xt.grad.numpy(), gx, **tol)
    if wt is not None:
        np.testing.assert_allclose(wt.grad.numpy(), gw, **tol)
    if bt is not None:
        np.testing.assert_allclose(bt.grad.numpy(), gb, **tol)


@pytest.mark.parametrize("view", ["transpose", "strided", "flip"])
def test_non_contiguous_input(view):
    rng = np.random.default_rng(1)
    base = rng.standard_normal((6, 8))
    t = tgx.tensor(base, requires_grad=True)
    if view == "transpose":
        xt, xn = t.transpose(0, 1), base.T
    elif view == "strided":
        xt, xn = t[::2, 1::2], base[::2, 1::2]
    else:
        xt, xn = tgx._C._flip_view(t, (1,)), base[:, ::-1]  # negative strides
    assert not xt.is_contiguous()
    n = xn.shape[-1]
    w = rng.standard_normal(n)
    y = F.layer_norm(xt, (n,), tgx.tensor(w), None)
    np.testing.assert_allclose(y.detach().numpy(), np_layer_norm(xn, 1, w), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(xn.shape)
    y.backward(tgx.tensor(g))
    gx = np_layer_norm_grads(xn, 1, g, w)[0]
    full = np.zeros_like(base)
    if view == "transpose":
        full = gx.T
    elif view == "strided":
        full[::2, 1::2] = gx
    else:
        full = gx[:, ::-1]
    np.testing.assert_allclose(t.grad.numpy(), full, rtol=1e-9, atol=1e-11)


def test_non_contiguous_weight():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((3, 5)), rng.standard_normal((5, 2))
    y = F.layer_norm(tgx.tensor(x), 5, tgx.tensor(w)[:, 1], tgx.tensor(w).flip(0)[:, 0])
    ref = np_layer_norm(x, 1, w[:, 1], w[::-1, 0])
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-10)


def test_empty_inputs():
    w = tgx.ones(3, requires_grad=True)
    b = tgx.zeros(3, requires_grad=True)
    x = tgx.zeros(0, 3, requires_grad=True)
    y = F.layer_norm(x, (3,), w, b)
    assert tuple(y.shape) == (0, 3)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 3)
    assert w.grad.tolist() == [0, 0, 0] and b.grad.tolist() == [0, 0, 0]
    y = F.layer_norm(tgx.zeros(2, 0), (0,))
    assert tuple(y.shape) == (2, 0)


def test_errors():
    x = tgx.zeros(2, 3)
    with pytest.raises(RuntimeError, match="layer_norm.*normalized_shape"):
        F.layer_norm(x, ())
    with pytest.raises(ValueError, match=r"layer_norm.*\(4,\).*\(2, 3\)"):
        F.layer_norm(x, (4,))
    with pytest.raises(ValueError, match=r"layer_norm.*\(2, 3, 4\)"):
        F.layer_norm(x, (2, 3, 4))
    with pytest.raises(ValueError, match=r"layer_norm.*weight.*\(4,\)"):
        F.layer_norm(x, (3,), tgx.ones(4))
    with pytest.raises(ValueError, match=r"layer_norm.*bias.*\(1, 3\)"):
        F.layer_norm(x, (3,), None, tgx.ones(1, 3))
    with pytest.raises(ValueError, match="layer_norm"):
        F.layer_norm(tgx.tensor(1.0), (1,))
    with pytest.raises((TypeError, NotImplementedError), match="layer_norm.*int64"):
        F.layer_norm(tgx.zeros(2, 3, dtype=tgx.int64), (3,))
    with pytest.raises(TypeError, match="layer_norm"):
        F.layer_norm(np.zeros((2, 3)), (3,))
    with pytest.raises(TypeError):
        tgx._C.layer_norm(None, (3,))


def test_grad_fn_name_and_no_record_without_grad():
    x = tgx.randn(2, 3, requires_grad=True)
    assert F.layer_norm(x, 3).grad_fn.name() == "NativeLayerNormBackward0"
    with tgx.no_grad():
        assert F.layer_norm(x, 3).grad_fn is None


def _gc_inputs(shape, k, seed):
    rng = np.random.default_rng(seed)
    ns = shape[len(shape) - k:]
    x = tgx.tensor(rng.standard_normal(shape) * 1.5, requires_grad=True)
    w = tgx.tensor(rng.standard_normal(ns), requires_grad=True)
    b = tgx.tensor(rng.standard_normal(ns), requires_grad=True)
    return ns, x, w, b


@pytest.mark.parametrize("shape,k", [((3, 4), 1), ((2, 2, 3), 2), ((5,), 1)])
def test_gradcheck_gradgradcheck(shape, k):
    ns, x, w, b = _gc_inputs(shape, k, 3)
    fn = lambda x, w, b: F.layer_norm(x, ns, w, b)  # noqa: E731
    assert tgx.autograd.gradcheck(fn, (x, w, b))
    assert tgx.autograd.gradgradcheck(fn, (x, w, b))
    fn_x = lambda x: F.layer_norm(x, ns, eps=1e-3)  # noqa: E731
    assert tgx.autograd.gradcheck(fn_x, (x,))
    assert tgx.autograd.gradgradcheck(fn_x, (x,))


def test_create_graph_matches_fused_first_order():
    ns, x, w, b = _gc_inputs((4, 6), 1, 4)
    g = tgx.randn(4, 6, dtype=tgx.float64)
    fused = tgx.autograd.grad(F.layer_norm(x, ns, w, b), (x, w, b), g)
    ops = tgx.autograd.grad(F.layer_norm(x, ns, w, b), (x, w, b), g, create_graph=True)
    for a, c in zip(fused, ops):
        np.testing.assert_allclose(a.numpy(), c.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert ops[0].requires_grad and not fused[0].requires_grad


@pytest.mark.parametrize("which", [(0,), (1,), (2,), (0, 1, 2)])
def test_jvp_vs_finite_differences(which):
    ns, x, w, b = _gc_inputs((3, 2, 4), 2, 5)
    prim = [x.detach(), w.detach(), b.detach()]
    rng = np.random.default_rng(6)
    tang = [tgx.tensor(rng.standard_normal(tuple(p.shape)) if i in which else np.zeros(tuple(p.shape)))
            for i, p in enumerate(prim)]
    fn = lambda x, w, b: F.layer_norm(x, ns, w, b)  # noqa: E731
    _, t = tgx.func.jvp(fn, prim, tang)
    h = 1e-6
    plus = fn(*[p + h * d for p, d in zip(prim, tang)]).detach().numpy()
    minus = fn(*[p - h * d for p, d in zip(prim, tang)]).detach().numpy()
    np.testing.assert_allclose(t.detach().numpy(), (plus - minus) / (2 * h), rtol=1e-5, atol=1e-7)


def test_layer_norm_module():
    m = nn.LayerNorm((2, 3)).double()
    x = tgx.randn(4, 2, 3, dtype=tgx.float64)
    ref = np_layer_norm(x.numpy(), 2)
    np.testing.assert_allclose(m(x).detach().numpy(), ref, rtol=1e-10, atol=1e-12)
    m2 = nn.LayerNorm(3, elementwise_affine=False)
    assert m2.weight is None and m2.bias is None and list(m2.parameters()) == []
    x2 = tgx.randn(2, 3)
    np.testing.assert_allclose(m2(x2).detach().numpy(), np_layer_norm(x2.numpy(), 1), atol=1e-5)
    m3 = nn.LayerNorm(3, bias=False)
    assert m3.bias is None and tuple(m3.weight.shape) == (3,)
    m3(tgx.randn(2, 3)).sum().backward()
    assert m3.weight.grad is not None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,ns,affine", [((2, 5, 8), (8,), True), ((3, 4, 5), (4, 5), True),
                                             ((6, 7), (7,), False)])
def test_vs_torch(shape, ns, affine, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x, g = rng.standard_normal(shape) * 3 + 1, rng.standard_normal(shape)
    w, b = (rng.standard_normal(ns), rng.standard_normal(ns)) if affine else (None, None)

    def run(L, tensor):
        xt = tensor(x)
        wt, bt = (tensor(w), tensor(b)) if affine else (None, None)
        y = L.nn.functional.layer_norm(xt, ns, wt, bt, eps=1e-6)
        y.backward(tensor(g, rg=False))
        return [y] + [t.grad for t in (xt, wt, bt) if t is not None]

    tdt, pdt = getattr(tgx, dtype), getattr(torch, dtype)
    ours = run(tgx, lambda a, rg=True: tgx.tensor(a, dtype=tdt, requires_grad=rg))
    ref = run(torch, lambda a, rg=True: torch.tensor(a, dtype=pdt, requires_grad=rg))
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-11)
    for a, r in zip(ours, ref):
        np.testing.assert_allclose(a.detach().numpy(), r.detach().numpy(), **tol)


def test_large_parallel_rows_vs_numpy():
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((1000, 77)).astype(np.float32), rng.standard_normal(77)
    xt = tgx.tensor(x, requires_grad=True)
    wt = tgx.tensor(w, dtype=tgx.float32, requires_grad=True)
    y = F.layer_norm(xt, 77, wt)
    ref = np_layer_norm(x, 1, w.astype(np.float32))
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-4, atol=1e-4)
    g = rng.standard_normal(x.shape)
    y.backward(tgx.tensor(g, dtype=tgx.float32))
    gx, gw, _ = np_layer_norm_grads(x, 1, g.astype(np.float32), w.astype(np.float32))
    np.testing.assert_allclose(xt.grad.numpy(), gx, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(wt.grad.numpy(), gw, rtol=1e-3, atol=1e-3)
