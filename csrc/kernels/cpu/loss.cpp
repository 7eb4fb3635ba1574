#include "kernels/cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

// One row: x[c * inner] for c < C. Accumulates in double (rows are short; stability first).
template <typename T>
void ce_row(const CrossEntropyArgs& a, int64_t o, int64_t j, double* q) {
  const int64_t C = a.C, inner = a.inner, base = o * C * inner + j, row = o * inner + j;
  const T* x = reinterpret_cast<const T*>(a.logits) + base;
  const T* w = reinterpret_cast<const T*>(a.weight);
  double mx = -INFINITY;
  for (int64_t c = 0; c < C; ++c) mx = std::max(mx, double(x[c * inner]));
  if (!std::isfinite(mx)) mx = 0;
  double s = 0;
  for (int64_t c = 0; c < C; ++c) s += std::exp(double(x[c * inner]) - mx);
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
    for (int64_t c = 0; c < C; ++c)
      g[c * inner] = T(sc * (std::exp(double(x[c * inner]) - lse) * qsum - q[c]));
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
      std::vector<double> q(size_t(a.C));
      for (int64_t r = b; r < e; ++r) ce_row<T>(a, r / a.inner, r % a.inner, q.data());
    });
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
