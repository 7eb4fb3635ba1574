// 2-D convolution kernels (1-D runs as H = 1) on contiguous NCHW float32/float64 buffers.
//
// The three maps of the bilinear form <y, conv(x, w)> share one geometry:
//   forward       y = conv(x, w) + b                   (N, O, OH, OW)
//   input grad    x = conv^T(y, w) + b (per x channel) (N, C, H, W)   = conv_transpose
//   weight grad   w = sum_n y_n (x) x_n                (O, C/groups, KH, KW)
// With stride 1 (and SIMD kernels, finite operands, outputs not too narrow) each map is a
// correlation of zero-padded source planes computed by direct register-blocked kernels
// (conv_direct.inc). Otherwise each runs per image and group as GEMMs on the blocked GEMM kernel
// (implicit GEMM over column blocks): the im2col panel of a block of output positions is built
// in a per-thread buffer sized to stay in L2, then one GEMM consumes it; col2im scatters the
// input-grad panel back. 1x1 kernels with stride 1 and no padding use the image itself as the
// panel (no copy). Images are spread over threads; with fewer images than threads, each image's
// work is split instead.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/dispatch.h"

namespace tgx {

struct ConvGeometry {
  int64_t N = 0, C = 0, H = 0, W = 0;  // input
  int64_t O = 0, KH = 1, KW = 1;       // weight (O, C / groups, KH, KW)
  int64_t OH = 0, OW = 0;              // output (given: 'same' and output_padding set it)
  int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;  // stride, leading padding, dilation
  int64_t groups = 1;
};

// Buffers of one call; which are read and which is written depends on the kernel.
struct ConvBuffers {
  const void* x = nullptr;  // (N, C, H, W)
  const void* w = nullptr;  // (O, C / groups, KH, KW)
  const void* y = nullptr;  // (N, O, OH, OW)
  const void* b = nullptr;  // bias or null: O entries (forward) or C entries (input grad)
  void* out = nullptr;      // the result
};

}  // namespace tgx

// out = y = conv(x, w) + b
TGX_DECLARE_KERNEL(void, conv2d_forward_kernel,
                   (tgx::DType dtype, const tgx::ConvGeometry& g, const tgx::ConvBuffers& buf))
// out = x-shaped conv^T(y, w) + b
TGX_DECLARE_KERNEL(void, conv2d_input_grad_kernel,
                   (tgx::DType dtype, const tgx::ConvGeometry& g, const tgx::ConvBuffers& buf))
// out = w-shaped weight gradient from x and y (= grad of the output)
TGX_DECLARE_KERNEL(void, conv2d_weight_grad_kernel,
                   (tgx::DType dtype, const tgx::ConvGeometry& g, const tgx::ConvBuffers& buf))
// im2col (F.unfold): x (N, C, H, W) -> out (N, C*KH*KW, OH*OW); groups/O/w unused.
TGX_DECLARE_KERNEL(void, im2col_kernel,
                   (tgx::DType dtype, const tgx::ConvGeometry& g, const void* x, void* col))
// col2im (F.fold): col (N, C*KH*KW, OH*OW) -> out (N, C, H, W), overlapping entries summed.
TGX_DECLARE_KERNEL(void, col2im_kernel,
                   (tgx::DType dtype, const tgx::ConvGeometry& g, const void* col, void* x))
