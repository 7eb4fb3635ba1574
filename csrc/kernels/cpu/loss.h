// Fused, numerically stable cross-entropy over logits laid out contiguously as (outer, C, inner):
// one row per (outer, inner) position, classes C apart. Each row is reduced to a target
// distribution q (class index with weight and label smoothing, or class probabilities times the
// weight), so that loss_row = -sum_c q_c log_softmax(x)_c and d loss_row / d x = softmax(x) *
// sum(q) - q. One pass per row computes the max and the log-sum-exp; the loss or the grad follows.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/dispatch.h"

namespace tgx {

struct CrossEntropyArgs {
  int64_t outer = 1, C = 1, inner = 1;
  const char* logits = nullptr;   // (outer, C, inner), dtype
  const int64_t* target = nullptr;  // class mode: (outer, inner), already validated
  const char* probs = nullptr;    // probability mode: (outer, C, inner), dtype
  const char* weight = nullptr;   // (C), dtype, or null
  int64_t ignore_index = -100;
  double smoothing = 0;
  // Forward: loss (outer, inner) and, in class mode, the target's weight per row (0 if ignored).
  char* loss = nullptr;
  char* wrow = nullptr;
  // Backward (when grad is set): grad (outer, C, inner) = scale[row] * (softmax * sum(q) - q).
  const char* scale = nullptr;    // (outer, inner), dtype
  char* grad = nullptr;
};

}  // namespace tgx

TGX_DECLARE_KERNEL(void, cross_entropy_kernel, (tgx::DType dtype, const tgx::CrossEntropyArgs& a))
