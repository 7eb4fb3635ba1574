// A tiny SIMD wrapper for the math kernels: VecF (8 x float), VecI (8 x int32) and MaskF over
// AVX2/FMA when this translation unit is compiled with -mavx2 -mfma, and plain scalars (float,
// int32_t, bool) everywhere. Both offer the same free functions (fmadd, select, bits, ...), so
// the polynomials in simd_math.h are written once as templates and run on either.
// Everything lives in the arch namespace: the base and avx2 builds of this header never meet.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TGX_VEC_AVX2 1
#endif

namespace tgx::cpu::TGX_ARCH_NS::vec {

// ---- scalars: the portable path (one lane) ------------------------------------------------
// a * b + c; a single fma where the target has one (the avx2 build contracts it), two
// roundings on the portable target. The error bounds in docs/MATH.md hold for both.
inline float fmadd(float a, float b, float c) { return a * b + c; }
inline float select(bool m, float a, float b) { return m ? a : b; }
inline float vmin(float a, float b) { return a < b ? a : b; }  // b if either is nan (as minps)
inline float vmax(float a, float b) { return a > b ? a : b; }
inline bool isnan_(float a) { return a != a; }
inline int32_t bits(float a) { int32_t i; std::memcpy(&i, &a, 4); return i; }
inline float from_bits(int32_t i) { float a; std::memcpy(&a, &i, 4); return a; }
inline float vabs(float a) { return from_bits(bits(a) & 0x7fffffff); }
inline float copysign_(float mag, float sgn) {  // mag must be >= 0
  return from_bits(bits(mag) | (bits(sgn) & int32_t(0x80000000)));
}
inline int32_t shl(int32_t i, int n) { return int32_t(uint32_t(i) << n); }
// Wrapping (two's complement) subtraction: bit-pattern arithmetic must not be signed overflow.
inline int32_t wsub(int32_t a, int32_t b) { return int32_t(uint32_t(a) - uint32_t(b)); }
inline int32_t sra(int32_t i, int n) { return i >> n; }  // arithmetic on g++/clang
inline float to_float(int32_t i) { return float(i); }
inline bool any(bool m) { return m; }
inline bool all(bool m) { return m; }
inline void store(float* p, float v) { *p = v; }

template <class V> struct Traits;
template <> struct Traits<float> { using I = int32_t; using M = bool; static constexpr int lanes = 1; };

#ifdef TGX_VEC_AVX2
// ---- AVX2 / FMA ------------------------------------------------------------------------
struct MaskF { __m256 v; };
struct VecI {
  __m256i v;
  VecI() = default;
  VecI(int32_t x) : v(_mm256_set1_epi32(x)) {}
  explicit VecI(__m256i x) : v(x) {}
};
struct VecF {
  __m256 v;
  VecF() = default;
  VecF(float x) : v(_mm256_set1_ps(x)) {}
  explicit VecF(__m256 x) : v(x) {}
};

inline VecF operator+(VecF a, VecF b) { return VecF(_mm256_add_ps(a.v, b.v)); }
inline VecF operator-(VecF a, VecF b) { return VecF(_mm256_sub_ps(a.v, b.v)); }
inline VecF operator*(VecF a, VecF b) { return VecF(_mm256_mul_ps(a.v, b.v)); }
inline VecF operator/(VecF a, VecF b) { return VecF(_mm256_div_ps(a.v, b.v)); }
inline VecF operator-(VecF a) { return VecF(_mm256_xor_ps(a.v, _mm256_set1_ps(-0.0f))); }
inline MaskF operator<(VecF a, VecF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
inline MaskF operator<=(VecF a, VecF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)}; }
inline MaskF operator>(VecF a, VecF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)}; }
inline MaskF operator>=(VecF a, VecF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ)}; }
inline MaskF operator==(VecF a, VecF b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ)}; }
inline MaskF operator|(MaskF a, MaskF b) { return {_mm256_or_ps(a.v, b.v)}; }
inline MaskF operator&(MaskF a, MaskF b) { return {_mm256_and_ps(a.v, b.v)}; }

inline VecF fmadd(VecF a, VecF b, VecF c) { return VecF(_mm256_fmadd_ps(a.v, b.v, c.v)); }
inline VecF select(MaskF m, VecF a, VecF b) { return VecF(_mm256_blendv_ps(b.v, a.v, m.v)); }
inline VecF vmin(VecF a, VecF b) { return VecF(_mm256_min_ps(a.v, b.v)); }
inline VecF vmax(VecF a, VecF b) { return VecF(_mm256_max_ps(a.v, b.v)); }
inline VecF vabs(VecF a) { return VecF(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)); }
inline VecF copysign_(VecF mag, VecF sgn) {
  return VecF(_mm256_or_ps(mag.v, _mm256_and_ps(sgn.v, _mm256_set1_ps(-0.0f))));
}
inline MaskF isnan_(VecF a) { return {_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)}; }
inline bool any(MaskF m) { return _mm256_movemask_ps(m.v) != 0; }
inline bool all(MaskF m) { return _mm256_movemask_ps(m.v) == 0xff; }
inline VecF load(const float* p) { return VecF(_mm256_loadu_ps(p)); }
inline void store(float* p, VecF v) { _mm256_storeu_ps(p, v.v); }

inline VecI operator+(VecI a, VecI b) { return VecI(_mm256_add_epi32(a.v, b.v)); }
inline VecI operator-(VecI a, VecI b) { return VecI(_mm256_sub_epi32(a.v, b.v)); }
inline VecI wsub(VecI a, VecI b) { return a - b; }  // lanes wrap
inline VecI operator&(VecI a, VecI b) { return VecI(_mm256_and_si256(a.v, b.v)); }
inline VecI bits(VecF a) { return VecI(_mm256_castps_si256(a.v)); }
inline VecF from_bits(VecI i) { return VecF(_mm256_castsi256_ps(i.v)); }
inline VecI shl(VecI i, int n) { return VecI(_mm256_slli_epi32(i.v, n)); }
inline VecI sra(VecI i, int n) { return VecI(_mm256_srai_epi32(i.v, n)); }
inline VecF to_float(VecI i) { return VecF(_mm256_cvtepi32_ps(i.v)); }

template <> struct Traits<VecF> { using I = VecI; using M = MaskF; static constexpr int lanes = 8; };
using PackF = VecF;
#else
using PackF = float;
#endif
// PackF: the widest float vector of this build (VecF with AVX2, else float); load gives one.
#ifndef TGX_VEC_AVX2
inline float load(const float* p) { return *p; }
#endif

}  // namespace tgx::cpu::TGX_ARCH_NS::vec

// ---- AVX-512 (16 x float), in the avx2 build only, compiled for avx512f by pragma ----------
// Same free functions in namespace vec512; simd_math.h instantiates its polynomials there too.
// Callers must check cpu::avx512_enabled() before running any of it.
#if defined(TGX_VEC_AVX2) && defined(__GNUC__) && !defined(__clang__)
#define TGX_VEC_AVX512 1
#pragma GCC push_options
#pragma GCC target("avx512f")
// gcc 12 reports its own _mm512_undefined_* idiom inside masked loads as uninitialized
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
namespace tgx::cpu::TGX_ARCH_NS::vec512 {

struct MaskF { __mmask16 m; };
struct VecI {
  __m512i v;
  VecI() = default;
  VecI(int32_t x) : v(_mm512_set1_epi32(x)) {}
  explicit VecI(__m512i x) : v(x) {}
};
struct VecF {
  __m512 v;
  VecF() = default;
  VecF(float x) : v(_mm512_set1_ps(x)) {}
  explicit VecF(__m512 x) : v(x) {}
};

inline VecI bits(VecF a) { return VecI(_mm512_castps_si512(a.v)); }
inline VecF from_bits(VecI i) { return VecF(_mm512_castsi512_ps(i.v)); }
inline VecF operator+(VecF a, VecF b) { return VecF(_mm512_add_ps(a.v, b.v)); }
inline VecF operator-(VecF a, VecF b) { return VecF(_mm512_sub_ps(a.v, b.v)); }
inline VecF operator*(VecF a, VecF b) { return VecF(_mm512_mul_ps(a.v, b.v)); }
inline VecF operator/(VecF a, VecF b) { return VecF(_mm512_div_ps(a.v, b.v)); }
inline VecF operator-(VecF a) {
  return VecF(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a.v), _mm512_set1_epi32(INT32_MIN))));
}
inline MaskF operator<(VecF a, VecF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
inline MaskF operator<=(VecF a, VecF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ)}; }
inline MaskF operator>(VecF a, VecF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
inline MaskF operator>=(VecF a, VecF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ)}; }
inline MaskF operator==(VecF a, VecF b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ)}; }
inline MaskF operator|(MaskF a, MaskF b) { return {__mmask16(a.m | b.m)}; }
inline MaskF operator&(MaskF a, MaskF b) { return {__mmask16(a.m & b.m)}; }

inline VecF fmadd(VecF a, VecF b, VecF c) { return VecF(_mm512_fmadd_ps(a.v, b.v, c.v)); }
inline VecF select(MaskF m, VecF a, VecF b) { return VecF(_mm512_mask_blend_ps(m.m, b.v, a.v)); }
inline VecF vmin(VecF a, VecF b) { return VecF(_mm512_min_ps(a.v, b.v)); }
inline VecF vmax(VecF a, VecF b) { return VecF(_mm512_max_ps(a.v, b.v)); }
inline VecF vabs(VecF a) {
  return VecF(_mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(a.v), _mm512_set1_epi32(0x7fffffff))));
}
inline VecF copysign_(VecF mag, VecF sgn) {
  const __m512i s = _mm512_and_epi32(_mm512_castps_si512(sgn.v), _mm512_set1_epi32(INT32_MIN));
  return VecF(_mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(mag.v), s)));
}
inline MaskF isnan_(VecF a) { return {_mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q)}; }
inline bool any(MaskF m) { return m.m != 0; }
inline bool all(MaskF m) { return m.m == 0xffff; }
inline VecF load(const float* p) { return VecF(_mm512_loadu_ps(p)); }
inline void store(float* p, VecF v) { _mm512_storeu_ps(p, v.v); }
// The first n < 16 lanes (the others read as 0 and are not written).
inline VecF load_first(const float* p, int n) { return VecF(_mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p)); }
inline void store_first(float* p, VecF v, int n) { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v.v); }

inline VecI operator+(VecI a, VecI b) { return VecI(_mm512_add_epi32(a.v, b.v)); }
inline VecI operator-(VecI a, VecI b) { return VecI(_mm512_sub_epi32(a.v, b.v)); }
inline VecI wsub(VecI a, VecI b) { return a - b; }  // lanes wrap
inline VecI operator&(VecI a, VecI b) { return VecI(_mm512_and_epi32(a.v, b.v)); }
inline VecI shl(VecI i, int n) { return VecI(_mm512_slli_epi32(i.v, unsigned(n))); }
inline VecI sra(VecI i, int n) { return VecI(_mm512_srai_epi32(i.v, unsigned(n))); }
inline VecF to_float(VecI i) { return VecF(_mm512_cvtepi32_ps(i.v)); }

template <class V> struct Traits;
template <> struct Traits<VecF> { using I = VecI; using M = MaskF; static constexpr int lanes = 16; };

}  // namespace tgx::cpu::TGX_ARCH_NS::vec512
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif
