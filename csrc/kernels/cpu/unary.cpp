// Unary elementwise kernels (and where/lerp/clamp, which share the shape of the code).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/simd_math.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

constexpr int64_t kMathGrain = 4096;  // transcendental functions: parallelise sooner

enum class MathFn { Exp, Log, Tanh, Sigmoid };

// The same dispatch is written once per vector namespace (NS = vec or vec512).
#define TGX_MATH_FN(NS, F, x)                                              \
  (F == MathFn::Exp ? NS::exp(x) : F == MathFn::Log ? NS::log(x)           \
   : F == MathFn::Tanh ? NS::tanh(x) : NS::sigmoid(x))

#if defined(TGX_VEC_AVX512)
// 16 lanes: a whole contiguous run per (non-inlinable) call into the avx512f-compiled code, the
// last partial vector with masked loads and stores. Results equal the 8-lane path's (same code).
#pragma GCC push_options
#pragma GCC target("avx512f")
template <MathFn F> void math_run_512(const float* a, float* o, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) vec512::store(o + i, TGX_MATH_FN(vec512, F, vec512::load(a + i)));
  if (i < n) {
    const int m = int(n - i);
    vec512::store_first(o + i, TGX_MATH_FN(vec512, F, vec512::load_first(a + i, m)), m);
  }
}
#pragma GCC pop_options
#endif

// float32 transcendental functions from simd_math.h (16 lanes with AVX-512, 8 with AVX2/FMA,
// 1 lane portable).
template <MathFn F>
void math_loop_f32(const TensorIter& it) {
#if defined(TGX_VEC_AVX512)
  if (avx512_enabled()) {
    it.for_each([](char** d, const int64_t* s, int64_t n) {
      if (s[0] == sizeof(float) && s[1] == sizeof(float)) {
        const float* a = reinterpret_cast<const float*>(d[1]);
        write_run(reinterpret_cast<float*>(d[0]), n,
                  [&](float* o, int64_t i0, int64_t m) { math_run_512<F>(a + i0, o, m); });
        return;
      }
      constexpr int64_t kBuf = 256;  // strided: through a buffer
      alignas(64) float bi[kBuf], bo[kBuf];
      for (int64_t i = 0; i < n; i += kBuf) {
        const int64_t m = std::min(kBuf, n - i);
        for (int64_t j = 0; j < m; ++j) bi[j] = at<float>(d[1], s[1], i + j);
        math_run_512<F>(bi, bo, m);
        for (int64_t j = 0; j < m; ++j) at<float>(d[0], s[0], i + j) = bo[j];
      }
    }, kMathGrain);
    return;
  }
#endif
  using P = vec::PackF;
  unary_vec_loop<float, vec::Traits<P>::lanes>(
      it, [&](const float* a, float* o) { vec::store(o, TGX_MATH_FN(vec, F, vec::load(a))); }, kMathGrain);
}

template <typename T>
void run_unary(UnaryOp op, const TensorIter& it) {
  constexpr bool is_float = std::is_floating_point_v<T>;
  constexpr bool is_bool = std::is_same_v<T, bool>;
  using UT = typename std::conditional_t<std::is_integral_v<T> && !is_bool, std::make_unsigned<T>, std::common_type<uint8_t>>::type;
#define TGX_SIMD_CASE(NAME)                                                            \
  case UnaryOp::NAME:                                                                  \
    if constexpr (std::is_same_v<T, float>) {                                          \
      math_loop_f32<MathFn::NAME>(it);                                                 \
      return;                                                                          \
    }                                                                                  \
    break;
#define TGX_FLOAT_CASE(NAME, EXPR)                                                     \
  case UnaryOp::NAME:                                                                  \
    if constexpr (is_float) { unary_loop<T, T>(it, [](T x) -> T { return EXPR; }, kMathGrain); return; } \
    break;
  switch (op) {  // float32 polynomial versions; float64 and the other ops use libm below
    TGX_SIMD_CASE(Exp)
    TGX_SIMD_CASE(Log)
    TGX_SIMD_CASE(Tanh)
    TGX_SIMD_CASE(Sigmoid)
    default:
      break;
  }
  switch (op) {
    case UnaryOp::Neg:
      if constexpr (is_float) { unary_loop<T, T>(it, [](T x) { return -x; }); return; }
      else if constexpr (!is_bool) { unary_loop<T, T>(it, [](T x) { return T(UT(0) - UT(x)); }); return; }
      break;
    case UnaryOp::Abs:
      if constexpr (is_float) unary_loop<T, T>(it, [](T x) { return std::abs(x); });
      else if constexpr (std::is_signed_v<T>) unary_loop<T, T>(it, [](T x) { return x < 0 ? T(UT(0) - UT(x)) : x; });
      else unary_loop<T, T>(it, [](T x) { return x; });
      return;
    case UnaryOp::Sign:
      if constexpr (is_bool) unary_loop<T, T>(it, [](T x) { return x; });
      else unary_loop<T, T>(it, [](T x) { return T((T(0) < x) - (x < T(0))); });
      return;
    case UnaryOp::Square:
      if constexpr (is_float) { unary_loop<T, T>(it, [](T x) { return x * x; }); return; }
      else if constexpr (!is_bool) { unary_loop<T, T>(it, [](T x) { return T(UT(x) * UT(x)); }); return; }
      break;
    case UnaryOp::Relu:
      if constexpr (!is_bool) { unary_loop<T, T>(it, [](T x) { return (x > T(0) || x != x) ? x : T(0); }); return; }
      break;
    TGX_FLOAT_CASE(Exp, std::exp(x))
    TGX_FLOAT_CASE(Exp2, std::exp2(x))
    TGX_FLOAT_CASE(Expm1, std::expm1(x))
    TGX_FLOAT_CASE(Log, std::log(x))
    TGX_FLOAT_CASE(Log2, std::log2(x))
    TGX_FLOAT_CASE(Log10, std::log10(x))
    TGX_FLOAT_CASE(Log1p, std::log1p(x))
    TGX_FLOAT_CASE(Sqrt, std::sqrt(x))
    TGX_FLOAT_CASE(Rsqrt, T(1) / std::sqrt(x))
    TGX_FLOAT_CASE(Reciprocal, T(1) / x)
    TGX_FLOAT_CASE(Sin, std::sin(x))
    TGX_FLOAT_CASE(Cos, std::cos(x))
    TGX_FLOAT_CASE(Tan, std::tan(x))
    TGX_FLOAT_CASE(Asin, std::asin(x))
    TGX_FLOAT_CASE(Acos, std::acos(x))
    TGX_FLOAT_CASE(Atan, std::atan(x))
    TGX_FLOAT_CASE(Sinh, std::sinh(x))
    TGX_FLOAT_CASE(Cosh, std::cosh(x))
    TGX_FLOAT_CASE(Tanh, std::tanh(x))
    TGX_FLOAT_CASE(Sigmoid, T(1) / (T(1) + std::exp(-x)))
    TGX_FLOAT_CASE(Erf, std::erf(x))
    TGX_FLOAT_CASE(Floor, std::floor(x))
    TGX_FLOAT_CASE(Ceil, std::ceil(x))
    TGX_FLOAT_CASE(Round, std::nearbyint(x))
    TGX_FLOAT_CASE(Trunc, std::trunc(x))
    case UnaryOp::BitNot:
      if constexpr (is_bool) { unary_loop<T, T>(it, [](T x) { return !x; }); return; }
      else if constexpr (!is_float) { unary_loop<T, T>(it, [](T x) { return T(~x); }); return; }
      break;
    case UnaryOp::IsNan:
      if constexpr (is_float) unary_loop<bool, T>(it, [](T x) { return x != x; });
      else unary_loop<bool, T>(it, [](T) { return false; });
      return;
    case UnaryOp::IsInf:
      if constexpr (is_float) unary_loop<bool, T>(it, [](T x) { return std::isinf(x); });
      else unary_loop<bool, T>(it, [](T) { return false; });
      return;
    case UnaryOp::IsFinite:
      if constexpr (is_float) unary_loop<bool, T>(it, [](T x) { return std::isfinite(x); });
      else unary_loop<bool, T>(it, [](T) { return true; });
      return;
    case UnaryOp::LogicalNot:
      unary_loop<bool, T>(it, [](T x) { return x == T(0); });
      return;
  }
#undef TGX_FLOAT_CASE
#undef TGX_SIMD_CASE
#undef TGX_MATH_FN
  throw NotImplementedError(str("[unary_kernel] op ", int(op), " not implemented for dtype ", dtype_of<T>()));
}

template <typename T>
void run_ternary(TernaryOp op, const TensorIter& it) {
  switch (op) {
    case TernaryOp::Where:
      // a bit select on the condition's byte, not `bool c ? a : b`: gcc turns that into a branch
      // per element (which mispredicts on a random mask, as relu's backward has) and does not
      // vectorise loads of bool
      ternary_loop<T, uint8_t, T, T>(it, [](uint8_t c, T a, T b) {
        using U = std::conditional_t<sizeof(T) == 8, uint64_t, std::conditional_t<sizeof(T) == 4, uint32_t,
                  std::conditional_t<sizeof(T) == 2, uint16_t, uint8_t>>>;
        const U m = U(U(0) - U(c != 0));
        return __builtin_bit_cast(T, U((__builtin_bit_cast(U, a) & m) | (__builtin_bit_cast(U, b) & U(~m))));
      });
      return;
    case TernaryOp::Lerp:
      if constexpr (std::is_floating_point_v<T>) {
        ternary_loop<T, T, T, T>(it, [](T a, T b, T w) {
          return std::abs(w) < T(0.5) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
        });
        return;
      }
      break;
    case TernaryOp::Clamp:
      ternary_loop<T, T, T, T>(it, [](T x, T lo, T hi) {
        if constexpr (std::is_floating_point_v<T>) {
          if (x != x || lo != lo || hi != hi) return x + lo + hi;  // nan propagates
        }
        T y = x < lo ? lo : x;
        return y > hi ? hi : y;
      });
      return;
  }
  throw NotImplementedError(str("[ternary_kernel] op ", int(op), " not implemented for dtype ", dtype_of<T>()));
}

}  // namespace

void unary_kernel(UnaryOp op, DType dtype, const TensorIter& it) {
  dispatch(dtype, [&](auto tag) { run_unary<typename decltype(tag)::type>(op, it); });
}

void ternary_kernel(TernaryOp op, DType dtype, const TensorIter& it) {
  dispatch(dtype, [&](auto tag) { run_ternary<typename decltype(tag)::type>(op, it); });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
