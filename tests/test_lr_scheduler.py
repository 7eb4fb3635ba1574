"""Learning-rate schedulers: hand-computed values, and step-for-step equality with PyTorch."""

import math

import pytest
import tinygrad_ext as tgx
from tinygrad_ext.optim import Optimizer
from tinygrad_ext.optim import lr_scheduler as ours


class Stub(Optimizer):
    """A do-nothing optimizer with SGD's defaults (momentum is needed by OneCycleLR)."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        super().__init__(params, {"lr": lr, "momentum": momentum})

    def step(self, closure=None):
        return None


def stub(lrs=(0.1,)):
    return Stub([{"params": [tgx.tensor([float(i)])], "lr": lr} for i, lr in enumerate(lrs)])


def run(sched, opt, n, metrics=None):
    out = [list(sched.get_last_lr())]
    for i in range(n):
        opt.step()
        sched.step(metrics[i]) if metrics is not None else sched.step()
        out.append(list(sched.get_last_lr()))
    return out


# ---- hand-computed values (no torch) -------------------------------------------------------------
def test_steplr_values():
    opt = stub([1.0])
    s = ours.StepLR(opt, step_size=3, gamma=0.5)
    got = [lr[0] for lr in run(s, opt, 7)]
    assert got == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert opt.param_groups[0]["lr"] == 0.25 and s.last_epoch == 7
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_multistep_exponential_values():
    opt = stub([1.0])
    s = ours.MultiStepLR(opt, milestones=[2, 4, 4], gamma=0.1)
    got = [lr[0] for lr in run(s, opt, 5)]
    assert got == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.001, 0.001], rel=1e-12)
    opt = stub([2.0])
    s = ours.ExponentialLR(opt, gamma=0.5)
    assert [lr[0] for lr in run(s, opt, 3)] == [2.0, 1.0, 0.5, 0.25]


def test_cosine_linear_lambda_values():
    opt = stub([1.0])
    s = ours.CosineAnnealingLR(opt, T_max=4, eta_min=0.0)
    got = [lr[0] for lr in run(s, opt, 4)]
    want = [(1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)]
    assert got == pytest.approx(want, abs=1e-15)
    opt = stub([1.0])
    s = ours.LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=3)
    assert [lr[0] for lr in run(s, opt, 5)] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])
    opt = stub([0.5, 1.0])
    s = ours.LambdaLR(opt, lr_lambda=[lambda e: e + 1, lambda e: 0.5**e])
    assert run(s, opt, 2) == [[0.5, 1.0], [1.0, 0.5], [1.5, 0.25]]


def test_onecycle_endpoints():
    opt = stub([0.1])
    s = ours.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3)
    lrs = [lr[0] for lr in run(s, opt, 9)]
    assert lrs[0] == pytest.approx(1.0 / 25)
    assert max(lrs) == pytest.approx(1.0) and lrs.index(max(lrs)) == 2
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)  # back to max at the end
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        s.step()
        s.step()


def test_reduce_on_plateau_values():
    opt = stub([1.0])
    s = ours.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    metrics = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5]
    got = [lr[0] for lr in run(s, opt, len(metrics), metrics)]
    # bad epochs at 2,3 -> reduce at 3; cooldown 1 epoch; reduce at 6 (0.25); 0.2 floor
    assert got == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]


def test_errors():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ours.StepLR(object(), step_size=1)
    opt = stub()
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        ours.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        ours.ReduceLROnPlateau(opt, mode="middle")
    with pytest.raises(KeyError, match="initial_lr"):
        ours.StepLR(stub(), step_size=1, last_epoch=3)
    with pytest.raises(ValueError, match="total_steps"):
        ours.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="number of milestone"):
        ours.SequentialLR(opt, [ours.ConstantLR(opt)], milestones=[1])


def test_state_dict_roundtrip_resumes_schedule(tmp_path):
    opt = stub([1.0])
    s = ours.CosineAnnealingLR(opt, T_max=10)
    run(s, opt, 4)
    path = tmp_path / "sched.safetensors"
    tgx.save({"sched": s.state_dict(), "opt": opt.state_dict()}, path)
    rest = run(s, opt, 5)[1:]
    opt2 = stub([1.0])
    s2 = ours.CosineAnnealingLR(opt2, T_max=10)
    ck = tgx.load(path)
    opt2.load_state_dict(ck["opt"])
    s2.load_state_dict(ck["sched"])
    assert s2.last_epoch == 4
    assert run(s2, opt2, 5)[1:] == rest


# ---- PyTorch oracle ------------------------------------------------------------------------------
CASES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.3),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.5),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=13, eta_min=0.001),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=lambda e: 1.0 / (1 + e)),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lr_lambda=lambda e: 0.97),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=17),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.4, total_iters=9),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=25, power=2.0),
    "WarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.01),
    "OneCycleCos": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=61),
    "OneCycleLinear": lambda m, o: m.OneCycleLR(
        o, max_lr=0.8, epochs=6, steps_per_epoch=10, anneal_strategy="linear", pct_start=0.25
    ),
    "OneCycleThreePhase": lambda m, o: m.OneCycleLR(
        o, max_lr=2.0, total_steps=60, three_phase=True, div_factor=10.0
    ),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o,
        [
            m.LinearLR(o, start_factor=0.2, total_iters=5),
            m.CosineAnnealingLR(o, T_max=20),
            m.ExponentialLR(o, gamma=0.9),
        ],
        milestones=[5, 25],
    ),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.95)]
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    lrs = [0.1, 0.03]
    n = 60
    topt = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], momentum=0.9
    )
    tsched = CASES[name](torch.optim.lr_scheduler, topt)
    opt = stub(lrs)
    sched = CASES[name](ours, opt)
    want = run(tsched, topt, n)
    got = run(sched, opt, n)
    assert got == want  # same formulas in the same order: bit-identical floats
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
    assert [g["momentum"] for g in opt.param_groups] == [g["momentum"] for g in topt.param_groups]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(mode="min", factor=0.5, patience=2, threshold=0.01, threshold_mode="rel"),
        dict(mode="max", factor=0.3, patience=1, threshold=0.1, threshold_mode="abs", cooldown=2),
        dict(mode="min", factor=0.1, patience=0, min_lr=[0.005, 0.001], cooldown=1),
    ],
)
def test_reduce_on_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    import random

    rng = random.Random(0)
    metrics = [1.0 / (1 + i) + rng.uniform(0, 0.3) for i in range(50)]
    topt = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.05)]
    )
    opt = stub([0.1, 0.05])
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    sched = ours.ReduceLROnPlateau(opt, **kwargs)
    assert run(sched, opt, 50, metrics) == run(tsched, topt, 50, metrics)
    assert sched.num_bad_epochs == tsched.num_bad_epochs and sched.best == tsched.best


def test_closed_form_step_epoch_matches_torch():
    torch = pytest.importorskip("torch")
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    opt = stub([0.5])
    t = torch.optim.lr_scheduler.StepLR(topt, step_size=3, gamma=0.5)
    s = ours.StepLR(opt, step_size=3, gamma=0.5)
    for e in (4, 9, 2):
        with pytest.warns(UserWarning):
            t.step(e)
        with pytest.warns(UserWarning):
            s.step(e)
        assert s.get_last_lr() == t.get_last_lr()


# ---- Optimizer base ------------------------------------------------------------------------------
def test_optimizer_param_groups_and_defaults():
    a, b, c = tgx.tensor([1.0]), tgx.tensor([2.0]), tgx.tensor([3.0])
    opt = Stub([{"params": [a, b]}, {"params": c, "lr": 0.5}], lr=0.1)
    assert len(opt.param_groups) == 2
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["params"][0] is c and opt.param_groups[1]["momentum"] == 0.9
    assert opt.defaults == {"lr": 0.1, "momentum": 0.9}
    named = Stub([("w", a), ("b", b)])
    assert named.param_groups[0]["param_names"] == ["w", "b"]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="duplicate"):
        Stub([a, a])
    with pytest.raises(TypeError, match="ordered collections"):
        Stub([{"params": {a}}])
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        Stub([1.0])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        Stub(a)
    with pytest.raises(ValueError, match="empty parameter list"):
        Stub([])
    with pytest.raises(NotImplementedError):
        Optimizer([a], {}).step()
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        from tinygrad_ext.optim import required

        Optimizer([a], {"lr": required})
    assert "Parameter Group 1" in repr(opt) and "lr: 0.5" in repr(opt)


def test_optimizer_state_dict_roundtrip(tmp_path):
    a, b = tgx.tensor([1.0, 2.0]), tgx.tensor([[3.0]])
    opt = Stub([{"params": [a]}, {"params": [b], "lr": 0.01}])
    opt.state[a]["momentum_buffer"] = tgx.tensor([0.5, 0.25])
    opt.state[b]["step"] = tgx.tensor(4.0)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][1]["params"] == [1]
    assert set(sd["state"]) == {0, 1}
    tgx.save(sd, tmp_path / "opt.safetensors")
    a2, b2 = tgx.tensor([0.0, 0.0]).double(), tgx.tensor([[0.0]])
    opt2 = Stub([{"params": [a2]}, {"params": [b2]}])
    opt2.load_state_dict(tgx.load(tmp_path / "opt.safetensors"))
    assert opt2.param_groups[1]["lr"] == 0.01 and opt2.param_groups[1]["params"][0] is b2
    buf = opt2.state[a2]["momentum_buffer"]
    assert buf.dtype == tgx.float64 and buf.tolist() == [0.5, 0.25]  # cast to the param's dtype
    assert opt2.state[b2]["step"].item() == 4.0
    with pytest.raises(ValueError, match="different number of parameter groups"):
        Stub([a2]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        Stub([{"params": [a2, b2]}, {"params": []}]).load_state_dict(sd)


def test_optimizer_zero_grad():
    if not hasattr(tgx.Tensor, "grad"):
        pytest.skip("autograd not available yet")
    p = tgx.tensor([1.0, 2.0])
    p.requires_grad_(True)
    (p * p).backward(tgx.tensor([1.0, 1.0]))
    opt = Stub([p])
    assert p.grad is not None
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
