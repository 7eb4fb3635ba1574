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


def test_fast_module_functions_take_arguments_as_pybind_did():
    # tgx.add / tgx.mul / tgx.exp ... and t.exp() ... parse their arguments themselves (fast calling
    # convention): positions, keywords, defaults, out=, aliases and Python's usual TypeErrors
    import inspect

    a = tgx.tensor([1.0, 2.0, 3.0])
    np.testing.assert_allclose(tgx.add(a, a, alpha=2).numpy(), [3, 6, 9])
    np.testing.assert_allclose(tgx.add(input=a, other=1).numpy(), [2, 3, 4])
    np.testing.assert_allclose(tgx.sub(a, 1, alpha=2).numpy(), [-1, 0, 1])
    np.testing.assert_allclose(tgx.multiply(a, [1, 0, 2]).numpy(), [1, 0, 6])  # alias of mul
    out = tgx.empty(3)
    assert tgx.mul(a, a, out=out) is out
    np.testing.assert_allclose(out.numpy(), [1, 4, 9])
    assert tgx.exp(a, out=out) is out
    np.testing.assert_allclose(out.numpy(), np.exp([1.0, 2.0, 3.0]), rtol=1e-6)
    np.testing.assert_allclose(a.sqrt().numpy(), np.sqrt([1.0, 2.0, 3.0]), rtol=1e-6)
    np.testing.assert_allclose(tgx.Tensor.relu(-a).numpy(), [0, 0, 0])
    assert str(inspect.signature(tgx.add)) == "(input, other, *, alpha=None, out=None)"
    assert str(inspect.signature(tgx.exp)) == "(input, *, out=None)"
    assert "e ** input" in tgx.exp.__doc__ and tgx.Tensor.exp.__doc__ == tgx.exp.__doc__.split("\n")[-1]
    for call, msg in [(lambda: tgx.add(a), "missing required argument 'other'"),
                      (lambda: tgx.add(a, a, a), "takes 2 positional arguments but 3 were given"),
                      (lambda: tgx.add(a, a, beta=1), "unexpected keyword argument 'beta'"),
                      (lambda: tgx.add(a, other=a, input=a), "multiple values for argument 'input'"),
                      (lambda: tgx.exp(a, a), "takes 1 positional arguments but 2 were given"),
                      (lambda: tgx.exp([1.0]), "argument 'input' (position 1) must be Tensor, not list"),
                      (lambda: tgx.exp(a, out=1), "out must be a Tensor"),
                      (lambda: a.exp(1), "exp() takes no arguments (1 given)"),
                      (lambda: tgx.Tensor.exp(1), "doesn't apply to a 'int' object")]:
        with pytest.raises(TypeError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            call()
    with pytest.raises(ValueError, match=r"\[add\]"):
        tgx.add(tgx.ones(2), tgx.ones(3))


@pytest.mark.parametrize("offset", [0, 1, 3])
def test_large_runs_take_the_streaming_stores(offset):
    # outputs of 8 MiB and more are written with non-temporal stores through a block buffer:
    # unaligned starts, a partial last block, in place and out=, against NumPy
    n = (8 << 20) // 4 + 4096 * 3 + 77
    rng = np.random.default_rng(offset)
    x = rng.standard_normal(n + offset).astype(np.float32)[offset:]
    y = rng.standard_normal(n + offset).astype(np.float32)[offset:]
    a, b = tgx.tensor(np.concatenate([np.zeros(offset, np.float32), x]))[offset:], tgx.tensor(y)
    np.testing.assert_array_equal((a + b).numpy(), x + y)
    np.testing.assert_array_equal((a * 2.5).numpy(), x * np.float32(2.5))
    np.testing.assert_array_equal(a.relu().numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(a.exp().numpy(), np.exp(x), rtol=2e-6)
    np.testing.assert_allclose(tgx.sqrt(a.abs()).numpy(), np.sqrt(np.abs(x)), rtol=1e-6)
    out = tgx.empty(n)
    assert tgx.mul(a, b, out=out) is out
    np.testing.assert_array_equal(out.numpy(), x * y)
    c = a.clone()
    c.add_(1.0)
    np.testing.assert_array_equal(c.numpy(), x + np.float32(1.0))
    c.tanh_()
    np.testing.assert_allclose(c.numpy(), np.tanh(x + np.float32(1.0)), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(a.to(tgx.float64).numpy(), x.astype(np.float64))


def test_from_dlpack_rejects_data_not_aligned_to_its_element():
    # every kernel reads elements at their natural alignment (the streaming stores rely on it):
    # misaligned producer memory is refused, as from_numpy does, and aligned memory still shares
    n = 1000
    a = np.frombuffer(bytearray(4 * n + 1), np.float32, count=n, offset=1)
    with pytest.raises(ValueError, match=r"\[from_dlpack\] the data is not aligned to its element size \(4 bytes\)"):
        tgx.from_dlpack(a)
    b = np.frombuffer(bytearray(4 * n + 4), np.float32, count=n, offset=4)
    t = tgx.from_dlpack(b)
    t.add_(1.0)
    assert b[0] == 1.0
