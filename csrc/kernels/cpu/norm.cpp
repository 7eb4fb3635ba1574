#include "kernels/cpu/norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/parallel.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

constexpr int kLanes = 8;  // independent accumulators: the compiler vectorises each lane group

// Rows per parallel chunk: about 16K elements of work each.
int64_t row_grain(int64_t n) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)); }

template <typename T>
T row_sum(const T* x, int64_t n) {
  T acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int k = 0; k < kLanes; ++k) acc[k] += x[j + k];
  T s = 0;
  for (int k = 0; k < kLanes; ++k) s += acc[k];
  for (; j < n; ++j) s += x[j];
  return s;
}

template <typename T>
T row_sq_dev(const T* x, int64_t n, T mean) {
  T acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const T d = x[j + k] - mean;
      acc[k] += d * d;
    }
  T s = 0;
  for (int k = 0; k < kLanes; ++k) s += acc[k];
  for (; j < n; ++j) s += (x[j] - mean) * (x[j] - mean);
  return s;
}

// (sum(gy w), sum(gy w xhat)) of one row (w null: 1).
template <typename T, bool HasW>
void row_dots_impl(const T* __restrict gy, const T* __restrict x, const T* __restrict w, int64_t n,
                   T mean, T rstd, T& s1, T& s2) {
  T a1[kLanes] = {}, a2[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const T g = HasW ? gy[j + k] * w[j + k] : gy[j + k];
      a1[k] += g;
      a2[k] += g * ((x[j + k] - mean) * rstd);
    }
  s1 = 0, s2 = 0;
  for (int k = 0; k < kLanes; ++k) s1 += a1[k], s2 += a2[k];
  for (; j < n; ++j) {
    const T g = HasW ? gy[j] * w[j] : gy[j];
    s1 += g;
    s2 += g * ((x[j] - mean) * rstd);
  }
}

template <typename T>
void row_dots(const T* gy, const T* x, const T* w, int64_t n, T mean, T rstd, T& s1, T& s2) {
  if (w) row_dots_impl<T, true>(gy, x, w, n, mean, rstd, s1, s2);
  else row_dots_impl<T, false>(gy, x, w, n, mean, rstd, s1, s2);
}

template <typename T>
void forward(const LayerNormArgs& a) {
  const int64_t n = a.n;
  const T* x = reinterpret_cast<const T*>(a.x);
  const T* w = reinterpret_cast<const T*>(a.w);
  const T* b = reinterpret_cast<const T*>(a.b);
  T* y = reinterpret_cast<T*>(a.y);
  T* mean = reinterpret_cast<T*>(a.mean);
  T* rstd = reinterpret_cast<T*>(a.rstd);
  parallel_for(0, a.rows, row_grain(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * n;
      T* yr = y + r * n;
      const T m = n ? row_sum(xr, n) / T(n) : T(0);
      const T var = n ? row_sq_dev(xr, n, m) / T(n) : T(0);
      const T rs = T(1) / std::sqrt(var + T(a.eps));
      mean[r] = m, rstd[r] = rs;
      if (w && b) {
        for (int64_t j = 0; j < n; ++j) yr[j] = (xr[j] - m) * rs * w[j] + b[j];
      } else if (w) {
        for (int64_t j = 0; j < n; ++j) yr[j] = (xr[j] - m) * rs * w[j];
      } else if (b) {
        for (int64_t j = 0; j < n; ++j) yr[j] = (xr[j] - m) * rs + b[j];
      } else {
        for (int64_t j = 0; j < n; ++j) yr[j] = (xr[j] - m) * rs;
      }
    }
  });
}

// One row of the backward: gx (when wanted), and gy xhat / gy added into pw / pb (when not null).
template <typename T>
void backward_row(const T* __restrict gr, const T* __restrict xr, const T* __restrict w, int64_t n, T m,
                  T rs, T* __restrict out, T* __restrict pw, T* __restrict pb) {
  if (out) {
    T s1, s2;
    row_dots(gr, xr, w, n, m, rs, s1, s2);
    const T c1 = s1 / T(n), c2 = s2 / T(n);
    if (w) {
      for (int64_t j = 0; j < n; ++j) out[j] = rs * (gr[j] * w[j] - c1 - (xr[j] - m) * rs * c2);
    } else {
      for (int64_t j = 0; j < n; ++j) out[j] = rs * (gr[j] - c1 - (xr[j] - m) * rs * c2);
    }
  }
  if (pw)
    for (int64_t j = 0; j < n; ++j) pw[j] += gr[j] * ((xr[j] - m) * rs);
  if (pb)
    for (int64_t j = 0; j < n; ++j) pb[j] += gr[j];
}

// Rows are cut into chunks of ~16K elements whatever the thread count, each chunk summing its own
// partial gw / gb rows (so the result is deterministic); the partials are added at the end.
// (Very long rows with few chunks run with little parallelism; fine for layer-norm sizes.)
template <typename T>
void backward(const LayerNormBackwardArgs& a) {
  const int64_t n = a.n, rows = a.rows;
  const T* gy = reinterpret_cast<const T*>(a.gy);
  const T* x = reinterpret_cast<const T*>(a.x);
  const T* mean = reinterpret_cast<const T*>(a.mean);
  const T* rstd = reinterpret_cast<const T*>(a.rstd);
  const T* w = reinterpret_cast<const T*>(a.w);
  T* gx = reinterpret_cast<T*>(a.gx);
  T* gw = reinterpret_cast<T*>(a.gw);
  T* gb = reinterpret_cast<T*>(a.gb);
  const int64_t per = std::min(std::max<int64_t>(rows, 1), row_grain(n));
  // Partials cost nchunks * n elements each: at most 64 chunks and about 1M elements.
  int64_t nchunks = (rows + per - 1) / per;
  const int64_t budget = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(n, 1));
  if (gw || gb) nchunks = std::min<int64_t>({nchunks, 64, budget});
  const int64_t rows_per = nchunks ? (rows + nchunks - 1) / nchunks : 0;
  std::vector<T> pw(gw ? size_t(nchunks * n) : 0, T(0)), pb(gb ? size_t(nchunks * n) : 0, T(0));
  parallel_for(0, nchunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      T* cw = gw ? pw.data() + c * n : nullptr;
      T* cb = gb ? pb.data() + c * n : nullptr;
      for (int64_t r = c * rows_per; r < std::min(rows, (c + 1) * rows_per); ++r)
        backward_row(gy + r * n, x + r * n, w, n, mean[r], rstd[r], gx ? gx + r * n : nullptr, cw, cb);
    }
  });
  for (T* dst : {gw, gb}) {
    if (!dst) continue;
    const T* part = dst == gw ? pw.data() : pb.data();
    std::fill(dst, dst + n, T(0));
    for (int64_t c = 0; c < nchunks; ++c)
      for (int64_t j = 0; j < n; ++j) dst[j] += part[c * n + j];
  }
}

}  // namespace

void layer_norm_kernel(DType dtype, const LayerNormArgs& a) {
  if (dtype == DType::Float32) forward<float>(a);
  else forward<double>(a);
}

void layer_norm_backward_kernel(DType dtype, const LayerNormBackwardArgs& a) {
  if (dtype == DType::Float32) backward<float>(a);
  else backward<double>(a);
}

}  // namespace tgx::cpu::TGX_ARCH_NS
