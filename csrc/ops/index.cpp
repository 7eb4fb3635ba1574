#include "ops/index.h"

#include <algorithm>
#include <limits>

#include "autograd/node.h"
#include "ops/elementwise.h"
#include "ops/shape.h"

namespace tgx::ops {
namespace {

using Needs = std::vector<bool>;

// Internal compositions run without autograd; each op records itself once at its own level.
struct NoAutograd {
  autograd::GradModeGuard grad{false};
  autograd::FwGradDisabledGuard fw;
};

Tensor zero_like_value(const Tensor& t) { return scalar_tensor(Scalar::from_int(0), t->dtype); }
Tensor or_zeros(const Tensor& tangent, const Tensor& primal) {
  return tangent ? tangent : autograd::zeros_like(primal);
}

// ---- helpers ------------------------------------------------------------------------------
// 0-d tensors index like 1-d tensors of one element (gather, scatter, index_select...).
Tensor as_1d(const Tensor& t) { return t->ndim() == 0 ? make_view(t, {1}, {1}, t->offset) : t; }

Tensor zeros_i64(const Shape& shape) {
  Tensor t = empty(shape, DType::Int64);
  return fill_(t, Scalar::from_int(0));
}

void check_index_dtype(const Tensor& idx, const char* op, bool int64_only) {
  if (int64_only) {
    TGX_CHECK(idx->dtype == DType::Int64, TypeError, "[", op,
              "] expected dtype int64 for index, got ", idx->dtype);
  } else {
    TGX_CHECK(idx->dtype == DType::Int64 || idx->dtype == DType::Int32, TypeError, "[", op,
              "] index must be an int32 or int64 tensor, got ", idx->dtype);
  }
}

// A contiguous int64 copy of an integer index tensor, negative entries wrapped (if allowed),
// every entry checked against [0, size) before anyone does pointer arithmetic with it.
Tensor checked_index(const Tensor& idx, int64_t size, bool allow_negative, const char* op,
                     int64_t dim) {
  Tensor c = to_dtype(idx, DType::Int64, /*copy=*/true);
  int64_t bad = TGX_KERNEL(index_wrap_check_kernel)(c->data<int64_t>(), c->numel(), size,
                                                    allow_negative);
  TGX_CHECK(bad < 0, IndexError, "[", op, "] index ", bad < 0 ? 0 : c->data<int64_t>()[bad],
            " is out of bounds for dimension ", dim, " with size ", size);
  return c;
}

// CPython's PySlice_AdjustIndices: clamps start/stop to the dim and returns the length.
int64_t adjust_slice(int64_t length, int64_t& start, int64_t& stop, int64_t step) {
  auto clamp = [&](int64_t& v) {
    if (v < 0) {
      v += length;
      if (v < 0) v = step < 0 ? -1 : 0;
    } else if (v >= length) {
      v = step < 0 ? length - 1 : length;
    }
  };
  clamp(start);
  clamp(stop);
  if (step < 0) return stop < start ? (start - stop - 1) / (-step) + 1 : 0;
  return start < stop ? (stop - start - 1) / step + 1 : 0;
}

// ---- getitem / setitem machinery --------------------------------------------------------------
// Basic indexing applied as a view; dims carrying an advanced index are kept whole and listed.
struct Prepared {
  Tensor view;
  std::vector<int> adv_dims;  // view dims with an advanced index, ascending
  std::vector<Tensor> adv;    // their int64 index tensors, already wrapped and checked
  // NumPy: the advanced indices are adjacent in the index expression (nothing, not even an
  // empty ellipsis, between them), so their broadcast dims replace theirs in place.
  bool adjacent = true;
};

Prepared prepare(const Tensor& self, const Indices& indices, const char* op) {
  const int64_t nd = self->ndim();
  bool has_adv = false;
  int64_t consumed = 0;
  int ellipses = 0;
  for (const IndexSpec& s : indices) {
    if (s.kind == IndexSpec::Int || s.kind == IndexSpec::Slice) ++consumed;
    else if (s.kind == IndexSpec::Ellipsis) ++ellipses;
    else if (s.kind == IndexSpec::Array) {
      has_adv = true;
      consumed += s.tensor->dtype == DType::Bool ? s.tensor->ndim() : 1;
    }
  }
  TGX_CHECK(ellipses <= 1, IndexError, "[", op, "] an index can only have a single ellipsis ('...')");
  TGX_CHECK(consumed <= nd, IndexError, "[", op, "] too many indices for tensor of dimension ",
            nd, " (got ", consumed, ")");

  Prepared p;
  Shape shape, strides;
  int64_t offset = self->offset;
  int64_t d = 0;  // next dim of self
  auto keep = [&](int64_t size, int64_t stride) {
    shape.push_back(size);
    strides.push_back(stride);
  };
  auto add_adv = [&](Tensor t) {
    p.adv_dims.push_back(int(shape.size()) - 1);
    p.adv.push_back(std::move(t));
  };
  int first_adv = -1, last_adv = -1, n_adv = 0;
  for (size_t k = 0; k < indices.size(); ++k) {
    IndexSpec::Kind kind = indices[k].kind;
    if (kind == IndexSpec::Array || (has_adv && kind == IndexSpec::Int)) {
      if (first_adv < 0) first_adv = int(k);
      last_adv = int(k);
      ++n_adv;
    }
  }
  p.adjacent = last_adv - first_adv + 1 == n_adv;
  for (const IndexSpec& s : indices) {
    switch (s.kind) {
      case IndexSpec::Int: {
        int64_t size = self->shape[d], i = s.start;
        TGX_CHECK(i >= -size && i < size, IndexError, "[", op, "] index ", i,
                  " is out of bounds for dimension ", d, " with size ", size);
        if (i < 0) i += size;
        if (has_adv) {  // NumPy: next to an advanced index, an int is a 0-d advanced index
          keep(size, self->strides[d]);
          add_adv(scalar_tensor(Scalar::from_int(i), DType::Int64));
        } else {
          offset += i * self->strides[d];
        }
        ++d;
        break;
      }
      case IndexSpec::Slice: {
        TGX_CHECK(s.step != 0, ValueError, "[", op, "] slice step cannot be zero");
        int64_t step = std::max(s.step, -std::numeric_limits<int64_t>::max());
        int64_t start = s.start, stop = s.stop;
        int64_t len = adjust_slice(self->shape[d], start, stop, step);
        int64_t stride = self->strides[d], new_stride = stride;
        if (len > 0) offset += start * stride;
        if (len > 1)
          TGX_CHECK(!__builtin_mul_overflow(stride, step, &new_stride), ValueError, "[", op,
                    "] slice step ", step, " overflows the stride");
        keep(len, new_stride);
        ++d;
        break;
      }
      case IndexSpec::NewAxis:
        keep(1, 0);
        break;
      case IndexSpec::Ellipsis:
        for (int64_t k = nd - consumed; k > 0; --k, ++d) keep(self->shape[d], self->strides[d]);
        break;
      case IndexSpec::Array: {
        const Tensor& t = s.tensor;
        if (t->dtype == DType::Bool) {
          if (t->ndim() == 0) {  // a 0-d mask adds a dim of size 1 (True) or 0 (False)
            keep(1, 0);
            add_adv(zeros_i64({*t->data<bool>() ? 1 : 0}));
            break;
          }
          for (int64_t k = 0; k < t->ndim(); ++k)
            TGX_CHECK(t->shape[k] == self->shape[d + k], IndexError, "[", op,
                      "] boolean index did not match indexed tensor along dimension ", d + k,
                      "; size of dimension is ", self->shape[d + k],
                      " but size of corresponding boolean dimension is ", t->shape[k]);
          Tensor nz = nonzero(t);  // [n, k]: in range by construction
          for (int64_t k = 0; k < t->ndim(); ++k, ++d) {
            keep(self->shape[d], self->strides[d]);
            add_adv(make_view(nz, {nz->shape[0]}, {t->ndim()}, nz->offset + k));
          }
        } else {
          TGX_CHECK(is_integral(t->dtype, false), IndexError, "[", op,
                    "] tensors used as indices must be integer or bool tensors, got ", t->dtype);
          keep(self->shape[d], self->strides[d]);
          add_adv(checked_index(t, self->shape[d], true, op, d));
          ++d;
        }
        break;
      }
    }
  }
  for (; d < nd; ++d) keep(self->shape[d], self->strides[d]);
  p.view = make_view(self, std::move(shape), std::move(strides), offset);
  return p;
}

// Where the broadcast index dims go (NumPy: in place if the advanced indices are adjacent,
// first otherwise) and the element offset of each broadcast index position.
struct AdvPlan {
  Shape result_shape;
  AdvIndexGeom geom;
  Tensor offs;
};

AdvPlan plan_advanced(const Prepared& p, const char* op) {
  Shape b = p.adv[0]->shape;
  try {
    for (const Tensor& t : p.adv) b = tgx::broadcast_shapes(b, t->shape, op);
  } catch (const ValueError&) {
    std::string shapes;
    for (const Tensor& t : p.adv) shapes += str(" ", t->shape);
    throw IndexError(str("[", op, "] shape mismatch: indexing tensors could not be broadcast "
                         "together with shapes", shapes));
  }
  AdvPlan plan;
  plan.offs = zeros_i64(b);
  const Tensor& v = p.view;
  if (plan.offs->numel()) {
    for (size_t k = 0; k < p.adv.size(); ++k) {
      TensorIter it = TensorIter::build({plan.offs.get(), p.adv[k].get()}, op);
      TGX_KERNEL(index_offsets_kernel)(it, v->strides[p.adv_dims[k]]);
    }
  }
  std::vector<bool> is_adv(size_t(v->ndim()), false);
  for (int d : p.adv_dims) is_adv[size_t(d)] = true;
  AdvIndexGeom& g = plan.geom;
  auto add_dim = [&](int64_t d) {
    g.shape.push_back(v->shape[d]);
    g.self_strides.push_back(v->strides[d]);
    plan.result_shape.push_back(v->shape[d]);
  };
  auto add_b = [&] {
    g.bdim = int(g.shape.size());
    g.shape.push_back(plan.offs->numel());
    g.self_strides.push_back(0);
    plan.result_shape.insert(plan.result_shape.end(), b.begin(), b.end());
  };
  int first = p.adv_dims.front(), last = p.adv_dims.back();
  if (p.adjacent) {
    for (int d = 0; d < first; ++d) add_dim(d);
    add_b();
    for (int64_t d = last + 1; d < v->ndim(); ++d) add_dim(d);
  } else {
    add_b();
    for (int64_t d = 0; d < v->ndim(); ++d)
      if (!is_adv[size_t(d)]) add_dim(d);
  }
  g.offs = plan.offs->data<int64_t>();
  return plan;
}

Tensor index_impl(const Tensor& self, const Indices& indices, const char* op) {
  Prepared p = prepare(self, indices, op);
  if (p.adv.empty()) return p.view;
  AdvPlan plan = plan_advanced(p, op);
  Tensor out = empty(plan.result_shape, self->dtype);
  if (out->numel())
    TGX_KERNEL(adv_gather_kernel)(self->dtype, out->raw(), p.view->raw(), plan.geom);
  return out;
}

// value, with leading size-1 dims beyond the target's rank dropped, checked to broadcast.
Tensor fit_value(const Tensor& value, const Shape& target, const char* op) {
  Tensor v = value;
  size_t nt = target.size();
  if (size_t(v->ndim()) > nt) {
    size_t extra = size_t(v->ndim()) - nt;
    if (std::all_of(v->shape.begin(), v->shape.begin() + extra, [](int64_t s) { return s == 1; }))
      v = make_view(v, Shape(v->shape.begin() + extra, v->shape.end()),
                    Shape(v->strides.begin() + extra, v->strides.end()), v->offset);
  }
  bool fits = size_t(v->ndim()) <= nt;
  if (fits) {
    try {
      fits = tgx::broadcast_shapes(target, v->shape, op) == target;
    } catch (const ValueError&) {
      fits = false;
    }
  }
  TGX_CHECK(fits, ValueError, "[", op, "] shape mismatch: value tensor of shape ", value->shape,
            " cannot be broadcast to indexing result of shape ", target);
  return v;
}

Tensor index_put_impl(const Tensor& self, const Indices& indices, const Tensor& value,
                      bool accumulate, const char* op) {
  Prepared p = prepare(self, indices, op);
  Tensor v = value->storage == self->storage ? clone(value) : value;  // no overlap surprises
  if (p.adv.empty()) {
    v = fit_value(v, p.view->shape, op);
    copy_(p.view, accumulate ? binary(BinaryOp::Add, p.view, v) : v);
    if (p.view->numel() == 0) self->bump_version();  // copy_ skips empty views
    return self;
  }
  AdvPlan plan = plan_advanced(p, op);
  v = fit_value(v, plan.result_shape, op);
  int64_t n = 1;
  for (int64_t x : plan.result_shape) n *= x;
  if (n) {
    bool scalar = v->numel() == 1;  // no need to materialize the broadcast
    Tensor vals = scalar ? to_dtype(contiguous(v), self->dtype) : empty(plan.result_shape, self->dtype);
    if (!scalar) copy_(vals, v);
    TGX_KERNEL(adv_put_kernel)(self->dtype, p.view->raw(), vals->raw(), scalar, plan.geom, accumulate);
  }
  self->bump_version();
  return self;
}

// The shared body of index_add_/index_copy_/index_fill_: self[..., index[i], ...] (op)=
// source[..., i, ...] along dim (source is a 0-d value for index_fill_).
Tensor index_scatter_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                      ScatterReduce reduce, bool is_value, const char* op) {
  check_index_dtype(index, op, false);
  TGX_CHECK(index->ndim() <= 1, IndexError, "[", op, "] index must be a vector (0-d or 1-d), got ",
            index->ndim(), " dimensions");
  int64_t d = wrap_dim(dim, self->ndim(), op);
  Tensor s = as_1d(self);
  Tensor ci = checked_index(index, s->shape[d], false, op, d);
  Shape ishape = s->shape;
  ishape[d] = ci->numel();
  Tensor src;
  if (is_value) {
    TGX_CHECK(source->ndim() == 0, ValueError, "[", op,
              "] only supports a 0-dimensional value tensor, got shape ", source->shape);
    src = to_dtype(source, self->dtype);
  } else {
    TGX_CHECK(source->dtype == self->dtype, TypeError, "[", op, "] self (", self->dtype,
              ") and source (", source->dtype, ") must have the same dtype");
    src = as_1d(source);
    TGX_CHECK(src->shape == ishape, ValueError, "[", op, "] source of shape ", source->shape,
              " does not match: expected ", ishape, " (self's shape with len(index) at dim ", d, ")");
    if (src->storage == self->storage) src = clone(src);
  }
  int64_t n = 1;
  for (int64_t x : ishape) n *= x;
  if (n) {
    Shape ist(ishape.size(), 0), sst = s->strides;
    ist[d] = 1;
    sst[d] = 0;
    Tensor iv = make_view(ci, ishape, ist, ci->offset);
    Tensor dst = make_view(s, ishape, sst, s->offset);
    TensorIter it = TensorIter::build({dst.get(), iv.get(), src.get()}, op);
    TGX_KERNEL(scatter_kernel)(self->dtype, reduce, it, s->strides[d] * int64_t(self->element_size()));
  }
  self->bump_version();
  return self;
}

void check_mask(const Tensor& mask, const char* op) {
  TGX_CHECK(mask->dtype == DType::Bool, TypeError, "[", op, "] expected a bool mask, got ",
            mask->dtype);
}

Shape mask_target(const Tensor& self, const Tensor& mask, const char* op) {
  check_mask(mask, op);
  bool ok = mask->ndim() <= self->ndim();
  if (ok) {
    try {
      ok = tgx::broadcast_shapes(self->shape, mask->shape, op) == self->shape;
    } catch (const ValueError&) {
      ok = false;
    }
  }
  TGX_CHECK(ok, ValueError, "[", op, "] mask of shape ", mask->shape,
            " cannot be broadcast to tensor of shape ", self->shape);
  return self->shape;
}

}  // namespace

// ---- public ops -----------------------------------------------------------------------------
bool is_basic(const Indices& indices) {
  return std::none_of(indices.begin(), indices.end(),
                      [](const IndexSpec& s) { return s.kind == IndexSpec::Array; });
}

// ---- autograd primitives: out of place (the in-place ops rebase self onto them) -------------
namespace {

// The raw ops (no autograd), defined below.
Tensor gather_raw(const Tensor& self, int64_t dim, const Tensor& index);
Tensor scatter_raw(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                   ScatterReduce reduce, bool value_is_scalar, const char* op);
Tensor index_select_raw(const Tensor& self, int64_t dim, const Tensor& index);

// The grad of a value written into an indexed result (grad g), back at the value's shape
// (fit_value may have dropped leading size-1 dims of the value).
Tensor value_grad(const Tensor& g, const Shape& vshape) {
  Shape fitted = vshape;
  while (fitted.size() > size_t(g->ndim()) && fitted[0] == 1) fitted.erase(fitted.begin());
  Tensor r = autograd::sum_to_shape(g, fitted);
  return fitted.size() == vshape.size() ? r : reshape(r, vshape);
}

// The name PyTorch gives a basic-indexing view's node: that of its last step.
const char* basic_index_name(const Indices& indices) {
  for (auto it = indices.rbegin(); it != indices.rend(); ++it) {
    if (it->kind == IndexSpec::Int) return "SelectBackward0";
    if (it->kind == IndexSpec::Slice) return "SliceBackward0";
    if (it->kind == IndexSpec::NewAxis) return "UnsqueezeBackward0";
  }
  return "AliasBackward0";
}

Tensor index_put_op(const Tensor& self, const Indices& indices, const Tensor& value,
                    bool accumulate, const char* op);

// self[indices]: a view (basic) whose grad goes into zeros through the same view, or a gather
// (advanced) whose grad is index_put(zeros, indices, grad, accumulate=True).
Tensor index_recorded(const Tensor& self, const Indices& indices, const char* op, const char* name) {
  Tensor out = index_impl(self, indices, op);
  if (!autograd::needs_record({&self})) return out;
  ViewFn redo = [indices, op, name](const Tensor& x) { return index_recorded(x, indices, op, name); };
  Shape shape = self->shape;
  bool basic = is_basic(indices);
  autograd::record(basic ? basic_index_name(indices) : name, {self}, {out}, {},
      [=](const TensorList& g, const TensorList&, const Needs&) {
        if (basic) return TensorList{view_scatter(g[0], shape, redo)};
        Tensor z = autograd::zeros_like_meta({shape, g[0]->dtype});
        return TensorList{index_put_op(z, indices, g[0], true, "index_put_")};
      },
      [redo](const TensorList& t, const TensorList&, const TensorList&) {
        return TensorList{redo(t[0])};
      });
  return out;
}

// out = self.clone(); out[indices] = value (+= with accumulate).
Tensor index_put_op(const Tensor& self, const Indices& indices, const Tensor& value,
                    bool accumulate, const char* op) {
  Tensor out;
  {
    NoAutograd off;
    out = clone(self);
    index_put_impl(out, indices, value, accumulate, op);
  }
  if (autograd::needs_record({&self, &value})) {
    Shape vshape = value->shape;
    autograd::record("IndexPutBackward0", {self, value}, {out}, {},
        [=](const TensorList& g, const TensorList&, const Needs& needs) {
          Tensor gs, gv;
          if (needs[0])
            gs = accumulate ? g[0] : index_put_op(g[0], indices, zero_like_value(g[0]), false, op);
          if (needs[1]) gv = value_grad(index_recorded(g[0], indices, "index", "IndexBackward0"), vshape);
          return TensorList{gs, gv};
        },
        [=](const TensorList& t, const TensorList& in, const TensorList&) {
          return TensorList{index_put_op(or_zeros(t[0], in[0]), indices, or_zeros(t[1], in[1]),
                                         accumulate, op)};
        });
  }
  return out;
}

// out = self.clone().scatter_(dim, index, src, reduce) (src: a 0-d value if value_is_scalar).
Tensor scatter_op(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                  ScatterReduce reduce, bool value_is_scalar, const char* op) {
  Tensor out;
  {
    NoAutograd off;
    out = clone(self);
    scatter_raw(out, dim, index, src, reduce, value_is_scalar, op);
  }
  Tensor s = value_is_scalar ? Tensor() : src;
  if (!autograd::needs_record({&self, &s})) return out;
  TGX_CHECK(reduce != ScatterReduce::Mul, NotImplementedError, "[", op,
            "] the derivative of reduce='multiply' is not implemented");
  bool add = reduce == ScatterReduce::Add;
  const char* name = add ? "ScatterAddBackward0" : value_is_scalar ? "ScatterBackward1" : "ScatterBackward0";
  Shape sshape = value_is_scalar ? Shape{} : src->shape;
  auto clear = [=](const Tensor& g) {  // g with the written positions zeroed
    return add ? g : scatter_op(g, dim, index, zero_like_value(g), ScatterReduce::None, true, op);
  };
  autograd::record(name, {self, s}, {out}, {},
      [=](const TensorList& g, const TensorList&, const Needs& needs) {
        Tensor gs = needs[0] ? clear(g[0]) : nullptr, gsrc;
        if (needs[1]) {  // src's entries beyond index's shape are never read: zero grad
          gsrc = gather(g[0], dim, index);
          Dims pads;
          for (int64_t k = index->ndim() - 1; k >= 0 && !sshape.empty(); --k)
            pads.insert(pads.end(), {0, sshape[size_t(k)] - index->shape[size_t(k)]});
          if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; }))
            gsrc = pad(gsrc, pads, "constant", Scalar::from_int(0));
        }
        return TensorList{gs, gsrc};
      },
      [=](const TensorList& t, const TensorList& in, const TensorList&) {
        Tensor ts = or_zeros(t[0], in[0]);
        if (value_is_scalar) return TensorList{clear(ts)};
        return TensorList{scatter_op(ts, dim, index, or_zeros(t[1], in[1]), reduce, false, op)};
      });
  return out;
}

// out = self.clone() with index_add_ / index_copy_ / index_fill_ applied along dim.
Tensor index_scatter_op(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                        ScatterReduce reduce, bool is_value, const char* op) {
  Tensor out;
  {
    NoAutograd off;
    out = clone(self);
    index_scatter_(out, dim, index, source, reduce, is_value, op);
  }
  if (!autograd::needs_record({&self, &source})) return out;
  bool add = reduce == ScatterReduce::Add;
  auto clear = [=](const Tensor& g) {
    return add ? g : index_scatter_op(g, dim, index, zero_like_value(g), ScatterReduce::None, true,
                                      "index_fill_");
  };
  const char* name = add ? "IndexAddBackward0" : is_value ? "IndexFillBackward1" : "IndexCopyBackward0";
  autograd::record(name, {self, source}, {out}, {},
      [=](const TensorList& g, const TensorList&, const Needs& needs) {
        Tensor gs = needs[0] ? clear(g[0]) : nullptr, gsrc;
        if (needs[1]) {
          gsrc = index_select(g[0], dim, index);
          if (is_value) gsrc = autograd::sum_to_shape(gsrc, {});  // the engine sums 0-d sources
        }
        return TensorList{gs, gsrc};
      },
      [=](const TensorList& t, const TensorList& in, const TensorList&) {
        Tensor tsrc = t[1] ? t[1] : (is_value ? zero_like_value(in[0]) : autograd::zeros_like(in[1]));
        return TensorList{index_scatter_op(or_zeros(t[0], in[0]), dim, index, tsrc, reduce, is_value, op)};
      });
  return out;
}

}  // namespace

Tensor index(const Tensor& self, const Indices& indices) {
  return index_recorded(self, indices, "index", "IndexBackward0");
}

Tensor index_put_(const Tensor& self, const Indices& indices, const Tensor& value, bool accumulate) {
  if (!autograd::needs_record({&self, &value}))
    return index_put_impl(self, indices, value, accumulate, "index_put_");
  return autograd::inplace_rebase(self, "index_put_", [&](const Tensor& snap) {
    return index_put_op(snap, indices, value, accumulate, "index_put_");
  });
}

Tensor gather(const Tensor& self, int64_t dim, const Tensor& index) {
  Tensor out = gather_raw(self, dim, index);
  if (!autograd::needs_record({&self})) return out;
  Shape shape = self->shape;
  autograd::record("GatherBackward0", {self}, {out}, {},
      [=](const TensorList& g, const TensorList&, const Needs&) {
        Tensor z = autograd::zeros_like_meta({shape, g[0]->dtype});
        return TensorList{scatter_op(z, dim, index, g[0], ScatterReduce::Add, false, "scatter_add")};
      },
      [=](const TensorList& t, const TensorList&, const TensorList&) {
        return TensorList{gather(t[0], dim, index)};
      });
  return out;
}

Tensor scatter_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                ScatterReduce reduce, bool value_is_scalar, const char* op) {
  Tensor s = value_is_scalar ? Tensor() : src;
  if (!autograd::needs_record({&self, &s}))
    return scatter_raw(self, dim, index, src, reduce, value_is_scalar, op);
  return autograd::inplace_rebase(self, op, [&](const Tensor& snap) {
    return scatter_op(snap, dim, index, src, reduce, value_is_scalar, op);
  });
}

Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index) {
  Tensor out = index_select_raw(self, dim, index);
  if (!autograd::needs_record({&self})) return out;
  Shape shape = self->shape;
  autograd::record("IndexSelectBackward0", {self}, {out}, {},
      [=](const TensorList& g, const TensorList&, const Needs&) {
        Tensor z = autograd::zeros_like_meta({shape, g[0]->dtype});
        return TensorList{index_scatter_op(z, dim, index, g[0], ScatterReduce::Add, false, "index_add_")};
      },
      [=](const TensorList& t, const TensorList&, const TensorList&) {
        return TensorList{index_select(t[0], dim, index)};
      });
  return out;
}

namespace {
Tensor gather_raw(const Tensor& self, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  check_index_dtype(index, op, true);
  int64_t d = wrap_dim(dim, self->ndim(), op);
  Tensor s = as_1d(self), idx = as_1d(index);
  TGX_CHECK(s->ndim() == idx->ndim(), ValueError, "[gather] index tensor must have the same "
            "number of dimensions as input tensor (", index->ndim(), " vs ", self->ndim(), ")");
  for (int64_t k = 0; k < s->ndim(); ++k)
    TGX_CHECK(k == d || idx->shape[k] <= s->shape[k], ValueError, "[gather] size of dimension ",
              k, " of index (", idx->shape[k], ") exceeds that of input (", s->shape[k], ")");
  Tensor ci = checked_index(idx, s->shape[d], false, op, d);
  Tensor out = empty(index->shape, self->dtype);
  if (out->numel() == 0) return out;
  Shape st = s->strides;
  st[d] = 0;
  Tensor src = make_view(s, idx->shape, st, s->offset);
  Tensor o = as_1d(out);
  TensorIter it = TensorIter::build({o.get(), ci.get(), src.get()}, op);
  TGX_KERNEL(gather_kernel)(self->dtype, it, s->strides[d] * int64_t(self->element_size()));
  return out;
}

Tensor scatter_raw(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                   ScatterReduce reduce, bool value_is_scalar, const char* op) {
  check_index_dtype(index, op, true);
  int64_t d = wrap_dim(dim, self->ndim(), op);
  Tensor s = as_1d(self), idx = as_1d(index);
  TGX_CHECK(s->ndim() == idx->ndim(), ValueError, "[", op, "] index tensor must have the same "
            "number of dimensions as self tensor (", index->ndim(), " vs ", self->ndim(), ")");
  for (int64_t k = 0; k < s->ndim(); ++k)
    TGX_CHECK(k == d || idx->shape[k] <= s->shape[k], ValueError, "[", op, "] size of dimension ",
              k, " of index (", idx->shape[k], ") exceeds that of self (", s->shape[k], ")");
  Tensor sv;
  if (value_is_scalar) {
    TGX_CHECK(src->ndim() == 0, ValueError, "[", op, "] value must be a number or a 0-d tensor");
    sv = to_dtype(src, self->dtype);
  } else {
    TGX_CHECK(src->dtype == self->dtype, TypeError, "[", op, "] expected self.dtype to be equal "
              "to src.dtype (", self->dtype, " vs ", src->dtype, ")");
    Tensor sr = as_1d(src);
    TGX_CHECK(sr->ndim() == idx->ndim(), ValueError, "[", op, "] index tensor must have the same "
              "number of dimensions as src tensor (", index->ndim(), " vs ", src->ndim(), ")");
    for (int64_t k = 0; k < sr->ndim(); ++k)
      TGX_CHECK(idx->shape[k] <= sr->shape[k], ValueError, "[", op, "] size of dimension ", k,
                " of index (", idx->shape[k], ") exceeds that of src (", sr->shape[k], ")");
    if (sr->storage == self->storage) sr = clone(sr);
    sv = make_view(sr, idx->shape, sr->strides, sr->offset);
  }
  Tensor ci = checked_index(idx, s->shape[d], false, op, d);
  if (ci->numel()) {
    Shape st = s->strides;
    st[d] = 0;
    Tensor dst = make_view(s, idx->shape, st, s->offset);
    TensorIter it = TensorIter::build({dst.get(), ci.get(), sv.get()}, op);
    TGX_KERNEL(scatter_kernel)(self->dtype, reduce, it, s->strides[d] * int64_t(self->element_size()));
  }
  self->bump_version();
  return self;
}

Tensor index_select_raw(const Tensor& self, int64_t dim, const Tensor& index) {
  const char* op = "index_select";
  check_index_dtype(index, op, false);
  TGX_CHECK(index->ndim() <= 1, IndexError, "[index_select] index must be a vector (0-d or 1-d), "
            "got ", index->ndim(), " dimensions");
  int64_t d = wrap_dim(dim, self->ndim(), op);
  Tensor s = as_1d(self);
  Tensor ci = checked_index(index, s->shape[d], false, op, d);
  TGX_CHECK(self->ndim() > 0 || ci->numel() == 1, IndexError,
            "[index_select] indexing a 0-d tensor needs exactly one index, got ", ci->numel());
  Shape oshape = s->shape;
  oshape[d] = ci->numel();
  Tensor out = empty(oshape, self->dtype);
  if (out->numel()) {
    Shape ist(oshape.size(), 0), sst = s->strides;
    ist[d] = 1;
    sst[d] = 0;
    Tensor iv = make_view(ci, oshape, ist, ci->offset);
    Tensor sv = make_view(s, oshape, sst, s->offset);
    TensorIter it = TensorIter::build({out.get(), iv.get(), sv.get()}, op);
    TGX_KERNEL(gather_kernel)(self->dtype, it, s->strides[d] * int64_t(self->element_size()));
  }
  return self->ndim() == 0 ? make_view(out, {}, {}, out->offset) : out;
}
}  // namespace

namespace {
Tensor index_scatter_inplace(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                             ScatterReduce reduce, bool is_value, const char* op, bool recording) {
  if (!recording) return index_scatter_(self, dim, index, src, reduce, is_value, op);
  return autograd::inplace_rebase(self, op, [&](const Tensor& snap) {
    return index_scatter_op(snap, dim, index, src, reduce, is_value, op);
  });
}
}  // namespace

Tensor index_add_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                  const Scalar& alpha) {
  TGX_CHECK(source->dtype == self->dtype, TypeError, "[index_add_] self (", self->dtype,
            ") and source (", source->dtype, ") must have the same dtype");
  bool recording = autograd::needs_record({&self, &source});
  if (recording) autograd::check_inplace(self, "index_add_");
  Tensor src = source;
  if (!(alpha.kind != Scalar::Float && alpha.i == 1))
    src = to_dtype(binary(BinaryOp::Mul, source, scalar_tensor(alpha)), self->dtype);
  return index_scatter_inplace(self, dim, index, src, ScatterReduce::Add, false, "index_add_", recording);
}

Tensor index_copy_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  return index_scatter_inplace(self, dim, index, source, ScatterReduce::None, false, "index_copy_",
                               autograd::needs_record({&self, &source}));
}

Tensor index_fill_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& value) {
  return index_scatter_inplace(self, dim, index, value, ScatterReduce::None, true, "index_fill_",
                               autograd::needs_record({&self, &value}));
}

Tensor masked_fill_(const Tensor& self, const Tensor& mask, const Tensor& value) {
  mask_target(self, mask, "masked_fill_");
  TGX_CHECK(value->ndim() == 0, ValueError, "[masked_fill_] only supports a 0-dimensional value "
            "tensor, got shape ", value->shape);
  Tensor m = mask->storage == self->storage ? clone(mask) : mask;
  if (autograd::needs_record({&self, &value}))
    return autograd::inplace_rebase(self, "masked_fill_", [&](const Tensor& snap) {
      return masked_fill(snap, m, value);
    });
  if (self->numel() == 0) return self;
  return copy_(self, where(m, to_dtype(value, self->dtype), self));
}

Tensor masked_fill(const Tensor& self, const Tensor& mask, const Tensor& value) {
  mask_target(self, mask, "masked_fill");
  if (!autograd::needs_record({&self, &value})) return masked_fill_(clone(self), mask, value);
  TGX_CHECK(value->ndim() == 0, ValueError, "[masked_fill] only supports a 0-dimensional value "
            "tensor, got shape ", value->shape);
  return where(mask, to_dtype(value, self->dtype), self);  // WhereBackward0: grad zeroed at mask
}

Tensor masked_select(const Tensor& self, const Tensor& mask) {
  check_mask(mask, "masked_select");
  Shape b = tgx::broadcast_shapes(self->shape, mask->shape, "masked_select");
  if (b.empty()) b = {1};
  return index_recorded(broadcast_to(self, b), {IndexSpec::array(broadcast_to(mask, b))},
                        "masked_select", "MaskedSelectBackward0");
}

Tensor masked_scatter_(const Tensor& self, const Tensor& mask, const Tensor& source) {
  const char* op = "masked_scatter_";
  mask_target(self, mask, op);
  TGX_CHECK(source->dtype == self->dtype, TypeError, "[masked_scatter_] self (", self->dtype,
            ") and source (", source->dtype, ") must have the same dtype");
  Tensor m = contiguous(broadcast_to(mask, self->shape));
  int64_t count = m->numel() ? TGX_KERNEL(count_nonzero_kernel)(DType::Bool, m->raw(), m->numel()) : 0;
  TGX_CHECK(source->numel() >= count, ValueError, "[masked_scatter_] source has ",
            source->numel(), " elements but the mask selects ", count);
  Tensor vals = narrow(flatten(source), 0, 0, count);
  if (autograd::needs_record({&self, &source}))
    return autograd::inplace_rebase(self, op, [&](const Tensor& snap) {
      return index_put_op(snap, {IndexSpec::array(m)}, vals, false, op);
    });
  return index_put_impl(self, {IndexSpec::array(m)}, vals, false, op);
}

Tensor take(const Tensor& self, const Tensor& index) {
  check_index_dtype(index, "take", true);
  return index_recorded(flatten(self), {IndexSpec::array(index)}, "take", "TakeBackward0");
}

Tensor take_along_dim(const Tensor& self, const Tensor& indices, std::optional<int64_t> dim) {
  const char* op = "take_along_dim";
  check_index_dtype(indices, op, true);
  if (!dim) return take(self, flatten(indices));
  int64_t d = wrap_dim(*dim, self->ndim(), op);
  TGX_CHECK(self->ndim() == indices->ndim(), ValueError, "[take_along_dim] input and indices "
            "should have the same number of dimensions, but got ", self->ndim(), " and ",
            indices->ndim());
  if (self->ndim() == 0) return gather(self, d, indices);
  Shape a = self->shape, b = indices->shape;
  a[d] = b[d] = 1;
  Shape common = tgx::broadcast_shapes(a, b, op);
  Shape sa = common, sb = common;
  sa[d] = self->shape[d];
  sb[d] = indices->shape[d];
  return gather(broadcast_to(self, sa), d, broadcast_to(indices, sb));
}

Tensor put_(const Tensor& self, const Tensor& index, const Tensor& source, bool accumulate) {
  const char* op = "put_";
  check_index_dtype(index, op, true);
  TGX_CHECK(source->dtype == self->dtype, TypeError, "[put_] self (", self->dtype,
            ") and source (", source->dtype, ") must have the same dtype");
  TGX_CHECK(source->numel() == index->numel(), ValueError, "[put_] source has ", source->numel(),
            " elements but index has ", index->numel());
  if (autograd::needs_record({&self, &source}))
    return autograd::inplace_rebase(self, op, [&](const Tensor& snap) {
      Tensor flat = reshape(snap, {-1});
      Tensor r = index_put_op(flat, {IndexSpec::array(flatten(index))}, flatten(source), accumulate, op);
      return reshape(r, self->shape);
    });
  Tensor target = self->is_contiguous() ? self : contiguous(self);
  Tensor flat = make_view(target, {target->numel()}, {1}, target->offset);
  index_put_impl(flat, {IndexSpec::array(flatten(index))}, flatten(source), accumulate, op);
  if (target != self) copy_(self, target);
  return self;
}

Tensor nonzero(const Tensor& self) {
  Tensor c = contiguous(self);
  int64_t n = c->numel() ? TGX_KERNEL(count_nonzero_kernel)(c->dtype, c->raw(), c->numel()) : 0;
  Tensor out = empty({n, self->ndim()}, DType::Int64);
  if (n && self->ndim()) TGX_KERNEL(nonzero_kernel)(c->dtype, c->raw(), c->shape, out->data<int64_t>());
  return out;
}

std::vector<Tensor> nonzero_tuple(const Tensor& self) {
  Tensor nz = nonzero(as_1d(self));
  std::vector<Tensor> cols;
  int64_t k = nz->shape[1];
  for (int64_t j = 0; j < k; ++j) cols.push_back(make_view(nz, {nz->shape[0]}, {k}, nz->offset + j));
  return cols;
}

Tensor count_nonzero(const Tensor& self, const std::vector<int64_t>& dims) {
  const int64_t nd = self->ndim();
  std::vector<bool> reduced(size_t(nd), dims.empty());
  for (int64_t dim : dims) {
    int64_t d = wrap_dim(dim, nd, "count_nonzero");
    if (nd == 0) continue;
    TGX_CHECK(!reduced[size_t(d)], ValueError, "[count_nonzero] dim ", d, " appears multiple times");
    reduced[size_t(d)] = true;
  }
  Shape oshape;
  for (int64_t d = 0; d < nd; ++d)
    if (!reduced[size_t(d)]) oshape.push_back(self->shape[d]);
  Tensor out = zeros_i64(oshape);
  if (self->numel()) {
    Shape st(size_t(nd), 0);
    for (int64_t d = 0, k = 0; d < nd; ++d)
      if (!reduced[size_t(d)]) st[size_t(d)] = out->strides[size_t(k++)];
    Tensor ov = make_view(out, self->shape, st, 0);
    TensorIter it = TensorIter::build({ov.get(), self.get()}, "count_nonzero");
    TGX_KERNEL(count_nonzero_iter_kernel)(self->dtype, it);
  }
  return out;
}

Tensor one_hot(const Tensor& self, int64_t num_classes) {
  TGX_CHECK(self->dtype == DType::Int64, TypeError,
            "[one_hot] one_hot is only applicable to index tensors (int64), got ", self->dtype);
  Tensor c = to_dtype(self, DType::Int64, true);
  const int64_t* p = c->data<int64_t>();
  int64_t n = c->numel();
  for (int64_t i = 0; i < n; ++i)
    TGX_CHECK(p[i] >= 0, ValueError, "[one_hot] class values must be non-negative, got ", p[i]);
  if (num_classes == -1) {
    TGX_CHECK(n > 0, ValueError, "[one_hot] can not infer the number of classes from an empty tensor");
    num_classes = *std::max_element(p, p + n) + 1;
  }
  TGX_CHECK(num_classes >= 0, ValueError, "[one_hot] num_classes must be -1 or non-negative, got ",
            num_classes);
  for (int64_t i = 0; i < n; ++i)
    TGX_CHECK(p[i] < num_classes, ValueError, "[one_hot] class value ", p[i],
              " must be smaller than num_classes (", num_classes, ")");
  Shape oshape = self->shape;
  oshape.push_back(num_classes);
  Tensor out = zeros_i64(oshape);
  if (n && num_classes) {
    Shape ishape = self->shape, ist = c->strides;
    ishape.push_back(1);
    ist.push_back(1);
    scatter_(out, -1, make_view(c, ishape, ist, c->offset), scalar_tensor(Scalar::from_int(1), DType::Int64),
             ScatterReduce::None, true, "one_hot");
  }
  return out;
}

Tensor searchsorted(const Tensor& sorted, const Tensor& values, bool right, bool out_int32,
                    const char* op) {
  TGX_CHECK(sorted->ndim() >= 1, ValueError, "[", op, "] boundaries tensor must have at least "
            "1 dimension, got a 0-d tensor");
  if (sorted->ndim() > 1) {
    bool ok = values->ndim() == sorted->ndim() &&
              std::equal(sorted->shape.begin(), sorted->shape.end() - 1, values->shape.begin());
    TGX_CHECK(ok, ValueError, "[", op, "] boundaries tensor should be 1 dimension or the first "
              "N-1 dimensions of boundaries tensor and input value tensor must match, but we got "
              "boundaries tensor ", sorted->shape, " and input value tensor ", values->shape);
  }
  DType dt = promote_types(sorted->dtype, values->dtype);
  Tensor sc = contiguous(to_dtype(sorted, dt)), vc = contiguous(to_dtype(values, dt));
  int64_t seq_len = sorted->shape.back();
  int64_t seq_rows = sorted->ndim() == 1 ? 1 : sorted->numel() / std::max<int64_t>(seq_len, 1);
  int64_t row_len = values->ndim() ? values->shape.back() : 1;
  Tensor out = empty(values->shape, DType::Int64);
  if (out->numel()) {
    TGX_KERNEL(searchsorted_kernel)(dt, sc->raw(), seq_rows, seq_len, vc->raw(), vc->numel(),
                                    row_len, right, out->data<int64_t>());
  }
  return out_int32 ? to_dtype(out, DType::Int32) : out;
}

}  // namespace tgx::ops
