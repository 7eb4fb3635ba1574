"""Reverse-mode autograd: elementwise vjps (gradcheck, PyTorch parity), engine, hooks, errors,
memory. Forward mode is in test_forward_ad.py, jacobian/hessian in test_functional.py."""

import gc
import threading
import weakref

import numpy as np
import pytest
import tinygrad_ext as tgx
from _autograd_ops import BINARY, LINEAR, UNARY, ZERO_GRAD_UNARY, binary_fn, leaf, sample, unary_fn
from tinygrad_ext.autograd import Function, GradcheckError, gradcheck, gradgradcheck

SHAPES = {
    "matrix": ((3, 4), (3, 4)),
    "broadcast": ((3, 1), (4,)),
    "zero_d": ((), ()),
    "scalar_vs_matrix": ((), (2, 3)),
}


def t64(a, requires_grad=False):
    t = tgx.tensor(np.asarray(a, dtype=np.float64), dtype=tgx.float64)
    return t.requires_grad_() if requires_grad else t


# ---- gradcheck of every elementwise primitive ------------------------------------
@pytest.mark.parametrize("name,domain", UNARY)
@pytest.mark.parametrize("layout", ["matrix", "zero_d", "noncontig"])
def test_unary_gradcheck(name, domain, layout):
    rng = np.random.default_rng(0)
    shape = () if layout == "zero_d" else (3, 4)
    x = leaf(sample(rng, shape, domain), noncontig=layout == "noncontig")
    assert gradcheck(unary_fn(name), (x,))


@pytest.mark.parametrize("name,da,db", BINARY)
@pytest.mark.parametrize(
    "layout", ["matrix", "broadcast", "zero_d", "scalar_vs_matrix", "noncontig"]
)
def test_binary_gradcheck(name, da, db, layout):
    rng = np.random.default_rng(1)
    sa, sb = SHAPES.get(layout, ((3, 4), (3, 4)))
    a = leaf(sample(rng, sa, da), noncontig=layout == "noncontig")
    b = leaf(sample(rng, sb, db))
    assert gradcheck(binary_fn(name), (a, b))


@pytest.mark.parametrize("name", ZERO_GRAD_UNARY)
def test_piecewise_constant_ops_have_zero_grad(name):
    x = t64([0.3, -1.7, 2.5], requires_grad=True)
    y = getattr(tgx, name)(x)
    assert y.requires_grad
    y.backward(t64([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)


@pytest.mark.parametrize("name,domain", [u for u in UNARY if u[0] not in LINEAR])
def test_unary_gradgradcheck(name, domain):
    rng = np.random.default_rng(2)
    x = leaf(sample(rng, (2, 3), domain))
    assert gradgradcheck(unary_fn(name), (x,))


@pytest.mark.parametrize("name,da,db", [b for b in BINARY if b[0] not in LINEAR])
def test_binary_gradgradcheck(name, da, db):
    rng = np.random.default_rng(3)
    a, b = leaf(sample(rng, (2, 3), da)), leaf(sample(rng, (3,), db))
    assert gradgradcheck(binary_fn(name), (a, b))


def test_where_lerp_clamp_nan_to_num_gradcheck():
    rng = np.random.default_rng(4)
    a, b, w = (leaf(rng.uniform(-1, 1, (3, 4))) for _ in range(3))
    cond = tgx.tensor(rng.uniform(size=(3, 4)) > 0.5)
    assert gradcheck(lambda x, y: tgx.where(cond, x, y), (a, b))
    assert gradcheck(lambda x, y, z: tgx.lerp(x, y, z), (a, b, w))
    lo, hi = leaf(np.full((4,), -0.4)), leaf(np.full((3, 1), 0.5))
    x = leaf(np.array([[-0.9, -0.2, 0.1, 0.8]] * 3))
    assert gradcheck(lambda x, lo, hi: tgx.clamp(x, lo, hi), (x, lo, hi))
    assert gradcheck(lambda x: tgx.clamp(x, min=-0.5), (x,))
    assert gradcheck(lambda x: tgx.clamp(x, max=0.5), (x,))
    assert gradcheck(lambda x: tgx.nan_to_num(x * 2), (a,))


def test_mixed_dtypes_grads_keep_input_dtype():
    a = tgx.tensor([1.0, 2.0], dtype=tgx.float32).requires_grad_()
    b = tgx.tensor([3.0, 4.0], dtype=tgx.float64).requires_grad_()
    y = a * b
    assert y.dtype is tgx.float64
    y.backward(t64([1.0, 1.0]))
    assert a.grad.dtype is tgx.float32 and b.grad.dtype is tgx.float64
    np.testing.assert_allclose(a.grad.numpy(), [3, 4])
    c = tgx.tensor([1.0, 2.0]).requires_grad_()
    (c * 2).to(tgx.float64).backward(t64([1.0, 1.0]))
    assert c.grad.dtype is tgx.float32
    np.testing.assert_allclose(c.grad.numpy(), [2, 2])


def test_integer_outputs_never_require_grad():
    x = t64([1.0, -2.0], requires_grad=True)
    assert not (x > 0).requires_grad
    assert not tgx.isnan(x).requires_grad
    assert not x.to(tgx.int64).requires_grad
    assert (x.to(tgx.float32)).requires_grad


# ---- PyTorch parity ----------------------------------------------------------------------------
def _torch_parity(torch, fn_tgx, fn_torch, arrays, seed=0):
    xs = [t64(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    y, yt = fn_tgx(*xs), fn_torch(*ts)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    ct = np.random.default_rng(seed).standard_normal(yt.shape)
    y.backward(t64(ct))
    yt.backward(torch.tensor(ct))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,domain", UNARY + [(n, "any") for n in ZERO_GRAD_UNARY])
def test_unary_matches_torch(name, domain):
    torch = pytest.importorskip("torch")
    a = sample(np.random.default_rng(5), (2, 3), domain)
    _torch_parity(torch, unary_fn(name), lambda x: getattr(torch, name)(x), [a])


@pytest.mark.parametrize("name,da,db", BINARY)
def test_binary_matches_torch(name, da, db):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    a, b = sample(rng, (2, 3), da), sample(rng, (3,), db)
    _torch_parity(torch, binary_fn(name), lambda x, y: getattr(torch, name)(x, y), [a, b])


def test_composite_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    a, b = rng.uniform(0.5, 1.5, (3, 4)), rng.uniform(-1, 1, (4,))
    f = lambda x, y: ((x * y).sigmoid() + (x**y) / (1 + y * y)).tanh() * x  # noqa: E731
    _torch_parity(torch, f, f, [a, b])


# ---- sub-gradients at kinks (as PyTorch) ---------------------------------------------------------
def test_subgradients_at_kinks():
    x = t64([0.0, 1.0, -1.0], requires_grad=True)
    tgx.abs(x).backward(t64([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, -1.0])
    x.grad = None
    tgx.relu(x).backward(t64([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])
    a, b = t64([1.0, 2.0, 3.0], True), t64([1.0, 1.0, 4.0], True)
    tgx.maximum(a, b).backward(t64([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0, 1.0])
    a.grad = b.grad = None
    tgx.minimum(a, b).backward(t64([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0, 1.0])
    x = t64([-1.0, -0.5, 0.0, 0.5, 1.0], requires_grad=True)
    tgx.clamp(x, -0.5, 0.5).backward(t64(np.ones(5)))
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 1, 0])  # boundary passes


# ---- engine ------------------------------------------------------------
def test_node_reuse_sums_paths_micrograd():
    a = t64(-4.0, requires_grad=True)
    b = a * a + a  # a used three times: db/da = 2a + 1
    b.backward()
    assert a.grad.item() == -7.0
    x = t64(3.0, requires_grad=True)
    y = x * 2
    z = y * y + y * x  # two paths through y and one direct
    z.backward()
    assert x.grad.item() == 8 * 3 + 4 * 3  # d(4x^2 + 2x^2)/dx = 12x


def test_grad_fn_graph_structure():
    a = t64([1.0], True)
    y = (a * 2).exp()
    assert y.grad_fn.name() == "ExpBackward0" and "ExpBackward0 object at" in repr(y.grad_fn)
    ((mul, nr),) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and nr == 0
    acc, none = mul.next_functions
    assert acc[0].name() == "AccumulateGrad" and acc[0].variable is a and none == (None, 0)
    assert a.is_leaf and not y.is_leaf and a.grad_fn is None


def test_long_chain_backward_is_iterative():
    x = t64([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward(t64([1.0]))
    assert x.grad.item() == 1.0
    del y  # destroying the 200,000-node graph must not recurse either
    gc.collect()


def test_grad_accumulates_across_backward_calls():
    x = t64([1.0, 2.0], True)
    (x * 3).backward(t64([1.0, 1.0]))
    g = x.grad
    (x * x).backward(t64([1.0, 1.0]))
    assert x.grad is g  # accumulated in place, as PyTorch
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 7.0])
    x.grad = None
    (x * 3).backward(t64([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_first_grad_is_a_fresh_tensor():
    x = t64([1.0, 2.0], True)
    v = t64([1.0, 1.0])
    (x + 0).backward(v)
    x.grad.add_(1.0)
    np.testing.assert_array_equal(v.numpy(), [1.0, 1.0])


def test_retain_graph_and_second_backward_error():
    x = t64([1.0, 2.0], True)
    y = x.exp()
    y.backward(t64([1.0, 1.0]), retain_graph=True)
    y.backward(t64([1.0, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward(t64([1.0, 1.0]))


def test_autograd_grad_and_inputs_restrict():
    x, w = t64([1.0, 2.0], True), t64([3.0, 4.0], True)
    y = x * w
    (gx,) = tgx.autograd.grad(y, x, t64([1.0, 1.0]), retain_graph=True)
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    assert x.grad is None and w.grad is None
    y.backward(t64([1.0, 1.0]), inputs=[w])
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])
    u = t64([1.0], True)
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        tgx.autograd.grad(x * 2, [x, u], t64([1.0, 1.0]))
    gx, gu = tgx.autograd.grad(x * 2, [x, u], t64([1.0, 1.0]), allow_unused=True)
    assert gu is None
    gx, gu = tgx.autograd.grad(x * 2, [x, u], t64([1.0, 1.0]), materialize_grads=True)
    np.testing.assert_array_equal(gu.numpy(), [0.0])


def test_grad_of_intermediate_tensor():
    x = t64([2.0], True)
    h = x * x
    y = h.exp()
    (gh,) = tgx.autograd.grad(y, h, t64([1.0]))
    np.testing.assert_allclose(gh.numpy(), np.exp([4.0]))


def test_higher_order_derivatives_create_graph():
    x = t64(1.5, requires_grad=True)
    y = x**4
    (g1,) = tgx.autograd.grad(y, x, create_graph=True)
    (g2,) = tgx.autograd.grad(g1, x, create_graph=True)
    (g3,) = tgx.autograd.grad(g2, x, create_graph=True)
    (g4,) = tgx.autograd.grad(g3, x)
    assert [g1.item(), g2.item(), g3.item(), g4.item()] == pytest.approx(
        [4 * 1.5**3, 12 * 1.5**2, 24 * 1.5, 24.0]
    )
    z = x.sin()
    z.backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(-np.sin(1.5))


def test_hooks_and_retain_grad():
    x = t64([1.0, 2.0], True)
    seen = []
    h = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 3
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    hy = y.register_hook(lambda g: g * 10)  # replaces the grad flowing on
    z = y * y
    z.backward(t64([1.0, 1.0]))
    np.testing.assert_array_equal(y.grad.numpy(), [60.0, 120.0])  # retain_grad runs after hooks
    np.testing.assert_array_equal(x.grad.numpy(), [180.0, 360.0])
    np.testing.assert_array_equal(seen[0], [180.0, 360.0])
    h.remove()
    hy.remove()
    x.grad = None
    (x * 3).backward(t64([1.0, 1.0]))
    assert len(seen) == 1
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    x.register_hook(lambda g: g * 0)
    x.grad = None
    (x * 3).backward(t64([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_python_exception_in_hook_propagates():
    x = t64([1.0], True)

    def bad(g):
        raise KeyError("boom")

    x.register_hook(bad)
    with pytest.raises(KeyError, match="boom"):
        (x * 2).backward(t64([1.0]))


def test_detach_and_requires_grad_flags():
    x = t64([1.0, 2.0], True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.data_ptr() == x.data_ptr()
    y = x * 2
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None
    with no_grad_ctx():
        z = x * 2
    assert not z.requires_grad
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        (x * 2).requires_grad = False
    with pytest.raises(RuntimeError, match="floating point"):
        tgx.tensor([1, 2]).requires_grad_()
    assert x.data.requires_grad is False


def no_grad_ctx():
    return tgx.no_grad()


# ---- grad mode ------------------------------------------------------------
def test_grad_mode_context_managers_and_decorators():
    x = t64([1.0], True)
    with tgx.no_grad():
        assert not tgx.is_grad_enabled()
        assert not (x * 2).requires_grad
        with tgx.enable_grad():
            assert (x * 2).requires_grad
    assert tgx.is_grad_enabled()

    @tgx.no_grad()
    def f(t):
        return t * 2

    @tgx.no_grad
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    with tgx.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tgx.is_grad_enabled()
    tgx.set_grad_enabled(False)
    assert not tgx.is_grad_enabled()
    tgx.set_grad_enabled(True)
    with tgx.inference_mode():
        assert tgx.is_inference_mode_enabled() and not (x * 2).requires_grad
    assert not tgx.is_inference_mode_enabled()

    @tgx.inference_mode()
    def h(t):
        return t * 2

    assert not h(x).requires_grad


def test_grad_mode_is_thread_local():
    out = {}

    def worker():
        out["enabled"] = tgx.is_grad_enabled()

    with tgx.no_grad():
        th = threading.Thread(target=worker)
        th.start()
        th.join()
    assert out["enabled"] is True


# ---- errors ------------------------------------------------------------
def test_errors_as_pytorch():
    x = t64([1.0, 2.0], True)
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        t64([1.0]).backward()
    with pytest.raises(
        RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"
    ):
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x.exp_()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x += 1
    with pytest.raises(RuntimeError, match="requires grad"):
        x.numpy()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(t64([1.0, 2.0, 3.0]))
    with pytest.raises(
        RuntimeError, match="out=... arguments don't support automatic differentiation"
    ):
        tgx.mul(x, 2.0, out=tgx.tensor([0.0, 0.0], dtype=tgx.float64))
    with pytest.raises(RuntimeError, match="does not require grad"):
        tgx.autograd.grad(x * 2, t64([1.0]), t64([1.0, 1.0]))
    with pytest.raises(RuntimeError, match="floor_divide"):
        tgx.floor_divide(x, 2.0).backward(t64([1.0, 1.0]))
    with pytest.raises(RuntimeError, match="hook on a tensor that doesn't require gradient"):
        t64([1.0]).register_hook(lambda g: g)
    with tgx.no_grad():
        x.add_(1.0)  # allowed without grad mode (optimizer updates)
    np.testing.assert_array_equal(x.detach().numpy(), [2.0, 3.0])


def test_inplace_bumps_version_and_saved_tensor_check():
    x = t64([1.0, 2.0], True)
    y = x * 2
    v = y._version
    z = y.exp()
    y2 = z * 1.0
    z.mul_(2.0)  # z was saved by ExpBackward0 (its output)
    assert z._version == v + 1
    with pytest.raises(
        RuntimeError, match=r"modified by an inplace operation.*is at version 1; expected version 0"
    ):
        y2.backward(t64([1.0, 1.0]))


def test_inplace_on_non_leaf_is_recorded():
    torch = pytest.importorskip("torch")
    for op in ["add_", "mul_", "div_", "sub_"]:
        x = t64([1.0, 2.0, 3.0], True)
        w = t64([0.5, -1.0, 2.0], True)
        xt = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
        wt = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
        y, yt = x * 2, xt * 2
        getattr(y, op)(w)
        getattr(yt, op)(wt)
        y, yt = y.sigmoid(), yt.sigmoid()
        y.backward(t64([1.0, 1.0, 1.0]))
        yt.backward(torch.ones(3, dtype=torch.float64))
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12)
    x = t64([0.5, -0.5], True)
    y = x * 3
    y.tanh_()
    y.clamp_(-0.95, 0.9)  # tanh(1.5) = 0.905: the first is clamped, the second passes
    assert y.grad_fn.name() == "ClampBackward1"
    y.backward(t64([1.0, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 3 * (1 - np.tanh(1.5) ** 2)], rtol=1e-12)


def test_copy_and_fill_record():
    x = t64([1.0, 2.0], True)
    src = t64([5.0], True)
    y = x * 2
    y.copy_(src)  # y's old value is gone: x gets zeros, src gets the (summed) grad
    y.backward(t64([1.0, 3.0]))
    np.testing.assert_array_equal(src.grad.numpy(), [4.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    x.grad = None
    y = x * 2
    y.fill_(7.0)
    y.backward(t64([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


# ---- custom Function ----------------------------------------------------------------------------
class MulAdd(Function):
    @staticmethod
    def forward(ctx, x, y, alpha):
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return x * y + alpha

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y, g * x, None


def test_custom_function():
    x, y = t64([1.0, 2.0], True), t64([3.0, 4.0], True)
    z = MulAdd.apply(x, y, 1.0)
    assert z.grad_fn.name() == "MulAddBackward"
    np.testing.assert_array_equal(z.detach().numpy(), [4.0, 9.0])
    z.backward(t64([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 2.0])
    assert gradcheck(
        lambda a, b: MulAdd.apply(a, b, 2.0), (t64([0.3, 0.7], True), t64([1.1, -2.0], True))
    )
    assert gradgradcheck(lambda a, b: MulAdd.apply(a, b, 2.0), (t64([0.3], True), t64([1.1], True)))
    with pytest.raises(RuntimeError, match="second time"):
        z.backward(t64([1.0, 1.0]))


def test_custom_function_ctx_features():
    class Split(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.needs = ctx.needs_input_grad
            ctx.set_materialize_grads(False)
            idx = (x > 0).to(tgx.int64)
            ctx.mark_non_differentiable(idx)
            return x * 2, x * 3, idx

        @staticmethod
        def backward(ctx, g1, g2, g3):
            assert g3 is None
            out = 0
            if g1 is not None:
                out = out + g1 * 2
            if g2 is not None:
                out = out + g2 * 3
            return out

    x = t64([1.0, -1.0], True)
    a, b, idx = Split.apply(x)
    assert not idx.requires_grad and a.requires_grad
    a.backward(t64([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_custom_function_errors_propagate():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("inside backward")

    class WrongCount(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x = t64([1.0], True)
    with pytest.raises(ValueError, match="inside backward"):
        Bad.apply(x).backward(t64([1.0]))
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        WrongCount.apply(x, x).backward(t64([1.0]))


def test_gradcheck_reports_the_worst_element():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g * 3.0

    x = t64([1.0, 2.0], True)
    with pytest.raises(GradcheckError, match=r"input 0.*numerical 4\.0.*analytical 3\.0"):
        gradcheck(Wrong.apply, (x,))
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False
    assert gradcheck(Wrong.apply, (x,), fast_mode=True, raise_exception=False) is False
    assert gradcheck(lambda v: v * v, (x,), fast_mode=True)


# ---- memory ------------------------------------------------------------
def test_intermediates_die_after_backward():
    x = t64(np.ones(4), True)
    y = x * 2
    z = y.exp()
    wy, wz = weakref.ref(y), weakref.ref(z)
    before = tgx._C._live_tensors()
    z.backward(t64(np.ones(4)))
    del y, z
    gc.collect()
    assert wy() is None and wz() is None
    assert tgx._C._live_tensors() < before


@pytest.mark.parametrize("create_graph", [False, True])
def test_live_tensors_do_not_grow(create_graph):
    def step():
        w = t64([0.5, -0.5], True)
        for _ in range(3):
            loss = ((w * 3).sigmoid() * w).exp()
            loss.backward(t64([1.0, 1.0]), create_graph=create_graph)
            with tgx.no_grad():
                w -= w.grad * 0.1
            w.grad = None

    for _ in range(20):
        step()
    gc.collect()
    base = tgx._C._live_tensors()
    for _ in range(2000 // 3):
        step()
    gc.collect()
    assert tgx._C._live_tensors() <= base


def test_python_number_operand_keeps_float64_gradients():
    # d(x / 6)/dx must be 1/6 in float64, not a float32-rounded 1/6 (the number is wrapped).
    x = tgx.ones(3, dtype=tgx.float64, requires_grad=True)
    (x / 6).sum().backward()
    assert x.grad.tolist() == [1 / 6] * 3
    y = tgx.ones(3, dtype=tgx.float64, requires_grad=True)
    (y ** 0.1).sum().backward()
    assert y.grad.tolist() == [0.1] * 3
