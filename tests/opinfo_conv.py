"""OpInfo registry entries for the conv ops (imported at the end of tests/opinfo.py).

Samples stay small (every float input <= 256 elements) so that the autograd sweep's full
Jacobians stay cheap; tests/test_conv.py covers larger and odder cases.
"""

import conv_ref
from opinfo import FLOAT, VIEW_LAYOUTS, OpInfo, Sample, add, rand  # noqa: F401

_TOLS = {"float32": (1e-4, 1e-5), "float64": (1e-12, 1e-12)}
_UNSUPPORTED = ("int32", "int64")


def _F(L):
    return L.nn.functional


def _conv2d_samples(info, dtype, rng):
    cases = [  # (x, w, bias?, kwargs)
        ((2, 3, 5, 4), (4, 3, 3, 2), True, {}),
        ((1, 4, 6, 5), (4, 2, 3, 3), True, {"stride": 2, "padding": 1, "groups": 2}),
        ((2, 2, 7, 5), (3, 2, 2, 2), False, {"stride": (2, 1), "padding": (1, 0), "dilation": (2, 1)}),
        ((1, 3, 5, 5), (6, 1, 3, 3), True, {"padding": "same", "groups": 3}),  # depthwise
        ((2, 3, 4, 4), (2, 3, 1, 1), True, {"padding": "valid"}),
        ((0, 3, 4, 4), (2, 3, 3, 3), True, {}),
        ((3, 4, 4), (2, 3, 2, 2), True, {"padding": 1}),  # unbatched
    ]
    for xs, ws, bias, kw in cases:
        args = (rand(rng, xs, dtype), rand(rng, ws, dtype), rand(rng, (ws[0],), dtype) if bias else None)
        yield Sample(args, dict(kw), desc=f"x{xs} w{ws} {kw}")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (2, 2, 4, 5), dtype), rand(rng, (3, 2, 2, 3), dtype),
                      rand(rng, (3,), dtype)), {"padding": 1}, desc=layout, layout=layout)


def _conv1d_samples(info, dtype, rng):
    for xs, ws, kw in [((2, 3, 7), (4, 3, 3), {}), ((1, 4, 9), (4, 2, 2), {"stride": 2, "groups": 2}),
                       ((2, 2, 6), (3, 2, 3), {"padding": "same", "dilation": 2}),
                       ((3, 8), (2, 3, 3), {"padding": 2})]:
        yield Sample((rand(rng, xs, dtype), rand(rng, ws, dtype), rand(rng, (ws[0],), dtype)), kw,
                     desc=f"x{xs} w{ws} {kw}")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (2, 3, 6), dtype), rand(rng, (2, 3, 2), dtype), None), {},
                     desc=layout, layout=layout)


def _conv_t_samples(info, dtype, rng):
    cases = [
        ((2, 3, 3, 4), (3, 2, 3, 2), True, {}),
        ((1, 4, 3, 3), (4, 2, 3, 3), True, {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
        ((1, 2, 3, 2), (2, 3, 2, 2), False, {"stride": (2, 3), "output_padding": (1, 2), "dilation": (1, 2)}),
        ((2, 2, 2, 2), (2, 1, 3, 3), True, {"padding": 1, "dilation": 2, "output_padding": 1}),
    ]
    for xs, ws, bias, kw in cases:
        cout = ws[1] * kw.get("groups", 1)
        yield Sample((rand(rng, xs, dtype), rand(rng, ws, dtype),
                      rand(rng, (cout,), dtype) if bias else None), dict(kw), desc=f"x{xs} w{ws} {kw}")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (2, 2, 3, 3), dtype), rand(rng, (2, 3, 2, 2), dtype),
                      rand(rng, (3,), dtype)), {"stride": 2}, desc=layout, layout=layout)


def _unfold_samples(info, dtype, rng):
    for xs, kw in [((2, 3, 4, 5), {"kernel_size": 2}),
                   ((1, 2, 5, 6), {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1, "stride": 2}),
                   ((2, 4, 4), {"kernel_size": 3, "padding": 1})]:
        yield Sample((rand(rng, xs, dtype),), kw, desc=f"{xs} {kw}")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (2, 2, 4, 3), dtype),), {"kernel_size": 2}, desc=layout, layout=layout)


def _fold_samples(info, dtype, rng):
    for xs, kw in [((2, 12, 12), {"output_size": (4, 5), "kernel_size": 2}),
                   ((1, 12, 6), {"output_size": (5, 6), "kernel_size": (2, 3), "dilation": (1, 2),
                                 "padding": 1, "stride": 2}),
                   ((18, 16), {"output_size": 4, "kernel_size": 3, "padding": 1})]:
        yield Sample((rand(rng, xs, dtype),), kw, desc=f"{xs} {kw}")
    for layout in VIEW_LAYOUTS:
        yield Sample((rand(rng, (2, 8, 6), dtype),), {"output_size": (3, 4), "kernel_size": 2},
                     desc=layout, layout=layout)


def _entry(name, op, ref, samples):
    add(OpInfo(name, op, ref, dtypes=FLOAT, unsupported=_UNSUPPORTED, sample_fn=samples,
               available=(name,) if name.startswith("conv") else ("conv2d",), kind="conv",
               special=False, tols=_TOLS))


_entry("conv2d", lambda L, x, w, b, **k: L.conv2d(x, w, b, **k), conv_ref.conv2d, _conv2d_samples)
_entry("conv1d", lambda L, x, w, b, **k: L.conv1d(x, w, b, **k), conv_ref.conv1d, _conv1d_samples)
_entry("conv_transpose2d", lambda L, x, w, b, **k: L.conv_transpose2d(x, w, b, **k),
       conv_ref.conv_transpose2d, _conv_t_samples)
_entry("unfold", lambda L, x, **k: _F(L).unfold(x, **k), conv_ref.unfold, _unfold_samples)
_entry("fold", lambda L, x, **k: _F(L).fold(x, **k), conv_ref.fold, _fold_samples)
