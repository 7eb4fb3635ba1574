#include "kernels/cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu/simd_math.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

// ex[c] = e^(x[c * inner] - mx) for c < C; returns their sum (in double). Float32 rows that
// are contiguous take the vectorised exp of simd_math.h (a few ulps, docs/MATH.md), the rest
// std::exp in double.
template <typename T>
double exp_row(const T* x, int64_t inner, double mx, int64_t C, double* ex) {
  double s = 0;
  if constexpr (std::is_same_v<T, float>) {
    if (inner == 1) {
      using P = vec::PackF;
      constexpr int64_t L = vec::Traits<P>::lanes;
      const P shift = P(static_cast<float>(mx));
      alignas(64) float bi[L], bo[L];
      for (int64_t c = 0; c < C; c += L) {
        const int64_t m = std::min(L, C - c);
        if (m < L)  // the tail through a padded buffer: same lane code
          for (int64_t k = 0; k < L; ++k) bi[k] = k < m ? x[c + k] : -INFINITY;
        vec::store(bo, vec::exp(vec::load(m < L ? bi : x + c) - shift));
        for (int64_t k = 0; k < m; ++k) s += ex[c + k] = double(bo[k]);
      }
      return s;
    }
  }
  for (int64_t c = 0; c < C; ++c) s += ex[c] = std::exp(double(x[c * inner]) - mx);
  return s;
}

// The common case in vector passes: float32 logits with the classes contiguous (inner == 1),
// class-index targets, no class weights. Then q = eps / C everywhere plus 1 - eps at the
// target, so loss = -((1 - eps)(x_y - lse) + eps / C (sum(x) - C lse)) (each term only when
// its weight is not 0; sum(x) in double) and the gradient is
// scale (e^(x - lse) - eps / C) minus scale (1 - eps) at the target. ex: scratch of C floats.
void ce_row_f32(const CrossEntropyArgs& a, int64_t row, float* ex) {
  using P = vec::PackF;
  constexpr int64_t L = vec::Traits<P>::lanes;
  constexpr int64_t kFlush = 1024;  // float lanes are flushed into doubles this often
  const int64_t C = a.C;
  const float* x = reinterpret_cast<const float*>(a.logits) + row * C;
  alignas(64) float buf[L], bi[L];
  P m(-INFINITY);  // NaN is skipped here (as std::max(mx, x) does) and reaches the sum via exp
  int64_t j = 0;
  for (; j + L <= C; j += L) m = vec::vmax(vec::load(x + j), m);
  vec::store(buf, m);
  float mx = -INFINITY;
  for (int64_t k = 0; k < L; ++k) mx = buf[k] > mx ? buf[k] : mx;
  for (; j < C; ++j) mx = x[j] > mx ? x[j] : mx;
  if (!std::isfinite(mx)) mx = 0;
  const P shift = P(mx);
  double s = 0;
  for (int64_t b = 0; b < C; b += kFlush) {
    const int64_t e = std::min(C, b + kFlush);
    P se(0.0f);
    for (j = b; j < e; j += L) {
      const int64_t n = std::min(L, e - j);
      if (n == L) {
        const P ev = vec::exp(vec::load(x + j) - shift);
        vec::store(ex + j, ev);
        se = se + ev;
      } else {  // the tail through a padded buffer: e^-inf adds 0
        for (int64_t k = 0; k < L; ++k) bi[k] = k < n ? x[j + k] : -INFINITY;
        const P ev = vec::exp(vec::load(bi) - shift);
        vec::store(buf, ev);
        for (int64_t k = 0; k < n; ++k) ex[j + k] = buf[k];
        se = se + ev;
      }
    }
    vec::store(buf, se);
    for (int64_t k = 0; k < L; ++k) s += double(buf[k]);
  }
  const double lse = double(mx) + std::log(s);
  const int64_t y = a.target[row];
  const bool ignored = y == a.ignore_index;
  const double eps = a.smoothing, qo = eps / double(C), qy = 1 - eps;
  if (a.grad) {
    const double sc = double(reinterpret_cast<const float*>(a.scale)[row]);
    float* g = reinterpret_cast<float*>(a.grad) + row * C;
    if (ignored) {
      std::fill(g, g + C, 0.0f);
      return;
    }
    const P f = P(float(sc / s)), o = P(float(sc * qo));
    for (j = 0; j + L <= C; j += L) vec::store(g + j, vec::load(ex + j) * f - o);
    for (; j < C; ++j) g[j] = float(sc * (double(ex[j]) / s - qo));
    g[y] = float(sc * (double(ex[y]) / s - qo - qy));
    return;
  }
  // Terms with a zero weight are left out, as q = 0 entries are (a -inf logit is no nan).
  double loss = 0;
  if (!ignored && qy != 0) loss -= qy * (double(x[y]) - lse);
  if (!ignored && qo != 0) {  // sum(x) in double: float lanes lose digits or overflow
    double sx[4] = {0, 0, 0, 0};
    j = 0;
    for (; j + 4 <= C; j += 4)
      for (int k = 0; k < 4; ++k) sx[k] += double(x[j + k]);
    for (; j < C; ++j) sx[0] += double(x[j]);
    loss -= qo * ((sx[0] + sx[1]) + (sx[2] + sx[3]) - double(C) * lse);
  }
  reinterpret_cast<float*>(a.loss)[row] = float(loss);
  if (a.wrow) reinterpret_cast<float*>(a.wrow)[row] = ignored ? 0.0f : 1.0f;
}

// One row: x[c * inner] for c < C. Accumulates in double (rows are short; stability first).
// q and ex are scratch of C doubles.
template <typename T>
void ce_row(const CrossEntropyArgs& a, int64_t o, int64_t j, double* q, double* ex) {
  const int64_t C = a.C, inner = a.inner, base = o * C * inner + j, row = o * inner + j;
  const T* x = reinterpret_cast<const T*>(a.logits) + base;
  const T* w = reinterpret_cast<const T*>(a.weight);
  double mx = -INFINITY;
  for (int64_t c = 0; c < C; ++c) mx = std::max(mx, double(x[c * inner]));
  if (!std::isfinite(mx)) mx = 0;
  const double s = exp_row(x, inner, mx, C, ex);
  const double lse = mx + std::log(s);
  // The row's target distribution q (weights folded in) and its total.
  double qsum = 0, wy = 0;
  if (a.target) {
    const int64_t y = a.target[row];
    std::fill(q, q + C, 0.0);
    if (y != a.ignore_index) {
      wy = w ? double(w[y]) : 1.0;
      q[y] = (1 - a.smoothing) * wy;
      if (a.smoothing != 0)
        for (int64_t c = 0; c < C; ++c) q[c] += a.smoothing / double(C) * (w ? double(w[c]) : 1.0);
    }
  } else {
    const T* p = reinterpret_cast<const T*>(a.probs) + base;
    for (int64_t c = 0; c < C; ++c)
      q[c] = (double(p[c * inner]) * (1 - a.smoothing) + a.smoothing / double(C)) * (w ? double(w[c]) : 1.0);
  }
  for (int64_t c = 0; c < C; ++c) qsum += q[c];
  if (a.grad) {
    const double sc = double(reinterpret_cast<const T*>(a.scale)[row]);
    T* g = reinterpret_cast<T*>(a.grad) + base;
    for (int64_t c = 0; c < C; ++c) g[c * inner] = T(sc * (ex[c] / s * qsum - q[c]));
    return;
  }
  double loss = 0;
  for (int64_t c = 0; c < C; ++c)
    if (q[c] != 0) loss -= q[c] * (double(x[c * inner]) - lse);
  reinterpret_cast<T*>(a.loss)[row] = T(loss);
  if (a.wrow) reinterpret_cast<T*>(a.wrow)[row] = T(wy);
}

}  // namespace

void cross_entropy_kernel(DType dtype, const CrossEntropyArgs& a) {
  dispatch_floating(dtype, "cross_entropy", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t rows = a.outer * a.inner;
    const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, a.C));
    parallel_for(0, rows, grain, [&](int64_t b, int64_t e) {
      if constexpr (std::is_same_v<T, float>) {
        if (a.inner == 1 && a.target && !a.weight) {
          std::vector<float> ex(size_t(a.C) + 64);
          for (int64_t r = b; r < e; ++r) ce_row_f32(a, r, ex.data());
          return;
        }
      }
      std::vector<double> q(2 * size_t(a.C));
      for (int64_t r = b; r < e; ++r) ce_row<T>(a, r / a.inner, r % a.inner, q.data(), q.data() + a.C);
    });
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
