"""Near-minimax polynomial coefficients for csrc/kernels/cpu/simd_math.h (Lawson's iteratively
reweighted least squares on a dense grid, float64; good enough for float32 targets).
    python bench/fit_poly.py
Each fit prints the float32-rounded coefficients (lowest degree first) and the max relative
error of the fitted part on its interval."""
import numpy as np


def lawson(f, basis, lo, hi, weight, npts=20000, iters=300):
    x = np.cos(np.linspace(0, np.pi, npts)) * (hi - lo) / 2 + (hi + lo) / 2
    A = np.stack([b(x) for b in basis], 1)
    y = f(x)
    w = np.full(npts, 1.0 / npts)
    for _ in range(iters):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(A * (sw * weight(x))[:, None], y * sw * weight(x), rcond=None)
        err = np.abs((A @ c - y) * weight(x))
        w = w * err
        w /= w.sum()
    c32 = c.astype(np.float32).astype(np.float64)
    return c32, np.max(np.abs((A @ c32 - y) * weight(x)))


def show(name, c, err):
    print(f"{name}: max rel err {err:.3e} (2^{np.log2(err):.1f})")
    for k, v in enumerate(c):
        print(f"  c{k} = {np.float32(v).item()!r}f  // {np.float32(v).view(np.uint32):#010x}")


# exp(r) = 1 + r + r^2 * P(r), |r| <= ln2/2
for deg in (3, 4):
    c, e = lawson(lambda r: (np.expm1(r) - r) / r**2, [lambda r, k=k: r**k for k in range(deg + 1)],
                  -0.3466, 0.3466, lambda r: r**2 / np.exp(r))
    show(f"exp P deg {deg}", c, e)
# log(1+f) = f - f^2/2 + f^3 * P(f), f in [sqrt(.5)-1, sqrt(2)-1]
for deg in (6, 7):
    c, e = lawson(lambda f: (np.log1p(f) - f + f * f / 2) / f**3,
                  [lambda f, k=k: f**k for k in range(deg + 1)], -0.29289, 0.41422,
                  lambda f: np.abs(f**3) / np.abs(np.log1p(f)))
    show(f"log P deg {deg}", c, e)
# tanh(x) = x + x^3 * P(x^2), |x| <= 0.625
for deg in (4, 5, 6):
    c, e = lawson(lambda x: (np.tanh(x) - x) / x**3, [lambda x, k=k: x**(2 * k) for k in range(deg + 1)],
                  1e-4, 0.625, lambda x: np.abs(x**3) / np.tanh(x))
    show(f"tanh P deg {deg}", c, e)


# tanh(x/2) ~ x (1 + x^2 N(x^2)) / (1 + x^2 D(x^2)) / 2, |x| <= 9.1: rational, linearised Lawson
# (weights 1/(tanh D_prev) times the Lawson weights), then rounded to float32 one coefficient at
# a time with the others refitted. simd_math.inc uses deg (4, 3) on y = x/2 in [0, 4.56] with the
# powers of 4 folded into the coefficients (c_k / 4^(k+1)).
def rational_tanh(dn, dd, hi, fixed=None, npts=30000, iters=300):
    x = np.linspace(1e-3, hi, npts)
    t, y = x * x, np.tanh(x)
    M = np.stack([x * t**k for k in range(1, dn + 1)] + [-y * t**k for k in range(1, dd + 1)], 1)
    fixed = fixed or {}
    free = [i for i in range(M.shape[1]) if i not in fixed]
    fx = np.zeros(M.shape[1])
    for i, v in fixed.items():
        fx[i] = v
    D, lw, best = np.ones_like(x), np.full(npts, 1.0 / npts), None
    for _ in range(iters):
        w = np.sqrt(lw) / (y * D)
        A = M[:, free] * w[:, None]
        s = np.abs(A).max(0)
        cf, *_ = np.linalg.lstsq(A / s, (y - x - M @ fx) * w, rcond=None)
        c = fx.copy()
        c[free] = cf / s
        D = 1 + t * np.polyval(c[dn:][::-1], t)
        e = np.abs(x * (1 + t * np.polyval(c[:dn][::-1], t)) / D / y - 1)
        if best is None or e.max() < best[0]:
            best = (e.max(), c)
        lw = lw * e
        lw /= lw.sum()
    return best


fixed = {}
for i in range(7):
    err, c = rational_tanh(4, 3, 4.56, fixed)
    fixed[i] = float(np.float32(c[i]))
err, c = rational_tanh(4, 3, 4.56, fixed)
show("tanh(y) rational [9/6] on [0, 4.56]: num", c[:4], err)
show("  den", c[4:], err)
