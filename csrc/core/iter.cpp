#include "core/iter.h"

#include <algorithm>
#include <cstdlib>

namespace tgx {

namespace {
// The common case, handled without the general build: every input is either contiguous with the
// output's shape or a single element (a scalar broadcast), and the output is contiguous. The
// result is one flat dim, exactly what the general build would produce after merging.
bool build_flat(std::initializer_list<const TensorImpl*> operands, TensorIter& it) {
  const TensorImpl* out = *operands.begin();
  if (!out->is_contiguous()) return false;
  int k = 0;
  for (const TensorImpl* t : operands) {
    int64_t stride = int64_t(itemsize(t->dtype));
    if (t->ndim() == 0 || (k > 0 && t->numel() == 1 && t->ndim() <= out->ndim())) {
      stride = 0;
    } else if (k > 0 && !(t->shape == out->shape && t->is_contiguous())) {
      return false;
    }
    it.data[k] = t->raw();
    it.strides[k][0] = stride;
    ++k;
  }
  it.nops = k;
  it.ndim = 1;
  it.numel = out->numel();
  it.shape[0] = it.numel;
  if (it.numel == 1)  // as the general build: a single element has no strides
    for (int o = 0; o < k; ++o) it.strides[o][0] = 0;
  return true;
}
}  // namespace

TensorIter TensorIter::build(std::initializer_list<const TensorImpl*> operands, const char* op) {
  TensorIter it;
  if (operands.size() >= 1 && operands.size() <= size_t(kMaxOperands) && build_flat(operands, it))
    return it;
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
