"""The fused linear (_C.linear: act(x @ W^T + b) in one GEMM whose epilogue adds the bias and
applies relu): forward against NumPy float64 over every kernel path (tile classes, K blocks,
thread split, GEMV, integers, k = 0, the AVX2 and portable kernels), gradcheck / gradgradcheck /
jvp, PyTorch parity when installed, its users (F.linear, keras Dense) and its errors."""

import numpy as np
import pytest
import tinygrad_ext as tgx
import tinygrad_ext.nn.functional as F
from conftest import KERNEL_ENV_IDS, KERNEL_ENVS, run_sweep
from tinygrad_ext import _C, keras
from tinygrad_ext.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(7)

SWEEP = r"""
import numpy as np, tinygrad_ext as tgx
from tinygrad_ext import _C
rng = np.random.default_rng(11)
bad = []
# tile classes (m, n around MR/2, MR, NR/2, NR), several K blocks (k > KC = 256 / 512), the
# GEMV paths (m or n == 1), and shapes big enough to split over threads
shapes = [(m, k, n) for m in (1, 3, 4, 6, 8, 9, 17) for n in (1, 5, 8, 16, 17, 33) for k in (7,)]
shapes += [(40, 600, 37), (37, 1100, 45), (300, 130, 290), (1, 300, 70), (70, 300, 1), (9, 0, 5)]
for dt, tol in ((np.float32, 3e-6), (np.float64, 1e-14)):
    for (m, k, n) in shapes:
        x = rng.standard_normal((m, k)).astype(dt)
        w = rng.standard_normal((n, k)).astype(dt)
        b = rng.standard_normal(n).astype(dt)
        z = x.astype(np.float64) @ w.T.astype(np.float64)
        for threads in (1, 2):
            tgx.set_num_threads(threads)
            for act in ("none", "relu"):
                for bias in (None, b):
                    for layout in ("plain", "kernel.t()"):
                        wt = tgx.tensor(w) if layout == "plain" else tgx.tensor(w.T.copy()).t()
                        got = _C.linear(tgx.tensor(x), wt, None if bias is None else tgx.tensor(bias), act)
                        want = z + (0 if bias is None else bias)
                        if act == "relu":
                            want = np.maximum(want, 0)
                        err = np.abs(got.numpy().astype(np.float64) - want).max() if want.size else 0.0
                        scale = 8 * np.sqrt(max(k, 1)) * max(1.0, np.abs(want).max() if want.size else 1.0)
                        if not err <= tol * scale:
                            bad.append((np.dtype(dt).name, m, k, n, threads, act, bias is None, layout, float(err)))
assert not bad, bad[:8]
print("ok")
"""


@pytest.mark.parametrize("env", KERNEL_ENVS, ids=KERNEL_ENV_IDS)
def test_forward_matches_float64_on_every_kernel_path(env):
    run_sweep(SWEEP, env)


def test_integer_and_nan():
    x = np.array([[1, -2, 3], [4, 5, -6]], np.int64)
    w = np.array([[1, 0, 1], [-1, -1, 0]], np.int64)
    b = np.array([10, -20], np.int64)
    got = _C.linear(tgx.tensor(x), tgx.tensor(w), tgx.tensor(b), "relu")
    assert got.dtype == tgx.int64
    np.testing.assert_array_equal(got.numpy(), np.maximum(x @ w.T + b, 0))
    # relu keeps nan (as tgx.relu and torch.relu do); the bias reaches every column
    xn = tgx.tensor([[float("nan"), 1.0], [2.0, -3.0]])
    wn = tgx.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    out = _C.linear(xn, wn, tgx.tensor([0.5, -0.5, 0.0]), "relu").numpy()
    assert np.isnan(out[0]).all()  # nan * 0 is nan: every column of that row
    np.testing.assert_array_equal(out[1], [2.5, 0.0, 0.0])


def t64(a, requires_grad=True):
    return tgx.tensor(np.asarray(a, dtype=np.float64), dtype=tgx.float64).requires_grad_(requires_grad)


@pytest.mark.parametrize("act", ["none", "relu"])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("transposed", [False, True])
def test_gradcheck_gradgradcheck_jvp(act, with_bias, transposed):
    x = t64(RNG.standard_normal((5, 4)))
    # inputs away from relu's kink, so finite differences see one side only
    w0 = RNG.standard_normal((3, 4))
    w = t64(w0.T.copy(), False).t().requires_grad_() if transposed else t64(w0)
    b = t64(RNG.standard_normal(3)) if with_bias else None

    def f(x, w, *rest):
        return _C.linear(x, w, rest[0] if rest else None, act)

    inputs = (x, w, b) if with_bias else (x, w)
    z = (x.detach().numpy() @ w0.T + (b.detach().numpy() if with_bias else 0))
    assert np.abs(z).min() > 1e-3
    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)
    tangents = tuple(t64(RNG.standard_normal(t.shape), False) for t in inputs)
    prim = tuple(t.detach() for t in inputs)
    out, jv = tgx.func.jvp(f, prim, tangents)
    eps = 1e-6
    plus = f(*[p + eps * t for p, t in zip(prim, tangents)]).numpy()
    minus = f(*[p - eps * t for p, t in zip(prim, tangents)]).numpy()
    np.testing.assert_allclose(jv.numpy(), (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)
    y = f(*inputs)
    assert y.grad_fn.name() == ("LinearReluBackward0" if act == "relu" else "AddmmBackward0")


def test_weight_grad_in_the_weights_layout():
    x = t64(RNG.standard_normal((6, 4)), False)
    kernel = t64(RNG.standard_normal((4, 3)))  # keras layout: weight = kernel.t()
    wt = kernel.t()
    (gw,) = tgx.autograd.grad(_C.linear(x, wt, None, "relu").sum(), [wt])
    assert gw.stride() == wt.stride()
    z = x.numpy() @ kernel.detach().numpy()
    np.testing.assert_allclose(gw.numpy(), ((z > 0).astype(float).T @ x.numpy()), rtol=1e-12)


def test_torch_parity():
    torch = pytest.importorskip("torch")
    x, w, b = RNG.standard_normal((7, 5)), RNG.standard_normal((4, 5)), RNG.standard_normal(4)
    g = RNG.standard_normal((7, 4))
    for act in ("none", "relu"):
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        ref = torch.nn.functional.linear(tx, tw, tb)
        if act == "relu":
            ref = torch.relu(ref)
        ref.backward(torch.tensor(g))
        ox, ow, ob = t64(x), t64(w), t64(b)
        out = _C.linear(ox, ow, ob, act)
        out.backward(t64(g, False))
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-13)
        for mine, theirs in ((ox, tx), (ow, tw), (ob, tb)):
            np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_users_f_linear_and_keras_dense():
    x = tgx.tensor(RNG.standard_normal((8, 5)).astype(np.float32))
    w = tgx.tensor(RNG.standard_normal((3, 5)).astype(np.float32))
    b = tgx.tensor(RNG.standard_normal(3).astype(np.float32))
    np.testing.assert_allclose(F.linear(x, w, b).numpy(), x.numpy() @ w.numpy().T + b.numpy(),
                               rtol=1e-5, atol=1e-6)
    for act in ("relu", None, "tanh"):
        layer = keras.layers.Dense(3, activation=act)
        y = layer(x)
        ref = layer.activation(layer.pre_activation(x))
        np.testing.assert_allclose(y.detach().numpy(), ref.detach().numpy(), rtol=1e-6, atol=1e-6)
        if act == "relu":
            assert y.grad_fn.name() == "LinearReluBackward0"


def test_errors():
    x, w = tgx.ones(2, 3), tgx.ones(4, 3)
    with pytest.raises(ValueError, match=r"\[linear\] activation must be 'none' or 'relu'"):
        _C.linear(x, w, None, "gelu")
    with pytest.raises(ValueError, match=r"\[linear\] input shape .* do not match"):
        _C.linear(x, tgx.ones(4, 2))
    with pytest.raises(ValueError, match=r"\[add\] shapes \(2, 4\) and \(3,\) cannot be broadcast"):
        _C.linear(x, w, tgx.ones(3))
    with pytest.raises(ValueError, match=r"\[linear\] the fused form needs a 2-D input"):
        _C.linear(tgx.ones(2, 2, 3), w)


def test_f_linear_broadcast_bias_and_keras_on_numpy():
    """Biases PyTorch broadcasts ((), (1,), (1, n)) keep working through F.linear; keras Dense
    still takes a NumPy array directly."""
    x = tgx.tensor(np.ones((3, 4), np.float32))
    w = tgx.tensor(np.ones((5, 4), np.float32))
    for b in (np.float32(2.0), np.full(1, 2.0, np.float32), np.full((1, 5), 2.0, np.float32)):
        np.testing.assert_array_equal(F.linear(x, w, tgx.tensor(b)).numpy(), np.full((3, 5), 6.0))
        np.testing.assert_array_equal(_C.linear(x, w, tgx.tensor(-b), "relu").numpy(), np.full((3, 5), 2.0))
    bg = tgx.tensor(np.full((1, 5), 2.0, np.float32), requires_grad=True)
    _C.linear(x, w, bg, "relu").sum().backward()
    np.testing.assert_array_equal(bg.grad.numpy(), np.full((1, 5), 3.0))
    layer = keras.layers.Dense(4, activation="relu")
    out = layer(np.ones((2, 3), np.float32))
    assert tuple(out.shape) == (2, 4)

    class Halve:  # an unhashable callable activation takes the unfused path
        __hash__ = None

        def __call__(self, t):
            return t * 0.5

    layer = keras.layers.Dense(4, activation=Halve())
    ones = tgx.tensor(np.ones((2, 3), np.float32))
    np.testing.assert_allclose(layer(ones).detach().numpy(),
                               0.5 * layer.pre_activation(ones).detach().numpy(), rtol=1e-6)
