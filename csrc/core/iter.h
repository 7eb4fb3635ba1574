// The one strided broadcasting iterator behind every elementwise kernel (TensorIterator's idea
// without its machinery). Built in the op front end from tensors; kernels see only raw pointers,
// byte strides and sizes. Dims are stored innermost first, broadcast dims have stride 0, size-1
// dims are dropped and adjacent dims that are contiguous for every operand are merged.
#pragma once
#include <initializer_list>

#include "core/parallel.h"
#include "core/tensor.h"

namespace tgx {

constexpr int kMaxIterDims = 16;
constexpr int kMaxOperands = 4;

struct TensorIter {
  int ndim = 0;
  int nops = 0;
  int64_t numel = 0;
  int64_t shape[kMaxIterDims];
  int64_t strides[kMaxOperands][kMaxIterDims];  // bytes
  char* data[kMaxOperands];

  // operands[0] is the output; every input must broadcast to the output's shape.
  static TensorIter build(std::initializer_list<const TensorImpl*> operands, const char* op);
  // Walks linear positions [begin, end) calling loop(ptrs, inner_strides, n) per inner run.
  template <typename Loop>
  void serial_for_each(int64_t begin, int64_t end, const Loop& loop) const;
  template <typename Loop>
  void for_each(const Loop& loop, int64_t grain = kDefaultGrain) const {
    parallel_for(0, numel, grain, [&](int64_t b, int64_t e) { serial_for_each(b, e, loop); });
  }
};

template <typename Loop>
void TensorIter::serial_for_each(int64_t begin, int64_t end, const Loop& loop) const {
  if (begin >= end) return;
  int64_t idx[kMaxIterDims];
  char* ptr[kMaxOperands] = {};
  int64_t rem = begin;
  for (int d = 0; d < ndim; ++d) {
    idx[d] = rem % shape[d];
    rem /= shape[d];
  }
  for (int k = 0; k < nops; ++k) {
    ptr[k] = data[k];
    for (int d = 0; d < ndim; ++d) ptr[k] += idx[d] * strides[k][d];
  }
  int64_t inner[kMaxOperands] = {};
  for (int k = 0; k < nops; ++k) inner[k] = strides[k][0];
  int64_t pos = begin;
  while (pos < end) {
    int64_t n = std::min(shape[0] - idx[0], end - pos);
    char* run[kMaxOperands] = {};
    for (int k = 0; k < nops; ++k) run[k] = ptr[k];
    loop(run, inner, n);
    pos += n;
    if (pos >= end) break;
    // advance: inner dim wraps to 0, carry into outer dims
    for (int k = 0; k < nops; ++k) ptr[k] -= idx[0] * strides[k][0];
    idx[0] = 0;
    for (int d = 1; d < ndim; ++d) {
      ++idx[d];
      for (int k = 0; k < nops; ++k) ptr[k] += strides[k][d];
      if (idx[d] < shape[d]) break;
      for (int k = 0; k < nops; ++k) ptr[k] -= shape[d] * strides[k][d];
      idx[d] = 0;
    }
  }
}

}  // namespace tgx
