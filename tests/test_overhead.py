"""The small-op fast paths (number slots, flat iterator, wrapped scalars, inline shapes, per-thread
allocator cache) must behave exactly as the general paths."""

import threading

import numpy as np
import pytest
import tinygrad_ext as tg


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_operators_match_numpy_both_sides(op, dtype):
    import operator
    f = getattr(operator, op)
    x = np.array([1, 2, 3, 4], dtype=dtype)
    t = tg.tensor(x)
    for other in (2, 2.5, True, np.array([1, 3, 5, 7], dtype=dtype)):
        other_t = tg.tensor(other) if isinstance(other, np.ndarray) else other
        for got, want in ((f(t, other_t), f(x, other)), (f(other_t, t), f(other, x))):
            np.testing.assert_allclose(got.numpy(), np.asarray(want, dtype=np.float64), rtol=1e-6)


def test_wrapped_scalar_dtypes_follow_result_type():
    assert (tg.ones(2, dtype=tg.float64) + 0.1).dtype == tg.float64
    assert (tg.ones(2) * 3).dtype == tg.float32
    assert (tg.ones(2, dtype=tg.int32) + 1.5).dtype == tg.float32
    assert (tg.ones(2, dtype=tg.int32) + 2).dtype == tg.int32
    assert (2 - tg.ones(2, dtype=tg.int64)).dtype == tg.int64
    assert (tg.ones(2, dtype=tg.float64) + 0.1).numpy()[0] == 1.1  # the number kept in float64


def test_operators_return_notimplemented_for_unknown_types():
    t = tg.ones(2)
    with pytest.raises(TypeError):
        t + "x"
    with pytest.raises(TypeError):
        "x" * t

    class Other:
        def __radd__(self, o):
            return "radd"
    assert t + Other() == "radd"


def test_operator_errors_and_uninitialised_subclass():
    with pytest.raises(ValueError, match=r"\[add\]"):
        tg.ones(2) + tg.ones(3)

    class S(tg.Tensor):
        def __init__(self):  # never calls the base __init__
            pass
    with pytest.raises(TypeError):
        S() + tg.ones(2)
    with pytest.raises(TypeError):
        tg.Tensor.exp(5)


def test_flat_iterator_cases():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = tg.tensor(a)
    np.testing.assert_array_equal((t + tg.tensor(np.float32(2))).numpy(), a + 2)  # 0-d operand
    np.testing.assert_array_equal((t + tg.tensor([5.0])).numpy(), a + 5)         # (1,) operand
    np.testing.assert_array_equal((t + t.T.T).numpy(), a + a)
    np.testing.assert_array_equal((t.T + t.T).numpy(), (a.T + a.T))               # not contiguous
    np.testing.assert_array_equal((tg.tensor(a[::-1].copy()).flip(0) + t).numpy(), a + a)
    assert (t + tg.tensor(np.ones((1, 1, 1), np.float32))).shape == (1, 3, 4)
    with pytest.raises(ValueError):
        t + tg.ones(5)


def test_many_dims_beyond_inline_shape():
    a = np.arange(2 * 3 * 1 * 2 * 2 * 1 * 2 * 3, dtype=np.float64).reshape(2, 3, 1, 2, 2, 1, 2, 3)
    t = tg.tensor(a)
    assert t.shape == a.shape and t.stride() == tuple(s // 8 for s in a.strides)
    np.testing.assert_array_equal((t * t).numpy(), a * a)
    np.testing.assert_array_equal(t.reshape(3, 2, 2, 2, 1, 1, 1, 2, 3).numpy(), a.reshape(3, 2, 2, 2, 1, 1, 1, 2, 3))
    np.testing.assert_array_equal(t.permute(7, 6, 5, 4, 3, 2, 1, 0).numpy(), a.transpose())


def test_small_blocks_across_threads():
    before = tg._C._live_tensors() if hasattr(tg._C, "_live_tensors") else None
    out = []

    def work():
        ts = [tg.ones(i % 40 + 1) * 2 for i in range(200)]
        out.append(sum(float(t.sum()) for t in ts))
    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert out == [out[0]] * 4
    if before is not None:
        assert tg._C._live_tensors() == before
