// Elementwise kernel families. Each takes a TensorIter whose operand 0 is the output and whose
// inputs already have the compute dtype (the op front end casts). Kernels only compute.
#pragma once
#include "core/dtype.h"
#include "core/iter.h"
#include "kernels/dispatch.h"

namespace tgx {

enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, FloorDiv, Rem, Pow, Maximum, Minimum, Atan2,
  // comparisons and logical ops write bool
  Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr, LogicalXor,
  BitAnd, BitOr, BitXor,
};
inline bool binary_writes_bool(BinaryOp op) { return op >= BinaryOp::Eq && op <= BinaryOp::LogicalXor; }

enum class UnaryOp : uint8_t {
  Neg, Abs, Sign, Exp, Exp2, Expm1, Log, Log2, Log10, Log1p, Sqrt, Rsqrt, Reciprocal, Square,
  Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Tanh, Sigmoid, Relu, Erf, Floor, Ceil, Round, Trunc,
  BitNot,
  // these write bool
  IsNan, IsInf, IsFinite, LogicalNot,
};
inline bool unary_writes_bool(UnaryOp op) { return op >= UnaryOp::IsNan; }

enum class TernaryOp : uint8_t {
  Where,   // out = cond ? a : b           (operand 1 is bool, 2 and 3 have the dtype)
  Lerp,    // out = a + w * (b - a)        (all of the dtype)
  Clamp,   // out = min(max(x, lo), hi)    (all of the dtype; nan propagates)
};

}  // namespace tgx

// Integer division by zero cannot trap: the kernel returns true if it saw a zero divisor.
TGX_DECLARE_KERNEL(bool, binary_kernel, (tgx::BinaryOp op, tgx::DType dtype, const tgx::TensorIter& it))
TGX_DECLARE_KERNEL(void, unary_kernel, (tgx::UnaryOp op, tgx::DType dtype, const tgx::TensorIter& it))
TGX_DECLARE_KERNEL(void, ternary_kernel, (tgx::TernaryOp op, tgx::DType dtype, const tgx::TensorIter& it))
// out (dtype `to`) = cast(in (dtype `from`)); also the strided copy behind contiguous().
TGX_DECLARE_KERNEL(void, copy_kernel, (tgx::DType to, tgx::DType from, const tgx::TensorIter& it))
TGX_DECLARE_KERNEL(void, fill_kernel, (tgx::DType dtype, const tgx::Scalar& value, const tgx::TensorIter& it))
