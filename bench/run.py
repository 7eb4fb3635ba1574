"""Benchmarks: tinygrad_ext vs NumPy (and PyTorch when installed), side by side in one process.

    python bench/run.py [--quick] [--threads N] [--only PATTERN] [--json PATH] [--no-md]

Prints a Markdown table, writes raw JSON (bench/results.json) and regenerates bench/RESULTS.md.
See bench/README.md for what the columns mean. Benchmarks are not tests: nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, short samples (< 60 s)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for every library (default: all cores; GEMM also runs at 1 and 2)")
    p.add_argument("--only", default=None, help="regex: run only cases whose name matches")
    p.add_argument("--json", default=str(HERE / "results.json"), help="raw results (JSON)")
    p.add_argument("--no-md", action="store_true", help="do not rewrite bench/RESULTS.md")
    p.add_argument("--no-plot", action="store_true", help="skip the GEMM plot even with matplotlib")
    return p.parse_args(argv)


ARGS = parse_args()
THREADS = ARGS.threads or os.cpu_count() or 1
# BLAS / OpenMP pools read these when NumPy and torch are imported: set them first.
if "numpy" in sys.modules:  # pragma: no cover - only when imported from elsewhere
    os.execv(sys.executable, [sys.executable, *sys.argv])
for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[var] = str(THREADS)
# OpenBLAS's idle workers busy-wait 2^28 cycles (~0.1 s) after every call by default: on a
# 2-core machine that takes a core from whichever library is timed next. 2^20 cycles keep
# NumPy's back-to-back calls warm and let the pool go idle within the settle pause of
# timing.measure.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")

import numpy as np  # noqa: E402

sys.path.insert(0, str(HERE))
import tinygrad_ext as tgx  # noqa: E402
from timing import fmt_time, measure  # noqa: E402

try:
    import torch  # noqa: E402
except ImportError:
    torch = None
try:
    import threadpoolctl  # noqa: E402
except ImportError:
    threadpoolctl = None

LIBS = ["tgx", "numpy"] + (["torch"] if torch is not None else [])


def set_threads(n: int) -> str:
    """Pins every library to n threads; returns how NumPy's BLAS was pinned."""
    tgx.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(n)
        return f"threadpoolctl({n})"
    return f"OPENBLAS_NUM_THREADS={THREADS} (fixed at start)"


# ---- cases -------------------------------------------------------------------------------------
class Case:
    def __init__(self, name, size, make, work=None, unit=None, threads=None):
        self.name, self.size, self.make = name, size, make  # make() -> {lib: callable}
        self.work, self.unit, self.threads = work, unit, threads  # work per call in FLOP or bytes


def _rand(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _t(a):
    return torch.from_numpy(a.copy()) if torch is not None else None


def elementwise_cases(sizes):
    unary = {
        "exp": (tgx.exp, np.exp, "exp"),
        "tanh": (tgx.tanh, np.tanh, "tanh"),
        "log": (tgx.log, np.log, "log"),
        "sigmoid": (tgx.sigmoid, lambda x, out=None: np.reciprocal(1 + np.exp(-x), out=out), "sigmoid"),
        "relu": (tgx.relu, lambda x, out=None: np.maximum(x, 0, out=out), "relu"),
    }
    binary = {"add": (tgx.add, np.add, "add"), "mul": (tgx.mul, np.multiply, "mul")}
    cases = []
    for n in sizes:
        label = f"{n:.0e}".replace("+0", "")
        for name, (tf, nf, th) in binary.items():
            for use_out in (False, True):
                def make(n=n, tf=tf, nf=nf, th=th, use_out=use_out):
                    a, b = _rand(n, seed=1), _rand(n, seed=2)
                    ta, tb, o = tgx.tensor(a), tgx.tensor(b), tgx.tensor(np.empty_like(a))
                    no = np.empty_like(a)
                    fns = {"tgx": (lambda: tf(ta, tb, out=o)) if use_out else (lambda: tf(ta, tb)),
                           "numpy": (lambda: nf(a, b, out=no)) if use_out else (lambda: nf(a, b))}
                    if torch is not None:
                        pa, pb, po = _t(a), _t(b), _t(no)
                        f = getattr(torch, th)
                        fns["torch"] = (lambda: f(pa, pb, out=po)) if use_out else (lambda: f(pa, pb))
                    return fns
                cases.append(Case(f"{name}{' out=' if use_out else ''}", label, make, 12 * n, "GB/s"))
        for name, (tf, nf, th) in unary.items():
            for use_out in (False, True):
                def make(n=n, tf=tf, nf=nf, th=th, use_out=use_out, name=name):
                    a = _rand(n, seed=3)
                    if name == "log":  # positive inputs: no NaN slow paths
                        a = np.abs(a) + np.float32(0.5)
                    ta, o, no = tgx.tensor(a), tgx.tensor(np.empty_like(a)), np.empty_like(a)
                    fns = {"tgx": (lambda: tf(ta, out=o)) if use_out else (lambda: tf(ta)),
                           "numpy": (lambda: nf(a, out=no)) if use_out else (lambda: nf(a))}
                    if torch is not None:
                        pa, po = _t(a), _t(no)
                        f = getattr(torch, th)
                        if th == "relu" and use_out:  # torch.relu has no out=
                            f = lambda x, out: torch.clamp_min(x, 0, out=out)  # noqa: E731
                        fns["torch"] = (lambda: f(pa, out=po)) if use_out else (lambda: f(pa))
                    return fns
                cases.append(Case(f"{name}{' out=' if use_out else ''}", label, make, 8 * n, "GB/s"))
    return cases


def layout_cases(n):
    def bcast():
        a, b = _rand((n, 1)), _rand((1, n))
        ta, tb = tgx.tensor(a), tgx.tensor(b)
        fns = {"tgx": lambda: ta + tb, "numpy": lambda: a + b}
        if torch is not None:
            pa, pb = _t(a), _t(b)
            fns["torch"] = lambda: pa + pb
        return fns

    cases = [Case("broadcast add (N,1)+(1,M)", f"{n}x{n}", bcast, 4 * n * n, "GB/s")]
    if hasattr(tgx.Tensor, "permute") or hasattr(tgx, "transpose"):
        def transposed():
            a, b = _rand((n, n)), _rand((n, n))
            ta, tb = tgx.tensor(a), tgx.tensor(b)
            tat = ta.permute(1, 0) if hasattr(ta, "permute") else tgx.transpose(ta, 0, 1)
            fns = {"tgx": lambda: tat + tb, "numpy": lambda: a.T + b}
            if torch is not None:
                pa, pb = _t(a), _t(b)
                fns["torch"] = lambda: pa.T + pb
            return fns
        cases.append(Case("transposed add A.T+B", f"{n}x{n}", transposed, 12 * n * n, "GB/s"))
    for n_el in (1, 16):
        def overhead(n_el=n_el):
            a, b = _rand(n_el), _rand(n_el)
            ta, tb = tgx.tensor(a), tgx.tensor(b)
            fns = {"tgx": lambda: ta + tb, "numpy": lambda: a + b}
            if torch is not None:
                pa, pb = _t(a), _t(b)
                fns["torch"] = lambda: pa + pb
            return fns
        cases.append(Case("overhead a+b", str(n_el), overhead))
    if hasattr(tgx.Tensor, "requires_grad_"):
        def grad_add():
            a, b = _rand(10**5), _rand(10**5)
            ta, tb = tgx.tensor(a).requires_grad_(), tgx.tensor(b).requires_grad_()
            fns = {"tgx": lambda: ta + tb, "numpy": lambda: a + b}
            if torch is not None:
                pa, pb = _t(a).requires_grad_(), _t(b).requires_grad_()
                fns["torch"] = lambda: pa + pb
            return fns
        cases.append(Case("a+b requires_grad", "1e5", grad_add, 12 * 10**5, "GB/s"))
        for n_el in (1, 16):
            def grad_overhead(n_el=n_el):
                a, b = _rand(n_el), _rand(n_el)
                ta, tb = tgx.tensor(a).requires_grad_(), tgx.tensor(b).requires_grad_()
                fns = {"tgx": lambda: ta + tb}
                if torch is not None:
                    pa, pb = _t(a).requires_grad_(), _t(b).requires_grad_()
                    fns["torch"] = lambda: pa + pb
                return fns
            cases.append(Case("overhead a+b requires_grad", str(n_el), grad_overhead))
    return cases


def _mm_case(name, size, sa, sb, dtype=np.float32, ta_=False, tb_=False, threads=None):
    def make():
        a, b = _rand(sa, dtype, 1), _rand(sb, dtype, 2)
        an, bn = (a.T if ta_ else a), (b.T if tb_ else b)
        xa, xb = tgx.tensor(a), tgx.tensor(b)
        if ta_:
            xa = xa.permute(1, 0) if hasattr(xa, "permute") else tgx.transpose(xa, 0, 1)
        if tb_:
            xb = xb.permute(1, 0) if hasattr(xb, "permute") else tgx.transpose(xb, 0, 1)
        fns = {"tgx": lambda: tgx.matmul(xa, xb), "numpy": lambda: np.matmul(an, bn)}
        if torch is not None:
            pa, pb = _t(a), _t(b)
            pa, pb = (pa.T if ta_ else pa), (pb.T if tb_ else pb)
            fns["torch"] = lambda: torch.matmul(pa, pb)
        return fns
    m, k = (sa[-1], sa[-2]) if ta_ else (sa[-2], sa[-1])
    n = sb[-2] if tb_ else sb[-1]
    batch = int(np.prod(sa[:-2])) if len(sa) > 2 else 1
    return Case(name, size, make, 2.0 * batch * m * n * k, "GFLOP/s", threads)


def matmul_cases(quick):
    if not hasattr(tgx, "matmul"):
        return []
    sizes = [32, 64, 128, 256, 512] if quick else [32, 64, 128, 256, 512, 1024, 2048]
    thread_counts = sorted({1, min(2, THREADS)}) if ARGS.threads is None else [THREADS]
    cases = [_mm_case("sgemm", f"n={n}", (n, n), (n, n), threads=t) for t in thread_counts for n in sizes]
    cases += [
        _mm_case("batched sgemm 64x", "128^3", (64, 128, 128), (128, 128)),
        _mm_case("tall-skinny sgemm", "4096x256@256x256", (4096, 256), (256, 256)),
        _mm_case("dgemm float64", "n=512", (512, 512), (512, 512), dtype=np.float64),
    ]
    if hasattr(tgx.Tensor, "permute") or hasattr(tgx, "transpose"):
        cases += [_mm_case("A^T@B", "n=512", (512, 512), (512, 512), ta_=True),
                  _mm_case("A@B^T", "n=512", (512, 512), (512, 512), tb_=True)]
    cases += [_linear_relu_case(32, 64, 128), _linear_relu_case(32, 128, 10),
              _linear_relu_case(256, 512, 512)]
    return cases


def _linear_relu_case(m, k, n):
    """relu(x @ W^T + b), nn.Linear + ReLU's forward: tgx's GEMM adds the bias and applies relu
    as it stores C (_C.linear); NumPy and torch run the product, the add and the relu."""
    def make():
        x, w, b = _rand((m, k), seed=1), _rand((n, k), seed=2), _rand((n,), seed=3)
        tx, tw, tb = tgx.tensor(x), tgx.tensor(w), tgx.tensor(b)
        fns = {"tgx": lambda: tgx._C.linear(tx, tw, tb, "relu"),
               "numpy": lambda: np.maximum(x @ w.T + b, 0)}
        if torch is not None:
            px, pw, pb = _t(x), _t(w), _t(b)
            fns["torch"] = lambda: torch.relu(torch.nn.functional.linear(px, pw, pb))
        return fns
    return Case("linear+relu forward", f"{m}x{k}@{k}x{n}", make, 2.0 * m * n * k, "GFLOP/s")


def reduction_cases(quick):
    cases = []
    n = 1024 if quick else 4096
    if hasattr(tgx, "sum"):
        for label, dim in (("all", None), ("axis0", 0), ("axis1", 1)):
            def make(dim=dim):
                a = _rand((n, n))
                ta = tgx.tensor(a)
                fns = {"tgx": (lambda: tgx.sum(ta)) if dim is None else (lambda: tgx.sum(ta, dim=dim)),
                       "numpy": lambda: np.sum(a, axis=dim)}
                if torch is not None:
                    pa = _t(a)
                    fns["torch"] = (lambda: torch.sum(pa)) if dim is None else (lambda: torch.sum(pa, dim=dim))
                return fns
            cases.append(Case(f"sum {label}", f"{n}x{n}", make, 4 * n * n, "GB/s"))
    for name in ("softmax", "log_softmax"):
        if not hasattr(tgx, name):
            continue

        def make(name=name):
            a = _rand((1024, 1024))
            ta = tgx.tensor(a)

            def np_softmax():
                e = np.exp(a - a.max(axis=-1, keepdims=True))
                return e / e.sum(axis=-1, keepdims=True)

            def np_log_softmax():
                m = a - a.max(axis=-1, keepdims=True)
                return m - np.log(np.exp(m).sum(axis=-1, keepdims=True))

            f = getattr(tgx, name)
            fns = {"tgx": lambda: f(ta, dim=-1),
                   "numpy": np_softmax if name == "softmax" else np_log_softmax}
            if torch is not None:
                pa, tf = _t(a), getattr(torch, name)
                fns["torch"] = lambda: tf(pa, dim=-1)
            return fns
        cases.append(Case(f"{name} last axis", "1024x1024", make, 8 * 1024 * 1024, "GB/s"))
    return cases


# ---- autograd and training ---------------------------------------------------------------------
def autograd_cases():
    """Recording cost of the tape: the tiny step y = (w*x + b).sigmoid(); y.backward()."""
    if not hasattr(tgx.Tensor, "backward"):
        return []

    def make():
        x, w, b = _rand(16, seed=1), _rand(16, seed=2), _rand(16, seed=3)
        tx = tgx.tensor(x)
        tw, tb = tgx.tensor(w).requires_grad_(), tgx.tensor(b).requires_grad_()
        g = tgx.ones(16)

        def tgx_step():
            tw.grad = None
            tb.grad = None
            (tw * tx + tb).sigmoid().backward(g)

        fns = {"tgx": tgx_step}
        if torch is not None:
            px = _t(x)
            pw, pb = _t(w).requires_grad_(), _t(b).requires_grad_()
            pg = torch.ones(16)

            def torch_step():
                pw.grad = None
                pb.grad = None
                (pw * px + pb).sigmoid().backward(pg)

            fns["torch"] = torch_step
        return fns

    return [Case("autograd step sigmoid(w*x+b)", "16", make)]


class NumpyMLP:
    """Hand-written float32 MLP (Linear/ReLU stack, softmax cross-entropy) with manual backprop
    and a hand-written Adam or SGD-with-momentum update: the NumPy peer of the training cases."""

    def __init__(self, sizes, opt, lr, seed=0):
        rng = np.random.default_rng(seed)
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = np.float32(1 / np.sqrt(fan_in))
            self.params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
            self.params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
        self.opt, self.lr, self.t = opt, np.float32(lr), 0
        self.m = [np.zeros_like(q) for q in self.params]
        self.v = [np.zeros_like(q) for q in self.params] if opt == "adam" else None

    def grads(self, x, y):
        acts, pre = [x], []
        n_layers = len(self.params) // 2
        h = x
        for i in range(n_layers):
            z = h @ self.params[2 * i] + self.params[2 * i + 1]
            pre.append(z)
            h = np.maximum(z, 0) if i < n_layers - 1 else z
            acts.append(h)
        z = h - h.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        batch = x.shape[0]
        loss = float(np.log(s).mean() - z[np.arange(batch), y].mean())
        d = e / s
        d[np.arange(batch), y] -= 1
        d *= np.float32(1 / batch)
        gs = [None] * len(self.params)
        for i in reversed(range(n_layers)):
            gs[2 * i] = acts[i].T @ d
            gs[2 * i + 1] = d.sum(axis=0)
            if i > 0:
                d = (d @ self.params[2 * i].T) * (pre[i - 1] > 0)
        return loss, gs

    def step(self, x, y):
        loss, gs = self.grads(x, y)
        self.t += 1
        if self.opt == "adam":
            b1, b2, eps = np.float32(0.9), np.float32(0.999), np.float32(1e-8)
            c1, c2 = np.float32(1 - 0.9 ** self.t), np.float32(1 - 0.999 ** self.t)
            for q, g, m, v in zip(self.params, gs, self.m, self.v):
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * g * g
                q -= (self.lr / c1) * m / (np.sqrt(v / c2) + eps)
        else:  # SGD, momentum 0.9 (torch's form: buf = 0.9 buf + g; p -= lr buf)
            for q, g, m in zip(self.params, gs, self.m):
                if self.t == 1:
                    m[...] = g
                else:
                    m *= np.float32(0.9)
                    m += g
                q -= self.lr * m
        return loss


def _mlp(lib, sizes):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(lib.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(lib.nn.ReLU())
    return lib.nn.Sequential(*layers)


def training_cases():
    """Training steps per second: forward, cross-entropy, backward, optimizer step."""
    need = ("nn", "optim")
    if not all(hasattr(tgx, m) for m in need) or not hasattr(tgx.Tensor, "backward"):
        return []
    specs = [("MLP 64-256-256-10 Adam", "batch 128", (64, 256, 256, 10), 128, "adam", 1e-3),
             ("MLP 784-512-512-10 SGD m=0.9", "batch 256", (784, 512, 512, 10), 256, "sgd", 1e-2)]
    cases = []
    for name, size, sizes, batch, opt, lr in specs:
        def make(sizes=sizes, batch=batch, opt=opt, lr=lr):
            rng = np.random.default_rng(0)
            x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
            y = rng.integers(0, sizes[-1], batch).astype(np.int64)

            def build(lib, xs, ys):
                lib.manual_seed(0)
                model = _mlp(lib, sizes)
                if opt == "adam":
                    o = lib.optim.Adam(model.parameters(), lr=lr)
                else:
                    o = lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
                ce = lib.nn.functional.cross_entropy

                def step():
                    o.zero_grad()
                    loss = ce(model(xs), ys)
                    loss.backward()
                    o.step()
                return step

            fns = {"tgx": build(tgx, tgx.tensor(x), tgx.tensor(y))}
            net = NumpyMLP(sizes, opt, lr)
            fns["numpy"] = lambda: net.step(x, y)
            if torch is not None:
                fns["torch"] = build(torch, torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))
            return fns
        cases.append(Case(name, size, make, 1.0, "steps/s"))
    return cases


# Areas with their own case files (bench/cases_<area>.py). Each defines
#   cases(quick, Case, tgx, torch) -> list of Case
#   targets(results, check, where, ratio) -> None   (adds rows with check(desc, rows, metric, minimum))
EXTRA_CASE_MODULES = ("cases_conv", "cases_cnn", "cases_rnn", "cases_attention")


def _extra_modules():
    import importlib

    return [importlib.import_module(name) for name in EXTRA_CASE_MODULES]


def all_cases(quick):
    sizes = [10**3, 10**5] if quick else [10**3, 10**5, 10**7]
    cases = elementwise_cases(sizes) + layout_cases(1000 if quick else 2000)
    cases += matmul_cases(quick) + reduction_cases(quick) + autograd_cases() + training_cases()
    for mod in _extra_modules():
        cases += mod.cases(quick, Case, tgx, torch)
    if ARGS.only:
        pat = re.compile(ARGS.only)
        cases = [c for c in cases if pat.search(f"{c.name} {c.size}")]
    return cases


# ---- report ------------------------------------------------------------------------------------
def cpu_model():
    try:
        text = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.*)", text)
        mhz = re.search(r"cpu MHz\s*:\s*([\d.]+)", text)
        return (model.group(1).strip() if model else platform.processor() or "unknown",
                f"{float(mhz.group(1)):.0f} MHz" if mhz else "unknown clock")
    except OSError:
        return platform.processor() or "unknown", "unknown clock"


def machine_info(blas_pin):
    model, clock = cpu_model()
    return {
        "cpu": model, "clock": clock, "cores": os.cpu_count(), "threads": THREADS,
        "simd": tgx._C._simd_level(), "numpy_threads": blas_pin,
        "python": platform.python_version(), "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "tinygrad_ext": tgx.__version__, "openmp": tgx._C._build_config["openmp"],
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "command": "python bench/run.py " + " ".join(sys.argv[1:]),
    }


def table(results):
    head = ["case", "size", "threads", "tgx", "numpy"] + (["torch"] if torch is not None else [])
    head += ["tgx rate", "vs numpy", "vs torch"] if torch is not None else ["tgx rate", "vs numpy"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        t = {lib: r["times"].get(lib, {}).get("median") for lib in LIBS}
        iqr = r["times"]["tgx"]["iqr"] / t["tgx"] * 100 if t["tgx"] else 0
        row = [r["case"], r["size"], str(r["threads"]), f"{fmt_time(t['tgx'])} ±{iqr:.0f}%",
               fmt_time(t["numpy"])]
        if torch is not None:
            row.append(fmt_time(t["torch"]))
        rate = "-"
        if r["work"] and t["tgx"]:
            scale = 1 if r["unit"] == "steps/s" else 1e9
            rate = f"{r['work'] / t['tgx'] / scale:.1f} {r['unit']}"
        row.append(rate)
        row.append(f"{t['numpy'] / t['tgx']:.2f}x" if t["tgx"] and t["numpy"] else "-")
        if torch is not None:
            row.append(f"{t['torch'] / t['tgx']:.2f}x" if t["tgx"] and t["torch"] else "-")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def plot(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    gem = [r for r in results if r["case"] == "sgemm"]
    if not gem:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for th in sorted({r["threads"] for r in gem}):
        rs = [r for r in gem if r["threads"] == th]
        ns = [int(r["size"].split("=")[1]) for r in rs]
        for lib, style in (("tgx", "o-"), ("numpy", "s--"), ("torch", "^:")):
            ys = [r["work"] / r["times"][lib]["median"] / 1e9 for r in rs if lib in r["times"]]
            if len(ys) == len(ns):
                ax.plot(ns, ys, style, label=f"{lib} ({th} thr)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("n (square float32 GEMM)")
    ax.set_ylabel("GFLOP/s")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


# ---- targets -----------------------------------------------------------------------------------
def fma_peak(samples, target):
    """Single-thread AVX2 FMA peak in GFLOP/s (bench/gemm_probe.py's loop), or None."""
    try:
        from gemm_probe import peak_fn

        fma = peak_fn()
    except Exception as e:  # no gcc, no AVX2 ...
        print(f"# FMA peak not measured: {e}", file=sys.stderr)
        return None
    iters = 1_000_000
    t = measure({"fma": lambda: fma(iters)}, samples, target)["fma"]["median"]
    return 12 * 16 * iters / t / 1e9


def _med(r, lib):
    return r["times"].get(lib, {}).get("median")


def _ratio(lib):
    """Speed-up of tgx over lib for a row (other's time / tgx's time), None when not timed."""
    def f(r):
        t, o = _med(r, "tgx"), _med(r, lib)
        return o / t if t and o else None
    return f


def _where(results, case, size=None, threads=None):
    pat = re.compile(case)
    return [r for r in results if pat.fullmatch(r["case"]) and (size is None or size(r["size"]))
            and (threads is None or r["threads"] == threads)]


def _n(size):
    return int(size.split("=")[1])


def targets(results, peak):
    """[(target, measured, verdict)]: each row must reach the threshold; the worst row is shown."""
    out = []

    def check(desc, rows, metric, minimum, fmt=lambda v: f"{v:.2f}x"):
        vals = [(metric(r), r) for r in rows]
        vals = [(v, r) for v, r in vals if v is not None]
        if not vals:
            out.append((desc, "not measured", "-"))
            return
        v, r = min(vals, key=lambda x: x[0])
        if len(vals) > 1:
            where = f"worst: {r['case']} {r['size']}, {r['threads']} thr"
        else:
            where = f"{r['threads']} thr"
        out.append((desc, f"{fmt(v)} ({where})",
                    "PASS" if v >= minimum else "MISS"))

    for th in sorted({r["threads"] for r in _where(results, "sgemm")}):
        check(f"SGEMM n>=256, {th} thread(s): >= 1.0x NumPy",
              _where(results, "sgemm", lambda s: _n(s) >= 256, th), _ratio("numpy"), 1.0)
        check(f"SGEMM n<=128, {th} thread(s): >= 1.2x NumPy",
              _where(results, "sgemm", lambda s: _n(s) <= 128, th), _ratio("numpy"), 1.2)
    big = _where(results, "sgemm", lambda s: s == "n=2048", 1)
    if big and peak:
        gf = big[0]["work"] / _med(big[0], "tgx") / 1e9
        note = " (over 100%: the FMA loop under-measures this CPU's peak)" if gf > peak else ""
        out.append((f"SGEMM n=2048, 1 thread: >= 85% of FMA peak ({peak:.1f} GFLOP/s)",
                    f"{gf:.1f} GFLOP/s = {gf / peak:.0%}{note}",
                    "PASS" if gf >= 0.85 * peak else "MISS"))
    else:
        out.append(("SGEMM n=2048, 1 thread: >= 85% of FMA peak", "not measured", "-"))
    base = {r["threads"]: r for r in _where(results, "sgemm", lambda s: s == "n=512")}

    def extra(r):  # minus the extra time over A@B at n=512 with the same threads
        b = base.get(r["threads"])
        return -(_med(r, "tgx") / _med(b, "tgx") - 1) if b else None
    for name in ("A^T@B", "A@B^T"):
        check(f"{name} n=512: <= 10% extra time over A@B", _where(results, re.escape(name)),
              extra, -0.10, lambda v: f"{-v:+.0%} extra")
    check("float64 GEMM: time <= 1.2x NumPy's", _where(results, "dgemm.*"), _ratio("numpy"),
          1 / 1.2, lambda v: f"{1 / v:.2f}x NumPy's time")
    check("add/mul (fresh and out=): >= NumPy at every size", _where(results, "(add|mul)( out=)?"),
          _ratio("numpy"), 1.0)
    trans = "(exp|tanh|sigmoid|log)( out=)?"
    check("exp/tanh/sigmoid/log: >= 3x NumPy", _where(results, trans), _ratio("numpy"), 3.0)
    check("exp/tanh/sigmoid/log: >= 1.5x torch", _where(results, trans), _ratio("torch"), 1.5)
    check("sum all/axis0/axis1, 2 threads: >= torch", _where(results, "sum .*", threads=2),
          _ratio("torch"), 1.0)
    check("softmax/log_softmax last axis: >= torch", _where(results, "(log_)?softmax last axis"),
          _ratio("torch"), 1.0)
    n16 = lambda s: s == "16"  # noqa: E731
    check("a+b, 16 elements: time <= NumPy's", _where(results, "overhead a\\+b", n16),
          _ratio("numpy"), 1.0)
    check("a+b requires_grad, 16 elements: time <= torch's",
          _where(results, "overhead a\\+b requires_grad", n16), _ratio("torch"), 1.0)
    check("autograd step sigmoid(w*x+b) + backward, 16 elements: time <= torch's",
          _where(results, "autograd step.*"), _ratio("torch"), 1.0)
    mlp_a, mlp_b = _where(results, "MLP 64-.*"), _where(results, "MLP 784-.*")
    check("MLP 64-256-256-10 Adam: >= 2x torch steps/s", mlp_a, _ratio("torch"), 2.0)
    check("MLP 64-256-256-10 Adam: >= NumPy steps/s", mlp_a, _ratio("numpy"), 1.0)
    check("MLP 784-512-512-10 SGD: >= 1.2x torch steps/s", mlp_b, _ratio("torch"), 1.2)
    for mod in _extra_modules():
        mod.targets(results, check, _where, _ratio)
    return out


def targets_md(rows):
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in rows]
    return "\n".join(lines)


def results_md(info, md_table, png, targets_table=None):
    torch_v = info["torch"] or "not installed"
    lines = [
        "# Benchmark results",
        "",
        "Generated by `bench/run.py` (do not edit by hand; see bench/README.md for the columns).",
        "",
        f"- machine: {info['cpu']}, {info['clock']}, {info['cores']} cores; threads {info['threads']} "
        f"(NumPy BLAS: {info['numpy_threads']}); tinygrad_ext kernels: {info['simd']}, "
        f"OpenMP {'on' if info['openmp'] else 'off'}",
        f"- versions: tinygrad_ext {info['tinygrad_ext']}, Python {info['python']}, "
        f"NumPy {info['numpy']}, PyTorch {torch_v}",
        f"- date: {info['date']}",
        f"- command: `{info['command']}`",
        "",
        md_table,
        "",
    ]
    if targets_table:
        lines += ["## Targets", "",
                  "Each target must hold for every matching row; the worst row is shown. "
                  "Ratios are other library's time / tgx's time (> 1: tgx faster).", "",
                  targets_table, ""]
    if png:
        # the PNG is a local artifact (gitignored): named, not embedded, so no link breaks
        lines += [f"GEMM GFLOP/s against n is plotted in `bench/{Path(png).name}` by each run "
                  "(matplotlib; not committed).", ""]
    return "\n".join(lines)


def main():
    quick = ARGS.quick
    samples, target = (5, 0.001) if quick else (9, 0.005)
    blas_pin = set_threads(THREADS)
    cases = all_cases(quick)
    print(f"# {len(cases)} cases; libraries: {', '.join(LIBS)}; threads {THREADS}; "
          f"NumPy BLAS {blas_pin}", file=sys.stderr)
    results = []
    for c in cases:
        th = c.threads or THREADS
        set_threads(th)
        fns = c.make()
        times = measure(fns, samples, target)
        results.append({"case": c.name, "size": c.size, "threads": th, "work": c.work,
                        "unit": c.unit, "times": times})
        peers = "  ".join(f"{lib} {fmt_time(times[lib]['median']):>10}"
                          for lib in LIBS[1:] if lib in times)
        print(f"  {c.name:<28} {c.size:<18} tgx {fmt_time(times['tgx']['median']):>10}  {peers}",
              file=sys.stderr)
    peak = None
    if _where(results, "sgemm", lambda s: s == "n=2048", 1):
        set_threads(1)
        peak = fma_peak(samples, target)
    set_threads(THREADS)
    info = machine_info(blas_pin)
    info["fma_peak_gflops"] = peak
    md = table(results)
    tmd = targets_md(targets(results, peak))
    print(md)
    print()
    print(tmd)
    Path(ARGS.json).write_text(json.dumps({"machine": info, "results": results}, indent=1))
    png = None if ARGS.no_plot else plot(results, HERE / "gemm.png")
    if not ARGS.no_md:
        (HERE / "RESULTS.md").write_text(results_md(info, md, png, tmd))


if __name__ == "__main__":
    main()
