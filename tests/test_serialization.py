"""tinygrad_ext.save / load: safetensors and .npz round trips, atomic writes, corrupt files."""

import io
import json
import os
import struct

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext import serialization

DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float32, np.float64]


def arr(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    return rng.standard_normal(shape).astype(dtype)


def same(t, a):
    assert isinstance(t, tgx.Tensor)
    assert t.dtype == tgx.tensor(a).dtype and t.shape == a.shape
    np.testing.assert_array_equal(t.numpy(), a)


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_roundtrip_dtypes_shapes(tmp_path, suffix, dtype):
    arrays = {
        "scalar": arr(dtype, ()),
        "empty": arr(dtype, (2, 0, 3)),
        "vec": arr(dtype, (7,), 1),
        "img": arr(dtype, (2, 3, 4, 5), 2),
    }
    state = {k: tgx.tensor(v) for k, v in arrays.items()}
    path = tmp_path / ("m" + suffix)
    tgx.save(state, path)
    back = tgx.load(path)
    assert list(back) == list(arrays)
    for k, v in arrays.items():
        same(back[k], v)


def test_noncontiguous_and_flipped_tensors(tmp_path):
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    t = tgx.tensor(a)
    state = {"T": t.T, "flip": t.flip(0), "strided": t.narrow(1, 1, 3)}
    tgx.save(state, tmp_path / "x.safetensors")
    back = tgx.load(tmp_path / "x.safetensors")
    same(back["T"], a.T)
    same(back["flip"], a[::-1])
    same(back["strided"], a[:, 1:4])


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_nested_structure_and_leaves(tmp_path, suffix):
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    obj = {
        "model": {"fc.weight": tgx.tensor(w), "fc.bias": tgx.tensor(np.zeros(2, np.float32))},
        "optim": {
            "state": {0: {"step": tgx.tensor(3.0), "momentum_buffer": tgx.tensor(w * 2)}},
            "param_groups": [
                {
                    "lr": 0.1,
                    "betas": (0.9, 0.999),
                    "nesterov": False,
                    "params": [0, 1],
                    "name": None,
                }
            ],
        },
        "epoch": 7,
        "best": float("inf"),
        "note": "hello ünïcode",
        "arr": np.arange(3, dtype=np.int64),
        "list": [tgx.tensor([1, 2]), 2.5, (True, "x")],
    }
    tgx.save(obj, tmp_path / ("ck" + suffix))
    back = tgx.load(tmp_path / ("ck" + suffix))
    assert set(back) == set(obj)
    same(back["model"]["fc.weight"], w)
    st = back["optim"]["state"]
    assert list(st) == [0]  # int keys stay ints
    same(st[0]["step"], np.array(3.0, np.float32))
    same(st[0]["momentum_buffer"], w * 2)
    assert back["optim"]["param_groups"] == obj["optim"]["param_groups"]
    assert isinstance(back["optim"]["param_groups"][0]["betas"], tuple)
    assert back["epoch"] == 7 and back["best"] == float("inf") and back["note"] == obj["note"]
    assert isinstance(back["arr"], np.ndarray)
    np.testing.assert_array_equal(back["arr"], obj["arr"])
    same(back["list"][0], np.array([1, 2]))
    assert back["list"][1:] == [2.5, (True, "x")]


def test_single_tensor_and_file_objects():
    t = tgx.tensor(np.arange(5, dtype=np.float64))
    buf = io.BytesIO()
    tgx.save(t, buf)
    buf.seek(0)
    same(tgx.load(buf), np.arange(5, dtype=np.float64))


def test_file_layout_is_safetensors(tmp_path):
    path = tmp_path / "w.safetensors"
    tgx.save(
        {
            "a": tgx.tensor(np.array([1.5, -2.0], np.float32)),
            "b": tgx.tensor(np.array([[1, 2]], np.int64)),
        },
        path,
    )
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(raw[8 : 8 + n])
    assert header["a"] == {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    assert header["b"] == {"dtype": "I64", "shape": [1, 2], "data_offsets": [8, 24]}
    meta = header["__metadata__"]
    assert meta["format"] == "tinygrad_ext" and all(isinstance(v, str) for v in meta.values())
    data = raw[8 + n :]
    assert len(data) == 24
    assert np.frombuffer(data[:8], "<f4").tolist() == [1.5, -2.0]
    assert np.frombuffer(data[8:], "<i8").tolist() == [1, 2]


def test_foreign_safetensors_without_structure(tmp_path):
    # a file as another tool writes it: no __metadata__, tensors not in offset order in the header
    a = np.arange(4, dtype="<f4")
    b = np.array([7, 8, 9], dtype="<i4")
    header = {
        "zeta": {"dtype": "I32", "shape": [3], "data_offsets": [16, 28]},
        "alpha": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    }
    h = json.dumps(header).encode()
    path = tmp_path / "foreign.safetensors"
    path.write_bytes(struct.pack("<Q", len(h)) + h + a.tobytes() + b.tobytes())
    back = tgx.load(path)
    assert list(back) == ["alpha", "zeta"]  # file order
    same(back["alpha"], a.reshape(2, 2))
    same(back["zeta"], b)
    half = np.array([1.0, -0.5], dtype="<f2")
    h = json.dumps({"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + half.tobytes())
    same(serialization.load_file(path)["h"], np.array([1.0, -0.5], np.float32))


def test_save_file_load_file(tmp_path):
    t = {"x": tgx.tensor(np.ones((2, 2), np.float32))}
    serialization.save_file(t, tmp_path / "s.safetensors", metadata={"k": "v"})
    same(serialization.load_file(tmp_path / "s.safetensors")["x"], np.ones((2, 2), np.float32))
    with pytest.raises(TypeError, match="save_file"):
        serialization.save_file({"x": 1}, tmp_path / "bad.safetensors")


def test_unsupported_objects_raise_typeerror(tmp_path):
    with pytest.raises(TypeError, match=r"\[save\].*set"):
        tgx.save({"a": {1, 2}}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match=r"\[save\].*keys"):
        tgx.save({(1, 2): 3}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match=r"\[save\].*complex128"):
        tgx.save({"a": np.zeros(2, complex)}, tmp_path / "x.safetensors")
    assert not list(tmp_path.iterdir())


# ---- atomic writes -------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_failed_save_keeps_old_file_and_removes_temp(tmp_path, monkeypatch, suffix):
    path = tmp_path / ("ck" + suffix)
    tgx.save({"w": tgx.tensor([1.0, 2.0])}, path)
    before = path.read_bytes()

    class Boom(OSError):
        pass

    real_write = serialization._write_chunks
    real_savez = np.savez

    def failing_write(f, chunks):
        f.write(chunks[0])  # part of the new file reaches the temp file, then the disk "fails"
        raise Boom("disk full")

    def failing_savez(fh, **arrays):
        fh.write(b"PK\x03\x04partial")
        raise Boom("disk full")

    monkeypatch.setattr(serialization, "_write_chunks", failing_write)
    monkeypatch.setattr(np, "savez", failing_savez)
    big = {"w": tgx.tensor(np.arange(1000, dtype=np.float64))}
    with pytest.raises(Boom):
        tgx.save(big, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [path.name]
    monkeypatch.setattr(serialization, "_write_chunks", real_write)
    monkeypatch.setattr(np, "savez", real_savez)
    same(tgx.load(path)["w"], np.array([1.0, 2.0], np.float32))
    tgx.save(big, path)  # and a working save replaces it
    same(tgx.load(path)["w"], np.arange(1000, dtype=np.float64))
    assert sorted(os.listdir(tmp_path)) == [path.name]


def test_failed_fsync_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ck.safetensors"
    tgx.save({"w": tgx.tensor([1.0])}, path)
    before = path.read_bytes()

    def bad_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", bad_fsync)
    with pytest.raises(OSError, match="I/O error"):
        tgx.save({"w": tgx.tensor([2.0])}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]


# ---- corrupt files -------------------------------------------------------------------------------
def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    tgx.save({"a": tgx.tensor(np.arange(6, dtype=np.float32)), "b": tgx.tensor([1, 2])}, path)
    return path, path.read_bytes()


def write_with_header(path, header, data=b""):
    h = json.dumps(header).encode() if isinstance(header, dict) else header
    path.write_bytes(struct.pack("<Q", len(h)) + h + data)


def test_truncated_files(tmp_path):
    path, raw = good_file(tmp_path)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(raw[:5])
    with pytest.raises(ValueError, match=r"bad\.safetensors.*too short"):
        tgx.load(bad)
    bad.write_bytes(raw[:20])
    with pytest.raises(ValueError, match=r"bad\.safetensors.*header size \d+ is beyond the file"):
        tgx.load(bad)
    bad.write_bytes(raw[:-4])
    with pytest.raises(ValueError, match=r"bad\.safetensors.*out of range"):
        tgx.load(bad)
    bad.write_bytes(b"\xff" * 8 + b"{}")
    with pytest.raises(ValueError, match="beyond the file"):
        tgx.load(bad)


def test_corrupt_headers(tmp_path):
    bad = tmp_path / "bad.safetensors"
    write_with_header(bad, b"{not json")
    with pytest.raises(ValueError, match=r"bad\.safetensors.*bad JSON header"):
        tgx.load(bad)
    write_with_header(bad, b"[1, 2]")
    with pytest.raises(ValueError, match="must be a JSON object"):
        tgx.load(bad)
    write_with_header(bad, {"x": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8)
    with pytest.raises(ValueError, match=r"tensor 'x'.*unknown or unsupported dtype 'C64'"):
        tgx.load(bad)
    write_with_header(bad, {"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8)
    with pytest.raises(ValueError, match=r"shape \(3,\) needs 12 bytes"):
        tgx.load(bad)
    write_with_header(
        bad, {"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4
    )
    with pytest.raises(ValueError, match="bad shape"):
        tgx.load(bad)
    write_with_header(bad, {"x": {"dtype": "F32", "shape": [1]}}, b"\0" * 4)
    with pytest.raises(ValueError, match="needs dtype, shape and data_offsets"):
        tgx.load(bad)
    write_with_header(
        bad,
        {
            "x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "y": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
        },
        b"\0" * 8,
    )
    with pytest.raises(ValueError, match="overlap"):
        tgx.load(bad)
    write_with_header(bad, {"__metadata__": {"format": 3}})
    with pytest.raises(ValueError, match="__metadata__"):
        tgx.load(bad)
    write_with_header(bad, {"__metadata__": {"tinygrad_ext.structure": "{oops"}})
    with pytest.raises(ValueError, match="structure"):
        tgx.load(bad)
    write_with_header(bad, {"__metadata__": {"tinygrad_ext.structure": '{"T": "gone"}'}})
    with pytest.raises(ValueError, match="'gone', which is missing"):
        tgx.load(bad)


def test_corrupt_npz_and_missing(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 garbage")
    with pytest.raises(ValueError, match=r"bad\.npz"):
        tgx.load(bad)
    with pytest.raises(FileNotFoundError):
        tgx.load(tmp_path / "nope.safetensors")
    obj = np.empty(2, dtype=object)
    np.save(tmp_path / "pickled.npy", obj, allow_pickle=True)
    np.savez(tmp_path / "pickled.npz", a=obj)
    with pytest.raises(ValueError, match=r"pickled\.npz.*allow_pickle"):  # never unpickles
        tgx.load(tmp_path / "pickled.npz")


# ---- interoperability with the safetensors package -----------------------------------------------
def test_interop_with_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    arrays = {f"t{i}": arr(d, (3, 2), i) for i, d in enumerate(DTYPES)}
    ours = tmp_path / "ours.safetensors"
    tgx.save({k: tgx.tensor(v) for k, v in arrays.items()}, ours)
    theirs_read = st.load_file(str(ours))
    for k, v in arrays.items():
        np.testing.assert_array_equal(theirs_read[k], v)
        assert theirs_read[k].dtype == v.dtype
    theirs = tmp_path / "theirs.safetensors"
    st.save_file(arrays, str(theirs), metadata={"who": "them"})
    back = tgx.load(theirs)
    for k, v in arrays.items():
        same(back[k], v)


def test_tensor_requiring_grad_is_saved_detached(tmp_path):
    w = tgx.tensor([1.0, -2.0])
    w.requires_grad_(True)
    tgx.save({"w": w}, tmp_path / "w.safetensors")
    back = tgx.load(tmp_path / "w.safetensors")["w"]
    assert back.tolist() == [1.0, -2.0] and not back.requires_grad
