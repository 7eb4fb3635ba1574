import numpy as np
import pytest
import tinygrad_ext as tgx


def test_add_broadcast_matches_numpy():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([10, 20, 30], dtype=np.float32)
    np.testing.assert_array_equal((tgx.tensor(a) + tgx.tensor(b)).numpy(), a + b)


def test_promotion_rules():
    i = tgx.tensor([1, 2, 3])
    assert (i + 2.5).dtype is tgx.float32
    assert (i + 2).dtype is tgx.int64
    assert (tgx.tensor([True]) + 1).dtype is tgx.int64
    assert (tgx.tensor([1.0], dtype=tgx.float32) + tgx.tensor([1.0], dtype=tgx.float64)).dtype is tgx.float64
    assert (tgx.tensor([1.0], dtype=tgx.float32) * 2.0).dtype is tgx.float32


def test_errors_name_the_op():
    with pytest.raises(ValueError, match=r"\[add\] shapes \(2, 3\) and \(2,\)"):
        tgx.tensor(np.zeros((2, 3))) + tgx.tensor([1.0, 2.0])
    with pytest.raises(ZeroDivisionError):
        tgx.tensor([1, 2]) // tgx.tensor([0, 1])
    with pytest.raises(TypeError):
        tgx.sqrt(tgx.tensor([True]))


def test_zero_dim_from_python_and_numpy():
    assert tgx.tensor(2.0).shape == ()
    assert tgx.tensor(np.array(3, dtype=np.int32)).shape == ()
    assert tgx.tensor(np.array(3, dtype=np.int32)).dtype is tgx.int32
    assert (tgx.tensor(2.0) * tgx.tensor([1.0, 2.0])).shape == (2,)
