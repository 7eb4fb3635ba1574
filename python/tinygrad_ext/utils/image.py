"""Image grids and PNG files: make_grid and save_image with torchvision.utils' semantics.

The PNG is written with the standard library (zlib + struct; 8-bit grayscale, RGB or RGBA) and
atomically (temporary file, fsync, rename), like tinygrad_ext.save.
"""

from __future__ import annotations

import math
import os
import struct
import zlib

import numpy as np

from .. import _C

__all__ = ["make_grid", "save_image", "encode_png", "write_png"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> gray, gray+alpha, RGB, RGBA


def _to_numpy(x, op: str) -> np.ndarray:
    if isinstance(x, _C.Tensor):
        return np.asarray(x.detach().numpy(), dtype=np.float64)
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise TypeError(f"[{op}] expected a numeric array, got dtype {x.dtype}")
        return x.astype(np.float64)
    raise TypeError(
        f"[{op}] expected a tinygrad_ext Tensor, a NumPy array or a list of them, "
        f"got {type(x).__name__}"
    )


def _as_batch(tensor, op: str) -> np.ndarray:
    """(B, C, H, W) float64 from a 2-D, 3-D or 4-D input or a list of 3-D (or 2-D) images."""
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise ValueError(f"[{op}] got an empty list of images")
        imgs = [_to_numpy(t, op) for t in tensor]
        shapes = {a.shape for a in imgs}
        if len(shapes) != 1:
            raise ValueError(f"[{op}] all images must have the same shape, got {sorted(shapes)}")
        if imgs[0].ndim not in (2, 3):
            raise ValueError(
                f"[{op}] a list must hold 2-D (H, W) or 3-D (C, H, W) images, got shape "
                f"{imgs[0].shape}"
            )
        arr = np.stack(imgs)
        if arr.ndim == 3:
            arr = arr[:, None]
        return arr
    arr = _to_numpy(tensor, op)
    if arr.ndim == 2:  # single image H x W
        arr = arr[None]
    if arr.ndim == 3:  # single image C x H x W
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(
            f"[{op}] expected a 2-D (H, W), 3-D (C, H, W) or 4-D (B, C, H, W) input, got shape "
            f"{arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"[{op}] got an empty batch of images, shape {arr.shape}")
    return arr


def _normalize(arr: np.ndarray, value_range, scale_each: bool, op: str) -> np.ndarray:
    if value_range is not None:
        if not (isinstance(value_range, tuple) and len(value_range) == 2):
            raise TypeError(
                f"[{op}] value_range has to be a tuple (min, max) if specified, got {value_range!r}"
            )

    def norm(img):
        low, high = value_range if value_range is not None else (img.min(), img.max())
        low, high = float(low), float(high)
        return (np.clip(img, low, high) - low) / max(high - low, 1e-5)

    arr = arr.copy()
    if scale_each:
        for i in range(arr.shape[0]):
            arr[i] = norm(arr[i])
        return arr
    return norm(arr)


def _grid(tensor, nrow, padding, normalize, value_range, scale_each, pad_value, op, keep_gray):
    if isinstance(nrow, bool) or not isinstance(nrow, int) or nrow < 1:
        raise ValueError(f"[{op}] nrow must be a positive int, got {nrow!r}")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"[{op}] padding must be a non-negative int, got {padding!r}")
    arr = _as_batch(tensor, op)
    if arr.shape[1] == 1 and not keep_gray:  # torchvision makes single-channel images RGB
        arr = np.repeat(arr, 3, axis=1)
    if normalize:
        arr = _normalize(arr, value_range, scale_each, op)
    b, c, h, w = arr.shape
    if b == 1:
        return arr[0]
    xmaps = min(nrow, b)
    ymaps = int(math.ceil(b / xmaps))
    height, width = h + padding, w + padding
    grid = np.full((c, height * ymaps + padding, width * xmaps + padding), float(pad_value))
    for k in range(b):
        y, x = divmod(k, xmaps)
        top, left = y * height + padding, x * width + padding
        grid[:, top : top + h, left : left + w] = arr[k]
    return grid


def make_grid(
    tensor,
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    value_range: tuple | None = None,
    scale_each: bool = False,
    pad_value: float = 0.0,
):
    """Tiles a batch (B, C, H, W) (or a list of (C, H, W) images) into one (C, H', W') image
    with ``nrow`` images per row and ``padding`` pixels of ``pad_value`` between them.

    Single-channel images become 3-channel, as torchvision's. ``normalize`` shifts and scales to
    [0, 1] by ``value_range`` (clamped first) or by the min and max (per image with
    ``scale_each``). Returns a Tensor (float32), or a NumPy array when given NumPy input.
    """
    grid = _grid(tensor, nrow, padding, normalize, value_range, scale_each, pad_value,
                 "make_grid", keep_gray=False)
    first = tensor[0] if isinstance(tensor, (list, tuple)) else tensor
    if isinstance(first, np.ndarray):
        return grid.astype(first.dtype if first.dtype.kind == "f" else np.float32)
    return _C.tensor(np.ascontiguousarray(grid, dtype=np.float32))


def encode_png(image) -> bytes:
    """PNG bytes for an 8-bit image: uint8 array (H, W) gray, (H, W, 1|2|3|4) channels last."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise TypeError(f"[encode_png] expected a uint8 array, got dtype {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in _COLOR_TYPE:
        raise ValueError(
            f"[encode_png] expected shape (H, W) or (H, W, C) with C in 1..4, got {img.shape}"
        )
    h, w, c = img.shape
    if h == 0 or w == 0:
        raise ValueError(f"[encode_png] a PNG needs at least one pixel, got shape {img.shape}")
    if h > 2**31 - 1 or w > 2**31 - 1:
        raise ValueError(f"[encode_png] image too large for PNG: {img.shape}")
    raw = np.zeros((h, 1 + w * c), dtype=np.uint8)  # filter byte 0 (None) per scanline
    raw[:, 1:] = img.reshape(h, w * c)

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, _COLOR_TYPE[c], 0, 0, 0)
    return b"".join(
        [
            _PNG_SIGNATURE,
            chunk(b"IHDR", ihdr),
            chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
            chunk(b"IEND", b""),
        ]
    )


def write_png(fp, image) -> None:
    """Writes encode_png(image) to a path (atomically) or to a binary file object."""
    data = encode_png(image)
    if isinstance(fp, (str, os.PathLike)):
        from ..serialization import _atomic_write

        _atomic_write(os.fspath(fp), lambda f: f.write(data))
    elif hasattr(fp, "write"):
        fp.write(data)
    else:
        raise TypeError(f"[save_image] fp must be a path or a binary file object, got {fp!r}")


def save_image(
    tensor,
    fp,
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    value_range: tuple | None = None,
    scale_each: bool = False,
    pad_value: float = 0.0,
    format: str | None = None,
) -> None:
    """Saves a tensor (or a batch, tiled by make_grid) as a PNG file.

    Values are expected in [0, 1] (or use ``normalize``); pixels are ``x * 255 + 0.5`` clamped
    and truncated to 8 bits, as torchvision's. Single-channel input is written as an 8-bit
    grayscale PNG, 3 and 4 channels as RGB and RGBA. ``fp`` is a path (written atomically) or a
    binary file object. Only PNG is supported.
    """
    fmt = format
    if fmt is None and isinstance(fp, (str, os.PathLike)):
        ext = os.path.splitext(os.fspath(fp))[1].lower()
        if ext and ext != ".png":
            raise ValueError(f"[save_image] only PNG files can be written, got extension {ext!r}")
    if fmt is not None and str(fmt).lower() != "png":
        raise ValueError(f"[save_image] only the PNG format is supported, got format={fmt!r}")
    grid = _grid(tensor, nrow, padding, normalize, value_range, scale_each, pad_value,
                 "save_image", keep_gray=True)
    if grid.shape[0] not in (1, 3, 4):
        raise ValueError(
            f"[save_image] images must have 1, 3 or 4 channels, got {grid.shape[0]} "
            f"(grid shape {grid.shape})"
        )
    pixels = np.nan_to_num(grid * 255.0 + 0.5, nan=0.0)
    pixels = np.clip(pixels, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    write_png(fp, pixels)
