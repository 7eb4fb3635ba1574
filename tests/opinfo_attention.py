"""OpInfo registry entries for the attention ops (imported at the end of tests/opinfo.py)."""

import numpy as np
from opinfo import FLOAT, INT, OpInfo, Sample, add, rand  # noqa: F401


def sdpa_ref(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """float64 NumPy scaled_dot_product_attention; rows with every key masked give 0."""
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
    L, S = s.shape[-2:]
    if is_causal:
        attn_mask = np.tril(np.ones((L, S), bool))
    if attn_mask is not None:
        s = np.where(attn_mask, s, -np.inf) if attn_mask.dtype == bool else s + attn_mask
    if S == 0:
        p = s
    else:
        m = s.max(-1, keepdims=True)
        dead = m == -np.inf
        e = np.exp(s - np.where(dead, 0.0, m))
        p = np.where(dead, 0.0, e / np.where(dead, 1.0, e.sum(-1, keepdims=True)))
    return np.matmul(p, v)


def _sdpa_samples(info, dtype, rng):
    def r(*shape):
        return rand(rng, shape, dtype)

    yield Sample((r(3, 4), r(5, 4), r(5, 2)), desc="unbatched")
    yield Sample((r(2, 3, 4, 4), r(2, 3, 5, 4), r(2, 3, 5, 3)), desc="batch x heads")
    yield Sample((r(2, 3, 4, 4), r(3, 5, 4), r(1, 5, 2)), desc="broadcast batch")
    yield Sample((r(2, 4, 3), r(2, 5, 3), r(2, 5, 3)),
                 {"attn_mask": rng.random((4, 5)) < 0.7}, desc="bool mask")
    yield Sample((r(2, 4, 3), r(2, 5, 3), r(2, 5, 3)), {"attn_mask": r(2, 1, 5)},
                 desc="float mask broadcast")
    yield Sample((r(2, 5, 3), r(2, 5, 3), r(2, 5, 2)), {"is_causal": True}, desc="causal")
    yield Sample((r(2, 4, 3), r(2, 6, 3), r(2, 6, 3)), {"scale": 0.7}, desc="scale")
    yield Sample((r(2, 0, 3), r(2, 5, 3), r(2, 5, 3)), desc="empty L")
    yield Sample((r(2, 4, 3), r(2, 0, 3), r(2, 0, 2)), desc="empty S")
    for layout in ("transpose", "strided", "flip"):
        yield Sample((r(4, 6), r(5, 6), r(5, 4)), desc=layout, layout=layout)


add(OpInfo(
    "scaled_dot_product_attention",
    lambda L, q, k, v, **kw: L.nn.functional.scaled_dot_product_attention(q, k, v, **kw),
    sdpa_ref, dtypes=FLOAT, unsupported=INT, sample_fn=_sdpa_samples,
    available=("scaled_dot_product_attention",), kind="attention", special=False,
    tols={"float32": (1e-5, 1e-5), "float64": (1e-12, 1e-12)},
))
