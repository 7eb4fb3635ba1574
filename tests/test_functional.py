"""autograd.functional (jacobian numerator layout, hessian, hvp, vhp, vjp, jvp) and func.grad/vjp."""

import numpy as np
import pytest

import tinygrad_ext as tgx
from tinygrad_ext.autograd import functional as F


def t64(a, requires_grad=False):
    t = tgx.tensor(np.asarray(a, dtype=np.float64), dtype=tgx.float64)
    return t.requires_grad_() if requires_grad else t


def test_jacobian_numerator_layout():
    x = t64([1.0, 2.0, 3.0])
    J = F.jacobian(lambda a: a * a, x)
    assert J.shape == (3, 3)
    np.testing.assert_array_equal(J.numpy(), np.diag([2.0, 4.0, 6.0]))
    # y of shape (2, 3) from x of shape (3,): J has shape (2, 3) + (3,)
    w = t64([[1.0], [2.0]])
    J = F.jacobian(lambda a: a * w, x)
    assert J.shape == (2, 3, 3)
    np.testing.assert_array_equal(J.numpy()[1], np.diag([2.0, 2.0, 2.0]))
    Ja, Jb = F.jacobian(lambda a, b: a * b, (x, t64([4.0, 5.0, 6.0])))
    np.testing.assert_array_equal(Ja.numpy(), np.diag([4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(Jb.numpy(), np.diag([1.0, 2.0, 3.0]))


def test_jacobian_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([0.3, -0.7, 1.1])
    b = np.array([[0.5], [2.0]])
    f = lambda a, c: (a * c).sin() + c.exp() * a  # noqa: E731
    J = F.jacobian(f, (t64(x), t64(b)))
    Jt = torch.autograd.functional.jacobian(f, (torch.tensor(x), torch.tensor(b)))
    for a, c in zip(J, Jt):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-12)


def test_hessian_hvp_vhp():
    # f(x, y) = x^2 y + sin(x): Hxx = 2y - sin x, Hxy = 2x, Hyy = 0  (1-element inputs)
    x, y = t64([0.7]), t64([1.3])
    f = lambda a, b: a * a * b + a.sin()  # noqa: E731
    H = F.hessian(f, (x, y))
    np.testing.assert_allclose(H[0][0].numpy(), [[2 * 1.3 - np.sin(0.7)]], rtol=1e-12)
    np.testing.assert_allclose(H[0][1].numpy(), [[1.4]], rtol=1e-12)
    np.testing.assert_allclose(H[1][0].numpy(), [[1.4]], rtol=1e-12)
    np.testing.assert_allclose(H[1][1].numpy(), [[0.0]])
    out, hv = F.hvp(f, (x, y), (t64([1.0]), t64([2.0])))
    np.testing.assert_allclose(out.numpy(), 0.49 * 1.3 + np.sin(0.7))
    np.testing.assert_allclose(hv[0].numpy(), [2 * 1.3 - np.sin(0.7) + 2 * 1.4], rtol=1e-12)
    np.testing.assert_allclose(hv[1].numpy(), [1.4], rtol=1e-12)
    _, vh = F.vhp(f, (x, y), (t64([1.0]), t64([2.0])))
    np.testing.assert_allclose(vh[0].numpy(), hv[0].numpy(), rtol=1e-12)
    H = F.hessian(lambda a: a * a * a, t64([2.0]))
    np.testing.assert_allclose(H.numpy(), [[12.0]])
    with pytest.raises(RuntimeError, match="single element"):
        F.hessian(lambda a: a * a, t64([1.0, 2.0]))


def test_functional_vjp_jvp():
    x = t64([1.0, 2.0])
    out, g = F.vjp(lambda a: a.exp(), x, t64([1.0, 3.0]))
    np.testing.assert_allclose(g.numpy(), np.exp([1.0, 2.0]) * [1.0, 3.0], rtol=1e-12)
    out, t = F.jvp(lambda a: a.exp(), x, t64([1.0, 3.0]))
    np.testing.assert_allclose(t.numpy(), np.exp([1.0, 2.0]) * [1.0, 3.0], rtol=1e-12)
    assert not x.requires_grad


def test_func_grad_argnums_and_nesting():
    f = lambda a, b: a * a * b  # noqa: E731
    x, y = t64(3.0), t64(2.0)
    assert tgx.func.grad(f)(x, y).item() == 12.0
    gx, gy = tgx.func.grad(f, argnums=(0, 1))(x, y)
    assert (gx.item(), gy.item()) == (12.0, 9.0)
    d2 = tgx.func.grad(tgx.func.grad(lambda a: a * a * a))(x)  # 6x
    assert d2.item() == 18.0
    d3 = tgx.func.grad(tgx.func.grad(tgx.func.grad(lambda a: a.sin())))(t64(0.5))
    assert d3.item() == pytest.approx(-np.cos(0.5))
    g, v = tgx.func.grad_and_value(lambda a: a.exp())(t64(0.0))
    assert (g.item(), v.item()) == (1.0, 1.0)
    with pytest.raises(RuntimeError, match="single element"):
        tgx.func.grad(lambda a: a * 2)(t64([1.0, 2.0]))


def test_func_vjp():
    x = t64([1.0, 2.0])
    out, vjp_fn = tgx.func.vjp(lambda a: a * a, x)
    np.testing.assert_array_equal(out.numpy(), [1.0, 4.0])
    (g,) = vjp_fn(t64([1.0, 1.0]))
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])
    (g,) = vjp_fn(t64([0.0, 2.0]))  # callable again
    np.testing.assert_array_equal(g.numpy(), [0.0, 8.0])
