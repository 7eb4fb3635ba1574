"""Autograd of the shape/view ops and the copying shape ops: gradcheck (float64), jvp vs finite
differences, gradgradcheck, grad_fn names, views share memory, PyTorch parity (optional)."""

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext.autograd import gradcheck, gradgradcheck


def leaf(a, layout="contig"):
    """float64 leaf requiring grad; "noncontig" = permuted storage, "flipped" = negative strides."""
    a = np.asarray(a, dtype=np.float64)
    if layout == "noncontig" and a.ndim >= 1:  # every other element of a wider buffer
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],))
        wide[..., ::2] = a
        t = tgx.tensor(wide, dtype=tgx.float64)[..., ::2]
        assert a.size < 2 or not t.is_contiguous()
    elif layout == "flipped" and a.ndim >= 1:
        flipped = tgx.tensor(np.ascontiguousarray(np.flip(a, 0)), dtype=tgx.float64)
        t = tgx._C._flip_view(flipped, [0])
    else:
        t = tgx.tensor(a, dtype=tgx.float64)
    return t.requires_grad_()


def t64(a):
    return tgx.tensor(np.asarray(a, dtype=np.float64), dtype=tgx.float64)


def out_list(o):
    return list(o) if isinstance(o, (tuple, list)) else [o]


def fd_jvp(f, primals, tangents, eps=1e-6):
    plus = f(*[t64(p + eps * t) for p, t in zip(primals, tangents)])
    minus = f(*[t64(p - eps * t) for p, t in zip(primals, tangents)])
    return [(a.numpy() - b.numpy()) / (2 * eps) for a, b in zip(out_list(plus), out_list(minus))]


def check_jvp(f, primals, seed=0):
    rng = np.random.default_rng(seed)
    tangents = [rng.standard_normal(np.shape(p)) for p in primals]
    _, jv = tgx.func.jvp(f, [t64(p) for p in primals], [t64(t) for t in tangents])
    for got, want in zip(out_list(jv), fd_jvp(f, primals, tangents)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-8)


# (id, fn(m, *tensors) usable with m = tgx or torch, input shapes, torch-only override or None)
OPS = [
    ("view", lambda m, x: x.view(4, 3), [(3, 4)]),
    ("view_infer", lambda m, x: x.view(-1), [(2, 3, 2)]),
    ("reshape", lambda m, x: x.reshape(2, 6), [(3, 4)]),
    ("flatten", lambda m, x: x.flatten(), [(2, 3, 2)]),
    ("flatten_mid", lambda m, x: x.flatten(1), [(2, 3, 2)]),
    ("unflatten", lambda m, x: x.unflatten(1, (2, 2)), [(3, 4)]),
    ("squeeze", lambda m, x: x.squeeze(), [(3, 1, 4)]),
    ("squeeze_dim", lambda m, x: x.squeeze(1), [(3, 1, 4)]),
    ("unsqueeze", lambda m, x: x.unsqueeze(1), [(3, 4)]),
    ("transpose", lambda m, x: x.transpose(0, 1), [(3, 4)]),
    ("permute", lambda m, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("movedim", lambda m, x: m.movedim(x, 0, 2), [(2, 3, 4)]),
    ("t", lambda m, x: x.t(), [(3, 4)]),
    ("T", lambda m, x: x.T, [(3, 4)]),
    ("mT", lambda m, x: x.mT, [(2, 3, 4)]),
    ("expand", lambda m, x: x.expand(2, 3, 4), [(3, 1)]),
    ("expand_as", lambda m, x, y: x.expand_as(y) * y, [(1, 4), (3, 4)]),
    ("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), [(4,)]),
    ("narrow", lambda m, x: x.narrow(1, 1, 2), [(3, 4)]),
    ("select", lambda m, x: x.select(0, -1), [(3, 4)]),
    ("unbind", lambda m, x: x.unbind(1), [(3, 4)]),
    ("split", lambda m, x: x.split(2, 1), [(3, 5)]),
    ("split_sizes", lambda m, x: x.split([1, 3], 1), [(3, 4)]),
    ("chunk", lambda m, x: x.chunk(2, 0), [(3, 4)]),
    ("diagonal", lambda m, x: x.diagonal(), [(3, 4)]),
    ("diagonal_off", lambda m, x: x.diagonal(1, 1, 2), [(2, 3, 4)]),
    ("tril", lambda m, x: m.tril(x), [(3, 4)]),
    ("triu_k", lambda m, x: m.triu(x, -1), [(2, 3, 4)]),
    ("repeat", lambda m, x: x.repeat(2, 1, 3), [(3, 2)]),
    ("tile", lambda m, x: m.tile(x, (2,)), [(3, 2)]),
    ("cat", lambda m, x, y: m.cat([x, y], 1), [(3, 2), (3, 4)]),
    ("cat_neg", lambda m, x, y: m.cat([x, y, x], -2), [(2, 3), (1, 3)]),
    ("stack", lambda m, x, y: m.stack([x, y], 1), [(3, 4), (3, 4)]),
    ("hstack", lambda m, x, y: m.hstack([x, y]), [(3, 2), (3, 4)]),
    ("vstack", lambda m, x, y: m.vstack([x, y]), [(4,), (2, 4)]),
    ("flip", lambda m, x: m.flip(x, (0, 1)), [(3, 4)]),
    ("fliplr", lambda m, x: m.fliplr(x), [(3, 4)]),
    ("roll", lambda m, x: m.roll(x, (1, -2), (0, 1)), [(3, 4)]),
    ("roll_flat", lambda m, x: m.roll(x, 5), [(3, 4)]),
    ("getitem_view", lambda m, x: x[1:, ::2, None], [(3, 4)]),
    ("getitem_int", lambda m, x: x[..., 2], [(2, 3, 4)]),
]
CONTIG_ONLY = {"view", "view_infer"}
PAD = [  # (id, pad, mode, shape)
    ("constant", (1, 2), "constant", (3, 4)),
    ("constant_crop", (-1, 2, 1, -1), "constant", (3, 4)),
    ("reflect", (2, 1), "reflect", (2, 4)),
    ("replicate", (1, 2, 2, 0), "replicate", (1, 3, 4)),
    ("circular", (1, 3, 0, 2), "circular", (1, 3, 4)),
]


def make_inputs(shapes, layout, seed=0):
    rng = np.random.default_rng(seed)
    arrs = [rng.uniform(-1, 1, s) for s in shapes]
    return arrs, [leaf(a, layout) for a in arrs]


@pytest.mark.parametrize("layout", ["contig", "noncontig", "flipped"])
@pytest.mark.parametrize("name,fn,shapes", OPS, ids=[o[0] for o in OPS])
def test_gradcheck(name, fn, shapes, layout):
    if name in CONTIG_ONLY and layout != "contig":
        pytest.skip("view() needs compatible strides")
    _, xs = make_inputs(shapes, layout)
    assert gradcheck(lambda *a: fn(tgx, *a), xs)


@pytest.mark.parametrize("name,fn,shapes", OPS, ids=[o[0] for o in OPS])
def test_jvp_matches_finite_differences(name, fn, shapes):
    arrs, _ = make_inputs(shapes, "contig", seed=1)
    check_jvp(lambda *a: fn(tgx, *a), arrs)


@pytest.mark.parametrize("name,pad,mode,shape", PAD, ids=[p[0] for p in PAD])
def test_pad_gradcheck_and_jvp(name, pad, mode, shape):
    arrs, xs = make_inputs([shape], "noncontig" if len(shape) == 2 else "contig")
    f = lambda x: tgx.pad(x, pad, mode=mode)  # noqa: E731
    assert gradcheck(f, xs)
    check_jvp(f, arrs)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x[1:, ::2] * x[1:, ::2],
        lambda x: x.diagonal() ** 3,
        lambda x: x.expand(2, 3, 4) ** 2,
        lambda x: tgx.cat([x, x * x], 0),
        lambda x: x.repeat(2, 1) ** 2,
        lambda x: tgx.pad(x, (1, 1), mode="reflect") ** 2,
        lambda x: tgx.roll(x, 1, 0) * x,
        lambda x: x.unbind(0)[1] ** 2,
    ],
)
def test_gradgradcheck(fn):
    x = leaf(np.random.default_rng(5).uniform(-1, 1, (3, 4)))
    assert gradgradcheck(fn, (x,))


def test_grad_fn_names_follow_pytorch():
    x = leaf(np.ones((3, 4)))
    names = {
        "ViewBackward0": x.view(12),
        "TBackward0": x.t(),
        "PermuteBackward0": x.T,
        "TransposeBackward0": x.mT,
        "ExpandBackward0": x.expand(2, 3, 4),
        "SelectBackward0": x[1],
        "SliceBackward0": x[:, 1:3],
        "UnsqueezeBackward0": x.unsqueeze(0),
        "SqueezeBackward0": x.unsqueeze(0).squeeze(),
        "DiagonalBackward0": x.diagonal(),
        "CatBackward0": tgx.cat([x, x]),
        "StackBackward0": tgx.stack([x, x]),
        "UnbindBackward0": x.unbind()[0],
        "RepeatBackward0": x.repeat(2, 1),
        "FlipBackward0": tgx.flip(x, (0,)),
        "RollBackward0": tgx.roll(x, 1, 0),
        "TrilBackward0": tgx.tril(x),
        "ConstantPadNdBackward0": tgx.pad(x, (1, 1)),
    }
    for name, t in names.items():
        assert t.grad_fn.name() == name, (name, t.grad_fn)
        assert t.requires_grad and not t.is_leaf


def test_views_share_memory_and_record():
    base = leaf(np.zeros((3, 4)))
    x = base * 1
    v = x.t()[1:, 0]
    assert v.requires_grad
    with tgx.no_grad():
        x[0, 2] = 7.0
    assert v.detach().numpy()[1] == 7.0  # still a view of x's memory
    w = x.view(12)
    assert w.data_ptr() == x.data_ptr()


def test_no_grad_views_do_not_record():
    x = leaf(np.ones((2, 3)))
    with tgx.no_grad():
        for y in (x.view(6), x.t(), x[0], tgx.cat([x, x]), x.expand(2, 2, 3), tgx.flip(x, (0,))):
            assert not y.requires_grad and y.grad_fn is None


def test_int_inputs_never_require_grad():
    y = tgx.cat([tgx.tensor([1, 2]), tgx.tensor([3])])
    assert not y.requires_grad


def test_cat_mixed_requires_grad_and_dtypes():
    a = leaf(np.ones((2, 2)))
    b = tgx.tensor(np.ones((1, 2)), dtype=tgx.float32)  # no grad, promoted
    c = tgx.tensor(np.zeros(0), dtype=tgx.float64).requires_grad_()  # legacy empty: skipped
    out = tgx.cat([a, b, c])
    out.backward(t64(np.arange(6.0).reshape(3, 2)))
    np.testing.assert_array_equal(a.grad.numpy(), [[0, 1], [2, 3]])
    assert c.grad is None or c.grad.numel() == 0


def test_modified_view_of_saved_tensor_raises_at_backward():
    x = leaf(np.random.default_rng(0).uniform(-1, 1, (3, 4)))
    a = x * 1
    y = a.sin()  # saves a
    a[0].mul_(2.0)  # in place through a view: same storage, version bumped
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward(t64(np.ones((3, 4))))


def test_setitem_on_leaf_that_requires_grad_raises():
    x = leaf(np.ones((3, 4)))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x[1:3] = 0.0


# ---- PyTorch parity (optional) ------------------------------------------------------------
@pytest.mark.parametrize("name,fn,shapes", OPS, ids=[o[0] for o in OPS])
def test_matches_torch(name, fn, shapes):
    torch = pytest.importorskip("torch")
    arrs, xs = make_inputs(shapes, "contig" if name in CONTIG_ONLY else "noncontig", seed=3)
    tx = [torch.tensor(a, requires_grad=True) for a in arrs]
    outs, touts = out_list(fn(tgx, *xs)), out_list(fn(torch, *tx))
    rng = np.random.default_rng(4)
    cots = [rng.standard_normal(tuple(o.shape)) for o in outs]
    for o, to, c in zip(outs, touts, cots):
        assert tuple(o.shape) == tuple(to.shape)
        np.testing.assert_allclose(o.detach().numpy(), to.detach().numpy(), rtol=1e-12)
    tgx.autograd.backward(outs, [t64(c) for c in cots])
    torch.autograd.backward(touts, [torch.tensor(c) for c in cots])
    for x, t in zip(xs, tx):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,pad,mode,shape", PAD, ids=[p[0] for p in PAD])
def test_pad_matches_torch(name, pad, mode, shape):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(6).uniform(-1, 1, shape)
    x, tx = leaf(a), torch.tensor(a, requires_grad=True)
    out, tout = tgx.pad(x, pad, mode=mode), torch.nn.functional.pad(tx, pad, mode=mode)
    c = np.random.default_rng(7).standard_normal(tuple(tout.shape))
    out.backward(t64(c))
    tout.backward(torch.tensor(c))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
