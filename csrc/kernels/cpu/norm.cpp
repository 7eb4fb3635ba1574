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

// Returns (sum(gy w), sum(gy w xhat)) of one row.
template <typename T>
void row_dots(const T* gy, const T* x, const T* w, int64_t n, T mean, T rstd, T& s1, T& s2) {
  T a1[kLanes] = {}, a2[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const T g = w ? gy[j + k] * w[j + k] : gy[j + k];
      a1[k] += g;
      a2[k] += g * ((x[j + k] - mean) * rstd);
    }
  s1 = 0, s2 = 0;
  for (int k = 0; k < kLanes; ++k) s1 += a1[k], s2 += a2[k];
  for (; j < n; ++j) {
    const T g = w ? gy[j] * w[j] : gy[j];
    s1 += g;
    s2 += g * ((x[j] - mean) * rstd);
  }
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

template <typename T>
void backward(const LayerNormBackwardArgs& a) {
  const int64_t n = a.n, rows = a.rows;
  const T* gy = reinterpret_cast<const T*>(a.gy);
  const T* x = reinterpret_cast<const T*>(a.x);
  const T* mean = reinterpret_cast<const T*>(a.mean);
  const T* rstd = reinterpret_cast<const T*>(a.rstd);
  const T* w = reinterpret_cast<const T*>(a.w);
  if (a.gx) {
    T* gx = reinterpret_cast<T*>(a.gx);
    parallel_for(0, rows, row_grain(n), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T *gr = gy + r * n, *xr = x + r * n;
        T* out = gx + r * n;
        const T m = mean[r], rs = rstd[r];
        T s1, s2;
        row_dots(gr, xr, w, n, m, rs, s1, s2);
        const T c1 = s1 / T(n), c2 = s2 / T(n);
        if (w) {
          for (int64_t j = 0; j < n; ++j) out[j] = rs * (gr[j] * w[j] - c1 - (xr[j] - m) * rs * c2);
        } else {
          for (int64_t j = 0; j < n; ++j) out[j] = rs * (gr[j] - c1 - (xr[j] - m) * rs * c2);
        }
      }
    });
  }
  if (!a.gw && !a.gb) return;
  // Column sums over the rows, one block of columns per task (deterministic: no per-thread
  // partials), rows outer and columns inner so that the inner loop vectorises.
  T* gw = reinterpret_cast<T*>(a.gw);
  T* gb = reinterpret_cast<T*>(a.gb);
  constexpr int64_t kBlock = 64;
  const int64_t nblocks = (n + kBlock - 1) / kBlock;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(rows * kBlock, 1));
  parallel_for(0, nblocks, grain, [&](int64_t b0, int64_t b1) {
    T accw[kBlock], accb[kBlock];
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t c0 = blk * kBlock, len = std::min(kBlock, n - c0);
      std::fill(accw, accw + kBlock, T(0));
      std::fill(accb, accb + kBlock, T(0));
      for (int64_t r = 0; r < rows; ++r) {
        const T *gr = gy + r * n + c0, *xr = x + r * n + c0;
        const T m = mean[r], rs = rstd[r];
        if (gw)
          for (int64_t j = 0; j < len; ++j) accw[j] += gr[j] * ((xr[j] - m) * rs);
        if (gb)
          for (int64_t j = 0; j < len; ++j) accb[j] += gr[j];
      }
      if (gw) std::copy(accw, accw + len, gw + c0);
      if (gb) std::copy(accb, accb + len, gb + c0);
    }
  });
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
