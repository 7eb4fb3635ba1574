// Shorthand for derivative formulas written with ops (vjps and jvps): num(0.5), add, sub, mul,
// div, neg. Each call is the recorded op, so formulas built from these differentiate again.
#pragma once
#include "ops/elementwise.h"

namespace tgx::ops::arith {

inline Tensor num(double v) { return scalar_tensor(Scalar::from_double(v)); }
// A null operand is a zero (an absent gradient), so partial sums can start from nullptr.
inline Tensor add(const Tensor& a, const Tensor& b) {
  return !a ? b : (!b ? a : binary(BinaryOp::Add, a, b));
}
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }
inline Tensor neg(const Tensor& a) { return unary(UnaryOp::Neg, a); }

}  // namespace tgx::ops::arith
