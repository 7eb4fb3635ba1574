// Views: each op validates, then builds new (shape, strides, offset) over the same storage.
#include "ops/shape.h"

#include <algorithm>
#include <numeric>

#include "ops/elementwise.h"

namespace tgx::ops {

namespace {

// PyTorch prints shapes in view/reshape errors as [2, 5]; keep that spelling there.
std::string bracket(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Wraps every dim and rejects repeats.
Dims wrap_dims(const Dims& dims, int64_t ndim, const char* op) {
  Dims out;
  std::vector<bool> seen(size_t(std::max<int64_t>(ndim, 1)), false);
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, ndim, op);
    TGX_CHECK(!seen[size_t(w)], ValueError, "[", op, "] dim ", w,
              " appears multiple times in the list of dims");
    seen[size_t(w)] = true;
    out.push_back(w);
  }
  return out;
}

}  // namespace

// ---- helpers ------------------------------------------------------------------------------
Shape infer_size(const Shape& shape, int64_t numel, const char* op) {
  Shape res = shape;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      TGX_CHECK(infer < 0, ValueError, "[", op, "] only one dimension can be inferred");
      infer = int(i);
    } else {
      TGX_CHECK(shape[i] >= 0, ValueError, "[", op, "] invalid shape dimension ", shape[i],
                " in shape ", bracket(shape));
      TGX_CHECK(!__builtin_mul_overflow(known, shape[i], &known), ValueError, "[", op,
                "] shape '", bracket(shape), "' is too large");
    }
  }
  if (numel == known || (infer >= 0 && known > 0 && numel % known == 0)) {
    if (infer >= 0) {
      TGX_CHECK(known != 0, ValueError, "[", op, "] cannot reshape tensor of 0 elements into shape ",
                bracket(shape), " because the unspecified dimension size -1 can be any value"
                " and is ambiguous");
      res[size_t(infer)] = numel / known;
    }
    return res;
  }
  throw ValueError(str("[", op, "] shape '", bracket(shape), "' is invalid for input of size ", numel));
}

std::optional<Shape> compute_view_strides(const Shape& old_shape, const Shape& old_strides,
                                          const Shape& new_shape) {
  int64_t nd = int64_t(new_shape.size());
  if (old_shape.empty()) return Shape(size_t(nd), 1);
  int64_t numel = 1;
  for (int64_t s : old_shape) numel *= s;
  if (numel == 0 && old_shape == new_shape) return old_strides;
  Shape st(size_t(nd), 1);
  if (numel == 0) return contiguous_strides(new_shape);
  // Walk the old dims from the innermost, in "chunks" of dims that are contiguous with each
  // other; each chunk must be covered exactly by a run of new dims.
  int64_t view_d = nd - 1;
  int64_t chunk_base = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[size_t(d)];
    bool chunk_ends = d == 0 || (old_shape[size_t(d - 1)] != 1 &&
                                 old_strides[size_t(d - 1)] != tensor_numel * chunk_base);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || new_shape[size_t(view_d)] == 1)) {
      st[size_t(view_d)] = view_numel * chunk_base;
      view_numel *= new_shape[size_t(view_d)];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (d > 0) {
      chunk_base = old_strides[size_t(d - 1)];
      tensor_numel = view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return st;
}

// ---- reshaping ----------------------------------------------------------------------------
Tensor view(const Tensor& t, const Shape& shape) {
  Shape s = infer_size(shape, t->numel(), "view");
  std::optional<Shape> st = compute_view_strides(t->shape, t->strides, s);
  TGX_CHECK(st.has_value(), RuntimeError, "[view] view size ", bracket(s), " is not compatible "
            "with input tensor's size ", t->shape, " and stride ", t->strides, " (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
  return make_view(t, s, *st, t->offset);
}

Tensor reshape(const Tensor& t, const Shape& shape) {
  Shape s = infer_size(shape, t->numel(), "reshape");
  if (std::optional<Shape> st = compute_view_strides(t->shape, t->strides, s))
    return make_view(t, s, *st, t->offset);
  Tensor c = clone(t);  // not viewable: a contiguous copy, viewed
  return make_view(c, s, contiguous_strides(s), c->offset);
}

Tensor flatten(const Tensor& t, int64_t start_dim, int64_t end_dim) {
  int64_t nd = t->ndim();
  int64_t a = wrap_dim(start_dim, nd, "flatten"), b = wrap_dim(end_dim, nd, "flatten");
  TGX_CHECK(a <= b, ValueError, "[flatten] start_dim (", start_dim,
            ") cannot come after end_dim (", end_dim, ")");
  if (nd == 0) return reshape(t, {1});
  if (a == b) return make_view(t, t->shape, t->strides, t->offset);
  Shape s(t->shape.begin(), t->shape.begin() + a);
  int64_t n = 1;
  for (int64_t d = a; d <= b; ++d) n *= t->shape[size_t(d)];
  s.push_back(n);
  s.insert(s.end(), t->shape.begin() + b + 1, t->shape.end());
  return reshape(t, s);
}

Tensor unflatten(const Tensor& t, int64_t dim, const Shape& sizes) {
  TGX_CHECK(t->ndim() > 0, IndexError, "[unflatten] cannot be applied to a 0-dim tensor");
  int64_t d = wrap_dim(dim, t->ndim(), "unflatten");
  TGX_CHECK(!sizes.empty(), ValueError, "[unflatten] sizes must be non-empty");
  int64_t n = t->shape[size_t(d)];
  Shape inner;
  try {
    inner = infer_size(sizes, n, "unflatten");
  } catch (const ValueError&) {
    throw ValueError(str("[unflatten] provided sizes ", sizes, " don't multiply up to the size of "
                         "dim ", dim, " (", n, ") in the input tensor of shape ", t->shape));
  }
  Shape s(t->shape.begin(), t->shape.begin() + d);
  s.insert(s.end(), inner.begin(), inner.end());
  s.insert(s.end(), t->shape.begin() + d + 1, t->shape.end());
  return view(t, s);
}

// ---- dims ---------------------------------------------------------------------------------
Tensor squeeze(const Tensor& t) {
  Shape s, st;
  for (int64_t d = 0; d < t->ndim(); ++d) {
    if (t->shape[size_t(d)] == 1) continue;
    s.push_back(t->shape[size_t(d)]);
    st.push_back(t->strides[size_t(d)]);
  }
  return make_view(t, s, st, t->offset);
}

Tensor squeeze(const Tensor& t, const Dims& dims) {
  Dims w = wrap_dims(dims, t->ndim(), "squeeze");
  Shape s, st;
  for (int64_t d = 0; d < t->ndim(); ++d) {
    bool listed = std::find(w.begin(), w.end(), d) != w.end();
    if (listed && t->shape[size_t(d)] == 1) continue;
    s.push_back(t->shape[size_t(d)]);
    st.push_back(t->strides[size_t(d)]);
  }
  return make_view(t, s, st, t->offset);
}

Tensor unsqueeze(const Tensor& t, int64_t dim) {
  int64_t nd = t->ndim();
  int64_t d = wrap_dim(dim, nd + 1, "unsqueeze");
  Shape s = t->shape, st = t->strides;
  int64_t stride = d >= nd ? 1 : s[size_t(d)] * st[size_t(d)];
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, stride);
  return make_view(t, s, st, t->offset);
}

Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1) {
  int64_t a = wrap_dim(dim0, t->ndim(), "transpose"), b = wrap_dim(dim1, t->ndim(), "transpose");
  Shape s = t->shape, st = t->strides;
  if (t->ndim() > 0) {
    std::swap(s[size_t(a)], s[size_t(b)]);
    std::swap(st[size_t(a)], st[size_t(b)]);
  }
  return make_view(t, s, st, t->offset);
}

Tensor permute(const Tensor& t, const Dims& dims) {
  TGX_CHECK(int64_t(dims.size()) == t->ndim(), ValueError, "[permute] number of dims don't match:"
            " the tensor has ", t->ndim(), " dims but ", dims.size(), " were given ", dims);
  Dims w = wrap_dims(dims, t->ndim(), "permute");
  Shape s, st;
  for (int64_t d : w) {
    s.push_back(t->shape[size_t(d)]);
    st.push_back(t->strides[size_t(d)]);
  }
  return make_view(t, s, st, t->offset);
}

Tensor movedim(const Tensor& t, const Dims& source, const Dims& destination) {
  TGX_CHECK(source.size() == destination.size(), ValueError, "[movedim] invalid source or "
            "destination dims: source ", source, " and destination ", destination,
            " must have the same number of elements");
  int64_t nd = t->ndim();
  Dims src = wrap_dims(source, nd, "movedim"), dst = wrap_dims(destination, nd, "movedim");
  if (nd == 0) return make_view(t, t->shape, t->strides, t->offset);
  Dims order(size_t(nd), -1);
  std::vector<bool> used(size_t(nd), false);
  for (size_t i = 0; i < src.size(); ++i) {
    order[size_t(dst[i])] = src[i];
    used[size_t(src[i])] = true;
  }
  int64_t next = 0;
  for (int64_t& o : order) {
    if (o >= 0) continue;
    while (used[size_t(next)]) ++next;
    o = next++;
  }
  return permute(t, order);
}

Tensor transpose_2d(const Tensor& t) {
  TGX_CHECK(t->ndim() <= 2, ValueError, "[t] expects a tensor with <= 2 dimensions, but self is ",
            t->ndim(), "D");
  return t->ndim() < 2 ? make_view(t, t->shape, t->strides, t->offset) : transpose(t, 0, 1);
}

Tensor reverse_dims(const Tensor& t) {
  Dims d(size_t(t->ndim()));
  std::iota(d.rbegin(), d.rend(), 0);
  return permute(t, d);
}

Tensor matrix_transpose(const Tensor& t) {
  TGX_CHECK(t->ndim() >= 2, ValueError, "[mT] tensor.mT is only supported on matrices or batches "
            "of matrices. Got ", t->ndim(), "-D tensor.");
  return transpose(t, -2, -1);
}

// ---- broadcasting -------------------------------------------------------------------------
Tensor expand(const Tensor& t, const Shape& sizes) {
  int64_t nd = t->ndim(), n = int64_t(sizes.size());
  TGX_CHECK(n >= nd, ValueError, "[expand] the number of sizes provided (", n, ") must be greater "
            "or equal to the number of dimensions in the tensor (", nd, ")");
  Shape s(static_cast<size_t>(n)), st(static_cast<size_t>(n));
  for (int64_t i = n - 1; i >= 0; --i) {
    int64_t d = i - (n - nd);  // matching input dim, < 0 for new leading dims
    int64_t want = sizes[size_t(i)];
    if (d < 0) {
      TGX_CHECK(want >= 0, ValueError, "[expand] the expanded size of the tensor (", want,
                ") isn't allowed in a leading, non-existing dimension ", i);
      s[size_t(i)] = want;
      st[size_t(i)] = 0;
      continue;
    }
    int64_t have = t->shape[size_t(d)];
    if (want == -1) want = have;
    TGX_CHECK(want >= 0, ValueError, "[expand] invalid size ", want, " in ", sizes);
    TGX_CHECK(have == want || have == 1, ValueError, "[expand] the expanded size of the tensor (",
              want, ") must match the existing size (", have, ") at non-singleton dimension ", i,
              ". Target sizes: ", sizes, ". Tensor sizes: ", t->shape);
    s[size_t(i)] = want;
    st[size_t(i)] = have == want ? t->strides[size_t(d)] : 0;
  }
  checked_numel(s, t->dtype, "expand");
  return make_view(t, s, st, t->offset);
}

Tensor broadcast_to(const Tensor& t, const Shape& shape) { return expand(t, shape); }

Shape broadcast_shapes(const std::vector<Shape>& shapes) {
  Shape out;
  for (const Shape& s : shapes) {
    for (int64_t v : s)
      TGX_CHECK(v >= 0, ValueError, "[broadcast_shapes] trying to create tensor with negative "
                "dimension ", v, ": ", s);
    out = tgx::broadcast_shapes(out, s, "broadcast_shapes");
  }
  return out;
}

TensorList broadcast_tensors(const TensorList& tensors) {
  Shape shape;
  for (const Tensor& t : tensors) shape = tgx::broadcast_shapes(shape, t->shape, "broadcast_tensors");
  TensorList out;
  for (const Tensor& t : tensors) out.push_back(expand(t, shape));
  return out;
}

// ---- slicing ------------------------------------------------------------------------------
Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
  TGX_CHECK(t->ndim() > 0, IndexError, "[narrow] cannot be applied to a 0-dim tensor");
  int64_t d = wrap_dim(dim, t->ndim(), "narrow");
  int64_t n = t->shape[size_t(d)];
  TGX_CHECK(start >= -n && start <= n, IndexError, "[narrow] start out of range (expected to be "
            "in range of [", -n, ", ", n, "], but got ", start, ")");
  if (start < 0) start += n;
  TGX_CHECK(length >= 0, ValueError, "[narrow] length must be non-negative, got ", length);
  TGX_CHECK(start <= n - length, ValueError, "[narrow] start (", start, ") + length (", length,
            ") exceeds dimension size (", n, ")");
  Shape s = t->shape;
  s[size_t(d)] = length;
  int64_t off = t->offset + (length ? start * t->strides[size_t(d)] : 0);
  return make_view(t, s, t->strides, off);
}

Tensor select(const Tensor& t, int64_t dim, int64_t index) {
  TGX_CHECK(t->ndim() > 0, IndexError, "[select] cannot be applied to a 0-dim tensor");
  int64_t d = wrap_dim(dim, t->ndim(), "select");
  int64_t n = t->shape[size_t(d)];
  TGX_CHECK(index >= -n && index < n, IndexError, "[select] index ", index,
            " is out of bounds for dimension ", d, " with size ", n);
  if (index < 0) index += n;
  Shape s = t->shape, st = t->strides;
  int64_t off = t->offset + index * st[size_t(d)];
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return make_view(t, s, st, off);
}

TensorList unbind(const Tensor& t, int64_t dim) {
  TGX_CHECK(t->ndim() > 0, IndexError, "[unbind] dimension specified as ", dim,
            " but tensor has no dimensions");
  int64_t d = wrap_dim(dim, t->ndim(), "unbind");
  TensorList out;
  for (int64_t i = 0; i < t->shape[size_t(d)]; ++i) out.push_back(select(t, d, i));
  return out;
}

TensorList split_with_sizes(const Tensor& t, const Shape& sizes, int64_t dim) {
  TGX_CHECK(t->ndim() > 0, IndexError, "[split] cannot be applied to a 0-dim tensor");
  int64_t d = wrap_dim(dim, t->ndim(), "split");
  int64_t n = t->shape[size_t(d)], total = 0;
  for (int64_t s : sizes) {
    TGX_CHECK(s >= 0, ValueError, "[split] split sizes must be non-negative, got ", sizes);
    total += s;
  }
  TGX_CHECK(total == n, ValueError, "[split] split sizes ", sizes, " must sum to the size of "
            "dimension ", d, " (", n, "), but got sum ", total);
  TensorList out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(t, d, start, s));
    start += s;
  }
  return out;
}

TensorList split(const Tensor& t, int64_t split_size, int64_t dim) {
  TGX_CHECK(t->ndim() > 0, IndexError, "[split] cannot be applied to a 0-dim tensor");
  int64_t d = wrap_dim(dim, t->ndim(), "split");
  int64_t n = t->shape[size_t(d)];
  TGX_CHECK(split_size > 0 || (split_size == 0 && n == 0), ValueError, "[split] split_size must "
            "be positive (or 0 for an empty dimension), got ", split_size);
  int64_t parts = split_size == 0 ? 1 : std::max<int64_t>((n + split_size - 1) / split_size, 1);
  Shape sizes(size_t(parts), split_size);
  sizes.back() = n - split_size * (parts - 1);
  return split_with_sizes(t, sizes, d);
}

TensorList chunk(const Tensor& t, int64_t chunks, int64_t dim) {
  TGX_CHECK(t->ndim() > 0, IndexError, "[chunk] cannot be applied to a 0-dim tensor");
  TGX_CHECK(chunks > 0, ValueError, "[chunk] chunks must be greater than 0, got ", chunks);
  int64_t d = wrap_dim(dim, t->ndim(), "chunk");
  int64_t n = t->shape[size_t(d)];
  if (n == 0) return split_with_sizes(t, Shape(size_t(chunks), 0), d);
  return split(t, (n + chunks - 1) / chunks, d);
}

Tensor diagonal(const Tensor& t, int64_t offset, int64_t dim1, int64_t dim2) {
  TGX_CHECK(t->ndim() >= 2, ValueError, "[diagonal] needs a tensor with at least 2 dimensions, "
            "got shape ", t->shape);
  int64_t a = wrap_dim(dim1, t->ndim(), "diagonal"), b = wrap_dim(dim2, t->ndim(), "diagonal");
  TGX_CHECK(a != b, ValueError, "[diagonal] diagonal dimensions cannot be identical ", dim1, ", ", dim2);
  int64_t na = t->shape[size_t(a)], nb = t->shape[size_t(b)];
  int64_t sa = t->strides[size_t(a)], sb = t->strides[size_t(b)];
  int64_t len = offset >= 0 ? std::min(na, nb - offset) : std::min(na + offset, nb);
  len = std::max<int64_t>(len, 0);
  int64_t off = t->offset;
  if (len > 0) off += offset >= 0 ? offset * sb : -offset * sa;
  Shape s, st;
  for (int64_t d = 0; d < t->ndim(); ++d) {
    if (d == a || d == b) continue;
    s.push_back(t->shape[size_t(d)]);
    st.push_back(t->strides[size_t(d)]);
  }
  s.push_back(len);
  st.push_back(sa + sb);
  return make_view(t, s, st, off);
}

Tensor flip_view(const Tensor& t, const Dims& dims) {
  Dims w = wrap_dims(dims, t->ndim(), "flip");
  Shape st = t->strides;
  int64_t off = t->offset;
  for (int64_t d : w) {
    if (t->ndim() == 0 || t->shape[size_t(d)] == 0) continue;
    off += (t->shape[size_t(d)] - 1) * st[size_t(d)];
    st[size_t(d)] = -st[size_t(d)];
  }
  return make_view(t, t->shape, st, off);
}

}  // namespace tgx::ops
