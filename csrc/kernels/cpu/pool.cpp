// Pooling kernels (see pool.h). Windows arrive as validated per-axis tables; kernels only compute.
#include "kernels/cpu/pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/parallel.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

constexpr int64_t kPoolGrain = 16384;  // elementary operations per task

template <typename T> inline bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}

template <typename T> inline T lowest() {
  if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::lowest();
}

// Average taps per output (rounded up), to size the parallel grain.
inline int64_t taps(const PoolWindows& w) {
  int64_t h = w.oh ? (w.hc[0] + w.hc[w.oh - 1]) / 2 + 1 : 1;
  int64_t c = w.ow ? (w.wc[0] + w.wc[w.ow - 1]) / 2 + 1 : 1;
  return std::max<int64_t>(1, h * c);
}

inline const char* plane_base(const PoolWindows& w, const PoolInput& in, int64_t p, size_t size) {
  return in.data + ((p / w.C) * in.sN + (p % w.C) * in.sC) * int64_t(size);
}

// One output row (plane p, output row oh) of max pooling.
template <typename T>
void max_row(const PoolWindows& w, const PoolInput& in, int64_t p, int64_t oh, T* out, int64_t* ind) {
  const T* x = reinterpret_cast<const T*>(plane_base(w, in, p, sizeof(T)));
  const int64_t h0 = w.hs[oh], hn = w.hc[oh];
  for (int64_t ow = 0; ow < w.ow; ++ow) {
    const int64_t w0 = w.ws[ow], wn = w.wc[ow];
    T best = lowest<T>();
    int64_t bi = h0 * w.iw + w0;  // PyTorch: the first tap when nothing beats -inf
    for (int64_t i = 0; i < hn; ++i) {
      const int64_t ih = h0 + i * w.hstep;
      const T* row = x + ih * in.sH;
      for (int64_t j = 0; j < wn; ++j) {
        const int64_t iw = w0 + j * w.wstep;
        const T v = row[iw * in.sW];
        const bool take = (v > best) | is_nan(v);
        best = take ? v : best;
        bi = take ? ih * w.iw + iw : bi;
      }
    }
    out[ow] = best;
    ind[ow] = bi;
  }
}

// max_row for windows of exactly KH x KW taps (no padding cut, no dilation) whose columns
// start w0 + ow * sw: the common 2x2 and 3x3 pools, a vector of outputs at a time with selects
// (a scalar max over random data mispredicts every other compare). Same taps in the same order
// as max_row, so the same result and index.
template <typename T, int KH, int KW>
void max_row_fixed(const PoolWindows& w, const PoolInput& in, int64_t p, int64_t oh, int64_t sw,
                   T* out, int64_t* ind) {
  constexpr int N = int(32 / sizeof(T));
  typedef T V __attribute__((vector_size(32)));
  using M = decltype(V{} > V{});  // lane masks: signed integers of T's size
  using MI = std::conditional_t<sizeof(T) == 1, int8_t, std::conditional_t<sizeof(T) == 2, int16_t,
             std::conditional_t<sizeof(T) == 4, int32_t, int64_t>>>;
  const T* x = reinterpret_cast<const T*>(plane_base(w, in, p, sizeof(T)));
  const int64_t h0 = w.hs[oh], w0 = w.ws[0];
  const T* rows[KH];
  for (int i = 0; i < KH; ++i) rows[i] = x + (h0 + i) * in.sH;
  for (int64_t ow = 0; ow < w.ow; ow += N) {
    int64_t col[N];  // the first column of each lane's window; lanes past the end repeat the last
    for (int l = 0; l < N; ++l) col[l] = w0 + std::min(ow + l, w.ow - 1) * sw;
    V best{};
    M tap{};
#pragma GCC unroll 9
    for (int k = 0; k < KH * KW; ++k) {
      V v;
      for (int l = 0; l < N; ++l) v[l] = rows[k / KW][(col[l] + k % KW) * in.sW];
      if (k == 0) {
        best = v;  // as max_row: -inf < v or the first tap's index anyway
      } else {
        const M take = (v > best) | (v != v);
        best = take ? v : best;
        tap = take ? M{} + MI(k) : tap;
      }
    }
    for (int l = 0; l < N && ow + l < w.ow; ++l) {
      const int64_t k = int64_t(tap[l]);
      out[ow + l] = best[l];
      ind[ow + l] = (h0 + k / KW) * w.iw + col[l] + k % KW;
    }
  }
}

// The column stride when every window has kh x kw taps, no dilation and evenly spaced columns;
// else 0.
int64_t fixed_windows(const PoolWindows& w, int64_t kh, int64_t kw) {
  if (w.hstep != 1 || w.wstep != 1) return 0;
  for (int64_t i = 0; i < w.oh; ++i)
    if (w.hc[i] != kh) return 0;
  const int64_t sw = w.ow > 1 ? w.ws[1] - w.ws[0] : 1;
  if (sw <= 0) return 0;
  for (int64_t j = 0; j < w.ow; ++j)
    if (w.wc[j] != kw || w.ws[j] != w.ws[0] + j * sw) return 0;
  return sw;
}

template <typename T>
void avg_row(const PoolWindows& w, const PoolInput& in, int64_t p, int64_t oh, T* out) {
  const T* x = reinterpret_cast<const T*>(plane_base(w, in, p, sizeof(T)));
  const int64_t h0 = w.hs[oh], hn = w.hc[oh];
  for (int64_t ow = 0; ow < w.ow; ++ow) {
    const int64_t w0 = w.ws[ow], wn = w.wc[ow];
    if (hn <= 0 || wn <= 0) {
      out[ow] = T(0);
      continue;
    }
    double s = 0;
    for (int64_t i = 0; i < hn; ++i) {
      const T* row = x + (h0 + i) * in.sH + w0 * in.sW;
      if (in.sW == 1) {
        for (int64_t j = 0; j < wn; ++j) s += double(row[j]);
      } else {
        for (int64_t j = 0; j < wn; ++j) s += double(row[j * in.sW]);
      }
    }
    out[ow] = T(s / (w.hdiv[oh] * w.wdiv[ow]));
  }
}

// Runs f(p, oh) over every output row, in parallel.
template <typename F>
void for_rows(const PoolWindows& w, const F& f) {
  const int64_t rows = w.planes * w.oh;
  const int64_t grain = std::max<int64_t>(1, kPoolGrain / std::max<int64_t>(1, w.ow * taps(w)));
  parallel_for(0, rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) f(r / w.oh, r % w.oh);
  });
}

}  // namespace

void max_pool_kernel(DType dtype, const PoolWindows& w, const PoolInput& in, char* out, int64_t* indices) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      throw NotImplementedError("[max_pool2d] not implemented for dtype bool");
    } else {
      T* o = reinterpret_cast<T*>(out);
      int64_t sw = 0;
      const int kind = (sw = fixed_windows(w, 2, 2)) ? 2 : (sw = fixed_windows(w, 3, 3)) ? 3 : 0;
      for_rows(w, [&](int64_t p, int64_t oh) {
        const int64_t off = (p * w.oh + oh) * w.ow;
        if (kind == 2) max_row_fixed<T, 2, 2>(w, in, p, oh, sw, o + off, indices + off);
        else if (kind == 3) max_row_fixed<T, 3, 3>(w, in, p, oh, sw, o + off, indices + off);
        else max_row<T>(w, in, p, oh, o + off, indices + off);
      });
    }
  });
}

void avg_pool_kernel(DType dtype, const PoolWindows& w, const PoolInput& in, char* out) {
  dispatch_floating(dtype, "avg_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = reinterpret_cast<T*>(out);
    for_rows(w, [&](int64_t p, int64_t oh) { avg_row<T>(w, in, p, oh, o + (p * w.oh + oh) * w.ow); });
  });
}

void avg_pool_backward_kernel(DType dtype, const PoolWindows& w, const char* grad_out, char* grad_in) {
  dispatch_floating(dtype, "avg_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t isize = w.ih * w.iw, osize = w.oh * w.ow;
    const int64_t grain = std::max<int64_t>(1, kPoolGrain / std::max<int64_t>(1, osize * taps(w) + isize));
    parallel_for(0, w.planes, grain, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        const T* g = reinterpret_cast<const T*>(grad_out) + p * osize;
        T* gi = reinterpret_cast<T*>(grad_in) + p * isize;
        std::fill(gi, gi + isize, T(0));
        for (int64_t oh = 0; oh < w.oh; ++oh) {
          const int64_t h0 = w.hs[oh], hn = w.hc[oh];
          for (int64_t ow = 0; ow < w.ow; ++ow) {
            const int64_t w0 = w.ws[ow], wn = w.wc[ow];
            if (hn <= 0 || wn <= 0) continue;
            const T v = T(double(g[oh * w.ow + ow]) / (w.hdiv[oh] * w.wdiv[ow]));
            for (int64_t i = 0; i < hn; ++i) {
              T* row = gi + (h0 + i) * w.iw + w0;
              for (int64_t j = 0; j < wn; ++j) row[j] += v;
            }
          }
        }
      }
    });
  });
}

void pool_gather_kernel(DType dtype, int64_t planes, int64_t isize, int64_t osize, const char* src,
                        const int64_t* idx, char* dst) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* s = reinterpret_cast<const T*>(src);
    T* d = reinterpret_cast<T*>(dst);
    const int64_t grain = std::max<int64_t>(1, kPoolGrain / std::max<int64_t>(1, osize));
    parallel_for(0, planes, grain, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        const T* sp = s + p * isize;
        const int64_t* ip = idx + p * osize;
        T* dp = d + p * osize;
        for (int64_t o = 0; o < osize; ++o) dp[o] = sp[ip[o]];
      }
    });
  });
}

void pool_scatter_kernel(DType dtype, int64_t planes, int64_t isize, int64_t osize, const char* src,
                         const int64_t* idx, char* dst) {
  dispatch_floating(dtype, "max_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* s = reinterpret_cast<const T*>(src);
    T* d = reinterpret_cast<T*>(dst);
    const int64_t grain = std::max<int64_t>(1, kPoolGrain / std::max<int64_t>(1, osize + isize));
    parallel_for(0, planes, grain, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        const T* sp = s + p * osize;
        const int64_t* ip = idx + p * osize;
        T* dp = d + p * isize;
        std::fill(dp, dp + isize, T(0));
        for (int64_t o = 0; o < osize; ++o) dp[ip[o]] += sp[o];
      }
    });
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
