"""Reductions and scans against NumPy (float64 references)."""
import itertools
import math

import numpy as np
import pytest

import tinygrad_ext as tgx
from tinygrad_ext import _C

RNG = np.random.default_rng(0)


def T(a, dtype=None):
    a = np.asarray(a)
    if a.ndim == 0:  # tgx.tensor of a 0-d array is 1-d on this branch: view it as 0-d
        return _C._strided_view(tgx.tensor(a.reshape(1), dtype), (), (), 0)
    return tgx.tensor(a, dtype)


def close(t, ref, rtol=1e-5, atol=1e-6):
    got = t.numpy() if isinstance(t, tgx.Tensor) else np.asarray(t)
    ref = np.asarray(ref)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    np.testing.assert_allclose(got.astype(np.float64), ref.astype(np.float64), rtol=rtol, atol=atol,
                               equal_nan=True)


def strided(a, perm=None, flip=None):
    """A non-contiguous tgx view with the values of np.transpose(a, perm) (optionally flipped)."""
    a = np.ascontiguousarray(a)
    t = tgx.tensor(a)
    shape, strides = list(a.shape), [s // a.itemsize for s in a.strides]
    offset = 0
    if flip is not None:
        offset = (shape[flip] - 1) * strides[flip] if shape[flip] else 0
        strides[flip] = -strides[flip]
        a = np.flip(a, flip)
    if perm is not None:
        shape = [shape[p] for p in perm]
        strides = [strides[p] for p in perm]
        a = np.transpose(a, perm)
    v = _C._strided_view(t, shape, strides, offset)
    assert v.shape == a.shape
    return v, a


def dim_choices(nd):
    yield None
    for d in range(-nd, nd):
        yield d
    for r in range(2, nd + 1):
        yield from itertools.combinations(range(nd), r)


# ---- sum ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (0,), (5,), (3, 4), (2, 3, 4), (2, 0, 3), (1, 7, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_all_dims(shape, keepdim):
    a = RNG.standard_normal(shape)
    t = T(a)
    for d in dim_choices(len(shape)):
        ref = a.sum(axis=d, keepdims=keepdim)
        close(tgx.sum(t, d, keepdim), ref, 1e-12, 1e-12)
        close(t.sum(dim=d, keepdim=keepdim), ref, 1e-12, 1e-12)


def test_sum_dtypes():
    assert T(np.array([1, 2, 3], np.int32)).sum().dtype is tgx.int64
    assert T([True, True, False]).sum().item() == 2
    assert T([True, True, False]).sum().dtype is tgx.int64
    assert T(np.array([200, 100], np.uint8)).sum().item() == 300
    assert T(np.ones(3, np.float32)).sum().dtype is tgx.float32
    assert T(np.ones(3, np.float32)).sum(dtype=tgx.float64).dtype is tgx.float64
    assert T(np.array([1, 2], np.int32)).sum(dtype=tgx.int32).dtype is tgx.int32
    close(T([1.5, 2.5]).sum(dtype=tgx.int64), np.array(3))
    assert tgx.sum(T(np.zeros((0, 3)))).item() == 0
    close(T(np.zeros((0, 3))).sum(0), np.zeros(3))


def test_sum_zero_d_and_dims():
    t = T(np.array(3.0))
    for d in (0, -1, None, (0,), ()):
        assert t.sum(d).shape == ()
        assert t.sum(d).item() == 3.0
    with pytest.raises(IndexError, match=r"\[sum\].*range"):
        t.sum(1)
    t = T(np.ones((2, 3)))
    with pytest.raises(IndexError, match=r"\[sum\] dimension out of range"):
        t.sum(2)
    with pytest.raises(RuntimeError, match=r"\[sum\] dim 1 appears multiple times"):
        t.sum((1, -1))
    with pytest.raises(TypeError):
        tgx.sum(None)
    with pytest.raises(TypeError):
        t.sum(1.5)


@pytest.mark.parametrize("perm,flip", [((1, 0, 2), None), ((2, 0, 1), None), (None, 1), ((2, 1, 0), 0)])
def test_sum_non_contiguous(perm, flip):
    v, a = strided(RNG.standard_normal((3, 5, 70)), perm, flip)
    assert not v.is_contiguous()
    for d in dim_choices(3):
        close(v.sum(d), a.sum(axis=d), 1e-12, 1e-12)
        close(v.sum(d, keepdim=True), a.sum(axis=d, keepdims=True), 1e-12, 1e-12)


def test_sum_float32_accuracy_large():
    x = RNG.random(10**7, dtype=np.float32)
    ref = x.astype(np.float64).sum()
    assert abs(T(x).sum().item() - ref) / ref < 2e-6
    x2 = x.reshape(-1, 8)  # vertical (outer-dim) reduction
    close(T(x2).sum(0), x2.astype(np.float64).sum(0), rtol=2e-6)
    x3 = x.reshape(1000, -1)  # many long rows
    close(T(x3).sum(1), x3.astype(np.float64).sum(1), rtol=2e-6)
    v, a = strided(x.reshape(100, -1), (1, 0))  # strided full reduction
    assert abs(v.sum().item() - ref) / ref < 2e-6


def test_sum_to_shape():
    g = RNG.standard_normal((2, 3, 4))
    close(_C._sum_to_shape(T(g), (3, 1)), g.sum(0).sum(1, keepdims=True))
    close(_C._sum_to_shape(T(g), (1, 4)), g.sum((0, 1))[None, :])
    close(_C._sum_to_shape(T(g), ()), g.sum())
    close(_C._sum_to_shape(T(g), (2, 1, 4)), g.sum(1, keepdims=True))
    t = T(g)
    assert _C._sum_to_shape(t, (2, 3, 4)) is t
    close(t.sum_to_size(1, 3, 1), g.sum((0, 2), keepdims=True))
    with pytest.raises(ValueError, match=r"\[sum_to_shape\]"):
        _C._sum_to_shape(t, (5, 4))
    with pytest.raises(ValueError, match=r"\[sum_to_shape\]"):
        _C._sum_to_shape(t, (1, 2, 3, 4))
