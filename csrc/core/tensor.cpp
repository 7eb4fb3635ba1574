#include "core/tensor.h"

#include <cstdint>

namespace tgx {

std::atomic<int64_t> TensorImpl::live_count{0};

bool TensorImpl::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t d = ndim() - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    if (strides[d] != expected) return false;
    if (__builtin_mul_overflow(expected, shape[d], &expected)) expected = INT64_MAX;  // as below
  }
  return true;
}

Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t s = 1;
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    st[d] = s;
    // Only an empty tensor's shape can overflow here (checked_numel bounds the others): its
    // strides are never used to address memory, so saturate instead of overflowing.
    if (__builtin_mul_overflow(s, shape[d] > 0 ? shape[d] : 1, &s)) s = INT64_MAX;
  }
  return st;
}

int64_t checked_numel(const Shape& shape, DType dtype, const char* op) {
  int64_t n = 1;
  for (int64_t s : shape) {
    TGX_CHECK(s >= 0, ValueError, "[", op, "] negative dimension ", s, " in shape ", shape);
    TGX_CHECK(!__builtin_mul_overflow(n, s, &n), ValueError, "[", op, "] shape ", shape,
              " is too large (number of elements overflows int64)");
  }
  int64_t bytes;
  TGX_CHECK(!__builtin_mul_overflow(n, int64_t(itemsize(dtype)), &bytes), ValueError, "[", op,
            "] shape ", shape, " is too large for dtype ", dtype);
  return n;
}

Tensor empty(const Shape& shape, DType dtype, Device device) { return empty(Shape(shape), dtype, device); }

Tensor empty(Shape&& shape, DType dtype, Device device) {
  TGX_CHECK(device.type == DeviceType::CPU, NotImplementedError,
            "[empty] only the cpu device is available in this build");
  int64_t n = checked_numel(shape, dtype, "empty");
  auto t = std::make_shared<TensorImpl>();
  t->storage = Storage::allocate(size_t(n) * itemsize(dtype), device);
  t->strides = contiguous_strides(shape);
  t->shape = std::move(shape);
  t->dtype = dtype;
  return t;
}

Tensor make_view(const Tensor& t, Shape shape, Shape strides, int64_t offset) {
  auto v = std::make_shared<TensorImpl>();
  v->storage = t->storage;
  v->shape = std::move(shape);
  v->strides = std::move(strides);
  v->offset = offset;
  v->dtype = t->dtype;
  v->view_base = t->view_base ? t->view_base : t;
  v->view_gen = v->view_base->view_gen;
  return v;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = ndim > 0 ? ndim : 1;  // 0-d tensors accept dim 0 and -1, as PyTorch
  TGX_CHECK(dim >= -n && dim < n, IndexError, "[", op,
            "] dimension out of range (expected to be in range of [", -n, ", ", n - 1,
            "], but got ", dim, ")");
  return dim < 0 ? dim + n : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    TGX_CHECK(da == db || da == 1 || db == 1, ValueError, "[", op, "] shapes ", a, " and ", b,
              " cannot be broadcast together (dimension ", i, ": ", da, " != ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

bool view_in_bounds(const Shape& shape, const Shape& strides, int64_t offset, size_t isz,
                    size_t nbytes) {
  if (offset < 0) return false;
  int64_t lo = offset, hi = offset;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return true;
    int64_t ext = (shape[d] - 1) * strides[d];
    if (ext < 0) lo += ext; else hi += ext;
  }
  return lo >= 0 && size_t(hi + 1) * isz <= nbytes;
}

}  // namespace tgx
