// Views: each op validates, then builds new (shape, strides, offset) over the same storage.
#include "ops/shape.h"

#include <algorithm>
#include <new>
#include <numeric>

#include "autograd/node.h"
#include "ops/elementwise.h"
#include "ops/index.h"

namespace tgx::ops {

namespace {

using Needs = std::vector<bool>;

// Internal compositions (copy_ into views of a fresh output...) run without autograd; the op
// then records itself once, at its own level.
struct NoAutograd {
  autograd::GradModeGuard grad{false};
  autograd::FwGradDisabledGuard fw;
};

// Records out = a view of `in`: vjp = back(grad), jvp = redo(tangent) (the same view).
void record_view(const char* name, const Tensor& in, const Tensor& out, ViewFn redo, ViewFn back) {
  if (!autograd::needs_record({&in})) return;
  autograd::record(name, {in}, {out}, {},
      [back](const TensorList& g, const TensorList&, const Needs&) { return TensorList{back(g[0])}; },
      [redo](const TensorList& t, const TensorList&, const TensorList&) {
        return TensorList{redo(t[0])};
      });
}

// A view that picks part of its input: the grad goes into zeros of the input's shape.
void record_part_view(const char* name, const Tensor& in, const Tensor& out, ViewFn redo) {
  if (!autograd::needs_record({&in})) return;
  Shape shape = in->shape;
  record_view(name, in, out, redo,
              [shape, redo](const Tensor& g) { return view_scatter(g, shape, redo); });
}

// A view with the same elements (alias): grads and tangents pass through unchanged.
Tensor alias(const Tensor& t) {
  Tensor out = make_view(t, t->shape, t->strides, t->offset);
  ViewFn same = [](const Tensor& x) { return x; };
  record_view("AliasBackward0", t, out, same, same);
  return out;
}

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
Tensor view_scatter(const Tensor& g, const Shape& shape, const ViewFn& view_fn) {
  Tensor out;
  {
    NoAutograd off;
    out = autograd::zeros_like_meta({shape, g->dtype});
    copy_(view_fn(out), g);
  }
  if (autograd::needs_record({&g})) {
    autograd::record("AsStridedScatterBackward0", {g}, {out}, {},
        [view_fn](const TensorList& gr, const TensorList&, const Needs&) {
          return TensorList{view_fn(gr[0])};
        },
        [view_fn, shape](const TensorList& t, const TensorList&, const TensorList&) {
          return TensorList{view_scatter(t[0], shape, view_fn)};
        });
  }
  return out;
}

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
  Tensor out = make_view(t, s, *st, t->offset);
  Shape in = t->shape;
  record_view("ViewBackward0", t, out, [s](const Tensor& x) { return reshape(x, s); },
              [in](const Tensor& g) { return reshape(g, in); });
  return out;
}

Tensor reshape(const Tensor& t, const Shape& shape) {
  Shape s = infer_size(shape, t->numel(), "reshape");
  Tensor out;
  const char* name = "ViewBackward0";
  if (std::optional<Shape> st = compute_view_strides(t->shape, t->strides, s)) {
    out = make_view(t, s, *st, t->offset);
  } else {
    NoAutograd off;
    Tensor c = clone(t);  // not viewable: a contiguous copy, viewed
    out = make_view(c, s, contiguous_strides(s), c->offset);
    name = "UnsafeViewBackward0";
  }
  Shape in = t->shape;
  record_view(name, t, out, [s](const Tensor& x) { return reshape(x, s); },
              [in](const Tensor& g) { return reshape(g, in); });
  return out;
}

Tensor flatten(const Tensor& t, int64_t start_dim, int64_t end_dim) {
  int64_t nd = t->ndim();
  int64_t a = wrap_dim(start_dim, nd, "flatten"), b = wrap_dim(end_dim, nd, "flatten");
  TGX_CHECK(a <= b, ValueError, "[flatten] start_dim (", start_dim,
            ") cannot come after end_dim (", end_dim, ")");
  if (nd == 0) return reshape(t, {1});
  if (a == b) return alias(t);
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
  Tensor out = make_view(t, s, st, t->offset);
  Shape in = t->shape;
  record_view("SqueezeBackward0", t, out, [](const Tensor& x) { return squeeze(x); },
              [in](const Tensor& g) { return reshape(g, in); });
  return out;
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
  Tensor out = make_view(t, s, st, t->offset);
  Shape in = t->shape;
  record_view(dims.size() == 1 ? "SqueezeBackward1" : "SqueezeBackward2", t, out,
              [dims](const Tensor& x) { return squeeze(x, dims); },
              [in](const Tensor& g) { return reshape(g, in); });
  return out;
}

Tensor unsqueeze(const Tensor& t, int64_t dim) {
  int64_t nd = t->ndim();
  int64_t d = wrap_dim(dim, nd + 1, "unsqueeze");
  Shape s = t->shape, st = t->strides;
  int64_t stride = d >= nd ? 1 : s[size_t(d)] * st[size_t(d)];
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, stride);
  Tensor out = make_view(t, s, st, t->offset);
  record_view("UnsqueezeBackward0", t, out, [d](const Tensor& x) { return unsqueeze(x, d); },
              [d](const Tensor& g) { return squeeze(g, Dims{d}); });
  return out;
}

namespace {
Tensor transpose_named(const Tensor& t, int64_t dim0, int64_t dim1, const char* name) {
  int64_t a = wrap_dim(dim0, t->ndim(), "transpose"), b = wrap_dim(dim1, t->ndim(), "transpose");
  Shape s = t->shape, st = t->strides;
  if (t->ndim() > 0) {
    std::swap(s[size_t(a)], s[size_t(b)]);
    std::swap(st[size_t(a)], st[size_t(b)]);
  }
  Tensor out = make_view(t, s, st, t->offset);
  ViewFn swap = [a, b](const Tensor& x) { return transpose(x, a, b); };
  record_view(name, t, out, swap, swap);
  return out;
}
}  // namespace

Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1) {
  return transpose_named(t, dim0, dim1, "TransposeBackward0");
}

Tensor permute(const Tensor& t, const Dims& dims) {
  TGX_CHECK(int64_t(dims.size()) == t->ndim(), ValueError, "[permute] number of dims don't match:"
            " the tensor has ", t->ndim(), " dims but ", dims.size(), " were given ", dims);
  Dims w = wrap_dims(dims, t->ndim(), "permute");
  Shape s, st;
  Dims inv(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    int64_t d = w[i];
    s.push_back(t->shape[size_t(d)]);
    st.push_back(t->strides[size_t(d)]);
    inv[size_t(d)] = int64_t(i);
  }
  Tensor out = make_view(t, s, st, t->offset);
  record_view("PermuteBackward0", t, out, [w](const Tensor& x) { return permute(x, w); },
              [inv](const Tensor& g) { return permute(g, inv); });
  return out;
}

Tensor movedim(const Tensor& t, const Dims& source, const Dims& destination) {
  TGX_CHECK(source.size() == destination.size(), ValueError, "[movedim] invalid source or "
            "destination dims: source ", source, " and destination ", destination,
            " must have the same number of elements");
  int64_t nd = t->ndim();
  Dims src = wrap_dims(source, nd, "movedim"), dst = wrap_dims(destination, nd, "movedim");
  if (nd == 0) return alias(t);
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
  return t->ndim() < 2 ? alias(t) : transpose_named(t, 0, 1, "TBackward0");
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
  Tensor out = make_view(t, s, st, t->offset);
  Shape in = t->shape;
  record_view("ExpandBackward0", t, out, [s](const Tensor& x) { return expand(x, s); },
              [in](const Tensor& g) { return autograd::sum_to_shape(g, in); });
  return out;
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
  Tensor out = make_view(t, s, t->strides, off);
  record_part_view("SliceBackward0", t, out,
                   [d, start, length](const Tensor& x) { return narrow(x, d, start, length); });
  return out;
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
  Tensor out = make_view(t, s, st, off);
  record_part_view("SelectBackward0", t, out, [d, index](const Tensor& x) { return select(x, d, index); });
  return out;
}

TensorList unbind(const Tensor& t, int64_t dim) {
  TGX_CHECK(t->ndim() > 0, IndexError, "[unbind] dimension specified as ", dim,
            " but tensor has no dimensions");
  int64_t d = wrap_dim(dim, t->ndim(), "unbind");
  TensorList out;
  {
    NoAutograd off;
    for (int64_t i = 0; i < t->shape[size_t(d)]; ++i) out.push_back(select(t, d, i));
  }
  if (autograd::needs_record({&t}) && !out.empty()) {
    autograd::record("UnbindBackward0", {t}, out, {},
        [d](const TensorList& g, const TensorList&, const Needs&) { return TensorList{stack(g, d)}; },
        [d](const TensorList& tg, const TensorList&, const TensorList&) { return unbind(tg[0], d); });
  }
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
  {
    NoAutograd off;
    int64_t start = 0;
    for (int64_t s : sizes) {
      out.push_back(narrow(t, d, start, s));
      start += s;
    }
  }
  if (autograd::needs_record({&t}) && !out.empty()) {
    autograd::record("SplitWithSizesBackward0", {t}, out, {},
        [d](const TensorList& g, const TensorList&, const Needs&) { return TensorList{cat(g, d)}; },
        [d, sizes](const TensorList& tg, const TensorList&, const TensorList&) {
          return split_with_sizes(tg[0], sizes, d);
        });
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
  if (n == 0) {
    // `chunks` empty tensors, as PyTorch; a list that large cannot be built: MemoryError.
    if (chunks > (int64_t(1) << 24)) throw std::bad_alloc();
    return split_with_sizes(t, Shape(size_t(chunks), 0), d);
  }
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
  Tensor out = make_view(t, s, st, off);
  record_part_view("DiagonalBackward0", t, out,
                   [offset, a, b](const Tensor& x) { return diagonal(x, offset, a, b); });
  return out;
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
  Tensor out = make_view(t, t->shape, st, off);
  ViewFn same = [w](const Tensor& x) { return flip_view(x, w); };
  record_view("FlipViewBackward0", t, out, same, same);
  return out;
}

// ---- copies: built from views + copy_/fill_/where ------------------------------------------
namespace {

Tensor triangle(const char* op, const Tensor& t, int64_t k, bool lower) {
  TGX_CHECK(t->ndim() >= 2, ValueError, "[", op, "] input tensor must have at least 2 dimensions,"
            " got shape ", t->shape);
  int64_t m = t->shape[size_t(t->ndim() - 2)], n = t->shape.back();
  Tensor mask = empty({m, n}, DType::Bool);  // broadcast over the batch dims by where()
  bool* p = mask->data<bool>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) p[i * n + j] = lower ? j - i <= k : j - i >= k;
  Tensor out;
  {
    NoAutograd off;
    out = where(mask, t, scalar_tensor(Scalar::from_int(0), t->dtype));
  }
  // the mask is linear: the grad and the tangent are masked the same way
  ViewFn same = [k, lower](const Tensor& x) { return lower ? tril(x, k) : triu(x, k); };
  record_view(lower ? "TrilBackward0" : "TriuBackward0", t, out, same, same);
  return out;
}

bool legacy_empty(const Tensor& t) { return t->ndim() == 1 && t->shape[0] == 0; }

// Copies src rolled along dims[i:] into out: each dim splits the copy into two blocks, so k dims
// take 2^k block copies and a single pass over the data.
void roll_into(const Tensor& out, const Tensor& src, const Dims& shifts, const Dims& dims, size_t i) {
  if (i == dims.size()) {
    copy_(out, src);
    return;
  }
  int64_t d = dims[i], n = src->shape[size_t(d)];
  int64_t s = ((shifts[i] % n) + n) % n;
  roll_into(narrow(out, d, s, n - s), narrow(src, d, 0, n - s), shifts, dims, i + 1);
  if (s) roll_into(narrow(out, d, 0, s), narrow(src, d, n - s, s), shifts, dims, i + 1);
}

}  // namespace

Tensor tril(const Tensor& t, int64_t diagonal) { return triangle("tril", t, diagonal, true); }
Tensor triu(const Tensor& t, int64_t diagonal) { return triangle("triu", t, diagonal, false); }

Tensor repeat(const Tensor& t, const Shape& repeats) {
  int64_t n = int64_t(repeats.size());
  TGX_CHECK(n >= t->ndim(), ValueError, "[repeat] number of dimensions of repeat dims ", repeats,
            " can not be smaller than number of dimensions of tensor ", t->shape);
  Shape out_shape(static_cast<size_t>(n)), split_shape, src_shape, src_strides;
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = repeats[size_t(i)], d = i - (n - t->ndim());
    TGX_CHECK(r >= 0, ValueError, "[repeat] repeats must be non-negative, got ", repeats);
    int64_t s = d < 0 ? 1 : t->shape[size_t(d)];
    TGX_CHECK(!__builtin_mul_overflow(r, s, &out_shape[size_t(i)]), ValueError,
              "[repeat] repeated shape is too large: ", t->shape, " repeated ", repeats);
    // out viewed as (r0, s0, r1, s1, ...): the input broadcasts over every r_i
    split_shape.insert(split_shape.end(), {r, s});
    src_shape.insert(src_shape.end(), {1, s});
    src_strides.insert(src_strides.end(), {0, d < 0 ? 0 : t->strides[size_t(d)]});
  }
  Tensor out = empty(out_shape, t->dtype);
  if (out->numel()) {
    NoAutograd off;
    copy_(view(out, split_shape), make_view(t, src_shape, src_strides, t->offset));
  }
  Shape in = t->shape;
  record_view("RepeatBackward0", t, out, [repeats](const Tensor& x) { return repeat(x, repeats); },
              [=](const Tensor& g) {  // sum over the repeats: (r0, s0, r1, s1, ...) -> (1, s0, ...)
                return reshape(autograd::sum_to_shape(reshape(g, split_shape), src_shape), in);
              });
  return out;
}

Tensor tile(const Tensor& t, const Shape& reps) {
  Shape r = reps;
  if (int64_t(r.size()) < t->ndim()) r.insert(r.begin(), size_t(t->ndim()) - r.size(), 1);
  return repeat(t, r);
}

Tensor cat(const TensorList& tensors, int64_t dim) {
  TGX_CHECK(!tensors.empty(), ValueError, "[cat] expected a non-empty list of Tensors");
  DType dt = tensors[0]->dtype;
  const TensorImpl* ref = nullptr;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    TGX_CHECK(t->ndim() > 0, ValueError, "[cat] zero-dimensional tensor (at position ", i,
              ") cannot be concatenated");
    dt = promote_types(dt, t->dtype);
    if (!ref && !legacy_empty(t)) ref = t.get();
  }
  if (!ref) return empty({0}, dt);
  int64_t d = wrap_dim(dim, ref->ndim(), "cat");
  Shape shape = ref->shape;
  shape[size_t(d)] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (legacy_empty(t)) continue;
    TGX_CHECK(t->ndim() == ref->ndim(), ValueError, "[cat] tensors must have same number of "
              "dimensions: got ", ref->ndim(), " and ", t->ndim(), " (tensor number ", i, ")");
    for (int64_t k = 0; k < t->ndim(); ++k)
      TGX_CHECK(k == d || t->shape[size_t(k)] == ref->shape[size_t(k)], ValueError, "[cat] sizes "
                "of tensors must match except in dimension ", d, ". Expected size ",
                ref->shape[size_t(k)], " but got size ", t->shape[size_t(k)], " for tensor number ",
                i, " in the list (shapes ", ref->shape, " and ", t->shape, ")");
    shape[size_t(d)] += t->shape[size_t(d)];
  }
  Tensor out = empty(shape, dt);
  std::vector<int64_t> starts;  // -1: skipped (legacy empty)
  {
    NoAutograd off;
    int64_t at = 0;
    for (const Tensor& t : tensors) {
      starts.push_back(legacy_empty(t) ? -1 : at);
      if (legacy_empty(t)) continue;
      int64_t len = t->shape[size_t(d)];
      copy_(narrow(out, d, at, len), t);
      at += len;
    }
  }
  if (autograd::needs_record(tensors)) {
    autograd::record("CatBackward0", tensors, {out}, {},
        [d, starts](const TensorList& g, const TensorList&, const Needs& needs) {
          TensorList r(starts.size());
          int64_t end = g[0]->shape[size_t(d)];
          for (size_t i = 0; i < starts.size(); ++i) {
            if (!needs[i] || starts[i] < 0) continue;
            int64_t next = end;
            for (size_t j = i + 1; j < starts.size(); ++j)
              if (starts[j] >= 0) { next = starts[j]; break; }
            r[i] = narrow(g[0], d, starts[i], next - starts[i]);
          }
          return r;
        },
        [d](const TensorList& tg, const TensorList& in, const TensorList&) {
          TensorList parts;
          for (size_t i = 0; i < in.size(); ++i)
            parts.push_back(tg[i] ? tg[i] : autograd::zeros_like(in[i]));
          return TensorList{cat(parts, d)};
        });
  }
  return out;
}

Tensor stack(const TensorList& tensors, int64_t dim) {
  TGX_CHECK(!tensors.empty(), ValueError, "[stack] expected a non-empty list of Tensors");
  for (size_t i = 1; i < tensors.size(); ++i)
    TGX_CHECK(tensors[i]->shape == tensors[0]->shape, ValueError, "[stack] expects each tensor to "
              "be equal size, but got ", tensors[0]->shape, " at entry 0 and ", tensors[i]->shape,
              " at entry ", i);
  int64_t d = wrap_dim(dim, tensors[0]->ndim() + 1, "stack");
  Tensor out;
  {
    NoAutograd off;
    TensorList parts;
    for (const Tensor& t : tensors) parts.push_back(unsqueeze(t, d));
    out = cat(parts, d);
  }
  if (autograd::needs_record(tensors)) {
    autograd::record("StackBackward0", tensors, {out}, {},
        [d](const TensorList& g, const TensorList&, const Needs&) { return unbind(g[0], d); },
        [d](const TensorList& tg, const TensorList& in, const TensorList&) {
          TensorList parts;
          for (size_t i = 0; i < in.size(); ++i)
            parts.push_back(tg[i] ? tg[i] : autograd::zeros_like(in[i]));
          return TensorList{stack(parts, d)};
        });
  }
  return out;
}

Tensor hstack(const TensorList& tensors) {
  TGX_CHECK(!tensors.empty(), ValueError, "[hstack] expected a non-empty list of Tensors");
  TensorList parts;
  for (const Tensor& t : tensors) parts.push_back(t->ndim() == 0 ? reshape(t, {1}) : t);
  return cat(parts, parts[0]->ndim() == 1 ? 0 : 1);
}

Tensor vstack(const TensorList& tensors) {
  TGX_CHECK(!tensors.empty(), ValueError, "[vstack] expected a non-empty list of Tensors");
  TensorList parts;
  for (const Tensor& t : tensors) parts.push_back(t->ndim() < 2 ? reshape(t, {1, -1}) : t);
  return cat(parts, 0);
}

Tensor flip(const Tensor& t, const Dims& dims) {
  Tensor out;
  {
    NoAutograd off;
    out = clone(flip_view(t, dims));
  }
  ViewFn same = [dims](const Tensor& x) { return flip(x, dims); };
  record_view("FlipBackward0", t, out, same, same);
  return out;
}

Tensor fliplr(const Tensor& t) {
  TGX_CHECK(t->ndim() >= 2, ValueError, "[fliplr] input tensor must be >= 2-d, got shape ", t->shape);
  return flip(t, {1});
}

Tensor flipud(const Tensor& t) {
  TGX_CHECK(t->ndim() >= 1, ValueError, "[flipud] input tensor must be >= 1-d, got shape ", t->shape);
  return flip(t, {0});
}

namespace {
Tensor roll_impl(const Tensor& t, const Dims& shifts, const Dims& dims);
}  // namespace

Tensor roll(const Tensor& t, const Dims& shifts, const Dims& dims) {
  Tensor out;
  {
    NoAutograd off;
    out = roll_impl(t, shifts, dims);
  }
  Dims back;
  for (int64_t s : shifts) back.push_back(s == INT64_MIN ? INT64_MAX : -s);
  if (t->ndim() && t->numel() && shifts.size() == 1 && !dims.empty()) {  // exact inverse shift
    int64_t n = t->shape[size_t(wrap_dim(dims[0], t->ndim(), "roll"))];
    back[0] = n - ((shifts[0] % n) + n) % n;
  }
  record_view("RollBackward0", t, out, [shifts, dims](const Tensor& x) { return roll(x, shifts, dims); },
              [back, dims](const Tensor& g) { return roll(g, back, dims); });
  return out;
}

namespace {
Tensor roll_impl(const Tensor& t, const Dims& shifts, const Dims& dims) {
  if (dims.empty()) {
    TGX_CHECK(shifts.size() == 1, ValueError, "[roll] without dims, shifts must hold exactly one "
              "value, got ", shifts);
    return view(roll(reshape(t, {-1}), shifts, {0}), t->shape);
  }
  TGX_CHECK(shifts.size() == dims.size(), ValueError, "[roll] shifts and dims must have the same "
            "length, got shifts ", shifts, " and dims ", dims);
  Dims ud, us;  // a dim listed twice rolls by the sum of its shifts
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], t->ndim(), "roll");
    auto it = std::find(ud.begin(), ud.end(), d);
    if (it != ud.end()) {
      us[size_t(it - ud.begin())] += shifts[i] % std::max<int64_t>(t->ndim() ? t->shape[size_t(d)] : 1, 1);
    } else {
      ud.push_back(d);
      us.push_back(shifts[i]);
    }
  }
  Tensor out = empty(t->shape, t->dtype);
  if (t->ndim() == 0) return copy_(out, t);
  if (out->numel()) roll_into(out, t, us, ud, 0);
  return out;
}
}  // namespace

namespace {
Tensor pad_impl(const Tensor& t, const Dims& pad, const std::string& mode, const Scalar& value) {
  TGX_CHECK(mode == "constant" || mode == "reflect" || mode == "replicate" || mode == "circular",
            ValueError, "[pad] mode must be one of 'constant', 'reflect', 'replicate' or "
            "'circular', got '", mode, "'");
  int64_t pairs = int64_t(pad.size()) / 2;
  TGX_CHECK(pad.size() % 2 == 0, ValueError, "[pad] padding length must be divisible by 2, got ", pad);
  TGX_CHECK(pairs <= t->ndim(), ValueError, "[pad] padding length ", pad.size(), " is too large "
            "for an input of shape ", t->shape, " (at most 2 per dimension)");
  Shape shape = t->shape;
  for (int64_t i = 0; i < pairs; ++i) {
    int64_t d = t->ndim() - 1 - i, lo = pad[size_t(2 * i)], hi = pad[size_t(2 * i + 1)];
    int64_t n = t->shape[size_t(d)];
    shape[size_t(d)] = n + lo + hi;
    TGX_CHECK(n + lo + hi >= 0, ValueError, "[pad] padding ", pad, " gives a negative size ",
              n + lo + hi, " at dimension ", d, " of input ", t->shape);
    if (mode == "constant") continue;
    TGX_CHECK(lo >= 0 && hi >= 0, ValueError, "[pad] negative padding ", pad,
              " is only supported in constant mode");
    if (lo == 0 && hi == 0) continue;
    if (mode == "reflect")
      TGX_CHECK(lo < n && hi < n, ValueError, "[pad] reflect padding size should be less than "
                "the corresponding input dimension, but got padding (", lo, ", ", hi,
                ") at dimension ", d, " of input ", t->shape);
    else if (mode == "circular")
      TGX_CHECK(lo <= n && hi <= n, ValueError, "[pad] circular padding size should be at most "
                "the corresponding input dimension, but got padding (", lo, ", ", hi,
                ") at dimension ", d, " of input ", t->shape);
    else
      TGX_CHECK(n > 0, ValueError, "[pad] replicate padding needs a non-empty dimension ", d,
                " in input ", t->shape);
  }
  if (mode == "constant") {
    Tensor out = fill_(empty(shape, t->dtype), value);
    Tensor src = t, dst = out;
    for (int64_t i = 0; i < pairs; ++i) {
      int64_t d = t->ndim() - 1 - i, lo = pad[size_t(2 * i)], hi = pad[size_t(2 * i + 1)];
      int64_t n = t->shape[size_t(d)];
      int64_t skip = std::max<int64_t>(-lo, 0), len = n - skip - std::max<int64_t>(-hi, 0);
      if (len <= 0) return out;  // cropped away entirely: only the fill value is left
      src = narrow(src, d, skip, len);
      dst = narrow(dst, d, std::max<int64_t>(lo, 0), len);
    }
    copy_(dst, src);
    return out;
  }
  Tensor cur = t;
  for (int64_t i = 0; i < pairs; ++i) {  // one dim at a time; corners follow from the order
    int64_t d = t->ndim() - 1 - i, lo = pad[size_t(2 * i)], hi = pad[size_t(2 * i + 1)];
    int64_t n = t->shape[size_t(d)];
    if (lo == 0 && hi == 0) continue;
    Tensor left, right;
    if (mode == "reflect") {
      left = flip_view(narrow(cur, d, 1, lo), {d});
      right = flip_view(narrow(cur, d, n - 1 - hi, hi), {d});
    } else if (mode == "circular") {
      left = narrow(cur, d, n - lo, lo);
      right = narrow(cur, d, 0, hi);
    } else {
      Shape ls = cur->shape, rs = cur->shape;
      ls[size_t(d)] = lo;
      rs[size_t(d)] = hi;
      left = expand(narrow(cur, d, 0, 1), ls);
      right = expand(narrow(cur, d, n - 1, 1), rs);
    }
    cur = cat({left, cur, right}, d);
  }
  return cur == t ? clone(t) : cur;
}

}  // namespace

Tensor pad(const Tensor& t, const Dims& pads, const std::string& mode, const Scalar& value) {
  Tensor out;
  {
    NoAutograd off;
    out = pad_impl(t, pads, mode, value);
  }
  if (!autograd::needs_record({&t})) return out;
  ViewFn redo = [pads, mode](const Tensor& x) { return pad(x, pads, mode, Scalar::from_int(0)); };
  Shape in = t->shape;
  if (mode == "constant") {  // negative padding crops: the grad is the output's inner part
    Dims neg;
    for (int64_t p : pads) neg.push_back(-p);
    record_view("ConstantPadNdBackward0", t, out, redo,
                [neg](const Tensor& g) { return pad(g, neg, "constant", Scalar::from_int(0)); });
    return out;
  }
  // reflect / replicate / circular: each output element comes from one input element; pad the
  // element numbers the same way and scatter-add the grad back through that map.
  int64_t n = t->numel();
  Tensor ids = empty({n}, DType::Int64);
  for (int64_t i = 0; i < n; ++i) ids->data<int64_t>()[i] = i;
  Tensor map;
  {
    NoAutograd off;
    map = contiguous(flatten(pad_impl(view(ids, in), pads, mode, value)));
  }
  const char* name = mode == "reflect" ? "ReflectionPadBackward0"
                     : mode == "replicate" ? "ReplicationPadBackward0" : "CircularPadBackward0";
  record_view(name, t, out, redo, [map, in, n](const Tensor& g) {
    Tensor z = autograd::zeros_like_meta({{n}, g->dtype});
    return view(index_add_(z, 0, map, reshape(g, {-1}), Scalar::from_int(1)), in);
  });
  return out;
}

}  // namespace tgx::ops
