"""Concrete optimizers (fused C++ updates) against torch.optim when installed and against a NumPy
reimplementation of the formulas always; state_dict resume, closures, argument checks, schedulers.
"""

import copy

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext import optim

STEPS = 20
DTYPES = [np.float32, np.float64]


def _grad_fn(x):
    """A smooth bounded gradient field (the same one for every framework)."""
    return np.sin(x) + 0.1 * x


def _start(dtype):
    rs = np.random.RandomState(0)
    return [rs.randn(4, 3).astype(dtype), rs.randn(5).astype(dtype)]


def _run_tgx(cls, kw, dtype, steps=STEPS, x0=None):
    x0 = _start(dtype) if x0 is None else x0
    ps = [tgx.tensor(x).requires_grad_(True) for x in x0]
    opt = cls(ps, **kw)
    for _ in range(steps):
        for p in ps:
            p.grad = tgx.tensor(_grad_fn(p.detach().numpy()).astype(dtype))
        opt.step()
    return [p.detach().numpy() for p in ps], opt, ps


def _run_torch(torch, name, kw, dtype, steps=STEPS):
    ps = [torch.tensor(x, requires_grad=True) for x in _start(dtype)]
    opt = getattr(torch.optim, name)(ps, **kw)
    for _ in range(steps):
        for p in ps:
            p.grad = torch.tensor(_grad_fn(p.detach().numpy()).astype(dtype))
        opt.step()
    return [p.detach().numpy() for p in ps]


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, maximize=True, eps=1e-3)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.9), decoupled_weight_decay=True, weight_decay=0.2)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.7, 0.9), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch(name, kw, dtype):
    torch = pytest.importorskip("torch")
    ours, _, _ = _run_tgx(getattr(optim, name), kw, dtype)
    ref = _run_torch(torch, name, kw, dtype)
    for a, b in zip(ours, ref):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---- NumPy reimplementation of the formulas (float64), run without torch ---------------------
def _np_sgd(x, steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):
    x, buf = x.astype(np.float64), None
    for _ in range(steps):
        d = _grad_fn(x) * (-1 if maximize else 1)
        d = d + weight_decay * x
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        x = x - lr * d
    return x


def _np_adam(x, steps, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             maximize=False, decoupled=False):
    x = x.astype(np.float64)
    m, v, vmax = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    b1, b2 = betas
    for t in range(1, steps + 1):
        g = _grad_fn(x) * (-1 if maximize else 1)
        if decoupled:
            x = x * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vhat = (vmax if amsgrad else v) / (1 - b2**t)
        x = x - lr / (1 - b1**t) * m / (np.sqrt(vhat) + eps)
    return x


NP_CASES = [
    (optim.SGD, dict(lr=0.1, momentum=0.9), _np_sgd, {}),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1), _np_sgd, {}),
    (optim.SGD, dict(lr=0.1, momentum=0.5, dampening=0.3, maximize=True), _np_sgd, {}),
    (optim.Adam, dict(lr=0.05), _np_adam, {}),
    (optim.Adam, dict(lr=0.05, weight_decay=0.1, amsgrad=True, betas=(0.8, 0.99)), _np_adam, {}),
    (optim.AdamW, dict(lr=0.05, weight_decay=0.1), _np_adam, dict(decoupled=True)),
    (optim.AdamW, dict(lr=0.05, amsgrad=True, maximize=True), _np_adam,
     dict(decoupled=True, weight_decay=1e-2)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("cls,kw,ref,extra", NP_CASES)
def test_matches_numpy_formulas(cls, kw, ref, extra, dtype):
    ours, _, _ = _run_tgx(cls, kw, dtype)
    for a, x in zip(ours, _start(dtype)):
        expect = ref(x, STEPS, **{**kw, **extra})
        np.testing.assert_allclose(a, expect, rtol=1e-4 if dtype == np.float32 else 1e-10,
                                   atol=1e-5 if dtype == np.float32 else 1e-12)


# ---- state -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_state_dict_resume(name, kw, tmp_path):
    cls = getattr(optim, name)
    _, opt, ps = _run_tgx(cls, kw, np.float32, steps=7)
    path = tmp_path / "opt.pt"
    tgx.save(opt.state_dict(), str(path))
    ps2 = [tgx.tensor(p.detach().numpy()).requires_grad_(True) for p in ps]
    opt2 = cls(ps2, **kw)
    opt2.load_state_dict(tgx.load(str(path)))
    for _ in range(6):
        for a, b in zip(ps, ps2):
            g = _grad_fn(a.detach().numpy())
            a.grad = tgx.tensor(g)
            b.grad = tgx.tensor(g)
        opt.step()
        opt2.step()
    for a, b in zip(ps, ps2):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_state_keys_and_step_tensor():
    _, opt, ps = _run_tgx(optim.Adam, dict(amsgrad=True), np.float32, steps=3)
    st = opt.state[ps[0]]
    assert set(st) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert isinstance(st["step"], tgx.Tensor) and st["step"].item() == 3.0
    _, opt, ps = _run_tgx(optim.SGD, dict(lr=0.1, momentum=0.9), np.float64, steps=2)
    assert set(opt.state[ps[0]]) == {"momentum_buffer"}
    assert opt.state[ps[0]]["momentum_buffer"].dtype == tgx.float64
    _, opt, ps = _run_tgx(optim.SGD, dict(lr=0.1), np.float64, steps=2)
    assert len(opt.state) == 0
    _, opt, ps = _run_tgx(optim.NAdam, dict(), np.float32, steps=2)
    assert set(opt.state[ps[0]]) == {"step", "mu_product", "exp_avg", "exp_avg_sq"}
    _, opt, ps = _run_tgx(optim.RMSprop, dict(momentum=0.5, centered=True), np.float32, steps=1)
    assert set(opt.state[ps[0]]) == {"step", "square_avg", "momentum_buffer", "grad_avg"}


def test_integer_step_in_loaded_state_resumes():
    _, opt, ps = _run_tgx(optim.Adam, dict(lr=0.05), np.float64, steps=5)
    sd = opt.state_dict()
    sd = {"param_groups": copy.deepcopy(sd["param_groups"]),
          "state": {k: {kk: (int(vv.item()) if kk == "step" else vv.clone())
                        for kk, vv in v.items()} for k, v in sd["state"].items()}}
    ps2 = [tgx.tensor(p.detach().numpy()).requires_grad_(True) for p in ps]
    opt2 = optim.Adam(ps2, lr=0.05)
    opt2.load_state_dict(sd)
    for a, b in zip(ps, ps2):
        a.grad = tgx.tensor(_grad_fn(a.detach().numpy()))
        b.grad = tgx.tensor(_grad_fn(b.detach().numpy()))
    opt.step()
    opt2.step()
    for a, b in zip(ps, ps2):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert opt2.state[ps2[0]]["step"].item() == 6


# ---- behaviour -------------------------------------------------------------------------------
def test_closure_runs_with_grad_and_returns_loss():
    p = tgx.tensor([1.0, -2.0]).requires_grad_(True)
    opt = optim.SGD([p], lr=0.1)
    seen = []

    def closure():
        seen.append(tgx.is_grad_enabled())
        opt.zero_grad()
        p.grad = 2 * p.detach()  # d/dp of sum(p * p), set by hand
        return (p.detach() * p.detach()).sum()

    with tgx.no_grad():
        loss = opt.step(closure)
    assert seen == [True]
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.detach().numpy(), [0.8, -1.6], rtol=1e-6)
    assert opt.step() is None


def test_no_autograd_record_and_version_bump():
    p = tgx.tensor([1.0, 2.0, 3.0]).requires_grad_(True)
    opt = optim.Adam([p])
    v = p._version
    p.grad = tgx.ones(3)
    opt.step()
    assert p._version > v and p.is_leaf and p.grad_fn is None and p.requires_grad
    assert opt.state[p]["exp_avg"]._version >= 1


def test_params_without_grad_are_skipped():
    a = tgx.tensor([1.0, 2.0]).requires_grad_(True)
    b = tgx.tensor([3.0]).requires_grad_(True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = tgx.tensor([1.0, 1.0])
    opt.step()
    assert b.tolist() == [3.0] and b not in opt.state and a in opt.state


def test_non_contiguous_param_updated_in_place():
    base = tgx.tensor(np.arange(6.0).reshape(2, 3))
    p = base.t()
    assert not p.is_contiguous()
    p.grad = tgx.tensor(np.ones((3, 2)))
    opt = optim.SGD([p], lr=0.5, momentum=0.9)
    opt.step()
    np.testing.assert_allclose(base.numpy(), np.arange(6.0).reshape(2, 3) - 0.5)
    p.grad = tgx.tensor(np.ones((3, 2))).t().contiguous().t()  # a non-contiguous grad too
    opt.step()
    np.testing.assert_allclose(base.numpy(), np.arange(6.0).reshape(2, 3) - 0.5 - 0.5 * 1.9)


def test_param_groups_use_their_own_hyperparameters():
    a = tgx.tensor([1.0]).requires_grad_(True)
    b = tgx.tensor([1.0]).requires_grad_(True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad = tgx.tensor([1.0])
    b.grad = tgx.tensor([1.0])
    opt.step()
    assert a.tolist() == pytest.approx([0.9]) and b.tolist() == pytest.approx([0.5])


def test_empty_and_zero_dim_params():
    e = tgx.zeros(0, 3).requires_grad_(True)
    s = tgx.tensor(2.0).requires_grad_(True)
    opt = optim.Adam([e, s], lr=0.1)
    e.grad = tgx.zeros(0, 3)
    s.grad = tgx.tensor(1.0)
    opt.step()
    assert s.item() == pytest.approx(1.9)
    assert opt.state[e]["step"].item() == 1


def test_lr_scheduler_changes_the_lr_used():
    p = tgx.tensor([0.0]).requires_grad_(True)
    opt = optim.SGD([p], lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(5):
        p.grad = tgx.tensor([1.0])
        opt.step()
        sched.step()
    # lrs used: 1, 1, 0.1, 0.1, 0.01
    assert p.item() == pytest.approx(-2.21, rel=1e-6)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax",
                                  "NAdam", "SGD"])
def test_invalid_lr(name):
    p = tgx.zeros(2).requires_grad_(True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        getattr(optim, name)([p], lr=-1)


def test_invalid_arguments():
    p = tgx.zeros(2).requires_grad_(True)
    with pytest.raises(ValueError, match="Invalid epsilon value: -1"):
        optim.Adam([p], eps=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 1.0"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: -0.1"):
        optim.AdamW([p], betas=(0.9, -0.1))
    with pytest.raises(ValueError, match="Invalid momentum value: -0.5"):
        optim.SGD([p], momentum=-0.5)
    with pytest.raises(ValueError, match="Invalid weight_decay value: -1"):
        optim.RMSprop([p], weight_decay=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid rho value: 1.5"):
        optim.Adadelta([p], rho=1.5)
    with pytest.raises(ValueError, match="Invalid initial_accumulator_value value: -1"):
        optim.Adagrad([p], initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    optim.Adam([p], foreach=None, fused=None)
    optim.SGD([p], foreach=False, fused=None)


def test_kernel_errors_name_the_op():
    from tinygrad_ext._C import _optim

    p = tgx.tensor([1, 2])
    g = tgx.tensor([1, 2])
    with pytest.raises(TypeError, match=r"\[sgd_step\].*int64"):
        _optim.sgd([p], [g], [None], 0.1, 0.0, 0.0, 0.0, False, False)
    p = tgx.zeros(3)
    with pytest.raises(ValueError, match=r"\[adam_step\] state 'exp_avg' has shape"):
        _optim.adam([p], [tgx.zeros(3)], [tgx.zeros(2)], [tgx.zeros(3)], [], [tgx.tensor(0.0)],
                    0.1, 0.9, 0.999, 1e-8, 0.0, False, False, False)
    with pytest.raises(TypeError, match=r"\[adam_step\] state 'exp_avg_sq' has dtype float64"):
        _optim.adam([p], [tgx.zeros(3)], [tgx.zeros(3)], [tgx.zeros(3, dtype=tgx.float64)], [],
                    [tgx.tensor(0.0)], 0.1, 0.9, 0.999, 1e-8, 0.0, False, False, False)
    with pytest.raises(ValueError, match=r"\[adam_step\] expected 1 step counts"):
        _optim.adam([p], [tgx.zeros(3)], [tgx.zeros(3)], [tgx.zeros(3)], [], [],
                    0.1, 0.9, 0.999, 1e-8, 0.0, False, False, False)
    assert p.tolist() == [0.0, 0.0, 0.0]


def test_large_param_parallel_path_matches_numpy():
    n = 200_003
    x = np.random.RandomState(1).randn(n)
    ours, _, _ = _run_tgx(optim.Adam, dict(lr=0.01, weight_decay=0.1), np.float64, steps=3,
                          x0=[x])
    np.testing.assert_allclose(ours[0], _np_adam(x, 3, 0.01, weight_decay=0.1), rtol=1e-12)


def test_closure_with_backward():
    p = tgx.tensor([1.0, -2.0]).requires_grad_(True)
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with tgx.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.detach().numpy(), [0.8, -1.6], rtol=1e-6)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.05)), ("SGD", dict(lr=0.1, momentum=0.9)),
                                     ("AdamW", dict(lr=0.05, amsgrad=True))])
def test_linear_model_training_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    rs = np.random.RandomState(3)
    X, Y = rs.randn(16, 3), rs.randn(16, 2)
    w0, b0 = rs.randn(3, 2) * 0.1, np.zeros(2)

    def train(lib, opt_mod):
        w = lib.tensor(w0.copy()).requires_grad_(True)
        b = lib.tensor(b0.copy()).requires_grad_(True)
        x, y = lib.tensor(X), lib.tensor(Y)
        opt = getattr(opt_mod, name)([w, b], **kw)
        losses = []
        for _ in range(STEPS):
            def closure():
                opt.zero_grad()
                loss = ((x @ w + b - y) ** 2).mean()
                loss.backward()
                return loss
            losses.append(float(opt.step(closure).item()))
        return w.detach().numpy(), b.detach().numpy(), losses

    w1, b1, l1 = train(tgx, optim)
    w2, b2, l2 = train(torch, torch.optim)
    np.testing.assert_allclose(w1, w2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b1, b2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(l1, l2, rtol=1e-9)
    assert l1[-1] < l1[0]
