"""NumPy, buffer protocol, DLPack and pickle interop; the device object."""

import copy
import gc
import pickle
import sys

import numpy as np
import pytest
import tinygrad_ext as tgx

NP_DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float32, np.float64]


# ---- numpy() and from_numpy -----------------------------------------------------------------
def test_numpy_shares_memory():
    t = tgx.zeros(2, 3)
    a = t.numpy()
    a[1, 2] = 5
    assert t.numpy()[1, 2] == 5
    assert np.shares_memory(a, t.numpy())
    assert t.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 5.0]]


def test_numpy_requires_grad_error():
    t = tgx.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)"):
        t.numpy()
    with pytest.raises(RuntimeError, match=r"detach\(\)"):
        np.asarray(t)
    np.testing.assert_array_equal(t.numpy(force=True), np.zeros(3))
    assert t.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("dt", NP_DTYPES)
def test_from_numpy_dtypes_share_memory(dt):
    a = (np.arange(6) % 2).astype(dt).reshape(2, 3)
    t = tgx.from_numpy(a)
    assert t.dtype.name == np.dtype(dt).name
    assert t.shape == (2, 3)
    assert t.data_ptr() == a.ctypes.data
    np.testing.assert_array_equal(t.numpy(), a)
    t.fill_(1)
    assert np.all(a == 1)


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[::-1],
        lambda a: a[:, ::-2],
        lambda a: a.T,
        lambda a: a[1:, 1::2],
        lambda a: a[::-1, ::-1],
        lambda a: np.broadcast_to(a[0], (5, 4)),  # zero stride, read-only
        lambda a: a[2],
        lambda a: a[0, 0, ...],  # 0-d view
        lambda a: a[:0],
    ],
)
def test_from_numpy_strided_views(view):
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    v = view(base)
    t = tgx.from_numpy(v)
    assert t.shape == v.shape
    assert t.stride() == tuple(s // 8 for s in v.strides)
    np.testing.assert_array_equal(t.numpy(), v)
    np.testing.assert_array_equal(t.contiguous().numpy(), v)
    np.testing.assert_array_equal((t + 1).numpy(), v + 1)
    if v.size:
        assert t.data_ptr() == v.__array_interface__["data"][0]


def test_from_numpy_writes_through_negative_strides():
    base = np.zeros(5, dtype=np.int32)
    t = tgx.from_numpy(base[::-1])
    t.copy_(tgx.tensor([1, 2, 3, 4, 5], dtype=tgx.int32))
    np.testing.assert_array_equal(base, [5, 4, 3, 2, 1])


def test_from_numpy_keeps_array_alive():
    a = np.arange(1000.0)
    before = sys.getrefcount(a)
    t = tgx.from_numpy(a)
    assert sys.getrefcount(a) == before + 1
    view = t.numpy()
    del t
    gc.collect()
    assert sys.getrefcount(a) == before + 1  # the NumPy view still holds the storage
    del view
    gc.collect()
    assert sys.getrefcount(a) == before
    # the only reference: the tensor keeps the data valid
    t = tgx.from_numpy(np.arange(4.0) * 2)
    gc.collect()
    np.testing.assert_array_equal(t.numpy(), [0, 2, 4, 6])


def test_from_numpy_readonly_and_errors():
    a = np.arange(3.0)
    a.flags.writeable = False
    t = tgx.from_numpy(a)  # accepted, as PyTorch (which warns)
    np.testing.assert_array_equal(t.numpy(), a)
    for bad in [np.zeros(2, np.complex64), np.zeros(2, np.float16), np.zeros(2, np.int8), np.array(["a"])]:
        with pytest.raises(TypeError, match=r"\[from_numpy\].*" + str(bad.dtype)):
            tgx.from_numpy(bad)
    with pytest.raises(TypeError, match=r"\[from_numpy\].*byte order"):
        tgx.from_numpy(np.zeros(2, dtype=">f4"))
    with pytest.raises(TypeError, match=r"\[from_numpy\] expected np.ndarray \(got list\)"):
        tgx.from_numpy([1, 2])
    rec = np.zeros(3, dtype=[("a", np.int32), ("b", np.float64)])
    with pytest.raises(TypeError):
        tgx.from_numpy(rec)
    unaligned = np.frombuffer(b"\0" * 33, dtype=np.uint8)[1:].view(np.float64)
    with pytest.raises(ValueError, match="aligned"):
        tgx.from_numpy(unaligned)


# ---- __array__, buffer protocol, NumPy operators --------------------------------------------
def test_array_protocol_numpy2_semantics():
    t = tgx.tensor([1.0, 2.0, 3.0])
    a = t.__array__()
    assert np.shares_memory(a, t.numpy())
    c = t.__array__(copy=True)
    assert not np.shares_memory(c, t.numpy())
    d = t.__array__(np.float64)
    assert d.dtype == np.float64
    with pytest.raises(ValueError, match="copy"):
        t.__array__(np.float64, copy=False)
    assert np.shares_memory(t.__array__(np.float32, copy=False), t.numpy())
    assert np.array(t, copy=False).dtype == np.float32
    with pytest.raises(ValueError):
        np.array(t, dtype=np.float64, copy=False)


def test_buffer_protocol_zero_copy():
    t = tgx.tensor([[1, 2, 3], [4, 5, 6]], dtype=tgx.int32)
    m = memoryview(t)
    assert m.format == "i" and m.shape == (2, 3) and m.strides == (12, 4) and not m.readonly
    a = np.asarray(t)
    assert a.dtype == np.int32 and np.shares_memory(a, t.numpy())
    a[0, 0] = 100
    assert t.tolist()[0][0] == 100
    for dt in [tgx.bool, tgx.uint8, tgx.int64, tgx.float32, tgx.float64]:
        x = tgx.zeros(3, dtype=dt)
        assert np.asarray(x).dtype.name == dt.name
    flipped = tgx.from_numpy(np.arange(4.0)[::-1])
    np.testing.assert_array_equal(np.asarray(flipped), [3, 2, 1, 0])
    assert memoryview(flipped).strides == (-8,)
    assert memoryview(tgx.tensor(2.5)).shape == ()


def test_ndarray_operators_return_tensor():
    # __array_priority__ = 1000 and no __array_ufunc__: ndarray + Tensor -> Tensor.__radd__
    assert Tensor_has_priority()
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = tgx.tensor([10.0, 20.0])
    r = a + t
    assert isinstance(r, tgx.Tensor)
    np.testing.assert_array_equal(r.numpy(), [11.0, 22.0])
    assert isinstance(a * t, tgx.Tensor) and isinstance(a - t, tgx.Tensor)
    np.testing.assert_array_equal((a - t).numpy(), [-9.0, -18.0])
    assert isinstance(t + a, tgx.Tensor)
    # NumPy functions convert the tensor and return NumPy arrays, as with PyTorch
    e = np.exp(t)
    assert isinstance(e, np.ndarray)
    np.testing.assert_allclose(e, np.exp([10.0, 20.0]), rtol=1e-6)
    # NumPy reductions call the method of the same name (t.sum(axis=None, out=None)), as with
    # PyTorch: the result is a Tensor.
    s = np.sum(tgx.tensor([1, 2]))
    assert isinstance(s, tgx.Tensor) and s.item() == 3
    assert np.mean(tgx.tensor([1.0, 2.0])).item() == 1.5


def Tensor_has_priority():
    return tgx.Tensor.__array_priority__ == 1000 and not hasattr(tgx.Tensor, "__array_ufunc__")


# ---- DLPack -----------------------------------------------------------------------------------
def test_dlpack_capsules():
    t = tgx.arange(6)
    assert t.__dlpack_device__() == (1, 0)
    cap = t.__dlpack__()
    assert "dltensor" in repr(cap) and "versioned" not in repr(cap)
    cap = t.__dlpack__(max_version=(1, 0))
    assert '"dltensor_versioned"' in repr(cap)
    assert '"dltensor"' in repr(t.__dlpack__(max_version=(0, 8)))
    u = tgx.from_dlpack(cap)
    assert '"used_dltensor_versioned"' in repr(cap)
    np.testing.assert_array_equal(u.numpy(), np.arange(6))
    with pytest.raises(ValueError, match="already consumed"):
        tgx.from_dlpack(cap)
    legacy = t.__dlpack__()
    tgx.from_dlpack(legacy)
    assert '"used_dltensor"' in repr(legacy)
    with pytest.raises(RuntimeError, match=r"detach"):
        tgx.zeros(2, requires_grad=True).__dlpack__()
    with pytest.raises(BufferError):
        t.__dlpack__(dl_device=(2, 0))
    with pytest.raises(ValueError, match="stream"):
        t.__dlpack__(stream=1)
    with pytest.raises(TypeError, match=r"\[from_dlpack\]"):
        tgx.from_dlpack([1, 2])


def test_dlpack_copy_flag():
    t = tgx.zeros(3)
    c = tgx.from_dlpack(t.__dlpack__(max_version=(1, 0), copy=True))
    c.fill_(1)
    assert t.tolist() == [0.0, 0.0, 0.0]
    s = tgx.from_dlpack(t)
    s.fill_(2)
    assert t.tolist() == [2.0, 2.0, 2.0]
    k = tgx.from_dlpack(t, copy=True)
    k.fill_(3)
    assert t.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("dt", NP_DTYPES)
def test_dlpack_numpy_round_trip(dt):
    a = (np.arange(12) % 3).astype(dt).reshape(3, 4)
    t = tgx.from_dlpack(a)
    assert t.dtype.name == np.dtype(dt).name and t.data_ptr() == a.ctypes.data
    b = np.from_dlpack(t)
    assert b.dtype == a.dtype and np.shares_memory(a, b)
    np.testing.assert_array_equal(b, a)
    t.fill_(1)
    assert np.all(a == 1)


def test_dlpack_numpy_strided():
    base = np.arange(24.0).reshape(4, 6)
    v = base[::-1, 1::2]
    t = tgx.from_dlpack(v)
    np.testing.assert_array_equal(t.numpy(), v)
    assert t.stride() == (-6, 2)
    back = np.from_dlpack(t)
    np.testing.assert_array_equal(back, v)
    assert np.shares_memory(back, base)
    z = tgx.from_dlpack(np.zeros((0, 3)))
    assert z.shape == (0, 3)
    s = tgx.from_dlpack(np.array(2.5))
    assert s.shape == () and s.item() == 2.5


def test_dlpack_readonly_is_copied():
    a = np.arange(3.0)
    a.flags.writeable = False
    t = tgx.from_dlpack(a)  # read-only memory comes in as a copy
    t.fill_(7)
    np.testing.assert_array_equal(a, [0, 1, 2])
    with pytest.raises(ValueError, match="read-only"):
        tgx.from_dlpack(a, copy=False)


def test_dlpack_deleter_runs_when_storage_dies():
    a = np.arange(10.0)
    before = sys.getrefcount(a)
    t = tgx.from_dlpack(a)
    assert sys.getrefcount(a) > before
    del t
    gc.collect()
    assert sys.getrefcount(a) == before
    # exported capsule that is never consumed frees the export
    t = tgx.from_numpy(a)
    cap = t.__dlpack__(max_version=(1, 0))
    del t
    gc.collect()
    assert sys.getrefcount(a) == before + 1
    del cap
    gc.collect()
    assert sys.getrefcount(a) == before
    # consumed by NumPy: alive as long as the NumPy array
    t = tgx.from_numpy(a)
    b = np.from_dlpack(t)
    del t
    gc.collect()
    assert sys.getrefcount(a) == before + 1
    del b
    gc.collect()
    assert sys.getrefcount(a) == before


def test_dlpack_torch_round_trip():
    torch = pytest.importorskip("torch")
    t = tgx.arange(6, dtype=tgx.float32)
    tt = torch.from_dlpack(t)
    assert tt.dtype == torch.float32 and tt.data_ptr() == t.data_ptr()
    tt[0] = 42.0
    assert t.tolist()[0] == 42.0
    src = torch.arange(12, dtype=torch.int64).reshape(3, 4).t()
    x = tgx.from_dlpack(src)
    assert x.shape == (4, 3) and x.stride() == (1, 4) and x.dtype is tgx.int64
    x.fill_(-1)
    assert bool((src == -1).all())
    for tdt, gdt in [(torch.bool, tgx.bool), (torch.uint8, tgx.uint8), (torch.int32, tgx.int32),
                     (torch.float64, tgx.float64)]:
        s = torch.ones(3, dtype=tdt)
        assert tgx.from_dlpack(s).dtype is gdt
        back = torch.from_dlpack(tgx.ones(3, dtype=gdt))
        assert back.dtype == tdt and bool((back == 1).all())
    with pytest.raises(TypeError, match=r"\[from_dlpack\].*float16"):
        tgx.from_dlpack(torch.zeros(2, dtype=torch.float16))
    with pytest.raises(TypeError, match=r"\[from_dlpack\].*int8"):
        tgx.from_dlpack(torch.zeros(2, dtype=torch.int8))
    # legacy capsule path, as older producers give it
    legacy = torch.arange(3).__dlpack__()
    np.testing.assert_array_equal(tgx.from_dlpack(legacy).numpy(), [0, 1, 2])


# ---- pickle, copy -----------------------------------------------------------------------------
@pytest.mark.parametrize("dt", [tgx.bool, tgx.uint8, tgx.int32, tgx.int64, tgx.float32, tgx.float64])
def test_pickle_round_trip(dt):
    t = tgx.tensor([[1, 0, 1], [0, 1, 1]], dtype=dt)
    u = pickle.loads(pickle.dumps(t))
    assert u.dtype is dt and u.shape == (2, 3)
    np.testing.assert_array_equal(u.numpy(), t.numpy())
    assert u.data_ptr() != t.data_ptr()


def test_pickle_noncontiguous_0d_empty_and_grad():
    v = tgx.from_numpy(np.arange(12.0).reshape(3, 4)[::-1, ::2])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(v)).numpy(), v.numpy())
    s = pickle.loads(pickle.dumps(tgx.tensor(2.5)))
    assert s.shape == () and s.item() == 2.5
    e = pickle.loads(pickle.dumps(tgx.zeros(0, 3, dtype=tgx.int32)))
    assert e.shape == (0, 3) and e.dtype is tgx.int32
    g = pickle.loads(pickle.dumps(tgx.ones(2, requires_grad=True)))
    assert tgx._C._requires_grad(g)
    assert pickle.loads(pickle.dumps(tgx.float64)) is tgx.float64


def test_deepcopy_and_copy():
    t = tgx.tensor([1.0, 2.0])
    d = copy.deepcopy(t)
    d.fill_(0)
    assert t.tolist() == [1.0, 2.0]
    pair = copy.deepcopy([t, t])
    assert pair[0] is pair[1]  # memo keeps aliasing
    assert tgx._C._requires_grad(copy.deepcopy(tgx.zeros(1, requires_grad=True)))


# ---- device -------------------------------------------------------------------------------------
def test_device_object():
    t = tgx.zeros(2)
    d = t.device
    assert isinstance(d, tgx.device)
    assert d.type == "cpu" and d.index is None
    assert repr(d) == "device(type='cpu')" and str(d) == "cpu"
    assert d == "cpu" and d == tgx.device("cpu") and d != "cuda" and d != tgx.device("cpu", 0)
    assert hash(d) == hash(tgx.device("cpu"))
    c1 = tgx.device("cuda:1")
    assert c1.type == "cuda" and c1.index == 1 and repr(c1) == "device(type='cuda', index=1)"
    assert tgx.device("cuda", 0) == "cuda:0"
    assert pickle.loads(pickle.dumps(c1)) == c1
    with pytest.raises(ValueError, match=r"\[device\]"):
        tgx.device("gpu")
    assert t.is_cpu and t.cpu() is t
    assert t.to("cpu") is t and t.to(tgx.device("cpu")) is t
    assert t.to("cpu", tgx.float64).dtype is tgx.float64
    assert t.to(tgx.int32).dtype is tgx.int32
    assert t.to(dtype=tgx.float64, device="cpu").dtype is tgx.float64
    assert t.to(tgx.zeros(1, dtype=tgx.int64)).dtype is tgx.int64
    assert t.to("cpu", copy=True) is not t
    with pytest.raises(NotImplementedError, match="cuda"):
        t.to("cuda")
    with pytest.raises(NotImplementedError, match="CUDA"):
        t.cuda()


def test_device_matches_torch():
    torch = pytest.importorskip("torch")
    for s in ["cpu", "cuda:1"]:
        assert repr(tgx.device(s)) == repr(torch.device(s))
        assert str(tgx.device(s)) == str(torch.device(s))
