"""One optimizer step over a 1e6-element float32 parameter: tinygrad_ext's fused C++ update vs
torch.optim (single-tensor default and foreach). Not a test: the machine may be shared, so read the
medians, not single runs.
    PYTHONPATH=python python bench/bench_optim.py [--n 1000000] [--threads 1] [--repeats 30]
"""
import argparse
import statistics
import time

import numpy as np
import tinygrad_ext as tgx
from tinygrad_ext import optim

try:
    import torch
except ImportError:  # PyTorch is optional
    torch = None

CASES = [("Adam", {}), ("AdamW", {}), ("Adam", {"amsgrad": True, "weight_decay": 0.1}),
         ("SGD", {"lr": 0.01, "momentum": 0.9}), ("RMSprop", {}), ("NAdam", {})]


def median_ms(f, repeats):
    for _ in range(3):
        f()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    tgx.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    rs = np.random.RandomState(0)
    x, g = rs.randn(args.n).astype(np.float32), rs.randn(args.n).astype(np.float32)
    print(f"n={args.n} threads={args.threads} (median ms per step)")
    for name, kw in CASES:
        p = tgx.tensor(x).requires_grad_(True)
        p.grad = tgx.tensor(g)
        ours = median_ms(getattr(optim, name)([p], **kw).step, args.repeats)
        line = f"{name:8s} {str(kw):45s} tgx {ours:8.3f}"
        if torch is not None:
            tp = torch.tensor(x, requires_grad=True)
            tp.grad = torch.tensor(g)
            single = median_ms(getattr(torch.optim, name)([tp], foreach=False, **kw).step,
                               args.repeats)
            foreach = median_ms(getattr(torch.optim, name)([tp], foreach=True, **kw).step,
                                args.repeats)
            line += f"  torch {single:8.3f}  torch-foreach {foreach:8.3f}"
            line += f"  speedup {single / ours:5.1f}x"
        print(line)


if __name__ == "__main__":
    main()
