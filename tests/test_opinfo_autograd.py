"""Autograd sweep over the op registry (tests/opinfo.py), float64 only.

For every entry with ``differentiable=True`` that takes float64, on a few of its own sample inputs
(0-d, broadcast, transposed / strided / flipped views kept; the ~1e5-element sample, empty
tensors and inf / nan special values left out):

1. ``tgx.autograd.gradcheck``: reverse-mode Jacobian vs central differences, every float input
   requiring grad (tensors nested in lists, as for cat / stack, too);
2. ``tgx.func.jvp``: forward-mode Jacobian-vector product along a random tangent vs central
   differences along the same direction;
3. ``tgx.autograd.gradgradcheck`` for ops whose second derivatives are not all zero.

Inputs stay away from kinks and singularities through ``GRAD_DOMAIN`` (per-op sampling domains
replacing ``OpInfo.domain``); ties of max / min / abs / relu / clamp have probability zero with
uniformly drawn float64 values.
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np
import pytest
import tinygrad_ext as tgx
from conftest import can_make_views, to_numpy, to_tgx
from opinfo import OPS, OpInfo, Sample

MAX_SAMPLES = 6  # per op
MAX_NUMEL = 256  # per input tensor: full Jacobians stay cheap

# Sampling domains away from singularities, where the op's own one comes too close to them for
# finite differences with eps=1e-6 (and keeps exp-like outputs moderate).
GRAD_DOMAIN = {
    "sqrt": (0.1, 20.0),  # d/dx sqrt blows up at 0
    "log1p": (-0.5, 20.0),
    "asin": (-0.9, 0.9),  # 1/sqrt(1 - x^2)
    "acos": (-0.9, 0.9),
    "tan": (-1.2, 1.2),
    "exp": (-5.0, 5.0),
    "exp2": (-5.0, 5.0),
    "softmax": (-3.0, 3.0),
    "log_softmax": (-3.0, 3.0),
    "pow": ((0.2, 4.0), (-2.0, 3.0)),  # positive base only (negative base: nan derivative)
    "to_float32": (-3.0, 3.0),  # float32 rounding of large values swamps finite differences
}

# Ops whose second derivatives vanish everywhere (linear or piecewise linear): gradgradcheck
# has nothing to check there.
LINEAR = {
    "neg", "abs", "relu", "add", "sub", "__add__", "__rsub__", "maximum", "minimum", "where",
    "clamp", "clone", "contiguous", "to_float32", "to_float64", "sum", "mean", "amax", "amin",
    "max", "min", "cumsum", "reshape", "permute", "transpose", "flip", "squeeze", "unsqueeze",
    "expand", "flatten", "cat", "stack", "__getitem__",
}

# Per-op gradcheck keyword overrides.
CHECK_KW = {
    # a float32 result: central differences need a step far above float32 rounding
    "to_float32": {"eps": 1e-2, "atol": 1e-4, "rtol": 1e-3},
}

# Known bugs: (op name, check) -> reason. Each one turns the test into a strict xfail.
XFAIL: dict[tuple[str, str], str] = {}


def _ops():
    return [o for o in OPS if o.differentiable and "float64" in o.dtypes and o.is_available()]


def _arrays(sample: Sample):
    out = []
    for a in list(sample.args) + list(sample.kwargs.values()):
        if isinstance(a, list):
            out.extend(v for v in a if isinstance(v, np.ndarray))
        elif isinstance(a, np.ndarray):
            out.append(a)
    return out


def _float_arrays(sample: Sample):
    return [a for a in _arrays(sample) if a.dtype.kind == "f"]


def _usable(sample: Sample) -> bool:
    if "large" in sample.desc or "special" in sample.desc:
        return False
    fl = _float_arrays(sample)
    if not fl or any(a.size == 0 or a.size > MAX_NUMEL for a in fl):
        return False
    return all(np.isfinite(a).all() for a in fl)


def _finite_output(info: OpInfo, sample: Sample) -> bool:
    """Leave out samples whose value is nan / inf (e.g. var of one element with ddof=1)."""
    case = Case(info, sample)
    with tgx.no_grad():
        return bool(np.isfinite(to_numpy(case.fn(*case.tensors(requires_grad=False)))).all())


def _is_broadcast(sample: Sample) -> bool:
    shapes = {a.shape for a in _float_arrays(sample)}
    return len(shapes) > 1 or sample.layout == "scalar"


def pick_samples(info: OpInfo) -> list[Sample]:
    """Up to MAX_SAMPLES usable float64 samples: 0-d, broadcast and every view layout first."""
    if info.name in GRAD_DOMAIN:
        info = dataclasses.replace(info, domain=GRAD_DOMAIN[info.name])
    rng = np.random.default_rng(zlib.crc32(info.name.encode()))  # same samples every run
    samples = [s for s in info.samples("float64", rng) if _usable(s)]
    if not can_make_views():
        samples = [s for s in samples if s.layout in ("contig", "scalar")]
    samples = [s for s in samples if _finite_output(info, s)]
    chosen: list[Sample] = []

    def take(pred):
        for s in samples:
            if len(chosen) < MAX_SAMPLES and all(s is not c for c in chosen) and pred(s):
                chosen.append(s)
                return

    take(lambda s: all(a.ndim == 0 for a in _float_arrays(s)))
    take(_is_broadcast)
    for layout in ("transpose", "flip", "strided"):
        take(lambda s, lay=layout: s.layout == lay)
    for s in samples:
        if len(chosen) >= MAX_SAMPLES:
            break
        if all(s is not c for c in chosen):
            chosen.append(s)
    return chosen


class Case:
    """A sample as a function of its float tensors only (everything else fixed)."""

    def __init__(self, info: OpInfo, sample: Sample):
        self.info, self.sample = info, sample
        self.leaves: list[np.ndarray] = []

        def collect(x):
            if isinstance(x, list):
                return [collect(v) for v in x]
            if isinstance(x, np.ndarray) and x.dtype.kind == "f":
                self.leaves.append(x)
                return ("leaf", len(self.leaves) - 1)
            return ("const", to_tgx(x, sample.layout) if isinstance(x, np.ndarray) else x)

        self.args = [collect(a) for a in sample.args]
        self.kwargs = {k: collect(v) for k, v in sample.kwargs.items()}

    def tensors(self, arrays=None, requires_grad=True):
        """The leaves as tensors with the sample's layout (a fresh leaf each)."""
        out = []
        for a in arrays if arrays is not None else self.leaves:
            t = to_tgx(np.asarray(a, dtype=np.float64), self.sample.layout)
            if not t.is_leaf:  # built by view ops: make the view itself the leaf
                t = t.detach()
            out.append(t.requires_grad_(requires_grad))
        return out

    def fn(self, *ts):
        def build(x):
            if isinstance(x, list):
                return [build(v) for v in x]
            return ts[x[1]] if x[0] == "leaf" else x[1]

        out = self.info.call(tgx, *[build(a) for a in self.args],
                             **{k: build(v) for k, v in self.kwargs.items()})
        assert isinstance(out, tgx.Tensor)
        return out

    @property
    def what(self):
        return f"{self.info.name} {self.sample.desc} ({self.sample.layout})"


CASES = [(info, i, s) for info in _ops() for i, s in enumerate(pick_samples(info))]


def _params(check, ops_filter=lambda info: True):
    out = []
    for info, i, s in CASES:
        if not ops_filter(info):
            continue
        marks = []
        reason = XFAIL.get((info.name, check)) or XFAIL.get((info.name, s.desc, check))
        if reason:
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        out.append(pytest.param(info, s, id=f"{info.name}-{i}-{s.layout}", marks=marks))
    return out


def test_sweep_covers_registry():
    """Every differentiable float op gets samples, and the sample kinds asked for occur."""
    ops = _ops()
    assert len(ops) >= 60
    per_op = {info.name: 0 for info in ops}
    for info, _, _ in CASES:
        per_op[info.name] += 1
    assert all(n >= 1 for n in per_op.values()), [k for k, n in per_op.items() if not n]
    samples = [s for _, _, s in CASES]
    assert any(all(a.ndim == 0 for a in _float_arrays(s)) for s in samples)
    assert any(_is_broadcast(s) for s in samples)
    if can_make_views():
        assert {"transpose", "strided", "flip"} <= {s.layout for s in samples}


@pytest.mark.parametrize("info,sample", _params("gradcheck"))
def test_gradcheck(info, sample):
    case = Case(info, sample)
    kw = {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3, **CHECK_KW.get(info.name, {})}
    assert tgx.autograd.gradcheck(case.fn, tuple(case.tensors()), **kw), case.what


@pytest.mark.parametrize("info,sample", _params("jvp"))
def test_jvp_vs_finite_differences(info, sample):
    case = Case(info, sample)
    rng = np.random.default_rng(1)
    xs = [np.asarray(a, dtype=np.float64) for a in case.leaves]
    vs = [rng.standard_normal(a.shape) for a in xs]
    primals = case.tensors(xs, requires_grad=False)
    tangents = case.tensors(vs, requires_grad=False)
    out, jv = tgx.func.jvp(case.fn, tuple(primals), tuple(tangents))
    eps = CHECK_KW.get(info.name, {}).get("eps", 1e-6)
    with tgx.no_grad():
        hi = to_numpy(case.fn(*case.tensors([x + eps * v for x, v in zip(xs, vs)], False)))
        lo = to_numpy(case.fn(*case.tensors([x - eps * v for x, v in zip(xs, vs)], False)))
        ref_out = to_numpy(case.fn(*case.tensors(xs, False)))
    numerical = (hi.astype(np.float64) - lo.astype(np.float64)) / (2 * eps)
    got = to_numpy(jv)
    assert got.shape == numerical.shape, f"{case.what}: tangent {got.shape} != {numerical.shape}"
    np.testing.assert_allclose(to_numpy(out), ref_out, rtol=1e-12, atol=0,
                               err_msg=f"{case.what}: primal")
    kw = CHECK_KW.get(info.name, {})
    np.testing.assert_allclose(got, numerical, rtol=kw.get("rtol", 1e-4), atol=kw.get("atol", 1e-5),
                               err_msg=f"{case.what}: tangent")


@pytest.mark.parametrize("info,sample",
                         _params("gradgradcheck", lambda info: info.name not in LINEAR))
def test_gradgradcheck(info, sample):
    case = Case(info, sample)
    assert tgx.autograd.gradgradcheck(case.fn, tuple(case.tensors()), eps=1e-6, atol=1e-5,
                                      rtol=1e-3), case.what


@pytest.mark.parametrize("info,sample", _params("double_backward",
                                                lambda info: info.name in LINEAR - {"to_float32"}))
def test_double_backward_linear(info, sample):
    """Linear ops: second derivatives vanish, but their backward must still be differentiable
    with respect to grad_output (create_graph=True), which gradgradcheck checks.
    (to_float32 is left out: its float32 grad_outputs are too coarse for finite differences.)"""
    case = Case(info, sample)
    assert tgx.autograd.gradgradcheck(case.fn, tuple(case.tensors())), case.what


# prod is smooth through zeros, but the registry samples it on (0.5, 1.5) only.
PROD_ZERO_CASES = [
    ("one zero", [1.5, 0.0, 2.0, -0.7], {}),
    ("two zeros", [1.5, 0.0, 0.0, -0.7], {}),
    ("dim, one zero per row", [[1.0, 0.0, 2.0], [3.0, 4.0, 0.0]], {"dim": 1}),
    ("dim 0, two zeros in a column", [[0.0, 1.0], [0.0, 2.0], [1.5, 0.0]], {"dim": 0}),
    ("all of a 2-d, one zero", [[1.0, 0.0, 2.0], [3.0, -1.5, 0.5]], {}),
]


@pytest.mark.parametrize("desc,x,kw", PROD_ZERO_CASES, ids=[c[0] for c in PROD_ZERO_CASES])
def test_prod_with_zeros_gradcheck_and_jvp(desc, x, kw):
    x = np.array(x, dtype=np.float64)
    assert tgx.autograd.gradcheck(lambda v: v.prod(**kw), (tgx.tensor(x).requires_grad_(True),))
    d = np.random.default_rng(0).standard_normal(x.shape)
    _, jv = tgx.func.jvp(lambda v: v.prod(**kw), (tgx.tensor(x),), (tgx.tensor(d),))
    axis = kw.get("dim")
    numerical = (np.prod(x + 1e-6 * d, axis=axis) - np.prod(x - 1e-6 * d, axis=axis)) / 2e-6
    np.testing.assert_allclose(to_numpy(jv), numerical, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("desc,x,kw", PROD_ZERO_CASES, ids=[c[0] for c in PROD_ZERO_CASES])
def test_prod_with_zeros_gradgradcheck(desc, x, kw):
    t = tgx.tensor(np.array(x, dtype=np.float64)).requires_grad_(True)
    assert tgx.autograd.gradgradcheck(lambda v: v.prod(**kw), (t,))
