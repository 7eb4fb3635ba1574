"""Shape and view ops against NumPy: views share memory, copies don't, errors name the op."""

import numpy as np
import pytest
import tinygrad_ext as tgx

DTYPES = [np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_]


def T(a):
    """A tgx tensor with a's dtype (and its 0-d shape)."""
    a = np.asarray(a)
    return tgx.tensor(a.reshape(-1) if a.ndim == 0 else a).reshape(a.shape)


def arr(shape, dtype=np.float64):
    n = int(np.prod(shape))
    a = np.arange(1, n + 1).reshape(shape)
    return (a % 2 == 0).astype(dtype) if dtype == np.bool_ else a.astype(dtype)


def layouts(a):
    """(name, tensor) pairs holding a's values in different memory layouts."""
    out = [("contiguous", T(a))]
    nd = a.ndim
    if nd >= 2:
        rev = tuple(range(nd))[::-1]
        out.append(("transposed", T(np.ascontiguousarray(a.transpose(rev))).permute(rev)))
    if nd >= 1:
        dims = tuple(range(nd))
        flipped = T(np.ascontiguousarray(np.flip(a)))
        out.append(("negative", tgx._C._flip_view(flipped, dims)))
        wide = T(np.stack([a, np.zeros_like(a)], axis=-1))
        out.append(("strided", wide.select(-1, 0)))
    return out


def check(t, expected):
    got = t.numpy()
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    np.testing.assert_array_equal(got, expected)


def assert_view(base, view):
    """view shares base's memory: writes through the view appear in the base."""
    assert base.dtype is tgx.float64, "use unique float64 values"
    before = base.numpy().copy()
    seen = view.numpy().copy()
    assert np.shares_memory(base.numpy(), view.numpy()) or view.numel() == 0
    view.fill_(-1.0)
    np.testing.assert_array_equal(base.numpy(), np.where(np.isin(before, seen), -1.0, before))


# ---- layouts helper sanity -----------------------------------------------------------------
def test_layouts_have_expected_strides():
    a = arr((2, 3))
    ls = dict(layouts(a))
    assert ls["transposed"].stride() == (1, 2)
    assert ls["negative"].stride() == (-3, -1)
    assert ls["strided"].stride() == (6, 2)
    for t in ls.values():
        check(t, a)


# ---- reshape / view ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,new", [((2, 3), (3, 2)), ((2, 3, 4), (-1, 4)), ((2, 3, 4), (4, -1, 2)),
                                       ((6,), (1, 6, 1)), ((1,), ()), ((0, 3), (3, 0, 5)), ((0, 3), (-1, 3)),
                                       ((2, 3), (-1,))])
def test_reshape_matches_numpy(dtype, shape, new):
    a = arr(shape, dtype)
    for name, t in layouts(a):
        check(t.reshape(new), a.reshape(new))
        check(t.reshape(*new) if new else t.reshape(()), a.reshape(new))
        check(tgx.reshape(t, new), a.reshape(new))


def test_reshape_0d():
    s = T(np.float32(3.5))
    assert s.shape == ()
    check(s.reshape(1, 1), np.full((1, 1), 3.5, np.float32))
    check(s.reshape(-1), np.array([3.5], np.float32))
    check(s.reshape(1).reshape(()), np.array(3.5, np.float32))


def test_reshape_views_when_possible_and_copies_otherwise():
    base = T(arr((4, 6)))
    assert_view(base, base.reshape(2, 12).select(0, 1))
    assert_view(base, base.view(3, 8).narrow(1, 2, 3))
    assert_view(base, base.reshape(-1))
    t = base.t()  # (6, 4), strides (1, 6)
    assert_view(base, t.reshape(3, 2, 4))  # splitting a dim is always a view
    flat = t.reshape(24)  # merging non-contiguous dims must copy
    before = base.numpy().copy()
    flat.fill_(0.0)
    np.testing.assert_array_equal(base.numpy(), before)


def test_view_negative_strides_and_expanded():
    base = T(arr((2, 3, 4)))
    f = tgx._C._flip_view(base, (0, 1, 2))
    v = f.view(6, 4)
    assert v.stride() == (-4, -1)
    check(v, np.flip(arr((2, 3, 4))).reshape(6, 4))
    assert_view(base, v.select(0, 0))
    e = T(arr((3,))).expand(2, 3)
    assert e.view(2, 1, 3).stride() == (0, 3, 1)
    check(e.view(2, 1, 3), np.broadcast_to(arr((3,)), (2, 3)).reshape(2, 1, 3))


def test_view_errors():
    t = T(arr((2, 3)))
    with pytest.raises(ValueError, match=r"\[view\] shape '\[2, 5\]' is invalid for input of size 6"):
        t.view(2, 5)
    with pytest.raises(RuntimeError, match=r"\[view\] view size .* Use \.reshape"):
        t.t().view(6)
    with pytest.raises(ValueError, match=r"only one dimension can be inferred"):
        t.view(-1, -1)
    with pytest.raises(ValueError, match=r"\[reshape\] invalid shape dimension -2"):
        t.reshape(-2, 3)
    with pytest.raises(ValueError, match=r"\[reshape\] shape '\[4\]' is invalid for input of size 6"):
        tgx.reshape(t, (4,))
    with pytest.raises(ValueError, match=r"ambiguous"):
        T(np.zeros((0, 3))).reshape(0, -1)
    with pytest.raises(TypeError, match=r"\[reshape\]"):
        t.reshape(2.0, 3)
    with pytest.raises(TypeError):
        tgx.reshape(None, (2, 3))


def test_view_as_reshape_as():
    base = T(arr((2, 6)))
    other = T(np.zeros((3, 4)))
    check(base.reshape_as(other), arr((2, 6)).reshape(3, 4))
    check(base.t().reshape_as(other), arr((2, 6)).T.reshape(3, 4))
    assert_view(base, base.view_as(other))


# ---- flatten / unflatten -------------------------------------------------------------------
@pytest.mark.parametrize("start,end", [(0, -1), (1, 2), (0, 1), (-2, -1), (1, 1)])
def test_flatten(start, end):
    a = arr((2, 3, 4))
    for name, t in layouts(a):
        s = a.shape
        e = end % 3
        new = s[:start % 3] + (int(np.prod(s[start % 3:e + 1])),) + s[e + 1:]
        check(t.flatten(start, end), a.reshape(new))
        check(tgx.flatten(t, start_dim=start, end_dim=end), a.reshape(new))
    base = T(a)
    assert_view(base, base.flatten(start, end))


def test_flatten_0d_and_errors():
    check(T(np.float64(2.0)).flatten(), np.array([2.0]))
    with pytest.raises(ValueError, match=r"\[flatten\] start_dim"):
        T(arr((2, 3))).flatten(1, 0)
    with pytest.raises(IndexError, match=r"\[flatten\] dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        T(arr((2, 3))).flatten(0, 2)


def test_unflatten():
    a = arr((2, 12))
    for name, t in layouts(a):
        check(t.unflatten(1, (3, -1)), a.reshape(2, 3, 4))
        check(tgx.unflatten(t, -1, (2, 2, 3)), a.reshape(2, 2, 2, 3))
        check(t.unflatten(0, (1, 2)), a.reshape(1, 2, 12))
    base = T(a)
    assert_view(base, base.t().unflatten(0, (4, 3)))
    with pytest.raises(ValueError, match=r"\[unflatten\] provided sizes \(5, -1\)"):
        base.unflatten(1, (5, -1))
    with pytest.raises(IndexError, match=r"\[unflatten\]"):
        base.unflatten(2, (1, 12))


# ---- squeeze / unsqueeze -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_squeeze_unsqueeze(dtype):
    a = arr((1, 3, 1, 2), dtype)
    for name, t in layouts(a):
        check(t.squeeze(), a.squeeze())
        check(tgx.squeeze(t), a.squeeze())
        check(t.squeeze(0), a.squeeze(0))
        check(t.squeeze(1), a)  # not size 1: unchanged
        check(t.squeeze((0, 2)), a.squeeze((0, 2)))
        check(t.squeeze(dim=(-2, 1)), a.squeeze(2))
        for d in range(-5, 5):
            check(t.unsqueeze(d), np.expand_dims(a, d))
            check(tgx.unsqueeze(t, d), np.expand_dims(a, d))


def test_squeeze_unsqueeze_views_and_edge_cases():
    base = T(arr((1, 3, 1)))
    assert_view(base, base.squeeze())
    assert_view(base, base.squeeze(2))
    assert_view(base, base.unsqueeze(1))
    s = T(np.float64(5.0))
    check(s.squeeze(), np.array(5.0))
    check(s.squeeze(0), np.array(5.0))
    check(s.unsqueeze(0), np.array([5.0]))
    check(s.unsqueeze(-1), np.array([5.0]))
    e = T(np.zeros((0, 1, 2)))
    check(e.squeeze(), np.zeros((0, 2)))
    check(e.unsqueeze(1), np.zeros((0, 1, 1, 2)))
    with pytest.raises(IndexError, match=r"\[squeeze\] dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)"):
        base.squeeze(3)
    with pytest.raises(IndexError, match=r"\[unsqueeze\].*\[-4, 3\], but got 4"):
        base.unsqueeze(4)
    with pytest.raises(ValueError, match=r"\[squeeze\] dim 0 appears multiple times"):
        base.squeeze((0, -3))
    with pytest.raises(TypeError):
        base.unsqueeze(1.5)


# ---- transpose / permute / movedim / t / T / mT --------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_transpose_permute(dtype):
    a = arr((2, 3, 4), dtype)
    for name, t in layouts(a):
        check(t.transpose(0, 2), np.swapaxes(a, 0, 2))
        check(tgx.transpose(t, -1, 1), np.swapaxes(a, -1, 1))
        check(tgx.swapaxes(t, 0, 1), np.swapaxes(a, 0, 1))
        check(t.swapdims(2, 2), a)
        for p in [(2, 0, 1), (1, 2, 0), (0, 1, 2), (-1, -3, -2)]:
            check(t.permute(*p), np.transpose(a, p))
            check(t.permute(p), np.transpose(a, p))
            check(tgx.permute(t, p), np.transpose(a, p))
        check(t.movedim(0, 2), np.moveaxis(a, 0, 2))
        check(tgx.movedim(t, (0, 1), (2, 0)), np.moveaxis(a, (0, 1), (2, 0)))
        check(tgx.moveaxis(t, -1, 0), np.moveaxis(a, -1, 0))
        check(t.T, a.T)
        check(t.mT, np.swapaxes(a, -1, -2))


def test_transpose_views_and_errors():
    for make in [lambda b: b.transpose(0, 1), lambda b: b.permute(2, 0, 1),
                 lambda b: b.movedim(0, -1), lambda b: b.T, lambda b: b.mT,
                 lambda b: b.select(0, 1).t(), lambda b: tgx.swapaxes(b, 0, 2)]:
        base = T(arr((2, 3, 4)))
        assert_view(base, make(base))
    s = T(np.float64(1.0))
    check(s.transpose(0, -1), np.array(1.0))
    check(s.T, np.array(1.0))
    check(s.t(), np.array(1.0))
    check(s.permute(()), np.array(1.0))
    v = T(arr((3,)))
    check(v.t(), arr((3,)))
    check(v.T, arr((3,)))
    check(tgx.t(T(arr((2, 3)))), arr((2, 3)).T)
    with pytest.raises(ValueError, match=r"\[t\] expects a tensor with <= 2 dimensions, but self is 3D"):
        base.t()
    with pytest.raises(ValueError, match=r"\[mT\]"):
        v.mT
    with pytest.raises(IndexError, match=r"\[transpose\] dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)"):
        base.transpose(0, 3)
    with pytest.raises(ValueError, match=r"\[permute\] number of dims don't match"):
        base.permute(0, 1)
    with pytest.raises(ValueError, match=r"\[permute\] dim 0 appears multiple times"):
        base.permute(0, 1, -3)
    with pytest.raises(IndexError, match=r"\[permute\]"):
        base.permute(0, 1, 3)
    with pytest.raises(ValueError, match=r"\[movedim\]"):
        base.movedim((0, 1), 2)
    with pytest.raises(ValueError, match=r"\[movedim\] dim 2 appears multiple times"):
        base.movedim((0, 1), (2, -1))


# ---- expand / broadcast ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_expand_broadcast(dtype):
    a = arr((3, 1), dtype)
    for name, t in layouts(a):
        check(t.expand(3, 4), np.broadcast_to(a, (3, 4)))
        check(t.expand((2, 3, 4)), np.broadcast_to(a, (2, 3, 4)))
        check(t.expand(2, -1, 5), np.broadcast_to(a, (2, 3, 5)))
        check(t.expand(0, 3, 2), np.broadcast_to(a, (0, 3, 2)))
        check(tgx.broadcast_to(t, (4, 3, 3)), np.broadcast_to(a, (4, 3, 3)))
        check(t.broadcast_to((3, 2)), np.broadcast_to(a, (3, 2)))
        check(t.expand_as(T(np.zeros((2, 3, 7)))), np.broadcast_to(a, (2, 3, 7)))
    s = T(np.array(2, dtype))
    check(s.expand(2, 2), np.broadcast_to(np.array(2, dtype), (2, 2)))
    check(s.expand(()), np.array(2, dtype))


def test_expand_is_a_zero_stride_view():
    base = T(arr((3, 1)))
    e = base.expand(2, 3, 4)
    assert e.stride() == (0, 1, 0)
    assert_view(base, e)
    with pytest.raises(ValueError, match=r"\[expand\] the expanded size of the tensor \(4\) must match the existing size \(3\) at non-singleton dimension 0"):
        base.expand(4, 4)
    with pytest.raises(ValueError, match=r"\[expand\] the number of sizes provided \(1\)"):
        base.expand(3)
    with pytest.raises(ValueError, match=r"\[expand\].*leading"):
        base.expand(-1, 3, 4)


def test_broadcast_tensors_and_shapes():
    x, y, z = arr((3, 1)), arr((4,)), arr(())
    for (nx, tx), (ny, ty) in zip(layouts(x), layouts(y)):
        outs = tgx.broadcast_tensors(tx, ty, T(z))
        for o, e in zip(outs, np.broadcast_arrays(x, y, z)):
            check(o, e)
    outs = tgx.broadcast_tensors([T(x), T(y)])
    assert [o.shape for o in outs] == [(3, 4), (3, 4)]
    base = T(x)
    assert_view(base, tgx.broadcast_tensors(base, T(y))[0])
    assert tgx.broadcast_shapes((2, 1), (3,), ()) == (2, 3)
    assert tgx.broadcast_shapes(5, (1, 1)) == (1, 5)
    assert tgx.broadcast_shapes() == ()
    with pytest.raises(ValueError, match=r"\[broadcast_shapes\] shapes \(2,\) and \(3,\)"):
        tgx.broadcast_shapes((2,), (3,))
    with pytest.raises(ValueError, match=r"\[broadcast_tensors\]"):
        tgx.broadcast_tensors(T(arr((2,))), T(arr((3,))))
    with pytest.raises(TypeError, match=r"\[broadcast_tensors\]"):
        tgx.broadcast_tensors(T(x), 3)


# ---- narrow / select / unbind / iteration ----------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_narrow_select_unbind(dtype):
    a = arr((3, 4, 2), dtype)
    for name, t in layouts(a):
        check(t.narrow(1, 1, 2), a[:, 1:3])
        check(tgx.narrow(t, -1, -1, 1), a[..., -1:])
        check(t.narrow(0, 3, 0), a[3:3])
        check(t.narrow(0, -3, 3), a)
        for d in range(-3, 3):
            for i in range(-a.shape[d], a.shape[d]):
                check(t.select(d, i), np.take(a, i, axis=d))
            for i, u in enumerate(t.unbind(d)):
                check(u, np.take(a, i, axis=d))
        check(tgx.select(t, 1, -1), a[:, -1])
        assert len(tgx.unbind(t, dim=2)) == 2
        for got, exp in zip(t, a):
            check(got, exp)
        assert len(list(t)) == 3


def test_narrow_select_views_and_errors():
    for make in [lambda b: b.narrow(1, 1, 2), lambda b: b.select(1, 2), lambda b: b.unbind(1)[3],
                 lambda b: next(iter(b)), lambda b: tgx.narrow(b, 0, -1, 1)]:
        base = T(arr((3, 4)))
        assert_view(base, make(base))
    base.select(0, -1).fill_(0.0)
    assert (base.numpy()[2] == 0).all()
    assert T(np.zeros((0, 3))).unbind(0) == ()
    with pytest.raises(IndexError, match=r"\[narrow\] start out of range"):
        base.narrow(0, 4, 0)
    with pytest.raises(ValueError, match=r"\[narrow\] start \(2\) \+ length \(2\) exceeds dimension size \(3\)"):
        base.narrow(0, 2, 2)
    with pytest.raises(IndexError, match=r"\[select\] index 3 is out of bounds for dimension 0 with size 3"):
        base.select(0, 3)
    with pytest.raises(IndexError, match=r"\[select\] index -4"):
        base.select(0, -4)
    with pytest.raises(IndexError, match=r"\[select\] dimension out of range"):
        base.select(2, 0)
    with pytest.raises(IndexError, match=r"0-dim"):
        T(np.float64(1.0)).select(0, 0)
    with pytest.raises(TypeError, match=r"iteration over a 0-d tensor"):
        iter(T(np.float64(1.0)))
    with pytest.raises(TypeError, match=r"\[select\] index must be an int"):
        base.select(0, 1.0)


# ---- split / chunk -------------------------------------------------------------------------
def _np_split_sizes(a, sizes, axis):
    return np.split(a, np.cumsum(sizes)[:-1], axis=axis)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_split_chunk(dtype):
    a = arr((7, 4), dtype)
    for name, t in layouts(a):
        for size in [1, 2, 3, 7, 10]:
            n = max(-(-7 // size), 1)
            sizes = [size] * (n - 1) + [7 - size * (n - 1)]
            got = t.split(size)
            assert len(got) == n
            for g, e in zip(got, _np_split_sizes(a, sizes, 0)):
                check(g, e)
        for g, e in zip(tgx.split(t, [1, 0, 3], dim=1), _np_split_sizes(a, [1, 0, 3], 1)):
            check(g, e)
        for chunks in [1, 2, 3, 4, 7, 9]:
            size = -(-7 // chunks)
            got = tgx.chunk(t, chunks)
            exp = [a[i:i + size] for i in range(0, 7, size)]
            assert len(got) == len(exp)
            for g, e in zip(got, exp):
                check(g, e)
        check(t.chunk(2, dim=-1)[1], a[:, 2:])


def test_split_chunk_views_and_errors():
    for make in [lambda b: b.split(4)[1], lambda b: b.split([1, 5])[0], lambda b: b.chunk(3, 1)[1],
                 lambda b: tgx.split(b, 2)[2]]:
        base = T(arr((6, 2)))
        assert_view(base, make(base))
    e = T(np.zeros((0, 2)))
    assert [p.shape for p in e.split(0)] == [(0, 2)]
    assert [p.shape for p in e.split(3)] == [(0, 2)]
    assert [p.shape for p in e.chunk(2)] == [(0, 2), (0, 2)]
    with pytest.raises(ValueError, match=r"\[split\] split sizes \(1, 2\) must sum to the size of dimension 0 \(6\)"):
        base.split([1, 2])
    with pytest.raises(ValueError, match=r"\[split\] split_size must be positive"):
        base.split(0)
    with pytest.raises(ValueError, match=r"\[chunk\] chunks must be greater than 0"):
        base.chunk(0)
    with pytest.raises(IndexError, match=r"\[chunk\]"):
        base.chunk(2, 2)


# ---- diagonal ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.bool_])
def test_diagonal(dtype):
    for shape in [(3, 4), (4, 3), (2, 3, 4), (0, 3), (3, 3)]:
        a = arr(shape, dtype)
        for name, t in layouts(a):
            for off in range(-4, 5):
                for d1, d2 in [(0, 1), (1, 0), (-1, 0)] + ([(0, 2), (2, 1)] if a.ndim == 3 else []):
                    check(t.diagonal(off, d1, d2), np.diagonal(a, off, d1, d2))
            check(tgx.diagonal(t, offset=1, dim1=-2, dim2=-1), np.diagonal(a, 1, -2, -1))


def test_diagonal_view_and_errors():
    base = T(arr((3, 4)))
    assert_view(base, base.diagonal(1))
    d = base.diagonal()
    d.fill_(0.0)
    assert (np.diagonal(base.numpy()) == 0).all()
    with pytest.raises(ValueError, match=r"\[diagonal\] diagonal dimensions cannot be identical"):
        base.diagonal(0, 1, -1)
    with pytest.raises(IndexError, match=r"\[diagonal\]"):
        base.diagonal(0, 0, 2)
    with pytest.raises(ValueError, match=r"\[diagonal\]"):
        T(arr((3,))).diagonal()


# ---- flip view (internal) --------------------------------------------------------------------
def test_flip_view_shares_memory():
    base = T(arr((2, 3)))
    f = tgx._C._flip_view(base, (1,))
    assert f.stride() == (3, -1)
    check(f, np.flip(arr((2, 3)), 1))
    assert_view(base, f.select(1, 0))
    check(tgx._C._flip_view(T(np.zeros((0, 2))), (0, 1)), np.zeros((0, 2)))


# ---- copying ops ---------------------------------------------------------------------------
def assert_copy(base, out):
    assert out.numel() == 0 or not np.shares_memory(base.numpy(), out.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_tril_triu(dtype):
    for shape in [(3, 4), (4, 3), (2, 3, 3), (0, 2), (2, 0, 3)]:
        a = arr(shape, dtype)
        for name, t in layouts(a):
            for k in [-5, -1, 0, 1, 2, 5]:
                check(t.tril(k), np.tril(a, k))
                check(tgx.triu(t, diagonal=k), np.triu(a, k))
            check(tgx.tril(t), np.tril(a))
    base = T(arr((3, 3)))
    assert_copy(base, base.tril())
    base.triu_(1)
    check(base, np.triu(arr((3, 3)), 1))
    with pytest.raises(ValueError, match=r"\[tril\] input tensor must have at least 2 dimensions"):
        T(arr((3,))).tril()


@pytest.mark.parametrize("dtype", DTYPES)
def test_repeat_tile(dtype):
    a = arr((2, 3), dtype)
    for name, t in layouts(a):
        check(t.repeat(2, 1), np.tile(a, (2, 1)))
        check(t.repeat((1, 3)), np.tile(a, (1, 3)))
        check(t.repeat(2, 2, 2), np.tile(a, (2, 2, 2)))
        check(t.repeat(0, 2), np.tile(a, (0, 2)))
        check(tgx.tile(t, (2,)), np.tile(a, (2,)))
        check(t.tile(3, 1, 2), np.tile(a, (3, 1, 2)))
        check(t.tile(()), a)
    s = T(np.array(7, dtype))
    check(s.repeat(3), np.tile(np.array(7, dtype), 3))
    check(s.repeat(()), np.array(7, dtype))
    check(T(np.zeros((0, 2))).repeat(2, 3), np.zeros((0, 6)))
    base = T(arr((2, 3)))
    assert_copy(base, base.repeat(1, 1))
    with pytest.raises(ValueError, match=r"\[repeat\] number of dimensions of repeat dims"):
        base.repeat(2)
    with pytest.raises(ValueError, match=r"\[repeat\] repeats must be non-negative"):
        base.repeat(-1, 2)


def test_cat_concat_concatenate():
    a, b = arr((2, 3)), arr((2, 4), np.int32)
    for (n1, ta), (n2, tb) in zip(layouts(a), layouts(b)):
        check(tgx.cat([ta, tb], dim=1), np.concatenate([a, b.astype(np.float64)], axis=1))
        check(tgx.cat((ta, ta), 0), np.concatenate([a, a], 0))
        check(tgx.concat([ta, tb, ta], -1), np.concatenate([a, b, a], -1).astype(np.float64))
        check(tgx.concatenate([ta.t(), tb.t()], axis=0), np.concatenate([a.T, b.T], 0).astype(np.float64))
    i32, boo = T(arr((3,), np.int32)), T(arr((2,), np.bool_))
    check(tgx.cat([i32, boo]), np.concatenate([arr((3,), np.int32), arr((2,), np.bool_)]).astype(np.int32))
    check(tgx.cat([T(arr((2,), np.uint8)), T(arr((1,), np.float32))]),
          np.array([1, 2, 1], np.float32))
    # legacy: 1-d empty tensors are skipped whatever the others' shapes
    e = T(np.zeros((0,), np.float64))
    check(tgx.cat([e, T(a), e], dim=1), a)
    check(tgx.cat([e, e]), np.zeros((0,)))
    check(tgx.cat([T(np.zeros((0, 3))), T(a)]), a)
    check(tgx.cat([T(a)]), a)
    base = T(a)
    assert_copy(base, tgx.cat([base]))


def test_cat_errors():
    a = T(arr((2, 3)))
    with pytest.raises(ValueError, match=r"\[cat\] sizes of tensors must match except in dimension 1\. Expected size 2 but got size 3 for tensor number 1"):
        tgx.cat([a, T(arr((3, 3)))], 1)
    with pytest.raises(ValueError, match=r"\[cat\] tensors must have same number of dimensions"):
        tgx.cat([a, T(arr((3,)))])
    with pytest.raises(ValueError, match=r"\[cat\] zero-dimensional tensor \(at position 1\)"):
        tgx.cat([a, T(np.float64(1.0))])
    with pytest.raises(ValueError, match=r"\[cat\] expected a non-empty list"):
        tgx.cat([])
    with pytest.raises(IndexError, match=r"\[cat\] dimension out of range"):
        tgx.cat([a, a], 2)
    with pytest.raises(TypeError, match=r"\[cat\] expected a sequence of Tensors, but element 1 is int"):
        tgx.cat([a, 1])
    with pytest.raises(TypeError, match=r"\[concat\] expected a sequence of Tensors, got Tensor"):
        tgx.concat(a)


@pytest.mark.parametrize("dtype", DTYPES)
def test_stack_hstack_vstack(dtype):
    a, b = arr((2, 3), dtype), arr((2, 3), dtype)[::-1].copy()
    for (n1, ta), (n2, tb) in zip(layouts(a), layouts(b)):
        for d in range(-3, 3):
            check(tgx.stack([ta, tb], d), np.stack([a, b], d))
        check(tgx.hstack([ta, tb]), np.hstack([a, b]))
        check(tgx.vstack([ta, tb]), np.vstack([a, b]))
        check(tgx.row_stack((ta, tb)), np.vstack([a, b]))
    v, w = arr((3,), dtype), arr((2,), dtype)
    check(tgx.hstack([T(v), T(w)]), np.hstack([v, w]))
    check(tgx.vstack([T(v), T(v)]), np.vstack([v, v]))
    s = np.array(1, dtype)
    check(tgx.stack([T(s), T(s)]), np.stack([s, s]))
    check(tgx.hstack([T(s), T(v)]), np.hstack([s, v]))
    check(tgx.vstack([T(s), T(s)]), np.vstack([s, s]))
    check(tgx.stack([T(np.zeros((0,), dtype))] * 2, 1), np.zeros((0, 2), dtype))


def test_stack_errors():
    with pytest.raises(ValueError, match=r"\[stack\] expects each tensor to be equal size, but got \(2,\) at entry 0 and \(3,\) at entry 1"):
        tgx.stack([T(arr((2,))), T(arr((3,)))])
    with pytest.raises(ValueError, match=r"\[stack\] expected a non-empty list"):
        tgx.stack([])
    with pytest.raises(IndexError, match=r"\[stack\].*\[-2, 1\], but got 2"):
        tgx.stack([T(arr((2,)))], 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_flip(dtype):
    a = arr((2, 3, 4), dtype)
    for name, t in layouts(a):
        for dims in [(0,), (1,), (2,), (0, 2), (-1, 0, 1), ()]:
            check(t.flip(dims), np.flip(a, dims))
            check(tgx.flip(t, dims), np.flip(a, dims))
        check(t.flip(0, 1), np.flip(a, (0, 1)))
        check(tgx.fliplr(t), np.fliplr(a))
        check(t.flipud(), np.flipud(a))
    check(T(np.float64(3.0)).flip(0), np.array(3.0))
    check(T(np.zeros((0, 2))).flip(0, 1), np.zeros((0, 2)))
    base = T(arr((2, 3)))
    f = base.flip(0)
    assert f.is_contiguous()
    assert_copy(base, f)
    with pytest.raises(ValueError, match=r"\[flip\] dim 0 appears multiple times"):
        base.flip(0, -2)
    with pytest.raises(IndexError, match=r"\[flip\] dimension out of range"):
        base.flip(2)
    with pytest.raises(ValueError, match=r"\[fliplr\] input tensor must be >= 2-d"):
        tgx.fliplr(T(arr((3,))))
    with pytest.raises(ValueError, match=r"\[flipud\]"):
        tgx.flipud(T(np.float64(1.0)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_roll(dtype):
    a = arr((3, 4), dtype)
    for name, t in layouts(a):
        for shift in [-13, -1, 0, 1, 3, 4, 11]:
            check(t.roll(shift), np.roll(a, shift))
            check(tgx.roll(t, shift, 1), np.roll(a, shift, 1))
            check(t.roll(shift, dims=-2), np.roll(a, shift, -2))
        check(tgx.roll(t, (1, -2), (0, 1)), np.roll(a, (1, -2), (0, 1)))
        check(t.roll((1, 1), (1, 1)), np.roll(a, 2, 1))
    check(T(np.float64(2.0)).roll(3), np.array(2.0))
    check(T(np.zeros((0, 3))).roll(1, 0), np.zeros((0, 3)))
    base = T(arr((3,)))
    assert_copy(base, base.roll(0))
    with pytest.raises(ValueError, match=r"\[roll\] shifts and dims must have the same length"):
        base.roll((1, 2), 0)
    with pytest.raises(ValueError, match=r"\[roll\] without dims"):
        base.roll((1, 2))
    with pytest.raises(IndexError, match=r"\[roll\]"):
        base.roll(1, 1)


def _np_pad_width(ndim, pad):
    width = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        width[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return width


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8, np.bool_])
def test_pad_modes(dtype):
    a = arr((2, 3, 4), dtype)
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
    for name, t in layouts(a):
        for pad in [(1, 2), (0, 3, 2, 1), (1, 1, 0, 0, 1, 0), (), (2, 0), (3, 3, 2, 2)]:
            w = _np_pad_width(3, pad)
            check(tgx.pad(t, pad), np.pad(a, w))
            for mode, nm in np_mode.items():
                check(tgx.pad(t, pad, mode=mode), np.pad(a, w, mode=nm))
        check(tgx.pad(t, (1, 1), value=1), np.pad(a, _np_pad_width(3, (1, 1)), constant_values=1))
    check(tgx.pad(T(arr((4,), dtype)), (3, 3), "reflect"), np.pad(arr((4,), dtype), (3, 3), "reflect"))
    check(tgx.pad(T(arr((4,), dtype)), (4, 4), "circular"), np.pad(arr((4,), dtype), (4, 4), "wrap"))


def test_pad_constant_value_and_crop():
    a = arr((3, 4))
    t = T(a)
    check(tgx.pad(t, (1, 1, 2, 0), value=-2.5), np.pad(a, ((2, 0), (1, 1)), constant_values=-2.5))
    check(tgx.pad(t, (-1, 2)), np.pad(a[:, 1:], ((0, 0), (0, 2))))
    check(tgx.pad(t, (-1, -1, 1, -2)), np.pad(a[:1, 1:-1], ((1, 0), (0, 0))))
    check(tgx.pad(t, (-4, 2)), np.zeros((3, 2)))
    check(tgx.pad(T(arr((2,), np.int64)), (1, 0), value=7), np.array([7, 1, 2]))
    check(tgx.pad(T(np.float64(1.0)), ()), np.array(1.0))
    check(tgx.pad(T(np.zeros((0, 2))), (1, 1), "reflect"), np.zeros((0, 4)))
    assert_copy(t, tgx.pad(t, ()))


def test_pad_errors():
    t = T(arr((2, 3)))
    with pytest.raises(ValueError, match=r"\[pad\] reflect padding size should be less than the corresponding input dimension, but got padding \(3, 0\) at dimension 1"):
        tgx.pad(t, (3, 0), "reflect")
    with pytest.raises(ValueError, match=r"\[pad\] circular"):
        tgx.pad(t, (4, 0), "circular")
    with pytest.raises(ValueError, match=r"\[pad\] padding length must be divisible by 2"):
        tgx.pad(t, (1,))
    with pytest.raises(ValueError, match=r"\[pad\] padding length 6 is too large"):
        tgx.pad(t, (1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"\[pad\] mode must be one of"):
        tgx.pad(t, (1, 1), "wrap")
    with pytest.raises(ValueError, match=r"\[pad\] negative padding"):
        tgx.pad(t, (-1, 1), "replicate")
    with pytest.raises(ValueError, match=r"\[pad\] padding .* gives a negative size"):
        tgx.pad(t, (-2, -2))
    with pytest.raises(ValueError, match=r"\[pad\] replicate padding needs a non-empty"):
        tgx.pad(T(np.zeros((2, 0))), (1, 1), "replicate")
    with pytest.raises(TypeError, match=r"\[pad\] value must be a number"):
        tgx.pad(t, (1, 1), value="x")


# ---- properties (hypothesis) and PyTorch as an optional oracle -------------------------------
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st


@st.composite
def view_chains(draw):
    """A base shape, a permutation, a narrow and a target shape with the same numel."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    perm = tuple(draw(st.permutations(range(len(shape)))))
    d = draw(st.integers(0, len(shape) - 1))
    size = shape[perm[d]]
    start = draw(st.integers(0, size - 1))
    length = draw(st.integers(0, size - start))
    pshape = [shape[p] for p in perm]
    pshape[d] = length
    n = int(np.prod(pshape))
    factors = []
    rest = n
    for _ in range(draw(st.integers(0, 3))):
        f = draw(st.sampled_from([k for k in range(1, rest + 1) if rest % k == 0] or [1]))
        factors.append(f)
        rest //= f
    target = tuple(factors + [rest]) if n else tuple(factors + [0])
    return shape, perm, (d, start, length), target, draw(st.booleans())


@settings(max_examples=150, deadline=None)
@given(view_chains())
def test_reshape_property(chain):
    shape, perm, (d, start, length), target, flip = chain
    a = arr(shape)
    t = T(a)
    if flip:
        t = tgx._C._flip_view(T(np.ascontiguousarray(np.flip(a))), tuple(range(len(shape))))
    t = t.permute(perm).narrow(d, start, length)
    e = np.transpose(a, perm)[(slice(None),) * d + (slice(start, start + length),)]
    check(t, e)
    check(t.reshape(target), e.reshape(target))
    try:
        v = t.view(target)
    except RuntimeError:
        return
    check(v, e.reshape(target))
    if v.numel():
        assert np.shares_memory(t.numpy(), v.numpy())


def test_views_match_torch_strides():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for trial in range(200):
        shape = tuple(int(s) for s in rng.integers(1, 4, size=rng.integers(1, 5)))
        perm = tuple(int(p) for p in rng.permutation(len(shape)))
        a = arr(shape)
        ours, theirs = T(a).permute(perm), torch.from_numpy(a).permute(perm)
        n = a.size
        target = (n,) if trial % 3 == 0 else tuple(int(x) for x in (1, n, 1))
        if trial % 3 == 2 and len(shape) >= 2:
            target = (ours.shape[0] * ours.shape[1],) + ours.shape[2:]
        try:
            tv = theirs.view(target)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                ours.view(target)
            continue
        ov = ours.view(target)
        assert ov.stride() == tv.stride()
        assert ours.unsqueeze(-1).stride() == theirs.unsqueeze(-1).stride()
        if len(shape) >= 2:
            assert ours.diagonal(1, 0, -1).stride() == theirs.diagonal(1, 0, -1).stride()
            assert ours.diagonal(1, 0, -1).storage_offset() == theirs.diagonal(1, 0, -1).storage_offset()
        assert ours.expand((2,) + ours.shape).stride() == theirs.expand((2,) + theirs.shape).stride()


def test_copies_match_torch():
    torch = pytest.importorskip("torch")
    a = arr((2, 3, 4), np.float32)
    ta, tt = T(a), torch.from_numpy(a)
    for pad, mode in [((1, 2), "reflect"), ((1, 2, 2, 1), "replicate"), ((3, 1, 1, 2), "circular"),
                      ((-1, 2, 1, -1), "constant")]:
        np.testing.assert_array_equal(tgx.pad(ta, pad, mode).numpy(),
                                      torch.nn.functional.pad(tt, pad, mode).numpy())
    for chunks in range(1, 6):
        assert [c.shape for c in ta.chunk(chunks, 2)] == [tuple(c.shape) for c in tt.chunk(chunks, 2)]
    assert [s.shape for s in ta.split([1, 2], 1)] == [tuple(s.shape) for s in tt.split([1, 2], 1)]
    np.testing.assert_array_equal(ta.repeat(2, 1, 1, 2).numpy(), tt.repeat(2, 1, 1, 2).numpy())
    np.testing.assert_array_equal(tgx.roll(ta, (1, -1), (0, 2)).numpy(), torch.roll(tt, (1, -1), (0, 2)).numpy())
    np.testing.assert_array_equal(ta.triu(1).numpy(), tt.triu(1).numpy())
    assert ta.squeeze((0, 1)).shape == tuple(tt.squeeze((0, 1)).shape)
    assert ta.movedim((0, 2), (1, 0)).stride() == tt.movedim((0, 2), (1, 0)).stride()
