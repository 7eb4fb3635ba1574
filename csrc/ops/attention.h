// Attention: scaled_dot_product_attention (PyTorch's F.scaled_dot_product_attention) on one fused
// primitive, sdpa_math, that returns the output and the attention probabilities.
#pragma once
#include <optional>
#include <utility>

#include "core/rng.h"
#include "core/tensor.h"

namespace tgx::ops {

// (out, attn) with attn = softmax(q k^T * scale + mask) over the keys (rows with every key
// masked give 0, as PyTorch's _safe_softmax) and out = (attn * drop) @ v.
// q (..., L, E), k (..., S, E), v (..., S, Ev): batch dims broadcast. attn_mask: bool (true =
// attend) or floating (added), broadcastable to (..., L, S), or null. drop: null or factors of
// shape (..., L, S) (0 or 1/(1-p)), treated as a constant. is_causal masks key j > query i
// (top-left aligned); it excludes attn_mask. Differentiable in q, k, v and a floating mask,
// to any order (the vjp and jvp are written with ops); attn is differentiable too.
std::pair<Tensor, Tensor> sdpa_math(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask, const Tensor& drop, double scale,
                                    bool is_causal);

// out only; scale defaults to 1/sqrt(E); dropout_p > 0 drops attention probabilities with the
// generator (default one when null).
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale, Generator* gen = nullptr);

// The dropout factors sdpa_math takes: bernoulli(1 - p) / (1 - p) of `shape`.
Tensor attention_dropout_mask(const Shape& shape, DType dtype, double p, Generator* gen = nullptr);

}  // namespace tgx::ops
