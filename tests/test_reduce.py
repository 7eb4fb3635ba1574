"""Reductions and scans against NumPy (float64 references)."""
import itertools
import math

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext import _C

RNG = np.random.default_rng(0)


def T(a, dtype=None):
    t = tgx.tensor(np.asarray(a), dtype)
    assert t.shape == np.shape(a)
    return t


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


# ---- mean / prod / var / std ---------------------------------------------------------------
SHAPES = [(), (6,), (3, 4), (2, 3, 5), (2, 0, 3)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("shape", SHAPES)
def test_mean_prod_var_std(shape):
    a = RNG.standard_normal(shape) + 0.5
    t = T(a)
    with np.errstate(all="ignore"):
        for d, k in itertools.product(dim_choices(len(shape)), (False, True)):
            close(t.mean(d, k), a.mean(axis=d, keepdims=k), 1e-12, 1e-12)
            n = a.size if d is None else np.prod([a.shape[i] for i in np.atleast_1d(d)]) if a.ndim else 1
            for corr in (0, 1, 2):
                ref = a.var(axis=d, keepdims=k, ddof=corr) if n - corr > 0 else None
                if ref is not None:
                    close(t.var(d, keepdim=k, correction=corr), ref, 1e-10, 1e-12)
                    close(t.std(d, keepdim=k, correction=corr), np.sqrt(ref), 1e-10, 1e-12)
            if d is None or isinstance(d, int):
                close(t.prod(d, k), np.prod(a, axis=d, keepdims=k), 1e-12, 1e-12)


def test_var_std_forms():
    a = RNG.standard_normal((4, 6))
    t = T(a)
    close(t.var(), a.var(ddof=1))
    close(t.var(unbiased=False), a.var())
    close(t.var(False), a.var())  # legacy positional unbiased
    close(tgx.var(t, 1, True, True), a.var(1, ddof=1, keepdims=True))
    close(tgx.std(t, dim=0, correction=0), a.std(0))
    v, m = tgx.var_mean(t, 1)
    close(v, a.var(1, ddof=1)); close(m, a.mean(1))
    s, m = tgx.std_mean(t, (0, 1), keepdim=True, correction=0)
    close(s, a.std(keepdims=True)); close(m, a.mean(keepdims=True))
    assert math.isnan(T([1.0]).var().item())  # N - correction = 0
    assert T([1.0]).var(correction=0).item() == 0
    with pytest.raises(TypeError):
        t.var(unbiased=True, correction=1)
    # two-pass accuracy: a large offset must not destroy the variance
    b = (1e4 + RNG.standard_normal(10**5)).astype(np.float32)
    assert abs(T(b).var().item() - b.astype(np.float64).var(ddof=1)) < 1e-3


def test_mean_prod_dtypes_and_empty():
    i = T(np.arange(1, 7).reshape(2, 3))
    with pytest.raises(TypeError, match=r"\[mean\].*int64"):
        i.mean()
    with pytest.raises(TypeError, match=r"\[var\]"):
        i.var()
    with pytest.raises(TypeError, match=r"\[std\]"):
        tgx.std(T([True, False]))
    close(i.mean(dtype=tgx.float64), 3.5)
    assert i.mean(dtype=tgx.float32).dtype is tgx.float32
    assert i.prod().item() == 720 and i.prod().dtype is tgx.int64
    assert T([True, True]).prod().dtype is tgx.int64
    close(i.prod(1), [6, 120])
    close(i.prod(1, dtype=tgx.float64), [6.0, 120.0])
    assert math.isnan(T(np.zeros(0)).mean().item())
    assert T(np.zeros(0)).prod().item() == 1
    close(T(np.zeros((0, 2))).mean(0), [np.nan, np.nan])
    assert T(np.zeros((2, 0))).mean(0).shape == (0,)


def test_mean_float32_accuracy():
    x = RNG.random(4 * 10**6, dtype=np.float32).reshape(2000, -1)
    close(T(x).mean(0), x.astype(np.float64).mean(0), rtol=1e-5)
    close(T(x).mean(), x.astype(np.float64).mean(), rtol=2e-6)


# ---- max / min / argmax / amax ------------------------------------------------------------
def test_max_min_forms():
    a = RNG.standard_normal((3, 4, 5))
    t = T(a)
    assert t.max().shape == () and t.max().item() == a.max()
    assert tgx.min(t).item() == a.min()
    r = t.max(1)
    assert isinstance(r, tuple) and type(r).__name__ == "max"
    close(r.values, a.max(1)); close(r.indices, a.argmax(1))
    values, indices = tgx.min(t, dim=-1, keepdim=True)
    close(values, a.min(-1, keepdims=True)); close(indices, a.argmin(-1)[..., None])
    assert indices.dtype is tgx.int64
    close(tgx.max(t, T(np.zeros(5))), np.maximum(a, 0))
    close(t.min(T(np.zeros(5))), np.minimum(a, 0))
    z = T(np.array(2.5))
    assert z.max(0).values.item() == 2.5 and z.max(-1).indices.item() == 0
    assert z.argmax().item() == 0 and z.argmax(0, keepdim=True).shape == ()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_])
def test_amax_amin_argmax_dtypes(dtype):
    a = (RNG.standard_normal((4, 3, 6)) * 50).astype(dtype)
    t = T(a)
    for d in dim_choices(3):
        for k in (False, True):
            close(t.amax(d if d is not None else (), k), np.amax(a, axis=d, keepdims=k))
            close(tgx.amin(t, d if d is not None else (), k), np.amin(a, axis=d, keepdims=k))
    for d in (None, 0, 1, 2, -1):
        close(t.argmax(d), np.argmax(a, axis=d))
        close(t.argmin(d), np.argmin(a, axis=d))
        close(t.argmax(d, keepdim=True), np.argmax(a, axis=d, keepdims=True))
    assert t.max().dtype is t.dtype


@pytest.mark.parametrize("perm,flip", [((1, 0, 2), None), ((2, 0, 1), None), (None, 2), ((2, 1, 0), 1)])
def test_minmax_non_contiguous(perm, flip):
    v, a = strided(RNG.integers(0, 5, (3, 40, 50)).astype(np.float32), perm, flip)  # many ties
    for d in (None, 0, 1, 2):
        close(v.argmax(d), np.argmax(a, axis=d))
        close(v.argmin(d), np.argmin(a, axis=d))
        if d is not None:
            r = v.max(d)
            close(r.values, a.max(d)); close(r.indices, a.argmax(d))
    for d in dim_choices(3):
        close(v.amax(d if d is not None else ()), a.max(axis=d))


def test_argmax_large_ties_parallel_split():
    a = np.zeros(3 * 10**6, np.float32)
    a[[123456, 2_500_000]] = 7
    assert T(a).argmax().item() == 123456
    assert T(a).argmin().item() == 0
    b = np.zeros((10**6, 3), np.float32)
    b[[5, 900_000], 1] = 1
    close(T(b).argmax(0), [0, 5, 0])


def test_nan_propagation():
    a = np.array([[1.0, np.nan, 3.0, np.nan], [np.inf, 2.0, -np.inf, 0.0]])
    t = T(a)
    assert math.isnan(t.max().item()) and math.isnan(t.min().item())
    close(t.amax(1), [np.nan, np.inf])
    close(t.amin(1), [np.nan, -np.inf])
    close(t.amax(0), np.amax(a, 0))
    assert t.argmax().item() == 1 and t.argmin().item() == 1
    close(t.argmax(1), [1, 0]); close(t.argmin(1), [1, 2])
    r = t.max(0)
    close(r.values, np.amax(a, 0)); close(r.indices, [1, 0, 0, 0])
    big = np.ones(5000, np.float32)
    big[4321] = np.nan
    big[4400] = np.nan
    assert T(big).argmax().item() == 4321 and math.isnan(T(big).max().item())
    col = np.ones((4000, 3))
    col[2500, 1] = np.nan
    close(T(col).argmin(0), [0, 2500, 0])
    v, _ = strided(big.reshape(50, 100), (1, 0))
    assert math.isnan(v.amax().item())
    assert math.isnan(tgx.logsumexp(T(a), 1).numpy()[0])


def test_minmax_empty_errors():
    e = T(np.zeros((2, 0)))
    for fn, name in [(lambda: e.max(), "max"), (lambda: e.min(1), "min"), (lambda: e.argmax(), "argmax"),
                     (lambda: e.amax(1), "amax"), (lambda: tgx.argmin(e, 1), "argmin"),
                     (lambda: e.aminmax(), "aminmax")]:
        with pytest.raises(IndexError, match=rf"\[{name}\].*zero-size"):
            fn()
    assert e.amax(0).shape == (0,)  # nothing reduced over the empty dim
    assert e.max(0).indices.shape == (0,)


def test_aminmax():
    a = RNG.standard_normal((3, 4))
    r = tgx.aminmax(T(a))
    close(r.min, a.min()); close(r.max, a.max())
    mn, mx = T(a).aminmax(dim=1, keepdim=True)
    close(mn, a.min(1, keepdims=True)); close(mx, a.max(1, keepdims=True))


# ---- all / any ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.bool_, np.float32, np.int64, np.uint8])
def test_all_any(dtype):
    a = (RNG.random((3, 4, 5)) > 0.2).astype(dtype)
    t = T(a)
    for d in dim_choices(3):
        for k in (False, True):
            got = t.all(d, k)
            assert got.dtype is tgx.bool
            close(got, np.all(a, axis=d, keepdims=k))
            close(tgx.any(t, d, k), np.any(a, axis=d, keepdims=k))
    assert T(np.zeros(0)).all().item() is True
    assert T(np.zeros(0)).any().item() is False
    close(T(np.zeros((2, 0))).all(1), [True, True])
    assert T([np.nan]).all().item() is True  # nan is non-zero


# ---- logsumexp / softmax -----------------------------------------------------------------
def np_logsumexp(a, axis=None, keepdims=False):
    m = np.amax(a, axis=axis, keepdims=True)
    m = np.where(np.isinf(m), 0, m)
    r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis) if axis is not None else r.reshape(())


def test_logsumexp():
    a = RNG.standard_normal((3, 4, 5)) * 10
    t = T(a)
    for d in dim_choices(3):
        close(t.logsumexp(d), np_logsumexp(a, d), 1e-12)
        close(tgx.logsumexp(t, d, True), np_logsumexp(a, d, True), 1e-12)
    big = np.array([[1000.0, 1000.0], [-1000.0, -1e30], [-np.inf, -np.inf]], np.float32)
    close(T(big).logsumexp(1), [1000 + np.log(2), -1000, -np.inf])
    assert T([np.inf, 1.0]).logsumexp(0).item() == np.inf
    assert T(np.zeros((0, 2))).logsumexp(0).numpy().tolist() == [-np.inf, -np.inf]
    assert T([1, 2]).logsumexp(0).dtype is tgx.float32  # ints compute in float


def np_softmax(a, axis):
    if a.size == 0:
        return a
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("shape", [(), (7,), (3, 50), (2, 3, 40), (4, 0), (5, 1)])
def test_softmax_log_softmax(shape):
    a = RNG.standard_normal(shape) * 5
    t = T(a)
    for d in range(-max(len(shape), 1), max(len(shape), 1)):
        ax = d if a.ndim else None
        close(t.softmax(d), np_softmax(a, ax), 1e-12, 1e-14)
        close(tgx.log_softmax(t, d), np.log(np_softmax(a, ax)) if a.size else a, 1e-10, 1e-12)


def test_softmax_stable_dtype_nan():
    a = np.array([[1000.0, 1001.0, 999.0], [-1e4, -1e4, -1e4]], np.float32)
    close(T(a).softmax(1), np_softmax(a.astype(np.float64), 1), 1e-5)
    close(T(a).log_softmax(-1), np.log(np_softmax(a.astype(np.float64), 1)), 1e-5, 1e-4)
    close(T(a).softmax(0), np_softmax(a.astype(np.float64), 0), 1e-5)
    i = T(np.arange(6).reshape(2, 3))
    with pytest.raises(TypeError, match=r"\[softmax\]"):
        i.softmax(1)
    with pytest.raises(TypeError, match=r"\[log_softmax\]"):
        tgx.log_softmax(i, 0)
    got = tgx.softmax(i, 1, dtype=tgx.float64)
    assert got.dtype is tgx.float64
    close(got, np_softmax(np.arange(6.0).reshape(2, 3), 1))
    close(T(a).softmax(1, tgx.float64), np_softmax(a.astype(np.float64), 1))
    n = T([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0]]).softmax(1).numpy()
    assert np.isnan(n[0]).all() and not np.isnan(n[1]).any()
    with pytest.raises(IndexError, match=r"\[softmax\]"):
        T(a).softmax(2)
    v, b = strided(RNG.standard_normal((4, 6, 5)), (2, 0, 1))
    for d in range(3):
        close(v.softmax(d), np_softmax(b, d))
        close(v.log_softmax(d), np.log(np_softmax(b, d)))


# ---- scans -------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (6,), (3, 4), (2, 3, 4), (3, 0)])
def test_cumsum_cumprod(shape):
    a = RNG.standard_normal(shape)
    t = T(a)
    for d in range(-max(len(shape), 1), max(len(shape), 1)):
        ax = d if a.ndim else None
        close(t.cumsum(d), np.cumsum(a, axis=ax).reshape(a.shape), 1e-12, 1e-12)
        close(tgx.cumprod(t, d), np.cumprod(a, axis=ax).reshape(a.shape), 1e-12, 1e-12)


def test_scan_dtypes_and_strides():
    i = T(np.array([[1, 2, 3], [4, 5, 6]], np.int32))
    assert i.cumsum(1).dtype is tgx.int64
    close(i.cumsum(0), [[1, 2, 3], [5, 7, 9]])
    close(i.cumprod(1), [[1, 2, 6], [4, 20, 120]])
    assert T([True, True]).cumsum(0).dtype is tgx.int64
    got = i.cumsum(1, dtype=tgx.float32)
    assert got.dtype is tgx.float32
    close(got, [[1, 3, 6], [4, 9, 15]])
    v, a = strided(RNG.standard_normal((5, 6, 7)), (2, 1, 0), 1)
    for d in range(3):
        close(v.cumsum(d), np.cumsum(a, d))
    with pytest.raises(IndexError, match=r"\[cumsum\]"):
        i.cumsum(2)
    with pytest.raises(TypeError):
        i.cumsum()
    x = RNG.random(10**6).astype(np.float32)
    close(T(x).cumsum(0).numpy()[-1], x.astype(np.float64).sum(), rtol=1e-6)


# ---- norm --------------------------------------------------------------------------------
@pytest.mark.parametrize("p", ["fro", 1, 2, 3, 0.5, 0, math.inf, -math.inf])
def test_norm(p):
    a = RNG.standard_normal((3, 4, 5))
    a[0, 0, 0] = 0
    t = T(a)
    pn = 2 if p == "fro" else p

    def ref(axis, keepdims=False):
        x = np.abs(a)
        if pn == math.inf:
            return x.max(axis=axis, keepdims=keepdims)
        if pn == -math.inf:
            return x.min(axis=axis, keepdims=keepdims)
        if pn == 0:
            return (x != 0).sum(axis=axis, keepdims=keepdims).astype(np.float64)
        return (x ** pn).sum(axis=axis, keepdims=keepdims) ** (1 / pn)

    for d in dim_choices(3):
        close(t.norm(p, d), ref(d), 1e-10)
        close(tgx.norm(t, p, d, True), ref(d, True), 1e-10)
    assert tgx.norm(T(a.astype(np.float32))).dtype is tgx.float32


def test_norm_errors_and_empty():
    with pytest.raises(TypeError, match=r"\[norm\]"):
        T([1, 2]).norm()
    close(T([3, 4]).norm(dtype=tgx.float64), 5.0)
    with pytest.raises(NotImplementedError):
        T([1.0]).norm("nuc")
    with pytest.raises(ValueError, match=r"\[norm\]"):
        T([1.0]).norm("bad")
    assert T(np.zeros(0)).norm().item() == 0
    with pytest.raises(IndexError, match=r"\[norm\]"):
        T(np.zeros(0)).norm(math.inf)


# ---- optional oracle ---------------------------------------------------------------------
def test_against_torch():
    torch = pytest.importorskip("torch")
    a = RNG.standard_normal((4, 5, 6)).astype(np.float32)
    ta, ha = torch.tensor(a), T(a)
    cases = [
        lambda m, x: m.sum(x, (0, 2), keepdim=True),
        lambda m, x: x.var(1, correction=0),
        lambda m, x: x.std(),
        lambda m, x: m.logsumexp(x, 2),
        lambda m, x: m.softmax(x, 0),
        lambda m, x: m.log_softmax(x, -1),
        lambda m, x: x.cumsum(1),
        lambda m, x: x.cumprod(2),
        lambda m, x: x.max(1).values,
        lambda m, x: x.min(2).indices,
        lambda m, x: x.argmax(),
        lambda m, x: x.amax((0, 1)),
        lambda m, x: x.norm(3, 1),
        lambda m, x: x.prod(0),
        lambda m, x: m.var_mean(x, 1)[0],
    ]
    for f in cases:
        np.testing.assert_allclose(f(tgx, ha).numpy(), f(torch, ta).numpy(), rtol=1e-5, atol=1e-6)


def test_softmax_float32_vector_path():
    a = (RNG.standard_normal((3, 37, 45)) * 30).astype(np.float32)
    a[0, :, 5] = -np.inf  # masked positions must be exactly 0
    a[1, 3, :] = -np.inf
    ref64 = a.astype(np.float64)
    for d in (0, 1, 2):
        with np.errstate(invalid="ignore"):
            ref = np_softmax(ref64, d)
        got = T(a).softmax(d).numpy()
        close(got, ref, 1e-5, 1e-7)
        assert (got[np.isneginf(a) & ~np.isnan(ref)] == 0).all()
        with np.errstate(invalid="ignore", divide="ignore"):
            close(T(a).log_softmax(d), np.log(ref), 1e-5, 1e-5)


def test_broadcast_stride0_inputs():
    base = T(RNG.standard_normal(40))
    a = base.numpy()
    v = _C._strided_view(base, (30, 40), (0, 1), 0)  # rows repeat (expand)
    w = _C._strided_view(base, (40, 30), (1, 0), 0)  # columns repeat
    full_v, full_w = np.broadcast_to(a, (30, 40)), np.broadcast_to(a[:, None], (40, 30))
    for d in (None, 0, 1, (0, 1)):
        close(v.sum(d), full_v.sum(axis=d), 1e-12, 1e-12)
        close(w.sum(d), full_w.sum(axis=d), 1e-12, 1e-12)
        close(w.amax(d if d is not None else ()), full_w.max(axis=d))
        close(v.var(d), full_v.var(axis=d, ddof=1), 1e-10, 1e-12)
    close(v.argmax(0), np.zeros(40))
    close(w.argmin(), np.argmin(full_w))
    close(v.softmax(1), np_softmax(full_v, 1))
    close(w.cumsum(1), np.cumsum(full_w, 1))


def test_integer_sum_wraps_and_many_dims():
    big = T(np.array([2**62, 2**62, 2**62], np.int64))
    assert big.sum().item() == -(2**62)  # two's complement wrap, as PyTorch
    a = RNG.standard_normal((2,) * 12)
    close(T(a).sum((1, 3, 5, 7, 9, 11)), a.sum(axis=(1, 3, 5, 7, 9, 11)), 1e-12, 1e-12)
    close(T(a).amax((0, 2, 4)), a.max(axis=(0, 2, 4)))


def test_views_from_shape_ops():
    a = RNG.standard_normal((4, 6, 5))
    t = T(a)
    if not hasattr(t, "permute") or not hasattr(tgx, "flip"):
        pytest.skip("shape ops not available")
    p = t.permute(2, 0, 1)
    assert not p.is_contiguous()
    b = a.transpose(2, 0, 1)
    for d in (None, 0, 1, 2, (0, 2)):
        close(p.sum(d), b.sum(axis=d), 1e-12, 1e-12)
        close(p.amax(d if d is not None else ()), b.max(axis=d))
    close(p.argmax(), np.argmax(b))
    close(p.argmin(1), np.argmin(b, 1))
    close(t.T.softmax(0), np_softmax(a.T, 0))
    close(t.T.cumsum(2), np.cumsum(a.T, 2))
