"""Attention and Transformers: F.scaled_dot_product_attention, nn.MultiheadAttention, the
Transformer encoder/decoder layers and stacks, positional encodings.

References: a float64 NumPy implementation (always), PyTorch with copied weights / loaded
state_dicts when it is installed. Autograd: gradcheck / gradgradcheck in float64, jvp against
central differences.
"""

from __future__ import annotations

import numpy as np
import pytest
import tinygrad_ext as tgx
import tinygrad_ext.nn as nn
import tinygrad_ext.nn.functional as F
from opinfo_attention import sdpa_ref
from tinygrad_ext.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(1234)


def arr(*shape):
    return RNG.standard_normal(shape)


def T(a, requires_grad=False, dtype=tgx.float64):
    return tgx.tensor(np.asarray(a), dtype=dtype if np.asarray(a).dtype.kind == "f" else None,
                      requires_grad=requires_grad)


def npy(t):
    return t.detach().numpy()


# ---- scaled_dot_product_attention: forward ---------------------------------------------------
@pytest.mark.parametrize("kw", [
    {}, {"scale": 0.3}, {"is_causal": True},
    {"attn_mask": "bool"}, {"attn_mask": "float"}, {"attn_mask": "bool_bcast"},
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sdpa_matches_numpy(kw, dtype):
    q, k, v = arr(2, 3, 5, 4), arr(2, 3, 7, 4), arr(2, 3, 7, 6)
    kw = dict(kw)
    if kw.get("attn_mask") == "bool":
        kw["attn_mask"] = RNG.random((2, 3, 5, 7)) < 0.6
    elif kw.get("attn_mask") == "float":
        kw["attn_mask"] = arr(5, 7)
    elif kw.get("attn_mask") == "bool_bcast":
        kw["attn_mask"] = RNG.random((3, 1, 7)) < 0.6
    want = sdpa_ref(q, k, v, **kw)
    dt = getattr(tgx, dtype)
    tkw = {n: (tgx.tensor(x) if isinstance(x, np.ndarray) else x) for n, x in kw.items()}
    got = F.scaled_dot_product_attention(T(q, dtype=dt), T(k, dtype=dt), T(v, dtype=dt), **tkw)
    assert got.dtype == dt and tuple(got.shape) == (2, 3, 5, 6)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(npy(got), want, rtol=tol, atol=tol)


def test_sdpa_stable_for_large_scores():
    q, k, v = arr(4, 3) * 1e3, arr(6, 3) * 1e3, arr(6, 2)
    got = npy(F.scaled_dot_product_attention(T(q), T(k), T(v)))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, sdpa_ref(q, k, v), rtol=1e-10, atol=1e-10)
    got32 = F.scaled_dot_product_attention(T(q, dtype=tgx.float32), T(k, dtype=tgx.float32),
                                           T(v, dtype=tgx.float32))
    assert np.isfinite(npy(got32)).all()


def test_sdpa_fully_masked_rows_match_torch_zero():
    q, k, v = arr(2, 4, 3), arr(2, 5, 3), arr(2, 5, 2)
    m = RNG.random((4, 5)) < 0.7
    m[1] = False
    got = npy(F.scaled_dot_product_attention(T(q), T(k), T(v), attn_mask=tgx.tensor(m)))
    assert (got[:, 1] == 0).all()
    np.testing.assert_allclose(got, sdpa_ref(q, k, v, attn_mask=m), atol=1e-12)
    fm = np.where(m, 0.0, -np.inf)
    got_f = npy(F.scaled_dot_product_attention(T(q), T(k), T(v), attn_mask=T(fm)))
    np.testing.assert_array_equal(got_f, got)
    torch = pytest.importorskip("torch")
    want = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (q, k, v)), attn_mask=torch.tensor(m))
    np.testing.assert_allclose(got, want.numpy(), atol=1e-12)


def test_sdpa_views_and_broadcast():
    base = arr(2, 6, 5)
    q = T(base).transpose(-1, -2)  # (2, 5, 6) transposed
    kf = arr(7, 6)
    k = T(kf).flip(0)  # negative stride, broadcast over batch
    v = T(arr(2, 7, 3))[:, :, ::1]
    want = sdpa_ref(np.swapaxes(base, -1, -2), kf[::-1], npy(v))
    np.testing.assert_allclose(npy(F.scaled_dot_product_attention(q, k, v)), want, atol=1e-12)


def test_sdpa_empty():
    out = F.scaled_dot_product_attention(T(arr(0, 3, 4)), T(arr(0, 5, 4)), T(arr(0, 5, 2)))
    assert tuple(out.shape) == (0, 3, 2)
    out = F.scaled_dot_product_attention(T(arr(3, 4)), T(arr(0, 4)), T(arr(0, 2)))
    np.testing.assert_array_equal(npy(out), np.zeros((3, 2)))


def test_sdpa_errors():
    q, k, v = T(arr(2, 3, 4)), T(arr(2, 5, 4)), T(arr(2, 5, 2))
    with pytest.raises(TypeError, match="scaled_dot_product_attention.*int64"):
        F.scaled_dot_product_attention(tgx.tensor([[1, 2]]), tgx.tensor([[1, 2]]),
                                       tgx.tensor([[1, 2]]))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention.*\(4 != 3\)"):
        F.scaled_dot_product_attention(q, T(arr(2, 5, 3)), v)
    with pytest.raises(ValueError, match="scaled_dot_product_attention.*sequence length"):
        F.scaled_dot_product_attention(q, k, T(arr(2, 6, 2)))
    with pytest.raises(ValueError, match="scaled_dot_product_attention.*attn_mask"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=T(arr(4, 5)))
    with pytest.raises(TypeError, match="scaled_dot_product_attention.*attn_mask"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=tgx.tensor(np.ones((3, 5), np.int64)))
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=T(arr(3, 5)), is_causal=True)
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)
    with pytest.raises(ValueError, match="at least 2-D"):
        F.scaled_dot_product_attention(T(arr(4)), T(arr(4)), T(arr(4)))
    with pytest.raises(TypeError):
        F.scaled_dot_product_attention(None, k, v)


# ---- dropout ------------------------------------------------------------------------------------
def test_sdpa_dropout_zero_is_exact():
    q, k, v = T(arr(2, 4, 3)), T(arr(2, 5, 3)), T(arr(2, 5, 2))
    a = npy(F.scaled_dot_product_attention(q, k, v))
    b = npy(F.scaled_dot_product_attention(q, k, v, dropout_p=0.0))
    np.testing.assert_array_equal(a, b)


def test_sdpa_dropout_statistics():
    # q = k = 0: uniform attention 1/S; v = I, so out[i, j] = drop[i, j] / S.
    S, L, p = 16, 4096, 0.3
    q, k = tgx.zeros(L, 4, dtype=tgx.float64), tgx.zeros(S, 4, dtype=tgx.float64)
    v = tgx.tensor(np.eye(S))
    tgx.manual_seed(0)
    out = npy(F.scaled_dot_product_attention(q, k, v, dropout_p=p))
    kept = out != 0
    frac = 1 - kept.mean()
    n = out.size
    assert abs(frac - p) < 5 * np.sqrt(p * (1 - p) / n), frac
    np.testing.assert_allclose(out[kept], 1 / (S * (1 - p)), rtol=1e-12)
    assert abs(out.sum(-1).mean() - 1.0) < 0.01  # unbiased
    # the same seed gives the same mask; p = 1 drops everything
    tgx.manual_seed(0)
    np.testing.assert_array_equal(npy(F.scaled_dot_product_attention(q, k, v, dropout_p=p)), out)
    assert (npy(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)) == 0).all()


def test_sdpa_dropout_backward_uses_the_same_mask():
    q, k, v = T(arr(3, 4), True), T(arr(5, 4), True), T(arr(5, 2), True)
    drop = tgx._C._attention_dropout_mask((3, 5), tgx.float64, 0.4)
    fn = lambda q, k, v: tgx._C._sdpa_math(q, k, v, None, drop, 0.5, False)[0]  # noqa: E731
    assert gradcheck(fn, (q, k, v))
    out, attn = tgx._C._sdpa_math(q, k, v, None, drop, 0.5, False)
    np.testing.assert_allclose(npy(out), npy(attn) * npy(drop) @ npy(v), atol=1e-12)


# ---- autograd ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"attn_mask": "float"},
                                {"attn_mask": "bool"}, {"scale": 0.4}])
def test_sdpa_gradcheck(kw):
    q, k, v = T(arr(2, 4, 3), True), T(arr(1, 5, 3), True), T(arr(2, 5, 2), True)
    inputs = [q, k, v]
    if kw.get("attn_mask") == "float":
        inputs.append(T(arr(4, 5), True))
        fn = lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m)  # noqa: E731
    else:
        if kw.get("attn_mask") == "bool":
            m = RNG.random((4, 5)) < 0.6
            m[2] = False  # a fully masked row too
            kw = {"attn_mask": tgx.tensor(m)}
        fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw)  # noqa: E731
    assert gradcheck(fn, tuple(inputs))
    assert gradgradcheck(fn, tuple(inputs))


def test_sdpa_attn_weights_gradcheck():
    q, k, v = T(arr(3, 4), True), T(arr(5, 4), True), T(arr(5, 2), True)
    fn = lambda q, k, v: tgx._C._sdpa_math(q, k, v, None, None, 0.5, True)  # noqa: E731
    assert gradcheck(fn, (q, k, v))
    assert gradgradcheck(fn, (q, k, v))


def test_sdpa_jvp_matches_finite_differences():
    q, k, v, m = arr(2, 4, 3), arr(2, 5, 3), arr(2, 5, 2), arr(4, 5)
    tq, tk, tv, tm = arr(2, 4, 3), arr(2, 5, 3), arr(2, 5, 2), arr(4, 5)

    def f(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)

    primals = tuple(T(a) for a in (q, k, v, m))
    tangents = tuple(T(a) for a in (tq, tk, tv, tm))
    out, jv = tgx.func.jvp(f, primals, tangents)
    eps = 1e-6
    plus = sdpa_ref(q + eps * tq, k + eps * tk, v + eps * tv, attn_mask=m + eps * tm)
    minus = sdpa_ref(q - eps * tq, k - eps * tk, v - eps * tv, attn_mask=m - eps * tm)
    np.testing.assert_allclose(npy(out), sdpa_ref(q, k, v, attn_mask=m), atol=1e-12)
    np.testing.assert_allclose(npy(jv), (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-7)


def test_mha_gradcheck_tiny():
    tgx.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=tgx.float64)
    x = T(arr(2, 3, 4), True)
    kpm = tgx.tensor(np.array([[False, False, True], [False, False, False]]))

    def fn(x, w, b):
        out, _ = tnn_functional_mha(x, w, b, mha, kpm)
        return out

    assert gradcheck(fn, (x, mha.in_proj_weight, mha.out_proj.weight))


def tnn_functional_mha(x, w, wo, mha, kpm):
    xs = x.transpose(0, 1)
    out, wts = F.multi_head_attention_forward(
        xs, xs, xs, 4, 2, w, mha.in_proj_bias, None, None, False, 0.0, wo, mha.out_proj.bias,
        training=False, key_padding_mask=kpm)
    return out.transpose(0, 1), wts


# ---- MultiheadAttention -------------------------------------------------------------------------
def mha_ref(q, k, v, sd, H, attn_mask=None, key_padding_mask=None, average=True):
    """NumPy float64 MultiheadAttention, batch first (N, L, E); masks in the MHA convention."""
    E = q.shape[-1]
    w, b = sd["in_proj_weight"], sd["in_proj_bias"]
    qp, kp, vp = q @ w[:E].T + b[:E], k @ w[E:2 * E].T + b[E:2 * E], v @ w[2 * E:].T + b[2 * E:]
    N, L, _ = q.shape
    S = k.shape[1]
    hd = E // H
    split = lambda x, n: x.reshape(N, n, H, hd).transpose(0, 2, 1, 3)  # noqa: E731
    mask = np.zeros((N, H, L, S))
    if attn_mask is not None:
        am = np.where(attn_mask, -np.inf, 0.0) if attn_mask.dtype == bool else attn_mask
        mask = mask + (am.reshape(N, H, L, S) if am.ndim == 3 else am)
    if key_padding_mask is not None:
        mask = mask + np.where(key_padding_mask, -np.inf, 0.0)[:, None, None, :]
    s = split(qp, L) @ split(kp, S).transpose(0, 1, 3, 2) / np.sqrt(hd) + mask
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    o = (p @ split(vp, S)).transpose(0, 2, 1, 3).reshape(N, L, E)
    o = o @ sd["out_proj.weight"].T + sd["out_proj.bias"]
    return o, (p.mean(1) if average else p)


def _mha_inputs(batch_first, N=3, L=4, S=5, E=8):
    q, k = arr(N, L, E), arr(N, S, E)
    v = arr(N, S, E)
    tr = (lambda a: a) if batch_first else (lambda a: a.transpose(1, 0, 2))
    return (q, k, v), tuple(T(tr(a)) for a in (q, k, v))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "kpm", "bool_attn", "float_attn", "both", "3d"])
def test_mha_matches_numpy(batch_first, masks):
    tgx.manual_seed(0)
    N, L, S, E, H = 3, 4, 5, 8, 2
    mha = nn.MultiheadAttention(E, H, batch_first=batch_first, dtype=tgx.float64)
    mha.in_proj_bias.data = T(arr(3 * E))  # non-zero biases
    sd = {k: npy(v) for k, v in mha.state_dict().items()}
    (q, k, v), (tq, tk, tv) = _mha_inputs(batch_first, N, L, S, E)
    kpm = RNG.random((N, S)) < 0.3
    kpm[:, 0] = False
    am = {"bool_attn": RNG.random((L, S)) < 0.3, "float_attn": arr(L, S),
          "both": arr(L, S), "3d": arr(N * H, L, S)}.get(masks)
    if am is not None and am.dtype == bool:
        am[:, 0] = False
    kp = kpm if masks in ("kpm", "both") else None
    want_o, want_w = mha_ref(q, k, v, sd, H, am, kp)
    got_o, got_w = mha(tq, tk, tv, key_padding_mask=None if kp is None else tgx.tensor(kp),
                       attn_mask=None if am is None else T(am))
    got_o = npy(got_o) if batch_first else npy(got_o).transpose(1, 0, 2)
    np.testing.assert_allclose(got_o, want_o, atol=1e-12)
    np.testing.assert_allclose(npy(got_w), want_w, atol=1e-12)


def test_mha_weights_per_head_and_none():
    mha = nn.MultiheadAttention(8, 4, dtype=tgx.float64)
    _, (q, k, v) = _mha_inputs(False)
    out, w = mha(q, k, v, average_attn_weights=False)
    assert tuple(w.shape) == (3, 4, 4, 5)
    np.testing.assert_allclose(npy(w).sum(-1), 1.0, atol=1e-12)
    out2, w2 = mha(q, k, v, need_weights=False)
    assert w2 is None
    np.testing.assert_allclose(npy(out2), npy(out), atol=1e-12)


def test_mha_unbatched_and_kdim_vdim():
    mha = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, dtype=tgx.float64)
    assert mha.in_proj_weight is None and tuple(mha.k_proj_weight.shape) == (8, 3)
    out, w = mha(T(arr(4, 8)), T(arr(6, 3)), T(arr(6, 5)))
    assert tuple(out.shape) == (4, 8) and tuple(w.shape) == (4, 6)


def test_mha_errors_and_names():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(NotImplementedError):
        nn.MultiheadAttention(8, 2, add_bias_kv=True)
    mha = nn.MultiheadAttention(8, 2)
    assert sorted(mha.state_dict()) == ["in_proj_bias", "in_proj_weight", "out_proj.bias",
                                        "out_proj.weight"]
    x = tgx.randn(4, 2, 8)
    with pytest.raises(RuntimeError, match="is_causal"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="attn_mask"):
        mha(x, x, x, attn_mask=tgx.zeros(3, 3))
    with pytest.raises(ValueError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=tgx.zeros(2, 3, dtype=tgx.bool))


def test_mha_training_backward():
    tgx.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = tgx.randn(2, 5, 8, requires_grad=True)
    out, w = mha(x, x, x)
    (out.sum() + w.sum()).backward()
    assert x.grad is not None and mha.in_proj_weight.grad is not None
    assert np.isfinite(x.grad.numpy()).all()


# ---- Transformer layers -------------------------------------------------------------------------
def test_encoder_layer_names_and_shapes():
    layer = nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
    names = set(layer.state_dict())
    for n in ("self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight",
              "linear2.bias", "norm1.weight", "norm2.bias"):
        assert n in names
    assert isinstance(layer.dropout1, nn.Dropout) and isinstance(layer.dropout2, nn.Dropout)
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16))
    assert "layers.1.linear1.weight" in enc.state_dict()
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    x = tgx.randn(3, 7, 16, requires_grad=True)
    enc(x).sum().backward()
    assert tuple(x.grad.shape) == (3, 7, 16)
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(16, 4, 32), 2)
    assert "layers.0.multihead_attn.in_proj_weight" in dec.state_dict()
    assert "layers.0.norm3.weight" in dec.state_dict()
    with pytest.raises(RuntimeError, match="activation"):
        nn.TransformerEncoderLayer(16, 4, activation="tanh")


def test_square_subsequent_mask():
    m = npy(nn.Transformer.generate_square_subsequent_mask(4))
    want = np.triu(np.full((4, 4), -np.inf), 1)
    np.testing.assert_array_equal(m, want)


def test_encoder_layer_matches_numpy_post_norm():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                       dtype=tgx.float64).eval()
    sd = {k: npy(v) for k, v in layer.state_dict().items()}
    x = arr(2, 5, 8)
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    attn = {k[len("self_attn."):]: v for k, v in sd.items() if k.startswith("self_attn.")}
    sa, _ = mha_ref(x, x, x, attn, 2, key_padding_mask=kpm)

    def ln(y, w, b):
        mu, var = y.mean(-1, keepdims=True), y.var(-1, keepdims=True)
        return (y - mu) / np.sqrt(var + 1e-5) * w + b
    h = ln(x + sa, sd["norm1.weight"], sd["norm1.bias"])
    ff = np.maximum(h @ sd["linear1.weight"].T + sd["linear1.bias"], 0)
    ff = ff @ sd["linear2.weight"].T + sd["linear2.bias"]
    want = ln(h + ff, sd["norm2.weight"], sd["norm2.bias"])
    got = layer(T(x), src_key_padding_mask=tgx.tensor(kpm))
    np.testing.assert_allclose(npy(got), want, atol=1e-12)


# ---- against torch (weights copied via state_dict) ------------------------------------------
def _copy(torch_module, tgx_module):
    tgx_module.load_state_dict({k: v.detach().numpy() for k, v in torch_module.state_dict().items()})
    return tgx_module


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.filterwarnings("ignore:Support for mismatched")
def test_mha_matches_torch(batch_first):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, kdim=6, vdim=5, batch_first=batch_first).double()
    gm = _copy(tm, nn.MultiheadAttention(8, 2, kdim=6, vdim=5, batch_first=batch_first,
                                         dtype=tgx.float64))
    shape = (lambda n, s, e: (n, s, e)) if batch_first else (lambda n, s, e: (s, n, e))
    q, k, v = arr(*shape(3, 4, 8)), arr(*shape(3, 5, 6)), arr(*shape(3, 5, 5))
    kpm = RNG.random((3, 5)) < 0.3
    kpm[:, 0] = False
    am = arr(4, 5)
    want = tm(*(torch.tensor(a) for a in (q, k, v)), key_padding_mask=torch.tensor(kpm),
              attn_mask=torch.tensor(am))
    got = gm(*(T(a) for a in (q, k, v)), key_padding_mask=tgx.tensor(kpm), attn_mask=T(am))
    for g, w in zip(got, want):
        np.testing.assert_allclose(npy(g), w.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_decoder_match_torch(norm_first, activation):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    kw = dict(dim_feedforward=16, activation=activation, norm_first=norm_first, batch_first=True)
    te = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, **kw), 2, enable_nested_tensor=False).double().eval()
    ge = _copy(te, nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dtype=tgx.float64, **kw),
                                         2)).eval()
    td = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 2, **kw), 2).double().eval()
    gd = _copy(td, nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, dtype=tgx.float64, **kw),
                                         2)).eval()
    src, tgt = arr(2, 6, 8), arr(2, 4, 8)
    kpm = np.zeros((2, 6), bool)
    kpm[0, 4:] = True
    mask_t = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    mask_g = nn.Transformer.generate_square_subsequent_mask(4, dtype=tgx.float64)
    with torch.no_grad():
        mem_t = te(torch.tensor(src), src_key_padding_mask=torch.tensor(kpm))
        out_t = td(torch.tensor(tgt), mem_t, tgt_mask=mask_t,
                   memory_key_padding_mask=torch.tensor(kpm))
    mem_g = ge(T(src), src_key_padding_mask=tgx.tensor(kpm))
    out_g = gd(T(tgt), mem_g, tgt_mask=mask_g, memory_key_padding_mask=tgx.tensor(kpm))
    np.testing.assert_allclose(npy(mem_g)[kpm == 0], mem_t.numpy()[kpm == 0], atol=1e-10)
    np.testing.assert_allclose(npy(out_g), out_t.numpy(), atol=1e-10)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
def test_transformer_loads_torch_state_dict():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tt = torch.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0).double().eval()
    gt = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, dtype=tgx.float64)
    res = gt.load_state_dict(tt.state_dict())
    assert not res.missing_keys and not res.unexpected_keys
    gt.eval()
    src, tgt = arr(5, 2, 8), arr(3, 2, 8)
    m = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)
    with torch.no_grad():
        want = tt(torch.tensor(src), torch.tensor(tgt), tgt_mask=m).numpy()
    got = gt(T(src), T(tgt), tgt_mask=nn.Transformer.generate_square_subsequent_mask(
        3, dtype=tgx.float64))
    np.testing.assert_allclose(npy(got), want, atol=1e-10)


def test_sdpa_grads_match_torch():
    torch = pytest.importorskip("torch")
    q, k, v, m = arr(2, 3, 4, 5), arr(2, 3, 6, 5), arr(2, 3, 6, 3), arr(4, 6)
    tt = [torch.tensor(a, requires_grad=True) for a in (q, k, v, m)]
    gt = [T(a, True) for a in (q, k, v, m)]
    g = arr(2, 3, 4, 3)
    torch.nn.functional.scaled_dot_product_attention(*tt[:3], attn_mask=tt[3]).backward(
        torch.tensor(g))
    F.scaled_dot_product_attention(*gt[:3], attn_mask=gt[3]).backward(T(g))
    for a, b in zip(gt, tt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)


# ---- positional encoding ------------------------------------------------------------------------
def test_sinusoidal_positional_encoding():
    P = npy(F.sinusoidal_positional_encoding(6, 8))
    pos = np.arange(6)[:, None]
    i = np.arange(0, 8, 2)
    np.testing.assert_allclose(P[:, 0::2], np.sin(pos / 10000 ** (i / 8)), atol=1e-7)
    np.testing.assert_allclose(P[:, 1::2], np.cos(pos / 10000 ** (i / 8)), atol=1e-7)
    assert tuple(F.sinusoidal_positional_encoding(3, 5).shape) == (3, 5)  # odd d_model
    pe = nn.PositionalEncoding(8, dropout=0.0, max_len=10)
    x = tgx.zeros(2, 6, 8)
    np.testing.assert_allclose(pe(x).numpy()[1], P, atol=1e-7)
    assert "P" not in pe.state_dict()
    with pytest.raises(ValueError, match="max_len"):
        pe(tgx.zeros(1, 11, 8))
