// Inner loops over a TensorIter run: a contiguous fast path the compiler vectorises, the
// broadcast-scalar paths, and the generic strided path. Kernel authors write a functor.
#pragma once
#include <algorithm>
#include <cstdint>

#include "core/iter.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tgx::cpu {

template <typename T> inline T& at(char* p, int64_t stride, int64_t i) {
  return *reinterpret_cast<T*>(p + i * stride);
}

// Contiguous runs of outputs at least this large are written with non-temporal stores: such a
// result does not stay in the caches anyway, and streaming saves the read-for-ownership of
// every output line (a third of the memory traffic of a unary op, a quarter of a binary one).
constexpr int64_t kStreamBytes = int64_t(8) << 20;

// Writes the outputs o[0, n) of a contiguous run: fill(dst, i, m) computes outputs [i, i + m)
// into dst[0, m). Small runs are computed in place; large ones in 4 KiB blocks through an L1
// buffer that non-temporal stores copy out (so `fill` may read o, as in-place ops do).
template <typename T, typename Fill>
void write_run(T* o, int64_t n, const Fill& fill) {
#if defined(__SSE2__)
  if (n * int64_t(sizeof(T)) >= kStreamBytes && reinterpret_cast<uintptr_t>(o) % sizeof(T) == 0) {
    constexpr int64_t kBlk = 4096 / int64_t(sizeof(T));
    alignas(64) T buf[kBlk];
    const int64_t head = std::min<int64_t>(
        n, int64_t((16 - (reinterpret_cast<uintptr_t>(o) & 15)) & 15) / int64_t(sizeof(T)));
    if (head) fill(o, 0, head);
    int64_t i = head;
    for (; i + kBlk <= n; i += kBlk) {
      fill(buf, i, kBlk);
      const __m128i* src = reinterpret_cast<const __m128i*>(buf);
      __m128i* dst = reinterpret_cast<__m128i*>(o + i);
      for (int k = 0; k < 4096 / 16; ++k) _mm_stream_si128(dst + k, _mm_load_si128(src + k));
    }
    if (i < n) fill(o + i, i, n - i);
    _mm_sfence();  // the streamed lines are visible before the caller moves on
    return;
  }
#endif
  fill(o, 0, n);
}

template <typename Tout, typename Tin, typename F>
void unary_loop(const TensorIter& it, const F& f, int64_t grain = kDefaultGrain) {
  it.for_each([&](char** d, const int64_t* s, int64_t n) {
    if (s[0] == sizeof(Tout) && s[1] == sizeof(Tin)) {
      const Tin* a = reinterpret_cast<const Tin*>(d[1]);
      write_run(reinterpret_cast<Tout*>(d[0]), n, [&](Tout* __restrict o, int64_t i0, int64_t m) {
        for (int64_t i = 0; i < m; ++i) o[i] = f(a[i0 + i]);
      });
    } else {
      for (int64_t i = 0; i < n; ++i) at<Tout>(d[0], s[0], i) = f(at<Tin>(d[1], s[1], i));
    }
  }, grain);
}

// Vector-functor loop for T -> T maps: vf(in, out) computes exactly W consecutive elements.
// Contiguous runs call it in place; the tail of a run and every strided (or broadcast) run go
// through a small stack buffer, so each element goes through the same W-lane code whatever the
// layout (results do not depend on strides or alignment).
template <typename T, int W, typename VF>
void unary_vec_loop(const TensorIter& it, const VF& vf, int64_t grain = kDefaultGrain) {
  static_assert(W >= 1 && 256 % W == 0, "lane count must divide the buffer");
  it.for_each([&](char** d, const int64_t* s, int64_t n) {
    constexpr int64_t kBuf = 256;
    alignas(64) T bi[kBuf], bo[kBuf];
    int64_t i = 0;
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
      const T* a0 = reinterpret_cast<const T*>(d[1]);
      write_run(reinterpret_cast<T*>(d[0]), n, [&](T* o, int64_t i0, int64_t m) {
        const T* a = a0 + i0;
        int64_t j = 0;
        for (; j + W <= m; j += W) vf(a + j, o + j);
        if (j == m) return;
        for (int64_t k = 0; k < W; ++k) bi[k] = j + k < m ? a[j + k] : T(0);
        vf(bi, bo);
        for (int64_t k = 0; j + k < m; ++k) o[j + k] = bo[k];
      });
      return;
    }
    for (; i < n; i += kBuf) {
      const int64_t m = std::min(kBuf, n - i), mw = (m + W - 1) / W * W;
      for (int64_t j = 0; j < m; ++j) bi[j] = at<T>(d[1], s[1], i + j);
      for (int64_t j = m; j < mw; ++j) bi[j] = T(0);
      for (int64_t j = 0; j < mw; j += W) vf(bi + j, bo + j);
      for (int64_t j = 0; j < m; ++j) at<T>(d[0], s[0], i + j) = bo[j];
    }
  }, grain);
}

template <typename Tout, typename Tin, typename F>
void binary_loop(const TensorIter& it, const F& f, int64_t grain = kDefaultGrain) {
  it.for_each([&](char** d, const int64_t* s, int64_t n) {
    constexpr int64_t so = sizeof(Tout), si = sizeof(Tin);
    Tout* o = reinterpret_cast<Tout*>(d[0]);
    const Tin* a = reinterpret_cast<const Tin*>(d[1]);
    const Tin* b = reinterpret_cast<const Tin*>(d[2]);
    if (s[0] == so && s[1] == si && s[2] == si) {
      write_run(o, n, [&](Tout* __restrict r, int64_t i0, int64_t m) {
        for (int64_t i = 0; i < m; ++i) r[i] = f(a[i0 + i], b[i0 + i]);
      });
    } else if (s[0] == so && s[1] == si && s[2] == 0) {
      const Tin bv = *b;
      write_run(o, n, [&](Tout* __restrict r, int64_t i0, int64_t m) {
        for (int64_t i = 0; i < m; ++i) r[i] = f(a[i0 + i], bv);
      });
    } else if (s[0] == so && s[1] == 0 && s[2] == si) {
      const Tin av = *a;
      write_run(o, n, [&](Tout* __restrict r, int64_t i0, int64_t m) {
        for (int64_t i = 0; i < m; ++i) r[i] = f(av, b[i0 + i]);
      });
    } else {
      for (int64_t i = 0; i < n; ++i)
        at<Tout>(d[0], s[0], i) = f(at<Tin>(d[1], s[1], i), at<Tin>(d[2], s[2], i));
    }
  }, grain);
}

template <typename Tout, typename T1, typename T2, typename T3, typename F>
void ternary_loop(const TensorIter& it, const F& f, int64_t grain = kDefaultGrain) {
  it.for_each([&](char** d, const int64_t* s, int64_t n) {
    Tout* o = reinterpret_cast<Tout*>(d[0]);
    const T1* a = reinterpret_cast<const T1*>(d[1]);
    const T2* b = reinterpret_cast<const T2*>(d[2]);
    const T3* c = reinterpret_cast<const T3*>(d[3]);
    const bool head = s[0] == sizeof(Tout) && s[1] == sizeof(T1);
    if (head && s[2] == sizeof(T2) && s[3] == sizeof(T3)) {
      write_run(o, n, [&](Tout* __restrict r, int64_t i0, int64_t m) {
        for (int64_t i = 0; i < m; ++i) r[i] = f(a[i0 + i], b[i0 + i], c[i0 + i]);
      });
    } else if (head && s[2] == sizeof(T2) && s[3] == 0) {  // e.g. where(cond, x, 0)
      const T3 cv = *c;
      write_run(o, n, [&](Tout* __restrict r, int64_t i0, int64_t m) {
        for (int64_t i = 0; i < m; ++i) r[i] = f(a[i0 + i], b[i0 + i], cv);
      });
    } else if (head && s[2] == 0 && s[3] == sizeof(T3)) {  // e.g. where(cond, 0, x)
      const T2 bv = *b;
      write_run(o, n, [&](Tout* __restrict r, int64_t i0, int64_t m) {
        for (int64_t i = 0; i < m; ++i) r[i] = f(a[i0 + i], bv, c[i0 + i]);
      });
    } else {
      for (int64_t i = 0; i < n; ++i)
        at<Tout>(d[0], s[0], i) =
            f(at<T1>(d[1], s[1], i), at<T2>(d[2], s[2], i), at<T3>(d[3], s[3], i));
    }
  }, grain);
}

}  // namespace tgx::cpu
