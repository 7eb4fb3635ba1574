"""Forward-mode AD: dual tensors, each elementwise primitive's jvp vs finite differences,
func.jvp, custom Function jvp."""

import numpy as np
import pytest
from _autograd_ops import BINARY, UNARY, ZERO_GRAD_UNARY, sample

import tinygrad_ext as tgx
import tinygrad_ext.autograd.forward_ad as fwAD
from tinygrad_ext.autograd import Function


def t64(a):
    return tgx.tensor(np.asarray(a, dtype=np.float64), dtype=tgx.float64)


def fd_jvp(f, primals, tangents, eps=1e-6):
    plus = f(*[t64(p + eps * t) for p, t in zip(primals, tangents)]).numpy()
    minus = f(*[t64(p - eps * t) for p, t in zip(primals, tangents)]).numpy()
    return (plus - minus) / (2 * eps)


def check_jvp(f, primals, tangents):
    with fwAD.dual_level():
        duals = [fwAD.make_dual(t64(p), t64(t)) for p, t in zip(primals, tangents)]
        out = f(*duals)
        p, t = fwAD.unpack_dual(out)
    np.testing.assert_allclose(p.numpy(), f(*[t64(x) for x in primals]).numpy(), rtol=1e-12)
    np.testing.assert_allclose(t.numpy(), fd_jvp(f, primals, tangents), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name,domain", UNARY)
def test_unary_jvp_matches_finite_differences(name, domain):
    rng = np.random.default_rng(0)
    x = sample(rng, (3, 4), domain)
    check_jvp(lambda a: getattr(tgx, name)(a), [x], [rng.standard_normal((3, 4))])


@pytest.mark.parametrize("name", ZERO_GRAD_UNARY)
def test_piecewise_constant_jvp_is_zero(name):
    with fwAD.dual_level():
        d = fwAD.make_dual(t64([0.3, 1.7]), t64([1.0, 1.0]))
        _, t = fwAD.unpack_dual(getattr(tgx, name)(d))
    np.testing.assert_array_equal(t.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("name,da,db", BINARY)
@pytest.mark.parametrize("broadcast", [False, True])
def test_binary_jvp_matches_finite_differences(name, da, db, broadcast):
    rng = np.random.default_rng(1)
    sb = (4,) if broadcast else (3, 4)
    a, b = sample(rng, (3, 4), da), sample(rng, sb, db)
    f = lambda x, y: getattr(tgx, name)(x, y)  # noqa: E731
    check_jvp(f, [a, b], [rng.standard_normal((3, 4)), rng.standard_normal(sb)])
    # only one input dual: the other is a constant
    with fwAD.dual_level():
        out = f(fwAD.make_dual(t64(a), t64(np.ones((3, 4)))), t64(b))
        t = fwAD.unpack_dual(out).tangent
    np.testing.assert_allclose(t.numpy(), fd_jvp(lambda x: f(x, t64(b)), [a], [np.ones((3, 4))]),
                               rtol=1e-5, atol=1e-7)


def test_ternary_jvps():
    rng = np.random.default_rng(2)
    a, b, w = (rng.uniform(-1, 1, (2, 3)) for _ in range(3))
    cond = tgx.tensor(rng.uniform(size=(2, 3)) > 0.5)
    check_jvp(lambda x, y: tgx.where(cond, x, y), [a, b], [np.ones((2, 3)), 2 * np.ones((2, 3))])
    check_jvp(lambda x, y, z: tgx.lerp(x, y, z), [a, b, w], [np.ones((2, 3))] * 3)
    check_jvp(lambda x: tgx.clamp(x, -0.3, 0.4), [a], [np.ones((2, 3))])


def test_dual_level_lifecycle():
    p, t = t64([1.0, 2.0]), t64([0.5, 0.5])
    with fwAD.dual_level():
        d = fwAD.make_dual(p, t)
        assert fwAD.unpack_dual(d).tangent is not None
        assert fwAD.unpack_dual(p).tangent is None
        y = d * d
        primal, tangent = fwAD.unpack_dual(y)
        np.testing.assert_array_equal(tangent.numpy(), [1.0, 2.0])
        with pytest.raises(RuntimeError, match="Nested forward mode AD"):
            with fwAD.dual_level():
                pass
    with fwAD.dual_level():
        assert fwAD.unpack_dual(y).tangent is None  # tangents die with their level
    assert fwAD.unpack_dual(d).tangent is None
    with pytest.raises(RuntimeError, match="different size"):
        with fwAD.dual_level():
            fwAD.make_dual(p, t64([1.0]))


def test_forward_and_reverse_compose():
    x = t64([0.5, 1.0]).requires_grad_()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t64([1.0, 1.0]))
        y = d.exp() * x
        p, t = fwAD.unpack_dual(y)
    p.backward(t64([1.0, 1.0]))
    v = np.array([0.5, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), np.exp(v) * (v + 1), rtol=1e-12)  # both paths
    np.testing.assert_allclose(t.detach().numpy(), np.exp(v) * v, rtol=1e-12)  # only d is dual


def test_func_jvp_uses_forward_mode():
    rng = np.random.default_rng(3)
    x, v = rng.uniform(0.5, 1.5, (3,)), rng.standard_normal(3)
    f = lambda a: (a * a).sin() / a  # noqa: E731
    out, jv = tgx.func.jvp(f, (t64(x),), (t64(v),))
    np.testing.assert_allclose(out.numpy(), np.sin(x * x) / x, rtol=1e-12)
    np.testing.assert_allclose(jv.numpy(), fd_jvp(f, [x], [v]), rtol=1e-6)
    out, jv = tgx.func.jvp(lambda a: t64([1.0, 2.0, 3.0]), (t64(x),), (t64(v),))
    np.testing.assert_array_equal(jv.numpy(), 0.0)  # output independent of the input


def test_custom_function_jvp():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 3 * t * x * x

    class NoJvp(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    _, t = tgx.func.jvp(Cube.apply, (t64([2.0]),), (t64([1.0]),))
    assert t.item() == 12.0
    with pytest.raises(NotImplementedError, match="jvp"):
        tgx.func.jvp(NoJvp.apply, (t64([2.0]),), (t64([1.0]),))
