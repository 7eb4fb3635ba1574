"""Creation functions and random sampling (Philox4x32-10 generators)."""

import math

import numpy as np
import pytest
import tinygrad_ext as tgx

ALL_DTYPES = [tgx.bool, tgx.uint8, tgx.int32, tgx.int64, tgx.float32, tgx.float64]
FLOAT_DTYPES = [tgx.float32, tgx.float64]


def np_of(t):
    return t.numpy()


# ---- deterministic creation -----------------------------------------------------------------
@pytest.mark.parametrize("fn, value", [(tgx.zeros, 0), (tgx.ones, 1)])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_zeros_ones(fn, value, dtype):
    for args in [(2, 3), ((2, 3),), ([4],), ((),), (0, 5)]:
        t = fn(*args, dtype=dtype)
        shape = args[0] if len(args) == 1 else args
        assert t.shape == tuple(shape)
        assert t.dtype is dtype
        np.testing.assert_array_equal(np_of(t), np.full(tuple(shape), value))
    assert fn(3).dtype is tgx.float32
    assert fn(size=(2, 2)).shape == (2, 2)


def test_empty_and_errors():
    t = tgx.empty(3, 4, dtype=tgx.int32)
    assert t.shape == (3, 4) and t.dtype is tgx.int32
    with pytest.raises(ValueError, match=r"negative dimension"):
        tgx.zeros(2, -1)
    with pytest.raises(TypeError):
        tgx.zeros(2.5)
    with pytest.raises(ValueError, match=r"too large"):
        tgx.zeros(2**40, 2**40)


def test_full_infers_dtype():
    assert tgx.full((2,), True).dtype is tgx.bool
    assert tgx.full((2,), 3).dtype is tgx.int64
    assert tgx.full((2,), 3.5).dtype is tgx.float32
    t = tgx.full((2, 2), 7, dtype=tgx.float64)
    assert t.dtype is tgx.float64
    np.testing.assert_array_equal(t.numpy(), np.full((2, 2), 7.0))
    assert tgx.full((), 2.5).shape == ()


def test_like_functions():
    src = tgx.tensor([[1, 2, 3]], dtype=tgx.int32)
    for fn, v in [(tgx.zeros_like, 0), (tgx.ones_like, 1)]:
        t = fn(src)
        assert t.shape == (1, 3) and t.dtype is tgx.int32
        np.testing.assert_array_equal(t.numpy(), np.full((1, 3), v))
        assert fn(src, dtype=tgx.float64).dtype is tgx.float64
    f = tgx.full_like(src, 9)
    assert f.dtype is tgx.int32 and (f.numpy() == 9).all()
    assert tgx.empty_like(src).shape == (1, 3)
    fsrc = tgx.zeros(50, 4)
    r = tgx.rand_like(fsrc)
    assert r.shape == (50, 4) and r.dtype is tgx.float32
    assert tgx.randn_like(fsrc, dtype=tgx.float64).dtype is tgx.float64
    ri = tgx.randint_like(src, 10)
    assert ri.dtype is tgx.int32 and ri.numpy().min() >= 0 and ri.numpy().max() < 10
    ri = tgx.randint_like(fsrc, 5, 8)
    assert ri.dtype is tgx.float32 and set(np.unique(ri.numpy())) <= {5.0, 6.0, 7.0}
    with pytest.raises(TypeError):
        tgx.zeros_like(None)
    with pytest.raises(NotImplementedError, match=r"\[rand\].*int32"):
        tgx.rand_like(src)


def test_new_methods():
    src = tgx.zeros(2, dtype=tgx.float64)
    assert src.new_zeros(3, 4).dtype is tgx.float64
    assert src.new_ones((2,)).numpy().tolist() == [1.0, 1.0]
    assert src.new_full((2,), 5).numpy().tolist() == [5.0, 5.0]
    assert src.new_empty(1, dtype=tgx.int32).dtype is tgx.int32


@pytest.mark.parametrize(
    "args",
    [(5,), (1, 10, 3), (10, 1, -3), (0, 1, 0.1), (-1.5, 2.5, 0.5), (0.0, 1.0, 0.3), (3, 3), (2.5,), (5, 0, -1)],
)
def test_arange_matches_numpy(args):
    t = tgx.arange(*args)
    ref = np.arange(*args)
    expect = tgx.int64 if all(isinstance(a, int) for a in args) else tgx.float32
    assert t.dtype is expect
    assert t.shape == ref.shape
    np.testing.assert_allclose(t.numpy(), ref, rtol=1e-6, atol=1e-6)


def test_arange_torch_parity():
    torch = pytest.importorskip("torch")
    for args, kw in [((0, 1, 0.1), {}), ((0.5, 3), {"dtype": "int64"}), ((1, 2.5, 0.5), {"dtype": "float64"}),
                     ((-3, 7, 2), {"dtype": "int32"}), ((0, 10, 3), {"dtype": "float32"})]:
        t = tgx.arange(*args, **{k: getattr(tgx, v) for k, v in kw.items()})
        r = torch.arange(*args, **{k: getattr(torch, v) for k, v in kw.items()})
        np.testing.assert_array_equal(t.numpy(), r.numpy())


def test_arange_dtype_and_errors():
    assert tgx.arange(5, dtype=tgx.float64).dtype is tgx.float64
    assert tgx.arange(2**40, 2**40 + 3).numpy().tolist() == [2**40, 2**40 + 1, 2**40 + 2]
    with pytest.raises(ValueError, match=r"\[arange\] step must be nonzero"):
        tgx.arange(0, 5, 0)
    with pytest.raises(ValueError, match=r"\[arange\].*inconsistent with step sign"):
        tgx.arange(0, 5, -1)
    with pytest.raises(ValueError, match=r"\[arange\].*inconsistent with step sign"):
        tgx.arange(5.0, 0.0, 0.5)
    with pytest.raises(ValueError, match=r"finite"):
        tgx.arange(0, float("inf"))
    assert tgx.arange(tgx.tensor(4)).numpy().tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("start, end, steps", [(0, 1, 5), (-2, 3, 7), (1, 1, 3), (5, 0, 4), (0, 1, 1), (0, 1, 0)])
def test_linspace(start, end, steps):
    t = tgx.linspace(start, end, steps)
    assert t.dtype is tgx.float32 and t.shape == (steps,)
    np.testing.assert_allclose(t.numpy(), np.linspace(start, end, steps), rtol=1e-6, atol=1e-6)
    t64 = tgx.linspace(start, end, steps, dtype=tgx.float64)
    np.testing.assert_allclose(t64.numpy(), np.linspace(start, end, steps), rtol=1e-14, atol=1e-14)


def test_linspace_logspace_torch_parity_and_errors():
    with pytest.raises(ValueError, match=r"\[linspace\].*non-negative"):
        tgx.linspace(0, 1, -1)
    np.testing.assert_allclose(tgx.logspace(0, 3, 4).numpy(), [1, 10, 100, 1000], rtol=1e-6)
    np.testing.assert_allclose(tgx.logspace(0, 3, 4, base=2).numpy(), [1, 2, 4, 8], rtol=1e-6)
    torch = pytest.importorskip("torch")
    for a, b, n in [(0, 1, 7), (-3.3, 8.1, 13), (0, 100, 11)]:
        np.testing.assert_array_equal(tgx.linspace(a, b, n).numpy(), torch.linspace(a, b, n).numpy())
        np.testing.assert_array_equal(tgx.linspace(a, b, n, dtype=tgx.int64).numpy(),
                                      torch.linspace(a, b, n, dtype=torch.int64).numpy())


@pytest.mark.parametrize("n, m", [(3, None), (2, 4), (4, 2), (0, 3), (1, 1)])
def test_eye(n, m):
    t = tgx.eye(n, m)
    np.testing.assert_array_equal(t.numpy(), np.eye(n, m))
    assert tgx.eye(n, m, dtype=tgx.bool).dtype is tgx.bool
    with pytest.raises(ValueError, match=r"\[eye\]"):
        tgx.eye(-1)


def test_scalar_tensor_as_tensor():
    s = tgx.scalar_tensor(3)
    assert s.shape == () and s.dtype is tgx.float32 and s.item() == 3.0
    t = tgx.tensor([1.0, 2.0])
    assert tgx.as_tensor(t) is t
    assert tgx.as_tensor(t, dtype=tgx.float32) is t
    assert tgx.as_tensor(t, dtype=tgx.float64).dtype is tgx.float64
    a = np.arange(3.0)
    shared = tgx.as_tensor(a)
    a[0] = 42
    assert shared.numpy()[0] == 42  # NumPy arrays of a supported dtype are shared
    assert tgx.as_tensor([1, 2]).dtype is tgx.int64


def test_requires_grad_and_device_arguments():
    t = tgx.zeros(2, requires_grad=True)
    assert tgx._C._requires_grad(t)
    assert tgx._C._requires_grad(tgx.randn(2, requires_grad=True))
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        tgx.zeros(2, dtype=tgx.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        tgx.arange(3, requires_grad=True)
    assert tgx.zeros(2, device="cpu").device == "cpu"
    assert tgx.ones(2, device=tgx.device("cpu")).device.type == "cpu"
    with pytest.raises(NotImplementedError, match=r"\[zeros\] device 'cuda' is not available"):
        tgx.zeros(2, device="cuda")
    with pytest.raises(NotImplementedError, match="cuda"):
        tgx.rand(2, device="cuda:0")
    with pytest.raises(ValueError, match=r"\[device\]"):
        tgx.zeros(2, device="tpu")


# ---- random ---------------------------------------------------------------------------------
def test_generator_api():
    g = tgx.Generator()
    assert g.manual_seed(123) is g
    assert g.initial_seed() == 123
    a = tgx.rand(10, generator=g).numpy()
    b = tgx.rand(10, generator=g).numpy()
    assert not np.array_equal(a, b)  # each draw advances the offset
    g.manual_seed(123)
    np.testing.assert_array_equal(tgx.rand(10, generator=g).numpy(), a)
    state = g.get_state()
    assert state.dtype is tgx.uint8 and state.shape == (16,)
    c = tgx.randn(7, generator=g).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(tgx.randn(7, generator=g).numpy(), c)
    g.set_state(bytes(state.numpy()))
    np.testing.assert_array_equal(tgx.randn(7, generator=g).numpy(), c)
    with pytest.raises(ValueError, match="16 bytes"):
        g.set_state(b"123")
    s = g.seed()
    assert g.initial_seed() == s
    g.manual_seed(-1)
    assert g.initial_seed() == 2**64 - 1
    with pytest.raises(ValueError, match="seed"):
        g.manual_seed(2**64)
    with pytest.raises(TypeError, match="generator"):
        tgx.rand(2, generator=3)


def test_default_generator():
    assert tgx.manual_seed(7) is tgx.default_generator
    assert tgx.initial_seed() == 7
    a = tgx.rand(5).numpy()
    tgx.manual_seed(7)
    np.testing.assert_array_equal(tgx.rand(5).numpy(), a)
    st = tgx.get_rng_state()
    b = tgx.randn(5).numpy()
    tgx.set_rng_state(st)
    np.testing.assert_array_equal(tgx.randn(5).numpy(), b)
    s = tgx.seed()
    assert tgx.initial_seed() == s
    # a separate generator does not disturb the default stream
    tgx.manual_seed(7)
    first = tgx.rand(3).numpy()
    tgx.manual_seed(7)
    tgx.rand(3, generator=tgx.Generator().manual_seed(1))
    np.testing.assert_array_equal(tgx.rand(3).numpy(), first)


def test_philox_known_answer():
    # Random123's known-answer vector for philox4x32_10 with counter 0 and key 0: with seed 0,
    # offset 0, rand's first four floats are (x >> 8) / 2^24 of that block.
    g = tgx.Generator().manual_seed(0)
    kat = np.array([0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8], dtype=np.uint64)
    expect = (kat >> 8).astype(np.float64) / 2**24
    np.testing.assert_array_equal(tgx.rand(4, generator=g).numpy(), expect.astype(np.float32))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_rand_randn_moments(dtype):
    g = tgx.Generator().manual_seed(2024)
    n = 1_000_000
    u = tgx.rand(n, generator=g, dtype=dtype).numpy().astype(np.float64)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 2e-3
    # KS-like check against the uniform CDF
    s = np.sort(u[:100_000])
    ks = np.max(np.abs(s - np.arange(1, s.size + 1) / s.size))
    assert ks < 1.63 / math.sqrt(s.size)  # 1% critical value
    z = tgx.randn(n, generator=g, dtype=dtype).numpy().astype(np.float64)
    assert abs(z.mean()) < 5 / math.sqrt(n)
    assert abs(z.var() - 1) < 5 * math.sqrt(2 / n)
    assert abs(np.mean(z**3)) < 0.02 and abs(np.mean(z**4) - 3) < 0.05
    assert np.all(np.isfinite(z))


def test_random_independent_of_thread_count():
    old = tgx.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3):
            tgx.set_num_threads(threads)
            g = tgx.Generator().manual_seed(99)
            results.append([
                tgx.rand(200_003, generator=g).numpy(),
                tgx.randn(100_001, generator=g, dtype=tgx.float64).numpy(),
                tgx.randint(0, 1000, (150_000,), generator=g).numpy(),
            ])
        for r in results[1:]:
            for a, b in zip(results[0], r):
                np.testing.assert_array_equal(a, b)
    finally:
        tgx.set_num_threads(old)


def test_stream_is_a_prefix_of_longer_draws():
    # element i comes from counter offset + i // 4: a short draw is a prefix of a long one
    a = tgx.rand(10, generator=tgx.Generator().manual_seed(5)).numpy()
    b = tgx.rand(1000, generator=tgx.Generator().manual_seed(5)).numpy()
    np.testing.assert_array_equal(a, b[:10])


def test_randint():
    g = tgx.Generator().manual_seed(1)
    t = tgx.randint(3, 10, (100_000,), generator=g)
    assert t.dtype is tgx.int64
    v = t.numpy()
    assert v.min() == 3 and v.max() == 9
    counts = np.bincount(v - 3)
    assert np.all(np.abs(counts / v.size - 1 / 7) < 0.01)
    assert tgx.randint(5, (4, 2)).shape == (4, 2)
    assert tgx.randint(5, size=(3,)).numpy().max() < 5
    assert tgx.randint(low=-5, high=-2, size=(50,)).numpy().max() < -2
    big = tgx.randint(-(2**62), 2**62, (1000,), generator=g).numpy()
    assert big.min() >= -(2**62) and big.max() < 2**62 and np.unique(big).size == 1000
    assert tgx.randint(0, 256, (1000,), dtype=tgx.uint8).dtype is tgx.uint8
    with pytest.raises(ValueError, match=r"\[randint\]"):
        tgx.randint(5, 5, (2,))
    with pytest.raises(ValueError, match=r"\[randint\].*uint8"):
        tgx.randint(0, 300, (2,), dtype=tgx.uint8)
    with pytest.raises(TypeError, match=r"\[randint\]"):
        tgx.randint(5)


def test_randperm():
    g = tgx.Generator().manual_seed(3)
    for n in [0, 1, 2, 10, 1001]:
        p = tgx.randperm(n, generator=g)
        assert p.dtype is tgx.int64
        np.testing.assert_array_equal(np.sort(p.numpy()), np.arange(n))
    assert tgx.randperm(5, dtype=tgx.float32).dtype is tgx.float32
    # roughly uniform: position of element 0 over many draws
    pos = [int(np.argmax(tgx.randperm(4, generator=g).numpy() == 0)) for _ in range(4000)]
    assert np.all(np.abs(np.bincount(pos, minlength=4) / 4000 - 0.25) < 0.04)
    with pytest.raises(ValueError, match=r"\[randperm\]"):
        tgx.randperm(-1)
    with pytest.raises(ValueError, match=r"\[randperm\].*uint8"):
        tgx.randperm(300, dtype=tgx.uint8)


def test_normal_forms():
    g = tgx.Generator().manual_seed(11)
    t = tgx.normal(2.0, 3.0, (200_000,), generator=g)
    assert t.dtype is tgx.float32
    assert abs(t.numpy().mean() - 2) < 0.05 and abs(t.numpy().std() - 3) < 0.05
    mean = tgx.tensor([0.0, 100.0], dtype=tgx.float64)
    std = tgx.tensor([[1.0], [0.0]], dtype=tgx.float64)
    r = tgx.normal(mean, std, generator=g)
    assert r.shape == (2, 2) and r.dtype is tgx.float64
    np.testing.assert_array_equal(r.numpy()[1], [0.0, 100.0])  # std 0 gives the mean
    assert tgx.normal(tgx.zeros(3), 2.0).shape == (3,)
    assert tgx.normal(1.0, tgx.ones(4)).shape == (4,)
    with pytest.raises(ValueError, match=r"\[normal\].*std"):
        tgx.normal(0.0, -1.0, (2,))
    with pytest.raises(ValueError, match=r"\[normal\].*std"):
        tgx.normal(tgx.zeros(2), tgx.tensor([1.0, -1.0]))
    with pytest.raises(TypeError, match="size"):
        tgx.normal(0.0, 1.0)


def test_bernoulli():
    g = tgx.Generator().manual_seed(5)
    p = tgx.full((200_000,), 0.3)
    b = tgx.bernoulli(p, generator=g)
    assert b.dtype is tgx.float32 and set(np.unique(b.numpy())) <= {0.0, 1.0}
    assert abs(b.numpy().mean() - 0.3) < 0.01
    edge = tgx.bernoulli(tgx.tensor([0.0, 1.0] * 500)).numpy()
    np.testing.assert_array_equal(edge, [0.0, 1.0] * 500)
    m = p.bernoulli(0.8, generator=g)
    assert abs(m.numpy().mean() - 0.8) < 0.01
    with pytest.raises(ValueError, match=r"\[bernoulli\]"):
        tgx.bernoulli(tgx.tensor([1.5]))
    with pytest.raises(NotImplementedError, match=r"\[bernoulli\].*int64"):
        tgx.bernoulli(tgx.tensor([1]))


def test_inplace_samplers():
    g = tgx.Generator().manual_seed(8)
    t = tgx.zeros(100_000, dtype=tgx.float64)
    v0 = t._version
    assert t.uniform_(-2, 3, generator=g) is t
    assert t._version > v0
    a = t.numpy()
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.03
    t.normal_(5, 0.5, generator=g)
    assert abs(t.numpy().mean() - 5) < 0.01 and abs(t.numpy().std() - 0.5) < 0.01
    t.exponential_(2.0, generator=g)
    assert t.numpy().min() >= 0 and abs(t.numpy().mean() - 0.5) < 0.01
    t.bernoulli_(0.25, generator=g)
    assert set(np.unique(t.numpy())) <= {0.0, 1.0} and abs(t.numpy().mean() - 0.25) < 0.01
    i = tgx.zeros(3, 1000, dtype=tgx.int32)
    i.bernoulli_(tgx.tensor([[0.0], [1.0], [0.5]]), generator=g)
    assert i.numpy()[0].sum() == 0 and i.numpy()[1].sum() == 1000 and 400 < i.numpy()[2].sum() < 600
    i.random_(10, generator=g)
    assert i.numpy().min() >= 0 and i.numpy().max() == 9
    i.random_(-3, 3, generator=g)
    assert i.numpy().min() == -3 and i.numpy().max() == 2
    i.random_(generator=g)
    assert i.numpy().min() >= 0
    f = tgx.zeros(1000).random_(generator=g)
    assert f.numpy().max() <= 2**24 and np.all(f.numpy() == np.round(f.numpy()))
    with pytest.raises(NotImplementedError, match=r"\[uniform_\].*int32"):
        i.uniform_()
    with pytest.raises(ValueError, match=r"\[uniform_\]"):
        t.uniform_(3, 2)
    with pytest.raises(ValueError, match=r"\[normal_\]"):
        t.normal_(0, -1)
    with pytest.raises(ValueError, match=r"\[bernoulli_\]"):
        t.bernoulli_(1.5)
    with pytest.raises(ValueError, match=r"\[random_\]"):
        tgx.zeros(2, dtype=tgx.uint8).random_(0, 1000)


def test_inplace_on_noncontiguous_view():
    base = np.zeros((4, 6), dtype=np.float32)
    view = tgx.from_numpy(base[:, ::-2])  # negative, non-unit strides
    view.uniform_(1, 2, generator=tgx.Generator().manual_seed(0))
    assert np.all(base[:, 1::2] >= 1) and np.all(base[:, ::2] == 0)
    ref = tgx.rand(4, 3, generator=tgx.Generator().manual_seed(0)).numpy() + 1
    np.testing.assert_allclose(base[:, ::-2], ref, rtol=1e-6)


def test_zero_size_and_0d_draws():
    assert tgx.rand(0).shape == (0,)
    assert tgx.randn(()).shape == ()
    assert tgx.randint(0, 3, ()).shape == ()
    g = tgx.Generator().manual_seed(1)
    tgx.rand(0, generator=g)
    assert g._offset == 0


def test_tensor_accepts_device_and_requires_grad():
    t = tgx.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert t.requires_grad and t.is_leaf
    (t * t).sum().backward()
    assert t.grad.tolist() == [[2.0, 4.0], [6.0, 8.0]]
    assert not tgx.tensor([1.0], device="cpu").requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        tgx.tensor([1, 2], requires_grad=True)
    with pytest.raises(NotImplementedError, match="cuda"):
        tgx.tensor([1.0], device="cuda")
