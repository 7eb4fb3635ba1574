"""tinygrad_ext.linalg: PyTorch's torch.linalg API.

Matrix products run on tinygrad_ext's own GEMM; factorizations (inv, solve, det, eigh, svd, qr,
cholesky, lstsq, ...) go through NumPy's LAPACK on ``x.numpy()`` and come back as tensors of the
input's dtype. Batched inputs (``(*, m, n)``) are supported everywhere. Integer inputs raise
TypeError; LAPACK failures (singular matrix, not positive-definite) raise LinAlgError, a
RuntimeError as in PyTorch. The norms are differentiable (composed from tinygrad_ext ops; the
SVD-based matrix orders 2, -2 and 'nuc' once); the factorizations are not differentiable yet.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from . import _C

Tensor = _C.Tensor

__all__ = [
    "LinAlgError", "norm", "vector_norm", "matrix_norm", "inv", "solve", "det", "slogdet", "eigh",
    "eigvalsh", "svd", "svdvals", "qr", "cholesky", "lstsq", "pinv", "matrix_rank",
    "matrix_power", "cross", "matmul", "vecdot",
]


class LinAlgError(RuntimeError):
    """A linear-algebra failure (singular matrix, not positive-definite...), as torch.linalg's."""


SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = namedtuple("QRResult", ["Q", "R"])
LstsqResult = namedtuple("LstsqResult", ["solution", "residuals", "rank", "singular_values"])

_FLOAT_NP = {"float32": np.float32, "float64": np.float64}


# ---- helpers ---------------------------------------------------------------------------------
def _dtype_name(t):
    return repr(t.dtype).split(".")[-1]


def _as_tensor(x, op):
    if isinstance(x, Tensor):
        return x
    if x is None:
        raise TypeError(f"[linalg.{op}] expected a Tensor, got None")
    return _C.tensor(x)


def _float_input(x, op):
    """The input as a float32/float64 NumPy array, plus that NumPy dtype."""
    x = _as_tensor(x, op)
    name = _dtype_name(x)
    if name not in _FLOAT_NP:
        raise TypeError(f"[linalg.{op}] expected a floating point tensor (float32 or float64), "
                        f"got {name}")
    return x.numpy(), _FLOAT_NP[name]


def _square(a, op):
    if a.ndim < 2:
        raise ValueError(f"[linalg.{op}] the input tensor must have at least 2 dimensions, "
                         f"got shape {tuple(a.shape)}")
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"[linalg.{op}] a must be batches of square matrices, but they are "
                         f"{a.shape[-2]} by {a.shape[-1]} matrices")


def _matrix(a, op):
    if a.ndim < 2:
        raise ValueError(f"[linalg.{op}] the input tensor must have at least 2 dimensions, "
                         f"got shape {tuple(a.shape)}")


def _out(arr, dtype):
    """A NumPy result as a (C-contiguous) tensor of the given NumPy dtype; 0-d stays 0-d."""
    arr = np.asarray(arr, dtype=dtype)
    if arr.ndim == 0:
        return _C._strided_view(_C.tensor(arr.reshape(1)), [], [], 0)
    return _C.tensor(np.ascontiguousarray(arr))


def _lapack(op, fn, *args, **kwargs):
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    except np.linalg.LinAlgError as e:
        raise LinAlgError(f"[linalg.{op}] {e}") from None


def _autograd_function():
    from .autograd.function import Function
    return Function


def _eps(dtype):
    return float(np.finfo(dtype).eps)


# ---- norms -----------------------------------------------------------------------------------
def _dims(dim, ndim, op):
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        n = max(ndim, 1)
        if not -n <= d < n:
            raise IndexError(f"[linalg.{op}] dimension out of range (expected to be in range of "
                             f"[{-n}, {n - 1}], but got {d})")
        d = d % n
        if d in out:
            raise ValueError(f"[linalg.{op}] dim {d} appears multiple times in the list of dims")
        out.append(d)
    return tuple(out)


def _float_tensor(x, op, dtype=None):
    """The input as a float32/float64 tensor (cast to dtype when given); TypeError otherwise."""
    t = _as_tensor(x, op)
    name = _dtype_name(t)
    if name not in _FLOAT_NP:
        raise TypeError(f"[linalg.{op}] expected a floating point tensor (float32 or float64), "
                        f"got {name}")
    if dtype is not None:
        if repr(dtype).split(".")[-1] not in _FLOAT_NP:
            raise TypeError(f"[linalg.{op}] dtype must be float32 or float64, got {dtype!r}")
        t = t.to(dtype)
    return t


def _squeeze_dims(t, dims):
    for d in sorted(dims, reverse=True):
        t = t.squeeze(d)
    return t


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """Vector ord-norm over dim (all dims when None): sum(|x|**ord)**(1/ord), max/min |x| for
    +-inf, the count of non-zeros for 0. Differentiable (the C++ norm op)."""
    t = _float_tensor(x, "vector_norm", dtype)
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"[linalg.vector_norm] ord must be a number, got {ord!r}")
    dims = _dims(dim, t.ndim, "vector_norm") if t.ndim else ()
    if t.numel() == 0 and ord in (math.inf, -math.inf) and any(t.shape[d] == 0 for d in dims):
        raise ValueError(f"[linalg.vector_norm] cannot compute the {ord}-norm of an empty tensor "
                         "because the operation does not have an identity")
    return t.norm(float(ord), list(dims) if dims else None, keepdim)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


class _SingularValueNorm(_autograd_function()):
    """ord 2 / -2 / 'nuc' of the last two dims through NumPy's SVD. Differentiable once: the
    backward is grad * u v^T (largest / smallest pair) or grad * U V^T (nuc), with the SVD
    factors as constants, so there is no second derivative through these orders."""

    @staticmethod
    def forward(ctx, x, ord):
        a = x.detach().numpy().astype(np.float64)
        u, s, vh = _lapack("matrix_norm", np.linalg.svd, a, full_matrices=False)
        if ord == "nuc":
            r, d = s.sum(-1), u @ vh
        else:
            k = 0 if ord == 2 else -1
            r = s[..., k]
            d = u[..., :, k:k + 1 if k == 0 else None] @ vh[..., k:k + 1 if k == 0 else None, :]
        npdt = _FLOAT_NP[_dtype_name(x)]
        ctx.direction = _out(d, npdt)
        return _out(r, npdt)

    @staticmethod
    def backward(ctx, g):
        return g.unsqueeze(-1).unsqueeze(-1) * ctx.direction, None


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norm over the two dims `dim`: 'fro', 'nuc', +-1 (max/min column sum), +-2 (largest /
    smallest singular value), +-inf (max/min row sum). 'fro' and +-1/+-inf are composed from
    differentiable ops; 2, -2 and 'nuc' use NumPy's SVD and are differentiable once."""
    t = _float_tensor(A, "matrix_norm", dtype)
    if isinstance(ord, bool) or ord not in _MATRIX_ORDS:
        raise ValueError(f"[linalg.matrix_norm] order {ord!r} not supported; expected one of "
                         f"{_MATRIX_ORDS}")
    _matrix(t, "matrix_norm")
    dims = _dims(dim, t.ndim, "matrix_norm")
    if len(dims) != 2:
        raise ValueError(f"[linalg.matrix_norm] dim must be a 2-tuple, got {dim}")
    d0, d1 = dims
    if ord == "fro":
        return t.norm(2.0, [d0, d1], keepdim)
    if t.numel() == 0 and ord != "fro":
        if ord != "nuc" and min(t.shape[d0], t.shape[d1]) == 0:
            raise ValueError(f"[linalg.matrix_norm] cannot compute the {ord} norm of an empty "
                             f"matrix (shape {tuple(t.shape)}): the operation has no identity")
    if ord in (1, -1, math.inf, -math.inf):
        summed, over = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = t.abs().sum(summed, keepdim=True)
        r = s.amax(over, keepdim=True) if ord > 0 else s.amin(over, keepdim=True)
    else:
        m = t.movedim((d0, d1), (-2, -1))
        if m.numel() == 0:
            r = _C.zeros(tuple(m.shape[:-2]), dtype=t.dtype)
        else:
            r = _SingularValueNorm.apply(m, ord)
        for d in sorted((d0, d1)):
            r = r.unsqueeze(d)
    return r if keepdim else _squeeze_dims(r, (d0, d1))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a vector norm when dim is an int or when ord is None and the input is
    flattened; a matrix norm when dim is a 2-tuple or ord is given for a 2-D input."""
    t = _as_tensor(A, "norm")
    if isinstance(dim, int):
        return vector_norm(t, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is not None and len(tuple(dim)) == 2:
        return matrix_norm(t, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(t, 2, dim, keepdim, dtype=dtype)
    if t.dim() == 2:
        return matrix_norm(t, ord, (-2, -1), keepdim, dtype=dtype)
    if t.dim() == 1:
        return vector_norm(t, ord, dim, keepdim, dtype=dtype)
    raise ValueError(f"[linalg.norm] with ord={ord!r}, the input must be 1-D or 2-D or dim must "
                     f"be given, got a {t.dim()}-D tensor")


# ---- factorizations and solvers ----------------------------------------------------------------
def inv(A):
    """Inverse of each square matrix in A; LinAlgError if one is singular."""
    a, dt = _float_input(A, "inv")
    _square(a, "inv")
    r = _lapack("inv", np.linalg.inv, a)
    if not np.all(np.isfinite(r)) and np.all(np.isfinite(a)):
        raise LinAlgError("[linalg.inv] the matrix is singular")
    return _out(r, dt)


def solve(A, B, *, left=True):
    """X with A @ X = B (left) or X @ A = B; B is a batch of vectors when B.dim() == A.dim() - 1."""
    a, dt = _float_input(A, "solve")
    b, dtb = _float_input(B, "solve")
    dt = np.promote_types(dt, dtb).type
    _square(a, "solve")
    vector = b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]
    if not left:
        if vector:
            return _out(_lapack("solve", np.linalg.solve, np.swapaxes(a, -1, -2), b[..., None])[..., 0], dt)
        bt = np.swapaxes(b, -1, -2)
        _check_rhs(a, bt, "solve")
        x = _lapack("solve", np.linalg.solve, np.swapaxes(a, -1, -2), bt)
        return _out(np.swapaxes(x, -1, -2), dt)
    if vector:
        return _out(_lapack("solve", np.linalg.solve, a, b[..., None])[..., 0], dt)
    _check_rhs(a, b, "solve")
    return _out(_lapack("solve", np.linalg.solve, a, b), dt)


def _check_rhs(a, b, op):
    if b.ndim < 1 or (b.ndim >= 2 and b.shape[-2] != a.shape[-1]) or b.ndim < 2:
        raise ValueError(f"[linalg.{op}] incompatible shapes of A {tuple(a.shape)} and "
                         f"B {tuple(b.shape)}")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"[linalg.{op}] batch dimensions of A {tuple(a.shape)} and "
                         f"B {tuple(b.shape)} cannot be broadcast") from None


def det(A):
    """Determinant of each square matrix in A."""
    a, dt = _float_input(A, "det")
    _square(a, "det")
    return _out(_lapack("det", np.linalg.det, a), dt)


def slogdet(A):
    """(sign, logabsdet) of each square matrix in A; a singular matrix gives (0, -inf)."""
    a, dt = _float_input(A, "slogdet")
    _square(a, "slogdet")
    sign, logabs = _lapack("slogdet", np.linalg.slogdet, a)
    return SlogdetResult(_out(sign, dt), _out(logabs, dt))


def _uplo(UPLO, op):
    if UPLO not in ("L", "U"):
        raise ValueError(f"[linalg.{op}] UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices; only the UPLO
    triangle is read."""
    a, dt = _float_input(A, "eigh")
    _square(a, "eigh")
    w, v = _lapack("eigh", np.linalg.eigh, a, UPLO=_uplo(UPLO, "eigh"))
    return EighResult(_out(w, dt), _out(v, dt))


def eigvalsh(A, UPLO="L"):
    """Eigenvalues (ascending) of symmetric matrices."""
    a, dt = _float_input(A, "eigvalsh")
    _square(a, "eigvalsh")
    return _out(_lapack("eigvalsh", np.linalg.eigvalsh, a, UPLO=_uplo(UPLO, "eigvalsh")), dt)


def svd(A, full_matrices=True, *, driver=None):
    """A = U @ diag(S) @ Vh with S descending; full_matrices=False gives the reduced U, Vh."""
    a, dt = _float_input(A, "svd")
    _matrix(a, "svd")
    m, n = a.shape[-2:]
    if a.size == 0:
        k = min(m, n)
        batch = a.shape[:-2]
        um, vn = (m, n) if full_matrices else (k, k)
        U = np.broadcast_to(np.eye(m, um), batch + (m, um))
        Vh = np.broadcast_to(np.eye(vn, n), batch + (vn, n))
        return SVDResult(_out(U, dt), _out(np.zeros(batch + (k,)), dt), _out(Vh, dt))
    u, s, vh = _lapack("svd", np.linalg.svd, a, full_matrices=full_matrices)
    return SVDResult(_out(u, dt), _out(s, dt), _out(vh, dt))


def svdvals(A, *, driver=None):
    """Singular values (descending) of each matrix in A."""
    a, dt = _float_input(A, "svdvals")
    _matrix(a, "svdvals")
    if a.size == 0:
        return _out(np.zeros(a.shape[:-2] + (min(a.shape[-2:]),)), dt)
    return _out(_lapack("svdvals", np.linalg.svd, a, compute_uv=False), dt)


def qr(A, mode="reduced"):
    """A = Q @ R; mode 'reduced' (default), 'complete', or 'r' (Q is then empty)."""
    a, dt = _float_input(A, "qr")
    _matrix(a, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"[linalg.qr] qr received unrecognized mode {mode!r} but expected one "
                         "of 'reduced' (default), 'r', or 'complete'")
    if mode == "r":
        r = _lapack("qr", np.linalg.qr, a, mode="r")
        return QRResult(_out(np.zeros((0,)), dt), _out(r, dt))
    q, r = _lapack("qr", np.linalg.qr, a, mode=mode)
    return QRResult(_out(q, dt), _out(r, dt))


def cholesky(A, *, upper=False):
    """L with A = L @ L^T (or U with A = U^T @ U when upper); LinAlgError if A is not
    positive-definite."""
    a, dt = _float_input(A, "cholesky")
    _square(a, "cholesky")
    L = _lapack("cholesky", np.linalg.cholesky, a)
    if upper:
        L = np.swapaxes(L, -1, -2)
    return _out(L, dt)


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A @ X = B as PyTorch (CPU): rank is computed; residuals only
    when m > n and every matrix has full rank; singular_values only for 'gelsd'/'gelss'."""
    a, dt = _float_input(A, "lstsq")
    b, dtb = _float_input(B, "lstsq")
    dt = np.promote_types(dt, dtb).type
    _matrix(a, "lstsq")
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    driver = driver or "gelsy"
    if driver not in drivers:
        raise ValueError(f"[linalg.lstsq] driver must be one of {drivers}, got {driver!r}")
    vector = b.ndim == a.ndim - 1
    if vector:
        b = b[..., None]
    if b.ndim < 2 or b.shape[-2] != a.shape[-2]:
        raise ValueError(f"[linalg.lstsq] incompatible shapes of A {tuple(A.shape)} and "
                         f"B {tuple(B.shape)}")
    m, n = a.shape[-2:]
    k = b.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + (m, n))
    b = np.broadcast_to(b, batch + (m, k))
    if rcond is None:
        rcond = _eps(dt) * max(m, n)
    X = np.zeros(batch + (n, k))
    ranks = np.zeros(batch, dtype=np.int64)
    svals = np.zeros(batch + (min(m, n),))
    for idx in np.ndindex(*batch):
        x, _, rank, sv = _lapack("lstsq", np.linalg.lstsq, a[idx].astype(np.float64),
                                 b[idx].astype(np.float64), rcond=rcond)
        X[idx], ranks[idx], svals[idx] = x, rank, sv
    if driver != "gelsy" and m > n and np.all(ranks == n):
        resid = ((np.einsum("...ij,...jk->...ik", a, X) - b) ** 2).sum(axis=-2)
    else:
        resid = np.zeros((0,))
    if vector:
        X = X[..., 0]
        if resid.size:
            resid = resid[..., 0]
    rank_t = _out(ranks, np.int64) if driver != "gels" else _out(np.zeros((0,)), np.int64)
    sv_t = _out(svals, dt) if driver in ("gelsd", "gelss") else _out(np.zeros((0,)), dt)
    return LstsqResult(_out(X, dt), _out(resid, dt), rank_t, sv_t)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """Moore-Penrose pseudo-inverse; singular values below max(atol, rtol * S.max()) are dropped
    (rtol defaults to eps * max(m, n) when atol is not given, as PyTorch)."""
    a, dt = _float_input(A, "pinv")
    _matrix(a, "pinv")
    m, n = a.shape[-2:]
    if a.size == 0:
        return _out(np.zeros(a.shape[:-2] + (n, m)), dt)
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else _eps(dt) * max(m, n)
    if hermitian:
        w, v = _lapack("pinv", np.linalg.eigh, a)
        s = np.abs(w)
        cut = np.maximum(atol or 0.0, rtol * s.max(axis=-1, keepdims=True))
        winv = np.where(s > cut, 1.0 / np.where(w == 0, 1, w), 0.0)
        return _out((v * winv[..., None, :]) @ np.swapaxes(v, -1, -2), dt)
    u, s, vh = _lapack("pinv", np.linalg.svd, a, full_matrices=False)
    cut = np.maximum(atol or 0.0, rtol * s.max(axis=-1, keepdims=True))
    sinv = np.where(s > cut, 1.0 / np.where(s == 0, 1, s), 0.0)
    return _out(np.swapaxes(vh, -1, -2) @ (sinv[..., :, None] * np.swapaxes(u, -1, -2)), dt)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """Number of singular values above max(atol, rtol * S.max()) (int64)."""
    a, dt = _float_input(A, "matrix_rank")
    _matrix(a, "matrix_rank")
    m, n = a.shape[-2:]
    if a.size == 0:
        return _out(np.zeros(a.shape[:-2], dtype=np.int64), np.int64)
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else _eps(dt) * max(m, n)
    if hermitian:
        s = np.abs(_lapack("matrix_rank", np.linalg.eigvalsh, a))
    else:
        s = _lapack("matrix_rank", np.linalg.svd, a, compute_uv=False)
    cut = np.maximum(atol or 0.0, rtol * s.max(axis=-1, keepdims=True))
    return _out((s > cut).sum(axis=-1), np.int64)


def matrix_power(A, n):
    """A ** n for square matrices by repeated squaring on tinygrad_ext's GEMM; n < 0 inverts
    first (floating dtypes only); n == 0 gives the identity."""
    t = _as_tensor(A, "matrix_power")
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"[linalg.matrix_power] n must be an int, got {type(n).__name__}")
    if t.dim() < 2 or t.shape[-1] != t.shape[-2]:
        raise ValueError(f"[linalg.matrix_power] expected a batch of square matrices, got shape "
                         f"{tuple(t.shape)}")
    if n == 0:
        eye = np.broadcast_to(np.eye(t.shape[-1]), tuple(t.shape))
        return _C.tensor(np.ascontiguousarray(eye), dtype=t.dtype)
    if n < 0:
        t, n = inv(t), -n
    result = None
    base = t
    while n:
        if n & 1:
            result = base if result is None else _C.matmul(result, base)
        n >>= 1
        if n:
            base = _C.matmul(base, base)
    return result if result is not t else t.clone()


def cross(input, other, *, dim=-1):
    """Cross product of 3-vectors along dim (inputs broadcast)."""
    a, b = _as_tensor(input, "cross"), _as_tensor(other, "cross")
    x, y = a.numpy(), b.numpy()
    nd = max(x.ndim, y.ndim)
    if not -nd <= dim < nd:
        raise IndexError(f"[linalg.cross] dimension out of range (expected to be in range of "
                         f"[{-nd}, {nd - 1}], but got {dim})")
    try:
        shape = np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(f"[linalg.cross] shapes {tuple(x.shape)} and {tuple(y.shape)} cannot be "
                         "broadcast together") from None
    if shape[dim] != 3:
        raise ValueError(f"[linalg.cross] inputs dimension {dim} must have length 3, got "
                         f"{shape[dim]}")
    x, y = np.broadcast_to(x, shape), np.broadcast_to(y, shape)
    r = np.cross(x, y, axis=dim)
    return _C.tensor(np.ascontiguousarray(r), dtype=_C.result_type(a, b))


def matmul(input, other):
    """Alias of tinygrad_ext.matmul."""
    return _C.matmul(input, other)


def vecdot(x, y, *, dim=-1):
    """Dot product of vectors along dim, broadcasting the other dims."""
    a, b = _as_tensor(x, "vecdot"), _as_tensor(y, "vecdot")
    if dim == -1:
        return _C.einsum("...i,...i->...", a, b)
    xa, ya = a.numpy(), b.numpy()
    return _out((xa * ya).sum(axis=dim), np.result_type(xa, ya))
