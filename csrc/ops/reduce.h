// Reductions and scans. `dims` empty means "all dims"; negative dims wrap; duplicates raise
// RuntimeError. Integer and bool inputs sum/prod/cumsum to int64; mean/var/std/softmax/norm need
// floating input (or a floating `dtype`). Min/max-like reductions of a zero-size dim raise
// IndexError. Values and names follow PyTorch.
#pragma once
#include <optional>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace tgx::ops {

using Dims = std::vector<int64_t>;

Tensor sum(const Tensor& x, const Dims& dims = {}, bool keepdim = false,
           std::optional<DType> dtype = std::nullopt);
// Sums the broadcast dims of grad back to `shape` (the autograd un-broadcast). `shape` must
// broadcast to grad's shape. Returns grad itself when the shapes already agree.
Tensor sum_to_shape(const Tensor& grad, const Shape& shape);
Tensor mean(const Tensor& x, const Dims& dims = {}, bool keepdim = false,
            std::optional<DType> dtype = std::nullopt);
// dims empty = all (PyTorch's prod takes one dim or none).
Tensor prod(const Tensor& x, const Dims& dims = {}, bool keepdim = false,
            std::optional<DType> dtype = std::nullopt);
// Divides by max(0, N - correction): correction 1 is the unbiased estimate.
Tensor var(const Tensor& x, const Dims& dims = {}, double correction = 1, bool keepdim = false);
Tensor std_dev(const Tensor& x, const Dims& dims = {}, double correction = 1, bool keepdim = false);
std::pair<Tensor, Tensor> var_mean(const Tensor& x, const Dims& dims = {}, double correction = 1,
                                   bool keepdim = false);
std::pair<Tensor, Tensor> std_mean(const Tensor& x, const Dims& dims = {}, double correction = 1,
                                   bool keepdim = false);

Tensor amax(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor max(const Tensor& x);  // over everything, 0-d
Tensor min(const Tensor& x);
// (values, indices) along one dim.
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
// (min, max)
std::pair<Tensor, Tensor> aminmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt,
                                  bool keepdim = false);
// dim nullopt: index into the flattened tensor.
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor all(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor any(const Tensor& x, const Dims& dims = {}, bool keepdim = false);

Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);
Tensor softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor log_softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor cumprod(const Tensor& x, int64_t dim, std::optional<DType> dtype = std::nullopt);
// Vector p-norm over dims (all when empty): p may be +-inf, 0 (count of non-zeros) or any number.
Tensor norm(const Tensor& x, double p = 2, const Dims& dims = {}, bool keepdim = false);

// Views that are differentiable whether or not the shape ops record themselves yet: when the
// view op left no history on a result whose input needs it, a ViewBackward node is recorded
// here (a no-op once csrc/ops/shape.cpp records). Used by the vjps of reductions and matmuls.
namespace detail {
Tensor reshape_ad(const Tensor& t, const Shape& shape);
Tensor matrix_transpose_ad(const Tensor& t);
Tensor permute_ad(const Tensor& t, const Dims& perm);
Tensor flip_ad(const Tensor& t, int64_t dim);
}  // namespace detail

}  // namespace tgx::ops
