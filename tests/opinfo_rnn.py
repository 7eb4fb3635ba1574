"""OpInfo registry entries for the rnn ops (imported at the end of tests/opinfo.py).

The fused layer op ``_C._rnn_layer`` (one LSTM / GRU layer over a sequence) against a NumPy
float64 time loop and ``torch.lstm`` / ``torch.gru``, on contiguous, transposed, strided and
flipped inputs. Forward only here (differentiable=False): its gradcheck and jvp live in
tests/test_rnn.py, and double backward raises NotImplementedError (as cuDNN RNNs), which the
registry's gradgradcheck sweep would flag.
"""

import numpy as np
from opinfo import FLOAT, OpInfo, Sample, add, rand  # noqa: F401


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _ref(mode):
    def ref(x, h0, w_ih, w_hh, b_ih, b_hh):
        h = h0.copy()
        c = h0.copy()
        out = []
        for xt in x:
            gx, gh = xt @ w_ih.T + b_ih, h @ w_hh.T + b_hh
            if mode == "lstm":
                i, f, g, o = np.split(gx + gh, 4, axis=1)
                c = _sig(f) * c + _sig(i) * np.tanh(g)
                h = _sig(o) * np.tanh(c)
            else:
                xr, xz, xn = np.split(gx, 3, axis=1)
                hr, hz, hn = np.split(gh, 3, axis=1)
                r, z = _sig(xr + hr), _sig(xz + hz)
                h = (1 - z) * np.tanh(xn + r * hn) + z * h
            out.append(h)
        return np.stack(out) if out else np.zeros((0,) + h.shape)
    return ref


def _samples(G):
    def gen(info, dtype, rng):
        for T, B, I, H in [(4, 3, 5, 2), (1, 1, 1, 1), (6, 2, 3, 7)]:  # torch refuses T = 0
            args = (rand(rng, (T, B, I), dtype, (-1, 1)), rand(rng, (B, H), dtype, (-1, 1)),
                    rand(rng, (G * H, I), dtype, (-1, 1)), rand(rng, (G * H, H), dtype, (-1, 1)),
                    rand(rng, (G * H,), dtype, (-1, 1)), rand(rng, (G * H,), dtype, (-1, 1)))
            for layout in ("contig", "transpose", "strided", "flip"):
                yield Sample(args, desc=f"T={T} B={B} I={I} H={H}", layout=layout)
    return gen


def _tgx(mode):
    def op(L, x, h0, w_ih, w_hh, b_ih, b_hh):
        c0 = h0 if mode == "lstm" else None
        return L._C._rnn_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh)[0]
    return op


def _torch(mode):
    def op(torch, x, h0, w_ih, w_hh, b_ih, b_hh):
        hx = (h0[None], h0[None]) if mode == "lstm" else h0[None]
        fn = torch.lstm if mode == "lstm" else torch.gru
        return fn(x, hx, [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, False, False, False)[0]
    return op


for _mode, _G in (("lstm", 4), ("gru", 3)):
    add(OpInfo(f"rnn_layer_{_mode}", _tgx(_mode), _ref(_mode), dtypes=FLOAT, unsupported=("int64",),
               sample_fn=_samples(_G), special=False, differentiable=False, kind="rnn",
               torch_op=_torch(_mode), tols={"float32": (1e-5, 1e-5), "float64": (1e-12, 1e-12)}))
