"""Float64 NumPy references for the conv ops (shared by tests/test_conv.py and tests/opinfo_conv.py)."""

from __future__ import annotations

import numpy as np


def _tuple(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C, H, W) or (C, H, W), w (O, C/groups, kh, kw); padding int/tuple/'same'/'valid'."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    if x.ndim == 3:
        return conv2d(x[None], w, b, stride, padding, dilation, groups)[0]
    sh, sw = _tuple(stride, 2)
    dh, dw = _tuple(dilation, 2)
    kh, kw = w.shape[2:]
    if padding == "valid":
        padding = 0
    if padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = ((th // 2, th - th // 2), (tw // 2, tw - tw // 2))
    else:
        ph, pw = _tuple(padding, 2)
        pads = ((ph, ph), (pw, pw))
    xp = np.pad(x, ((0, 0), (0, 0)) + pads)
    n, c, hp, wp = xp.shape
    oh = (hp - dh * (kh - 1) - 1) // sh + 1
    ow = (wp - dw * (kw - 1) - 1) // sw + 1
    o = w.shape[0]
    cg, og = c // groups, o // groups
    out = np.zeros((n, o, oh, ow))
    for i in range(kh):
        for j in range(kw):
            win = xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
            for g in range(groups):
                out[:, g * og:(g + 1) * og] += np.einsum(
                    "nchw,oc->nohw", win[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og, :, i, j])
    if b is not None:
        out += np.asarray(b, np.float64)[None, :, None, None]
    return out


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    x, w = np.asarray(x), np.asarray(w)
    unbatched = x.ndim == 2
    x4 = (x[None] if unbatched else x)[:, :, None, :]
    pad = padding if isinstance(padding, str) else (0, _tuple(padding, 1)[0])
    out = conv2d(x4, w[:, :, None, :], b, (1, _tuple(stride, 1)[0]), pad,
                 (1, _tuple(dilation, 1)[0]), groups)[:, :, 0, :]
    return out[0] if unbatched else out


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """x (N, Cin, H, W) or (Cin, H, W), w (Cin, Cout/groups, kh, kw)."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    if x.ndim == 3:
        return conv_transpose2d(x[None], w, b, stride, padding, output_padding, groups, dilation)[0]
    sh, sw = _tuple(stride, 2)
    ph, pw = _tuple(padding, 2)
    oph, opw = _tuple(output_padding, 2)
    dh, dw = _tuple(dilation, 2)
    n, cin, h, wd = x.shape
    kh, kw = w.shape[2:]
    cog = w.shape[1]
    cig = cin // groups
    fh = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    fw = (wd - 1) * sw + dw * (kw - 1) + 1 + opw
    full = np.zeros((n, cog * groups, fh, fw))
    for i in range(kh):
        for j in range(kw):
            for g in range(groups):
                full[:, g * cog:(g + 1) * cog, i * dh:i * dh + sh * (h - 1) + 1:sh,
                     j * dw:j * dw + sw * (wd - 1) + 1:sw] += np.einsum(
                    "nchw,co->nohw", x[:, g * cig:(g + 1) * cig], w[g * cig:(g + 1) * cig, :, i, j])
    out = full[:, :, ph:fh - ph, pw:fw - pw]
    if b is not None:
        out = out + np.asarray(b, np.float64)[None, :, None, None]
    return out


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    x = np.asarray(x, np.float64)
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    kh, kw = _tuple(kernel_size, 2)
    dh, dw = _tuple(dilation, 2)
    ph, pw = _tuple(padding, 2)
    sh, sw = _tuple(stride, 2)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, hp, wp = xp.shape
    oh = (hp - dh * (kh - 1) - 1) // sh + 1
    ow = (wp - dw * (kw - 1) - 1) // sw + 1
    cols = np.zeros((n, c, kh, kw, oh, ow))
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                  j * dw:j * dw + sw * (ow - 1) + 1:sw]
    out = cols.reshape(n, c * kh * kw, oh * ow)
    return out[0] if unbatched else out


def fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    cols = np.asarray(cols, np.float64)
    unbatched = cols.ndim == 2
    cols = cols[None] if unbatched else cols
    h, w = _tuple(output_size, 2)
    kh, kw = _tuple(kernel_size, 2)
    dh, dw = _tuple(dilation, 2)
    ph, pw = _tuple(padding, 2)
    sh, sw = _tuple(stride, 2)
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    blocks = cols.reshape(n, c, kh, kw, oh, ow)
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
               j * dw:j * dw + sw * (ow - 1) + 1:sw] += blocks[:, :, i, j]
    out = xp[:, :, ph:ph + h, pw:pw + w]
    return out[0] if unbatched else out


def conv2d_stride1_maps(x, w, gy, pads, dilation=(1, 1), groups=1):
    """The three maps of a stride-1 conv in float64, straight from the definition: the output
    y, and for an output gradient gy the input gradient dx and weight gradient dw. pads =
    ((top, bottom), (left, right)), dilation = (dh, dw)."""
    x, w, gy = (np.asarray(a, np.float64) for a in (x, w, gy))
    n, c, _, _ = x.shape
    o, cg, kh, kw = w.shape
    og = o // groups
    dh, dw = dilation
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    oh, ow = xp.shape[2] - dh * (kh - 1), xp.shape[3] - dw * (kw - 1)
    y = np.zeros((n, o, oh, ow))
    dxp = np.zeros_like(xp)
    dwt = np.zeros_like(w)
    for g in range(groups):
        xs, os_ = slice(g * cg, (g + 1) * cg), slice(g * og, (g + 1) * og)
        for i in range(kh):
            for j in range(kw):
                win = xp[:, xs, i * dh:i * dh + oh, j * dw:j * dw + ow]  # (n, cg, oh, ow)
                y[:, os_] += np.einsum("nchw,oc->nohw", win, w[os_, :, i, j])
                dwt[os_, :, i, j] = np.einsum("nohw,nchw->oc", gy[:, os_], win)
                dxp[:, xs, i * dh:i * dh + oh, j * dw:j * dw + ow] += np.einsum(
                    "nohw,oc->nchw", gy[:, os_], w[os_, :, i, j])
    (t, _), (left, _) = pads
    dx = dxp[:, :, t:t + x.shape[2], left:left + x.shape[3]]
    return y, dx, dwt
