// Shape and view ops (PyTorch names and semantics). Views share storage and only change
// shape/strides/offset; the copying ops (cat, flip, roll, pad, ...) are built from views plus
// copy_/fill_, so they need no kernels of their own. Every view accepts any strides, including
// zero (expanded) and negative (flipped) ones.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tgx::ops {

using Dims = std::vector<int64_t>;
using TensorList = std::vector<Tensor>;
using ViewFn = std::function<Tensor(const Tensor&)>;

// ---- helpers ------------------------------------------------------------------------------
// Replaces one -1 in `shape` so that it holds `numel` elements; ValueError otherwise
// ("[op] shape '[2, 5]' is invalid for input of size 6").
Shape infer_size(const Shape& shape, int64_t numel, const char* op);
// Strides that let a tensor with (old_shape, old_strides) be viewed as new_shape without a
// copy (PyTorch's computeStride), or nullopt when no such strides exist.
std::optional<Shape> compute_view_strides(const Shape& old_shape, const Shape& old_strides,
                                          const Shape& new_shape);

// Autograd helper (the backward of views that pick part of their input): zeros of `shape` (g's
// dtype) with view_fn(zeros) = g. Recorded: its vjp is view_fn(grad), so it differentiates again.
Tensor view_scatter(const Tensor& g, const Shape& shape, const ViewFn& view_fn);

// ---- views (metadata only) ----------------------------------------------------------------
// Each view records itself for autograd (PyTorch's names: ViewBackward0, PermuteBackward0...);
// its jvp is the same view of the tangent.
Tensor view(const Tensor& t, const Shape& shape);          // RuntimeError if strides forbid it
Tensor reshape(const Tensor& t, const Shape& shape);       // a view when possible, else a copy
Tensor flatten(const Tensor& t, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor unflatten(const Tensor& t, int64_t dim, const Shape& sizes);
Tensor squeeze(const Tensor& t);                           // every size-1 dim
Tensor squeeze(const Tensor& t, const Dims& dims);         // the listed dims that have size 1
Tensor unsqueeze(const Tensor& t, int64_t dim);
Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& t, const Dims& dims);
Tensor movedim(const Tensor& t, const Dims& source, const Dims& destination);
Tensor transpose_2d(const Tensor& t);                      // Tensor.t(): a <= 2-d tensor
Tensor reverse_dims(const Tensor& t);                      // Tensor.T: all dims reversed
Tensor matrix_transpose(const Tensor& t);                  // Tensor.mT: last two dims swapped
Tensor expand(const Tensor& t, const Shape& sizes);        // -1 keeps a size; new leading dims
Tensor broadcast_to(const Tensor& t, const Shape& shape);
TensorList broadcast_tensors(const TensorList& tensors);
Shape broadcast_shapes(const std::vector<Shape>& shapes);
Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& t, int64_t dim, int64_t index);
TensorList unbind(const Tensor& t, int64_t dim = 0);
TensorList split(const Tensor& t, int64_t split_size, int64_t dim = 0);
TensorList split_with_sizes(const Tensor& t, const Shape& sizes, int64_t dim = 0);
TensorList chunk(const Tensor& t, int64_t chunks, int64_t dim = 0);
Tensor diagonal(const Tensor& t, int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1);
// Internal (tests and other ops): the dims reversed by negating strides, sharing memory.
Tensor flip_view(const Tensor& t, const Dims& dims);

// ---- copies -------------------------------------------------------------------------------
Tensor tril(const Tensor& t, int64_t diagonal = 0);
Tensor triu(const Tensor& t, int64_t diagonal = 0);
Tensor repeat(const Tensor& t, const Shape& repeats);
Tensor tile(const Tensor& t, const Shape& reps);
// Promotes dtypes across inputs; 1-d empty tensors are skipped (PyTorch's legacy rule).
Tensor cat(const TensorList& tensors, int64_t dim = 0);
Tensor stack(const TensorList& tensors, int64_t dim = 0);
Tensor hstack(const TensorList& tensors);
Tensor vstack(const TensorList& tensors);
Tensor flip(const Tensor& t, const Dims& dims);
Tensor fliplr(const Tensor& t);
Tensor flipud(const Tensor& t);
// Empty dims: roll the flattened tensor (shifts must then hold exactly one value).
Tensor roll(const Tensor& t, const Dims& shifts, const Dims& dims = {});
// pad = (last_lo, last_hi, prev_lo, prev_hi, ...); mode: constant, reflect, replicate, circular.
Tensor pad(const Tensor& t, const Dims& pad, const std::string& mode = "constant",
           const Scalar& value = Scalar::from_int(0));

}  // namespace tgx::ops
