#include "kernels/cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu/row_exp.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

// ex[c] = e^(x[c * inner] - mx) for c < C; returns their sum (in double). Float32 rows that
// are contiguous take row_exp.h's vectorised pass (through exf, a scratch of C floats); the
// rest std::exp in double.
template <typename T>
double exp_row(const T* x, int64_t inner, double mx, int64_t C, double* ex, float* exf) {
  if constexpr (std::is_same_v<T, float>) {
    if (inner == 1) {
      const double s = exp_sum_f32(x, float(mx), exf, C);
      std::copy(exf, exf + C, ex);
      return s;
    }
  }
  double s = 0;
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
  const int64_t C = a.C;
  const float* x = reinterpret_cast<const float*>(a.logits) + row * C;
  float mx = row_max_f32(x, C);
  if (!std::isfinite(mx)) mx = 0;
  const double s = exp_sum_f32(x, mx, ex, C);
  int64_t j = 0;
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
// q and ex are scratch of C doubles, exf of C floats (float32 only).
template <typename T>
void ce_row(const CrossEntropyArgs& a, int64_t o, int64_t j, double* q, double* ex, float* exf) {
  const int64_t C = a.C, inner = a.inner, base = o * C * inner + j, row = o * inner + j;
  const T* x = reinterpret_cast<const T*>(a.logits) + base;
  const T* w = reinterpret_cast<const T*>(a.weight);
  double mx = -INFINITY;
  for (int64_t c = 0; c < C; ++c) mx = std::max(mx, double(x[c * inner]));
  if (!std::isfinite(mx)) mx = 0;
  const double s = exp_row(x, inner, mx, C, ex, exf);
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
      std::vector<float> exf(std::is_same_v<T, float> ? size_t(a.C) : 0);
      if constexpr (std::is_same_v<T, float>) {
        if (a.inner == 1 && a.target && !a.weight) {
          for (int64_t r = b; r < e; ++r) ce_row_f32(a, r, exf.data());
          return;
        }
      }
      std::vector<double> q(2 * size_t(a.C));
      for (int64_t r = b; r < e; ++r)
        ce_row<T>(a, r / a.inner, r % a.inner, q.data(), q.data() + a.C, exf.data());
    });
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
