"""nn.functional: scaled_dot_product_attention, multi_head_attention_forward (re-exported).

scaled_dot_product_attention is the fused C++ op (_C.scaled_dot_product_attention: one GEMM,
masked max-subtracted softmax and GEMM per (batch, head) block). multi_head_attention_forward
follows torch.nn.functional's signature and layout (sequence first: (L, N, E) or unbatched
(L, E)) and calls the same primitive (_C._sdpa_math), which also returns the attention weights.
"""

from __future__ import annotations

import math

from .. import _C

Tensor = _C.Tensor

__all__ = [
    "scaled_dot_product_attention",
    "multi_head_attention_forward",
    "sinusoidal_positional_encoding",
]


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(query @ key^T * scale + attn_mask) @ value over the last two dims (PyTorch's).

    query (..., L, E), key (..., S, E), value (..., S, Ev); batch dims broadcast. attn_mask: bool
    (True = take part in attention) or float (added to the scores), broadcastable to (..., L, S).
    is_causal masks key j > query i. scale defaults to 1/sqrt(E). dropout_p drops attention
    probabilities (always applied when > 0, as in PyTorch: pass 0.0 in eval mode). A query whose
    every key is masked gets zeros (PyTorch's safe softmax).
    """
    return _C.scaled_dot_product_attention(
        query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa
    )


def sinusoidal_positional_encoding(seq_len: int, d_model: int, dtype=None) -> Tensor:
    """The fixed encoding of "Attention Is All You Need" (d2l's PositionalEncoding table):
    P[pos, 2i] = sin(pos / 10000^(2i/d)), P[pos, 2i+1] = cos(pos / 10000^(2i/d)); (seq_len, d)."""
    import numpy as np

    if seq_len < 0 or d_model < 0:
        raise ValueError(
            f"[sinusoidal_positional_encoding] sizes must be >= 0, got ({seq_len}, {d_model})"
        )
    pos = np.arange(seq_len, dtype=np.float64)[:, None]
    div = np.power(10000.0, np.arange(0, d_model, 2, dtype=np.float64) / max(d_model, 1))
    table = np.zeros((seq_len, d_model))
    table[:, 0::2] = np.sin(pos / div)
    table[:, 1::2] = np.cos(pos / div)[:, : d_model // 2]
    return _C.tensor(table, dtype=dtype or _C.float32)


# ---- multi-head attention -------------------------------------------------------------------
def _canonical_mask(mask, name: str, dtype):
    """Bool masks (True = masked out, the nn.MultiheadAttention convention) or float (added)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"[multi_head_attention_forward] {name} must be a Tensor or None")
    if mask.dtype == _C.bool:
        return mask
    if mask.dtype not in (_C.float32, _C.float64):
        raise TypeError(
            f"[multi_head_attention_forward] only bool and floating types of {name} are "
            f"supported, got {mask.dtype}"
        )
    return mask.to(dtype)


def _merge_masks(attn_mask, key_padding_mask, bsz, num_heads, tgt_len, src_len, dtype):
    """One mask of shape broadcastable to (N, H, L, S) for the attention primitive: bool with
    True = attend when both are bool (or one is None), else float (additive, -inf for masked)."""
    masks = []
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ValueError(
                    f"[multi_head_attention_forward] the shape of the 2D attn_mask is "
                    f"{tuple(attn_mask.shape)}, but should be {(tgt_len, src_len)}."
                )
            m = attn_mask
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise ValueError(
                    f"[multi_head_attention_forward] the shape of the 3D attn_mask is "
                    f"{tuple(attn_mask.shape)}, but should be "
                    f"{(bsz * num_heads, tgt_len, src_len)}."
                )
            m = attn_mask.reshape(bsz, num_heads, tgt_len, src_len)
        else:
            raise ValueError(
                f"[multi_head_attention_forward] attn_mask's dimension {attn_mask.dim()} is "
                "not supported"
            )
        masks.append(m)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ValueError(
                f"[multi_head_attention_forward] expected key_padding_mask of shape "
                f"{(bsz, src_len)}, but got {tuple(key_padding_mask.shape)}"
            )
        masks.append(key_padding_mask.reshape(bsz, 1, 1, src_len))
    if not masks:
        return None
    if all(m.dtype == _C.bool for m in masks):
        allowed = ~masks[0]
        for m in masks[1:]:
            allowed = _C.logical_and(allowed, ~m)
        return allowed
    out = None
    for m in masks:
        f = _C.where(m, float("-inf"), 0.0).to(dtype) if m.dtype == _C.bool else m
        out = f if out is None else out + f
    return out


def _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate, qw, kw, vw):
    from . import functional as F

    E = query.shape[-1]
    if not separate:
        b = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        w = in_proj_weight.chunk(3)
        if key is value and query is key:
            return F.linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
        return F.linear(query, w[0], b[0]), F.linear(key, w[1], b[1]), F.linear(value, w[2], b[2])
    b = (None, None, None) if in_proj_bias is None else in_proj_bias.split([E, E, E])
    return F.linear(query, qw, b[0]), F.linear(key, kw, b[1]), F.linear(value, vw, b[2])


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
):
    """PyTorch's F.multi_head_attention_forward: inputs (L, N, E) / (S, N, E) or unbatched
    (L, E); returns (attn_output (L, N, E), weights (N, L, S) averaged over heads or
    (N, H, L, S), or None when need_weights is False).

    Masks: attn_mask (L, S) or (N * H, L, S), key_padding_mask (N, S); bool masks mark the
    positions NOT allowed to attend (True = masked), float masks are added. is_causal is a hint
    that attn_mask is the causal mask (it must then be given). A query whose every key is masked
    gets zeros (torch's need_weights=True path gives nan there).
    """
    if bias_k is not None or bias_v is not None or add_zero_attn:
        raise NotImplementedError(
            "[multi_head_attention_forward] add_bias_kv / add_zero_attn are not supported"
        )
    if static_k is not None or static_v is not None:
        raise NotImplementedError("[multi_head_attention_forward] static_k/static_v not supported")
    if query.dim() not in (2, 3) or key.dim() != query.dim() or value.dim() != query.dim():
        raise ValueError(
            f"[multi_head_attention_forward] query, key and value must all be 2-D (unbatched) "
            f"or 3-D (batched), got {query.dim()}-D, {key.dim()}-D and {value.dim()}-D"
        )
    batched = query.dim() == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise ValueError(
            f"[multi_head_attention_forward] was expecting embedding dimension of "
            f"{embed_dim_to_check}, but got {embed_dim}"
        )
    if embed_dim % num_heads:
        raise ValueError(
            f"[multi_head_attention_forward] embed_dim {embed_dim} not divisible by num_heads "
            f"{num_heads}"
        )
    if key.shape[:2] != value.shape[:2]:
        raise ValueError(
            f"[multi_head_attention_forward] key shape {tuple(key.shape)} does not match value "
            f"shape {tuple(value.shape)}"
        )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "[multi_head_attention_forward] Need attn_mask if specifying the is_causal hint. "
            "You may use the Transformer module method `generate_square_subsequent_mask` to "
            "create this mask."
        )
    head_dim = embed_dim // num_heads
    q, k, v = _in_projection(
        query, key, value, in_proj_weight, in_proj_bias, use_separate_proj_weight,
        q_proj_weight, k_proj_weight, v_proj_weight,
    )
    dtype = q.dtype
    attn_mask = _canonical_mask(attn_mask, "attn_mask", dtype)
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", dtype)
    if attn_mask is not None and not batched and attn_mask.dim() == 3:
        attn_mask = attn_mask.reshape(num_heads, tgt_len, src_len)
    mask = _merge_masks(attn_mask, key_padding_mask, bsz, num_heads, tgt_len, src_len, dtype)

    # (L, N, E) -> (N, H, L, head_dim): views, the kernel takes the strides as they are
    q = q.reshape(tgt_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    k = k.reshape(src_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    v = v.reshape(src_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    drop = None
    if training and dropout_p > 0.0:
        drop = _C._attention_dropout_mask((bsz, num_heads, tgt_len, src_len), dtype, dropout_p)
    out, weights = _C._sdpa_math(q, k, v, mask, drop, 1.0 / math.sqrt(head_dim), False)
    out = out.permute(2, 0, 1, 3).reshape(tgt_len * bsz, embed_dim)
    from . import functional as F

    out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not need_weights:
        return (out if batched else out.squeeze(1)), None
    if drop is not None:
        weights = weights * drop
    if average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        return out.squeeze(1), weights.squeeze(0)
    return out, weights
