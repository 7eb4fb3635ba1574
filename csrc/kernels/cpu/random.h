// Random-number and range kernels. Random kernels fill a contiguous buffer of n elements from the
// Philox stream (seed, offset): element i uses block offset + i / per_block, so the values do not
// depend on how the work is split between threads.
#pragma once
#include "core/dtype.h"
#include "kernels/dispatch.h"

namespace tgx {

enum class RandomDist : uint8_t {
  Uniform,      // a + (b - a) * U[0, 1)
  Normal,       // a + b * N(0, 1)  (Box-Muller)
  Bernoulli,    // U[0, 1) < a  ->  1 or 0
  Exponential,  // -log(1 - U) / a
  Integer,      // low + (64 random bits mod range)
};

struct RandomParams {
  double a = 0, b = 1;
  int64_t low = 0;
  uint64_t range = 0;  // Integer: values in [low, low + range); 0 means the full 2^64
};

// Elements drawn from one Philox block (4 x 32 bits) for this distribution and dtype.
inline int64_t random_per_block(RandomDist dist, DType dtype) {
  if (dist == RandomDist::Integer) return 2;
  if (dist == RandomDist::Bernoulli) return 4;
  return dtype == DType::Float64 ? 2 : 4;
}

}  // namespace tgx

TGX_DECLARE_KERNEL(void, random_kernel, (tgx::RandomDist dist, tgx::DType dtype, void* out,
                                         int64_t n, uint64_t seed, uint64_t offset,
                                         const tgx::RandomParams& p))
// out[i] = start + i * step (computed in double, or exactly in int64 when both are integers).
TGX_DECLARE_KERNEL(void, arange_kernel, (tgx::DType dtype, void* out, int64_t n,
                                         const tgx::Scalar& start, const tgx::Scalar& step))
// PyTorch's linspace: first half counts up from start, second half down from end.
TGX_DECLARE_KERNEL(void, linspace_kernel, (tgx::DType dtype, void* out, int64_t n, double start,
                                           double end))
