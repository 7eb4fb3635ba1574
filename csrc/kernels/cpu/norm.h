// Fused layer normalisation over the last `n` elements of `rows` contiguous rows.
// Forward: per row a two-pass mean and biased variance (accumulated in the data type, 8
// independent lanes so that the loops vectorise), rstd = 1 / sqrt(var + eps), then
// y = (x - mean) * rstd * w + b (w, b: length-n vectors or null). mean/rstd: one value per row.
// Backward: gx = rstd * (gy w - mean(gy w) - xhat mean(gy w xhat)) per row, with
// xhat = (x - mean) * rstd, and the column sums gw = sum_rows gy xhat, gb = sum_rows gy.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/dispatch.h"

namespace tgx {

struct LayerNormArgs {
  int64_t rows = 0, n = 0;
  double eps = 1e-5;
  const char* x = nullptr;
  const char* w = nullptr;  // null: no weight
  const char* b = nullptr;  // null: no bias
  char* y = nullptr;
  char* mean = nullptr;  // rows values
  char* rstd = nullptr;  // rows values
};

struct LayerNormBackwardArgs {
  int64_t rows = 0, n = 0;
  const char* gy = nullptr;
  const char* x = nullptr;
  const char* mean = nullptr;
  const char* rstd = nullptr;
  const char* w = nullptr;  // null: no weight (1)
  char* gx = nullptr;       // null: not wanted
  char* gw = nullptr;       // null: not wanted
  char* gb = nullptr;       // null: not wanted
};

}  // namespace tgx

// dtype: float32 or float64; every buffer contiguous.
TGX_DECLARE_KERNEL(void, layer_norm_kernel, (tgx::DType dtype, const tgx::LayerNormArgs& a))
TGX_DECLARE_KERNEL(void, layer_norm_backward_kernel,
                   (tgx::DType dtype, const tgx::LayerNormBackwardArgs& a))
