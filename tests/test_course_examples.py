"""The course's worked examples (seeds/, see shared/COURSE.md), with the notes' exact numbers."""

import math

import numpy as np
import pytest

import tinygrad_ext as tgx


def t64(a, requires_grad=False):
    t = tgx.tensor(np.asarray(a, dtype=np.float64), dtype=tgx.float64)
    return t.requires_grad_() if requires_grad else t


def needs(*names):
    """Skip (naming the op) when an op this example needs is not in the library yet."""
    for name in names:
        if not hasattr(tgx, name) and not hasattr(tgx.Tensor, name):
            pytest.skip(f"needs tgx.{name}, which is not implemented yet")
    probe = t64([1.0, 2.0], True)
    for name in names:
        fn = getattr(tgx, name, None)
        try:
            out = fn(probe, probe) if name in ("dot", "matmul", "inner") else fn(probe)
        except Exception:  # noqa: BLE001  (an op taking other arguments)
            continue
        if not out.requires_grad:
            pytest.skip(f"tgx.{name} does not record autograd yet")


def test_sigmoid_six_node_graph_df_dw_is_quarter():
    """f(x; w, b) = 1 / (exp(-(w x + b)) + 1) at x = 1, w = 0, b = 0: df/dw = 0.25."""
    x, w, b = t64(1.0), t64(0.0, True), t64(0.0, True)
    h1 = w * x
    h2 = h1 + b
    h3 = -h2
    h4 = h3.exp()
    h5 = h4 + 1
    h6 = 1 / h5
    for h in (h1, h2, h3, h4, h5):
        h.retain_grad()
    h6.backward()
    assert h6.item() == 0.5
    assert w.grad.item() == 0.25 and b.grad.item() == 0.25
    # reverse accumulation, node by node: dh6/dh5 = -1/h5^2 = -0.25, dh5/dh4 = 1, dh4/dh3 = e^h3 = 1
    assert [h.grad.item() for h in (h5, h4, h3, h2, h1)] == [-0.25, -0.25, -0.25, 0.25, 0.25]
    names = []
    fn = h6.grad_fn
    while fn is not None and fn.name() != "AccumulateGrad":
        names.append(fn.name())
        fn = next(f for f, _ in fn.next_functions if f is not None)
    assert names == ["DivBackward0", "AddBackward0", "ExpBackward0", "NegBackward0", "AddBackward0",
                     "MulBackward0"]
    dot = tgx.viz.graph(h6, show_values=True)
    for k in range(1, 7):
        assert f"h{k}:" in dot.source
    assert "h1: MulBackward0" in dot.source and "h6: DivBackward0" in dot.source
    assert "grad = 0.25" in dot.source


def test_sigmoid_example_forward_mode():
    """Forward accumulation gives the same df/dw = 0.25 (one pass per input)."""
    f = lambda w: 1 / ((-(w * 1.0 + 0.0)).exp() + 1)  # noqa: E731
    _, t = tgx.func.jvp(f, (t64(0.0),), (t64(1.0),))
    assert t.item() == 0.25


def test_micrograd_node_reuse():
    a = t64(-4.0, True)
    b = t64(2.0, True)
    c = a * b + b ** 3
    d = c * c + a  # c used twice, a reaches d by two paths
    d.backward()
    cv = -4 * 2 + 8
    assert d.item() == cv * cv - 4
    assert a.grad.item() == 2 * cv * 2 + 1
    assert b.grad.item() == 2 * cv * (-4 + 3 * 4)


def test_gradients_summed_over_paths():
    x = t64(3.0, True)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad.item() == 7.0


def test_subgradients_of_abs_and_relu_at_zero():
    x = t64(0.0, True)
    tgx.abs(x).backward()
    assert x.grad.item() == 0.0
    x.grad = None
    tgx.relu(x).backward()
    assert x.grad.item() == 0.0


def test_numerical_differentiation_checks_autograd():
    x = t64([0.4, -1.2], True)
    assert tgx.autograd.gradcheck(lambda v: 1 / ((-v).exp() + 1), (x,))


def test_squared_error_of_inner_product():
    """z = (<x, w> - y)^2  =>  dz/dw = 2 (<x, w> - y) x."""
    needs("dot")
    x, w, y = t64([1.0, 2.0, 3.0]), t64([0.5, -1.0, 2.0], True), t64(1.5)
    z = (tgx.dot(x, w) - y) ** 2
    z.backward()
    r = 0.5 - 2.0 + 6.0 - 1.5
    assert z.item() == r * r
    np.testing.assert_allclose(w.grad.numpy(), 2 * r * np.array([1.0, 2.0, 3.0]), rtol=1e-15)


def test_least_squares_gradient():
    """z = ||X w - y||^2  =>  dz/dw = 2 X^T (X w - y)."""
    needs("matmul", "sum")
    rng = np.random.default_rng(0)
    X, y, w0 = rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal(3)
    w = t64(w0, True)
    r = tgx.matmul(t64(X), w) - t64(y)
    z = (r * r).sum()
    z.backward()
    np.testing.assert_allclose(z.item(), np.sum((X @ w0 - y) ** 2), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), 2 * X.T @ (X @ w0 - y), rtol=1e-12)


def test_cross_entropy_example():
    """Cross-entropy of target [0, 0, 1] against [0.3, 0.3, 0.4] is -log 0.4."""
    needs("sum")
    p, t = t64([0.3, 0.3, 0.4], True), t64([0.0, 0.0, 1.0])
    ce = -(t * p.log()).sum()
    assert ce.item() == pytest.approx(-math.log(0.4), rel=1e-15)
    ce.backward()
    np.testing.assert_allclose(p.grad.numpy(), [0.0, 0.0, -1 / 0.4])
