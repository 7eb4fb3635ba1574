"""Recurrent layers: nn.RNN/LSTM/GRU, the cells and utils.rnn against a NumPy float64 reference
and (when installed) PyTorch with copied weights; gradcheck and jvp of the fused C++ layer op."""

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext import _C, nn
from tinygrad_ext.utils import rnn as rnn_utils

MODES = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def _np(t):
    return t.detach().numpy()


def _sig(x):
    return 1 / (1 + np.exp(-x))


def ref_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
    """NumPy float64 reference for one layer and direction (time-major x (T, B, I))."""
    T, B, _ = x.shape
    H = w_hh.shape[1]
    h = np.zeros((B, H)) if h0 is None else h0.copy()
    c = np.zeros((B, H)) if c0 is None else c0.copy()
    out = np.zeros((T, B, H))
    lens = np.full(B, T) if lengths is None else np.asarray(lengths)
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        gx, gh = x[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if mode == "lstm":
            i, f, g, o = np.split(gx + gh, 4, axis=1)
            cn = _sig(f) * c + _sig(i) * np.tanh(g)
            hn = _sig(o) * np.tanh(cn)
        elif mode == "gru":
            xr, xz, xn = np.split(gx, 3, axis=1)
            hr, hz, hn_ = np.split(gh, 3, axis=1)
            r, z = _sig(xr + hr), _sig(xz + hz)
            n = np.tanh(xn + r * hn_)
            hn, cn = (1 - z) * n + z * h, c
        else:
            pre = gx + gh
            hn, cn = (np.tanh(pre) if mode == "rnn_tanh" else np.maximum(pre, 0)), c
        act = (t < lens)[:, None]
        h, c = np.where(act, hn, h), np.where(act, cn, c)
        out[t] = np.where(act, hn, 0)
    return out, h, c


def _weights(mode, I, H, rng, bias=True):
    G = GATES[mode]
    ws = [rng.uniform(-0.5, 0.5, (G * H, I)), rng.uniform(-0.5, 0.5, (G * H, H))]
    ws += [rng.uniform(-0.5, 0.5, G * H), rng.uniform(-0.5, 0.5, G * H)] if bias else [None, None]
    return ws


def _t(a, grad=False):
    return None if a is None else tgx.tensor(a).requires_grad_(grad)


# ---- the layer op against NumPy ----------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_layer_matches_numpy(mode, reverse, masked):
    rng = np.random.default_rng(0)
    T, B, I, H = 5, 3, 4, 6
    x = rng.standard_normal((T, B, I))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    ws = _weights(mode, I, H, rng)
    lengths = np.array([5, 2, 0]) if masked else None
    cc = c0 if mode == "lstm" else None
    r = _C._rnn_layer(mode, _t(x), _t(h0), _t(cc), *map(_t, ws),
                      None if lengths is None else tgx.tensor(lengths), reverse)
    out, h, c = ref_layer(mode, x, h0, c0, *ws, lengths=lengths, reverse=reverse)
    np.testing.assert_allclose(_np(r[0]), out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(r[1]), h, rtol=1e-12, atol=1e-12)
    if mode == "lstm":
        np.testing.assert_allclose(_np(r[2]), c, rtol=1e-12, atol=1e-12)
    # float32: the SIMD activations stay within float32 rounding of the reference
    r32 = _C._rnn_layer(mode, _t(x.astype(np.float32)), _t(h0.astype(np.float32)),
                        _t(None if cc is None else cc.astype(np.float32)),
                        *[_t(w.astype(np.float32)) for w in ws],
                        None if lengths is None else tgx.tensor(lengths), reverse)
    np.testing.assert_allclose(_np(r32[0]), out, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_layer_threaded_team_matches_numpy_and_one_thread(mode):
    """Sizes large enough for the per-call OpenMP team (>= 2^18 multiply-adds per step), with
    H and B not multiples of the SIMD width: forward against NumPy, grads against 1 thread."""
    rng = np.random.default_rng(3)
    T, B, I, H = 4, 37, 8, 96
    x = rng.standard_normal((T, B, I))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    ws = [w * 0.3 for w in _weights(mode, I, H, rng)]
    cc = c0 if mode == "lstm" else None
    lengths = np.array([T] * (B - 2) + [2, 1])
    out_ref = ref_layer(mode, x, h0, c0, *ws, lengths=lengths)[0]
    old = tgx.get_num_threads()
    results = {}
    try:
        for nt in (1, 2):
            tgx.set_num_threads(nt)
            for dt in (np.float64, np.float32):
                xs = _t(x.astype(dt), True)
                wts = [_t(w.astype(dt), True) for w in ws]
                r = _C._rnn_layer(mode, xs, _t(h0.astype(dt)), _t(None if cc is None else cc.astype(dt)),
                                  *wts, tgx.tensor(lengths), False)
                tol = 1e-12 if dt == np.float64 else 1e-4
                np.testing.assert_allclose(_np(r[0]), out_ref, rtol=tol, atol=tol)
                (r[0] * r[0]).sum().backward()
                results[nt, dt] = [_np(xs.grad)] + [_np(w.grad) for w in wts]
    finally:
        tgx.set_num_threads(old)
    for dt, tol in ((np.float64, 1e-10), (np.float32, 2e-3)):
        for g1, g2 in zip(results[1, dt], results[2, dt]):
            np.testing.assert_allclose(g2, g1, rtol=tol, atol=tol)


def test_layer_noncontiguous_and_empty():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 5))  # (B, T, I) -> a transposed (T, B, I) view
    ws = _weights("lstm", 5, 2, rng)
    xt = tgx.tensor(x).transpose(0, 1)
    assert not xt.is_contiguous()
    w_ih = tgx.tensor(np.ascontiguousarray(ws[0].T)).t()  # a transposed weight
    r = _C._rnn_layer("lstm", xt.flip(0), None, None, w_ih, *map(_t, ws[1:]))
    want = ref_layer("lstm", x.transpose(1, 0, 2)[::-1].copy(), None, None, *ws)
    np.testing.assert_allclose(_np(r[0]), want[0], rtol=1e-12, atol=1e-12)
    for T, B in [(0, 2), (3, 0)]:
        h0 = np.ones((B, 2))
        r = _C._rnn_layer("gru", _t(np.zeros((T, B, 5))), _t(h0), None, *map(_t, _weights("gru", 5, 2, rng)))
        assert tuple(r[0].shape) == (T, B, 2)
        np.testing.assert_array_equal(_np(r[1]), h0 if T == 0 else np.zeros((0, 2)))


# ---- gradcheck and jvp in float64 ----------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse,masked", [(False, False), (True, True)])
def test_gradcheck(mode, reverse, masked):
    rng = np.random.default_rng(2)
    T, B, I, H = 3, 2, 3, 2
    lengths = tgx.tensor(np.array([3, 2])) if masked else None
    lstm = mode == "lstm"
    arrays = [rng.standard_normal((T, B, I)), rng.standard_normal((B, H))]
    arrays += [rng.standard_normal((B, H))] if lstm else []
    arrays += _weights(mode, I, H, rng)
    if mode == "rnn_relu":
        arrays[-2] += 0.3  # keep pre-activations away from the kink

    def fn(x, h0, *rest):
        c0, ws = (rest[0], rest[1:]) if lstm else (None, rest)
        r = _C._rnn_layer(mode, x, h0, c0, *ws, lengths, reverse)
        return tuple(r)

    ins = tuple(tgx.tensor(a).requires_grad_() for a in arrays)
    assert tgx.autograd.gradcheck(fn, ins, eps=1e-6, atol=1e-6, rtol=1e-4)
    # jvp against central differences
    vs = [rng.standard_normal(a.shape) for a in arrays]
    out, jv = tgx.func.jvp(fn, tuple(map(tgx.tensor, arrays)), tuple(map(tgx.tensor, vs)))
    eps = 1e-6
    with tgx.no_grad():
        hi = fn(*[tgx.tensor(a + eps * v) for a, v in zip(arrays, vs)])
        lo = fn(*[tgx.tensor(a - eps * v) for a, v in zip(arrays, vs)])
    for j, h, l_ in zip(jv, hi, lo):
        np.testing.assert_allclose(_np(j), (_np(h) - _np(l_)) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_double_backward_raises():
    rng = np.random.default_rng(3)
    x = tgx.tensor(rng.standard_normal((2, 1, 3))).requires_grad_()
    m = nn.LSTM(3, 2).double()
    out, _ = m(x)
    (g,) = tgx.autograd.grad(out.sum(), [x], create_graph=False)
    assert tuple(g.shape) == (2, 1, 3)
    out, _ = m(x)
    with pytest.raises(NotImplementedError, match="double backward"):
        tgx.autograd.grad(out.sum(), [x], create_graph=True)


def test_modules_match_numpy_without_torch():
    rng = np.random.default_rng(4)
    m = nn.GRU(3, 4, num_layers=2).double()
    x = rng.standard_normal((5, 2, 3))
    out, h = m(tgx.tensor(x))
    w = {k: _np(v) for k, v in m.state_dict().items()}
    o1, h1, _ = ref_layer("gru", x, None, None, w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"], w["bias_hh_l0"])
    o2, h2, _ = ref_layer("gru", o1, None, None, w["weight_ih_l1"], w["weight_hh_l1"], w["bias_ih_l1"], w["bias_hh_l1"])
    np.testing.assert_allclose(_np(out), o2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(h), np.stack([h1, h2]), rtol=1e-12, atol=1e-12)


def test_parameters_and_init():
    m = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    names = [n for n, _ in m.named_parameters()]
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse"]
    assert len(names) == 16
    assert tuple(m.weight_ih_l1.shape) == (80, 40) and tuple(m.weight_hh_l1_reverse.shape) == (80, 20)
    bound = 1 / np.sqrt(20)
    assert all(np.abs(_np(p)).max() <= bound for p in m.parameters())
    assert tuple(nn.GRU(3, 5, bias=False).weight_ih_l0.shape) == (15, 3)
    assert len(list(nn.GRU(3, 5, bias=False).parameters())) == 2
    assert tuple(nn.GRUCell(3, 5).weight_hh.shape) == (15, 5)


def test_dropout_between_layers():
    m = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = tgx.randn(4, 2, 3)
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    np.testing.assert_array_equal(_np(a), _np(b))
    m.train()
    c, _ = m(x)
    assert not np.allclose(_np(a), _np(c))
    with pytest.warns(UserWarning, match="dropout"):
        nn.GRU(3, 4, dropout=0.2)


# ---- errors -------------------------------------------------------------------------------------
def test_errors():
    m = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match="Expected 3, got 5"):
        m(tgx.zeros(2, 1, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 1, 4\), got \[1, 1, 4\]"):
        m(tgx.zeros(2, 1, 3), (tgx.zeros(1, 1, 4), tgx.zeros(2, 1, 4)))
    with pytest.raises(RuntimeError, match=r"Expected cell size \(2, 1, 4\), got \[2, 1, 3\]"):
        m(tgx.zeros(2, 1, 3), (tgx.zeros(2, 1, 4), tgx.zeros(2, 1, 3)))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        m(tgx.zeros(2, 1, 3, 1))
    with pytest.raises(RuntimeError, match="hx should also be 2-D"):
        nn.GRU(3, 4)(tgx.zeros(2, 3), tgx.zeros(1, 1, 4))
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.RNN(3, 0)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout should be a number"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(RuntimeError, match="inconsistent input_size: got 2 expected 3"):
        nn.GRUCell(3, 4)(tgx.zeros(5, 2))
    with pytest.raises(RuntimeError, match="Input batch size 5 doesn't match hidden0 batch size 2"):
        nn.RNNCell(3, 4)(tgx.zeros(5, 3), tgx.zeros(2, 4))
    with pytest.raises(TypeError):
        _C._rnn_layer("lstm", None, None, None, tgx.zeros(8, 3), tgx.zeros(8, 2), None, None)
    w = [tgx.zeros(8, 3), tgx.zeros(8, 2)]
    with pytest.raises(NotImplementedError, match=r"\[lstm\].*int64"):
        _C._rnn_layer("lstm", tgx.zeros(2, 1, 3, dtype=tgx.int64), None, None, *w, None, None)
    with pytest.raises(TypeError, match=r"\[lstm\] weight_ih has dtype float64"):
        _C._rnn_layer("lstm", tgx.zeros(2, 1, 3), None, None, w[0].double(), w[1], None, None)
    with pytest.raises(ValueError, match=r"\[lstm\] expected hidden state h0 of shape \(1, 2\), got \(3, 2\)"):
        _C._rnn_layer("lstm", tgx.zeros(2, 1, 3), tgx.zeros(3, 2), None, *w, None, None)
    with pytest.raises(ValueError, match=r"\[gru\] weight_hh must be"):
        _C._rnn_layer("gru", tgx.zeros(2, 1, 3), None, None, *w, None, None)
    with pytest.raises(ValueError, match=r"lengths\[0\] = 3 is outside \[0, 2\]"):
        _C._rnn_layer("lstm", tgx.zeros(2, 1, 3), None, None, *w, None, None, tgx.tensor([3]))
    with pytest.raises(ValueError, match="unknown mode"):
        _C._rnn_layer("lstmx", tgx.zeros(2, 1, 3), None, None, *w, None, None)


# ---- utils.rnn ----------------------------------------------------------------------------------
def test_pack_roundtrip_and_grads():
    rng = np.random.default_rng(5)
    seqs = [rng.standard_normal((n, 2)) for n in (2, 4, 1)]
    ts = [tgx.tensor(s).requires_grad_() for s in seqs]
    padded = rnn_utils.pad_sequence(ts, batch_first=True, padding_value=-1.0)
    assert tuple(padded.shape) == (3, 4, 2) and _np(padded)[2, 1, 0] == -1.0
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(padded, [2, 4, 1], batch_first=True)
    ps = rnn_utils.pack_padded_sequence(padded, [2, 4, 1], batch_first=True, enforce_sorted=False)
    assert _np(ps.batch_sizes).tolist() == [3, 2, 1, 1] and tuple(ps.data.shape) == (7, 2)
    back, lens = rnn_utils.pad_packed_sequence(ps, batch_first=True, total_length=5)
    assert _np(lens).tolist() == [2, 4, 1] and tuple(back.shape) == (3, 5, 2)
    for s, b, n in zip(seqs, _np(back), (2, 4, 1)):
        np.testing.assert_array_equal(b[:n], s)
        assert (b[n:] == 0).all()
    back.sum().backward()
    assert all((_np(t.grad) == 1).all() for t in ts)
    un = rnn_utils.unpack_sequence(rnn_utils.pack_sequence(ts, enforce_sorted=False))
    assert [tuple(u.shape) for u in un] == [(2, 2), (4, 2), (1, 2)]


def test_packed_lstm_matches_per_sequence_runs():
    rng = np.random.default_rng(6)
    m = nn.LSTM(2, 3, bidirectional=True).double()
    seqs = [rng.standard_normal((n, 2)) for n in (3, 5, 1)]
    ps = rnn_utils.pack_sequence([tgx.tensor(s) for s in seqs], enforce_sorted=False)
    out, (h, c) = m(ps)
    assert isinstance(out, rnn_utils.PackedSequence)
    padded, lens = rnn_utils.pad_packed_sequence(out)
    for b, s in enumerate(seqs):
        o1, (h1, c1) = m(tgx.tensor(s)[:, None])
        n = len(s)
        np.testing.assert_allclose(_np(padded)[:n, b], _np(o1)[:, 0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(_np(h)[:, b], _np(h1)[:, 0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(_np(c)[:, b], _np(c1)[:, 0], rtol=1e-12, atol=1e-12)


# ---- PyTorch with copied weights ----------------------------------------------------------------
def _copy(m_t, m_g):
    m_g.load_state_dict(m_t.state_dict())


CONFIGS = [
    ("RNN", dict(num_layers=2)),
    ("RNN", dict(nonlinearity="relu", bidirectional=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("LSTM", dict(bias=False)),
    ("GRU", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict(batch_first=True)),
]


@pytest.mark.parametrize("name,kw", CONFIGS, ids=lambda v: str(v))
@pytest.mark.parametrize("with_state", [False, True])
def test_modules_match_torch(name, kw, with_state):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    m_t = getattr(torch.nn, name)(3, 4, **kw).double()
    m_g = getattr(nn, name)(3, 4, **kw).double()
    _copy(m_t, m_g)
    L = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    x = np.random.default_rng(7).standard_normal((2, 5, 3) if kw.get("batch_first") else (5, 2, 3))
    states = [np.random.default_rng(8 + i).standard_normal((L, 2, 4)) for i in range(2)]
    xt, xg = torch.tensor(x, requires_grad=True), tgx.tensor(x).requires_grad_()
    st = [torch.tensor(s, requires_grad=True) for s in states]
    sg = [tgx.tensor(s).requires_grad_() for s in states]
    hx_t = hx_g = None
    if with_state:
        hx_t, hx_g = ((st[0], st[1]), (sg[0], sg[1])) if name == "LSTM" else (st[0], sg[0])
    out_t, hn_t = m_t(xt, hx_t)
    out_g, hn_g = m_g(xg, hx_g)
    flat_t = [out_t] + (list(hn_t) if name == "LSTM" else [hn_t])
    flat_g = [out_g] + (list(hn_g) if name == "LSTM" else [hn_g])
    rng = np.random.default_rng(9)
    loss_t = loss_g = 0
    for a, b in zip(flat_t, flat_g):
        np.testing.assert_allclose(_np(b), a.detach().numpy(), rtol=1e-10, atol=1e-12)
        w = rng.standard_normal(tuple(a.shape))
        loss_t = loss_t + (a * torch.tensor(w)).sum()
        loss_g = loss_g + (b * tgx.tensor(w)).sum()
    loss_t.backward()
    loss_g.backward()
    np.testing.assert_allclose(_np(xg.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for n, p in m_t.named_parameters():
        np.testing.assert_allclose(_np(getattr(m_g, n).grad), p.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=n)
    if with_state:
        for a, b in zip(st[: 2 if name == "LSTM" else 1], sg):
            np.testing.assert_allclose(_np(b.grad), a.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_unbatched_and_cells_match_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    m_t, m_g = torch.nn.LSTM(3, 4, num_layers=2), nn.LSTM(3, 4, num_layers=2)
    _copy(m_t, m_g)
    x = np.random.default_rng(10).standard_normal((6, 3)).astype(np.float32)
    h = np.random.default_rng(11).standard_normal((2, 4)).astype(np.float32)
    o_t, (h_t, c_t) = m_t(torch.tensor(x), (torch.tensor(h), torch.tensor(h)))
    o_g, (h_g, c_g) = m_g(tgx.tensor(x), (tgx.tensor(h), tgx.tensor(h)))
    assert tuple(o_g.shape) == (6, 4) and tuple(h_g.shape) == (2, 4)
    np.testing.assert_allclose(_np(o_g), o_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(c_g), c_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    for name, kw in [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {})]:
        c_t_, c_g_ = getattr(torch.nn, name)(3, 5, **kw).double(), getattr(nn, name)(3, 5, **kw).double()
        _copy(c_t_, c_g_)
        xx = np.random.default_rng(12).standard_normal((2, 3))
        hh = np.random.default_rng(13).standard_normal((2, 5))
        st_t = (torch.tensor(hh), torch.tensor(hh)) if name == "LSTMCell" else torch.tensor(hh)
        st_g = (tgx.tensor(hh), tgx.tensor(hh)) if name == "LSTMCell" else tgx.tensor(hh)
        for args_t, args_g in [((torch.tensor(xx),), (tgx.tensor(xx),)),
                               ((torch.tensor(xx), st_t), (tgx.tensor(xx), st_g)),
                               ((torch.tensor(xx[0]),), (tgx.tensor(xx[0]),))]:
            r_t, r_g = c_t_(*args_t), c_g_(*args_g)
            r_t = r_t if isinstance(r_t, tuple) else (r_t,)
            r_g = r_g if isinstance(r_g, tuple) else (r_g,)
            for a, b in zip(r_t, r_g):
                assert tuple(a.shape) == tuple(b.shape)
                np.testing.assert_allclose(_np(b), a.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_packed_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import rnn as trnn

    torch.manual_seed(2)
    m_t = torch.nn.GRU(2, 3, num_layers=2, bidirectional=True, batch_first=True).double()
    m_g = nn.GRU(2, 3, num_layers=2, bidirectional=True, batch_first=True).double()
    _copy(m_t, m_g)
    rng = np.random.default_rng(14)
    lengths = [3, 5, 1, 4]
    x = rng.standard_normal((4, 5, 2))
    h0 = rng.standard_normal((4, 4, 3))
    xt, xg = torch.tensor(x, requires_grad=True), tgx.tensor(x).requires_grad_()
    pt = trnn.pack_padded_sequence(xt, lengths, batch_first=True, enforce_sorted=False)
    pg = rnn_utils.pack_padded_sequence(xg, lengths, batch_first=True, enforce_sorted=False)
    np.testing.assert_array_equal(_np(pg.data), pt.data.detach().numpy())
    np.testing.assert_array_equal(_np(pg.batch_sizes), pt.batch_sizes.numpy())
    np.testing.assert_array_equal(_np(pg.sorted_indices), pt.sorted_indices.numpy())
    ot, ht = m_t(pt, torch.tensor(h0))
    og, hg = m_g(pg, tgx.tensor(h0))
    np.testing.assert_allclose(_np(og.data), ot.data.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(hg), ht.detach().numpy(), rtol=1e-10, atol=1e-12)
    pad_t, len_t = trnn.pad_packed_sequence(ot, batch_first=True, padding_value=0.5)
    pad_g, len_g = rnn_utils.pad_packed_sequence(og, batch_first=True, padding_value=0.5)
    np.testing.assert_allclose(_np(pad_g), pad_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(_np(len_g), len_t.numpy())
    w = rng.standard_normal(tuple(pad_t.shape))
    ((pad_t * torch.tensor(w)).sum() + ht.sum()).backward()
    ((pad_g * tgx.tensor(w)).sum() + hg.sum()).backward()
    np.testing.assert_allclose(_np(xg.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for n, p in m_t.named_parameters():
        np.testing.assert_allclose(_np(getattr(m_g, n).grad), p.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_torch_import_path_nn_utils_rnn():
    """PyTorch code imports the packing helpers from torch.nn.utils.rnn: the same path works."""
    from tinygrad_ext.nn.utils.rnn import (
        PackedSequence,
        pack_padded_sequence,
        pad_packed_sequence,
        pad_sequence,
    )
    assert pad_sequence is rnn_utils.pad_sequence and PackedSequence is rnn_utils.PackedSequence
    assert nn.utils.rnn.pack_padded_sequence is pack_padded_sequence
    seqs = [tgx.tensor([[1.0], [2.0], [3.0]]), tgx.tensor([[4.0]])]
    padded = pad_sequence(seqs, batch_first=True)
    packed = pack_padded_sequence(padded, [3, 1], batch_first=True)
    out, lens = pad_packed_sequence(packed, batch_first=True)
    np.testing.assert_array_equal(out.numpy()[..., 0], [[1, 2, 3], [4, 0, 0]])
    np.testing.assert_array_equal(np.asarray(lens), [3, 1])
    assert callable(nn.utils.clip_grad_norm_)
