// Reduction and scan kernels, and ReduceIter: the elementwise iterator's sibling for reductions.
// The op front end (ops/reduce.cpp) builds a ReduceIter from the input and the reduced dims; the
// kernels see only byte strides and sizes. Kept dims and reduced dims are listed separately,
// innermost first, with size-1 dims dropped and contiguous neighbours merged. The output is
// always a fresh contiguous buffer of `nout` elements in kept-dim (row-major) order.
#pragma once
#include "core/dtype.h"
#include "core/iter.h"
#include "kernels/dispatch.h"

namespace tgx {

struct ReduceIter {
  int nkeep = 1, nred = 1;
  int64_t keep_shape[kMaxIterDims] = {1}, keep_stride[kMaxIterDims] = {0};  // bytes
  int64_t red_shape[kMaxIterDims] = {1}, red_stride[kMaxIterDims] = {0};    // bytes
  int64_t nout = 1;  // output elements
  int64_t rlen = 1;  // reduced elements per output
  const char* in = nullptr;
  char* out = nullptr;

  // Input pointer of output element o.
  const char* base(int64_t o) const {
    const char* p = in;
    for (int d = 0; d < nkeep && o; ++d) {
      p += (o % keep_shape[d]) * keep_stride[d];
      o /= keep_shape[d];
    }
    return p;
  }
  // Calls f(ptr, n, stride, flat_index) for each run of the innermost reduced dim covering
  // flat reduce positions [a, b) of the output whose input starts at `base`.
  template <typename F>
  void walk(const char* base, int64_t a, int64_t b, const F& f) const {
    if (a >= b) return;
    int64_t idx[kMaxIterDims];
    int64_t rem = a;
    const char* p = base;
    for (int d = 0; d < nred; ++d) {
      idx[d] = rem % red_shape[d];
      rem /= red_shape[d];
      p += idx[d] * red_stride[d];
    }
    int64_t pos = a;
    while (pos < b) {
      int64_t n = std::min(red_shape[0] - idx[0], b - pos);
      f(p, n, red_stride[0], pos);
      pos += n;
      if (pos >= b) break;
      p -= idx[0] * red_stride[0];
      idx[0] = 0;
      for (int d = 1; d < nred; ++d) {
        ++idx[d];
        p += red_stride[d];
        if (idx[d] < red_shape[d]) break;
        p -= red_shape[d] * red_stride[d];
        idx[d] = 0;
      }
    }
  }
};

// Sum-like reductions: out = post(reduce_op over f(x)), accumulated in T for floating T and in
// int64 for integers and bool (the output dtype is that accumulator type).
enum class SumOp : uint8_t { Add, Mul };
enum class SumMap : uint8_t {
  Identity,  // x
  Abs,       // |x|
  Square,    // x * x
  AbsPow,    // |x| ** p
  NonZero,   // x != 0
  SqDev,     // (x - param[o]) ** 2
  ExpShift,  // exp(x - param[o]), param treated as 0 where it is +-inf (logsumexp)
};
enum class SumPost : uint8_t {
  None,
  Div,           // r / d
  SqrtDiv,       // sqrt(r / d)
  Pow,           // r ** (1 / p)
  Sqrt,          // sqrt(r)
  LogPlusParam,  // log(r) + param[o] (param as in ExpShift)
};
struct SumSpec {
  SumOp op = SumOp::Add;
  SumMap map = SumMap::Identity;
  SumPost post = SumPost::None;
  double p = 2;                    // AbsPow / Pow exponent
  double d = 1;                    // Div / SqrtDiv divisor
  const void* param = nullptr;     // per-output values (output dtype), SqDev / ExpShift
};

// Min/max family: values (dtype of the input) and/or int64 indices (flat position in the
// reduced dims, in logical order: the front end keeps reduced dims unsorted for indices).
// NaN wins (its first occurrence), ties keep the first index, as PyTorch.
enum class MinMaxOp : uint8_t { Max, Min };

enum class ScanOp : uint8_t { CumSum, CumProd };

}  // namespace tgx

TGX_DECLARE_KERNEL(void, sum_kernel, (tgx::DType in_dtype, const tgx::SumSpec& spec, const tgx::ReduceIter& it))
// values and/or indices may be null.
TGX_DECLARE_KERNEL(void, minmax_kernel, (tgx::MinMaxOp op, tgx::DType dtype, const tgx::ReduceIter& it,
                                         char* values, int64_t* indices))
// Contiguous (outer, n, inner) layout, softmax over the middle dim; in and out of `dtype`.
TGX_DECLARE_KERNEL(void, softmax_kernel, (bool log, tgx::DType dtype, const char* in, char* out,
                                          int64_t outer, int64_t n, int64_t inner))
// Contiguous (outer, n, inner) layout, inclusive scan over the middle dim; in and out of `dtype`.
TGX_DECLARE_KERNEL(void, scan_kernel, (tgx::ScanOp op, tgx::DType dtype, const char* in, char* out,
                                       int64_t outer, int64_t n, int64_t inner))
