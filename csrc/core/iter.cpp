#include "core/iter.h"

#include <algorithm>
#include <cstdlib>

namespace tgx {

TensorIter TensorIter::build(std::initializer_list<const TensorImpl*> operands, const char* op) {
  TensorIter it;
  it.nops = int(operands.size());
  TGX_CHECK(it.nops >= 1 && it.nops <= kMaxOperands, RuntimeError, "[", op,
            "] internal: bad operand count ", it.nops);
  const TensorImpl* out = *operands.begin();
  const Shape& shape = out->shape;
  int nd = int(shape.size());
  it.numel = out->numel();

  // Byte strides aligned to the right, 0 where an input broadcasts; outermost first for now.
  std::vector<int64_t> st(size_t(it.nops) * std::max(nd, 1), 0);
  int k = 0;
  for (const TensorImpl* t : operands) {
    it.data[k] = t->raw();
    int off = nd - int(t->ndim());
    TGX_CHECK(off >= 0, ValueError, "[", op, "] operand of shape ", t->shape,
              " does not broadcast to ", shape);
    for (int d = 0; d < int(t->ndim()); ++d) {
      int64_t s = t->shape[d];
      TGX_CHECK(s == shape[off + d] || s == 1, ValueError, "[", op, "] operand of shape ",
                t->shape, " does not broadcast to ", shape);
      st[size_t(k) * nd + off + d] = s == 1 ? 0 : t->strides[d] * int64_t(itemsize(t->dtype));
    }
    ++k;
  }

  // Order dims innermost first: by the output's strides (then the first input's), stably.
  std::vector<int> perm;
  for (int d = nd - 1; d >= 0; --d)
    if (shape[d] != 1) perm.push_back(d);
  // Insertion sort (the comparison is not a strict weak order when strides are 0).
  auto inner_first = [&](int a, int b) {  // should dim b come before dim a?
    for (int o = 0; o < it.nops; ++o) {
      int64_t sa = std::abs(st[size_t(o) * nd + a]), sb = std::abs(st[size_t(o) * nd + b]);
      if (sa == 0 || sb == 0) continue;
      if (sa != sb) return sb < sa;
    }
    return false;
  };
  for (size_t i = 1; i < perm.size(); ++i)
    for (size_t j = i; j > 0 && inner_first(perm[j - 1], perm[j]); --j) std::swap(perm[j - 1], perm[j]);

  // Merge adjacent dims that are contiguous for every operand.
  int m = 0;
  for (size_t i = 0; i < perm.size(); ++i) {
    int d = perm[i];
    if (m > 0) {
      bool mergeable = true;
      for (int o = 0; o < it.nops && mergeable; ++o)
        mergeable = st[size_t(o) * nd + d] == it.strides[o][m - 1] * it.shape[m - 1];
      if (mergeable) {
        it.shape[m - 1] *= shape[d];
        continue;
      }
    }
    TGX_CHECK(m < kMaxIterDims, NotImplementedError, "[", op, "] more than ", kMaxIterDims,
              " non-mergeable dimensions are not supported");
    it.shape[m] = shape[d];
    for (int o = 0; o < it.nops; ++o) it.strides[o][m] = st[size_t(o) * nd + d];
    ++m;
  }
  if (m == 0) {
    it.shape[0] = 1;
    for (int o = 0; o < it.nops; ++o) it.strides[o][0] = 0;
    m = 1;
  }
  it.ndim = m;
  return it;
}

}  // namespace tgx
