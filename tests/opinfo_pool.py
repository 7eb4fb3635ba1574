"""OpInfo registry entries for the pool ops (imported at the end of tests/opinfo.py), and the
NumPy float64 references they use (tests/test_pool.py imports them too).

The references are written from the definitions (loops over output positions), not from the
C++ window tables: output size = floor or ceil((L + 2p - d(k - 1) - 1) / s) + 1, the last window
starting inside the input or the left padding; max pooling keeps the first maximum in row-major
window order, a nan wins; average pooling divides by the window size clipped to input + padding
(count_include_pad) or to the input, or by divisor_override.
"""

from __future__ import annotations

import numpy as np
from opinfo import FLOAT, INT, VIEW_LAYOUTS, OpInfo, Sample, add, rand  # noqa: F401


# ---- NumPy references ----------------------------------------------------------------------------
def _tuple(v, n):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n


def _out_size(i, k, s, p, d, ceil):
    num = i + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)
    o = num // s + 1
    if ceil and (o - 1) * s >= i + p:
        o -= 1
    return o


def _as4d(x, spatial):
    """x as (N, C, H, W) (1-d: H = 1; unbatched: N = 1) and the inverse reshaping."""
    batched = x.ndim == spatial + 2
    xs = x if batched else x[None]
    if spatial == 1:
        xs = xs[:, :, None, :]

    def back(y):
        if spatial == 1:
            y = y[:, :, 0, :]
        return y if batched else y[0]

    return xs, back


def _params(spatial, kernel_size, stride, padding, dilation):
    k = _tuple(kernel_size, spatial)
    s = _tuple(stride if stride is not None else kernel_size, spatial)
    p, d = _tuple(padding, spatial), _tuple(dilation, spatial)
    if spatial == 1:
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    return k, s, p, d


def np_max_pool(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, spatial=2):
    """(values, indices) of max pooling; indices are flat positions h * W + w in the plane."""
    xs, back = _as4d(np.asarray(x), spatial)
    k, s, p, d = _params(spatial, kernel_size, stride, padding, dilation)
    N, C, H, W = xs.shape
    OH = _out_size(H, k[0], s[0], p[0], d[0], ceil_mode)
    OW = _out_size(W, k[1], s[1], p[1], d[1], ceil_mode)
    out = np.zeros((N, C, OH, OW), xs.dtype)
    idx = np.zeros((N, C, OH, OW), np.int64)
    for oh in range(OH):
        hh = [oh * s[0] - p[0] + i * d[0] for i in range(k[0])]
        hh = [h for h in hh if 0 <= h < H]
        for ow in range(OW):
            ww = [ow * s[1] - p[1] + j * d[1] for j in range(k[1])]
            ww = [w for w in ww if 0 <= w < W]
            th = np.repeat(hh, len(ww))
            tw = np.tile(ww, len(hh))
            vals = xs[:, :, th, tw]  # (N, C, taps) in row-major window order
            am = np.argmax(vals, axis=-1)  # the first maximum
            if vals.dtype.kind == "f":
                nan = np.isnan(vals)
                last_nan = vals.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
                am = np.where(nan.any(-1), last_nan, am)
            out[:, :, oh, ow] = np.take_along_axis(vals, am[..., None], -1)[..., 0]
            idx[:, :, oh, ow] = th[am] * W + tw[am]
    return back(out), back(idx)


def np_avg_pool(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None, spatial=2):
    xs, back = _as4d(np.asarray(x, np.float64), spatial)
    k, s, p, _ = _params(spatial, kernel_size, stride, padding, 1)
    N, C, H, W = xs.shape
    OH = _out_size(H, k[0], s[0], p[0], 1, ceil_mode)
    OW = _out_size(W, k[1], s[1], p[1], 1, ceil_mode)
    out = np.zeros((N, C, OH, OW))
    for oh in range(OH):
        h0 = oh * s[0] - p[0]
        h1 = min(h0 + k[0], H + p[0])
        for ow in range(OW):
            w0 = ow * s[1] - p[1]
            w1 = min(w0 + k[1], W + p[1])
            size = (h1 - h0) * (w1 - w0)
            a, b, c, e = max(h0, 0), min(h1, H), max(w0, 0), min(w1, W)
            if a >= b or c >= e:
                continue
            div = divisor_override or (size if count_include_pad else (b - a) * (e - c))
            out[:, :, oh, ow] = xs[:, :, a:b, c:e].sum(axis=(2, 3)) / div
    return back(out)


def _adaptive_windows(i, o):
    return [(j * i // o, -(-((j + 1) * i) // o)) for j in range(o)]


def np_adaptive_pool(x, output_size, kind="avg", spatial=2):
    """Adaptive average pooling, or (values, indices) of adaptive max pooling."""
    xs, back = _as4d(np.asarray(x), spatial)
    N, C, H, W = xs.shape
    osz = _tuple(output_size, spatial)
    osz = ((1,) + osz) if spatial == 1 else osz
    osz = tuple(i if o is None else o for i, o in zip((H, W), osz))
    out = np.zeros((N, C) + osz, np.float64 if kind == "avg" else xs.dtype)
    idx = np.zeros((N, C) + osz, np.int64)
    for oh, (a, b) in enumerate(_adaptive_windows(H, osz[0])):
        for ow, (c, e) in enumerate(_adaptive_windows(W, osz[1])):
            win = xs[:, :, a:b, c:e]
            if kind == "avg":
                out[:, :, oh, ow] = win.astype(np.float64).mean(axis=(2, 3))
                continue
            flat = win.reshape(N, C, -1)
            am = np.argmax(flat, axis=-1)
            if flat.dtype.kind == "f":
                nan = np.isnan(flat)
                last = flat.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
                am = np.where(nan.any(-1), last, am)
            out[:, :, oh, ow] = np.take_along_axis(flat, am[..., None], -1)[..., 0]
            idx[:, :, oh, ow] = (a + am // (e - c)) * W + c + am % (e - c)
    return back(out) if kind == "avg" else (back(out), back(idx))


def _interp_size(in_sizes, size, scale_factor):
    n = len(in_sizes)
    if size is not None:
        return list(_tuple(size, n)), [None] * n
    sc = [float(v) for v in _tuple(scale_factor, n)]
    return [int(np.floor(i * s)) for i, s in zip(in_sizes, sc)], sc


def _np_nearest(o, i, scale, exact):
    if not exact and o == i:
        return np.arange(o)
    if not exact and o == 2 * i:
        return np.arange(o) >> 1
    s = np.float32(1.0 / scale) if scale else np.float32(i) / np.float32(o)
    src = (np.arange(o, dtype=np.float32) + np.float32(0.5 if exact else 0.0)) * s
    return np.minimum(np.floor(src).astype(np.int64), i - 1)


def _np_linear(o, i, scale, align_corners):
    if align_corners:
        s = (i - 1) / (o - 1) if o > 1 else 0.0
        src = s * np.arange(o)
    else:
        s = 1.0 / scale if scale else i / o
        src = np.maximum(s * (np.arange(o) + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), i - 1)
    i1 = np.where(i0 < i - 1, i0 + 1, i0)
    return i0, i1, np.clip(src - i0, 0.0, 1.0)


def np_interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    x = np.asarray(x, np.float64)
    sizes, scales = _interp_size(x.shape[2:], size, scale_factor)
    out = x
    for k, (o, sc) in enumerate(zip(sizes, scales)):
        axis, i = 2 + k, x.shape[2 + k]
        if mode in ("nearest", "nearest-exact"):
            out = np.take(out, _np_nearest(o, i, sc, mode == "nearest-exact"), axis=axis)
        else:
            i0, i1, lam = _np_linear(o, i, sc, bool(align_corners))
            shape = [o] + [1] * (x.ndim - axis - 1)
            lam = lam.reshape(shape)
            out = np.take(out, i0, axis=axis) * (1 - lam) + np.take(out, i1, axis=axis) * lam
    return out


def np_group_norm(x, weight=None, bias=None, num_groups=1, eps=1e-5):
    x = np.asarray(x, np.float64)
    N, C = x.shape[:2]
    g = x.reshape(N, num_groups, -1)
    mean = g.mean(-1, keepdims=True)
    var = g.var(-1, keepdims=True)
    out = ((g - mean) / np.sqrt(var + eps)).reshape(x.shape)
    shape = (1, C) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * np.asarray(weight).reshape(shape)
    if bias is not None:
        out = out + np.asarray(bias).reshape(shape)
    return out


# ---- samples -------------------------------------------------------------------------------------
def _pool_samples(cases, view_case):
    """cases: (shape, kwargs); view_case: index of the case repeated in every view layout."""

    def gen(info, dtype, rng):
        for shape, kw in cases:
            yield Sample((rand(rng, shape, dtype, info.domain),), dict(kw), desc=f"{shape} {kw}")
        shape, kw = cases[view_case]
        for layout in VIEW_LAYOUTS:
            yield Sample((rand(rng, shape, dtype, info.domain),), dict(kw), desc=f"{layout} {kw}",
                         layout=layout)

    return gen


MAX2D = [
    ((1, 2, 5, 6), {"kernel_size": 2}),
    ((2, 3, 7, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 2, 7, 8), {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1), "dilation": (2, 1),
                    "ceil_mode": True}),
    ((1, 2, 6, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ((3, 5, 6), {"kernel_size": 2, "stride": 1}),  # unbatched
    ((0, 2, 4, 4), {"kernel_size": 2}),  # empty batch
]
MAX1D = [
    ((2, 3, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 2, 11), {"kernel_size": 2, "dilation": 3, "ceil_mode": True}),
    ((3, 8), {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True}),
]
AVG2D = [
    ((1, 2, 5, 6), {"kernel_size": 2}),
    ((2, 3, 7, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 2, 7, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                    "count_include_pad": False}),
    ((1, 2, 5, 5), {"kernel_size": (2, 3), "stride": (2, 1), "padding": (1, 1),
                    "divisor_override": 4}),
    ((3, 5, 6), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((0, 2, 4, 4), {"kernel_size": 2}),
]
AVG1D = [
    ((2, 3, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 2, 10), {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True,
                  "count_include_pad": False}),
    ((3, 7), {"kernel_size": 2}),
]
ADAPTIVE2D = [
    ((1, 2, 5, 7), {"output_size": (2, 3)}),
    ((2, 2, 6, 6), {"output_size": 1}),
    ((1, 3, 4, 5), {"output_size": (6, 7)}),  # larger than the input: windows overlap
    ((2, 5, 7), {"output_size": (3, None)}),  # unbatched, one size kept
]



def _fn(L, name):
    return getattr(L.nn.functional, name)


def _pool_entry(name, ref, cases, dtypes, unsupported, view_case=1, **kw):
    add(OpInfo(name, lambda L, x, **k: _fn(L, name)(x, **k), ref, dtypes=dtypes,
               unsupported=unsupported, sample_fn=_pool_samples(cases, view_case),
               available=(), kind="pool", special=False, **kw))


_TOL32 = {"float32": (1e-6, 1e-6)}
_pool_entry("max_pool2d", lambda x, **k: np_max_pool(x, **k)[0], MAX2D, FLOAT + INT, ("bool",),
            upcast=False, skip_torch_dtypes=())
_pool_entry("max_pool1d", lambda x, **k: np_max_pool(x, spatial=1, **k)[0], MAX1D, FLOAT + INT,
            ("bool",), upcast=False, skip_torch_dtypes=INT)  # torch: ints only with indices
add(OpInfo("max_pool2d_indices",
           lambda L, x, **k: _fn(L, "max_pool2d")(x, return_indices=True, **k)[1],
           lambda x, **k: np_max_pool(x, **k)[1], dtypes=FLOAT, sample_fn=_pool_samples(MAX2D, 1),
           kind="pool", special=False, differentiable=False))
add(OpInfo("max_pool1d_indices",
           lambda L, x, **k: _fn(L, "max_pool1d")(x, return_indices=True, **k)[1],
           lambda x, **k: np_max_pool(x, spatial=1, **k)[1], dtypes=FLOAT,
           sample_fn=_pool_samples(MAX1D, 0), kind="pool", special=False, differentiable=False))
_pool_entry("avg_pool2d", np_avg_pool, AVG2D, FLOAT, INT + ("bool",), tols=_TOL32)
_pool_entry("avg_pool1d", lambda x, **k: np_avg_pool(x, spatial=1, **k), AVG1D, FLOAT,
            INT + ("bool",), view_case=0, tols=_TOL32)
_pool_entry("adaptive_avg_pool2d", np_adaptive_pool, ADAPTIVE2D, FLOAT, INT + ("bool",), view_case=0,
            tols=_TOL32)
_pool_entry("adaptive_avg_pool1d", lambda x, **k: np_adaptive_pool(x, spatial=1, **k),
            [((2, 3, 10), {"output_size": 4}), ((3, 5), {"output_size": 7})], FLOAT,
            INT + ("bool",), view_case=0, tols=_TOL32)
_pool_entry("adaptive_max_pool2d", lambda x, **k: np_adaptive_pool(x, kind="max", **k)[0],
            ADAPTIVE2D, FLOAT, ("bool",), view_case=0, upcast=False)
add(OpInfo("adaptive_max_pool2d_indices",
           lambda L, x, **k: _fn(L, "adaptive_max_pool2d")(x, return_indices=True, **k)[1],
           lambda x, **k: np_adaptive_pool(x, kind="max", **k)[1], dtypes=FLOAT,
           sample_fn=_pool_samples(ADAPTIVE2D, 0), kind="pool", special=False,
           differentiable=False))
_pool_entry("adaptive_max_pool1d", lambda x, **k: np_adaptive_pool(x, kind="max", spatial=1, **k)[0],
            [((2, 3, 10), {"output_size": 4}), ((3, 5), {"output_size": 7})], FLOAT, ("bool",),
            view_case=0, upcast=False)

INTERP = [
    ((1, 2, 3, 4), {"scale_factor": 2, "mode": "nearest"}),
    ((2, 2, 5, 3), {"size": (3, 7), "mode": "nearest"}),
    ((1, 2, 4, 5), {"scale_factor": (1.5, 0.6), "mode": "nearest"}),
    ((1, 2, 5, 3), {"size": (3, 7), "mode": "nearest-exact"}),
    ((1, 2, 3, 4), {"scale_factor": 2, "mode": "bilinear", "align_corners": False}),
    ((2, 2, 4, 3), {"size": (5, 7), "mode": "bilinear", "align_corners": True}),
    ((1, 2, 6, 5), {"size": (4, 3), "mode": "bilinear"}),
    ((1, 2, 4, 5), {"scale_factor": (1.7, 0.8), "mode": "bilinear"}),
    ((2, 3, 5), {"size": 8, "mode": "linear", "align_corners": True}),
    ((2, 3, 5), {"scale_factor": 1.5, "mode": "linear"}),
]
add(OpInfo("interpolate", lambda L, x, **k: _fn(L, "interpolate")(x, **k), np_interpolate,
           dtypes=FLOAT, unsupported=("int64",), sample_fn=_pool_samples(INTERP, 5), kind="pool",
           special=False, tols={"float32": (1e-5, 1e-6)}))


def _group_norm_samples(info, dtype, rng):
    for shape, groups, affine in (((2, 4, 3, 3), 2, True), ((3, 6, 5), 3, True), ((2, 4), 4, False),
                                  ((1, 6, 2, 3), 1, True)):
        C = shape[1]
        args = (rand(rng, shape, dtype),)
        if affine:
            args += (rand(rng, (C,), dtype), rand(rng, (C,), dtype))
        yield Sample(args, {"num_groups": groups}, desc=f"{shape} groups={groups}")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (2, 4, 3, 3), dtype),), {"num_groups": 2}, desc=layout,
                     layout=layout)


add(OpInfo("group_norm",
           lambda L, x, w=None, b=None, num_groups=1: _fn(L, "group_norm")(x, num_groups, w, b),
           lambda x, w=None, b=None, num_groups=1: np_group_norm(x, w, b, num_groups),
           dtypes=FLOAT, sample_fn=_group_norm_samples, kind="pool", special=False,
           tols={"float32": (1e-4, 1e-5)}))
