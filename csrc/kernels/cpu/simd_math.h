// float32 exp, log, tanh and sigmoid as templates over vec.h's types: V = float (the portable
// path, one lane) or V = VecF (AVX2/FMA, 8 lanes), and vec512::VecF (AVX-512, 16 lanes) in the
// avx2 build. Same reduction, same polynomials, same fma use: identical results on every width.
// Polynomials: near-minimax fits by bench/fit_poly.py (Lawson IRLS), coefficients rounded to
// float32. Measured max errors over the whole float32 range are in docs/MATH.md and checked by
// tests/test_math_accuracy.py.
#pragma once
#include "kernels/cpu/vec.h"

namespace tgx::cpu::TGX_ARCH_NS::vec {
#include "kernels/cpu/simd_math.inc"
}  // namespace tgx::cpu::TGX_ARCH_NS::vec

#if defined(TGX_VEC_AVX512)
#pragma GCC push_options
#pragma GCC target("avx512f")
namespace tgx::cpu::TGX_ARCH_NS::vec512 {
#include "kernels/cpu/simd_math.inc"
}  // namespace tgx::cpu::TGX_ARCH_NS::vec512
#pragma GCC pop_options
#endif
