"""Shared test helpers: NumPy <-> tensor conversion with a chosen memory layout, hypothesis set-up."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import tinygrad_ext as tgx

try:  # hypothesis is a test extra; test_properties.py skips itself without it
    from hypothesis import HealthCheck, settings

    settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("dev", max_examples=60, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
except ImportError:
    pass


def _strided_base(arr: np.ndarray, layout: str) -> np.ndarray:
    """A NumPy view with the given layout holding the same values as arr."""
    if layout == "transpose":  # Fortran order: every stride differs from the C-contiguous one
        return np.asfortranarray(arr) if arr.ndim >= 2 else arr
    if layout == "strided":  # every other element of a buffer twice as long in the last dim
        if arr.ndim == 0:
            return arr
        base = np.zeros(arr.shape[:-1] + (arr.shape[-1] * 2,), dtype=arr.dtype)
        base[..., ::2] = arr
        return base[..., ::2]
    if layout == "flip":  # negative strides along every dim
        return np.flip(np.flip(arr).copy())
    raise ValueError(layout)


def make_noncontig(arr: np.ndarray, layout: str = "transpose"):
    """A tinygrad_ext tensor equal to arr whose memory is laid out as `layout` says
    (transpose / strided / flip), or None when the library cannot make one yet.

    Uses tgx.from_numpy on a strided NumPy view (shares strides) when it exists; falls back to
    view ops (t.T / permute, slicing with a step, flip) built on a contiguous tensor."""
    arr = np.asarray(arr)
    if hasattr(tgx, "from_numpy"):
        view = _strided_base(arr, layout)
        try:
            return tgx.from_numpy(view)
        except (ValueError, TypeError, NotImplementedError):
            # from_numpy may refuse negative strides, as torch.from_numpy does; try view ops
            pass
    t = None
    if layout == "transpose" and arr.ndim >= 2 and hasattr(tgx.Tensor, "permute"):
        rev = tuple(range(arr.ndim))[::-1]
        t = tgx.tensor(np.ascontiguousarray(np.transpose(arr, rev))).permute(*rev)
    elif layout == "flip" and hasattr(tgx, "flip"):
        dims = tuple(range(arr.ndim))
        t = tgx.flip(tgx.tensor(np.flip(arr).copy()), dims)
    elif layout == "strided" and hasattr(tgx.Tensor, "__getitem__") and arr.ndim >= 1:
        base = np.zeros(arr.shape[:-1] + (arr.shape[-1] * 2,), dtype=arr.dtype)
        base[..., ::2] = arr
        t = tgx.tensor(base)[..., ::2]
    elif arr.ndim < 2 and layout == "transpose":
        t = tgx.tensor(arr)  # a 0-d / 1-d transpose is the tensor itself
    return t


def can_make_views() -> bool:
    return make_noncontig(np.zeros((2, 3), np.float32), "transpose") is not None


def to_tgx(x, layout: str = "contig"):
    """NumPy arrays (or lists of them) -> tensors with the layout; other values pass through."""
    if isinstance(x, np.ndarray):
        if layout in ("contig", "scalar"):
            return tgx.tensor(x)
        t = make_noncontig(x, layout)
        if t is None:
            pytest.skip(f"no way yet to build a {layout} tensor (needs from_numpy or view ops)")
        return t
    if isinstance(x, list):
        return [to_tgx(v, layout) for v in x]
    return x


def to_torch(x):
    import torch

    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.array(x, copy=True, order="C"))
    if isinstance(x, list):
        return [to_torch(v) for v in x]
    return x


def to_numpy(t) -> np.ndarray:
    """A tensor (tgx or torch) or a number as a NumPy array."""
    if hasattr(t, "detach"):
        t = t.detach()
    if hasattr(t, "numpy"):
        return np.asarray(t.numpy())
    return np.asarray(t)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# The kernel paths a sweep script runs on: this process's default, the AVX2 GEMM forced on an
# AVX-512 CPU, and the portable build's kernels (see kernels/dispatch.h).
KERNEL_ENVS = [{}, {"TGX_GEMM_NO_AVX512": "1"}, {"TGX_FORCE_PORTABLE": "1"}]
KERNEL_ENV_IDS = ["default", "avx2", "portable"]


def run_sweep(script: str, env: dict) -> None:
    """Runs a self-checking script (it asserts, then prints "ok"): here when env is empty (the
    thread count restored afterwards), else in a subprocess with env added to the environment."""
    if not env:
        old = tgx.get_num_threads()
        try:
            exec(compile(script, "<sweep>", "exec"), {})
        finally:
            tgx.set_num_threads(old)
        return
    full = dict(os.environ, **env)
    full["PYTHONPATH"] = os.pathsep.join(sys.path)
    r = subprocess.run([sys.executable, "-c", script], env=full, capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]
