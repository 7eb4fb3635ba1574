"""Autograd of reductions and scans: gradcheck (float64), jvp vs finite differences,
gradgradcheck for the ones a training loop differentiates twice, PyTorch parity when installed."""

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def t64(a, requires_grad=False):
    t = tgx.tensor(np.asarray(a, dtype=np.float64), dtype=tgx.float64)
    return t.requires_grad_() if requires_grad else t


def leaf(arr, layout="contig"):
    """A float64 leaf holding arr: contiguous, transposed (storage of arr.T) or flipped."""
    arr = np.asarray(arr, dtype=np.float64)
    if layout == "transposed" and arr.ndim >= 2:
        t = t64(np.ascontiguousarray(np.swapaxes(arr, -1, -2))).mT
        assert not t.is_contiguous()
    elif layout == "flipped" and arr.ndim >= 1:
        t = tgx.flip(t64(np.flip(arr, 0).copy()), [0])
    else:
        t = t64(arr)
    return t.requires_grad_()


def fd_jvp(f, x, v, eps=1e-6):
    return (f(t64(x + eps * v)).numpy() - f(t64(x - eps * v)).numpy()) / (2 * eps)


def check_jvp(f, x):
    v = RNG.standard_normal(np.shape(x))
    out, jv = tgx.func.jvp(f, (t64(x),), (t64(v),))
    np.testing.assert_allclose(out.numpy(), f(t64(x)).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jv.numpy(), fd_jvp(f, x, v), rtol=1e-5, atol=1e-7)


def distinct(shape):
    """Values far apart (no ties, no zeros), so min/max/prod/norm are smooth around them."""
    n = int(np.prod(shape))
    return (RNG.permutation(n) + 1.0).reshape(shape) * 0.1 * RNG.choice([-1, 1], size=shape)


# (name, fn, shape): each a reduction over dims, keepdim or not.
CASES = [
    ("sum_all", lambda a: a.sum(), (3, 4)),
    ("sum_dim", lambda a: a.sum(1), (3, 4)),
    ("sum_keep", lambda a: a.sum(0, keepdim=True), (3, 4)),
    ("sum_tuple", lambda a: a.sum((0, 2)), (2, 3, 2)),
    ("sum_0d", lambda a: a.sum(), ()),
    ("mean_all", lambda a: a.mean(), (3, 4)),
    ("mean_tuple_keep", lambda a: a.mean((0, 2), keepdim=True), (2, 3, 2)),
    ("mean_neg", lambda a: a.mean(-1), (3, 4)),
    ("prod_all", lambda a: a.prod(), (2, 3)),
    ("prod_dim", lambda a: a.prod(1), (3, 4)),
    ("prod_keep", lambda a: a.prod(0, keepdim=True), (3, 4)),
    ("var_dim", lambda a: a.var(1), (3, 4)),
    ("var_all_c0", lambda a: a.var(correction=0), (3, 4)),
    ("var_keep", lambda a: a.var((0, 1), keepdim=True), (2, 3, 2)),
    ("std_dim", lambda a: a.std(0), (3, 4)),
    ("std_all", lambda a: a.std(), (3, 4)),
    ("var_mean", lambda a: tgx.var_mean(a, 1)[0] + 2 * tgx.var_mean(a, 1)[1], (3, 4)),
    ("std_mean", lambda a: tgx.std_mean(a, 0)[0] * tgx.std_mean(a, 0)[1], (3, 4)),
    ("amax_dim", lambda a: a.amax(1), (3, 4)),
    ("amin_tuple", lambda a: a.amin((0, 1), keepdim=True), (2, 3, 2)),
    ("max_all", lambda a: a.max(), (3, 4)),
    ("min_all", lambda a: a.min(), (3, 4)),
    ("max_dim", lambda a: a.max(1)[0], (3, 4)),
    ("min_dim_keep", lambda a: a.min(0, keepdim=True)[0], (3, 4)),
    ("max_dim_0d", lambda a: a.max(0)[0], ()),
    ("aminmax", lambda a: tgx.aminmax(a, dim=1)[0] * tgx.aminmax(a, dim=1)[1], (3, 4)),
    ("logsumexp", lambda a: a.logsumexp(1), (3, 4)),
    ("logsumexp_keep", lambda a: a.logsumexp((0, 1), keepdim=True), (2, 3, 2)),
    ("softmax", lambda a: a.softmax(1), (3, 4)),
    ("softmax0", lambda a: a.softmax(0), (3, 4)),
    ("softmax_0d", lambda a: a.softmax(0), ()),
    ("log_softmax", lambda a: a.log_softmax(-1), (3, 4)),
    ("log_softmax0", lambda a: a.log_softmax(0), (2, 3, 2)),
    ("cumsum", lambda a: a.cumsum(1), (3, 4)),
    ("cumsum0", lambda a: a.cumsum(0), (3, 4)),
    ("cumprod", lambda a: a.cumprod(1), (3, 4)),
    ("cumprod0", lambda a: a.cumprod(0), (3, 4)),
    ("norm2", lambda a: a.norm(), (3, 4)),
    ("norm1_dim", lambda a: tgx.norm(a, 1, 1), (3, 4)),
    ("norm3_keep", lambda a: tgx.norm(a, 3, 0, keepdim=True), (3, 4)),
    ("norm_inf", lambda a: tgx.norm(a, float("inf"), 1), (3, 4)),
    ("norm_neginf", lambda a: tgx.norm(a, float("-inf")), (3, 4)),
    ("norm_half", lambda a: tgx.norm(a, 0.5, 1), (3, 4)),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("layout", ["contig", "transposed", "flipped"])
@pytest.mark.parametrize("name,fn,shape", CASES, ids=IDS)
def test_gradcheck(name, fn, shape, layout):
    assert gradcheck(fn, (leaf(distinct(shape), layout),))


@pytest.mark.parametrize("name,fn,shape", CASES, ids=IDS)
def test_jvp_matches_finite_differences(name, fn, shape):
    check_jvp(fn, distinct(shape))


GRADGRAD = [
    ("sum", lambda a: (a * a).sum(1)),
    ("sum_keep", lambda a: (a * a).sum((0, 1), keepdim=True)),
    ("mean", lambda a: (a * a).mean(0)),
    ("softmax", lambda a: a.softmax(1)),
    ("log_softmax", lambda a: a.log_softmax(0)),
    ("logsumexp", lambda a: a.logsumexp(1)),
    ("var", lambda a: a.var(1)),
    ("prod", lambda a: a.prod(1)),
]


@pytest.mark.parametrize("name,fn", GRADGRAD, ids=[g[0] for g in GRADGRAD])
def test_gradgradcheck(name, fn):
    assert gradgradcheck(fn, (leaf(distinct((3, 4))),))


def test_names_follow_pytorch():
    x = t64(distinct((3, 4)), True)
    assert x.sum().grad_fn.name() == "SumBackward0"
    assert x.sum(1).grad_fn.name() == "SumBackward1"
    assert x.mean().grad_fn.name() == "MeanBackward0"
    assert x.mean(0).grad_fn.name() == "MeanBackward1"
    assert x.softmax(1).grad_fn.name() == "SoftmaxBackward0"
    assert x.log_softmax(1).grad_fn.name() == "LogSoftmaxBackward0"
    assert x.amax(1).grad_fn.name() == "AmaxBackward0"
    assert x.max(1)[0].grad_fn.name() == "MaxBackward0"
    assert x.cumsum(0).grad_fn.name() == "CumsumBackward0"


def test_prod_with_zeros():
    """One zero: its grad is the product of the others, the rest get 0; two zeros: all 0."""
    x = t64([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]], True)
    x.prod(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 6, 0], [0, 0, 0], [8, 4, 2]])
    y = t64([2.0, 0.0, 3.0], True)
    y.prod().backward()
    np.testing.assert_allclose(y.grad.numpy(), [0, 6, 0])


def test_ties_split_evenly_and_max_dim_routes_to_index():
    x = t64([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], True)
    x.amax(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x.grad = None
    vals, idx = x.max(1)
    vals.sum().backward()
    expect = np.zeros((2, 3))
    expect[[0, 1], idx.numpy()] = 1
    np.testing.assert_allclose(x.grad.numpy(), expect)
    x.grad = None
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [0, 0, 0]])


def test_norm_and_std_at_zero_have_zero_grad():
    x = t64(np.zeros((2, 3)), True)
    (x.norm() + tgx.norm(x, 2, 1).sum() + x.std(1).sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_non_differentiable_reductions():
    x = t64(distinct((3, 4)), True)
    for out in (x.argmax(), x.argmin(1), tgx.all(x), tgx.any(x, 1), x.max(1)[1]):
        assert not out.requires_grad
    i = tgx.tensor(np.arange(6).reshape(2, 3))
    assert not i.sum().requires_grad


def test_sum_dtype_and_float32():
    x = tgx.tensor(np.ones((2, 3), dtype=np.float32)).requires_grad_()
    x.sum(dtype=tgx.float64).backward()
    assert x.grad.dtype == tgx.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
    x.grad = None
    x.softmax(1, dtype=tgx.float64).sum().backward()
    assert x.grad.dtype == tgx.float32


def test_empty_reductions_backward():
    x = t64(np.zeros((0, 3)), True)
    x.sum().backward()
    assert x.grad.shape == (0, 3)
    y = t64(np.zeros((0, 3)), True)
    y.sum(0).sum().backward()
    assert y.grad.shape == (0, 3)


def test_torch_parity():
    torch = pytest.importorskip("torch")
    x = distinct((3, 4, 2))
    fns = [
        lambda m, a: a.sum((0, 2)),
        lambda m, a: a.mean(1, keepdim=True),
        lambda m, a: a.prod(1),
        lambda m, a: a.var(1),
        lambda m, a: a.std(2, keepdim=True),
        lambda m, a: a.amax(1),
        lambda m, a: a.logsumexp(0),
        lambda m, a: a.softmax(1),
        lambda m, a: a.log_softmax(2),
        lambda m, a: a.cumsum(1),
        lambda m, a: a.cumprod(2),
        lambda m, a: m.linalg.vector_norm(a, 3, dim=1) if m is torch else m.norm(a, 3, 1),
    ]
    g = RNG.standard_normal
    for f in fns:
        a = t64(x, True)
        ta = torch.tensor(x, requires_grad=True)
        out, tout = f(tgx, a), f(torch, ta)
        w = g(tuple(tout.shape))
        (out * t64(w)).sum().backward()
        (tout * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cumprod_with_zeros():
    x0 = np.array([[2.0, 0.0, 3.0, 0.5], [0.0, 1.5, 0.0, 2.0], [1.0, 2.0, 3.0, 4.0], [0.5, 2.0, 3.0, 0.0]])
    for d in (0, 1):
        assert gradcheck(lambda a: a.cumprod(d), (t64(x0, True),))
    x = t64([2.0, 0.0, 3.0, 4.0], True)
    x.cumprod(0).sum().backward()
    # d/dx0 = 1 (only out_0 survives), d/dx1 = 2 + 2*3 + 2*3*4, after the zero: 0
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 32.0, 0.0, 0.0])


def test_sum_to_size_records():
    x = t64(distinct((2, 3)), True)
    y = x.sum_to_size(1, 3)
    assert y.grad_fn.name() == "SumToSizeBackward0"
    assert gradcheck(lambda a: a.sum_to_size(1, 3), (x,))
    assert gradgradcheck(lambda a: (a * a).sum_to_size(3), (x,))
