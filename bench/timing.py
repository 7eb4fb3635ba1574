"""Timing helpers for bench/run.py: calibrated repetitions, interleaved samples, robust stats."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def calibrate(fn: Callable[[], object], target_s: float) -> int:
    """The number of calls per sample so that one sample takes at least target_s."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target_s or n >= 1 << 20:
            return n
        n = max(n * 2, int(n * target_s / max(dt, 1e-9) * 1.2))


def measure(fns: dict[str, Callable[[], object]], samples: int, target_s: float,
            warmup: int = 2, settle_s: float = 0.01) -> dict[str, dict]:
    """Times each library's callable; samples alternate between libraries (a, b, c, a, b, c ...)
    so that drift in clock speed or load hits them alike. Before each sample the process sleeps
    settle_s, so that the worker threads the previous library left spinning (OpenMP pools,
    OpenBLAS) have gone idle and do not compete with the next one for the cores.
    Returns seconds per call."""
    loops = {}
    for name, fn in fns.items():
        time.sleep(settle_s)
        for _ in range(warmup):
            fn()
        loops[name] = calibrate(fn, target_s)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(samples):
        for name, fn in fns.items():
            n = loops[name]
            time.sleep(settle_s)
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - t0) / n)
    out = {}
    for name, ts in times.items():
        q = statistics.quantiles(ts, n=4) if len(ts) >= 2 else [ts[0]] * 3
        out[name] = {"median": statistics.median(ts), "q1": q[0], "q3": q[2], "iqr": q[2] - q[0],
                     "loops": loops[name], "samples": len(ts)}
    return out


def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"
