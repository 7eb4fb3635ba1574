"""Autograd of indexing: getitem/setitem, index_put_, gather/scatter, index_* ops, masked_*, take,
put: gradcheck (float64), jvp vs finite differences, gradgradcheck, PyTorch parity (optional)."""

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext.autograd import gradcheck, gradgradcheck


def t64(a):
    return tgx.tensor(np.asarray(a, dtype=np.float64), dtype=tgx.float64)


def leaf(a, noncontig=False):
    a = np.asarray(a, dtype=np.float64)
    if noncontig and a.ndim >= 1:  # every other element of a wider buffer
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],))
        wide[..., ::2] = a
        t = tgx.tensor(wide, dtype=tgx.float64)[..., ::2]
    else:
        t = tgx.tensor(a, dtype=tgx.float64)
    return t.requires_grad_()


def I_tgx(a):  # noqa: E743  (an index or mask in tinygrad_ext)
    a = np.asarray(a)
    return tgx.tensor(a if a.dtype == bool else a.astype(np.int64))


def I_torch(a):
    torch = pytest.importorskip("torch")
    a = np.asarray(a)
    return torch.tensor(a if a.dtype == bool else a.astype(np.int64))


def out_list(o):
    return list(o) if isinstance(o, (tuple, list)) else [o]


def check_jvp(f, primals, seed=0, eps=1e-6):
    rng = np.random.default_rng(seed)
    tangents = [rng.standard_normal(np.shape(p)) for p in primals]
    _, jv = tgx.func.jvp(f, [t64(p) for p in primals], [t64(t) for t in tangents])
    plus = f(*[t64(p + eps * t) for p, t in zip(primals, tangents)])
    minus = f(*[t64(p - eps * t) for p, t in zip(primals, tangents)])
    want = (plus.numpy() - minus.numpy()) / (2 * eps)
    np.testing.assert_allclose(jv.numpy(), want, rtol=1e-6, atol=1e-8)


MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
# (id, fn(m, I, *tensors) for m in (tgx, torch), input shapes)
OPS = [
    ("getitem_list", lambda m, I, x: x[I([2, 0, 2])], [(3, 4)]),
    ("getitem_2d_idx", lambda m, I, x: x[I([[0, 1], [2, 2]]), 1:], [(3, 4)]),
    ("getitem_pair", lambda m, I, x: x[I([0, 2, 2]), I([1, 3, 1])], [(3, 4)]),
    ("getitem_nonadjacent", lambda m, I, x: x[I([1, 0]), :, I([2, 2])], [(2, 3, 4)]),
    ("getitem_mask", lambda m, I, x: x[I(MASK)], [(3, 4)]),
    ("getitem_row_mask", lambda m, I, x: x[I([True, False, True])], [(3, 4)]),
    ("getitem_basic", lambda m, I, x: x[1, ::-2], [(3, 4)]),
    ("setitem_slice", lambda m, I, x, y: _set(x, (slice(1, 3),), y), [(3, 4), (2, 4)]),
    ("setitem_bcast", lambda m, I, x, y: _set(x, (slice(None), 1), y), [(3, 4), (1,)]),
    ("setitem_adv", lambda m, I, x, y: _set(x, (I([2, 0]),), y), [(3, 4), (4,)]),
    ("setitem_mask", lambda m, I, x, y: _set(x, (I(MASK),), y), [(3, 4), (6,)]),
    ("index_put_acc", lambda m, I, x, y: (x * 1).index_put_((I([0, 2, 0]),), y, accumulate=True),
     [(3, 4), (3, 4)]),
    ("gather", lambda m, I, x: m.gather(x, 1, I([[0, 0], [3, 1], [2, 2]])), [(3, 4)]),
    ("gather_dim0", lambda m, I, x: x.gather(0, I([[2, 0, 1, 1]])), [(3, 4)]),
    ("scatter", lambda m, I, x, y: m.scatter(x, 1, I([[1, 0], [2, 3]]), y), [(3, 4), (2, 3)]),
    ("scatter_same", lambda m, I, x, y: x.scatter(0, I([[2, 0, 1], [0, 2, 2]]), y), [(3, 4), (2, 3)]),
    ("scatter_value", lambda m, I, x: x.scatter(0, I([[0, 2, 1, 0]]), 2.5), [(3, 4)]),
    ("scatter_add", lambda m, I, x, y: m.scatter_add(x, 0, I([[0, 2, 0], [0, 1, 0]]), y),
     [(3, 4), (2, 3)]),
    ("scatter_inplace", lambda m, I, x, y: (x * 2).scatter_(1, I([[3], [0], [1]]), y), [(3, 4), (3, 1)]),
    ("index_select", lambda m, I, x: m.index_select(x, 1, I([3, 0, 3])), [(3, 4)]),
    ("index_add", lambda m, I, x, y: x.index_add(0, I([2, 0, 2]), y, alpha=0.5), [(3, 4), (3, 4)]),
    ("index_copy", lambda m, I, x, y: x.index_copy(1, I([3, 0]), y), [(3, 4), (3, 2)]),
    ("index_fill", lambda m, I, x: x.index_fill(1, I([1, 3]), -1.0), [(3, 4)]),
    ("index_fill_tensor", lambda m, I, x, v: x.index_fill(0, I([1]), v), [(3, 4), ()]),
    ("masked_fill", lambda m, I, x: x.masked_fill(I(MASK), 3.0), [(3, 4)]),
    ("masked_fill_tensor", lambda m, I, x, v: x.masked_fill(I(MASK[0]), v), [(3, 4), ()]),
    ("masked_fill_inplace", lambda m, I, x: (x * 1).masked_fill_(I(MASK), 0.0), [(3, 4)]),
    ("masked_select", lambda m, I, x: m.masked_select(x, I(MASK)), [(3, 4)]),
    ("masked_select_bcast", lambda m, I, x: x.masked_select(I(MASK)), [(4,)]),
    ("masked_scatter", lambda m, I, x, y: x.masked_scatter(I(MASK), y), [(3, 4), (8,)]),
    ("take", lambda m, I, x: m.take(x, I([[0, 11], [5, 5]])), [(3, 4)]),
    ("take_along_dim", lambda m, I, x: m.take_along_dim(x, I([[0], [3], [1]]), 1), [(3, 4)]),
    ("take_along_dim_flat", lambda m, I, x: m.take_along_dim(x, I([7, 0, 7])), [(3, 4)]),
    ("put", lambda m, I, x, y: x.put(I([1, 7, 4]), y), [(3, 4), (3,)]),
    ("put_acc", lambda m, I, x, y: x.put(I([1, 1, 4]), y, accumulate=True), [(3, 4), (3,)]),
    ("where", lambda m, I, x, y: m.where(I(MASK), x, y), [(3, 4), (4,)]),
]


NOT_IN_TORCH = {
    "getitem_basic": "PyTorch slices need a positive step",
    "scatter": "PyTorch's backward rejects a src larger than index (its grad is padded here)",
}


def _set(x, key, y):
    z = x * 1  # a non-leaf we may write into
    z[key] = y
    return z


def make(shapes, seed=0, noncontig=False):
    rng = np.random.default_rng(seed)
    arrs = [rng.uniform(-1, 1, s) for s in shapes]
    return arrs, [leaf(a, noncontig and a.ndim > 0) for a in arrs]


@pytest.mark.parametrize("noncontig", [False, True])
@pytest.mark.parametrize("name,fn,shapes", OPS, ids=[o[0] for o in OPS])
def test_gradcheck(name, fn, shapes, noncontig):
    _, xs = make(shapes, noncontig=noncontig)
    assert gradcheck(lambda *a: fn(tgx, I_tgx, *a), xs)


@pytest.mark.parametrize("name,fn,shapes", OPS, ids=[o[0] for o in OPS])
def test_jvp_matches_finite_differences(name, fn, shapes):
    arrs, _ = make(shapes, seed=1)
    check_jvp(lambda *a: fn(tgx, I_tgx, *a), arrs)


@pytest.mark.parametrize(
    "name", ["getitem_pair", "getitem_mask", "setitem_adv", "gather", "scatter", "index_select",
             "index_add", "masked_select", "take", "put"]
)
def test_gradgradcheck(name):
    fn, shapes = next((f, s) for n, f, s in OPS if n == name)
    _, xs = make(shapes, seed=2)
    assert gradgradcheck(lambda *a: fn(tgx, I_tgx, *a) ** 2, xs)


def test_setitem_slice_gives_the_right_grads():
    x, y = leaf(np.ones((4, 3))), leaf(np.full((2, 3), 2.0))
    z = x * 1
    z[1:3] = y
    assert z.grad_fn.name() == "IndexPutBackward0"
    g = np.arange(12.0).reshape(4, 3)
    z.backward(t64(g))
    want_x = g.copy()
    want_x[1:3] = 0
    np.testing.assert_array_equal(x.grad.numpy(), want_x)
    np.testing.assert_array_equal(y.grad.numpy(), g[1:3])


def test_setitem_into_tensor_without_grad_makes_it_require_grad():
    y = leaf([1.0, 2.0])
    z = tgx.zeros(3, dtype=tgx.float64)
    z[I_tgx([0, 2])] = y
    assert z.requires_grad and not z.is_leaf
    z.backward(t64([1.0, 5.0, 7.0]))
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 7.0])


def test_setitem_scalar_value_and_broadcast_value_grads():
    x, y = leaf(np.ones((3, 4))), leaf([[3.0]])  # extra leading size-1 dims are dropped
    z = x * 1
    z[0] = y
    z.backward(t64(np.ones((3, 4))))
    np.testing.assert_array_equal(y.grad.numpy(), [[4.0]])
    z2 = x * 1
    z2[..., 1] = 5.0
    assert z2.requires_grad


def test_inplace_on_leaf_raises():
    x = leaf(np.ones((3, 4)))
    for f in (lambda: x.__setitem__(0, 1.0), lambda: x.scatter_(0, I_tgx([[0]]), 1.0),
              lambda: x.index_add_(0, I_tgx([0]), t64(np.ones((1, 4)))),
              lambda: x.masked_fill_(I_tgx(MASK), 0.0), lambda: x.put_(I_tgx([0]), t64([1.0]))):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            f()


def test_modifying_a_view_of_a_saved_tensor_raises_at_backward():
    x = leaf(np.random.default_rng(0).uniform(0.5, 1, (3, 4)))
    a = x * 1
    y = a.log()  # saves a
    v = a[1:]
    v[0, 0] = 2.0  # writes a's memory through a view
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward(t64(np.ones((3, 4))))


def test_non_differentiable_outputs_never_require_grad():
    x = leaf(np.array([[0.0, 1.5], [2.0, 0.0]]))
    for out in (tgx.nonzero(x), tgx.argwhere(x), tgx.count_nonzero(x), x.nonzero(as_tuple=True)[0],
                tgx.searchsorted(t64([0.0, 1.0, 2.0]).requires_grad_(), x),
                tgx.one_hot(I_tgx([0, 2]), 3)):
        assert not out.requires_grad and out.grad_fn is None


def test_scatter_multiply_grad_not_implemented():
    x, y = leaf(np.ones((2, 2))), leaf(np.ones((1, 2)))
    with pytest.raises(NotImplementedError, match="scatter"):
        tgx.scatter(x, 0, I_tgx([[0, 1]]), y, reduce="multiply")


def test_grad_fn_names():
    x = leaf(np.ones((3, 4)))
    cases = {
        "IndexBackward0": x[I_tgx([0, 1])],
        "GatherBackward0": x.gather(0, I_tgx([[0, 1, 2, 0]])),
        "IndexSelectBackward0": x.index_select(0, I_tgx([1])),
        "MaskedSelectBackward0": x.masked_select(I_tgx(MASK)),
        "TakeBackward0": x.take(I_tgx([3])),
        "ScatterAddBackward0": x.scatter_add(0, I_tgx([[1]]), x),
        "IndexAddBackward0": x.index_add(0, I_tgx([1]), x[:1]),
    }
    for name, t in cases.items():
        assert t.grad_fn.name() == name


# ---- PyTorch parity (optional) ------------------------------------------------------------
@pytest.mark.parametrize("name,fn,shapes", OPS, ids=[o[0] for o in OPS])
def test_matches_torch(name, fn, shapes):
    torch = pytest.importorskip("torch")
    if name in NOT_IN_TORCH:
        pytest.skip(NOT_IN_TORCH[name])
    arrs, xs = make(shapes, seed=3, noncontig=True)
    tx = [torch.tensor(a, requires_grad=True) for a in arrs]
    out, tout = fn(tgx, I_tgx, *xs), fn(torch, I_torch, *tx)
    assert tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
    c = np.random.default_rng(4).standard_normal(tuple(out.shape))
    out.backward(t64(c))
    tout.backward(torch.tensor(c))
    for x, t in zip(xs, tx):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)
