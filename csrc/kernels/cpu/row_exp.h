// Float32 row passes shared by softmax/log_softmax (reduce.cpp) and the fused cross-entropy
// (loss.cpp): the row's max and the sum of e^(x - max), vectorised with simd_math.h's exp.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/simd_math.h"

namespace tgx::cpu::TGX_ARCH_NS {

// max over x[0, n): NaN is skipped here (it reaches a sum of exps through exp and turns the
// whole row into NaN, as a NaN max would); -inf for an empty or all -inf row.
inline float row_max_f32(const float* x, int64_t n) {
  using P = vec::PackF;
  constexpr int64_t L = vec::Traits<P>::lanes;
  P m0(-vec::k::kInf), m1(-vec::k::kInf);
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    m0 = vec::vmax(vec::load(x + i), m0);
    m1 = vec::vmax(vec::load(x + i + L), m1);
  }
  alignas(64) float buf[L];
  vec::store(buf, vec::vmax(m0, m1));
  float mx = -vec::k::kInf;
  for (int64_t k = 0; k < L; ++k) mx = buf[k] > mx ? buf[k] : mx;
  for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  return mx;
}

// sum of e^(x - shift) over x[0, n), returned in double: float lanes flushed into it every
// kFlush elements. The exps are stored to out unless out is null (log_softmax, which only needs
// the sum). The tail goes through a padded buffer (e^-inf adds 0), so every lane runs the same code.
inline double exp_sum_f32(const float* x, float shift_value, float* out, int64_t n) {
  using P = vec::PackF;
  constexpr int64_t L = vec::Traits<P>::lanes;
  constexpr int64_t kFlush = 1024;
  const P shift(shift_value);
  alignas(64) float buf[L];
  double s = 0;
  for (int64_t b = 0; b < n; b += kFlush) {
    const int64_t e = std::min(n, b + kFlush);
    P s0(0.0f), s1(0.0f);
    int64_t j = b;
    for (; j + 2 * L <= e; j += 2 * L) {
      const P e0 = vec::exp(vec::load(x + j) - shift), e1 = vec::exp(vec::load(x + j + L) - shift);
      if (out) { vec::store(out + j, e0); vec::store(out + j + L, e1); }
      s0 = s0 + e0;
      s1 = s1 + e1;
    }
    for (; j < e; j += L) {
      alignas(64) float bi[L], bo[L];
      const int64_t m = std::min(L, e - j);
      for (int64_t k = 0; k < L; ++k) bi[k] = k < m ? x[j + k] : -vec::k::kInf;
      const P ev = vec::exp(vec::load(bi) - shift);
      vec::store(bo, ev);
      s0 = s0 + ev;
      if (out) for (int64_t k = 0; k < m; ++k) out[j + k] = bo[k];
    }
    vec::store(buf, s0 + s1);
    for (int64_t k = 0; k < L; ++k) s += double(buf[k]);
  }
  return s;
}

}  // namespace tgx::cpu::TGX_ARCH_NS
