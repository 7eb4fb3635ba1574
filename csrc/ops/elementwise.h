// Elementwise ops: dtype promotion (PyTorch's rules), broadcasting, then one kernel call.
#pragma once
#include "core/tensor.h"
#include "kernels/cpu/elementwise.h"

namespace tgx::ops {

// PyTorch's result_type: dimensioned tensors outrank 0-d tensors, which outrank wrapped Python
// numbers; a lower rank only matters when it brings a higher category (bool < int < float).
DType result_type(std::initializer_list<const TensorImpl*> operands);
// A Python number as a 0-d "wrapped number" tensor (bool, int64 or float64 storage).
Tensor scalar_tensor(const Scalar& s, bool wrapped = true);
Tensor scalar_tensor(const Scalar& s, DType dtype);
// The wrapped number for `s` as an operand next to `other`: stored in other's dtype when that is
// floating (the dtype the op computes in anyway), else as scalar_tensor(s).
Tensor wrapped_scalar_like(const Scalar& s, const Tensor& other);

Tensor to_dtype(const Tensor& t, DType dtype, bool copy = false);
Tensor contiguous(const Tensor& t);
Tensor clone(const Tensor& t);
// dst[...] = src, broadcasting src and casting to dst's dtype. Returns dst.
Tensor copy_(const Tensor& dst, const Tensor& src);
Tensor fill_(const Tensor& dst, const Scalar& value);

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out = nullptr);
// In-place: self op= other (result must be castable to self's dtype, as PyTorch).
Tensor binary_(BinaryOp op, const Tensor& self, const Tensor& other);
Tensor unary(UnaryOp op, const Tensor& a, const Tensor& out = nullptr);
Tensor unary_(UnaryOp op, const Tensor& self);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// g * relu'(x) from relu's output o: g where o > 0, else 0 (relu's and the fused linear's vjp).
Tensor relu_backward(const Tensor& g, const Tensor& o);
Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& weight);
// Either bound may be null (no bound on that side).
Tensor clamp(const Tensor& x, const Tensor& lo, const Tensor& hi, const Tensor& out = nullptr);
Tensor nan_to_num(const Tensor& x, double nan, double posinf, double neginf);

const char* binary_name(BinaryOp op);
const char* unary_name(UnaryOp op);

}  // namespace tgx::ops
