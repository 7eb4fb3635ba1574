"""Quick GEMM probe: tgx vs NumPy (OpenBLAS) side by side in one process.

Each case alternates tgx and numpy calls (interleaved), takes the median time of each over
several rounds, and prints GFLOP/s and the ratio tgx/numpy (> 1 means tgx is faster). The
machine may be shared, so only the ratios are meaningful.

    PYTHONPATH=python python bench/gemm_probe.py [--quick] [--threads 1,2] [--peak] [--cpu-time]

--peak also measures an AVX2 FMA loop (compiled with gcc into a temp dir) interleaved with the
n=2048 single-thread SGEMM, and prints the GEMM's fraction of that peak.
"""
import argparse
import ctypes
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
import tinygrad_ext as tgx

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # numpy then uses its default thread count
    threadpool_limits = None


CLOCK = time.perf_counter


def timeit(f, min_time=0.02):
    """Seconds per call of f: enough calls to last min_time."""
    f()
    reps, t = 1, 0.0
    while True:
        t0 = CLOCK()
        for _ in range(reps):
            f()
        t = CLOCK() - t0
        if t >= min_time:
            return t / reps
        reps *= 2 if t < min_time / 4 else max(2, int(min_time / max(t, 1e-9) * 1.2))


def compare(fa, fb, rounds=7, min_time=0.02):
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(timeit(fa, min_time))
        tb.append(timeit(fb, min_time))
    return statistics.median(ta), statistics.median(tb), statistics.median(
        [b / a for a, b in zip(ta, tb)])


def numpy_threads(n):
    if threadpool_limits is None:
        return _Null()
    return threadpool_limits(limits=n, user_api="blas")


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


PEAK_SRC = r"""
#include <immintrin.h>
double fma_avx2(long n){
  __m256 a0=_mm256_set1_ps(0.1f),a1=_mm256_set1_ps(0.2f),a2=_mm256_set1_ps(0.3f),a3=_mm256_set1_ps(0.4f),a4=_mm256_set1_ps(0.5f),a5=_mm256_set1_ps(0.6f),a6=_mm256_set1_ps(0.7f),a7=_mm256_set1_ps(0.8f),a8=_mm256_set1_ps(0.9f),a9=_mm256_set1_ps(1.0f),a10=_mm256_set1_ps(1.1f),a11=_mm256_set1_ps(1.2f);
  __m256 b=_mm256_set1_ps(0.9999f), c=_mm256_set1_ps(1e-6f);
  for(long i=0;i<n;i++){
#define F(x) x=_mm256_fmadd_ps(x,b,c);
    F(a0)F(a1)F(a2)F(a3)F(a4)F(a5)F(a6)F(a7)F(a8)F(a9)F(a10)F(a11)
    __asm__ volatile("":"+x"(a0),"+x"(a1),"+x"(a2),"+x"(a3),"+x"(a4),"+x"(a5),"+x"(a6),"+x"(a7),"+x"(a8),"+x"(a9),"+x"(a10),"+x"(a11));
  }
  __m256 s=_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0,a1),_mm256_add_ps(a2,a3)),_mm256_add_ps(_mm256_add_ps(a4,a5),_mm256_add_ps(a6,a7)));
  s=_mm256_add_ps(s,_mm256_add_ps(_mm256_add_ps(a8,a9),_mm256_add_ps(a10,a11)));
  volatile float sink=s[0]; (void)sink;
  return n*12.0*16;
}
"""


def peak_fn():
    d = tempfile.mkdtemp()
    src, lib = os.path.join(d, "peak.c"), os.path.join(d, "libpeak.so")
    with open(src, "w") as f:
        f.write(PEAK_SRC)
    subprocess.check_call(["gcc", "-O2", "-mavx2", "-mfma", "-shared", "-fPIC", src, "-o", lib])
    L = ctypes.CDLL(lib)
    L.fma_avx2.restype = ctypes.c_double
    L.fma_avx2.argtypes = [ctypes.c_long]
    return L.fma_avx2


def case(label, a, b, flops, threads, tgx_fn=None, np_fn=None, rounds=7):
    ta_, tb_ = tgx.from_numpy(a), tgx.from_numpy(b)
    tgx_fn = tgx_fn or (lambda: ta_ @ tb_)
    np_fn = np_fn or (lambda: a @ b)
    tgx.set_num_threads(threads)
    with numpy_threads(threads):
        mt = 0.05 if flops > 1e8 else 0.02
        t_t, t_n, ratio = compare(tgx_fn, np_fn, rounds=rounds, min_time=mt)
    print(f"{label:<28} {threads:>2}  {flops / t_t / 1e9:8.1f}  {flops / t_n / 1e9:8.1f}  "
          f"{ratio:6.2f}  {t_t * 1e6:9.1f}us", flush=True)
    return ratio


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--peak", action="store_true")
    ap.add_argument("--only", default="", help="comma list: sq,small,trans,f64,batch,tall")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with the calling thread's CPU time (1 thread only: less noise "
                         "from other processes on a shared machine)")
    args = ap.parse_args()
    if args.cpu_time:
        global CLOCK
        CLOCK = time.thread_time
    threads = [int(t) for t in args.threads.split(",")]
    only = set(args.only.split(",")) if args.only else None
    rng = np.random.default_rng(0)
    R = lambda *s, dt=np.float32: rng.standard_normal(s).astype(dt)  # noqa: E731
    want = lambda name: only is None or name in only  # noqa: E731
    print(f"{'case':<28} {'th':>2}  {'tgx GF/s':>8}  {'np GF/s':>8}  {'ratio':>6}  tgx time")
    small = [16, 32, 64, 96, 128]
    big = [256, 512, 1024] if args.quick else [256, 384, 512, 1024, 2048]
    for th in threads:
        if want("small"):
            for n in small:
                case(f"sgemm n={n}", R(n, n), R(n, n), 2 * n**3, th)
        if want("sq"):
            for n in big:
                case(f"sgemm n={n}", R(n, n), R(n, n), 2 * n**3, th)
        if want("trans"):
            for n in [128, 512, 1024]:
                a, b = R(n, n), R(n, n)
                case(f"sgemm A^T@B n={n}", a.T, b, 2 * n**3, th)
                case(f"sgemm A@B^T n={n}", a, b.T, 2 * n**3, th)
        if want("f64"):
            for n in [64, 256, 1024]:
                case(f"dgemm n={n}", R(n, n, dt=np.float64), R(n, n, dt=np.float64), 2 * n**3, th)
        if want("batch"):
            a, b = R(64, 128, 128), R(64, 128, 128)
            case("bmm 64x128^3", a, b, 2 * 64 * 128**3, th)
        if want("tall"):
            case("4096x256@256x256", R(4096, 256), R(256, 256), 2 * 4096 * 256 * 256, th)
    if args.peak:
        fma = peak_fn()
        n = 2048
        a, b = R(n, n), R(n, n)
        ta_, tb_ = tgx.from_numpy(a), tgx.from_numpy(b)
        tgx.set_num_threads(1)
        iters = 20_000_000
        t_g, t_p, _ = compare(lambda: ta_ @ tb_, lambda: fma(iters), rounds=7, min_time=0.2)
        g, p = 2 * n**3 / t_g / 1e9, 12 * 16 * iters / t_p / 1e9
        print(f"peak: sgemm n=2048 1 thread {g:.1f} GF/s, FMA loop {p:.1f} GF/s -> {g / p:.1%}")


if __name__ == "__main__":
    main()
