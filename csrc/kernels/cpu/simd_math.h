// float32 exp, log, tanh and sigmoid as templates over vec.h's types: V = float (the portable
// path, one lane) or V = VecF (AVX2/FMA, 8 lanes). Same reduction, same polynomials on both.
// Polynomials: near-minimax fits by bench/fit_poly.py (Lawson IRLS), coefficients rounded to
// float32. Measured max errors over the whole float32 range are in docs/MATH.md and checked by
// tests/test_math_accuracy.py.
#pragma once
#include "kernels/cpu/vec.h"

namespace tgx::cpu::TGX_ARCH_NS::vec {

namespace k {
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;        // 9 significant bits: n * kLn2Hi is exact
constexpr float kLn2Lo = -2.12194440e-4f;     // ln 2 - kLn2Hi
constexpr float kMagic = 12582912.0f;         // 1.5 * 2^23: adding it rounds to an integer
constexpr int32_t kMagicBits = 0x4b400000;
constexpr float kInf = __builtin_huge_valf();
constexpr float kNan = __builtin_nanf("");
}  // namespace k

template <class V> inline V horner(V x, float c) { return V(c); }
template <class V, class... Cs> inline V horner(V x, float c0, Cs... cs) {
  return fmadd(horner(x, cs...), x, V(c0));
}

// e^x = 2^n e^r: n = round(x / ln2), r = x - n ln2 (Cody-Waite, |r| <= ln2 / 2), e^r = 1 + r +
// r^2 P(r) with P of degree 4 (rel. error 2^-28 on the interval). Returns e^r and n.
template <class V> struct ExpParts { V er; typename Traits<V>::I n; V nf; };
template <class V> inline ExpParts<V> exp_reduce(V x) {
  using I = typename Traits<V>::I;
  const V t = fmadd(x, V(k::kLog2e), V(k::kMagic));
  const V n = t - V(k::kMagic);
  V r = fmadd(n, V(-k::kLn2Hi), x);
  r = fmadd(n, V(-k::kLn2Lo), r);
  const V p = horner(r, 0x1.fffffcp-2f, 0x1.555492p-3f, 0x1.5558f2p-5f, 0x1.1239e0p-7f, 0x1.6a243ap-10f);
  return {fmadd(r * r, p, r) + V(1.0f), wsub(bits(t), I(k::kMagicBits)), n};
}
// e^x for |x| <= 87 (2^n is a normal float).
template <class V> inline V exp_small(V x) {
  using I = typename Traits<V>::I;
  const ExpParts<V> e = exp_reduce(x);
  return e.er * from_bits(shl(e.n + I(127), 23));
}
// e^x for x in [-104, 89] (not nan). Where 2^n is not a normal float it is applied as
// 2^(n/2) * 2^(n - n/2), so that overflow to inf and gradual underflow round once, at the end.
template <class V> inline V exp_core(V x) {
  using I = typename Traits<V>::I;
  const ExpParts<V> e = exp_reduce(x);
  if (!any((e.nf < V(-126.0f)) | (e.nf > V(127.0f)))) return e.er * from_bits(shl(e.n + I(127), 23));
  const I n1 = sra(e.n, 1);
  const I n2 = e.n - n1;
  return e.er * from_bits(shl(n1 + I(127), 23)) * from_bits(shl(n2 + I(127), 23));
}

template <class V> inline V exp(V x) {
  if (all(vabs(x) <= V(87.0f))) return exp_small(x);  // the common case: no clamps, no nan
  const V y = exp_core(vmin(vmax(x, V(-104.0f)), V(89.0f)));  // outside: 0 and inf by rounding
  return select(isnan_(x), x, y);
}

// log x = e ln2 + log1p(f), x = 2^e (1 + f), 1 + f in [sqrt(1/2), sqrt(2)); log1p(f) = f - f^2/2 +
// f^3 P(f), P of degree 7 (rel. error 2^-27). Denormal inputs are scaled by 2^23 first.
template <class V> inline V log_core(V xs, V e_adj) {
  using I = typename Traits<V>::I;
  const I ix = wsub(bits(xs), I(0x3f3504f3));
  const V e = to_float(sra(ix, 23)) - e_adj;
  const V f = from_bits((ix & I(0x007fffff)) + I(0x3f3504f3)) - V(1.0f);
  const V f2 = f * f;
  const V p = horner(f, 0x1.555554p-2f, -0x1.000226p-2f, 0x1.99a006p-3f, -0x1.547242p-3f,
                     0x1.22da3cp-3f, -0x1.0d8576p-3f, 0x1.055a98p-3f, -0x1.38b232p-4f);
  V y = fmadd(f2 * f, p, e * V(k::kLn2Lo));
  y = fmadd(f2, V(-0.5f), y);
  return fmadd(e, V(k::kLn2Hi), f + y);
}

template <class V> inline V log(V x) {
  constexpr float kMinNormal = 1.17549435e-38f, kMax = 3.40282347e38f;
  if (all((x >= V(kMinNormal)) & (x <= V(kMax)))) return log_core(x, V(0.0f));
  const auto tiny = x < V(kMinNormal);
  V res = log_core(select(tiny, x * V(8388608.0f), x), select(tiny, V(23.0f), V(0.0f)));
  res = select(x == V(k::kInf), V(k::kInf), res);
  res = select(x == V(0.0f), V(-k::kInf), res);
  return select(x < V(0.0f), V(k::kNan), select(isnan_(x), x, res));
}

// tanh: |x| < 0.625: x + x^3 P(x^2), P of degree 4 (rel. error 2^-26.8); otherwise
// 1 - 2 / (e^{2|x|} + 1) with |x| clamped to 9.5 (tanh rounds to 1 from 9.01 on). Odd by copysign.
template <class V> inline V tanh_small(V ax) {
  const V x2 = ax * ax;
  const V p = horner(x2, -0x1.555532p-2f, 0x1.110726p-3f, -0x1.b83c5ap-5f, 0x1.52269ap-6f,
                     -0x1.75e1ccp-8f);
  return fmadd(x2 * ax, p, ax);
}
template <class V> inline V tanh_large(V ax) {  // ax in [0, 9.5]
  return V(1.0f) - V(2.0f) / (exp_small(ax * V(2.0f)) + V(1.0f));
}

template <class V> inline V tanh(V x) {
  // Branch-free on purpose: data-dependent branches here mispredict on mixed inputs and stall
  // the streaming loads of large tensors (measured 4x slower at 1e7 elements).
  const V ax = vabs(x);
  const V res = select(ax < V(0.625f), tanh_small(ax), tanh_large(vmin(ax, V(9.5f))));
  return select(isnan_(x), x, copysign_(res, x));
}

// sigmoid: t = e^{-|x|} (never overflows); 1 / (1 + t) for x >= 0, t / (1 + t) for x < 0, so
// large negative x gives the (denormal) e^x, never nan or a premature 0.
template <class V> inline V sigmoid(V x) {
  const V ax = vabs(x);
  if (all(ax <= V(87.0f))) {
    const V t = exp_small(-ax);
    return select(x < V(0.0f), t, V(1.0f)) / (t + V(1.0f));
  }
  const V t = exp_core(vmax(-ax, V(-104.0f)));
  const V res = select(x < V(0.0f), t, V(1.0f)) / (t + V(1.0f));
  return select(isnan_(x), x, res);
}

}  // namespace tgx::cpu::TGX_ARCH_NS::vec
