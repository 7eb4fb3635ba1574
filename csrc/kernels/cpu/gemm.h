// GEMM: C = alpha * A * B + beta * C with arbitrary (row, col) element strides for A, B and C,
// so transposed and sliced operands need no copy (packing absorbs the layout).
// float32/float64 use a BLIS-style blocked GEMM (packed MRxKC / KCxNR panels, register-blocked
// micro-kernel, threads over the tile grid); integer dtypes use a simple correct loop.
// beta == 0 means C is write-only (its old contents, even nan, are ignored), as in BLAS.
// An optional epilogue adds a bias per column and applies relu (nn.Linear, keras Dense): fused
// into the micro-kernel's last store of each tile, a pass over C on the other paths.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/dispatch.h"

namespace tgx {

struct GemmArgs {
  int64_t m = 0, n = 0, k = 0;
  const void* a = nullptr;
  int64_t rsa = 0, csa = 0;  // A is m x k: element (i, p) at a[i * rsa + p * csa]
  const void* b = nullptr;
  int64_t rsb = 0, csb = 0;  // B is k x n
  void* c = nullptr;
  int64_t rsc = 0, csc = 0;  // C is m x n
  // Epilogue, applied as C is written: C = act(alpha * A * B + beta * C + bias), bias[j] per
  // column (contiguous, C's dtype) or null; act: kNone or kRelu (relu keeps nan, as relu does).
  enum Act : int { kNone = 0, kRelu = 1 };
  const void* bias = nullptr;
  int act = kNone;
};

}  // namespace tgx

// dtype: any but bool. alpha/beta are converted to the dtype.
TGX_DECLARE_KERNEL(void, gemm_kernel, (tgx::DType dtype, const tgx::GemmArgs& g,
                                       const tgx::Scalar& alpha, const tgx::Scalar& beta))
