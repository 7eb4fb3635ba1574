// Fused normalisation ops. layer_norm (PyTorch's F.layer_norm): normalises over the trailing
// normalized_shape dims with the biased variance, then scales by weight and shifts by bias.
#pragma once
#include "core/tensor.h"

namespace tgx::ops {

// y = (x - mean) / sqrt(var + eps) * weight + bias over the last normalized_shape.size() dims.
// input float32/float64 (else NotImplementedError); weight/bias null or of shape
// normalized_shape (else ValueError); the input's trailing dims must equal normalized_shape
// (ValueError); an empty normalized_shape raises RuntimeError (as PyTorch). Differentiable in
// input, weight and bias to any order: a fused backward kernel for the first order, ops when
// create_graph needs a differentiable gradient; the jvp is written with ops.
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight = nullptr,
                  const Tensor& bias = nullptr, double eps = 1e-5);

}  // namespace tgx::ops
