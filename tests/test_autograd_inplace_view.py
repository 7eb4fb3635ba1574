"""In-place writes through views update the base's autograd history (PyTorch's CopySlices).

Each case runs the same lambda on tinygrad_ext and (when installed) PyTorch and compares the
output and the grads; a few cases also check hand-computed values, so they run without torch.
"""
import numpy as np
import pytest
import tinygrad_ext as tgx


def arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def run(lib, fn, *inputs):
    ts = [lib.tensor(x.copy(), dtype=lib.float64, requires_grad=True) for x in inputs]
    out = fn(lib, *ts)
    g = np.random.default_rng(7).standard_normal(tuple(out.shape))
    out.backward(lib.tensor(g, dtype=lib.float64))
    grads = [None if t.grad is None else t.grad.detach().numpy() for t in ts]
    return out.detach().numpy(), grads


def slice_mul(lib, a, w):
    b = a.clone()
    v = b[1:]
    v.mul_(w)
    return b * 1.0


def setitem_row(lib, a, x):
    b = a * 2
    b[0] = x
    return b


def setitem_on_view(lib, a, x):
    b = a.clone()
    v = b[:, 1:]
    v[1] = x
    return b.sin()


def view_add(lib, a, w):
    b = a.clone()
    b.view(3, 2).add_(w)
    return b * b


def chained_views(lib, a, w):
    b = a.sin()
    v = b.transpose(0, 1)[1:]
    v[:, :2].mul_(w)
    return b


def view_used_after(lib, a, w):  # the view itself is used after the write, and squared
    b = a.clone()
    v = b[1]
    v.mul_(w)
    return (v * v).sum() + b.sum()


def other_view_sees_write(lib, a, w):  # a view made before the write, overlapping its region
    b = a.clone()
    u = b[:2]
    v = b[1:]
    v.mul_(w)
    return u * 3.0


def base_inplace_then_view(lib, a, w):  # in-place on the base, view made before it
    b = a.clone()
    u = b[1:]
    b.mul_(w)
    return u.sum(0)


def write_no_grad_base(lib, a, w):  # the base has no history; only the written value does
    b = lib.zeros(3, 2, dtype=lib.float64)
    b[1:] = a[:2] * w
    return b


def zero_region(lib, a, w):  # the written value has no history: the region's grad is cut
    b = a * w
    b[:, 0].zero_()
    return b


def twice(lib, a, w):
    b = a.clone()
    b[0].mul_(w[0])
    b[1:].add_(b[0])
    return b


CASES = [
    ("slice mul_", slice_mul, (arr(3, 2), arr(2, 2, seed=1))),
    ("setitem on a tensor with history", setitem_row, (arr(3, 2), arr(2, seed=1))),
    ("setitem on a view", setitem_on_view, (arr(3, 4), arr(3, seed=1))),
    ("view(...).add_", view_add, (arr(6), arr(2, seed=1))),
    ("chained views", chained_views, (arr(2, 3), arr(2, seed=1))),
    ("view used after the write", view_used_after, (arr(3, 2), arr(2, seed=1))),
    ("older overlapping view", other_view_sees_write, (arr(3, 2), arr(2, seed=1))),
    ("in-place on base, older view", base_inplace_then_view, (arr(3, 2), arr(2, seed=1))),
    ("base without history", write_no_grad_base, (arr(3, 2), arr(2, seed=1))),
    ("region zeroed", zero_region, (arr(3, 2), arr(2, seed=1))),
    ("two writes", twice, (arr(3, 2), arr(2, seed=1))),
]


@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, fn, inputs):
    torch = pytest.importorskip("torch")
    out, grads = run(tgx, fn, *inputs)
    t_out, t_grads = run(torch, fn, *inputs)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-12)
    for g, tg in zip(grads, t_grads):
        if tg is None:
            assert g is None or not np.any(g)
        else:
            np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_and_gradgradcheck(name, fn, inputs):
    ts = tuple(tgx.tensor(x, dtype=tgx.float64).requires_grad_(True) for x in inputs)
    f = lambda *xs: fn(tgx, *xs)  # noqa: E731
    assert tgx.autograd.gradcheck(f, ts)
    assert tgx.autograd.gradgradcheck(f, ts)


def test_slice_mul_hand_computed():
    a = tgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = tgx.tensor([10.0, 20.0], requires_grad=True)
    b = a.clone()
    b[1:].mul_(w)
    assert b.grad_fn.name() == "CopySlices"
    b.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1.0, 10.0, 20.0])
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 3.0])


def test_setitem_hand_computed():
    a = tgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = tgx.tensor(5.0, requires_grad=True)
    b = a * a
    v = b[1:]
    v[0] = x * x  # b = [a0^2, x^2, a2^2]
    (b * tgx.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 0.0, 18.0])
    np.testing.assert_allclose(x.grad.numpy(), 20.0)
    assert v.grad_fn.name() == "AsStridedBackward0"


def test_base_gets_history_from_written_value():
    w = tgx.tensor([3.0], requires_grad=True)
    b = tgx.zeros(3)
    assert not b.requires_grad
    b[2:] = w * 2
    assert b.requires_grad and b.grad_fn is not None
    b.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0])


def test_view_of_leaf_raises():
    a = tgx.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        a[1:].mul_(2)
    with tgx.no_grad():
        a[1:].mul_(2)  # allowed without grad mode
    np.testing.assert_allclose(a.detach().numpy(), [1.0, 4.0])


def test_version_counter_still_fires():
    a = tgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1.0
    y = b.exp()  # saves its output
    y[1:].mul_(2)  # a view of a saved tensor, written in place
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_detach_is_not_a_differentiable_view():
    a = tgx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2
    b.detach()[0] = 100.0  # changes b's data, not its history
    assert b.grad_fn.name() == "MulBackward0"
    b.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0, 2.0])


def test_expanded_view_write_raises():
    a = tgx.tensor([1.0], requires_grad=True)
    b = (a * 1.0).expand(3)
    with pytest.raises(RuntimeError, match="more than one element"):
        b.mul_(tgx.tensor([1.0, 2.0, 3.0]))


def test_forward_mode_through_view_write():
    fa = tgx.autograd.forward_ad
    with fa.dual_level():
        a = fa.make_dual(tgx.tensor([1.0, 2.0, 3.0], dtype=tgx.float64),
                         tgx.tensor([1.0, 1.0, 1.0], dtype=tgx.float64))
        b = a.clone()
        b[1:].mul_(tgx.tensor([2.0, 3.0], dtype=tgx.float64))
        t = fa.unpack_dual(b).tangent
    np.testing.assert_allclose(t.numpy(), [1.0, 2.0, 3.0])
