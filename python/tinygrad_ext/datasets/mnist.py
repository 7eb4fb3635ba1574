"""IDX files (the MNIST / Fashion-MNIST format): a reader and a loader for the standard layout.

Nothing is downloaded: put the four files (optionally gzipped) in a directory and point
:func:`load_mnist` at it.
"""

from __future__ import annotations

import gzip
import math
import os

import numpy as np

from .. import _C

__all__ = ["read_idx", "load_mnist", "MNIST_FILES", "FASHION_MNIST_CLASSES"]

# IDX type byte -> big-endian NumPy dtype
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# our tensor dtype for each (int8 / int16 widen to int32)
_NATIVE = {
    0x08: np.uint8,
    0x09: np.int32,
    0x0B: np.int32,
    0x0C: np.int32,
    0x0D: np.float32,
    0x0E: np.float64,
}

MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


def _read_bytes(path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"[read_idx] {os.fspath(path)!r}: corrupt gzip data ({e})") from None
    return raw


def read_idx(path) -> _C.Tensor:
    """Reads one IDX file (raw or gzip-compressed) into a tensor of its shape.

    The header is two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, then each dimension as a big-endian
    uint32. uint8 stays uint8; int8/int16 widen to int32.
    """
    where = repr(os.fspath(path))
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"[read_idx] {where}: file too short for an IDX header ({len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"[read_idx] {where}: not an IDX file (magic must start with two zero "
            f"bytes, got {raw[:4].hex()})"
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"[read_idx] {where}: unknown IDX data type byte 0x{code:02x}")
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise ValueError(
            f"[read_idx] {where}: truncated header ({ndim} dimensions need {head} "
            f"bytes, file has {len(raw)})"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dt = _IDX_TYPES[code]
    need = math.prod(shape) * dt.itemsize
    have = len(raw) - head
    if have != need:
        raise ValueError(
            f"[read_idx] {where}: shape {shape} of {dt.name} needs {need} data bytes, "
            f"file has {have} ({'truncated' if have < need else 'trailing bytes'})"
        )
    arr = np.frombuffer(raw, dt, count=math.prod(shape), offset=head).reshape(shape)
    return _C.tensor(arr.astype(_NATIVE[code]))


_SUBDIRS = {
    "mnist": ["", "MNIST/raw", "MNIST", "mnist"],
    "fashion": [
        "",
        "FashionMNIST/raw",
        "FashionMNIST",
        "fashion-mnist",
        "fashion_mnist",
        "fashion",
    ],
}


def _find(root: str, stem: str, subdirs: list) -> str | None:
    for sub in subdirs:
        for name in (stem, stem + ".gz"):
            p = os.path.join(root, sub, name)
            if os.path.isfile(p):
                return p
    return None


def load_mnist(root, train: bool = True, kind: str = "mnist"):
    """Loads MNIST or Fashion-MNIST from the standard IDX files under ``root``.

    Looks for ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (``train=True``) or
    ``t10k-images-idx3-ubyte`` / ``t10k-labels-idx1-ubyte``, each raw or ``.gz``, in ``root``
    and in the usual sub-directories (``MNIST/raw``, ``FashionMNIST/raw``, ``fashion-mnist``...).
    Returns ``(images, labels)``: uint8 N x 28 x 28 and int64 N (use ``images.float() / 255``).
    """
    if kind not in _SUBDIRS:
        raise ValueError(f"[load_mnist] kind must be 'mnist' or 'fashion', got {kind!r}")
    root = os.fspath(root)
    stems = MNIST_FILES[bool(train)]
    paths = [_find(root, s, _SUBDIRS[kind]) for s in stems]
    if None in paths:
        missing = [s for s, p in zip(stems, paths) if p is None]
        dirs = ", ".join(repr(os.path.join(root, d)) for d in _SUBDIRS[kind])
        raise FileNotFoundError(
            f"[load_mnist] {kind} {'train' if train else 'test'} files not found: expected "
            f"{' and '.join(missing)} (raw or .gz) in one of {dirs}. No download is attempted: "
            "copy the four IDX files of the data set there."
        )
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.dim() != 3 or labels.dim() != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"[load_mnist] {paths[0]!r} and {paths[1]!r}: expected N x H x W images "
            f"and N labels, got shapes {images.shape} and {labels.shape}"
        )
    return images, labels.long()
