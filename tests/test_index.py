"""Indexing (getitem/setitem) and the indexing functions, against NumPy (and torch if present)."""

import numpy as np
import pytest
import tinygrad_ext as tgx
from hypothesis import given, settings
from hypothesis import strategies as st


def T(a):
    return tgx.tensor(np.asarray(a))


def check_get(a, key):
    expected = a[key]
    got = T(a)[key]
    assert got.shape == expected.shape, (key, got.shape, expected.shape)
    np.testing.assert_array_equal(got.numpy(), expected)
    assert got.dtype == T(a).dtype


A = np.arange(60, dtype=np.float64).reshape(3, 4, 5)

BASIC_KEYS = [
    0, -1, 2, (1, 2), (1, 2, 3), (-1, -2, -5), slice(None), slice(1, None), slice(None, None, -1),
    slice(None, None, 2), slice(-2, None, -1), slice(10, -10, -3), slice(5, 1), slice(-100, 100),
    (Ellipsis, 2), (1, Ellipsis), (Ellipsis,), (None,), (None, 1, None), (1, None, Ellipsis, None),
    (slice(None), slice(3, 0, -2)), (slice(None, None, -1), slice(None, None, -2), slice(None, None, -3)),
    (Ellipsis, None), (), (0, 0, slice(None, None, -1)),
]

ADVANCED_KEYS = [
    [0, 2], [-1, 0, -1], ([0, 2], [1, 3]), ([0, 2], slice(None), [1, 3]), (0, slice(None), [1, 2]),
    (slice(None), 0, [1, 2]), (slice(1, 2), [0, 1], 0), ([[0], [2]], [1, 3]), (Ellipsis, [4, 0]),
    ([0], Ellipsis, [0]), (None, [0], [1]), ([0], None, [1]), (slice(None), [[1, 1], [3, 0]]),
    ([], slice(None)), (slice(None, None, -1), [0, 0, 1], slice(None, None, -2)),
    (True,), (False,), (slice(None), True, [0]), ([0], True), (0, True, slice(None), [1]),
    (Ellipsis, True, 0), (slice(None), [0], Ellipsis, [0]), (0, Ellipsis, [1], 2),
    (np.array([2, 0]),), (np.array([1, 0], dtype=np.int32), np.int64(1)),
    (np.array([[True, False, True, False]] * 3),), (slice(None), np.array([True, False, True, False])),
    (np.array([True, False, True]), slice(None), 1), (np.array(1), [0, 1]), (np.uint8(1), [0]),
]


@pytest.mark.parametrize("key", BASIC_KEYS + ADVANCED_KEYS, ids=repr)
def test_getitem_matches_numpy(key):
    check_get(A, key)


def test_getitem_masks_and_tensor_indices():
    a = A
    t = T(a)
    np.testing.assert_array_equal(t[t > 30].numpy(), a[a > 30])
    np.testing.assert_array_equal(t[:, T(a[0, :, 0] > 5)].numpy(), a[:, a[0, :, 0] > 5])
    np.testing.assert_array_equal(t[T([2, 0])].numpy(), a[[2, 0]])
    np.testing.assert_array_equal(t[T(np.array([2, 0], np.int32)), 1].numpy(), a[[2, 0], 1])
    np.testing.assert_array_equal(t[T(np.array(2))].numpy(), a[2])  # 0-d int tensor acts as int
    # a 0-d int tensor index is a view, like an int
    v = t[tgx.tensor(1)]
    v[0, 0] = -1.0
    assert t.numpy()[1, 0, 0] == -1.0
    np.testing.assert_array_equal(t[[True, False, True]].numpy(), t.numpy()[[True, False, True]])


def test_getitem_all_dtypes_and_layouts():
    for dt in [np.bool_, np.uint8, np.int32, np.int64, np.float32, np.float64]:
        a = (np.arange(24).reshape(4, 6) % 3).astype(dt)
        check_get(a, ([3, 0, 0], slice(None, None, -2)))
        check_get(a, a.astype(bool))
    # transposed / flipped sources, through the tensor's own views
    a = np.arange(24.0).reshape(4, 6)
    t = T(a)[::-1, ::2]  # negative-stride view
    np.testing.assert_array_equal(t[[0, 3], 1:].numpy(), a[::-1, ::2][[0, 3], 1:])
    np.testing.assert_array_equal(t[..., [2, 0]].numpy(), a[::-1, ::2][..., [2, 0]])


def test_getitem_zero_d_and_empty():
    s = T(np.array(5.0))
    assert s[()].shape == () and s[()].item() == 5.0
    assert s[None].shape == (1,)
    assert s[...].shape == ()
    assert s[True].shape == (1,) and s[False].shape == (0,)
    e = T(np.zeros((0, 3)))
    check_get(np.zeros((0, 3)), (slice(None), [2, 0]))
    check_get(np.zeros((0, 3)), [])
    assert e[1:].shape == (0, 3)
    check_get(np.zeros((3, 0)), (slice(None, None, -1), slice(None)))
    check_get(np.zeros((3, 0)), ([2, 0], slice(None)))


def test_basic_indexing_returns_views():
    t = T(np.zeros((4, 5)))
    v = t[1:3, ::-2]
    assert v.shape == (2, 3)
    assert v.stride() == (5, -2)
    v[...] = 7.0
    expected = np.zeros((4, 5))
    expected[1:3, ::-2] = 7.0
    np.testing.assert_array_equal(t.numpy(), expected)
    row = t[2]
    t[2, 4] = 3.0
    assert row.numpy()[4] == 3.0
    assert t[None, 1, ..., None].shape == (1, 5, 1)
    # advanced indexing copies
    c = t[[1, 2]]
    c[0, 0] = 100.0
    assert t.numpy()[1, 0] == 7.0


def test_iteration_and_len():
    t = T(np.arange(6).reshape(3, 2))
    rows = [r.numpy().tolist() for r in t]
    assert rows == [[0, 1], [2, 3], [4, 5]]


# ---- errors ------------------------------------------------------------------------------------
def test_getitem_errors():
    t = T(np.zeros((3, 4)))
    with pytest.raises(IndexError, match=r"\[index\] index 5 is out of bounds for dimension 0 with size 3"):
        t[5]
    with pytest.raises(IndexError, match=r"index -5 is out of bounds for dimension 1 with size 4"):
        t[0, -5]
    with pytest.raises(IndexError, match=r"index 4 is out of bounds for dimension 1 with size 4"):
        t[:, [0, 4]]
    with pytest.raises(IndexError, match=r"index -4 is out of bounds for dimension 0"):
        t[T([-4])]
    with pytest.raises(IndexError, match="too many indices"):
        t[0, 0, 0]
    with pytest.raises(IndexError, match="too many indices"):
        T(np.array(1.0))[0]
    with pytest.raises(IndexError, match="single ellipsis"):
        t[..., ...]
    with pytest.raises(IndexError, match="boolean index did not match"):
        t[np.ones((3, 3), bool)]
    with pytest.raises(IndexError, match="boolean index did not match"):
        t[T([True, False])]
    with pytest.raises(IndexError, match="shape mismatch"):
        t[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError):
        t[T([0.0, 1.0])]
    with pytest.raises(IndexError):
        t[np.array([0.5])]
    with pytest.raises(IndexError):
        t[1.5]
    with pytest.raises(IndexError):
        t["a"]
    with pytest.raises(IndexError):
        t[[0, [1, 2]]]  # ragged
    with pytest.raises(ValueError, match=r"\[index\] slice step cannot be zero"):
        t[::0]
    with pytest.raises(TypeError):
        t[1.5:]
    with pytest.raises(IndexError):
        t[2**70]
    # the tensor is intact after all of that
    np.testing.assert_array_equal(t.numpy(), np.zeros((3, 4)))


# ---- setitem -----------------------------------------------------------------------------------
SET_CASES = [
    (0, 5.0), ((1, 2), -1.0), (slice(None, None, -1), np.arange(20.0).reshape(4, 5)),
    ((slice(None), slice(None, None, -2)), np.arange(5.0)), ((Ellipsis, 0), np.arange(4.0)),
    ([0, 0, 2], np.arange(60.0).reshape(3, 4, 5)), (([0, 2], [1, 3]), 9.0),
    (([0, 2], slice(None), [1, 3]), np.arange(8.0).reshape(2, 4)),
    ((0, slice(None), [4, 0]), np.arange(8.0).reshape(2, 4)), (True, 3.0),
    (A > 30, -A[A > 30]), ((slice(None), A[0] > 7), 1.0), (([[0], [2]], [1, 3]), np.ones((2, 2, 1))),
    ((None, 1), np.ones((1, 4, 5))), (slice(1, 1), 4.0), ([], 1.0),
    ((1, Ellipsis, [0, 0, 0]), np.array([[1.0], [2.0], [3.0]])),  # duplicates: last write wins
]


@pytest.mark.parametrize("key,value", SET_CASES, ids=repr)
def test_setitem_matches_numpy(key, value):
    a = A.copy()
    t = T(a)
    v0 = t._version
    a[key] = value
    t[key] = value if np.isscalar(value) else T(value)
    np.testing.assert_array_equal(t.numpy(), a)
    assert t._version > v0
    t2 = T(A.copy())
    t2[key] = value  # NumPy arrays and numbers directly
    np.testing.assert_array_equal(t2.numpy(), a)


def test_setitem_casts_and_broadcasts():
    a = np.zeros((3, 4), np.int32)
    t = T(a)
    t[1] = 2.7  # float into int truncates, as NumPy
    a[1] = 2.7
    t[:, [0, 3]] = T(np.array([[1.9], [5.0], [-3.2]], np.float64))
    a[:, [0, 3]] = np.array([[1.9], [5.0], [-3.2]])
    np.testing.assert_array_equal(t.numpy(), a)
    assert t.dtype is tgx.int32
    b = T(np.zeros(3, bool))
    b[[0, 2]] = 1
    np.testing.assert_array_equal(b.numpy(), [True, False, True])
    # leading 1 dims of the value are allowed
    c = T(np.zeros((2, 3)))
    c[0] = T(np.ones((1, 1, 3)))
    np.testing.assert_array_equal(c.numpy()[0], np.ones(3))


def test_setitem_overlapping_self():
    a = np.arange(10.0)
    t = T(a)
    t[1:] = t[:-1]
    a[1:] = a[:-1].copy()
    np.testing.assert_array_equal(t.numpy(), a)
    t[[0, 1, 2]] = t[::-1][:3]
    a[[0, 1, 2]] = a[::-1][:3].copy()
    np.testing.assert_array_equal(t.numpy(), a)


def test_setitem_through_views_and_transposed():
    base = T(np.zeros((4, 6)))
    v = base[::-1, 1::2]
    v[[0, 3], 1] = T([1.0, 2.0])
    expected = np.zeros((4, 6))
    expected[::-1, 1::2][[0, 3], 1] = [1.0, 2.0]
    np.testing.assert_array_equal(base.numpy(), expected)


def test_setitem_errors():
    t = T(np.zeros((3, 4)))
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        t[3] = 1.0
    with pytest.raises(IndexError, match="index 7 is out of bounds"):
        t[[0, 7]] = 1.0
    with pytest.raises(ValueError, match="shape mismatch"):
        t[0] = T(np.ones(3))
    with pytest.raises(ValueError, match="shape mismatch"):
        t[[0, 1]] = T(np.ones((3, 4)))
    with pytest.raises(TypeError):
        t[0] = "x"
    np.testing.assert_array_equal(t.numpy(), np.zeros((3, 4)))  # nothing was written


# ---- property test: random basic + advanced index expressions against NumPy -------------------
@st.composite
def index_expr(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=4)))
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    adv_shape = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    nd = len(shape)
    # dims indexed explicitly: a prefix, then (if an ellipsis is used) a suffix
    k1 = draw(st.integers(0, nd))
    ellipsis = draw(st.booleans())
    k2 = draw(st.integers(0, nd - k1)) if ellipsis else 0

    def part(n):
        kind = draw(st.sampled_from(["int", "slice", "array", "array", "mask"]))
        if kind == "int" and n > 0:
            return draw(st.integers(-n, n - 1))
        if kind == "array" and n > 0:
            size = int(np.prod(adv_shape))
            vals = draw(st.lists(st.integers(-n, n - 1), min_size=size, max_size=size))
            return np.array(vals, dtype=np.int64).reshape(adv_shape)
        if kind == "mask":
            return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        step = draw(st.sampled_from([None, 1, 2, 3, -1, -2, -3]))
        lo = draw(st.none() | st.integers(-n - 2, n + 2))
        hi = draw(st.none() | st.integers(-n - 2, n + 2))
        return slice(lo, hi, step)

    parts = [part(shape[d]) for d in range(k1)]
    if ellipsis:
        parts.append(Ellipsis)
        parts += [part(shape[d]) for d in range(nd - k2, nd)]
    for _ in range(draw(st.integers(0, 2))):  # sprinkle None (and sometimes a bool scalar)
        parts.insert(draw(st.integers(0, len(parts))), draw(st.sampled_from([None, None, True, False])))
    return a, tuple(parts)


@settings(max_examples=300, deadline=None)
@given(index_expr())
def test_property_getitem_setitem_vs_numpy(case):
    a, key = case
    try:
        expected = a[key]
    except IndexError:
        with pytest.raises(IndexError):
            T(a)[key]
        return
    got = T(a)[key]
    assert got.shape == expected.shape, key
    np.testing.assert_array_equal(got.numpy(), expected)
    # setitem with a distinct value per position (scalar when duplicates could make it ambiguous)
    b = a.copy()
    t = T(b)
    value = -1.0 - np.arange(expected.size, dtype=np.float64).reshape(expected.shape)
    b[key] = value
    t[key] = T(value)
    np.testing.assert_array_equal(t.numpy(), b)


# ---- indexing functions ------------------------------------------------------------------------
def np_gather(a, dim, idx):
    return np.take_along_axis(a, idx, axis=dim)


def test_gather_matches_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 5))
    for dim in range(-3, 3):
        shape = list(a.shape)
        shape[dim] = 6
        idx = rng.integers(0, a.shape[dim], size=shape)
        np.testing.assert_array_equal(tgx.gather(T(a), dim, T(idx)).numpy(), np_gather(a, dim, idx))
    # index smaller than input in the other dims (PyTorch allows it)
    idx = np.array([[0, 2], [1, 1]])
    got = T(a[0]).gather(1, T(idx)).numpy()
    np.testing.assert_array_equal(got, np.take_along_axis(a[0][:2, :], idx, axis=1))
    # non-contiguous and flipped input / index, all dtypes
    for dt in [np.bool_, np.uint8, np.int32, np.int64, np.float32, np.float64]:
        b = (np.arange(20).reshape(4, 5) % 7).astype(dt)
        tb = T(b)[::-1]  # negative-stride input
        ref = b[::-1]
        idx = np.array([[4, 0, 1], [3, 3, 3], [0, 1, 2], [2, 2, 0]])
        np.testing.assert_array_equal(tb.gather(1, T(idx)[:, ::-1]).numpy(),
                                      np.take_along_axis(ref, idx[:, ::-1], axis=1))
    # 0-d and empty
    assert tgx.gather(T(np.array(3.0)), 0, T(np.array(0))).shape == ()
    assert tgx.gather(T(a), 1, T(np.zeros((3, 0, 5), np.int64))).shape == (3, 0, 5)


def test_transposed_inputs():
    a = np.arange(30.0).reshape(5, 6)
    t = T(a).T  # a transposed view
    at = a.T
    for key in [(slice(None), [4, 0]), ([5, 0, 2],), (slice(None, None, -2), 1), at > 10, (None, [1], 2)]:
        np.testing.assert_array_equal(t[key].numpy(), at[key])
    idx = np.array([[0, 4], [3, 3], [1, 0], [2, 2], [4, 1], [0, 0]])
    np.testing.assert_array_equal(t.gather(1, T(idx)).numpy(), np.take_along_axis(at, idx, axis=1))
    np.testing.assert_array_equal(t.gather(1, T(idx.T.copy()).T).numpy(), np.take_along_axis(at, idx, axis=1))
    np.testing.assert_array_equal(t.index_select(0, T([5, 1])).numpy(), at[[5, 1]])
    np.testing.assert_array_equal(t.take(T([1, 7])).numpy(), at.ravel()[[1, 7]])
    np.testing.assert_array_equal(t.nonzero().numpy(), np.argwhere(at))
    base = T(np.zeros((5, 6)))
    v = base.T
    v[[1, 2], ::2] = -1.0
    ref = np.zeros((5, 6))
    ref.T[[1, 2], ::2] = -1.0
    np.testing.assert_array_equal(base.numpy(), ref)
    base.T.scatter_(1, T([[0, 4]]), 7.0)
    ref.T[0, [0, 4]] = 7.0
    np.testing.assert_array_equal(base.numpy(), ref)


def test_gather_large_parallel():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((300, 400)).astype(np.float32)
    idx = rng.integers(0, 400, size=(300, 500))
    np.testing.assert_array_equal(tgx.gather(T(a), 1, T(idx)).numpy(), np_gather(a, 1, idx))
    key = rng.integers(-300, 300, size=2000)
    np.testing.assert_array_equal(T(a)[key].numpy(), a[key])


def test_gather_errors():
    a = T(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"\[gather\].*int64.*int32"):
        tgx.gather(a, 1, T(np.zeros((2, 1), np.int32)))
    with pytest.raises(IndexError, match=r"\[gather\] index 3 is out of bounds for dimension 1 with size 3"):
        tgx.gather(a, 1, T([[0], [3]]))
    with pytest.raises(IndexError, match=r"\[gather\] index -1 is out of bounds"):
        tgx.gather(a, 1, T([[0], [-1]]))
    with pytest.raises(IndexError, match="dimension out of range"):
        tgx.gather(a, 2, T([[0]]))
    with pytest.raises(ValueError, match="same number of dimensions"):
        tgx.gather(a, 1, T([0]))
    with pytest.raises(ValueError, match="exceeds"):
        tgx.gather(a, 1, T([[0], [0], [0]]))
    with pytest.raises(TypeError):
        tgx.gather(None, 0, T([0]))


def np_scatter(a, dim, idx, src, reduce=None):
    out = a.copy()
    for pos in np.ndindex(*idx.shape):
        tgt = list(pos)
        tgt[dim] = idx[pos]
        v = src[pos] if np.ndim(src) else src
        if reduce == "add":
            out[tuple(tgt)] += v
        elif reduce == "multiply":
            out[tuple(tgt)] *= v
        else:
            out[tuple(tgt)] = v
    return out


def test_scatter_family_matches_reference():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 5))
    src = rng.standard_normal((3, 5))
    for dim in (0, 1, -1):
        # no duplicate targets, so plain scatter has one right answer
        if dim == 0:
            idx = np.argsort(rng.random((4, 5)), axis=0)[:3]
        else:
            idx = np.stack([rng.permutation(a.shape[dim])[:3] for _ in range(3)])
        s = src[:, :3] if dim != 0 else src
        np.testing.assert_allclose(tgx.scatter(T(a), dim, T(idx), T(s)).numpy(), np_scatter(a, dim % 2, idx, s))
        for red in ("add", "multiply"):
            np.testing.assert_allclose(tgx.scatter(T(a), dim, T(idx), T(s), reduce=red).numpy(),
                                       np_scatter(a, dim % 2, idx, s, red))
    # duplicates accumulate with scatter_add
    idx = np.array([[0, 1, 0, 3, 3], [0, 0, 0, 0, 0]])
    src2 = np.ones((2, 5))
    np.testing.assert_allclose(tgx.scatter_add(T(a), 0, T(idx), T(src2)).numpy(),
                               np_scatter(a, 0, idx, src2, "add"))
    t = T(a)
    v0 = t._version
    r = t.scatter_add_(0, T(idx), T(src2))
    assert r is t and t._version > v0
    np.testing.assert_allclose(t.numpy(), np_scatter(a, 0, idx, src2, "add"))
    # value form, positional number and keyword
    np.testing.assert_allclose(tgx.scatter(T(a), 1, T(idx), 2.5).numpy(), np_scatter(a, 1, idx, 2.5))
    np.testing.assert_allclose(T(a).scatter(1, T(idx), value=-1.0).numpy(), np_scatter(a, 1, idx, -1.0))
    t = T(a)
    t.scatter_(1, T(idx), 7.0, reduce="add")
    np.testing.assert_allclose(t.numpy(), np_scatter(a, 1, idx, 7.0, "add"))
    # out-of-place does not modify the input
    t = T(a)
    tgx.scatter(t, 0, T(idx), T(src2))
    np.testing.assert_array_equal(t.numpy(), a)


def test_scatter_errors():
    a = T(np.zeros((2, 3)))
    with pytest.raises(IndexError, match=r"\[scatter_\] index 5 is out of bounds for dimension 1 with size 3"):
        a.scatter_(1, T([[5]]), T([[1.0]]))
    np.testing.assert_array_equal(a.numpy(), np.zeros((2, 3)))
    with pytest.raises(TypeError, match="int64"):
        a.scatter_(1, T(np.array([[0]], np.int32)), T([[1.0]]))
    with pytest.raises(TypeError, match="dtype"):
        a.scatter_(1, T([[0]]), T(np.array([[1.0]], np.float32)))
    with pytest.raises(ValueError, match="reduce"):
        a.scatter_(1, T([[0]]), T([[1.0]]), reduce="max")
    with pytest.raises(ValueError, match="exceeds"):
        a.scatter_(1, T([[0, 1]]), T([[1.0]]))


def test_index_select_add_copy_fill():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5))
    idx = np.array([3, 0, 3])
    for dim in (0, 1, -1):
        np.testing.assert_array_equal(tgx.index_select(T(a), dim, T(idx)).numpy(), np.take(a, idx, axis=dim))
        np.testing.assert_array_equal(
            T(a).index_select(dim, T(idx.astype(np.int32))).numpy(), np.take(a, idx, axis=dim))
    np.testing.assert_array_equal(T(a)[::-1, ::2].index_select(1, T([2, 0])).numpy(), a[::-1, ::2][:, [2, 0]])
    assert tgx.index_select(T(np.array(2.0)), 0, T([0])).shape == ()
    # index_add with duplicates and alpha
    src = rng.standard_normal((3, 5))
    ref = a.copy()
    np.add.at(ref, idx, 2.0 * src)
    np.testing.assert_allclose(tgx.index_add(T(a), 0, T(idx), T(src), alpha=2.0).numpy(), ref)
    t = T(a)
    t.index_add_(0, T(idx), T(src))
    ref = a.copy()
    np.add.at(ref, idx, src)
    np.testing.assert_allclose(t.numpy(), ref)
    # index_copy / index_fill
    ref = a.copy()
    src2 = rng.standard_normal((4, 2))
    ref[:, [4, 1]] = src2
    t = T(a)
    t.index_copy_(1, T([4, 1]), T(src2))
    np.testing.assert_array_equal(t.numpy(), ref)
    np.testing.assert_array_equal(tgx.index_copy(T(a), 1, T([4, 1]), T(src2)).numpy(), ref)
    ref = a.copy()
    ref[[0, 2]] = -3.0
    np.testing.assert_array_equal(T(a).index_fill_(0, T([0, 2]), -3.0).numpy(), ref)
    np.testing.assert_array_equal(tgx.index_fill(T(a), 0, T([0, 2]), T(np.array(-3.0))).numpy(), ref)
    # errors
    with pytest.raises(IndexError, match=r"\[index_select\] index 4 is out of bounds for dimension 0 with size 4"):
        tgx.index_select(T(a), 0, T([4]))
    with pytest.raises(IndexError, match="vector"):
        tgx.index_select(T(a), 0, T([[0]]))
    with pytest.raises(TypeError, match="int32 or int64"):
        tgx.index_select(T(a), 0, T([0.0]))
    with pytest.raises(ValueError, match="source of shape"):
        T(a).index_add_(0, T([0]), T(np.ones((2, 5))))
    with pytest.raises(TypeError, match="same dtype"):
        T(a).index_add_(0, T([0]), T(np.ones((1, 5), np.float32)))


def test_masked_fill_select_scatter():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 4))
    mask = a > 0
    ref = np.where(mask, 9.0, a)
    np.testing.assert_array_equal(tgx.masked_fill(T(a), T(mask), 9.0).numpy(), ref)
    t = T(a)
    v0 = t._version
    t.masked_fill_(T(mask), 9.0)
    np.testing.assert_array_equal(t.numpy(), ref)
    assert t._version > v0
    # broadcasting mask, int tensor with float value (cast), 0-d tensor value
    row = np.array([True, False, True, False])
    np.testing.assert_array_equal(T(a).masked_fill(T(row), T(np.array(0.5))).numpy(), np.where(row, 0.5, a))
    ai = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(T(ai).masked_fill(T(row), 2.7).numpy(), np.where(row, 2, ai))
    # masked_select broadcasts both ways
    np.testing.assert_array_equal(tgx.masked_select(T(a), T(mask)).numpy(), a[mask])
    np.testing.assert_array_equal(T(a).masked_select(T(row)).numpy(), a[np.broadcast_to(row, a.shape)])
    col = T(np.array([[1.0], [2.0], [3.0]]))
    np.testing.assert_array_equal(col.masked_select(T(mask)).numpy(),
                                  np.broadcast_to([[1.0], [2.0], [3.0]], (3, 4))[mask])
    assert tgx.masked_select(T(np.array(1.0)), T(np.array(True))).shape == (1,)
    # masked_scatter
    src = np.arange(100.0, 112.0).reshape(3, 4)
    ref = a.copy()
    ref[mask] = src.ravel()[: mask.sum()]
    t = T(a)
    t.masked_scatter_(T(mask), T(src))
    np.testing.assert_array_equal(t.numpy(), ref)
    src2 = np.arange(100.0, 124.0)
    ref = a.copy()
    ref[mask] = src2[::2][: mask.sum()]
    t = T(a)
    t.masked_scatter_(T(mask), T(src2)[::2])  # strided source
    np.testing.assert_array_equal(t.numpy(), ref)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        T(a).masked_fill_(T(np.ones((2, 4), bool)), 1.0)
    with pytest.raises(TypeError, match="bool mask"):
        T(a).masked_fill_(T(np.ones((3, 4), np.int64)), 1.0)
    with pytest.raises(ValueError, match="source has"):
        T(a).masked_scatter_(T(np.ones((3, 4), bool)), T(np.ones(3)))


def test_take_take_along_dim_put():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 4))
    idx = np.array([[0, -1], [11, 5]])
    np.testing.assert_array_equal(tgx.take(T(a), T(idx)).numpy(), np.take(a, idx))
    np.testing.assert_array_equal(T(a)[:, ::-1].take(T(idx)).numpy(), np.take(a[:, ::-1], idx))
    with pytest.raises(IndexError, match=r"\[take\] index 12 is out of bounds"):
        tgx.take(T(a), T([12]))
    ind = np.argsort(a, axis=1)
    np.testing.assert_array_equal(tgx.take_along_dim(T(a), T(ind), dim=1).numpy(),
                                  np.take_along_axis(a, ind, axis=1))
    np.testing.assert_array_equal(tgx.take_along_dim(T(a), T(np.array([[0, 2]])), 1).numpy(),
                                  np.take_along_axis(a, np.array([[0, 2]] * 3), axis=1))  # broadcast
    np.testing.assert_array_equal(T(a).take_along_dim(T(np.array([5, 0]))).numpy(), a.ravel()[[5, 0]])
    # put_
    t = T(a)
    t.put_(T([0, 5, 0]), T([1.0, 2.0, 3.0]))
    ref = a.copy().ravel()
    ref[[0, 5, 0]] = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(t.numpy().ravel(), ref)
    t = T(a)
    t.put_(T([0, 5, 0]), T([1.0, 2.0, 3.0]), accumulate=True)
    ref = a.copy().ravel()
    np.add.at(ref, [0, 5, 0], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(t.numpy().ravel(), ref)
    base = T(np.zeros((4, 3)))
    v = base[::-1]  # non-contiguous target
    v.put_(T([0, 4]), T([1.0, 2.0]))
    ref = np.zeros((4, 3))
    rv = ref[::-1]
    rv[0, 0], rv[1, 1] = 1.0, 2.0
    np.testing.assert_array_equal(base.numpy(), ref)


def test_nonzero_argwhere_count():
    a = np.array([[0, 1, 0], [2, 0, 3]])
    np.testing.assert_array_equal(tgx.nonzero(T(a)).numpy(), np.argwhere(a))
    assert tgx.nonzero(T(a)).dtype is tgx.int64
    np.testing.assert_array_equal(T(a).argwhere().numpy(), np.argwhere(a))
    for got, exp in zip(T(a).nonzero(as_tuple=True), np.nonzero(a)):
        np.testing.assert_array_equal(got.numpy(), exp)
    for dt in [np.bool_, np.uint8, np.int32, np.float32, np.float64]:
        b = a.astype(dt)[:, ::-1]
        np.testing.assert_array_equal(T(a.astype(dt))[:, ::-1].nonzero().numpy(), np.argwhere(b))
    assert tgx.nonzero(T(np.zeros((0, 3)))).shape == (0, 2)
    assert tgx.nonzero(T(np.array(5))).shape == (1, 0)
    assert tgx.count_nonzero(T(a)).item() == 3
    np.testing.assert_array_equal(tgx.count_nonzero(T(a), dim=0).numpy(), np.count_nonzero(a, axis=0))
    np.testing.assert_array_equal(T(a).count_nonzero(dim=(0, 1)).numpy(), 3)
    np.testing.assert_array_equal(T(a)[::-1].count_nonzero(-1).numpy(), np.count_nonzero(a[::-1], axis=-1))


def test_one_hot():
    x = np.array([[0, 2], [1, 0]])
    ref = np.eye(3, dtype=np.int64)[x]
    np.testing.assert_array_equal(tgx.one_hot(T(x)).numpy(), ref)
    np.testing.assert_array_equal(tgx.one_hot(T(x), num_classes=5).numpy(), np.eye(5, dtype=np.int64)[x])
    assert tgx.one_hot(T(x)).dtype is tgx.int64
    assert tgx.one_hot(T(np.zeros(0, np.int64)), 4).shape == (0, 4)
    with pytest.raises(ValueError, match="num_classes"):
        tgx.one_hot(T(x), 2)
    with pytest.raises(ValueError, match="non-negative"):
        tgx.one_hot(T([-1]))
    with pytest.raises(TypeError, match="int64"):
        tgx.one_hot(T([0.0]))


def test_searchsorted_bucketize():
    seq = np.array([1.0, 3.0, 5.0, 7.0, 9.0])
    vals = np.array([[3.0, 6.0, 9.0], [0.0, 10.0, 5.0]])
    for side in ("left", "right"):
        np.testing.assert_array_equal(
            tgx.searchsorted(T(seq), T(vals), side=side).numpy(), np.searchsorted(seq, vals, side=side))
    np.testing.assert_array_equal(tgx.searchsorted(T(seq), T(vals), right=True).numpy(),
                                  np.searchsorted(seq, vals, side="right"))
    out = tgx.searchsorted(T(seq), T(vals), out_int32=True)
    assert out.dtype is tgx.int32
    # N-d: one sorted row per row of values
    seq2 = np.array([[1, 3, 5], [2, 4, 6]])
    vals2 = np.array([[3, 6], [1, 4]])
    exp = np.stack([np.searchsorted(seq2[i], vals2[i]) for i in range(2)])
    np.testing.assert_array_equal(tgx.searchsorted(T(seq2), T(vals2)).numpy(), exp)
    assert tgx.searchsorted(T(seq), 4.0).item() == 2
    np.testing.assert_array_equal(tgx.bucketize(T(vals), T(seq)).numpy(), np.searchsorted(seq, vals))
    np.testing.assert_array_equal(tgx.bucketize(T(vals), T(seq), right=True).numpy(),
                                  np.searchsorted(seq, vals, side="right"))
    with pytest.raises(ValueError, match="boundaries"):
        tgx.bucketize(T(vals), T(seq2))
    with pytest.raises(ValueError, match="first N-1 dimensions"):
        tgx.searchsorted(T(seq2), T(np.zeros((3, 2))))


def test_against_torch_when_available():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 4, 5))
    idx = rng.integers(0, 4, size=(3, 2, 5))
    np.testing.assert_array_equal(tgx.gather(T(a), 1, T(idx)).numpy(),
                                  torch.gather(torch.tensor(a), 1, torch.tensor(idx)).numpy())
    src = rng.standard_normal((3, 2, 5))
    np.testing.assert_allclose(tgx.scatter_add(T(a), 1, T(idx), T(src)).numpy(),
                               torch.scatter_add(torch.tensor(a), 1, torch.tensor(idx), torch.tensor(src)).numpy())
    m = a > 0.3
    np.testing.assert_array_equal(tgx.masked_select(T(a), T(m)).numpy(),
                                  torch.masked_select(torch.tensor(a), torch.tensor(m)).numpy())
    np.testing.assert_array_equal(tgx.nonzero(T(m)).numpy(), torch.nonzero(torch.tensor(m)).numpy())
    tt = torch.tensor(a)
    np.testing.assert_array_equal(T(a)[1, [0, 2], :].numpy(), tt[1, [0, 2], :].numpy())
