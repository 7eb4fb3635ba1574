"""Tensor repr/str in PyTorch's format (torch/_tensor_str.py)."""

import numpy as np
import pytest
import tinygrad_ext as tgx


def r(data, dtype=None):
    return repr(tgx.tensor(data, dtype=dtype))


def test_basic_forms():
    assert r([1.0, 2.0, 3.0]) == "tensor([1., 2., 3.])"
    assert r([[1, 2], [3, 4]]) == "tensor([[1, 2],\n        [3, 4]])"
    assert r([1, 2], tgx.int32) == "tensor([1, 2], dtype=tinygrad_ext.int32)"
    assert r([1.5], tgx.float64) == "tensor([1.5000], dtype=tinygrad_ext.float64)"
    assert r([1, 2], tgx.uint8) == "tensor([1, 2], dtype=tinygrad_ext.uint8)"
    assert r([True, False]) == "tensor([ True, False])"
    assert r(3.5) == "tensor(3.5000)"
    assert r(2) == "tensor(2)"
    assert repr(tgx.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(tgx.zeros(0)) == "tensor([])"
    assert repr(tgx.zeros(0, dtype=tgx.int64)) == "tensor([], dtype=tinygrad_ext.int64)"
    assert str(tgx.tensor([1.0])) == repr(tgx.tensor([1.0]))


def test_float_modes():
    assert r([0.1234567, -2.5]) == "tensor([ 0.1235, -2.5000])"
    assert r([1e-5, 1.0]) == "tensor([1.0000e-05, 1.0000e+00])"
    assert r([1e10, 1.0]) == "tensor([1.0000e+10, 1.0000e+00])"
    assert r([1.0, float("nan"), float("inf")]) == "tensor([1., nan, inf])"
    assert r([-0.0, 1.0]) == "tensor([-0., 1.])"
    assert r([0.0, 0.0]) == "tensor([0., 0.])"


def test_requires_grad_suffix():
    assert repr(tgx.zeros(2, requires_grad=True)) == "tensor([0., 0.], requires_grad=True)"


def test_summarised():
    t = tgx.arange(2000)
    assert repr(t) == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"
    big = repr(tgx.zeros(100, 100))
    assert "..." in big and big.count("\n") == 6


def test_line_wrapping():
    s = repr(tgx.arange(30, dtype=tgx.float32))
    lines = s.split("\n")
    assert len(lines) > 1 and all(len(x) <= 80 for x in lines)
    assert lines[1].startswith("        ")


def _torch_repr(t):
    return repr(t).replace("torch.", "tinygrad_ext.")


CASES = [
    lambda: np.random.RandomState(0).randn(40, 50).astype(np.float32),
    lambda: np.random.RandomState(1).randn(3, 4, 5).astype(np.float32),
    lambda: np.arange(2000.0, dtype=np.float32).reshape(2, 10, 100),
    lambda: np.arange(30).reshape(5, 6) * 1000,
    lambda: np.arange(30, dtype=np.int32).reshape(5, 6) - 7,
    lambda: np.array([1e-3, 123.25, -7.0], dtype=np.float64),
    lambda: np.array([[1e-12, 1.0], [np.inf, -np.inf]], dtype=np.float32),
    lambda: np.array([123456789.0, 1.0], dtype=np.float32),
    lambda: np.random.RandomState(2).rand(1001).astype(np.float64),
    lambda: np.random.RandomState(3).rand(7, 1) > 0.5,
    lambda: np.random.RandomState(4).randint(-5, 300, (10, 12)).astype(np.uint8),
    lambda: np.float32(-1.25) * np.ones((), np.float32),
    lambda: np.zeros((2, 0, 3), np.float64),
    lambda: np.random.RandomState(5).randn(30).astype(np.float32) * 1e5,
]


@pytest.mark.parametrize("make", CASES)
def test_matches_torch(make):
    torch = pytest.importorskip("torch")
    a = make()
    assert repr(tgx.tensor(a)) == _torch_repr(torch.tensor(a))


def test_noncontiguous_matches_contiguous():
    a = np.arange(12.0).reshape(3, 4)[::-1, ::2]
    assert repr(tgx.from_numpy(a)) == repr(tgx.tensor(np.ascontiguousarray(a)))
