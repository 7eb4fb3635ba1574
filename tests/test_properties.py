"""Property tests (hypothesis): broadcasting vs NumPy over random shapes and dtypes; reshape /
permute round trips and indexing vs NumPy once those ops exist."""

from __future__ import annotations

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
import tinygrad_ext as tgx  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
# op name -> (NumPy reference, dtypes it takes, whether the second operand may be zero)
BINARY = {
    "add": (np.add, DTYPES),
    "mul": (np.multiply, DTYPES),
    "sub": (np.subtract, DTYPES[1:]),
    "maximum": (np.maximum, DTYPES),
    "minimum": (np.minimum, DTYPES),
    "eq": (np.equal, DTYPES),
    "lt": (np.less, DTYPES),
    "ge": (np.greater_equal, DTYPES),
    "logical_xor": (np.logical_xor, DTYPES),
    "bitwise_or": (np.bitwise_or, DTYPES[:4]),
}


def arrays(dtype, shape):
    if dtype == "bool":
        elements = st.booleans()
    elif dtype.startswith("float"):
        elements = st.floats(-1e3, 1e3, width=32 if dtype == "float32" else 64)
    else:
        lo = 0 if dtype == "uint8" else -1000
        elements = st.integers(lo, 100)
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast (including size-0 and size-1 dims), and random data."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                    min_side=0, max_side=4))
    dtype = draw(st.sampled_from(DTYPES))
    a = draw(arrays(dtype, shapes.input_shapes[0]))
    b = draw(arrays(dtype, shapes.input_shapes[1]))
    return a, b, shapes.result_shape


def _check(got, want):
    got = np.asarray(got.numpy())
    assert got.shape == want.shape
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, want.astype(got.dtype), rtol=1e-6, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want.astype(got.dtype))


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=broadcast_pair())
def test_binary_broadcasting_matches_numpy(name, data):
    a, b, shape = data
    ref, dtypes = BINARY[name]
    if a.dtype.name not in dtypes:
        with pytest.raises((TypeError, NotImplementedError)):
            getattr(tgx, name)(tgx.tensor(a), tgx.tensor(b))
        return
    out = getattr(tgx, name)(tgx.tensor(a), tgx.tensor(b))
    assert out.shape == shape
    with np.errstate(all="ignore"):
        _check(out, ref(a, b))


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4))
def test_broadcast_result_shape_agrees_with_numpy(shapes):
    a = tgx.tensor(np.zeros(shapes.input_shapes[0], np.float32))
    b = tgx.tensor(np.zeros(shapes.input_shapes[1], np.float32))
    assert (a + b).shape == shapes.result_shape
    assert (b * a).shape == shapes.result_shape


@given(s1=hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=5),
       s2=hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=5))
def test_incompatible_shapes_raise_value_error(s1, s2):
    try:
        np.broadcast_shapes(s1, s2)
        compatible = True
    except ValueError:
        compatible = False
    a, b = tgx.tensor(np.ones(s1, np.float32)), tgx.tensor(np.ones(s2, np.float32))
    if compatible:
        assert (a + b).shape == np.broadcast_shapes(s1, s2)
    else:
        with pytest.raises(ValueError, match=r"\[add\]"):
            a + b


# ---- reshape / permute (guarded: they land with the shape ops) -------------------------------
needs_reshape = pytest.mark.skipif(not hasattr(tgx.Tensor, "reshape"), reason="no reshape yet")
needs_permute = pytest.mark.skipif(not hasattr(tgx.Tensor, "permute"), reason="no permute yet")
needs_getitem = pytest.mark.skipif(not hasattr(tgx.Tensor, "__getitem__"), reason="no indexing yet")


@st.composite
def array_and_reshape(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    n = int(np.prod(shape))
    # a random factorisation of n (with one -1 sometimes)
    dims, rest = [], n
    for _ in range(draw(st.integers(0, 3))):
        d = draw(st.sampled_from([d for d in range(1, 6) if rest % d == 0] if rest else [0, 1, 3]))
        dims.append(d)
        rest = rest // d if d else 0
    new = dims + ([rest] if rest != 1 or not dims else [])
    if n and draw(st.booleans()):
        new[draw(st.integers(0, len(new) - 1))] = -1
    x = draw(arrays("float32", shape))
    return x, tuple(new)


@needs_reshape
@given(data=array_and_reshape())
def test_reshape_matches_numpy_and_round_trips(data):
    x, new = data
    try:
        want = x.reshape(new)
    except ValueError:
        with pytest.raises((ValueError, RuntimeError)):
            tgx.tensor(x).reshape(new)
        return
    t = tgx.tensor(x).reshape(new)
    _check(t, want)
    _check(t.reshape(x.shape), x)


@needs_permute
@given(x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=5, min_side=0, max_side=4)),
       data=st.data())
def test_permute_matches_numpy_and_round_trips(x, data):
    perm = data.draw(st.permutations(range(x.ndim)))
    t = tgx.tensor(x).permute(*perm)
    _check(t, np.transpose(x, perm))
    inv = np.argsort(perm)
    _check(t.permute(*inv), x)
    if hasattr(tgx.Tensor, "reshape"):  # reshape of a non-contiguous view copies correctly
        _check(t.reshape(-1), np.transpose(x, perm).reshape(-1))


@needs_getitem
@given(x=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5),
                    elements=st.integers(-100, 100)),
       data=st.data())
def test_basic_indexing_matches_numpy(x, data):
    key = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))
    keys = key if isinstance(key, tuple) else (key,)
    if any(isinstance(k, slice) and (k.step or 1) < 0 for k in keys):
        try:  # PyTorch refuses negative steps (ValueError); NumPy semantics are fine too
            got = tgx.tensor(x)[key]
        except ValueError:
            return
        _check(got, np.asarray(x[key]))
        return
    _check(tgx.tensor(x)[key], np.asarray(x[key]))


@needs_getitem
@given(x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)),
       data=st.data())
def test_integer_array_indexing_matches_numpy(x, data):
    idx = data.draw(hnp.arrays(np.int64, st.integers(0, 6),
                               elements=st.integers(-x.shape[0], x.shape[0] - 1)))
    _check(tgx.tensor(x)[tgx.tensor(idx)], x[idx])
    mask = data.draw(hnp.arrays(np.bool_, x.shape[:1]))
    _check(tgx.tensor(x)[tgx.tensor(mask)], x[mask])
