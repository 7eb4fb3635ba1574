"""Autograd of the matmul family: gradcheck (float64), jvp vs finite differences, gradgradcheck,
PyTorch parity of forward and grads for broadcast and vector cases."""

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(1)


def t64(a, requires_grad=False):
    t = tgx.tensor(np.asarray(a, dtype=np.float64), dtype=tgx.float64)
    return t.requires_grad_() if requires_grad else t


def leaf(shape, transposed=False):
    arr = RNG.standard_normal(shape)
    if transposed and len(shape) >= 2:
        t = t64(np.ascontiguousarray(np.swapaxes(arr, -1, -2))).mT
        assert not t.is_contiguous() or 1 in shape[-2:]
        return t.requires_grad_()
    return t64(arr, True)


def check_jvp(f, shapes, eps=1e-6):
    xs = [RNG.standard_normal(s) for s in shapes]
    vs = [RNG.standard_normal(s) for s in shapes]
    out, jv = tgx.func.jvp(f, tuple(t64(x) for x in xs), tuple(t64(v) for v in vs))
    plus = f(*[t64(x + eps * v) for x, v in zip(xs, vs)]).numpy()
    minus = f(*[t64(x - eps * v) for x, v in zip(xs, vs)]).numpy()
    np.testing.assert_allclose(out.numpy(), f(*[t64(x) for x in xs]).numpy(), rtol=1e-12)
    np.testing.assert_allclose(jv.numpy(), (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-7)


# (name, fn, operand shapes)
CASES = [
    ("matmul_2d", tgx.matmul, [(3, 4), (4, 5)]),
    ("matmul_vec_mat", tgx.matmul, [(4,), (4, 5)]),
    ("matmul_mat_vec", tgx.matmul, [(3, 4), (4,)]),
    ("matmul_vec_vec", tgx.matmul, [(4,), (4,)]),
    ("matmul_batch_bcast", tgx.matmul, [(2, 1, 3, 4), (5, 4, 2)]),
    ("matmul_batch_vec", tgx.matmul, [(2, 3, 4), (4,)]),
    ("matmul_vec_batch", tgx.matmul, [(4,), (2, 4, 3)]),
    ("mm", tgx.mm, [(3, 4), (4, 2)]),
    ("bmm", tgx.bmm, [(2, 3, 4), (2, 4, 2)]),
    ("mv", tgx.mv, [(3, 4), (4,)]),
    ("dot", tgx.dot, [(5,), (5,)]),
    ("vdot", tgx.vdot, [(5,), (5,)]),
    ("outer", tgx.outer, [(3,), (4,)]),
    ("inner", tgx.inner, [(3, 4), (2, 4)]),
    ("inner_0d", tgx.inner, [(), (3,)]),
    ("addmm", lambda i, a, b: tgx.addmm(i, a, b, beta=0.5, alpha=2.0), [(3, 5), (3, 4), (4, 5)]),
    ("addmm_bcast", lambda i, a, b: tgx.addmm(i, a, b), [(5,), (3, 4), (4, 5)]),
    ("baddbmm", lambda i, a, b: tgx.baddbmm(i, a, b, beta=-1.0, alpha=0.5), [(1, 3, 2), (2, 3, 4), (2, 4, 2)]),
    ("tensordot_int", lambda a, b: tgx.tensordot(a, b, dims=2), [(2, 3, 4), (3, 4, 2)]),
    ("tensordot_lists", lambda a, b: tgx.tensordot(a, b, dims=([1, 0], [0, 2])), [(3, 4, 2), (4, 5, 3)]),
    ("einsum_mm", lambda a, b: tgx.einsum("ij,jk->ik", a, b), [(3, 4), (4, 5)]),
    ("einsum_implicit", lambda a, b: tgx.einsum("ij,jk", a, b), [(3, 4), (4, 2)]),
    ("einsum_diag", lambda a: tgx.einsum("ii->i", a), [(3, 3)]),
    ("einsum_trace", lambda a: tgx.einsum("ii", a), [(3, 3)]),
    ("einsum_sum_only", lambda a, b: tgx.einsum("ijk,ik->j", a, b), [(2, 3, 4), (2, 4)]),
    ("einsum_ellipsis", lambda a, b: tgx.einsum("...ij,...jk->...ik", a, b), [(2, 1, 3, 4), (5, 4, 2)]),
    ("einsum_mid_ellipsis", lambda a, b: tgx.einsum("i...j,j->i...", a, b), [(3, 2, 4), (4,)]),
    ("einsum_outer", lambda a, b: tgx.einsum("ij,k->ijk", a, b), [(2, 3), (4,)]),
    ("einsum_three", lambda a, b, c: tgx.einsum("i,i,i->", a, b, c), [(3,), (3,), (3,)]),
    ("einsum_bcast", lambda a, b: tgx.einsum("ij,ij->ij", a, b), [(1, 3), (2, 3)]),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_gradcheck(name, fn, shapes, transposed):
    assert gradcheck(fn, [leaf(s, transposed) for s in shapes])


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_jvp_matches_finite_differences(name, fn, shapes):
    check_jvp(fn, shapes)


@pytest.mark.parametrize("name,fn,shapes", [c for c in CASES if c[0] in (
    "matmul_2d", "matmul_vec_mat", "matmul_batch_bcast", "matmul_mat_vec", "addmm", "bmm",
    "tensordot_lists", "einsum_mm", "einsum_diag")], ids=lambda x: x if isinstance(x, str) else "")
def test_gradgradcheck(name, fn, shapes):
    assert gradgradcheck(fn, [leaf(s) for s in shapes])


def test_names_and_dtypes():
    a, b = t64(RNG.standard_normal((3, 4)), True), t64(RNG.standard_normal((4, 2)), True)
    assert tgx.mm(a, b).grad_fn.name() == "MmBackward0"
    assert tgx.addmm(t64(np.zeros(2)), a, b).grad_fn.name() == "AddmmBackward0"
    # mixed dtypes: the float32 operand gets a float32 grad
    c = tgx.tensor(np.ones((4, 2), dtype=np.float32)).requires_grad_()
    tgx.matmul(a, c).sum().backward()
    assert c.grad.dtype == tgx.float32 and c.grad.shape == (4, 2)
    np.testing.assert_allclose(c.grad.numpy(), np.repeat(a.detach().numpy().sum(0)[:, None], 2, 1), rtol=1e-6)
    i = tgx.tensor(np.arange(6).reshape(2, 3))
    assert not tgx.matmul(i, tgx.tensor(np.arange(3))).requires_grad


def test_addmm_beta_zero_ignores_input():
    i = t64(np.full((2, 2), np.nan), True)
    a, b = t64(np.eye(2), True), t64(np.ones((2, 2)), True)
    tgx.addmm(i, a, b, beta=0.0).sum().backward()
    np.testing.assert_array_equal(i.grad.numpy(), np.zeros((2, 2)))
    np.testing.assert_allclose(b.grad.numpy(), np.ones((2, 2)))


def test_torch_parity_broadcast_grads():
    torch = pytest.importorskip("torch")
    cases = [[(2, 1, 3, 4), (5, 4, 2)], [(4,), (2, 4, 3)], [(2, 3, 4), (4,)], [(4,), (4,)],
             [(1, 3, 4), (2, 4, 5)]]
    for sa, sb in cases:
        a0, b0 = RNG.standard_normal(sa), RNG.standard_normal(sb)
        a, b = t64(a0, True), t64(b0, True)
        ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
        out, tout = tgx.matmul(a, b), torch.matmul(ta, tb)
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
        w = RNG.standard_normal(tuple(tout.shape))
        (out * t64(w)).sum().backward()
        (tout * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-10)
    x0, y0 = RNG.standard_normal((2, 3, 3)), RNG.standard_normal((3, 2))
    x, y = t64(x0, True), t64(y0, True)
    tx, ty = torch.tensor(x0, requires_grad=True), torch.tensor(y0, requires_grad=True)
    tgx.einsum("bii,ij->bj", x, y).sum().backward()
    torch.einsum("bii,ij->bj", tx, ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-10)


def test_transposed_operand_grads_keep_their_layout():
    """A weight used as w.t() (nn.Linear) gets its gradient computed as (g^T @ x)^T, as PyTorch
    does, so the leaf's .grad arrives contiguous (kept, not copied); values and second
    derivatives are unchanged."""
    import tinygrad_ext.nn.functional as F
    from tinygrad_ext import nn
    lin = nn.Linear(7, 5).to(tgx.float64)
    x = t64(RNG.standard_normal((6, 7)), True)
    y = lin(x)
    assert y.grad_fn.name() == "AddmmBackward0"  # one fused node for 2-D input, as torch's
    g = RNG.standard_normal((6, 5))
    y.backward(t64(g))
    W, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    np.testing.assert_allclose(lin.weight.grad.numpy(), g.T @ x.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(0), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), g @ W, rtol=1e-12)
    # the gradient of the transposed view itself comes back in the view's layout
    wt = lin.weight.t()
    (gwt,) = tgx.autograd.grad(x.detach() @ wt, [wt], t64(g))
    assert gwt.stride() == wt.stride() == (1, 7)
    np.testing.assert_allclose(gwt.numpy(), x.detach().numpy().T @ g, rtol=1e-12)
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() @ W.T + b, rtol=1e-12)
    # 3-D input keeps matmul + add; grads agree with the 2-D path
    x3 = t64(RNG.standard_normal((2, 3, 7)), True)
    assert gradcheck(lambda a, w, c: F.linear(a, w, c), (x3, lin.weight, lin.bias))
    # both operands transposed, first and second order
    a, w = leaf((4, 3), transposed=True), leaf((3, 5), transposed=True)
    assert gradcheck(tgx.matmul, (a, w))
    assert gradgradcheck(tgx.matmul, (a, w))
    assert gradgradcheck(lambda a, w, c: F.linear(a, w, c),
                         (t64(RNG.standard_normal((4, 3)), True), t64(RNG.standard_normal((5, 3)), True),
                          t64(RNG.standard_normal(5), True)))
