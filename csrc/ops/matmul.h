// Matrix products: matmul (NumPy semantics), mm, bmm, dot, mv, outer, addmm, baddbmm, inner,
// tensordot and einsum. All promote like elementwise ops (ops::result_type) and end in one
// strided GEMM kernel call per batch element (no copies for transposed or expanded operands).
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tgx::ops {

Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
Tensor dot(const Tensor& a, const Tensor& b);
Tensor vdot(const Tensor& a, const Tensor& b);
Tensor mv(const Tensor& a, const Tensor& v);
Tensor outer(const Tensor& a, const Tensor& b);
// beta * input + alpha * (mat1 @ mat2); input broadcasts to the product's shape. beta == 0
// ignores input (nan in it does not propagate), as PyTorch.
// F.linear's fused form for 2-D input: act(input @ weight^T + bias) in one GEMM whose epilogue
// adds the bias and applies the activation ("none" or "relu") as C is written. bias may be null.
// One autograd node (AddmmBackward0, or LinearReluBackward0 with the relu).
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias,
              const std::string& activation);
Tensor addmm(const Tensor& input, const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
             const Scalar& alpha);
Tensor baddbmm(const Tensor& input, const Tensor& b1, const Tensor& b2, const Scalar& beta,
               const Scalar& alpha);
Tensor inner(const Tensor& a, const Tensor& b);
// Contracts dims_a of a with dims_b of b; the result has a's free dims then b's.
Tensor tensordot(const Tensor& a, const Tensor& b, std::vector<int64_t> dims_a,
                 std::vector<int64_t> dims_b);
// The last `dims` dims of a with the first `dims` dims of b.
Tensor tensordot(const Tensor& a, const Tensor& b, int64_t dims);
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);

}  // namespace tgx::ops
