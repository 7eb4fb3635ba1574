// Inner loops over a TensorIter run: a contiguous fast path the compiler vectorises, the
// broadcast-scalar paths, and the generic strided path. Kernel authors write a functor.
#pragma once
#include "core/iter.h"

namespace tgx::cpu {

template <typename T> inline T& at(char* p, int64_t stride, int64_t i) {
  return *reinterpret_cast<T*>(p + i * stride);
}

template <typename Tout, typename Tin, typename F>
void unary_loop(const TensorIter& it, const F& f, int64_t grain = kDefaultGrain) {
  it.for_each([&](char** d, const int64_t* s, int64_t n) {
    if (s[0] == sizeof(Tout) && s[1] == sizeof(Tin)) {
      Tout* __restrict o = reinterpret_cast<Tout*>(d[0]);
      const Tin* a = reinterpret_cast<const Tin*>(d[1]);
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
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
      T* o = reinterpret_cast<T*>(d[0]);
      const T* a = reinterpret_cast<const T*>(d[1]);
      for (; i + W <= n; i += W) vf(a + i, o + i);
      if (i == n) return;
      const int64_t m = n - i;
      for (int64_t j = 0; j < W; ++j) bi[j] = j < m ? a[i + j] : T(0);
      vf(bi, bo);
      for (int64_t j = 0; j < m; ++j) o[i + j] = bo[j];
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
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
    } else if (s[0] == so && s[1] == si && s[2] == 0) {
      const Tin bv = *b;
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
    } else if (s[0] == so && s[1] == 0 && s[2] == si) {
      const Tin av = *a;
      for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        at<Tout>(d[0], s[0], i) = f(at<Tin>(d[1], s[1], i), at<Tin>(d[2], s[2], i));
    }
  }, grain);
}

template <typename Tout, typename T1, typename T2, typename T3, typename F>
void ternary_loop(const TensorIter& it, const F& f, int64_t grain = kDefaultGrain) {
  it.for_each([&](char** d, const int64_t* s, int64_t n) {
    if (s[0] == sizeof(Tout) && s[1] == sizeof(T1) && s[2] == sizeof(T2) && s[3] == sizeof(T3)) {
      Tout* o = reinterpret_cast<Tout*>(d[0]);
      const T1* a = reinterpret_cast<const T1*>(d[1]);
      const T2* b = reinterpret_cast<const T2*>(d[2]);
      const T3* c = reinterpret_cast<const T3*>(d[3]);
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i], c[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        at<Tout>(d[0], s[0], i) =
            f(at<T1>(d[1], s[1], i), at<T2>(d[2], s[2], i), at<T3>(d[3], s[3], i));
    }
  }, grain);
}

}  // namespace tgx::cpu
