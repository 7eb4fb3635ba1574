// Pooling ops with PyTorch's semantics: max / average pooling (1-d and 2-d, padding, dilation,
// ceil_mode, count_include_pad, divisor_override) and adaptive average / max pooling.
// Inputs: (N, C, H, W) or unbatched (C, H, W) for 2-d; (N, C, L) or (C, L) for 1-d. Every dim
// but the batch one must be non-empty. kernel_size / stride / padding / dilation hold one value
// (used for every spatial dim) or one per spatial dim; an empty stride means kernel_size.
// Max pooling returns the flat index (h * W + w) of each maximum within its plane.
// Errors (ValueError): non-positive kernel / stride / dilation, negative padding, padding above
// half the effective kernel, an output of size < 1, a wrong number of dims.
// Autograd: the vjps and jvps are pooling ops themselves (max: a gather and a scatter at the
// indices; average: the pooling and its adjoint), so every order of derivative is available.
#pragma once
#include <optional>
#include <utility>

#include "core/tensor.h"

namespace tgx::ops {

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const Shape& kernel_size,
                                                  const Shape& stride = {}, const Shape& padding = {0},
                                                  const Shape& dilation = {1}, bool ceil_mode = false);
std::pair<Tensor, Tensor> max_pool1d_with_indices(const Tensor& x, const Shape& kernel_size,
                                                  const Shape& stride = {}, const Shape& padding = {0},
                                                  const Shape& dilation = {1}, bool ceil_mode = false);
Tensor max_pool2d(const Tensor& x, const Shape& kernel_size, const Shape& stride = {},
                  const Shape& padding = {0}, const Shape& dilation = {1}, bool ceil_mode = false);
Tensor max_pool1d(const Tensor& x, const Shape& kernel_size, const Shape& stride = {},
                  const Shape& padding = {0}, const Shape& dilation = {1}, bool ceil_mode = false);

// divisor_override: divide every window's sum by this (non-zero) number instead.
Tensor avg_pool2d(const Tensor& x, const Shape& kernel_size, const Shape& stride = {},
                  const Shape& padding = {0}, bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = std::nullopt);
Tensor avg_pool1d(const Tensor& x, const Shape& kernel_size, const Shape& stride = {},
                  const Shape& padding = {0}, bool ceil_mode = false, bool count_include_pad = true);

// Window o of an axis of size I into O outputs: [floor(o * I / O), ceil((o + 1) * I / O)).
Tensor adaptive_avg_pool2d(const Tensor& x, const Shape& output_size);
Tensor adaptive_avg_pool1d(const Tensor& x, const Shape& output_size);
std::pair<Tensor, Tensor> adaptive_max_pool2d(const Tensor& x, const Shape& output_size);
std::pair<Tensor, Tensor> adaptive_max_pool1d(const Tensor& x, const Shape& output_size);

}  // namespace tgx::ops
