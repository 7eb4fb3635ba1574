import math

import numpy as np
import pytest
import tinygrad_ext as tgx

LA = tgx.linalg
RNG = np.random.default_rng(7)
FLOATS = [np.float32, np.float64]


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


def rand(shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def spd(n, batch=(), dtype=np.float64):
    a = rand(batch + (n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def close(t, ref, dtype):
    assert isinstance(t, tgx.Tensor)
    assert t.dtype == getattr(tgx, np.dtype(dtype).name)
    got = t.numpy()
    assert got.shape == np.shape(ref)
    np.testing.assert_allclose(got, ref, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch", [(), (3,), (2, 2)])
def test_inv_det_slogdet(dtype, batch):
    a = spd(4, batch, dtype)
    close(LA.inv(tgx.tensor(a)), np.linalg.inv(a.astype(np.float64)), dtype)
    close(LA.det(tgx.tensor(a)), np.linalg.det(a.astype(np.float64)), dtype)
    s = LA.slogdet(tgx.tensor(a))
    sign, logabs = np.linalg.slogdet(a.astype(np.float64))
    close(s.sign, sign, dtype)
    close(s.logabsdet, logabs, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_solve(dtype):
    a, b, v = spd(5, (2,), dtype), rand((2, 5, 3), dtype), rand((2, 5), dtype)
    close(LA.solve(tgx.tensor(a), tgx.tensor(b)), np.linalg.solve(a.astype(np.float64), b), dtype)
    close(LA.solve(tgx.tensor(a), tgx.tensor(v)), np.linalg.solve(a.astype(np.float64), v[..., None])[..., 0], dtype)
    bl = rand((2, 3, 5), dtype)
    ref = np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2).astype(np.float64), np.swapaxes(bl, -1, -2)), -1, -2)
    close(LA.solve(tgx.tensor(a), tgx.tensor(bl), left=False), ref, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_eigh_eigvalsh(dtype):
    a = spd(5, (3,), dtype)
    w, v = LA.eigh(tgx.tensor(a))
    rw = np.linalg.eigvalsh(a.astype(np.float64))
    close(w, rw, dtype)
    V = v.numpy().astype(np.float64)
    np.testing.assert_allclose(V @ np.apply_along_axis(np.diag, -1, rw) @ np.swapaxes(V, -1, -2), a, **tol(dtype))
    close(LA.eigvalsh(tgx.tensor(a), UPLO="U"), rw, dtype)
    r = LA.eigh(tgx.tensor(a))
    assert r.eigenvalues is r[0] and r.eigenvectors is r[1]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (2, 5, 3)])
def test_svd_svdvals(dtype, shape):
    a = rand(shape, dtype)
    s_ref = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    for full in (True, False):
        U, S, Vh = LA.svd(tgx.tensor(a), full_matrices=full)
        close(S, s_ref, dtype)
        m, n = shape[-2:]
        k = min(m, n)
        assert U.shape == shape[:-2] + ((m, m) if full else (m, k))
        assert Vh.shape == shape[:-2] + ((n, n) if full else (k, n))
        u, vh = U.numpy()[..., :k].astype(np.float64), Vh.numpy()[..., :k, :]
        np.testing.assert_allclose((u * s_ref[..., None, :]) @ vh, a, **tol(dtype))
    close(LA.svdvals(tgx.tensor(a)), s_ref, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_qr_cholesky(dtype):
    a = rand((2, 5, 3), dtype)
    Q, R = LA.qr(tgx.tensor(a))
    assert Q.shape == (2, 5, 3) and R.shape == (2, 3, 3)
    np.testing.assert_allclose(Q.numpy() @ R.numpy(), a, **tol(dtype))
    Q, R = LA.qr(tgx.tensor(a), mode="complete")
    assert Q.shape == (2, 5, 5)
    Q, R = LA.qr(tgx.tensor(a), mode="r")
    assert Q.shape == (0,) and R.shape == (2, 3, 3)
    s = spd(4, (2,), dtype)
    L = LA.cholesky(tgx.tensor(s))
    close(L, np.linalg.cholesky(s.astype(np.float64)), dtype)
    U = LA.cholesky(tgx.tensor(s), upper=True)
    close(U, np.swapaxes(np.linalg.cholesky(s.astype(np.float64)), -1, -2), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_lstsq_pinv_rank(dtype):
    a, b = rand((2, 6, 3), dtype), rand((2, 6, 2), dtype)
    r = LA.lstsq(tgx.tensor(a), tgx.tensor(b))
    ref = np.stack([np.linalg.lstsq(a[i].astype(np.float64), b[i], rcond=None)[0] for i in range(2)])
    close(r.solution, ref, dtype)
    assert r.rank.numpy().tolist() == [3, 3]
    assert r.residuals.shape == (0,) and r.singular_values.shape == (0,)
    r = LA.lstsq(tgx.tensor(a), tgx.tensor(b), driver="gelsd")
    assert r.residuals.shape == (2, 2) and r.singular_values.shape == (2, 3)
    close(r.residuals, ((a.astype(np.float64) @ ref - b) ** 2).sum(-2), dtype)
    close(LA.pinv(tgx.tensor(a)), np.linalg.pinv(a.astype(np.float64)), dtype)
    low = rand((5, 2)) @ rand((2, 4))
    assert LA.matrix_rank(tgx.tensor(low)).item() == 2
    assert LA.matrix_rank(tgx.tensor(low)).dtype == tgx.int64
    h = spd(3, (), dtype)
    close(LA.pinv(tgx.tensor(h), hermitian=True), np.linalg.pinv(h.astype(np.float64)), dtype)


def test_lstsq_against_torch():
    torch = pytest.importorskip("torch")
    a, b = rand((7, 3)), rand((7, 2))
    for driver in ("gelsy", "gelsd", "gels"):
        r = LA.lstsq(tgx.tensor(a), tgx.tensor(b), driver=driver)
        t = torch.linalg.lstsq(torch.from_numpy(a), torch.from_numpy(b), driver=driver)
        np.testing.assert_allclose(r.solution.numpy(), t.solution.numpy(), atol=1e-10)
        assert r.residuals.shape == tuple(t.residuals.shape)
        assert r.rank.shape == tuple(t.rank.shape)
        assert r.singular_values.shape == tuple(t.singular_values.shape)


@pytest.mark.parametrize("dtype", FLOATS)
def test_vector_norms(dtype):
    x = rand((3, 4, 5), dtype)
    x64 = x.astype(np.float64)
    for ord in (2, 1, 3, 0.5, 0, math.inf, -math.inf):
        for dim in (None, 1, (0, 2), -1):
            for keepdim in (False, True):
                got = LA.vector_norm(tgx.tensor(x), ord=ord, dim=dim, keepdim=keepdim)
                ax, a = dim, np.abs(x64)
                if ord == math.inf:
                    ref = a.max(axis=ax, keepdims=keepdim)
                elif ord == -math.inf:
                    ref = a.min(axis=ax, keepdims=keepdim)
                elif ord == 0:
                    ref = (a != 0).sum(axis=ax, keepdims=keepdim).astype(np.float64)
                else:
                    ref = (a ** ord).sum(axis=ax, keepdims=keepdim) ** (1 / ord)
                close(got, ref, dtype)
    close(LA.norm(tgx.tensor(x)), np.linalg.norm(x64.reshape(-1)), dtype)
    close(LA.norm(tgx.tensor(x), dim=1), np.linalg.norm(x64, axis=1), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_matrix_norms(dtype):
    a = rand((2, 4, 3), dtype)
    for ord in ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf):
        ref = np.linalg.norm(a.astype(np.float64), ord=ord, axis=(-2, -1))
        close(LA.matrix_norm(tgx.tensor(a), ord=ord), ref, dtype)
        close(LA.norm(tgx.tensor(a), ord=ord, dim=(-2, -1)), ref, dtype)
    close(LA.matrix_norm(tgx.tensor(a), dim=(0, 2), keepdim=True),
          np.linalg.norm(a.astype(np.float64), axis=(0, 2), keepdims=True), dtype)
    close(LA.norm(tgx.tensor(a[0]), ord="nuc"), np.linalg.norm(a[0].astype(np.float64), "nuc"), dtype)


def test_matrix_power_and_cross():
    a = rand((2, 3, 3))
    for n in (0, 1, 2, 5, -1, -3):
        close(LA.matrix_power(tgx.tensor(a), n), np.linalg.matrix_power(a, n), np.float64)
    ai = np.arange(9).reshape(3, 3)
    np.testing.assert_array_equal(LA.matrix_power(tgx.tensor(ai), 3).numpy(), np.linalg.matrix_power(ai, 3))
    x, y = rand((4, 3)), rand((1, 3))
    close(LA.cross(tgx.tensor(x), tgx.tensor(y)), np.cross(x, y), np.float64)
    close(LA.vecdot(tgx.tensor(x), tgx.tensor(y)), (x * y).sum(-1), np.float64)


def test_empty_inputs():
    e = np.zeros((0, 0))
    close(LA.inv(tgx.tensor(e)), e, np.float64)
    close(LA.det(tgx.tensor(np.zeros((2, 0, 0)))), np.ones(2), np.float64)
    assert LA.svd(tgx.tensor(np.zeros((3, 0)))).S.shape == (0,)
    assert LA.matrix_rank(tgx.tensor(np.zeros((0, 3)))).item() == 0


def test_errors():
    sing = tgx.tensor(np.zeros((3, 3)))
    with pytest.raises(LA.LinAlgError, match=r"\[linalg.inv\]"):
        LA.inv(sing)
    assert issubclass(LA.LinAlgError, RuntimeError)
    with pytest.raises(LA.LinAlgError, match=r"\[linalg.cholesky\]"):
        LA.cholesky(tgx.tensor(-np.eye(3)))
    with pytest.raises(LA.LinAlgError, match=r"\[linalg.solve\]"):
        LA.solve(sing, tgx.tensor(np.ones((3, 1))))
    with pytest.raises(TypeError, match=r"\[linalg.inv\].*int64"):
        LA.inv(tgx.tensor(np.eye(3, dtype=np.int64)))
    with pytest.raises(TypeError, match=r"\[linalg.vector_norm\]"):
        LA.vector_norm(tgx.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"\[linalg.det\].*square"):
        LA.det(tgx.tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"\[linalg.svd\]"):
        LA.svd(tgx.tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"\[linalg.matrix_norm\]"):
        LA.matrix_norm(tgx.tensor(np.zeros((2, 2))), ord=3)
    with pytest.raises(IndexError, match=r"\[linalg.vector_norm\]"):
        LA.vector_norm(tgx.tensor(np.zeros((2, 2))), dim=2)
    with pytest.raises(ValueError, match=r"\[linalg.qr\]"):
        LA.qr(tgx.tensor(np.zeros((2, 2))), mode="bad")
    with pytest.raises(ValueError, match=r"\[linalg.eigh\]"):
        LA.eigh(tgx.tensor(np.eye(2)), UPLO="X")
    with pytest.raises(TypeError):
        LA.inv(None)


def test_against_torch_if_available():
    torch = pytest.importorskip("torch")
    a = spd(4, (2,))
    for name in ("inv", "det", "cholesky", "eigvalsh", "svdvals", "pinv"):
        got = getattr(LA, name)(tgx.tensor(a)).numpy()
        ref = getattr(torch.linalg, name)(torch.from_numpy(a)).numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)


# ---- norms are differentiable ---------------------------------------------------------------
def _norm_grads(lib, fn, x, g):
    t = lib.tensor(x.copy(), dtype=lib.float64, requires_grad=True)
    out = fn(lib, t)
    out.backward(lib.tensor(g, dtype=lib.float64))
    return out.detach().numpy(), np.zeros(x.shape) if t.grad is None else t.grad.numpy()  # ord 0


VECTOR_CASES = [(o, d, k) for o in (2, 1, 3, 0.5, -1, 0, math.inf, -math.inf)
                for d, k in ((None, False), (1, True), ((0, 2), False), (-1, False))]


@pytest.mark.parametrize("ord,dim,keepdim", VECTOR_CASES)
def test_vector_norm_grad_against_torch(ord, dim, keepdim):
    torch = pytest.importorskip("torch")
    x = rand((3, 4, 5))
    fn = lambda L, t: L.linalg.vector_norm(t, ord=ord, dim=dim, keepdim=keepdim)  # noqa: E731
    shape = torch.linalg.vector_norm(torch.tensor(x), ord=ord, dim=dim, keepdim=keepdim).shape
    g = rand(tuple(shape))
    out, grad = _norm_grads(tgx, fn, x, g)
    t_out, t_grad = _norm_grads(torch, fn, x, g)
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])
@pytest.mark.parametrize("dim,keepdim", [((-2, -1), False), ((0, 2), True), ((2, 0), False)])
def test_matrix_norm_grad_against_torch(ord, dim, keepdim):
    torch = pytest.importorskip("torch")
    x = rand((3, 4, 5))
    fn = lambda L, t: L.linalg.matrix_norm(t, ord=ord, dim=dim, keepdim=keepdim)  # noqa: E731
    shape = torch.linalg.matrix_norm(torch.tensor(x), ord=ord, dim=dim, keepdim=keepdim).shape
    g = rand(tuple(shape))
    out, grad = _norm_grads(tgx, fn, x, g)
    t_out, t_grad = _norm_grads(torch, fn, x, g)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("ord", [2, 1, 3, math.inf, -math.inf])
def test_vector_norm_gradcheck(ord):
    x = tgx.tensor(rand((3, 4))).requires_grad_(True)
    f = lambda t: LA.vector_norm(t, ord=ord, dim=1)  # noqa: E731
    assert tgx.autograd.gradcheck(f, (x,))
    if ord in (2, 3):
        assert tgx.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])
def test_matrix_norm_gradcheck(ord):
    x = tgx.tensor(rand((2, 3, 4))).requires_grad_(True)
    assert tgx.autograd.gradcheck(lambda t: LA.matrix_norm(t, ord=ord), (x,))
    if ord == "fro":
        assert tgx.autograd.gradgradcheck(lambda t: LA.norm(t, dim=(1, 2)), (x,))


def test_norm_dtype_and_errors():
    x = tgx.tensor(rand((2, 3)).astype(np.float32))
    assert LA.vector_norm(x, dtype=tgx.float64).dtype == tgx.float64
    assert LA.matrix_norm(x, ord="nuc").dtype == tgx.float32
    with pytest.raises(ValueError, match=r"\[linalg.vector_norm\] cannot compute the inf-norm"):
        LA.vector_norm(tgx.zeros(0, 3), ord=math.inf, dim=0)
    with pytest.raises(TypeError, match=r"\[linalg.vector_norm\]"):
        LA.vector_norm(x, ord="fro")
