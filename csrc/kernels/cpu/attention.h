// Fused attention forward for one (batch, head) block at a time: S = scale * Q K^T written into
// the attention buffer, the mask and the causal limit applied and a max-subtracted softmax taken
// in place (rows with no key left give 0, as PyTorch's safe softmax), then out = (P * drop) V.
// Q/K/V/mask blocks are strided (no copies for transposed or broadcast operands); attn, drop and
// out are contiguous (batch, L, S) / (batch, L, Ev). The GEMMs are gemm_kernel's.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/dispatch.h"

namespace tgx {

struct AttentionArgs {
  int64_t batch = 0, L = 0, S = 0, E = 0, Ev = 0;
  // Per block b: element offsets of the block in q, k, v and mask (off_m null without a mask).
  const int64_t *off_q = nullptr, *off_k = nullptr, *off_v = nullptr, *off_m = nullptr;
  const char* q = nullptr;  // L x E: (i, p) at q[off_q[b] + i * rsq + p * csq]
  int64_t rsq = 0, csq = 0;
  const char* k = nullptr;  // S x E
  int64_t rsk = 0, csk = 0;
  const char* v = nullptr;  // S x Ev
  int64_t rsv = 0, csv = 0;
  const char* mask = nullptr;  // L x S, bool (true = attend) or additive of the attention dtype
  bool mask_bool = false;
  int64_t rsm = 0, csm = 0;
  const char* drop = nullptr;  // (batch, L, S) factors (0 or 1/(1-p)) applied to P before @ V
  double scale = 1.0;
  bool causal = false;  // key j is masked for query i when j > i
  char* attn = nullptr;  // (batch, L, S): the probabilities P
  char* out = nullptr;   // (batch, L, Ev)
};

// Backward of the softmax for the same layout: dS = P * (dP - rowsum(dP * P)) in place of dP,
// for `rows` contiguous rows of length `n`.
struct SoftmaxBackwardArgs {
  int64_t rows = 0, n = 0;
  const char* p = nullptr;
  char* dp = nullptr;
};

}  // namespace tgx

// dtype: float32 or float64.
TGX_DECLARE_KERNEL(void, attention_forward_kernel, (tgx::DType dtype, const tgx::AttentionArgs& a))
TGX_DECLARE_KERNEL(void, softmax_backward_kernel,
                   (tgx::DType dtype, const tgx::SoftmaxBackwardArgs& a))
