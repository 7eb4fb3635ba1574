"""nn modules: registration, state_dict, containers, layers vs PyTorch (when installed) or NumPy."""

import math
from collections import OrderedDict

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext import nn
from tinygrad_ext.nn import functional as F


def T(a, dtype=tgx.float64, rg=False):
    t = tgx.tensor(np.asarray(a), dtype=dtype)
    return t.requires_grad_(True) if rg else t


def _torch():
    return pytest.importorskip("torch")


def copy_into_torch(ours, theirs):
    torch = _torch()
    sd = {k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(sd)


# ---- Module machinery --------------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2, bias=False)
        self.register_buffer("steps", tgx.zeros(1))
        self.register_buffer("scratch", tgx.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_registration_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert list(net.state_dict().keys()) == [
        "steps",
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
    ]  # own first, as torch
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert len(list(net.parameters(recurse=False))) == 0
    assert isinstance(net.fc1.weight, nn.Parameter) and isinstance(net.fc1.weight, tgx.Tensor)
    assert net.fc2.bias is None
    assert repr(net.fc1.bias).startswith("Parameter containing:\ntensor(")
    with pytest.raises(TypeError):
        net.fc1.weight = tgx.zeros(4, 3)  # plain tensor onto a parameter slot
    with pytest.raises(KeyError):
        net.register_parameter("a.b", None)
    with pytest.raises(AttributeError):
        _ = net.nope


def test_repr_like_pytorch():
    torch = _torch()
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Dropout(0.2), nn.Tanh()))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 3),
        torch.nn.ReLU(),
        torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Tanh()),
    )
    assert repr(ours) == repr(theirs)
    for a, b in [
        (nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)),
        (nn.LayerNorm(3), torch.nn.LayerNorm(3)),
        (nn.Embedding(5, 2, padding_idx=1), torch.nn.Embedding(5, 2, padding_idx=1)),
        (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    ]:
        assert repr(a) == repr(b)


def test_train_eval_apply_hooks_zero_grad():
    net = Net()
    assert net.training and net.fc1.training
    net.eval()
    assert not net.training and not net.fc1.training
    net.train()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]
    calls = []
    h1 = net.register_forward_pre_hook(lambda m, args: calls.append("pre"))
    h2 = net.register_forward_hook(lambda m, args, out: out * 0)
    out = net(tgx.randn(5, 3))
    assert calls == ["pre"] and float(out.abs().sum().item()) == 0.0
    h1.remove()
    h2.remove()
    net(tgx.randn(5, 3))
    assert calls == ["pre"]
    for p in net.parameters():
        p.grad = tgx.ones(*p.shape)
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum().item()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    w = net.fc1.weight
    assert net.to(tgx.float64).fc1.weight.dtype == tgx.float64
    assert net.fc1.weight is w  # converted in place: an optimizer's references stay valid
    assert isinstance(net.fc1.weight, nn.Parameter)


def test_state_dict_roundtrip_and_errors(tmp_path):
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(va.numpy(), vb.numpy())
    tgx.save(a.state_dict(), tmp_path / "w.tgx")
    c = Net()
    c.load_state_dict(tgx.load(tmp_path / "w.tgx"))
    assert np.array_equal(c.fc1.weight.detach().numpy(), a.fc1.weight.detach().numpy())
    sd = a.state_dict()
    del sd["fc1.bias"]
    sd["extra"] = tgx.zeros(1)
    with pytest.raises(RuntimeError, match='Missing key.*"fc1.bias".*\n.*|Unexpected key.*"extra"'):
        b.load_state_dict(sd)
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra"]
    sd = a.state_dict()
    sd["fc1.weight"] = tgx.zeros(2, 2)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight.*\(2, 2\).*\(4, 3\)"):
        b.load_state_dict(sd)


def test_state_dict_keys_match_torch():
    torch = _torch()
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    )
    assert list(ours.state_dict().keys()) == list(theirs.state_dict().keys())
    assert list(ours.state_dict())[0] == "0.weight"


def test_containers():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert isinstance(seq.fc, nn.Linear) and seq[1] is seq.act and seq[-1] is seq.act
    assert len(seq) == 2 and isinstance(seq[:1], nn.Sequential) and len(seq[:1]) == 1
    seq.append(nn.Linear(3, 1))
    assert len(seq) == 3 and tuple(seq(tgx.randn(4, 2)).shape) == (4, 1)
    with pytest.raises(IndexError):
        seq[3]
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    assert isinstance(ml[-1], nn.ReLU)
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(md.keys()) == ["a", "b"] and "a" in md and len(list(md.parameters())) == 2


# ---- layers ------------------------------------------------------------------------------------
def test_linear_default_init_bounds():
    tgx.manual_seed(0)
    lin = nn.Linear(100, 50)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / math.sqrt(100)  # kaiming_uniform_(a=sqrt 5) gives 1/sqrt(fan_in) too
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01


def test_linear_and_mlp_vs_numpy_forward():
    lin = nn.Linear(3, 2).double()
    x = np.random.default_rng(0).standard_normal((4, 3))
    ref = x @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    np.testing.assert_allclose(lin(T(x)).detach().numpy(), ref, rtol=1e-12)


ACTS = [
    ("ReLU", {}),
    ("LeakyReLU", {"negative_slope": 0.2}),
    ("ELU", {"alpha": 0.7}),
    ("SELU", {}),
    ("GELU", {}),
    ("GELU", {"approximate": "tanh"}),
    ("SiLU", {}),
    ("Mish", {}),
    ("Sigmoid", {}),
    ("Tanh", {}),
    ("Softplus", {}),
    ("Softplus", {"beta": 2.0, "threshold": 3.0}),
    ("Hardtanh", {"min_val": -0.5, "max_val": 0.7}),
    ("Softmax", {"dim": 1}),
    ("LogSoftmax", {"dim": 1}),
    ("PReLU", {}),
]


@pytest.mark.parametrize("name,kw", ACTS, ids=[f"{n}{kw}" for n, kw in ACTS])
def test_activations_vs_torch(name, kw):
    torch = _torch()
    x = np.random.default_rng(1).standard_normal((4, 5)) * 3
    ours, theirs = getattr(nn, name)(**kw).double(), getattr(torch.nn, name)(**kw).double()
    if name == "PReLU":
        copy_into_torch(ours, theirs)
    xt = torch.tensor(x, requires_grad=True)
    ref = theirs(xt)
    out = ours(T(x))
    np.testing.assert_allclose(
        out.numpy() if not out.requires_grad else out.detach().numpy(),
        ref.detach().numpy(),
        rtol=1e-10,
        atol=1e-12,
    )


@pytest.mark.parametrize("name,kw", ACTS, ids=[f"{n}{kw}" for n, kw in ACTS])
def test_activation_grads_vs_torch(name, kw):
    torch = _torch()
    x = np.random.default_rng(2).standard_normal((3, 4)) * 3
    g = np.random.default_rng(3).standard_normal((3, 4))
    ours, theirs = getattr(nn, name)(**kw).double(), getattr(torch.nn, name)(**kw).double()
    if name == "PReLU":
        copy_into_torch(ours, theirs)
    xt = torch.tensor(x, requires_grad=True)
    (theirs(xt) * torch.tensor(g)).sum().backward()
    xo = T(x, rg=True)
    (ours(xo) * T(g)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-10)


def _compare_module(ours, theirs, inputs, atol=1e-10):
    torch = _torch()
    copy_into_torch(ours, theirs)
    xs_t = [torch.tensor(a, requires_grad=np.issubdtype(a.dtype, np.floating)) for a in inputs]
    xs_o = [
        T(
            a,
            dtype=tgx.float64 if np.issubdtype(a.dtype, np.floating) else tgx.int64,
            rg=np.issubdtype(a.dtype, np.floating),
        )
        for a in inputs
    ]
    ref, out = theirs(*xs_t), ours(*xs_o)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-8, atol=atol)
    g = np.random.default_rng(9).standard_normal(tuple(ref.shape))
    (ref * torch.tensor(g)).sum().backward()
    (out * T(g)).sum().backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(
            p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=atol, err_msg=name
        )
    for a, b in zip(xs_o, xs_t):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=atol)


def test_linear_bilinear_layernorm_embedding_vs_torch():
    torch = _torch()
    rng = np.random.default_rng(4)
    _compare_module(
        nn.Linear(5, 3).double(), torch.nn.Linear(5, 3).double(), [rng.standard_normal((4, 5))]
    )
    _compare_module(
        nn.Bilinear(3, 2, 4).double(),
        torch.nn.Bilinear(3, 2, 4).double(),
        [rng.standard_normal((5, 3)), rng.standard_normal((5, 2))],
    )
    ln, tln = nn.LayerNorm(6).double(), torch.nn.LayerNorm(6).double()
    with tgx.no_grad():
        ln.weight.copy_(T(rng.standard_normal(6)))
        ln.bias.copy_(T(rng.standard_normal(6)))
    _compare_module(ln, tln, [rng.standard_normal((3, 6)) * 2 + 1])
    emb, temb = (
        nn.Embedding(7, 3, padding_idx=2).double(),
        torch.nn.Embedding(7, 3, padding_idx=2).double(),
    )
    assert np.all(emb.weight.detach().numpy()[2] == 0)
    _compare_module(emb, temb, [np.array([[1, 2, 6], [2, 2, 0]])])


def test_batchnorm_running_stats_and_eval_vs_torch():
    torch = _torch()
    rng = np.random.default_rng(5)
    ours, theirs = (
        nn.BatchNorm1d(3, momentum=0.3).double(),
        torch.nn.BatchNorm1d(3, momentum=0.3).double(),
    )
    for _ in range(3):
        x = rng.standard_normal((8, 3)) * 2 + 1
        _compare_module(ours, theirs, [x])
        theirs.zero_grad()
        ours.zero_grad()
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-10)
    assert int(ours.num_batches_tracked.item()) == 3
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((4, 3))
    np.testing.assert_allclose(
        ours(T(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10
    )
    # 3-D input (N, C, L)
    ours.train()
    theirs.train()
    _compare_module(ours, theirs, [rng.standard_normal((4, 3, 5))])


def test_batchnorm_numpy_formula():
    bn = nn.BatchNorm1d(2).double()
    x = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    out = bn(T(x)).detach().numpy()
    np.testing.assert_allclose(out, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-10)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-12)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(T([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="expected 2D or 3D"):
        bn(T([1.0, 2.0]))


def test_dropout_train_eval():
    tgx.manual_seed(0)
    d = nn.Dropout(0.25)
    x = tgx.ones(200, 50)
    y = d(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    d.eval()
    assert np.array_equal(d(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_flatten_unflatten_identity():
    x = tgx.randn(2, 3, 4)
    assert tuple(nn.Flatten()(x).shape) == (2, 12)
    assert tuple(nn.Flatten(0)(x).shape) == (24,)
    assert tuple(nn.Unflatten(1, (3, 1, 4))(nn.Flatten()(x)).shape) == (2, 3, 1, 4)
    assert nn.Identity(54, unused=1)(x) is x


# ---- init --------------------------------------------------------------------------------------
def test_init_functions():
    init = nn.init
    assert init.calculate_gain("relu") == math.sqrt(2) and init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError):
        init.calculate_gain("bogus")
    w = tgx.empty(200, 300)
    init.xavier_uniform_(w)
    a = math.sqrt(6 / 500)
    assert np.abs(w.numpy()).max() <= a and abs(w.numpy().std() - a / math.sqrt(3)) < 0.005
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / 200)) < 0.005
    init.kaiming_uniform_(w, nonlinearity="relu")
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 300)
    init.xavier_normal_(w, gain=2.0)
    assert abs(w.numpy().std() - 2 * math.sqrt(2 / 500)) < 0.01
    q = init.orthogonal_(tgx.empty(4, 6), gain=1.5).numpy().astype(np.float64)
    np.testing.assert_allclose(q @ q.T, 2.25 * np.eye(4), atol=1e-5)
    t = init.trunc_normal_(tgx.empty(10000), std=1.0, a=-1.0, b=2.0).numpy()
    assert t.min() >= -1.0 and t.max() <= 2.0 and abs(t.mean() - 0.23) < 0.05
    np.testing.assert_array_equal(init.eye_(tgx.empty(2, 3)).numpy(), np.eye(2, 3))
    assert init.constant_(tgx.empty(3), 0.5).tolist() == [0.5] * 3
    p = nn.Parameter(tgx.zeros(3, 2))
    init.normal_(p)  # in place on a leaf that requires grad: under no_grad
    assert p.is_leaf and p.requires_grad
    with pytest.raises(ValueError, match="fewer than 2"):
        init.xavier_uniform_(tgx.empty(3))


# ---- utils -------------------------------------------------------------------------------------
def test_clip_grad_and_vectors():
    a, b = nn.Parameter(tgx.zeros(2)), nn.Parameter(tgx.zeros(3))
    a.grad, b.grad = tgx.tensor([3.0, 0.0]), tgx.tensor([0.0, 4.0, 0.0])
    total = nn.utils.clip_grad_norm_([a, b], 1.0)
    assert abs(total.item() - 5.0) < 1e-6
    assert abs(math.hypot(*a.grad.tolist(), *b.grad.tolist()) - 1.0) < 1e-5
    nn.utils.clip_grad_value_([a, b], 0.1)
    assert max(abs(v) for v in a.grad.tolist() + b.grad.tolist()) <= 0.1 + 1e-7
    v = nn.utils.parameters_to_vector([a, b])
    assert tuple(v.shape) == (5,)
    nn.utils.vector_to_parameters(tgx.arange(5.0), [a, b])
    assert a.tolist() == [0.0, 1.0] and b.tolist() == [2.0, 3.0, 4.0]


def test_training_reduces_loss_with_manual_sgd():
    tgx.manual_seed(0)
    X, y = tgx.datasets.make_moons(200, noise=0.1, random_state=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(150):
        loss = loss_fn(model(X), y)
        first = first if first is not None else loss.item()
        model.zero_grad()
        loss.backward()
        with tgx.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    assert loss.item() < 0.5 * first
    assert nn.accuracy(model(X), y) > 0.85


def test_training_with_optim_adam():
    if not hasattr(tgx.optim, "Adam"):
        pytest.skip("tinygrad_ext.optim.Adam not available")
    tgx.manual_seed(0)
    X, y = tgx.datasets.make_moons(200, noise=0.1, random_state=0)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
    opt = tgx.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(100):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(X), y)
        loss.backward()
        opt.step()
    assert nn.accuracy(model(X), y) > 0.95


def test_functional_extras_vs_torch():
    torch = _torch()
    tF = torch.nn.functional
    x = np.random.default_rng(7).standard_normal((4, 5)) * 3
    y = np.random.default_rng(8).standard_normal((4, 5))
    cases = [
        (lambda f, a, b: f.normalize(a, p=2.0, dim=1), None),
        (lambda f, a, b: f.cosine_similarity(a, b, dim=1), None),
        (lambda f, a, b: f.logsigmoid(a), None),
        (lambda f, a, b: f.celu(a, alpha=0.5), None),
        (lambda f, a, b: f.relu6(a), None),
        (lambda f, a, b: f.softmin(a, dim=1), None),
        (lambda f, a, b: f.layer_norm(a, (5,)), None),
        (lambda f, a, b: f.linear(a, b[:3], b[3, :3]), None),
    ]
    for fn, _ in cases:
        ref = fn(tF, torch.tensor(x), torch.tensor(y)).numpy()
        out = fn(F, T(x), T(y)).numpy()
        np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    oh = F.one_hot(tgx.tensor([0, 2, 1]), 4)
    assert oh.tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    with pytest.raises(ValueError, match="linear"):
        F.linear(T(x), T(y[:, :3]))
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(T(x), approximate="fast")
