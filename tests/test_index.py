"""Indexing (getitem/setitem) and the indexing functions, against NumPy (and torch if present)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_ext as tgx


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
    (Ellipsis, True, 0), (np.array([2, 0]),), (np.array([1, 0], dtype=np.int32), np.int64(1)),
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
    np.testing.assert_array_equal(t[T(a[0] > 5)].numpy() if False else t[:, T(a[0, :, 0] > 5)].numpy(),
                                  a[:, a[0, :, 0] > 5])
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
    check_get(np.zeros((3, 0)), (slice(None, None, -1), [[0]] if False else slice(None)))


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
    assert t.numpy()[1, 0] == 7.0 or t.numpy()[1, 0] == 0.0


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
    ((slice(None), slice(None, None, -2)), np.arange(3.0)), ((Ellipsis, 0), np.arange(4.0)),
    ([0, 0, 2], np.arange(60.0).reshape(3, 4, 5)), (([0, 2], [1, 3]), 9.0),
    (([0, 2], slice(None), [1, 3]), np.arange(8.0).reshape(2, 4)),
    ((0, slice(None), [4, 0]), np.arange(8.0).reshape(2, 4)), (True, 3.0),
    (A > 30, -A[A > 30]), ((slice(None), A[0] > 7), 1.0), (([[0], [2]], [1, 3]), np.ones((2, 2))),
    ((None, 1), np.ones((1, 4, 5))), (slice(1, 1), 4.0), ([], 1.0),
    ((1, Ellipsis, [0, 0, 0]), np.array([1.0, 2.0, 3.0])),  # duplicates: last write wins
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
    parts = []
    dims = list(shape)
    adv_shape = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    used_ellipsis = False
    i = 0
    while i < len(dims):
        kind = draw(st.sampled_from(["int", "slice", "none", "array", "mask", "ellipsis", "stop"]))
        n = dims[i]
        if kind == "stop":
            break
        if kind == "int" and n > 0:
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            step = draw(st.sampled_from([None, 1, 2, 3, -1, -2, -3]))
            lo = draw(st.none() | st.integers(-n - 2, n + 2))
            hi = draw(st.none() | st.integers(-n - 2, n + 2))
            parts.append(slice(lo, hi, step))
        elif kind == "none":
            parts.append(None)
            continue
        elif kind == "array" and n > 0:
            vals = draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(adv_shape)),
                                 max_size=int(np.prod(adv_shape))))
            parts.append(np.array(vals, dtype=np.int64).reshape(adv_shape))
        elif kind == "mask":
            parts.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool))
        elif kind == "ellipsis" and not used_ellipsis:
            used_ellipsis = True
            parts.append(Ellipsis)
            skip = draw(st.integers(0, len(dims) - i))
            i += skip
            continue
        else:
            parts.append(slice(None))
        i += 1
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
