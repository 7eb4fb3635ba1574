// Pooling kernels over planes: a plane is one (batch, channel) pair, its spatial part H x W
// (1-d pooling is H = 1). Every pooling flavour (max / avg, fixed / adaptive windows, padding,
// dilation, ceil_mode) is reduced by the op front end (ops/pool.cpp) to per-axis window tables:
// output row oh reads input rows hs[oh] + i * hstep for i < hc[oh] (only valid rows), likewise
// for columns. Average pooling divides by hdiv[oh] * wdiv[ow]; an empty window gives 0.
// Max pooling writes the flat plane index ih * W + iw of the maximum (first one on ties, nan
// wins, as PyTorch). Kernels parallelise over planes (or output rows) and do no validation.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/dispatch.h"

namespace tgx {

struct PoolWindows {
  int64_t planes = 0, C = 1;       // planes = N * C; plane p is (p / C, p % C)
  int64_t ih = 1, iw = 1, oh = 1, ow = 1;
  const int64_t *hs = nullptr, *hc = nullptr, *ws = nullptr, *wc = nullptr;
  int64_t hstep = 1, wstep = 1;
  const double *hdiv = nullptr, *wdiv = nullptr;  // average pooling only
};

// Input strides in elements (any sign), for forward kernels that read the input in place.
struct PoolInput {
  const char* data = nullptr;
  int64_t sN = 0, sC = 0, sH = 0, sW = 1;
};

}  // namespace tgx

// out, indices: (planes, oh, ow) contiguous. dtype: any but bool.
TGX_DECLARE_KERNEL(void, max_pool_kernel, (tgx::DType dtype, const tgx::PoolWindows& w,
                                           const tgx::PoolInput& in, char* out, int64_t* indices))
// out: (planes, oh, ow) contiguous. Floating dtypes.
TGX_DECLARE_KERNEL(void, avg_pool_kernel, (tgx::DType dtype, const tgx::PoolWindows& w,
                                           const tgx::PoolInput& in, char* out))
// grad_in (planes, ih, iw) = adjoint of avg_pool applied to grad_out (planes, oh, ow); both
// contiguous. Floating dtypes.
TGX_DECLARE_KERNEL(void, avg_pool_backward_kernel, (tgx::DType dtype, const tgx::PoolWindows& w,
                                                    const char* grad_out, char* grad_in))
// Per plane: dst[p, o] = src[p, idx[p, o]] (gather) or dst[p, idx[p, o]] += src[p, o] on a
// zeroed dst (scatter). src/dst contiguous; isize / osize are the plane sizes of input / output.
TGX_DECLARE_KERNEL(void, pool_gather_kernel, (tgx::DType dtype, int64_t planes, int64_t isize,
                                              int64_t osize, const char* src, const int64_t* idx,
                                              char* dst))
TGX_DECLARE_KERNEL(void, pool_scatter_kernel, (tgx::DType dtype, int64_t planes, int64_t isize,
                                               int64_t osize, const char* src, const int64_t* idx,
                                               char* dst))
