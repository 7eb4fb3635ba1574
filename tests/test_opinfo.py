"""Generic sweeps over the op registry (tests/opinfo.py): forward vs NumPy, views, special values,
dtype promotion, unsupported dtypes, and PyTorch parity when torch is installed."""

from __future__ import annotations

import functools
import itertools
import warnings
import zlib

import numpy as np
import pytest
import tinygrad_ext as tgx
from conftest import can_make_views, to_numpy, to_tgx, to_torch
from opinfo import ALL_DTYPES, BOOL_OUT, FLOAT, FLOAT_OUT, OPS, OpInfo, Sample, special_samples

AVAILABLE = [o for o in OPS if o.is_available()]


def _params(ops, with_dtype=True, attr="dtypes"):
    out = []
    for o in ops:
        marks = [pytest.mark.xfail(reason=o.xfail[k], strict=True) for k in o.xfail if k == _params.test]
        for d in getattr(o, attr) if with_dtype else [None]:
            out.append(pytest.param(o, d, id=f"{o.name}-{d}" if d else o.name, marks=marks))
    return out


def params(test, ops=None, attr="dtypes", with_dtype=True):
    _params.test = test
    return _params(AVAILABLE if ops is None else ops, with_dtype, attr)


# ---- comparison ----------------------------------------------------------------------------
def _ref_args(info: OpInfo, sample: Sample):
    def conv(x):
        if isinstance(x, np.ndarray) and info.upcast and (
                x.dtype.kind == "f" or info.name in FLOAT_OUT):  # exp(int) computes in float
            return x.astype(np.float64)
        if isinstance(x, list):
            return [conv(v) for v in x]
        return x

    return [conv(a) for a in sample.args], {k: conv(v) for k, v in sample.kwargs.items()}


def reference(info: OpInfo, sample: Sample) -> np.ndarray:
    args, kwargs = _ref_args(info, sample)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # mean of empty slice & co.
        return np.asarray(info.ref(*args, **kwargs))


def assert_close(got: np.ndarray, ref: np.ndarray, info: OpInfo, what: str):
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != reference {ref.shape}"
    if got.dtype.kind == "f":
        with np.errstate(all="ignore"):
            ref = ref.astype(got.dtype)
        rtol, atol = info.tol(got.dtype.name)
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
        if info.signed_zero:
            zero = ref == 0
            np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(ref[zero]),
                                          err_msg=f"{what}: sign of zero")
    else:
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(got, ref.astype(got.dtype), err_msg=what)


def run_sample(info: OpInfo, sample: Sample):
    args = [to_tgx(a, sample.layout) for a in sample.args]
    kwargs = {k: to_tgx(v, sample.layout) for k, v in sample.kwargs.items()}
    out = info.call(tgx, *args, **kwargs)
    what = f"{info.name} {sample.desc} ({sample.layout})"
    assert isinstance(out, tgx.Tensor), f"{what}: returned {type(out).__name__}"
    assert_close(to_numpy(out), reference(info, sample), info, what)
    # inputs are never modified by out-of-place ops
    for a, t in zip(sample.args, args):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(to_numpy(t), a, err_msg=f"{what}: input modified")


def _samples(info, dtype, views: bool):
    # a seed that is the same in every process (str hashes are salted per process)
    rng = np.random.default_rng(zlib.crc32(f"{info.name}/{dtype}".encode()))
    return [s for s in info.samples(dtype, rng) if (s.layout not in ("contig", "scalar")) == views]


def _torch_samples(info, dtype):
    """Contiguous samples torch takes; the ~1e5-element ones are left to test_forward."""
    return [s for s in _samples(info, dtype, views=False)
            if (info.torch_scalars or s.layout != "scalar") and "large" not in s.desc]


# ---- sweeps --------------------------------------------------------------------------------
@pytest.mark.parametrize("info,dtype", params("forward"))
def test_forward(info, dtype):
    samples = _samples(info, dtype, views=False)
    assert samples
    for s in samples:
        run_sample(info, s)


@pytest.mark.parametrize("info,dtype", params("views"))
def test_forward_views(info, dtype):
    """Transposed, strided and negative-stride inputs (need tgx.from_numpy or view ops)."""
    if not can_make_views():
        pytest.skip("non-contiguous tensors need tgx.from_numpy or view ops (not on this branch yet)")
    samples = _samples(info, dtype, views=True)
    assert samples
    for s in samples:
        run_sample(info, s)


@pytest.mark.parametrize("info,dtype", [p for p in params("special")
                                        if p.values[0].special and p.values[1] in FLOAT])
def test_special_values(info, dtype):
    """inf, nan, -0.0, denormals, extremes: nan where NumPy has nan, inf where it has inf."""
    for s in special_samples(info, dtype):
        run_sample(info, s)


@pytest.mark.parametrize("info,dtype", params("unsupported", attr="unsupported"))
def test_unsupported_dtype_raises(info, dtype):
    s = next(iter(info.samples(dtype, np.random.default_rng(0))))
    args = [to_tgx(a) for a in s.args]
    with pytest.raises((TypeError, NotImplementedError)) as e:
        info.call(tgx, *args, **s.kwargs)
    if not info.name.startswith("__"):
        assert dtype in str(e.value), f"message should name the dtype: {e.value}"


# ---- dtype promotion -------------------------------------------------------------------------
ORDER = ALL_DTYPES  # bool < uint8 < int32 < int64 < float32 < float64 (no int8/int16 here)
CATEGORY = {"bool": 0, "uint8": 1, "int32": 1, "int64": 1, "float32": 2, "float64": 2}
def promote(a, b):
    return max(a, b, key=ORDER.index)


def expected_result_type(dim=(), zero=(), wrapped=()):
    """PyTorch's rule: dimensioned tensors > 0-d tensors > Python numbers, unless a lower
    priority group has a higher category (bool < integer < float). Python floats count as the
    default dtype float32, ints as int64."""
    def fold(ds):
        return functools.reduce(promote, ds) if ds else None

    def combine(hi, lo):
        if hi is None or lo is None:
            return hi or lo
        return hi if CATEGORY[hi] >= CATEGORY[lo] else promote(hi, lo)

    return combine(fold(dim), combine(fold(zero), fold(wrapped)))


def expected_op_dtype(name, promoted):
    if name in BOOL_OUT:
        return "bool"
    if name in FLOAT_OUT and CATEGORY[promoted] < 2:
        return "float32"
    return promoted


PY_NUMBER = {"bool": True, "int64": 3, "float32": 2.5}
BINARY = [o for o in AVAILABLE if o.kind == "binary" and not o.name.startswith("__")]


def _one(dtype, zero_d=False):
    return tgx.tensor(np.ones(() if zero_d else (2,), dtype=dtype))


@pytest.mark.parametrize("info", BINARY, ids=lambda o: o.name)
def test_binary_result_dtype(info):
    checked = 0
    for a, b in itertools.product(ALL_DTYPES, repeat=2):
        cases = [(_one(b), expected_result_type(dim=(a, b))),
                 (_one(b, zero_d=True), expected_result_type(dim=(a,), zero=(b,)))]
        if b in PY_NUMBER:
            cases.append((PY_NUMBER[b], expected_result_type(dim=(a,), wrapped=(b,))))
        for other, promoted in cases:
            try:
                out = info.call(tgx, _one(a), other)
            except (TypeError, NotImplementedError):
                assert promoted in info.unsupported or a in info.unsupported, \
                    f"{info.name}({a}, {other!r}) raised but {promoted} is a supported dtype"
                continue
            want = expected_op_dtype(info.name, promoted)
            assert out.dtype.name == want, f"{info.name}({a}, {other!r}) -> {out.dtype}, want {want}"
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("info", [o for o in AVAILABLE if o.kind == "unary"], ids=lambda o: o.name)
def test_unary_result_dtype(info):
    for d in info.dtypes:
        out = info.call(tgx, _one(d))
        want = expected_op_dtype(info.name, d)
        assert out.dtype.name == want, f"{info.name}({d}) -> {out.dtype}, want {want}"


def test_promotion_table_matches_torch():
    torch = pytest.importorskip("torch")

    def t(d, zero_d=False):
        return torch.ones(() if zero_d else (2,), dtype=getattr(torch, d))

    for a, b in itertools.product(ALL_DTYPES, repeat=2):
        assert str(torch.result_type(t(a), t(b))) == f"torch.{expected_result_type(dim=(a, b))}"
        assert str(torch.result_type(t(a), t(b, True))) == \
            f"torch.{expected_result_type(dim=(a,), zero=(b,))}"
        if b in PY_NUMBER:
            assert str(torch.result_type(t(a), PY_NUMBER[b])) == \
                f"torch.{expected_result_type(dim=(a,), wrapped=(b,))}"


def test_result_type_function_matches_table():
    for a, b in itertools.product(ALL_DTYPES, repeat=2):
        assert tgx.result_type(_one(a), _one(b)).name == expected_result_type(dim=(a, b))
        assert tgx.promote_types(getattr(tgx, a), getattr(tgx, b)).name == promote(a, b)


# ---- registry hygiene --------------------------------------------------------------------------
ELEMENTWISE_NAMES = """add sub mul div floor_divide remainder pow maximum minimum atan2 eq ne lt le
gt ge logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor neg abs sign exp exp2
expm1 log log2 log10 log1p sqrt rsqrt reciprocal square sin cos tan asin acos atan sinh cosh tanh
sigmoid relu erf floor ceil round trunc bitwise_not isnan isinf isfinite logical_not where lerp
clamp nan_to_num""".split()


def test_registry_covers_every_elementwise_op():
    names = {o.name for o in OPS}
    missing = [n for n in ELEMENTWISE_NAMES if n not in names]
    assert not missing
    assert all(hasattr(tgx, n) for n in ELEMENTWISE_NAMES)


def test_every_entry_has_samples_of_every_kind():
    for o in AVAILABLE:
        for d in o.dtypes:
            samples = list(o.samples(d, np.random.default_rng(0)))
            layouts = {s.layout for s in samples}
            assert "contig" in layouts and len(layouts) >= 2, (o.name, d, layouts)


def test_views_are_really_strided_once_possible():
    """Guards the view sweep against silently testing contiguous copies."""
    from conftest import make_noncontig

    if not can_make_views():
        pytest.skip("no from_numpy / view ops on this branch yet")
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = make_noncontig(a, "transpose")
    np.testing.assert_array_equal(to_numpy(t), a)
    assert not t.is_contiguous()


# ---- PyTorch as a second oracle ------------------------------------------------------------------
def _torch_dtypes(info):
    return [d for d in info.dtypes if d not in info.skip_torch_dtypes]


@pytest.mark.parametrize("info", OPS, ids=lambda o: o.name)
def test_reference_matches_torch(info):
    """The registry's NumPy references agree with PyTorch on contiguous samples -- for every
    entry, including ops that have not landed in tinygrad_ext yet."""
    torch = pytest.importorskip("torch")
    for d in _torch_dtypes(info):
        for s in _torch_samples(info, d):
            args = [to_torch(a) for a in s.args]
            kwargs = {k: to_torch(v) for k, v in s.kwargs.items()}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # var() of one element & co.
                out = info.call(torch, *args, **kwargs)
            assert_close(to_numpy(out), reference(info, s), info, f"torch {info.name} {d} {s.desc}")


@pytest.mark.parametrize("info", AVAILABLE, ids=lambda o: o.name)
def test_torch_parity(info):
    """The same lambda on both libraries: values and result dtype."""
    torch = pytest.importorskip("torch")
    for d in _torch_dtypes(info):
        for s in _torch_samples(info, d):
            want = info.call(torch, *[to_torch(a) for a in s.args],
                             **{k: to_torch(v) for k, v in s.kwargs.items()})
            got = info.call(tgx, *[to_tgx(a) for a in s.args],
                            **{k: to_tgx(v) for k, v in s.kwargs.items()})
            what = f"{info.name} {d} {s.desc}"
            assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], \
                f"{what}: dtype {got.dtype} vs torch {want.dtype}"
            assert_close(to_numpy(got), to_numpy(want).astype(np.float64)
                         if to_numpy(want).dtype.kind == "f" else to_numpy(want), info, what)
