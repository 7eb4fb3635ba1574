"""Bench cases for convolution and CNN (loaded by bench/run.py; see EXTRA_CASE_MODULES there).

conv2d forward and forward+backward (grads of input, weight and bias) at the issue's size
(64x3x32x32, 16 3x3 filters, padding 1) and at a second layer's size (64x16x14x14 -> 32), with
2 threads (the target's setting; the first forward also with 1); NumPy runs the forward as sliding windows + tensordot.
"""

from __future__ import annotations

import numpy as np

SPECS = [  # (input shape, out channels, kernel, padding)
    ((64, 3, 32, 32), 16, 3, 1),
    ((64, 16, 14, 14), 32, 3, 0),
]
THREADS = 2


def _numpy_conv2d(x, w, b, padding):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))
    return np.einsum("nchwij,ocij->nohw", win, w, optimize=True) + b[None, :, None, None]


def cases(quick, Case, tgx, torch):
    if not hasattr(tgx, "conv2d"):
        return []
    out = []
    for shape, oc, k, pad in SPECS[:1] if quick else SPECS:
        n, c, h, w_ = shape
        size = f"{n}x{c}x{h}x{w_} {oc}x{k}x{k} p{pad}"
        oh, ow = h + 2 * pad - k + 1, w_ + 2 * pad - k + 1
        flops = 2.0 * n * oc * c * k * k * oh * ow

        def data(shape=shape, oc=oc, k=k):
            rng = np.random.default_rng(0)
            x = rng.standard_normal(shape).astype(np.float32)
            w = rng.standard_normal((oc, shape[1], k, k)).astype(np.float32)
            b = rng.standard_normal(oc).astype(np.float32)
            return x, w, b

        def make_fwd(pad=pad, data=data):
            x, w, b = data()
            tx, tw, tb = tgx.tensor(x), tgx.tensor(w), tgx.tensor(b)
            fns = {"tgx": lambda: tgx.conv2d(tx, tw, tb, padding=pad),
                   "numpy": lambda: _numpy_conv2d(x, w, b, pad)}
            if torch is not None:
                px, pw, pb = (torch.from_numpy(a.copy()) for a in (x, w, b))
                fns["torch"] = lambda: torch.conv2d(px, pw, pb, padding=pad)
            return fns

        def make_bwd(pad=pad, data=data):
            x, w, b = data()

            def step(lib, *arrs):
                ts = [lib.tensor(a).requires_grad_(True) for a in arrs]
                with lib.no_grad():
                    g = lib.ones_like(lib.conv2d(*ts, padding=pad))

                def run():
                    y = lib.conv2d(*ts, padding=pad)
                    return lib.autograd.grad(y, ts, g)
                return run

            fns = {"tgx": step(tgx, x, w, b)}
            if torch is not None:
                fns["torch"] = step(torch, x, w, b)
            return fns

        if shape == SPECS[0][0]:  # one thread too: the kernels without threading noise
            out.append(Case("conv2d forward", size, make_fwd, flops, "GFLOP/s", threads=1))
        out.append(Case("conv2d forward", size, make_fwd, flops, "GFLOP/s", threads=THREADS))
        out.append(Case("conv2d fwd+bwd", size, make_bwd, 3 * flops, "GFLOP/s", threads=THREADS))
    return out


def targets(results, check, where, ratio):
    check("conv2d forward 64x3x32x32, 16 3x3 filters, 2 threads: >= torch (oneDNN)",
          where(results, "conv2d forward", lambda s: s.startswith("64x3x32x32"), THREADS),
          ratio("torch"), 1.0)
    check("conv2d forward+backward (input, weight, bias grads), 2 threads: >= torch",
          where(results, "conv2d fwd\\+bwd", threads=THREADS), ratio("torch"), 1.0)
    check("conv2d forward, every size, 2 threads: >= torch",
          where(results, "conv2d forward", threads=THREADS), ratio("torch"), 1.0)
