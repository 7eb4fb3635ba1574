// Indexing kernels: advanced-index gather/put, gather/scatter along a dim, nonzero, counting,
// searchsorted. The op front end (ops/index.cpp) validates every index before calling them.
#pragma once
#include <vector>

#include "core/dtype.h"
#include "core/iter.h"
#include "kernels/dispatch.h"

namespace tgx {

enum class ScatterReduce : uint8_t { None, Add, Mul };

// Where advanced indexing reads or writes. The iteration space is the result's shape with the
// broadcast index dims flattened into one dim `bdim`; for that dim, element b sits at
// offs[b] (elements, relative to `self`), for the others at coord * self_strides[d].
struct AdvIndexGeom {
  std::vector<int64_t> shape;
  std::vector<int64_t> self_strides;  // elements; unused on bdim
  int bdim = 0;
  const int64_t* offs = nullptr;
};

}  // namespace tgx

// Wraps negative entries of a contiguous int64 array in place (if allow_negative) and checks
// all lie in [0, size). Returns the position of the first bad entry, or -1.
TGX_DECLARE_KERNEL(int64_t, index_wrap_check_kernel,
                   (int64_t* idx, int64_t n, int64_t size, bool allow_negative))
// offs (operand 0, int64) += idx (operand 1, int64) * stride.
TGX_DECLARE_KERNEL(void, index_offsets_kernel, (const tgx::TensorIter& it, int64_t stride))
// out (contiguous, geometry's shape) = self[geometry].
TGX_DECLARE_KERNEL(void, adv_gather_kernel,
                   (tgx::DType dtype, char* out, const char* self, const tgx::AdvIndexGeom& g))
// self[geometry] = values (contiguous, or one value if scalar_value), or += with accumulate.
// Serial: the last write wins.
TGX_DECLARE_KERNEL(void, adv_put_kernel, (tgx::DType dtype, char* self, const char* values,
                                          bool scalar_value, const tgx::AdvIndexGeom& g,
                                          bool accumulate))
// Operands (out, index int64, src restrided with stride 0 on dim): out = src[index * dim_stride].
TGX_DECLARE_KERNEL(void, gather_kernel,
                   (tgx::DType dtype, const tgx::TensorIter& it, int64_t dim_stride_bytes))
// Operands (self restrided with stride 0 on dim, index int64, src): self[index] (op)= src.
TGX_DECLARE_KERNEL(void, scatter_kernel, (tgx::DType dtype, tgx::ScatterReduce reduce,
                                          const tgx::TensorIter& it, int64_t dim_stride_bytes))
// Number of nonzero elements of a contiguous buffer.
TGX_DECLARE_KERNEL(int64_t, count_nonzero_kernel, (tgx::DType dtype, const char* data, int64_t n))
// Coordinates of the nonzero elements of a contiguous tensor, row-major: out is [count, ndim].
TGX_DECLARE_KERNEL(void, nonzero_kernel, (tgx::DType dtype, const char* data,
                                          const std::vector<int64_t>& shape, int64_t* out))
// Operands (out int64 with stride 0 on reduced dims, input): out += (input != 0). Serial.
TGX_DECLARE_KERNEL(void, count_nonzero_iter_kernel, (tgx::DType dtype, const tgx::TensorIter& it))
// For each value (contiguous rows of `row_len` values), the insertion point in its row of the
// sorted sequence (contiguous rows of seq_len; one shared row if seq_rows == 1).
TGX_DECLARE_KERNEL(void, searchsorted_kernel,
                   (tgx::DType dtype, const char* seq, int64_t seq_rows, int64_t seq_len,
                    const char* values, int64_t nvalues, int64_t row_len, bool right, int64_t* out))
