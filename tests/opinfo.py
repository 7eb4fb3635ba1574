"""The op registry (PyTorch's OpInfo idea): one entry per op, swept by tests/test_opinfo.py.

An entry says how to call the op, what it should compute and on which inputs:

- ``op(L, *args, **kwargs)``: the call, written once for both libraries. ``L`` is the module
  (``tinygrad_ext`` or ``torch``); args are tensors of that library (or plain numbers).
- ``ref(*arrays, **kwargs)``: the NumPy reference. Float inputs are upcast to float64 first
  (``upcast=True``), integer and bool inputs stay exact; the result is cast to the dtype the
  library returned before comparing, so float32 overflow to inf matches.
- ``sample_fn(info, dtype, rng)``: yields ``Sample``s; the default generators cover 0-d, empty,
  broadcast, a ~1e5-element case and, through ``layout``, transposed / strided / flipped views.
- ``dtypes``: tested dtypes; ``unsupported``: dtypes that must raise TypeError/NotImplementedError.
- ``available``: names that must exist in tinygrad_ext for the entry to be swept (``hasattr``
  guards for ops that land later); the NumPy references are checked against PyTorch meanwhile.

Adding an op is one ``add(OpInfo(...))`` call; new sample shapes are a new ``*_samples`` function.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import tinygrad_ext as tgx

ALL_DTYPES = ("bool", "uint8", "int32", "int64", "float32", "float64")
FLOAT = ("float32", "float64")
INT = ("uint8", "int32", "int64")
SIGNED = ("int32", "int64")
NUM = INT + FLOAT
LARGE = 100_003  # > the parallel grain of every kernel, and odd (tails of SIMD loops)

BOOL_OUT = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
            "isnan", "isinf", "isfinite", "logical_not"}
FLOAT_OUT = {"div", "atan2", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
             "rsqrt", "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
             "tanh", "sigmoid", "erf"}
DEFAULT_TOLS = {"float32": (2e-6, 1e-6), "float64": (1e-12, 1e-14)}


@dataclasses.dataclass
class Sample:
    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    desc: str = ""
    layout: str = "contig"  # contig | transpose | strided | flip: how arrays become tensors


@dataclasses.dataclass
class OpInfo:
    name: str
    op: Callable[..., Any]
    ref: Callable[..., Any]
    dtypes: tuple = NUM
    unsupported: tuple = ()
    sample_fn: Callable[..., Iterator[Sample]] | None = None
    domain: tuple = (-3.0, 3.0)  # values drawn uniformly from here (ints: rounded)
    special: bool = True  # float ops: also sweep inf / nan / -0.0 / denormals
    upcast: bool = True  # float inputs to float64 before calling ref
    differentiable: bool = True
    tols: dict = dataclasses.field(default_factory=dict)
    available: tuple = ()  # tgx names this entry needs (hasattr guards for later ops)
    kind: str = "elementwise"
    signed_zero: bool = False  # also compare the sign bit of zero results
    torch_op: Callable[..., Any] | None = None  # when torch spells it differently
    xfail: dict = dataclasses.field(default_factory=dict)  # test name -> known-bug reason
    torch_scalars: bool = True  # torch takes a Python number as second operand
    skip_torch_dtypes: tuple = ()  # dtypes where torch itself refuses or differs on purpose

    def is_available(self) -> bool:
        return all(hasattr(tgx, n) or hasattr(tgx.Tensor, n) for n in self.available)

    def tol(self, dtype: str) -> tuple:
        return self.tols.get(dtype, DEFAULT_TOLS.get(dtype, (0.0, 0.0)))

    def samples(self, dtype: str, rng: np.random.Generator) -> Iterator[Sample]:
        return (self.sample_fn or unary_samples)(self, dtype, rng)

    def call(self, L, *args, **kwargs):
        if self.torch_op is not None and L.__name__ == "torch":
            return self.torch_op(L, *args, **kwargs)
        return self.op(L, *args, **kwargs)


OPS: list[OpInfo] = []


def add(info: OpInfo) -> OpInfo:
    assert all(o.name != info.name for o in OPS), info.name
    OPS.append(info)
    return info


# ---- array generation ------------------------------------------------------------------------
def rand(rng, shape, dtype, domain=(-3.0, 3.0)):
    """Random values of dtype in domain (bool: coin flips; ints: rounded, within range)."""
    lo, hi = domain
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dtype in INT:
        info = np.iinfo(dtype)
        lo, hi = max(math.ceil(lo), info.min), min(math.floor(hi), info.max)
        return np.asarray(rng.integers(lo, hi + 1, size=shape), dtype=dtype)
    return np.asarray(rng.uniform(lo, hi, size=shape), dtype=dtype)


def special_values(dtype):
    """inf, nan, signed zeros, denormals, extremes and ordinary numbers of a float dtype."""
    fi = np.finfo(dtype)
    tiny = fi.smallest_subnormal
    return np.array([0.0, -0.0, np.inf, -np.inf, np.nan, tiny, -tiny, fi.tiny, fi.max, -fi.max,
                     1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e-3, 30.0, -30.0, 100.0], dtype=dtype)


UNARY_SHAPES = [(), (0,), (3, 0, 2), (1,), (7,), (4, 5), (2, 3, 4), (1, 5, 1)]
BINARY_SHAPES = [
    ((), ()), ((5,), ()), ((), (5,)), ((4, 5), (4, 5)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)),
    ((2, 1, 3), (2, 4, 1)), ((0, 3), (1, 3)), ((0,), ()), ((6, 1), (0,)),
]
VIEW_LAYOUTS = ("transpose", "strided", "flip")


def unary_samples(info, dtype, rng):
    for shape in UNARY_SHAPES:
        yield Sample((rand(rng, shape, dtype, info.domain),), desc=f"shape={shape}")
    yield Sample((rand(rng, (LARGE,), dtype, info.domain),), desc="large")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (6, 5), dtype, info.domain),), desc=layout, layout=layout)
    yield Sample((rand(rng, (3, 4, 5), dtype, info.domain),), desc="flip-3d", layout="flip")


def binary_samples(info, dtype, rng):
    dom_a, dom_b = info.domain if isinstance(info.domain[0], tuple) else (info.domain, info.domain)
    for sa, sb in BINARY_SHAPES:
        yield Sample((rand(rng, sa, dtype, dom_a), rand(rng, sb, dtype, dom_b)), desc=f"{sa} {sb}")
    yield Sample((rand(rng, (LARGE,), dtype, dom_a), rand(rng, (LARGE,), dtype, dom_b)), desc="large")
    yield Sample((rand(rng, (67, 1), dtype, dom_a), rand(rng, (1, 131), dtype, dom_b)),
                 desc="broadcast (67, 1) (1, 131)")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (6, 5), dtype, dom_a), rand(rng, (6, 5), dtype, dom_b)),
                     desc=layout, layout=layout)
    yield Sample((rand(rng, (5, 6), dtype, dom_a), rand(rng, (6,), dtype, dom_b)),
                 desc="transpose+broadcast", layout="transpose")
    # a Python number as the second operand
    py = rand(rng, (), dtype, dom_b).item()
    yield Sample((rand(rng, (3, 4), dtype, dom_a), py), desc=f"scalar {py!r}", layout="scalar")


def special_samples(info, dtype):
    """Every special value (paired with every other one for binary ops)."""
    v = special_values(dtype)
    if info.kind == "binary":
        a, b = np.meshgrid(v, v, indexing="ij")
        return [Sample((a.copy(), b.copy()), desc="special x special")]
    return [Sample((v,), desc="special")]


# ---- elementwise entries ---------------------------------------------------------------------
def _method_or_fn(name):
    return lambda L, *a, **k: getattr(L, name)(*a, **k)


def unary(name, ref, dtypes=NUM, unsupported=(), **kw):
    return add(OpInfo(name, _method_or_fn(name), ref, dtypes=dtypes, unsupported=unsupported,
                      kind="unary", **kw))


def binary(name, ref, dtypes=NUM + ("bool",), unsupported=(), **kw):
    return add(OpInfo(name, _method_or_fn(name), ref, dtypes=dtypes, unsupported=unsupported,
                      sample_fn=binary_samples, kind="binary", **kw))


F32_LOOSE = {"float32": (1e-5, 1e-6)}
POS = (0.05, 20.0)

unary("neg", np.negative, dtypes=NUM, unsupported=("bool",), signed_zero=True)
unary("abs", np.abs, signed_zero=True)
unary("sign", lambda x: np.where(np.isnan(x), 0, np.sign(x)) if x.dtype.kind == "f" else np.sign(x),
      differentiable=False)  # PyTorch: sign(nan) == 0 (NumPy says nan)
unary("exp", np.exp, unsupported=("bool",), domain=(-20, 20))
unary("exp2", np.exp2, unsupported=("bool",), domain=(-20, 20))
unary("expm1", np.expm1, unsupported=("bool",), domain=(-5, 5))
unary("log", np.log, unsupported=("bool",), domain=POS)
unary("log2", np.log2, unsupported=("bool",), domain=POS)
unary("log10", np.log10, unsupported=("bool",), domain=POS)
unary("log1p", np.log1p, unsupported=("bool",), domain=(-0.9, 20))
unary("sqrt", np.sqrt, unsupported=("bool",), domain=(0, 20), signed_zero=True)
unary("rsqrt", lambda x: 1 / np.sqrt(x), unsupported=("bool",), domain=POS)
unary("reciprocal", np.reciprocal, unsupported=("bool",), domain=POS)
unary("square", np.square, unsupported=("bool",), domain=(-10, 10))
unary("sin", np.sin, unsupported=("bool",), domain=(-10, 10))
unary("cos", np.cos, unsupported=("bool",), domain=(-10, 10))
unary("tan", np.tan, unsupported=("bool",), domain=(-1.4, 1.4), tols=F32_LOOSE)
unary("asin", np.arcsin, unsupported=("bool",), domain=(-0.99, 0.99))
unary("acos", np.arccos, unsupported=("bool",), domain=(-0.99, 0.99))
unary("atan", np.arctan, unsupported=("bool",), domain=(-10, 10))
unary("sinh", np.sinh, unsupported=("bool",), domain=(-5, 5))
unary("cosh", np.cosh, unsupported=("bool",), domain=(-5, 5))
unary("tanh", np.tanh, unsupported=("bool",), domain=(-5, 5))
unary("sigmoid", lambda x: 1 / (1 + np.exp(-x)), unsupported=("bool",), domain=(-10, 10))
unary("relu", lambda x: np.where(np.isnan(x), x, np.maximum(x, 0)) if x.dtype.kind == "f"
      else np.maximum(x, 0), unsupported=("bool",))
unary("erf", np.vectorize(math.erf, otypes=[np.float64]), unsupported=("bool",), domain=(-3, 3))
for _r in ("floor", "ceil", "trunc"):
    unary(_r, getattr(np, _r), unsupported=("bool",), domain=(-5, 5), signed_zero=True,
          differentiable=False)
unary("round", np.round, unsupported=("bool",), domain=(-5, 5), signed_zero=True,
      differentiable=False)
unary("bitwise_not", np.invert, dtypes=INT + ("bool",), unsupported=FLOAT, differentiable=False)
unary("isnan", np.isnan, dtypes=ALL_DTYPES, differentiable=False)
unary("isinf", np.isinf, dtypes=ALL_DTYPES, differentiable=False)
unary("isfinite", np.isfinite, dtypes=ALL_DTYPES, differentiable=False)
unary("logical_not", np.logical_not, dtypes=ALL_DTYPES, differentiable=False)


def _nonzero_int(domain):
    """Divisors for integer floor_divide / remainder: no zeros (those raise, tested apart)."""
    return (domain, (1, 7))


binary("add", np.add)
binary("sub", np.subtract, dtypes=NUM, unsupported=("bool",))
binary("mul", np.multiply)
binary("div", np.true_divide, domain=((-5, 5), (0.5, 4)))
binary("floor_divide", np.floor_divide, dtypes=NUM, unsupported=("bool",),
       domain=_nonzero_int((-20, 20)), differentiable=False)
binary("remainder", np.remainder, dtypes=NUM, unsupported=("bool",),
       domain=_nonzero_int((-20, 20)), differentiable=False)
binary("pow", np.power, dtypes=NUM, domain=((0.1, 4), (0, 4)), tols=F32_LOOSE)
binary("maximum", np.maximum, torch_scalars=False)
binary("minimum", np.minimum, torch_scalars=False)
binary("atan2", np.arctan2, torch_scalars=False)
for _c, _f in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
               ("gt", np.greater), ("ge", np.greater_equal)):
    binary(_c, _f, differentiable=False)
for _c, _f in (("logical_and", np.logical_and), ("logical_or", np.logical_or),
               ("logical_xor", np.logical_xor)):
    binary(_c, _f, differentiable=False, torch_scalars=False)
for _c, _f in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
               ("bitwise_xor", np.bitwise_xor)):
    binary(_c, _f, dtypes=INT + ("bool",), unsupported=FLOAT, differentiable=False)


# Python operators go through the same kernels but another binding path.
for _n, _f, _r in (("__add__", lambda L, a, b: a + b, np.add),
                   ("__mul__", lambda L, a, b: a * b, np.multiply),
                   ("__rsub__", lambda L, a, b: 2 - a, lambda a, b: 2 - a),
                   ("__truediv__", lambda L, a, b: a / b, np.true_divide)):
    add(OpInfo(_n, _f, _r, dtypes=NUM, sample_fn=binary_samples, kind="binary",
               domain=((-5, 5), (0.5, 4))))


def _where_samples(info, dtype, rng):
    for sc, sa, sb in (((), (), ()), ((4, 5), (4, 5), (4, 5)), ((3, 1), (1, 4), ()),
                       ((0, 2), (2,), (1, 2)), ((LARGE,), (LARGE,), (1,))):
        yield Sample((rand(rng, sc, "bool"), rand(rng, sa, dtype), rand(rng, sb, dtype)),
                     desc=f"{sc} {sa} {sb}")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (6, 5), "bool"), rand(rng, (6, 5), dtype), rand(rng, (6, 5), dtype)),
                     desc=layout, layout=layout)


add(OpInfo("where", lambda L, c, a, b: L.where(c, a, b), np.where, dtypes=ALL_DTYPES,
           sample_fn=_where_samples, kind="ternary", special=False))


def _lerp_samples(info, dtype, rng):
    for shape, wshape in (((), ()), ((4, 5), ()), ((3, 1), (1, 4)), ((LARGE,), (LARGE,)), ((0, 3), (3,))):
        yield Sample((rand(rng, shape, dtype), rand(rng, shape, dtype), rand(rng, wshape, dtype, (0, 1))),
                     desc=f"{shape} w={wshape}")
    yield Sample((rand(rng, (3, 4), dtype), rand(rng, (3, 4), dtype), 0.25), desc="scalar weight")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (6, 5), dtype), rand(rng, (6, 5), dtype), rand(rng, (6, 5), dtype)),
                     desc=layout, layout=layout)


add(OpInfo("lerp", lambda L, a, b, w: L.lerp(a, b, w), lambda a, b, w: a + w * (b - a),
           dtypes=FLOAT, unsupported=INT + ("bool",), sample_fn=_lerp_samples, kind="ternary",
           special=False, tols={"float32": (1e-5, 1e-6)}))


def _clamp_samples(info, dtype, rng):
    lo = -2 if dtype not in ("uint8", "bool") else 2
    for shape in ((), (7,), (4, 5), (0, 2), (LARGE,)):
        x = rand(rng, shape, dtype, (-10, 10))
        yield Sample((x,), {"min": lo, "max": 3}, desc=f"{shape} [{lo}, 3]")
        yield Sample((x,), {"min": 1}, desc=f"{shape} min only")
        yield Sample((x,), {"max": 0}, desc=f"{shape} max only")
    yield Sample((rand(rng, (4, 5), dtype, (-10, 10)), rand(rng, (5,), dtype, (-5, 0)),
                  rand(rng, (4, 1), dtype, (1, 5))), desc="tensor bounds")
    yield Sample((rand(rng, (6, 5), dtype, (-10, 10)),), {"min": lo, "max": 4}, desc="flip", layout="flip")
    yield Sample((rand(rng, (6, 5), dtype, (-10, 10)),), {"min": lo, "max": 4}, desc="transpose",
                 layout="transpose")
    if dtype in FLOAT:
        yield Sample((special_values(dtype),), {"min": -1.5, "max": 2.0}, desc="special")
        yield Sample((rand(rng, (5,), dtype),), {"min": 2.0, "max": -1.0}, desc="min > max")


def _clamp_ref(x, min=None, max=None):
    out = x
    if min is not None:
        out = np.where(np.isnan(out), out, np.maximum(out, min)) if out.dtype.kind == "f" else np.maximum(out, min)
    if max is not None:
        out = np.where(np.isnan(out), out, np.minimum(out, max)) if out.dtype.kind == "f" else np.minimum(out, max)
    return out


add(OpInfo("clamp", lambda L, x, *b, **k: L.clamp(x, *b, **k), _clamp_ref, dtypes=NUM,
           unsupported=("bool",), sample_fn=_clamp_samples, kind="clamp", special=False))


def _nan_to_num_samples(info, dtype, rng):
    v = special_values(dtype) if dtype in FLOAT else rand(rng, (9,), dtype)
    yield Sample((v,), desc="special defaults")
    yield Sample((v,), {"nan": 1.5, "posinf": 7.0, "neginf": -7.0}, desc="special explicit")
    yield Sample((rand(rng, (0, 3), dtype),), desc="empty")
    yield Sample((rand(rng, (), dtype),), desc="0-d")
    yield Sample((np.flip(v).copy(),), desc="flip", layout="flip")


add(OpInfo("nan_to_num", lambda L, x, **k: L.nan_to_num(x, **k), np.nan_to_num, dtypes=NUM,
           sample_fn=_nan_to_num_samples, upcast=False, special=False, differentiable=False))


def _identity_samples(info, dtype, rng):
    yield from unary_samples(info, dtype, rng)
    if dtype in FLOAT:
        yield Sample((special_values(dtype),), desc="special")


add(OpInfo("clone", lambda L, x: x.clone(), np.copy, dtypes=ALL_DTYPES, sample_fn=_identity_samples,
           special=False, signed_zero=True))
add(OpInfo("contiguous", lambda L, x: x.contiguous(), np.copy, dtypes=ALL_DTYPES,
           sample_fn=_identity_samples, special=False, signed_zero=True))
for _dst in ALL_DTYPES:
    _dom = (0, 100) if _dst in INT else (-100, 100)  # float -> int out of range is undefined
    add(OpInfo(f"to_{_dst}", (lambda d: lambda L, x: x.to(getattr(L, d)))(_dst),
               (lambda d: lambda x: x.astype(d))(_dst), dtypes=ALL_DTYPES, domain=_dom,
               special=_dst in FLOAT, upcast=False, differentiable=_dst in FLOAT, kind="convert"))


# ---- reductions (activate when tgx.sum & co. land) -------------------------------------------
REDUCE_SHAPES = [(), (7,), (4, 5), (2, 3, 4), (LARGE,), (3, 0)]


def _reduce_samples(info, dtype, rng, nonempty=False, dims=True, multi_dim=True, needs_dim=False):
    for shape in REDUCE_SHAPES:
        if nonempty and 0 in shape:
            continue
        x = rand(rng, shape, dtype, info.domain)
        if not needs_dim:
            yield Sample((x,), desc=f"{shape} all")
        if dims and len(shape) >= 1:
            yield Sample((x,), {"dim": 0}, desc=f"{shape} dim=0")
            yield Sample((x,), {"dim": -1, "keepdim": True}, desc=f"{shape} dim=-1 keepdim")
        if dims and len(shape) >= 3 and multi_dim:
            yield Sample((x,), {"dim": (0, 2)}, desc=f"{shape} dim=(0, 2)")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (6, 5), dtype, info.domain),), {"dim": 1} if dims else {},
                     desc=layout, layout=layout)


def _np_axis(kwargs):
    k = dict(kwargs)
    dim = k.pop("dim", None)
    keep = k.pop("keepdim", False)
    return (tuple(dim) if isinstance(dim, (list, tuple)) else dim), keep, k


def reduction(name, npfn, dtypes=NUM + ("bool",), unsupported=(), method=True, nonempty=False,
              dims=True, multi_dim=True, needs_dim=False, **kw):
    def ref(x, **kwargs):
        axis, keep, rest = _np_axis(kwargs)
        return np.asarray(npfn(x, axis=axis, keepdims=keep, **rest))

    def op(L, x, **k):
        return getattr(x, name)(**k) if method else getattr(L, name)(x, **k)

    def samples(info, dtype, rng):
        return _reduce_samples(info, dtype, rng, nonempty=nonempty, dims=dims, multi_dim=multi_dim,
                               needs_dim=needs_dim)

    return add(OpInfo(name, op, ref, dtypes=dtypes, unsupported=unsupported, sample_fn=samples,
                      available=(name,), kind="reduction", special=False, **kw))


def _sum_dtype(x):  # PyTorch: integer and bool sums accumulate in int64
    return np.int64 if x.dtype.kind in "biu" else None


# float32 sums of the 1e5-element sample: the rounding error of any summation order scales with
# sum(|x|) (~5e4), not with the (cancelling) result, so the absolute tolerance is set by that.
reduction("sum", lambda x, axis, keepdims: np.sum(x, axis, dtype=_sum_dtype(x), keepdims=keepdims),
          tols={"float32": (1e-5, 1e-3)})
reduction("prod", lambda x, axis, keepdims: np.prod(x, axis, dtype=_sum_dtype(x), keepdims=keepdims),
          domain=(0.5, 1.5), tols={"float32": (1e-5, 1e-6)},
          multi_dim=False)  # torch.prod takes one dim
reduction("mean", np.mean, dtypes=FLOAT, unsupported=INT + ("bool",), tols={"float32": (1e-5, 1e-6)})
reduction("var", lambda x, axis, keepdims: np.var(x, axis, ddof=1, keepdims=keepdims),
          dtypes=FLOAT, unsupported=INT + ("bool",), nonempty=True, tols={"float32": (1e-4, 1e-5)})
reduction("std", lambda x, axis, keepdims: np.std(x, axis, ddof=1, keepdims=keepdims),
          dtypes=FLOAT, unsupported=INT + ("bool",), nonempty=True, tols={"float32": (1e-4, 1e-5)})
reduction("amax", np.max, nonempty=True)
reduction("amin", np.min, nonempty=True)


def _logsumexp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


reduction("logsumexp", _logsumexp, dtypes=FLOAT, nonempty=True, method=False, needs_dim=True,
          tols={"float32": (1e-5, 1e-5)})


def _argsamples(info, dtype, rng):
    for s in _reduce_samples(info, dtype, rng, nonempty=True, multi_dim=False):
        x = s.args[0]
        if x.size:  # distinct values: ties are resolved differently by different libraries
            perm = rng.permutation(x.size).reshape(x.shape)
            x = (perm if dtype != "bool" else perm % 2 == 0).astype(dtype) if dtype not in ("uint8",) else (perm % 251).astype(dtype)
        yield dataclasses.replace(s, args=(x,))


for _n, _f in (("argmax", np.argmax), ("argmin", np.argmin)):
    add(OpInfo(_n, (lambda n: lambda L, x, **k: getattr(x, n)(**k))(_n),
               (lambda f: lambda x, dim=None, keepdim=False: np.asarray(
                   f(x, axis=dim, keepdims=keepdim)))(_f),
               dtypes=("int32", "int64", "float32", "float64"), sample_fn=_argsamples,
               available=(_n,), kind="reduction", special=False, differentiable=False))


def _max_dim(L, x, **k):  # max(dim) returns (values, indices); compare the values
    return x.max(**k)[0] if "dim" in k else x.max()


reduction("max", np.max, nonempty=True, multi_dim=False)
OPS[-1].op = _max_dim
reduction("min", np.min, nonempty=True, multi_dim=False)
OPS[-1].op = lambda L, x, **k: x.min(**k)[0] if "dim" in k else x.min()


def _softmax(x, dim):
    if x.size == 0:
        return x.copy()
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _log_softmax(x, dim):
    if x.size == 0:
        return x.copy()
    m = np.max(x, axis=dim, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True))


def _dim_samples(info, dtype, rng):
    for shape, dim in (((7,), 0), ((4, 5), -1), ((4, 5), 0), ((2, 3, 4), 1), ((300, 400), -1),
                       ((0, 3), 1), ((3, 0), 1)):
        yield Sample((rand(rng, shape, dtype, info.domain),), {"dim": dim}, desc=f"{shape} dim={dim}")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (6, 5), dtype, info.domain),), {"dim": 1}, desc=layout, layout=layout)


add(OpInfo("softmax", lambda L, x, dim: L.softmax(x, dim=dim), _softmax, dtypes=FLOAT,
           sample_fn=_dim_samples, available=("softmax",), kind="reduction", special=False,
           domain=(-30, 30), tols={"float32": (1e-5, 1e-6)}))
add(OpInfo("log_softmax", lambda L, x, dim: L.log_softmax(x, dim=dim), _log_softmax, dtypes=FLOAT,
           sample_fn=_dim_samples, available=("log_softmax",), kind="reduction", special=False,
           domain=(-30, 30), tols={"float32": (1e-5, 1e-5)}))
add(OpInfo("cumsum", lambda L, x, dim: L.cumsum(x, dim=dim),
           lambda x, dim: np.cumsum(x, axis=dim, dtype=_sum_dtype(x)), dtypes=NUM,
           sample_fn=_dim_samples, available=("cumsum",), kind="reduction", special=False,
           tols={"float32": (1e-5, 1e-5)}))


# ---- matmul / linalg ---------------------------------------------------------------------------
def _matmul_samples(info, dtype, rng):
    for sa, sb in (((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((5, 3), (3, 4)), ((0, 3), (3, 4)),
                   ((5, 0), (0, 4)), ((2, 5, 3), (3, 4)), ((2, 1, 5, 3), (3, 3, 4)),
                   ((65, 130), (130, 67)), ((1, 1), (1, 1))):
        yield Sample((rand(rng, sa, dtype), rand(rng, sb, dtype)), desc=f"{sa} @ {sb}")
    yield Sample((rand(rng, (7, 6), dtype), rand(rng, (6, 5), dtype)), desc="transpose", layout="transpose")
    yield Sample((rand(rng, (6, 5), dtype), rand(rng, (5, 6), dtype)), desc="strided", layout="strided")
    yield Sample((rand(rng, (6, 5), dtype), rand(rng, (5, 6), dtype)), desc="flip", layout="flip")


# float32 products accumulate ~sqrt(k) rounding errors of |a||b|-sized terms
_MM_TOLS = {"float32": (1e-4, 1e-4), "float64": (1e-12, 1e-12)}
add(OpInfo("matmul", lambda L, a, b: L.matmul(a, b), np.matmul, dtypes=NUM,
           sample_fn=_matmul_samples, available=("matmul",), kind="matmul", special=False,
           tols=_MM_TOLS))
add(OpInfo("__matmul__", lambda L, a, b: a @ b, np.matmul, dtypes=FLOAT,
           sample_fn=_matmul_samples, available=("matmul",), kind="matmul", special=False,
           tols=_MM_TOLS))



# ---- fused linear: F.linear (one GEMM, the bias in its epilogue) and _C.linear with relu --------
def _linear_samples(info, dtype, rng):
    # tile classes of the micro-kernels (rows/cols around MR/2, MR, NR/2, NR), empty batches
    for m, k, n in ((5, 3, 4), (1, 7, 1), (9, 17, 10), (33, 19, 40), (4, 300, 3), (0, 3, 4),
                    (4, 0, 3)):
        yield Sample((rand(rng, (m, k), dtype), rand(rng, (n, k), dtype), rand(rng, (n,), dtype)),
                     desc=f"({m}, {k}) x ({n}, {k})^T")
    for layout in ("transpose", "strided", "flip"):
        yield Sample((rand(rng, (7, 6), dtype), rand(rng, (5, 6), dtype), rand(rng, (5,), dtype)),
                     desc=layout, layout=layout)


def _linear_ref(x, w, b, relu=False):
    z = x @ w.T + b
    return np.maximum(z, 0) if relu else z


add(OpInfo("nn.functional.linear", lambda L, x, w, b: L.nn.functional.linear(x, w, b), _linear_ref,
           dtypes=FLOAT, sample_fn=_linear_samples, available=("matmul",), kind="matmul",
           special=False, tols=_MM_TOLS))
add(OpInfo("linear_relu", lambda L, x, w, b: L._C.linear(x, w, b, "relu"),
           lambda x, w, b: _linear_ref(x, w, b, relu=True), dtypes=FLOAT,
           sample_fn=_linear_samples, available=("matmul",), kind="matmul", special=False,
           tols=_MM_TOLS,
           torch_op=lambda L, x, w, b: L.relu(L.nn.functional.linear(x, w, b))))

# ---- shape / view ops ---------------------------------------------------------------------------
def _shape_samples(cases):
    def gen(info, dtype, rng):
        for shape, kwargs in cases:
            yield Sample((rand(rng, shape, dtype),), dict(kwargs), desc=f"{shape} {kwargs}")
        shape, kwargs = cases[-1]
        for layout in VIEW_LAYOUTS:
            if len(shape) >= 2 and 0 not in shape:
                yield Sample((rand(rng, shape, dtype),), dict(kwargs), desc=layout, layout=layout)
    return gen


def shape_op(name, op, ref, cases, available=None):
    add(OpInfo(name, op, ref, dtypes=ALL_DTYPES, sample_fn=_shape_samples(cases),
               available=available or (name,), kind="shape", special=False, upcast=False,
               signed_zero=True))


shape_op("reshape", lambda L, x, shape: x.reshape(shape), lambda x, shape: x.reshape(shape),
         [((), {"shape": (1, 1)}), ((6,), {"shape": (2, 3)}), ((0, 4), {"shape": (-1, 2)}),
          ((2, 3, 4), {"shape": (4, -1)}), ((6, 5), {"shape": (30,)})])
shape_op("permute", lambda L, x, dims: x.permute(*dims), lambda x, dims: np.transpose(x, dims),
         [((1,), {"dims": (0,)}), ((2, 3, 4), {"dims": (2, 0, 1)}), ((0, 3), {"dims": (1, 0)}),
          ((6, 5), {"dims": (1, 0)})])
shape_op("transpose", lambda L, x, d0, d1: L.transpose(x, d0, d1),
         lambda x, d0, d1: np.swapaxes(x, d0, d1),
         [((2, 3, 4), {"d0": 0, "d1": 2}), ((3,), {"d0": 0, "d1": -1}), ((6, 5), {"d0": -1, "d1": 0})])
shape_op("flip", lambda L, x, dims: L.flip(x, dims), lambda x, dims: np.flip(x, dims),
         [((7,), {"dims": (0,)}), ((2, 3, 4), {"dims": (0, 2)}), ((0, 3), {"dims": (1,)}),
          ((6, 5), {"dims": (-1,)})])
shape_op("squeeze", lambda L, x, **k: x.squeeze(**k), lambda x, dim=None: np.squeeze(
         x, dim if dim is None or x.shape[dim] == 1 else ()),
         [((1, 3, 1),  {}), ((1, 3, 1), {"dim": 0}), ((2, 3), {"dim": 1}), ((), {}), ((6, 1), {"dim": 1})])
shape_op("unsqueeze", lambda L, x, dim: x.unsqueeze(dim), lambda x, dim: np.expand_dims(x, dim),
         [((), {"dim": 0}), ((3,), {"dim": -1}), ((2, 3), {"dim": 1}), ((6, 5), {"dim": 2})])
shape_op("expand", lambda L, x, shape: x.expand(*shape),
         lambda x, shape: np.broadcast_to(x, [s if s != -1 else x.shape[i - len(shape) + x.ndim]
                                              for i, s in enumerate(shape)]).copy(),
         [((), {"shape": (2, 3)}), ((3, 1), {"shape": (3, 4)}), ((1,), {"shape": (0,)}),
          ((6, 1), {"shape": (2, -1, 5)})])
shape_op("flatten", lambda L, x, **k: L.flatten(x, **k),
         lambda x, start_dim=0, end_dim=-1: x.reshape(
             x.shape[:start_dim] + (-1,) + x.shape[end_dim % max(x.ndim, 1) + 1:]
             if x.ndim else (1,)),
         [((), {}), ((2, 3, 4), {}), ((2, 3, 4), {"start_dim": 1}), ((6, 5), {"end_dim": 0})])


def _cat_samples(info, dtype, rng):
    for shapes, dim in ((((2, 3), (4, 3)), 0), (((2, 3), (2, 0), (2, 5)), 1), (((3,),), 0),
                        (((0, 3), (2, 3)), 0), (((2, 3, 4), (2, 3, 4)), -1)):
        yield Sample(([rand(rng, s, dtype) for s in shapes],), {"dim": dim}, desc=f"{shapes} dim={dim}")
    yield Sample(([rand(rng, (6, 5), dtype), rand(rng, (6, 5), dtype)],), {"dim": 1}, desc="transpose",
                 layout="transpose")


def _stack_samples(info, dtype, rng):
    for shape, n, dim in (((), 3, 0), ((2, 3), 2, 0), ((2, 3), 3, -1), ((0, 2), 2, 1), ((4,), 1, 1)):
        yield Sample(([rand(rng, shape, dtype) for _ in range(n)],), {"dim": dim},
                     desc=f"{n}x{shape} dim={dim}")
    yield Sample(([rand(rng, (6, 5), dtype), rand(rng, (6, 5), dtype)],), {"dim": 1}, desc="flip",
                 layout="flip")


add(OpInfo("cat", lambda L, xs, dim: L.cat(xs, dim=dim), lambda xs, dim: np.concatenate(xs, axis=dim),
           dtypes=ALL_DTYPES, sample_fn=_cat_samples, available=("cat",), kind="shape",
           special=False, upcast=False))
add(OpInfo("stack", lambda L, xs, dim: L.stack(xs, dim=dim), lambda xs, dim: np.stack(xs, axis=dim),
           dtypes=ALL_DTYPES, sample_fn=_stack_samples, available=("stack",), kind="shape",
           special=False, upcast=False))


# ---- indexing (activates when Tensor.__getitem__ lands) ----------------------------------------
def _index_samples(info, dtype, rng):
    x = rand(rng, (5, 6, 7), dtype)
    for key in (0, -1, (1, 2), slice(1, 4), (slice(None), 2), (Ellipsis, slice(None, None, 2)),
                (None, 1), (slice(2, 2),), (1, slice(None), -3), (slice(-3, None), slice(None, 4, 3))):
        yield Sample((x,), {"key": key}, desc=f"[{key!r}]")
    yield Sample((x,), {"key": np.array([0, 4, 2])}, desc="int array")
    yield Sample((x,), {"key": rand(rng, (5,), "bool")}, desc="bool mask")
    yield Sample((rand(rng, (6, 5), dtype),), {"key": (slice(None, None, 2), 1)}, desc="transpose",
                 layout="transpose")


def _getitem(L, x, key):
    if isinstance(key, np.ndarray):
        key = L.tensor(key) if L.__name__ != "torch" else L.from_numpy(key.copy())
    return x[key]


add(OpInfo("__getitem__", _getitem, lambda x, key: x[key], dtypes=ALL_DTYPES,
           sample_fn=_index_samples, available=("__getitem__",), kind="index", special=False,
           upcast=False, signed_zero=True))


def by_name(name: str) -> OpInfo:
    return next(o for o in OPS if o.name == name)


# Areas registered in their own files (they import add/OpInfo/Sample from here).
import opinfo_attention  # noqa: E402,F401
import opinfo_conv  # noqa: E402,F401
import opinfo_pool  # noqa: E402,F401
import opinfo_rnn  # noqa: E402,F401
