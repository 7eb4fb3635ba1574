// Indexing: NumPy-style getitem/setitem (basic indexing gives views, advanced indexing gathers),
// and the PyTorch indexing functions (gather, scatter, index_select, masked_*, take, nonzero...).
#pragma once
#include <optional>
#include <vector>

#include "core/tensor.h"
#include "kernels/cpu/index.h"

namespace tgx::ops {

// One entry of an index expression, parsed from Python by the binding.
struct IndexSpec {
  enum Kind : uint8_t { Int, Slice, NewAxis, Ellipsis, Array } kind = Int;
  // Int: start is the index. Slice: start/stop/step as PySlice_Unpack gives them (step != 0;
  // an omitted bound is clamped to +-INT64 limits, adjusted to the dim's length here).
  int64_t start = 0, stop = 0, step = 1;
  Tensor tensor;  // Array: an integer tensor (advanced index) or a bool tensor (mask)

  static IndexSpec integer(int64_t i) { IndexSpec s; s.kind = Int; s.start = i; return s; }
  static IndexSpec slice(int64_t a, int64_t b, int64_t c) {
    IndexSpec s; s.kind = Slice; s.start = a; s.stop = b; s.step = c; return s;
  }
  static IndexSpec newaxis() { IndexSpec s; s.kind = NewAxis; return s; }
  static IndexSpec ellipsis() { IndexSpec s; s.kind = Ellipsis; return s; }
  static IndexSpec array(Tensor t) { IndexSpec s; s.kind = Array; s.tensor = std::move(t); return s; }
};
using Indices = std::vector<IndexSpec>;

// self[indices]: a view when there is no advanced index, a new tensor otherwise.
Tensor index(const Tensor& self, const Indices& indices);
// self[indices] = value (broadcast to the indexed shape, cast to self's dtype); with
// accumulate, self[indices] += value. Returns self.
Tensor index_put_(const Tensor& self, const Indices& indices, const Tensor& value,
                  bool accumulate = false);
// True when writing through this index expression needs no advanced indexing.
bool is_basic(const Indices& indices);

Tensor gather(const Tensor& self, int64_t dim, const Tensor& index);
// src is a tensor of self's dtype, or a 0-d value (value_is_scalar) broadcast everywhere.
Tensor scatter_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                ScatterReduce reduce, bool value_is_scalar, const char* op = "scatter");
Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index);
Tensor index_add_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                  const Scalar& alpha);
Tensor index_copy_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source);
Tensor index_fill_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& value);
Tensor masked_fill_(const Tensor& self, const Tensor& mask, const Tensor& value);
Tensor masked_fill(const Tensor& self, const Tensor& mask, const Tensor& value);
Tensor masked_select(const Tensor& self, const Tensor& mask);
Tensor masked_scatter_(const Tensor& self, const Tensor& mask, const Tensor& source);
Tensor take(const Tensor& self, const Tensor& index);
Tensor take_along_dim(const Tensor& self, const Tensor& indices, std::optional<int64_t> dim);
Tensor put_(const Tensor& self, const Tensor& index, const Tensor& source, bool accumulate);
Tensor nonzero(const Tensor& self);
std::vector<Tensor> nonzero_tuple(const Tensor& self);
Tensor count_nonzero(const Tensor& self, const std::vector<int64_t>& dims);  // empty: all
Tensor one_hot(const Tensor& self, int64_t num_classes);
Tensor searchsorted(const Tensor& sorted, const Tensor& values, bool right, bool out_int32,
                    const char* op = "searchsorted");

}  // namespace tgx::ops
