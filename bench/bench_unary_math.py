"""Throughput of tinygrad_ext's float32 transcendental kernels vs NumPy and PyTorch.

Runs the libraries side by side in one process, alternating, and prints the median time per call
and the ratios. Not a test: the machine may be shared, so read the medians, not single runs.
    PYTHONPATH=python python bench/bench_unary_math.py [--sizes 100000 10000000] [--repeats 15]
"""
import argparse
import time

import numpy as np
import tinygrad_ext as tgx

try:
    import torch
except ImportError:  # PyTorch is optional
    torch = None


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


OPS = {
    "exp": (tgx.exp, np.exp, "exp", -80.0, 80.0),
    "log": (tgx.log, np.log, "log", 1e-30, 1e30),
    "tanh": (tgx.tanh, np.tanh, "tanh", -10.0, 10.0),
    "sigmoid": (tgx.sigmoid, np_sigmoid, "sigmoid", -30.0, 30.0),
    "expm1": (tgx.expm1, np.expm1, "expm1", -10.0, 10.0),
    "log1p": (tgx.log1p, np.log1p, "log1p", -0.9, 1e6),
    "erf": (tgx.erf, None, "erf", -5.0, 5.0),
    "sin": (tgx.sin, np.sin, "sin", -100.0, 100.0),
    "cos": (tgx.cos, np.cos, "cos", -100.0, 100.0),
}


def timeit(f, number):
    t0 = time.perf_counter()
    for _ in range(number):
        f()
    return (time.perf_counter() - t0) / number


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 10_000_000])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--ops", nargs="+", default=list(OPS))
    ap.add_argument("--threads", type=int, default=0, help="threads for tgx and torch (0: default)")
    args = ap.parse_args()
    if args.threads:
        tgx.set_num_threads(args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)
    print(f"simd={tgx._C._simd_level()} threads={tgx.get_num_threads()} torch={'yes ' + torch.__version__ if torch else 'no'}")
    print(f"{'op':8} {'n':>9} {'tgx us':>10} {'numpy us':>10} {'torch us':>10} {'np/tgx':>7} {'torch/tgx':>9}")
    rng = np.random.default_rng(0)
    for name in args.ops:
        f_tgx, f_np, torch_name, lo, hi = OPS[name]
        for n in args.sizes:
            if name == "log":
                a = np.exp(rng.uniform(np.log(lo), np.log(hi), n)).astype(np.float32)
            else:
                a = rng.uniform(lo, hi, n).astype(np.float32)
            ta = tgx.tensor(a)
            cands = {"tgx": lambda: f_tgx(ta)}
            if f_np is not None:
                cands["numpy"] = lambda: f_np(a)
            if torch is not None:
                pa = torch.from_numpy(a)
                f_t = getattr(torch, torch_name)
                cands["torch"] = lambda: f_t(pa)
            number = max(1, int(2e6 // n))
            for f in cands.values():
                f()
            times = {k: [] for k in cands}
            for _ in range(args.repeats):
                for k, f in cands.items():
                    times[k].append(timeit(f, number))
            med = {k: float(np.median(v)) * 1e6 for k, v in times.items()}
            get = lambda k: med.get(k, float("nan"))
            print(f"{name:8} {n:9d} {get('tgx'):10.1f} {get('numpy'):10.1f} {get('torch'):10.1f} "
                  f"{get('numpy') / get('tgx'):7.2f} {get('torch') / get('tgx'):9.2f}")


if __name__ == "__main__":
    main()
