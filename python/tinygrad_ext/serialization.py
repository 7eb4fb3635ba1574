"""``tinygrad_ext.save`` / ``tinygrad_ext.load``: state dicts in the safetensors format (or .npz).

Nothing is ever unpickled. A file holds tensors plus a JSON description of the object around them:

* safetensors (default): 8-byte little-endian header length N, N bytes of JSON
  ``{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
  "__metadata__": {"format": "tinygrad_ext", "tinygrad_ext.structure": "<json>"}}``
  (padded with spaces to a multiple of 8), then the raw little-endian bytes. A flat dict of
  tensors keeps its keys as tensor names, so the file is a normal safetensors file for other tools.
* ``.npz`` (when the path ends with .npz): one array per tensor plus the structure as UTF-8 bytes
  in ``__tinygrad_ext_structure__``; read back with ``np.load(..., allow_pickle=False)``.

The structure is a tree: {"T": name} a tensor ({"A": name} a NumPy array), {"D": [[key, node]...]}
a dict (keys str/int/float/bool/None), {"L": [...]} a list, {"U": [...]} a tuple, {"V": value}
a number, string, bool or None. Writes are atomic: a temporary file in the same directory is
written, flushed, fsync'ed and renamed over the target, so a failed save leaves the old file intact.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import struct
from typing import Any

import numpy as np

from . import _C
from ._C import Tensor

__all__ = ["save", "load", "save_file", "load_file"]

_FORMAT = "tinygrad_ext"
_STRUCT_KEY = "tinygrad_ext.structure"
_NPZ_STRUCT = "__tinygrad_ext_structure__"
_MAX_HEADER = 100_000_000  # safetensors' own limit on the JSON header

# safetensors code -> little-endian NumPy dtype; F16/BF16 are read (as float32) but never written
_CODES = {"BOOL": "|b1", "U8": "|u1", "I32": "<i4", "I64": "<i8", "F32": "<f4", "F64": "<f8"}
_READ_ONLY = {"F16": "<f2", "BF16": "<u2"}
_TO_CODE = {
    "bool": "BOOL",
    "uint8": "U8",
    "int32": "I32",
    "int64": "I64",
    "float32": "F32",
    "float64": "F64",
}


# ---- flattening ----------------------------------------------------------------------------------
class _Flattener:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def name_for(self, path: list[str]) -> str:
        base = ".".join(path) if path else "tensor"
        name, i = base, 1
        while name in self.arrays or name == "__metadata__" or name == _NPZ_STRUCT:
            name = f"{base}#{i}"
            i += 1
        return name

    def node(self, obj: Any, path: list[str]) -> dict:
        if isinstance(obj, Tensor):
            name = self.name_for(path)
            self.arrays[name] = _tensor_to_numpy(obj)
            return {"T": name}
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind not in "biuf" or obj.dtype.name not in _TO_CODE:
                raise TypeError(f"[save] can't save a NumPy array of dtype {obj.dtype}")
            name = self.name_for(path)
            self.arrays[name] = np.asarray(obj, order="C")
            return {"A": name}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if isinstance(k, np.generic):
                    k = k.item()
                if k is not None and not isinstance(k, (str, int, float, bool)):
                    raise TypeError(
                        f"[save] dict keys must be str, int, float, bool or None, got "
                        f"{type(k).__name__}"
                    )
                items.append([k, self.node(v, path + [str(k)])])
            return {"D": items}
        if isinstance(obj, (list, tuple)):
            kids = [self.node(v, path + [str(i)]) for i, v in enumerate(obj)]
            return {"U": kids} if isinstance(obj, tuple) else {"L": kids}
        if isinstance(obj, np.generic):
            obj = obj.item()
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return {"V": obj}
        raise TypeError(
            f"[save] can't save an object of type {type(obj).__name__}: only tensors, NumPy "
            "arrays, "
            "numbers, strings, None and dicts/lists/tuples of them are supported"
        )


def _tensor_to_numpy(t: Tensor) -> np.ndarray:
    if getattr(t, "requires_grad", False):
        t = t.detach()
    a = np.asarray(t.numpy())
    return np.asarray(a, order="C")


def _unflatten(node: Any, tensors: dict[str, np.ndarray], where: str) -> Any:
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"[load] {where}: malformed structure entry {node!r:.80}")
    ((kind, val),) = node.items()
    if kind in ("T", "A"):
        if val not in tensors:
            raise ValueError(f"[load] {where}: structure names tensor {val!r}, which is missing")
        arr = tensors[val]
        return _C.tensor(arr) if kind == "T" else arr.copy()
    if kind == "D":
        out = {}
        for item in val:
            if not isinstance(item, list) or len(item) != 2:
                raise ValueError(f"[load] {where}: malformed dict entry {item!r:.80}")
            out[item[0]] = _unflatten(item[1], tensors, where)
        return out
    if kind == "L":
        return [_unflatten(v, tensors, where) for v in val]
    if kind == "U":
        return tuple(_unflatten(v, tensors, where) for v in val)
    if kind == "V":
        return val
    raise ValueError(f"[load] {where}: unknown structure kind {kind!r}")


# ---- safetensors bytes ---------------------------------------------------------------------------
def _safetensors_chunks(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> list:
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    datas = []
    for name, a in arrays.items():
        code = _TO_CODE.get(a.dtype.name)
        if code is None:
            raise TypeError(f"[save] unsupported dtype {a.dtype} for tensor {name!r}")
        data = np.asarray(a, dtype=np.dtype(_CODES[code]), order="C")
        n = data.nbytes
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + n]}
        offset += n
        datas.append(data)
    text = json.dumps(header, separators=(",", ":"), allow_nan=True).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)  # align the data section to 8 bytes
    chunks = [struct.pack("<Q", len(text)), text]
    chunks.extend(memoryview(d.reshape(-1).view(np.uint8)) for d in datas if d.nbytes)
    return chunks


def _parse_safetensors(buf: bytes, where: str):
    """Returns (arrays by name in file order, metadata dict). Validates everything first."""
    size = len(buf)
    if size < 8:
        raise ValueError(
            f"[load] {where}: file is too short ({size} bytes) to hold a safetensors header size"
        )
    (n,) = struct.unpack("<Q", buf[:8])
    if n > _MAX_HEADER or 8 + n > size:
        raise ValueError(
            f"[load] {where}: header size {n} is beyond the file size {size} "
            "(truncated or not a safetensors file)"
        )
    try:
        header = json.loads(bytes(buf[8 : 8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"[load] {where}: bad JSON header ({e})") from None
    if not isinstance(header, dict):
        raise ValueError(
            f"[load] {where}: header must be a JSON object, got {type(header).__name__}"
        )
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ValueError(f"[load] {where}: __metadata__ must map strings to strings")
    data = memoryview(buf)[8 + n :]
    arrays: dict[str, np.ndarray] = {}
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            raise ValueError(f"[load] {where}: tensor {name!r} needs dtype, shape and data_offsets")
        code, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if code in _CODES:
            dt = np.dtype(_CODES[code])
        elif code in _READ_ONLY:
            dt = np.dtype(_READ_ONLY[code])
        else:
            raise ValueError(
                f"[load] {where}: tensor {name!r} has unknown or unsupported dtype "
                f"{code!r} (supported: {', '.join([*_CODES, *_READ_ONLY])})"
            )
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise ValueError(f"[load] {where}: tensor {name!r} has a bad shape {shape!r}")
        if (
            not isinstance(offs, list)
            or len(offs) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offs)
        ):
            raise ValueError(f"[load] {where}: tensor {name!r} has bad data_offsets {offs!r}")
        b, e = offs
        if not 0 <= b <= e <= len(data):
            raise ValueError(
                f"[load] {where}: tensor {name!r} data_offsets [{b}, {e}] are out of "
                f"range for a data section of {len(data)} bytes (truncated file?)"
            )
        numel = math.prod(shape)
        if (e - b) != numel * dt.itemsize:
            raise ValueError(
                f"[load] {where}: tensor {name!r} of dtype {code} and shape "
                f"{tuple(shape)} needs {numel * dt.itemsize} bytes, data_offsets give "
                f"{e - b}"
            )
        entries.append((b, e, name))
        arr = np.frombuffer(data[b:e], dtype=dt).reshape(shape)
        if code == "F16":
            arr = arr.astype(np.float32)
        elif code == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        arrays[name] = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    entries.sort()
    for (_b0, e0, n0), (b1, _e1, n1) in zip(entries, entries[1:]):
        if b1 < e0:
            raise ValueError(
                f"[load] {where}: tensors {n0!r} and {n1!r} overlap in the data section"
            )
    arrays = {name: arrays[name] for _b, _e, name in entries}  # file order
    return arrays, metadata


# ---- files ---------------------------------------------------------------------------------------
def _write_chunks(f, chunks) -> None:
    for c in chunks:
        f.write(c)


def _fsync_dir(directory: str) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path: str, write) -> None:
    """Calls write(f) on a temporary file next to path, then renames it over path."""
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    mode = None
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
            )  # the umask applies, as for a plain open()
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover
        raise FileExistsError(f"[save] could not create a temporary file in {directory}")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _is_npz(f) -> bool:
    return isinstance(f, (str, os.PathLike)) and os.fspath(f).lower().endswith(".npz")


def save(obj: Any, f, *, metadata: dict[str, str] | None = None) -> None:
    """Saves a tensor or a (nested) dict/list/tuple of tensors, arrays and numbers to ``f``.

    ``f`` is a path (``.npz`` selects NumPy's format, anything else safetensors) or a binary
    file object (safetensors). Paths are written atomically. ``metadata`` adds string entries to
    the safetensors ``__metadata__``.
    """
    flat = _Flattener()
    structure = flat.node(obj, [])
    struct_json = json.dumps(structure, separators=(",", ":"), allow_nan=True)
    if _is_npz(f):
        arrays = dict(flat.arrays)
        arrays[_NPZ_STRUCT] = np.frombuffer(struct_json.encode("utf-8"), dtype=np.uint8)
        _atomic_write(os.fspath(f), lambda fh: np.savez(fh, **arrays))
        return
    meta = {"format": _FORMAT, _STRUCT_KEY: struct_json}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("[save] metadata must map strings to strings")
            meta[k] = v
    chunks = _safetensors_chunks(flat.arrays, meta)
    if hasattr(f, "write"):
        _write_chunks(f, chunks)
    else:
        _atomic_write(os.fspath(f), lambda fh: _write_chunks(fh, chunks))


def load(f, map_location=None, *, weights_only: bool = True) -> Any:
    """Loads what :func:`save` wrote (tensors come back as new tensors, never views of the file).

    A safetensors file written by another tool (no tinygrad_ext structure) loads as a dict from
    tensor name to tensor, in file order; likewise a foreign .npz (numeric arrays only).
    ``map_location`` may be None or "cpu"; ``weights_only`` is accepted for PyTorch compatibility
    (loading never runs code).
    """
    if map_location not in (None, "cpu"):
        raise NotImplementedError(f"[load] map_location={map_location!r}: only 'cpu' is supported")
    if _is_npz(f):
        return _load_npz(os.fspath(f))
    if hasattr(f, "read"):
        where = repr(getattr(f, "name", "<file object>"))
        buf = f.read()
    else:
        where = repr(os.fspath(f))
        with open(f, "rb") as fh:
            buf = fh.read()
    arrays, metadata = _parse_safetensors(buf, where)
    if _STRUCT_KEY not in metadata:
        return {name: _C.tensor(a) for name, a in arrays.items()}
    try:
        structure = json.loads(metadata[_STRUCT_KEY])
    except json.JSONDecodeError as e:
        raise ValueError(f"[load] {where}: bad JSON in the structure metadata ({e})") from None
    return _unflatten(structure, arrays, where)


def _load_npz(path: str) -> Any:
    where = repr(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except Exception as e:  # BadZipFile, zlib.error, a pickled (object) array, a short read ...
        raise ValueError(f"[load] {where}: not a readable .npz file ({e})") from None
    raw = arrays.pop(_NPZ_STRUCT, None)
    for name, a in arrays.items():
        if a.dtype.name not in _TO_CODE:
            raise ValueError(f"[load] {where}: array {name!r} has unsupported dtype {a.dtype}")
    if raw is None:
        return {name: _C.tensor(a) for name, a in arrays.items()}
    try:
        structure = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"[load] {where}: bad JSON in the structure entry ({e})") from None
    return _unflatten(structure, arrays, where)


def save_file(tensors: dict[str, Tensor], filename, metadata: dict[str, str] | None = None) -> None:
    """safetensors' ``save_file``: a flat dict of named tensors (no structure entry needed)."""
    if not isinstance(tensors, dict) or not all(
        isinstance(k, str) and isinstance(v, Tensor) for k, v in tensors.items()
    ):
        raise TypeError("[save_file] expects a dict from str to Tensor")
    arrays = {k: _tensor_to_numpy(v) for k, v in tensors.items()}
    chunks = _safetensors_chunks(arrays, dict(metadata or {}))
    _atomic_write(os.fspath(filename), lambda fh: _write_chunks(fh, chunks))


def load_file(filename) -> dict[str, Tensor]:
    """safetensors' ``load_file``: a dict from tensor name to tensor (ignores any structure)."""
    with open(filename, "rb") as fh:
        buf = fh.read()
    arrays, _ = _parse_safetensors(buf, repr(os.fspath(filename)))
    return {name: _C.tensor(a) for name, a in arrays.items()}
