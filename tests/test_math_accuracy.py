"""Accuracy of the float32 polynomial kernels (csrc/kernels/cpu/simd_math.h): max ulp error over
sweeps of the whole float32 range (every 2999th bit pattern, plus dense windows around the
delicate places) against float64 NumPy, special values, the forced-portable build (subprocess
with TGX_FORCE_PORTABLE=1) and layout independence. Bounds match docs/MATH.md."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tinygrad_ext as tgx

# Documented bounds (docs/MATH.md); measured maxima are a little lower.
BOUNDS = {"exp": 1.5, "log": 1.5, "tanh": 4.5, "sigmoid": 3.0}


def _sigmoid64(x):
    e = np.exp(-np.abs(x))
    return np.where(x < 0, e, 1.0) / (1.0 + e)


REFS = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sigmoid": _sigmoid64}


def _sweep_inputs():
    step = 2999
    u = np.arange(0, 2**32, step, dtype=np.uint64).astype(np.uint32)
    windows = [
        np.arange(0, 100_000, dtype=np.uint32),                      # +0 and the smallest denormals
        np.arange(0x00700000, 0x00900000, 17, dtype=np.uint32),       # denormal / normal boundary
        np.float32([1.0]).view(np.uint32) + np.arange(-2**17, 2**17, dtype=np.int64).astype(np.uint32),
        np.float32([0.625]).view(np.uint32) + np.arange(-2**16, 2**16, dtype=np.int64).astype(np.uint32),
        np.float32([0.1255]).view(np.uint32) + np.arange(-2**16, 2**16, dtype=np.int64).astype(np.uint32),
        np.float32([9.1]).view(np.uint32) + np.arange(-2**16, 2**16, 3, dtype=np.int64).astype(np.uint32),
        np.float32([88.0]).view(np.uint32) + np.arange(0, 2**18, 11, dtype=np.int64).astype(np.uint32),
        np.float32([87.0]).view(np.uint32) + np.arange(-2**17, 2**17, 5, dtype=np.int64).astype(np.uint32),
    ]
    bits = np.concatenate([u] + windows)
    x = bits.view(np.float32)
    return np.concatenate([x, -x])


def ulp_errors(y, ref):
    """|y - ref| in units of the float32 ulp at ref (the denormal ulp below 2^-126); inf where
    y is nan but ref is not, or y and ref round to different infinities/finite values."""
    y64 = y.astype(np.float64)
    with np.errstate(all="ignore"):
        ref32 = ref.astype(np.float32)
        _, e = np.frexp(np.abs(ref))
        ulp = np.ldexp(1.0, np.maximum(e - 1, -126) - 23)
        err = np.abs(y64 - ref) / ulp
    nan_ref = np.isnan(ref)
    err[nan_ref] = np.where(np.isnan(y[nan_ref]), 0.0, np.inf)
    err[np.isnan(y) & ~nan_ref] = np.inf
    special = (np.isinf(ref32) | np.isinf(y)) & ~nan_ref
    err[special] = np.where(y[special] == ref32[special], 0.0, np.inf)
    return err


def sweep_maxima():
    """Max ulp error and its argument per function; run in this process or a subprocess."""
    x = _sweep_inputs()
    tx = tgx.tensor(x)
    out = {"simd": tgx._C._simd_level(), "n": int(x.size)}
    for name, ref in REFS.items():
        y = getattr(tgx, name)(tx).numpy()
        with np.errstate(all="ignore"):
            err = ulp_errors(y, ref(x.astype(np.float64)))
        i = int(np.argmax(err))
        out[name] = [float(err[i]), float(x[i])]
    return out


def _check(maxima):
    for name, bound in BOUNDS.items():
        err, at = maxima[name]
        assert err <= bound, f"{name}: {err} ulp at x={at!r} (simd={maxima['simd']})"


def test_sweep_default_path():
    _check(sweep_maxima())


def test_sweep_portable_path():
    env = dict(os.environ, TGX_FORCE_PORTABLE="1")
    here = os.path.dirname(os.path.abspath(__file__))
    code = ("import sys, json; sys.path.insert(0, %r); import test_math_accuracy as m; "
            "print(json.dumps(m.sweep_maxima()))" % here)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    maxima = json.loads(r.stdout.strip().splitlines()[-1])
    assert maxima["simd"] != "avx2+fma"
    _check(maxima)


INF, NAN = np.inf, np.nan
TINY = np.float32(1e-45)  # smallest denormal
SPECIALS = {
    "exp": [(INF, INF), (-INF, 0.0), (0.0, 1.0), (-0.0, 1.0), (88.72283, None), (88.7229, INF),
            (1000.0, INF), (-103.0, TINY), (-104.0, 0.0), (-1e30, 0.0), (-87.5, None)],
    "log": [(0.0, -INF), (-0.0, -INF), (-1.0, NAN), (-INF, NAN), (INF, INF), (1.0, 0.0),
            (TINY, None), (1e-40, None), (3.4028235e38, None)],
    "tanh": [(INF, 1.0), (-INF, -1.0), (0.0, 0.0), (20.0, 1.0), (-20.0, -1.0), (1e-30, 1e-30),
             (TINY, TINY), (-TINY, -TINY)],
    "sigmoid": [(INF, 1.0), (-INF, 0.0), (0.0, 0.5), (100.0, 1.0), (-100.0, None),
                (-103.0, TINY), (-200.0, 0.0), (-1e30, 0.0)],
}


@pytest.mark.parametrize("name", list(SPECIALS))
def test_special_values(name):
    xs = np.array([x for x, _ in SPECIALS[name]] + [NAN], dtype=np.float32)
    want = [REFS[name](np.float64(np.float32(x))) if y is None else y for x, y in SPECIALS[name]]
    want = np.array(want + [NAN], dtype=np.float64).astype(np.float32)
    got = getattr(tgx, name)(tgx.tensor(xs)).numpy()
    np.testing.assert_allclose(got, want, rtol=2e-7, atol=0)
    assert np.array_equal(np.signbit(got[want == 0]), np.signbit(want[want == 0])) or name == "exp"
    assert not np.isnan(got[:-1][~np.isnan(want[:-1])]).any()


def test_odd_tanh_and_signed_zero():
    x = np.float32([-0.0, 0.0, -0.3, 0.3, -5.0, 5.0])
    y = tgx.tanh(tgx.tensor(x)).numpy()
    assert np.signbit(y[0]) and not np.signbit(y[1])
    np.testing.assert_array_equal(y[2::2], -y[3::2])


@pytest.mark.parametrize("name", list(REFS))
def test_layout_independent(name):
    """Strided, flipped, broadcast views and every tail length give bit-identical results."""
    rng = np.random.default_rng(1)
    base = rng.uniform(-20, 20, 257).astype(np.float32)
    if name == "log":
        base = np.abs(base) + np.float32(1e-3)
    f = getattr(tgx, name)
    full = f(tgx.tensor(base)).numpy()
    t = tgx.tensor(base)
    strided = tgx._C._strided_view(t, [128], [2], 1)           # base[1::2]
    np.testing.assert_array_equal(f(strided).numpy(), full[1::2])
    flipped = tgx._C._strided_view(t, [257], [-1], 256)        # base[::-1]
    np.testing.assert_array_equal(f(flipped).numpy(), full[::-1])
    bcast = tgx._C._strided_view(t, [3, 5], [0, 1], 10)        # rows of base[10:15]
    np.testing.assert_array_equal(f(bcast).numpy(), np.broadcast_to(full[10:15], (3, 5)))
    cols = tgx._C._strided_view(t, [16, 16], [1, 16], 0)       # transposed 16x16 block
    np.testing.assert_array_equal(f(cols).numpy(), full[:256].reshape(16, 16).T)
    for n in range(1, 20):
        np.testing.assert_array_equal(f(tgx.tensor(base[:n])).numpy(), full[:n])
    assert f(tgx.tensor(base[:0])).shape == (0,)
    np.testing.assert_array_equal(f(tgx.tensor(base[3])).numpy(), full[3])


@pytest.mark.parametrize("name", list(REFS))
def test_float64_stays_accurate(name):
    x = np.linspace(0.01 if name == "log" else -30, 30, 1001)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(getattr(tgx, name)(tgx.tensor(x)).numpy(), REFS[name](x), rtol=1e-14)


def test_large_parallel_input_matches_small():
    """Big tensors split across threads: same bits as chunk-by-chunk."""
    rng = np.random.default_rng(2)
    x = rng.uniform(-90, 90, 300_001).astype(np.float32)
    y = tgx.exp(tgx.tensor(x)).numpy()
    np.testing.assert_array_equal(y[:1001], tgx.exp(tgx.tensor(x[:1001])).numpy())
    np.testing.assert_array_equal(y[-999:], tgx.exp(tgx.tensor(x[-999:])).numpy())
