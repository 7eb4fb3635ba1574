// Vector types for the register-blocked kernels (GEMM and direct convolution micro-kernels):
// one struct per (instruction set, dtype) with the same static members (zero, load, bcast, fma,
// mask, maskload, maskstore, ...), so a micro-kernel is written once as a template over W.
// Avx2F/Avx2D exist in the avx2 build; Avx512F/Avx512D too, compiled for avx512f (used only
// where avx512_enabled() says the CPU has it), in the same arch namespace as their users.
#pragma once

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TGX_SIMD_AVX2 1
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#define TGX_SIMD_AVX512 1
#endif
#endif

#if defined(TGX_SIMD_AVX2)
namespace tgx::cpu::TGX_ARCH_NS::simd {

// ---- AVX2 / FMA vectors -------------------------------------------------------------------
inline __m256i lane_mask8(int n) {  // lanes [0, n) of 8 set
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), iota);
}
inline __m256i lane_mask4(int n) {  // lanes [0, n) of 4 (64-bit) set
  const __m256i iota = _mm256_setr_epi64x(0, 1, 2, 3);
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), iota);
}

struct Avx2F {
  using T = float;
  using V = __m256;
  using M = __m256i;
  static constexpr int L = 8, kRegs = 16;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V bcast(const T* p) { return _mm256_broadcast_ss(p); }
  static V set1(T x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V relu(V x) { return _mm256_max_ps(zero(), x); }  // max(0, nan) = nan
  static T sum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static M mask(int n) { return lane_mask8(n); }
  static M range(int a, int b) { return _mm256_andnot_si256(lane_mask8(a), lane_mask8(b)); }
  static V maskload(const T* p, M m) { return _mm256_maskload_ps(p, m); }
  static void maskstore(T* p, M m, V v) { _mm256_maskstore_ps(p, m, v); }
};
struct Avx2D {
  using T = double;
  using V = __m256d;
  using M = __m256i;
  static constexpr int L = 4, kRegs = 16;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V bcast(const T* p) { return _mm256_broadcast_sd(p); }
  static V set1(T x) { return _mm256_set1_pd(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V relu(V x) { return _mm256_max_pd(zero(), x); }
  static T sum(V v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static M mask(int n) { return lane_mask4(n); }
  static M range(int a, int b) { return _mm256_andnot_si256(lane_mask4(a), lane_mask4(b)); }
  static V maskload(const T* p, M m) { return _mm256_maskload_pd(p, m); }
  static void maskstore(T* p, M m, V v) { _mm256_maskstore_pd(p, m, v); }
};

#if defined(TGX_SIMD_AVX512)
#pragma GCC push_options
#pragma GCC target("avx512f")
// gcc 12 reports its own _mm256_undefined_* idiom inside _mm512_reduce_add_* as uninitialized
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
struct Avx512F {
  using T = float;
  using V = __m512;
  using M = __mmask16;
  static constexpr int L = 16, kRegs = 32;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V bcast(const T* p) { return _mm512_set1_ps(*p); }
  static V set1(T x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V relu(V x) { return _mm512_max_ps(zero(), x); }
  static T sum(V v) { return _mm512_reduce_add_ps(v); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
  static M mask(int n) { return n >= L ? M(0xFFFF) : n <= 0 ? M(0) : M((1u << n) - 1); }
  static M range(int a, int b) { return M(mask(b) & ~mask(a)); }
  static V maskload(const T* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static void maskstore(T* p, M m, V v) { _mm512_mask_storeu_ps(p, m, v); }
};
struct Avx512D {
  using T = double;
  using V = __m512d;
  using M = __mmask8;
  static constexpr int L = 8, kRegs = 32;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V bcast(const T* p) { return _mm512_set1_pd(*p); }
  static V set1(T x) { return _mm512_set1_pd(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V relu(V x) { return _mm512_max_pd(zero(), x); }
  static T sum(V v) { return _mm512_reduce_add_pd(v); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
  static M mask(int n) { return n >= L ? M(0xFF) : n <= 0 ? M(0) : M((1u << n) - 1); }
  static M range(int a, int b) { return M(mask(b) & ~mask(a)); }
  static V maskload(const T* p, M m) { return _mm512_maskz_loadu_pd(m, p); }
  static void maskstore(T* p, M m, V v) { _mm512_mask_storeu_pd(p, m, v); }
};
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // TGX_SIMD_AVX512

}  // namespace tgx::cpu::TGX_ARCH_NS::simd
#endif  // TGX_SIMD_AVX2
