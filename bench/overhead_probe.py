"""Per-op overhead of tiny tensor ops vs NumPy and PyTorch (same process, alternating samples,
medians in ns). Usage: PYTHONPATH=python python bench/overhead_probe.py [--samples N]"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import tinygrad_ext as tg  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # PyTorch is optional
    torch = None


def cases():
    out = []
    for n in (1, 16):
        x = np.arange(n, dtype=np.float32) + 1
        y = x * 0.5
        a, b = tg.tensor(x), tg.tensor(y)
        c = {"tgx": lambda a=a, b=b: a + b, "numpy": lambda x=x, y=y: x + y}
        if torch:
            ta, tb = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
            c["torch"] = lambda a=ta, b=tb: a + b
        out.append((f"a+b  n={n}", c))
    x = np.arange(16, dtype=np.float32)
    a = tg.tensor(x)
    c = {"tgx": lambda: a * 2.0, "numpy": lambda: x * 2.0}
    if torch:
        ta = torch.from_numpy(x.copy())
        c["torch"] = lambda: ta * 2.0
    out.append(("a*2.0 n=16", c))
    c = {"tgx": lambda: a.exp(), "numpy": lambda: np.exp(x)}
    if torch:
        c["torch"] = lambda: ta.exp()
    out.append(("exp   n=16", c))
    ga, gb = tg.tensor(x).requires_grad_(), tg.tensor(x).requires_grad_()
    c = {"tgx": lambda: ga + gb}
    if torch:
        tga = torch.from_numpy(x.copy()).requires_grad_()
        tgb = torch.from_numpy(x.copy()).requires_grad_()
        c["torch"] = lambda: tga + tgb
    out.append(("a+b grad n=16", c))
    return out


def bench(fns, samples, loops):
    times = {k: [] for k in fns}
    for f in fns.values():
        for _ in range(1000):
            f()
    for _ in range(samples):
        for k, f in fns.items():
            t0 = time.perf_counter()
            for _ in range(loops):
                f()
            times[k].append((time.perf_counter() - t0) / loops * 1e9)
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--samples", type=int, default=31)
    p.add_argument("--loops", type=int, default=2000)
    args = p.parse_args()
    print(f"{'case':16s} {'tgx ns':>8s} {'numpy ns':>9s} {'torch ns':>9s} {'tgx/np':>7s} {'tgx/torch':>9s}")
    for name, fns in cases():
        r = bench(fns, args.samples, args.loops)
        t, n, th = r["tgx"], r.get("numpy"), r.get("torch")
        fmt = lambda v: f"{v:9.0f}" if v else f"{'-':>9s}"  # noqa: E731
        print(f"{name:16s} {t:8.0f} {fmt(n)} {fmt(th)} {t / n if n else float('nan'):7.2f} "
              f"{t / th if th else float('nan'):9.2f}")


if __name__ == "__main__":
    main()
