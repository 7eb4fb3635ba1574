// Losses that are fused for numerical stability (DESIGN: log-softmax + NLL). PyTorch semantics:
// input (C), (N, C) or (N, C, d1, ...); target class indices of the input's shape without the
// class dim (ignore_index skipped), or class probabilities of the input's shape. 'mean' divides
// by the summed weight of the non-ignored targets (class indices) or by the number of rows
// (probabilities). Errors: out-of-range class -> IndexError, shape mismatch -> ValueError.
#pragma once
#include <string>

#include "core/tensor.h"

namespace tgx::ops {

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = nullptr,
                     int64_t ignore_index = -100, double label_smoothing = 0.0,
                     const std::string& reduction = "mean");
// input holds log-probabilities; target class indices only.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = nullptr,
                int64_t ignore_index = -100, const std::string& reduction = "mean");

}  // namespace tgx::ops
