"""tinygrad_ext.utils.image: make_grid against a NumPy reference (and torchvision when installed),
save_image's PNG decoded with a small stdlib decoder (and PIL/matplotlib when installed)."""

from __future__ import annotations

import io
import os
import struct
import zlib

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext.utils.image import encode_png, make_grid, save_image

RNG = np.random.default_rng(0)


def decode_png(data: bytes) -> np.ndarray:
    """A minimal PNG decoder (8-bit, non-interlaced, all five filters): (H, W, C) uint8."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body), tag
        if tag == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        elif tag == b"IEND":
            break
        pos += 12 + length
    w, h, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0
    c = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + w * c)
    out = np.zeros((h, w * c), dtype=np.int32)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        prev = out[y - 1] if y else np.zeros(w * c, np.int32)
        cur = np.zeros(w * c, np.int32)
        for i in range(w * c):
            a = cur[i - c] if i >= c else 0
            b, d = prev[i], prev[i - c] if i >= c else 0
            if f == 0:
                pred = 0
            elif f == 1:
                pred = a
            elif f == 2:
                pred = b
            elif f == 3:
                pred = (a + b) // 2
            else:
                p = a + b - d
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - d)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else d)
            cur[i] = (line[i] + pred) & 0xFF
        out[y] = cur
    return out.reshape(h, w, c).astype(np.uint8)


def ref_grid(arr, nrow=8, padding=2, pad_value=0.0):
    b, c, h, w = arr.shape
    if b == 1:
        return arr[0]
    xm = min(nrow, b)
    ym = -(-b // xm)
    g = np.full((c, ym * (h + padding) + padding, xm * (w + padding) + padding), pad_value)
    for k in range(b):
        y, x = divmod(k, xm)
        g[:, padding + y * (h + padding) :][:, :h, padding + x * (w + padding) :][:, :, :w] = arr[k]
    return g


def to8(x):
    return np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8)


# ---- make_grid -----------------------------------------------------------------------------
def test_make_grid_layout_and_gray_to_rgb():
    x = RNG.uniform(size=(10, 1, 5, 4))
    g = make_grid(tgx.tensor(x.astype(np.float32)), nrow=4, padding=1, pad_value=0.5)
    assert isinstance(g, tgx.Tensor) and g.shape == (3, 3 * 6 + 1, 4 * 5 + 1)
    ref = ref_grid(np.repeat(x, 3, axis=1), nrow=4, padding=1, pad_value=0.5)
    np.testing.assert_allclose(g.numpy(), ref, rtol=1e-6)
    # NumPy in, NumPy out; a list of (C, H, W) images; a single image comes back unpadded
    gn = make_grid(x, nrow=4, padding=1, pad_value=0.5)
    assert isinstance(gn, np.ndarray)
    np.testing.assert_allclose(gn, ref)
    rgb = RNG.uniform(size=(3, 3, 5, 4))
    np.testing.assert_allclose(make_grid(list(rgb), nrow=2), ref_grid(rgb, nrow=2))
    assert make_grid(rgb[:1]).shape == (3, 5, 4)
    assert make_grid(RNG.uniform(size=(5, 4))).shape == (3, 5, 4)


def test_make_grid_normalize():
    x = RNG.normal(size=(2, 3, 4, 4)) * 3 + 1
    g = make_grid(x, normalize=True, padding=0)
    np.testing.assert_allclose(g, ref_grid((x - x.min()) / (x.max() - x.min()), padding=0))
    g = make_grid(x, normalize=True, value_range=(-1.0, 1.0), padding=0)
    np.testing.assert_allclose(g, ref_grid((np.clip(x, -1, 1) + 1) / 2, padding=0))
    g = make_grid(x, normalize=True, scale_each=True, padding=0)
    each = np.stack([(a - a.min()) / (a.max() - a.min()) for a in x])
    np.testing.assert_allclose(g, ref_grid(each, padding=0))
    with pytest.raises(TypeError, match=r"\[make_grid\] value_range"):
        make_grid(x, normalize=True, value_range=[0, 1])


def test_make_grid_against_torchvision():
    torch = pytest.importorskip("torch")
    tv = pytest.importorskip("torchvision.utils")
    x = RNG.uniform(size=(7, 1, 6, 5)).astype(np.float32)
    ours = make_grid(tgx.tensor(x), nrow=3, padding=2, normalize=True, pad_value=0.2).numpy()
    theirs = tv.make_grid(torch.tensor(x), nrow=3, padding=2, normalize=True, pad_value=0.2)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-6, atol=1e-7)


def test_make_grid_errors():
    with pytest.raises(ValueError, match=r"\[make_grid\].*got shape \(1, 2, 3, 4, 5\)"):
        make_grid(np.zeros((1, 2, 3, 4, 5)))
    with pytest.raises(ValueError, match=r"\[make_grid\].*got shape \(4,\)"):
        make_grid(tgx.zeros(4))
    with pytest.raises(ValueError, match=r"\[make_grid\] got an empty batch"):
        make_grid(np.zeros((0, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"\[make_grid\] got an empty list"):
        make_grid([])
    with pytest.raises(ValueError, match=r"\[make_grid\] all images must have the same shape"):
        make_grid([np.zeros((1, 3, 3)), np.zeros((1, 3, 4))])
    with pytest.raises(TypeError, match=r"\[make_grid\] expected a tinygrad_ext Tensor"):
        make_grid("image")
    with pytest.raises(ValueError, match=r"\[make_grid\] nrow"):
        make_grid(np.zeros((2, 1, 3, 3)), nrow=0)
    with pytest.raises(ValueError, match=r"\[make_grid\] padding"):
        make_grid(np.zeros((2, 1, 3, 3)), padding=-1)


# ---- save_image / PNG ----------------------------------------------------------------------
def test_save_image_gray_roundtrip(tmp_path):
    x = RNG.uniform(-0.1, 1.1, size=(6, 1, 8, 8))  # values outside [0, 1] are clamped
    path = tmp_path / "digits.png"
    save_image(tgx.tensor(x), path, nrow=3, padding=1)
    img = decode_png(path.read_bytes())
    ref = to8(ref_grid(x, nrow=3, padding=1))[0]
    assert img.shape == (2 * 9 + 1, 3 * 9 + 1, 1)
    np.testing.assert_array_equal(img[:, :, 0], ref)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]  # no temp file left


def test_save_image_rgb_rgba_and_single(tmp_path):
    x = RNG.uniform(size=(3, 5, 7))
    save_image(x, tmp_path / "one.png")
    np.testing.assert_array_equal(decode_png((tmp_path / "one.png").read_bytes()),
                                  to8(x).transpose(1, 2, 0))
    y = RNG.uniform(size=(3, 4, 2, 3))
    buf = io.BytesIO()
    save_image(tgx.tensor(y.astype(np.float32)), buf, nrow=2, padding=0, format="png")
    got = decode_png(buf.getvalue())
    ref = to8(ref_grid(y.astype(np.float32).astype(np.float64), nrow=2, padding=0))
    np.testing.assert_array_equal(got, ref.transpose(1, 2, 0))
    z = np.full((2, 3), 0.5)
    save_image(z, tmp_path / "hw.png")
    assert decode_png((tmp_path / "hw.png").read_bytes()).tolist() == [[[128]] * 3] * 2
    save_image(np.full((1, 1, 2, 2), np.nan), tmp_path / "nan.png")  # NaN becomes 0
    assert (decode_png((tmp_path / "nan.png").read_bytes()) == 0).all()


def test_save_image_normalize(tmp_path):
    x = RNG.normal(size=(4, 1, 3, 3))
    save_image(x, tmp_path / "n.png", normalize=True, padding=0, nrow=2)
    ref = to8(ref_grid((x - x.min()) / (x.max() - x.min()), nrow=2, padding=0))[0]
    np.testing.assert_array_equal(decode_png((tmp_path / "n.png").read_bytes())[:, :, 0], ref)


def test_png_readable_by_pil_and_matplotlib(tmp_path):
    x = RNG.uniform(size=(3, 9, 11))
    path = tmp_path / "rgb.png"
    save_image(x, path)
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        with Image.open(path) as im:
            assert im.mode == "RGB"
            np.testing.assert_array_equal(np.asarray(im), to8(x).transpose(1, 2, 0))
    mpl_image = pytest.importorskip("matplotlib.image")
    arr = mpl_image.imread(str(path))  # floats in [0, 1]
    np.testing.assert_array_equal(np.round(arr * 255).astype(np.uint8), to8(x).transpose(1, 2, 0))


def test_save_image_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\[save_image\] images must have 1, 3 or 4 channels"):
        save_image(np.zeros((2, 5, 3, 3)), tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"\[save_image\] only PNG.*'\.jpg'"):
        save_image(np.zeros((3, 3)), tmp_path / "x.jpg")
    with pytest.raises(ValueError, match=r"\[save_image\] only the PNG format.*jpeg"):
        save_image(np.zeros((3, 3)), io.BytesIO(), format="jpeg")
    with pytest.raises(ValueError, match=r"\[save_image\].*got shape \(3,\)"):
        save_image(np.zeros(3), tmp_path / "x.png")
    with pytest.raises(TypeError, match=r"\[save_image\] fp must be a path"):
        save_image(np.zeros((3, 3)), 42)
    with pytest.raises(ValueError, match=r"\[encode_png\] a PNG needs at least one pixel"):
        encode_png(np.zeros((0, 3), np.uint8))
    with pytest.raises(TypeError, match=r"\[encode_png\] expected a uint8 array"):
        encode_png(np.zeros((3, 3)))
    assert not list(tmp_path.iterdir())  # nothing written, no temp files


def test_save_image_replaces_atomically(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"old")
    save_image(np.ones((2, 2)), path)
    assert decode_png(path.read_bytes()).shape == (2, 2, 1)  # gray stays gray
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]
