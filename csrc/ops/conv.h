// Convolution (PyTorch's torch.convolution / F.conv1d / F.conv2d / F.conv_transpose1d/2d) and
// im2col / col2im (F.unfold / F.fold), float32 and float64, NCHW.
//
// Three differentiable primitives carry every convolution: the forward map, its input
// gradient (= the transposed convolution) and its weight gradient. Each one's vjp and jvp are
// written with the other two (they are the three partial maps of the trilinear form
// <y, conv(x, w)>), so gradients of any order use the fast kernels and record themselves.
// Parameters (stride, padding, dilation, output_padding) take one value per spatial dim or a
// single value for all; 1-D convolutions run as 2-D ones with height 1.
#pragma once
#include <string>

#include "core/tensor.h"

namespace tgx::ops {

using IntList = std::vector<int64_t>;

// torch.convolution. weight is (out, in / groups, k...) or, transposed, (in, out / groups, k...).
// bias may be null. The input is (N, C, spatial...) or unbatched (C, spatial...).
Tensor convolution(const Tensor& input, const Tensor& weight, const Tensor& bias,
                   const IntList& stride, const IntList& padding, const IntList& dilation,
                   bool transposed, const IntList& output_padding, int64_t groups);

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, const IntList& stride,
              const IntList& padding, const IntList& dilation, int64_t groups);
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const IntList& stride,
              const IntList& padding, const IntList& dilation, int64_t groups);
// padding "same" (output size = input size; stride 1 only; extra padding goes right/bottom,
// as PyTorch) or "valid" (no padding).
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, const IntList& stride,
              const std::string& padding, const IntList& dilation, int64_t groups);
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const IntList& stride,
              const std::string& padding, const IntList& dilation, int64_t groups);

Tensor conv_transpose1d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        const IntList& stride, const IntList& padding,
                        const IntList& output_padding, int64_t groups, const IntList& dilation);
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        const IntList& stride, const IntList& padding,
                        const IntList& output_padding, int64_t groups, const IntList& dilation);

// F.unfold: (N, C, H, W) or (C, H, W) -> (N, C*kh*kw, L) or (C*kh*kw, L), L sliding blocks.
Tensor im2col(const Tensor& input, const IntList& kernel_size, const IntList& dilation,
              const IntList& padding, const IntList& stride);
// F.fold: (N, C*kh*kw, L) or (C*kh*kw, L) -> (N, C, H, W) or (C, H, W); overlaps are summed.
Tensor col2im(const Tensor& input, const IntList& output_size, const IntList& kernel_size,
              const IntList& dilation, const IntList& padding, const IntList& stride);

}  // namespace tgx::ops
