import os
import subprocess
import sys

import numpy as np
import pytest
import tinygrad_ext as tgx
from conftest import KERNEL_ENV_IDS, KERNEL_ENVS, run_sweep

RNG = np.random.default_rng(1234)
FLOATS = [np.float32, np.float64]


def rand(shape, dtype=np.float64):
    if np.issubdtype(dtype, np.integer):
        lo = 0 if dtype == np.uint8 else -4
        return RNG.integers(lo, 4, size=shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def view_of(base, view):
    """A tgx tensor with exactly the layout of `view`, a NumPy view into the C-contiguous `base`."""
    t = tgx.tensor(base)
    isz = base.itemsize
    off = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // isz
    return tgx._C._strided_view(t, list(view.shape), [s // isz for s in view.strides], off)


def scalar(x):
    """A 0-d tensor (built as a view: tgx.tensor(2.0) may come back 1-D on some builds)."""
    return tgx._C._strided_view(tgx.tensor(np.asarray([x])), [], [], 0)


def tensor(a):
    a = np.asarray(a)
    return tgx._C._strided_view(tgx.tensor(a.reshape(1)), [], [], 0) if a.ndim == 0 else tgx.tensor(a)


def check(got, ref, dtype, k):
    got = got.numpy() if isinstance(got, tgx.Tensor) else got
    ref = np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape
    if np.issubdtype(dtype, np.integer):
        np.testing.assert_array_equal(got, ref.astype(dtype))
        return
    scale = max(1.0, float(np.abs(ref).max())) if ref.size else 1.0
    tol = (2e-6 if dtype == np.float32 else 1e-13) * np.sqrt(max(k, 1)) * 4
    np.testing.assert_allclose(got, ref, rtol=0, atol=tol * scale)


# Sizes around the blocking of both dtypes: MR 6, NR 16 / 8, MC 144 / 72, KC 256; primes.
SIZES = [(1, 1, 1), (7, 13, 97), (97, 131, 13), (5, 7, 17), (6, 16, 8), (7, 17, 9),
         (143, 255, 15), (145, 257, 33), (71, 256, 7), (73, 1, 131), (1, 300, 1), (2, 513, 3),
         (13, 9, 1), (1, 9, 13)]


@pytest.mark.parametrize("m,k,n", SIZES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_mm_sizes(m, k, n, dtype):
    a, b = rand((m, k), dtype), rand((k, n), dtype)
    out = tgx.tensor(a) @ tgx.tensor(b)
    assert out.dtype == getattr(tgx, np.dtype(dtype).name)
    check(out, a.astype(np.float64) @ b, dtype, k)


def test_large_multithreaded_matches_single_thread():
    a, b = rand((300, 520), np.float32), rand((520, 4200), np.float32)
    n = tgx.get_num_threads()
    out = (tgx.tensor(a) @ tgx.tensor(b)).numpy()
    tgx.set_num_threads(1)
    try:
        one = (tgx.tensor(a) @ tgx.tensor(b)).numpy()
    finally:
        tgx.set_num_threads(n)
    check(out, a.astype(np.float64) @ b, np.float32, 520)
    check(one, a.astype(np.float64) @ b, np.float32, 520)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8])
def test_integer_matmul(dtype):
    a, b = rand((9, 17), dtype), rand((17, 5), dtype)
    out = tgx.tensor(a) @ tgx.tensor(b)
    assert out.numpy().dtype == dtype
    np.testing.assert_array_equal(out.numpy(), a @ b)


@pytest.mark.parametrize("dtype", FLOATS + [np.int64])
@pytest.mark.parametrize("layout", ["tt", "tn", "nt", "strided", "flipped"])
def test_non_contiguous_operands(dtype, layout):
    m, k, n = 23, 37, 19
    if layout == "strided":
        abase, bbase = rand((2 * m, 3 * k), dtype), rand((k + 3, 2 * n), dtype)
        av, bv = abase[::2, 1::3], bbase[3:, ::2]
    elif layout == "flipped":
        abase, bbase = rand((m, k), dtype), rand((k, n), dtype)
        av, bv = abase[::-1], bbase[:, ::-1]
    else:
        abase = rand((k, m), dtype) if layout[0] == "t" else rand((m, k), dtype)
        bbase = rand((n, k), dtype) if layout[1] == "t" else rand((k, n), dtype)
        av = abase.T if layout[0] == "t" else abase
        bv = bbase.T if layout[1] == "t" else bbase
    a, b = view_of(abase, av), view_of(bbase, bv)
    assert a.shape == av.shape
    check(a @ b, av.astype(np.float64) @ bv, dtype, k)
    check(tgx.mm(a, b), av.astype(np.float64) @ bv, dtype, k)


def test_strided_output_rows_1d_and_column_vector():
    base = rand((40,), np.float64)
    v = view_of(base, base[::-3])
    M = rand((7, v.shape[0]), np.float64)
    check(tgx.tensor(M) @ v, M @ base[::-3], np.float64, 14)
    check(v @ tgx.tensor(M.T.copy()), base[::-3] @ M.T, np.float64, 14)


@pytest.mark.parametrize("sa,sb", [
    ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((5, 2, 3), (3,)), ((3,), (5, 3, 2)),
    ((2, 1, 4, 3), (5, 3, 2)), ((5, 4, 3), (3, 2)), ((4, 3), (2, 5, 3, 6)), ((1, 4, 3), (7, 3, 2)),
    ((2, 3, 4, 5), (2, 3, 5, 6)), ((0, 4, 3), (3, 2)), ((2, 4, 0), (2, 0, 3)), ((2, 0, 3), (3, 5)),
])
@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_numpy_semantics(sa, sb, dtype):
    a, b = rand(sa, dtype), rand(sb, dtype)
    out = tgx.matmul(tgx.tensor(a), tgx.tensor(b))
    check(out, np.matmul(a.astype(np.float64), b), dtype, sa[-1])
    check(tgx.tensor(a).matmul(tgx.tensor(b)), np.matmul(a.astype(np.float64), b), dtype, sa[-1])


def test_expanded_batch_operand_is_not_copied_and_correct():
    base = rand((4, 3), np.float64)
    # (6, 4, 3) with batch stride 0: a broadcast operand
    a = tgx._C._strided_view(tgx.tensor(base), [6, 4, 3], [0, 3, 1], 0)
    b = rand((6, 3, 5), np.float64)
    check(a @ tgx.tensor(b), np.broadcast_to(base, (6, 4, 3)) @ b, np.float64, 3)
    # transposed batch of matrices, folded path and per-batch path
    bb = rand((5, 3, 4), np.float64)
    at = view_of(bb, bb.transpose(0, 2, 1))
    check(at @ tgx.tensor(b[0]), bb.transpose(0, 2, 1) @ b[0], np.float64, 3)


def test_empty_k_gives_zeros_and_scalar_dot():
    out = tgx.tensor(np.zeros((3, 0))) @ tgx.tensor(np.zeros((0, 4)))
    np.testing.assert_array_equal(out.numpy(), np.zeros((3, 4)))
    d = tgx.tensor([1.0, 2.0, 3.0]) @ tgx.tensor([4.0, 5.0, 6.0])
    assert d.shape == () and d.item() == 32.0
    assert (tgx.tensor(np.zeros(0)) @ tgx.tensor(np.zeros(0))).item() == 0.0


def test_promotion():
    i = tgx.tensor(np.arange(6).reshape(2, 3))
    f = tgx.tensor(np.ones((3, 2), dtype=np.float32))
    d = tgx.tensor(np.ones((3, 2), dtype=np.float64))
    assert (i @ f).dtype == tgx.float32
    assert (i @ d).dtype == tgx.float64
    assert (i @ tgx.tensor(np.ones((3, 2), dtype=np.int32))).dtype == tgx.int64
    np.testing.assert_array_equal((i @ f).numpy(), np.arange(6).reshape(2, 3) @ np.ones((3, 2)))


def test_rmatmul_with_numpy_and_lists():
    a = rand((3, 4))
    b = rand((4, 2))
    check(a @ tgx.tensor(b), a @ b, np.float64, 4)
    check(tgx.tensor(a) @ b.tolist(), a @ b.astype(np.float32), np.float32, 4)


def test_errors():
    a, b = tgx.tensor(np.zeros((2, 3))), tgx.tensor(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"\[matmul\] shapes \(2, 3\) and \(4, 5\) cannot be multiplied \(3 != 4\)"):
        a @ b
    with pytest.raises(ValueError, match=r"at least 1D"):
        tgx.matmul(scalar(1.0), a)
    with pytest.raises(ValueError, match=r"\[matmul\].*\(2, 4, 3\) and \(5, 3, 2\)"):
        tgx.tensor(np.zeros((2, 4, 3))) @ tgx.tensor(np.zeros((5, 3, 2)))
    with pytest.raises((TypeError, NotImplementedError), match=r"\[matmul\].*bool"):
        tgx.tensor([[True]]) @ tgx.tensor([[True]])
    with pytest.raises(ValueError, match=r"\[mm\]"):
        tgx.mm(tgx.tensor([1.0]), a)
    with pytest.raises(ValueError, match=r"\[bmm\]"):
        tgx.bmm(tgx.tensor(np.zeros((2, 2, 3))), tgx.tensor(np.zeros((3, 3, 2))))
    with pytest.raises(ValueError, match=r"\[bmm\]"):
        tgx.bmm(a, a)
    with pytest.raises(ValueError, match=r"\[dot\]"):
        tgx.dot(tgx.tensor([1.0, 2.0]), tgx.tensor([1.0]))
    with pytest.raises(ValueError, match=r"\[dot\]"):
        tgx.dot(a, a)
    with pytest.raises(ValueError, match=r"\[mv\]"):
        tgx.mv(a, a)
    with pytest.raises(TypeError):
        tgx.matmul(None, a)
    with pytest.raises(ValueError, match=r"\[addmm\].*cannot be broadcast"):
        tgx.addmm(tgx.tensor(np.zeros(4)), a, tgx.tensor(np.zeros((3, 2))))
    with pytest.raises(TypeError, match=r"\[addmm\].*beta"):
        ai = tgx.tensor([[1, 2]])
        tgx.addmm(ai, ai, tgx.tensor([[1], [2]]), beta=0.5)


@pytest.mark.parametrize("dtype", FLOATS)
def test_dot_vdot_mv_outer_inner(dtype):
    x, y = rand(13, dtype), rand(13, dtype)
    M = rand((5, 13), dtype)
    check(tgx.dot(tgx.tensor(x), tgx.tensor(y)), np.dot(x.astype(np.float64), y), dtype, 13)
    check(tgx.tensor(x).vdot(tgx.tensor(y)), np.vdot(x.astype(np.float64), y), dtype, 13)
    check(tgx.mv(tgx.tensor(M), tgx.tensor(x)), M.astype(np.float64) @ x, dtype, 13)
    check(tgx.outer(tgx.tensor(x), tgx.tensor(y[:4])), np.outer(x, y[:4]), dtype, 1)
    check(tgx.ger(tgx.tensor(x), tgx.tensor(y[:4])), np.outer(x, y[:4]), dtype, 1)
    A, B = rand((2, 3, 13), dtype), rand((4, 13), dtype)
    check(tgx.inner(tgx.tensor(A), tgx.tensor(B)), np.inner(A.astype(np.float64), B), dtype, 13)
    check(tgx.inner(scalar(2.0), tgx.tensor(B)), 2.0 * B, dtype, 1)


@pytest.mark.parametrize("dtype", FLOATS)
def test_addmm_baddbmm(dtype):
    inp, m1, m2 = rand((1, 6), dtype), rand((4, 5), dtype), rand((5, 6), dtype)
    ref = 0.5 * inp.astype(np.float64) + 2.0 * (m1.astype(np.float64) @ m2)
    check(tgx.addmm(tgx.tensor(inp), tgx.tensor(m1), tgx.tensor(m2), beta=0.5, alpha=2.0), ref, dtype, 5)
    check(tgx.tensor(inp).addmm(tgx.tensor(m1), tgx.tensor(m2), beta=0.5, alpha=2.0), ref, dtype, 5)
    nan = np.full((4, 6), np.nan, dtype)
    out = tgx.addmm(tgx.tensor(nan), tgx.tensor(m1), tgx.tensor(m2), beta=0)
    check(out, m1.astype(np.float64) @ m2, dtype, 5)
    b1, b2, bi = rand((3, 4, 5), dtype), rand((3, 5, 2), dtype), rand((4, 2), dtype)
    ref = bi.astype(np.float64) + 3.0 * (b1.astype(np.float64) @ b2)
    check(tgx.baddbmm(tgx.tensor(bi), tgx.tensor(b1), tgx.tensor(b2), alpha=3.0), ref, dtype, 5)
    ai = np.arange(6).reshape(2, 3)
    got = tgx.addmm(tgx.tensor(np.ones((2, 2), np.int64)), tgx.tensor(ai), tgx.tensor(ai.T.copy()), beta=2, alpha=3)
    np.testing.assert_array_equal(got.numpy(), 2 + 3 * (ai @ ai.T))


def test_bmm():
    a, b = rand((4, 3, 5)), rand((4, 5, 2))
    check(tgx.bmm(tgx.tensor(a), tgx.tensor(b)), a @ b, np.float64, 5)
    check(tgx.tensor(a).bmm(tgx.tensor(b)), a @ b, np.float64, 5)


@pytest.mark.parametrize("sa,sb,dims", [
    ((3, 4, 5), (4, 5, 6), 2), ((3, 4), (4, 5), 1), ((2, 3), (4, 5), 0),
    ((3, 4, 5), (5, 3, 2), ([0, 2], [1, 0])), ((4, 3), (3, 4), ([1, 0], [0, 1])),
    ((2, 3, 4), (4, 3, 2), ([-1], [0])), ((), (), 0),
])
def test_tensordot(sa, sb, dims):
    a, b = rand(sa), rand(sb)
    check(tgx.tensordot(tensor(a), tensor(b), dims=dims), np.tensordot(a, b, axes=dims), np.float64, 60)


def test_tensordot_errors():
    a = tgx.tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"\[tensordot\]"):
        tgx.tensordot(a, a, dims=([0], [0, 1]))
    with pytest.raises(ValueError, match=r"\[tensordot\] contracted dimensions need to match"):
        tgx.tensordot(a, a, dims=([1], [1 - 1]))
    with pytest.raises(IndexError, match=r"\[tensordot\]"):
        tgx.tensordot(a, a, dims=([5], [0]))
    with pytest.raises(ValueError, match=r"\[tensordot\]"):
        tgx.tensordot(a, a, dims=-1)


EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ij->ji", [(3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bij,bkj->bik", [(2, 3, 4), (2, 5, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("i...->...", [(3, 2, 4)]),
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)]),
    ("ijk,ikl,j->il", [(2, 3, 4), (2, 4, 5), (3,)]),
    ("iij,jk->ik", [(3, 3, 4), (4, 2)]),
    ("ba,ca->bc", [(3, 4), (5, 4)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,kl->ijkl", [(2, 3), (4, 2)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("i,i,i->i", [(4,), (4,), (4,)]),
    ("ij,j->i", [(0, 3), (3,)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),
    ("ij,kj->", [(3, 4), (2, 4)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum_matches_numpy(eq, shapes):
    ops = [rand(s) for s in shapes]
    ref = np.einsum(eq.replace(" ", ""), *ops)
    got = tgx.einsum(eq, *[tgx.tensor(o) for o in ops])
    check(got, ref, np.float64, 64)
    check(tgx.einsum(eq, [tgx.tensor(o) for o in ops]), ref, np.float64, 64)


def test_einsum_broadcast_size1_and_float32_and_transposed():
    a, b = rand((2, 1, 3), np.float32), rand((1, 4, 3), np.float32)
    check(tgx.einsum("bij,bkj->bik", tgx.tensor(a), tgx.tensor(b)),
          np.einsum("bij,bkj->bik", np.broadcast_to(a, (2, 1, 3)).astype(np.float64),
                    np.broadcast_to(b, (2, 4, 3))), np.float32, 3)
    base = rand((5, 4))
    check(tgx.einsum("ij,jk", view_of(base, base.T), tgx.tensor(base)), base.T @ base, np.float64, 5)


def test_einsum_errors():
    a = tgx.tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"\[einsum\]"):
        tgx.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match=r"\[einsum\]"):
        tgx.einsum("ijk->i", a)
    with pytest.raises(ValueError, match=r"\[einsum\]"):
        tgx.einsum("ij,jk->ik", a, a)
    with pytest.raises(ValueError, match=r"\[einsum\]"):
        tgx.einsum("ij->iz", a)
    with pytest.raises(ValueError, match=r"\[einsum\]"):
        tgx.einsum("ii->i", a)
    with pytest.raises(ValueError, match=r"\[einsum\]"):
        tgx.einsum("i1->i", a)
    with pytest.raises(ValueError, match=r"\[einsum\]"):
        tgx.einsum("ij->ii", a)


PORTABLE_SCRIPT = r"""
import numpy as np, tinygrad_ext as tgx
assert tgx._C._simd_level() == "portable", tgx._C._simd_level()
rng = np.random.default_rng(0)
for dt, tol in ((np.float32, 1e-4), (np.float64, 1e-11)):
    for m, k, n in ((1, 1, 1), (7, 13, 97), (145, 257, 17), (6, 16, 8), (0, 3, 2), (3, 0, 2)):
        a = rng.standard_normal((m, k)).astype(dt); b = rng.standard_normal((n, k)).astype(dt).T
        got = (tgx.tensor(a) @ tgx.tensor(b.copy())).numpy()
        assert np.allclose(got, a.astype(np.float64) @ b, atol=tol * max(k, 1)), (m, k, n, dt)
print("ok")
"""


def test_portable_path_in_subprocess():
    env = dict(os.environ, TGX_FORCE_PORTABLE="1")
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    r = subprocess.run([sys.executable, "-c", PORTABLE_SCRIPT], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


def test_against_torch_if_available():
    torch = pytest.importorskip("torch")
    a, b = rand((3, 5, 7), np.float32), rand((7, 2), np.float32)
    ref = torch.matmul(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose((tgx.tensor(a) @ tgx.tensor(b)).numpy(), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", FLOATS)
def test_matrix_vector_layouts(dtype):
    # n == 1 and m == 1 take the GEMV path: rows contiguous, columns contiguous, strided x
    base, xb = rand((300, 7), dtype), rand((600,), dtype)
    for Av in (base, base.T):
        A = view_of(base, Av)
        for xv in (xb[: Av.shape[1]], xb[::-2][: Av.shape[1]]):
            x = view_of(xb, xv)
            check(A @ x, Av.astype(np.float64) @ xv, dtype, Av.shape[1])
            check(tgx.mv(A, x), Av.astype(np.float64) @ xv, dtype, Av.shape[1])
        y = view_of(xb, xb[1 : Av.shape[0] * 2 : 2])
        check(y @ A, xb[1 : Av.shape[0] * 2 : 2].astype(np.float64) @ Av, dtype, Av.shape[0])
    big = rand((2000, 300), dtype)  # large enough to run threaded
    check(tgx.tensor(big) @ tgx.tensor(xb[:300]), big.astype(np.float64) @ xb[:300], dtype, 300)
    x2 = rand((2000,), dtype)
    check(view_of(big, big.T) @ tgx.tensor(x2), big.T.astype(np.float64) @ x2, dtype, 2000)


# ---- blocking edges of the AVX2 (MR 6, NR 16/8, KC 256, MC 144/72) and AVX-512 (MR 8,
# NR 32/16, KC 512, MC 96) kernels, no-pack / pack paths, thread grid, batch-parallel bmm ----
BLOCK_SIZES = [(8, 32, 32), (9, 33, 31), (95, 511, 97), (97, 513, 33), (193, 257, 129),
               (24, 600, 257), (300, 40, 290), (17, 5, 600)]


@pytest.mark.parametrize("m,k,n", BLOCK_SIZES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_mm_block_edges_all_layouts(m, k, n, dtype):
    a, b = rand((m, k), dtype), rand((k, n), dtype)
    ref = a.astype(np.float64) @ b
    at, bt = a.T.copy(), b.T.copy()  # A^T@B and A@B^T layouts (unit row stride operands)
    check(tgx.tensor(a) @ tgx.tensor(b), ref, dtype, k)
    check(view_of(at, at.T) @ tgx.tensor(b), ref, dtype, k)
    check(tgx.tensor(a) @ view_of(bt, bt.T), ref, dtype, k)
    ab, bb = rand((m, 2 * k), dtype), rand((2 * k, n), dtype)  # neither stride is 1
    check(view_of(ab, ab[:, ::2]) @ view_of(bb, bb[::2]),
          ab[:, ::2].astype(np.float64) @ bb[::2], dtype, k)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thread_grid_and_batched(dtype, threads):
    old = tgx.get_num_threads()
    tgx.set_num_threads(threads)
    try:
        for m, k, n in ((257, 130, 300), (1000, 64, 40), (40, 64, 1000)):
            a, b = rand((m, k), dtype), rand((k, n), dtype)
            check(tgx.tensor(a) @ tgx.tensor(b), a.astype(np.float64) @ b, dtype, k)
        a, b = rand((7, 130, 129), dtype), rand((7, 129, 131), dtype)
        check(tgx.bmm(tgx.tensor(a), tgx.tensor(b)), np.matmul(a.astype(np.float64), b), dtype, 129)
        c = rand((7, 130, 131), dtype)
        got = tgx.baddbmm(tgx.tensor(c), tgx.tensor(a), tgx.tensor(b), beta=0.5, alpha=2.0)
        check(got, 0.5 * c + 2.0 * np.matmul(a.astype(np.float64), b), dtype, 129)
    finally:
        tgx.set_num_threads(old)


def test_addmm_beta_accumulates_over_k_blocks():
    for dtype in FLOATS:
        a, b, c = rand((37, 1100), dtype), rand((1100, 45), dtype), rand((37, 45), dtype)
        got = tgx.addmm(tgx.tensor(c), tgx.tensor(a), tgx.tensor(b), beta=-1.5, alpha=0.25)
        check(got, -1.5 * c + 0.25 * (a.astype(np.float64) @ b), dtype, 1100)


AVX2_SCRIPT = r"""
import numpy as np, tinygrad_ext as tgx
rng = np.random.default_rng(0)
for dt, tol in ((np.float32, 1e-4), (np.float64, 1e-11)):
    for m, k, n in ((7, 13, 97), (145, 257, 17), (6, 16, 8), (97, 300, 130), (13, 600, 7)):
        a = rng.standard_normal((m, k)).astype(dt); b = rng.standard_normal((n, k)).astype(dt).T
        ref = a.astype(np.float64) @ b
        for bb in (b.copy(), b):
            got = (tgx.tensor(a) @ tgx.from_numpy(np.ascontiguousarray(bb))).numpy()
            assert np.allclose(got, ref, atol=tol * max(k, 1)), (m, k, n, dt)
        got = (tgx.tensor(a.T.copy()).T @ tgx.tensor(b.T.copy()).T).numpy()
        assert np.allclose(got, ref, atol=tol * max(k, 1)), (m, k, n, dt, "transposed")
print("ok")
"""


def test_avx2_kernel_in_subprocess():
    # on AVX-512 CPUs this runs the AVX2 micro-kernel instead (elsewhere it is the default)
    env = dict(os.environ, TGX_GEMM_NO_AVX512="1")
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    r = subprocess.run([sys.executable, "-c", AVX2_SCRIPT], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


# ---- half-height / half-width micro-kernels: every (mr, nr) edge class of the AVX-512 (MR 8,
# NR 32/16), AVX2 (MR 6, NR 16/8) and portable (MR 6, NR 16) kernels, packed and unpacked B,
# transposed operands, beta != 0; run here and with the AVX2 and portable kernels forced ----
TILE_SCRIPT = r"""
import numpy as np, tinygrad_ext as tgx
rng = np.random.default_rng(5)
bad = []
for dt, tol in ((np.float32, 3e-6), (np.float64, 1e-14)):
    for m in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 17, 40):
        for n in (1, 3, 7, 8, 9, 10, 15, 16, 17, 24, 31, 32, 33, 41):
            k = 19
            a = rng.standard_normal((m, k)).astype(dt)
            b = rng.standard_normal((k, n)).astype(dt)
            c = rng.standard_normal((m, n)).astype(dt)
            ref = a.astype(np.float64) @ b
            ta, tb = tgx.tensor(a), tgx.tensor(b)
            cases = {
                "nn": ta @ tb,
                "nt": ta @ tgx.tensor(b.T.copy()).t(),
                "tn": tgx.tensor(a.T.copy()).t() @ tb,
                "addmm": tgx.addmm(tgx.tensor(c), ta, tgx.tensor(b.T.copy()).t(), beta=0.5),
            }
            for name, got in cases.items():
                want = ref + 0.5 * c if name == "addmm" else ref
                err = np.abs(got.numpy().astype(np.float64) - want).max()
                if not err <= tol * 8 * np.sqrt(k) * max(1.0, np.abs(want).max()):
                    bad.append((np.dtype(dt).name, m, n, name, float(err)))
assert not bad, bad[:10]
print("ok")
"""


@pytest.mark.parametrize("env", KERNEL_ENVS, ids=KERNEL_ENV_IDS)
def test_tile_edge_classes(env):
    run_sweep(TILE_SCRIPT, env)
