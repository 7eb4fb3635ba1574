#include "ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/node.h"
#include "kernels/cpu/reduce.h"
#include "ops/creation.h"
#include "ops/arith.h"
#include "ops/elementwise.h"
#include "ops/shape.h"

namespace tgx::ops {
namespace {

// Which dims a reduction covers, plus the shapes that follow from it.
struct Plan {
  std::vector<bool> mask;  // per input dim
  Shape out_shape;         // with or without keepdim
  Shape keep_shape;        // keepdim shape
  int64_t rlen = 1;        // elements reduced into each output
};

Plan plan(const Tensor& x, const Dims& dims, bool keepdim, const char* op) {
  const int64_t nd = x->ndim();
  Plan p;
  std::vector<bool> seen(size_t(std::max<int64_t>(nd, 1)), false);
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, nd, op);
    TGX_CHECK(!seen[size_t(w)], RuntimeError, "[", op, "] dim ", w,
              " appears multiple times in the list of dims");
    seen[size_t(w)] = true;
  }
  p.mask.assign(size_t(nd), dims.empty());
  for (int64_t d = 0; d < nd; ++d) p.mask[size_t(d)] = p.mask[size_t(d)] || seen[size_t(d)];
  for (int64_t d = 0; d < nd; ++d) {
    bool r = p.mask[size_t(d)];
    if (r) p.rlen *= x->shape[d];
    p.keep_shape.push_back(r ? 1 : x->shape[d]);
    if (!r || keepdim) p.out_shape.push_back(r ? 1 : x->shape[d]);
  }
  return p;
}

Plan plan_one(const Tensor& x, std::optional<int64_t> dim, bool keepdim, const char* op) {
  if (dim) return plan(x, {*dim}, keepdim, op);
  Plan p = plan(x, {}, true, op);
  if (!keepdim) p.out_shape.clear();
  return p;
}

// Dims of one group (kept or reduced), innermost first, merged where contiguous.
int collect(const Tensor& x, const std::vector<bool>& mask, bool reduced, bool sort,
            int64_t* shape, int64_t* stride, const char* op) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (size, byte stride)
  const int64_t isz = int64_t(x->element_size());
  for (int64_t d = x->ndim() - 1; d >= 0; --d)
    if (mask[size_t(d)] == reduced && x->shape[d] != 1) dims.push_back({x->shape[d], x->strides[d] * isz});
  if (sort)  // stable: by |stride|, innermost first
    std::stable_sort(dims.begin(), dims.end(), [](auto& a, auto& b) {
      return std::abs(a.second) < std::abs(b.second);
    });
  int n = 0;
  for (auto& [size, st] : dims) {
    if (n > 0 && st == stride[n - 1] * shape[n - 1]) {
      shape[n - 1] *= size;
      continue;
    }
    TGX_CHECK(n < kMaxIterDims, NotImplementedError, "[", op, "] more than ", kMaxIterDims,
              " non-mergeable dimensions are not supported");
    shape[n] = size;
    stride[n] = st;
    ++n;
  }
  if (n == 0) {
    shape[0] = 1;
    stride[0] = 0;
    n = 1;
  }
  return n;
}

// sort_reduced: walk reduced dims in memory order (sums); false keeps logical order (indices).
ReduceIter make_iter(const Tensor& x, const Plan& p, bool sort_reduced, const Tensor& out,
                     const char* op) {
  ReduceIter it;
  it.nkeep = collect(x, p.mask, false, false, it.keep_shape, it.keep_stride, op);
  it.nred = collect(x, p.mask, true, sort_reduced, it.red_shape, it.red_stride, op);
  it.nout = 1;
  for (int d = 0; d < it.nkeep; ++d) it.nout *= it.keep_shape[d];
  it.rlen = p.rlen;
  it.in = x->raw();
  it.out = out->raw();
  return it;
}

DType acc_dtype(DType t) { return is_floating(t) ? t : DType::Int64; }

void check_float(const Tensor& x, const char* op) {
  TGX_CHECK(is_floating(x->dtype), TypeError, "[", op,
            "] needs a floating-point input, got dtype ", x->dtype,
            " (pass dtype= or convert with .float())");
}

// out (acc dtype of x, shape `shape`) = spec-reduction of x over p.
Tensor run_sum(const Tensor& x, const Plan& p, const Shape& shape, const SumSpec& spec,
               const char* op) {
  Tensor out = empty(shape, acc_dtype(x->dtype));
  if (out->numel() == 0) return out;
  ReduceIter it = make_iter(x, p, true, out, op);
  TGX_KERNEL(sum_kernel)(x->dtype, spec, it);
  return out;
}

void check_nonempty(const Tensor& x, const Plan& p, const char* op) {
  TGX_CHECK(p.rlen != 0, IndexError, "[", op, "] cannot reduce over a zero-size dimension "
            "(input shape ", x->shape, "): the operation has no identity");
}

// values and/or indices of the min/max over p; either output may be skipped.
void run_minmax(MinMaxOp mop, const Tensor& x, const Plan& p, const Tensor& values,
                const Tensor& indices, const char* op) {
  check_nonempty(x, p, op);
  const Tensor& any_out = values ? values : indices;
  if (any_out->numel() == 0) return;
  ReduceIter it = make_iter(x, p, indices == nullptr, any_out, op);
  TGX_KERNEL(minmax_kernel)(mop, x->dtype, it, values ? values->raw() : nullptr,
                            indices ? indices->data<int64_t>() : nullptr);
}

Tensor minmax_values(MinMaxOp mop, const Tensor& x, const Plan& p, const Shape& shape,
                     const char* op) {
  Tensor v = empty(shape, x->dtype);
  run_minmax(mop, x, p, v, nullptr, op);
  return v;
}

std::pair<Tensor, Tensor> minmax_dim(MinMaxOp mop, const Tensor& x, int64_t dim, bool keepdim,
                                     const char* op) {
  Plan p = plan(x, {dim}, keepdim, op);
  Tensor v = empty(p.out_shape, x->dtype), i = empty(p.out_shape, DType::Int64);
  run_minmax(mop, x, p, v, i, op);
  return {v, i};
}

Tensor arg(MinMaxOp mop, const Tensor& x, std::optional<int64_t> dim, bool keepdim,
           const char* op) {
  Plan p = plan_one(x, dim, keepdim, op);
  Tensor i = empty(p.out_shape, DType::Int64);
  run_minmax(mop, x, p, nullptr, i, op);
  return i;
}

Tensor full_like_shape(const Shape& shape, DType dt, Scalar v) {
  return fill_(empty(shape, dt), v);
}

// Shared by var/std and their _mean forms: returns (var or std, mean).
std::pair<Tensor, Tensor> moments(const Tensor& x, const Dims& dims, double correction,
                                  bool keepdim, bool take_sqrt, const char* op) {
  check_float(x, op);
  Plan p = plan(x, dims, keepdim, op);
  SumSpec ms;
  ms.post = SumPost::Div;
  ms.d = double(p.rlen);
  Tensor m = run_sum(x, p, p.out_shape, ms, op);
  SumSpec vs;
  vs.map = SumMap::SqDev;
  vs.param = m->raw();
  vs.post = take_sqrt ? SumPost::SqrtDiv : SumPost::Div;
  vs.d = std::max(0.0, double(p.rlen) - correction);
  return {run_sum(x, p, p.out_shape, vs, op), m};
}

Tensor scan(ScanOp sop, const Tensor& x, int64_t dim, std::optional<DType> dtype, const char* op) {
  int64_t d = wrap_dim(dim, x->ndim(), op);
  DType cdt = dtype ? *dtype : acc_dtype(x->dtype);
  Tensor in = contiguous(to_dtype(x, cdt));
  Tensor out = empty(x->shape, cdt);
  if (out->numel() == 0) return out;
  int64_t outer = 1, inner = 1, n = x->ndim() ? x->shape[d] : 1;
  for (int64_t k = 0; k < x->ndim(); ++k) {
    if (k < d) outer *= x->shape[k];
    if (k > d) inner *= x->shape[k];
  }
  TGX_KERNEL(scan_kernel)(sop, cdt, in->raw(), out->raw(), outer, n, inner);
  return out;
}

Tensor softmax_impl(bool log, const Tensor& x, int64_t dim, std::optional<DType> dtype,
                    const char* op) {
  int64_t d = wrap_dim(dim, x->ndim(), op);
  Tensor in = dtype ? to_dtype(x, *dtype) : x;
  check_float(in, op);
  in = contiguous(in);
  Tensor out = empty(x->shape, in->dtype);
  if (out->numel() == 0) return out;
  int64_t outer = 1, inner = 1, n = x->ndim() ? x->shape[d] : 1;
  for (int64_t k = 0; k < x->ndim(); ++k) {
    if (k < d) outer *= x->shape[k];
    if (k > d) inner *= x->shape[k];
  }
  TGX_KERNEL(softmax_kernel)(log, in->dtype, in->raw(), out->raw(), outer, n, inner);
  return out;
}

}  // namespace


// ---- autograd ------------------------------------------------------------------------------
// Each reduction's vjp and jvp sit here, written with ops so that they differentiate again.
// Most are "g broadcast back, times a derivative D(x, out)": vjp = expand(g) * D and
// jvp = sum(t * D) over the same dims.
namespace {
using autograd::TensorList;
using Needs = std::vector<bool>;
using DerivFn = std::function<Tensor(const Tensor& x, const Tensor& out_keep)>;

using namespace arith;  // num, add, sub, mul, div, neg
Tensor eq(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Eq, a, b); }
Tensor mask_of(const Tensor& cond, DType dt) { return to_dtype(cond, dt); }
Tensor where0(const Tensor& cond, const Tensor& x) { return where(cond, num(0), x); }  // 0 where cond

// Broadcasts x up to `shape` (recorded, unlike a bare expand view).
Tensor expand_ad(const Tensor& x, const Shape& shape) {
  if (x->shape == shape) return x;
  return add(x, autograd::zeros_like_meta({shape, x->dtype}));
}

// What a vjp needs to know about a reduction: shapes, dims (as given) and the count.
struct RInfo {
  Shape in_shape, keep_shape;
  Dims dims;
  bool keepdim = false;
  int64_t n = 1;
};
RInfo rinfo(const Tensor& x, const Plan& p, const Dims& dims, bool keepdim) {
  return RInfo{x->shape, p.keep_shape, dims, keepdim, p.rlen};
}
Tensor to_keep(const Tensor& g, const RInfo& r) {
  return g->shape == r.keep_shape ? g : reshape(g, r.keep_shape);
}

// vjp = expand(g) * D(x, out), jvp = sum(t * D(x, out)); D null means 1.
// uses_saved false: D reads neither x nor out (nothing is saved).
void record_reduce(const char* name, const Tensor& x, const Tensor& out, const RInfo& r,
                   DerivFn D, bool uses_saved = true) {
  if (!is_floating(out->dtype) || !is_floating(x->dtype)) return;
  TensorList save = D && uses_saved ? TensorList{x, out} : TensorList{};
  autograd::record(name, {x}, {out}, save,
      [r, D](const TensorList& g, const TensorList& s, const Needs&) {
        Tensor gk = to_keep(g[0], r);
        if (D && s.empty()) gk = mul(gk, D(nullptr, nullptr));
        else if (D) gk = mul(gk, D(s[0], to_keep(s[1], r)));
        return TensorList{expand_ad(gk, r.in_shape)};
      },
      [r, D](const TensorList& t, const TensorList& in, const TensorList& outs) {
        Tensor d = D ? mul(t[0], D(in[0], to_keep(outs[0], r))) : t[0];
        return TensorList{sum(expand_ad(d, r.in_shape), r.dims, r.keepdim)};
      });
}

// amax/amin (and max()/min()): the grad is split evenly among the elements equal to the result.
DerivFn even_split(const RInfo& r) {
  return [r](const Tensor& x, const Tensor& ok) {
    Tensor m = mask_of(eq(x, ok), x->dtype);
    return div(m, sum(m, r.dims, true));
  };
}

// Along the last dim of y: out_i = prod_{j<i} y_j * prod_{j>i} y_j, from two exclusive cumprods
// (the input shifted by one, padded with a 1). Only ops, so any number of zeros is fine and the
// result differentiates again (PyTorch's prod_safe_zeros_backward).
Tensor prod_of_others_last(const Tensor& y) {
  const Dims shift{1, -1};
  Tensor before = cumprod(pad(y, shift, "constant", Scalar::from_int(1)), -1);
  Tensor yr = flip(y, {-1});
  Tensor after = flip(cumprod(pad(yr, shift, "constant", Scalar::from_int(1)), -1), {-1});
  return mul(before, after);
}

// d prod / d x_i = product of the other elements of its slice. The reduced dims are moved last
// and flattened into one, so prod over all elements and over any dims share the same code.
DerivFn prod_deriv(const RInfo& r) {
  return [r](const Tensor& x, const Tensor&) -> Tensor {
    const int64_t nd = x->ndim();
    if (nd == 0) return num(1);
    std::vector<bool> red(size_t(nd), r.dims.empty());
    for (int64_t d : r.dims) red[size_t(wrap_dim(d, nd, "prod"))] = true;
    Dims perm, inv(static_cast<size_t>(nd), 0);
    Shape flat;
    int64_t n = 1;
    for (int64_t d = 0; d < nd; ++d)
      if (!red[size_t(d)]) {
        perm.push_back(d);
        flat.push_back(x->shape[d]);
      }
    for (int64_t d = 0; d < nd; ++d)
      if (red[size_t(d)]) {
        perm.push_back(d);
        n *= x->shape[d];
      }
    flat.push_back(n);
    for (int64_t i = 0; i < nd; ++i) inv[size_t(perm[size_t(i)])] = i;
    Tensor xp = permute(x, perm);
    Tensor o = reshape(prod_of_others_last(reshape(xp, flat)), xp->shape);
    return permute(o, inv);
  };
}

// d var / dx = 2 (x - mean) / (N - c); d std / dx = (x - mean) / (std (N - c)), 0 where std == 0.
DerivFn moments_deriv(const RInfo& r, double correction, bool is_std) {
  return [r, correction, is_std](const Tensor& x, const Tensor& ok) {
    double dof = std::max(0.0, double(r.n) - correction);
    Tensor dev = sub(x, mean(x, r.dims, true));
    if (!is_std) return mul(dev, num(2.0 / dof));
    Tensor z = eq(ok, num(0));
    return where0(z, div(dev, mul(where(z, num(1), ok), num(dof))));
  };
}

DerivFn norm_deriv(const RInfo& r, double p) {
  return [r, p](const Tensor& x, const Tensor& ok) -> Tensor {
    if (p == 0) return autograd::zeros_like(x);
    Tensor sg = unary(UnaryOp::Sign, x);
    if (p == 1) return sg;
    Tensor z = eq(ok, num(0));
    Tensor safe = where(z, num(1), ok);
    if (std::isinf(p)) {
      Tensor m = mask_of(eq(unary(UnaryOp::Abs, x), ok), x->dtype);
      return mul(sg, div(m, sum(m, r.dims, true)));
    }
    if (p == 2) return where0(z, div(x, safe));
    Tensor num_ = mul(sg, binary(BinaryOp::Pow, unary(UnaryOp::Abs, x), num(p - 1)));
    return where0(z, div(num_, binary(BinaryOp::Pow, safe, num(p - 1))));
  };
}

}  // namespace

// ---- sums -------------------------------------------------------------------------------
Tensor sum(const Tensor& x, const Dims& dims, bool keepdim, std::optional<DType> dtype) {
  Tensor in = dtype ? to_dtype(x, *dtype) : x;
  Plan p = plan(in, dims, keepdim, "sum");
  Tensor out = run_sum(in, p, p.out_shape, SumSpec{}, "sum");
  if (autograd::needs_record({&in}))
    record_reduce(dims.empty() ? "SumBackward0" : "SumBackward1", in, out, rinfo(in, p, dims, keepdim), nullptr);
  return dtype ? to_dtype(out, *dtype) : out;
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad->shape == shape) return grad;
  // The recorded version (autograd/sum_to_shape.cpp) comes back here with recording off.
  if (autograd::needs_record({&grad})) return autograd::sum_to_shape(grad, shape);
  const int64_t nd = grad->ndim(), lead = nd - int64_t(shape.size());
  TGX_CHECK(lead >= 0, ValueError, "[sum_to_shape] shape ", shape,
            " has more dimensions than the gradient's shape ", grad->shape);
  Plan p;
  p.mask.assign(size_t(nd), false);
  for (int64_t d = 0; d < nd; ++d) {
    int64_t want = d < lead ? 1 : shape[size_t(d - lead)];
    TGX_CHECK(d < lead || want == grad->shape[d] || want == 1, ValueError, "[sum_to_shape] shape ",
              shape, " does not broadcast to the gradient's shape ", grad->shape);
    p.mask[size_t(d)] = d < lead || (want == 1 && grad->shape[d] != 1);
    if (p.mask[size_t(d)]) p.rlen *= grad->shape[d];
  }
  Tensor out = run_sum(grad, p, shape, SumSpec{}, "sum_to_shape");
  return to_dtype(out, grad->dtype);
}

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim, std::optional<DType> dtype) {
  Tensor in = dtype ? to_dtype(x, *dtype) : x;
  check_float(in, "mean");
  Plan p = plan(in, dims, keepdim, "mean");
  SumSpec s;
  s.post = SumPost::Div;
  s.d = double(p.rlen);
  Tensor out = run_sum(in, p, p.out_shape, s, "mean");
  if (autograd::needs_record({&in})) {
    double inv = 1.0 / double(p.rlen);
    record_reduce(dims.empty() ? "MeanBackward0" : "MeanBackward1", in, out, rinfo(in, p, dims, keepdim),
                  [inv](const Tensor&, const Tensor&) { return num(inv); }, false);
  }
  return out;
}

Tensor prod(const Tensor& x, const Dims& dims, bool keepdim, std::optional<DType> dtype) {
  Tensor in = dtype ? to_dtype(x, *dtype) : x;
  Plan p = plan(in, dims, keepdim, "prod");
  SumSpec s;
  s.op = SumOp::Mul;
  Tensor out = run_sum(in, p, p.out_shape, s, "prod");
  if (autograd::needs_record({&in})) {
    RInfo r = rinfo(in, p, dims, keepdim);
    record_reduce(dims.empty() ? "ProdBackward0" : "ProdBackward1", in, out, r, prod_deriv(r));
  }
  return dtype ? to_dtype(out, *dtype) : out;
}

namespace {
std::pair<Tensor, Tensor> moments_ad(const Tensor& x, const Dims& dims, double correction,
                                     bool keepdim, bool take_sqrt, bool both, const char* op) {
  auto [v, m] = moments(x, dims, correction, keepdim, take_sqrt, op);
  if (!autograd::needs_record({&x})) return {v, m};
  RInfo r = rinfo(x, plan(x, dims, keepdim, op), dims, keepdim);
  DerivFn D = moments_deriv(r, correction, take_sqrt);
  const char* name = take_sqrt ? (both ? "StdMeanBackward0" : "StdBackward0")
                               : (both ? "VarMeanBackward0" : "VarBackward0");
  if (!both) {
    record_reduce(name, x, v, r, D);
    return {v, m};
  }
  double inv = 1.0 / double(r.n);
  autograd::record(name, {x}, {v, m}, {x, v},
      [r, D, inv](const TensorList& g, const TensorList& s, const Needs&) {
        Tensor gx = add(mul(to_keep(g[0], r), D(s[0], to_keep(s[1], r))), mul(to_keep(g[1], r), num(inv)));
        return TensorList{expand_ad(gx, r.in_shape)};
      },
      [r, D](const TensorList& t, const TensorList& in, const TensorList& outs) {
        return TensorList{sum(mul(t[0], D(in[0], to_keep(outs[0], r))), r.dims, r.keepdim),
                          mean(t[0], r.dims, r.keepdim)};
      });
  return {v, m};
}
}  // namespace

Tensor var(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return moments_ad(x, dims, correction, keepdim, false, false, "var").first;
}
Tensor std_dev(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return moments_ad(x, dims, correction, keepdim, true, false, "std").first;
}
std::pair<Tensor, Tensor> var_mean(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return moments_ad(x, dims, correction, keepdim, false, true, "var_mean");
}
std::pair<Tensor, Tensor> std_mean(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return moments_ad(x, dims, correction, keepdim, true, true, "std_mean");
}

// ---- min / max ----------------------------------------------------------------------------
namespace {
Tensor extreme(MinMaxOp mop, const Tensor& x, const Dims& dims, bool keepdim, const char* op,
               const char* name) {
  Plan p = plan(x, dims, keepdim, op);
  Tensor out = minmax_values(mop, x, p, p.out_shape, op);
  if (autograd::needs_record({&x})) {
    RInfo r = rinfo(x, p, dims, keepdim);
    record_reduce(name, x, out, r, even_split(r));
  }
  return out;
}

// max(dim) / min(dim): the grad goes to the element the index names.
std::pair<Tensor, Tensor> extreme_dim(MinMaxOp mop, const Tensor& x, int64_t dim, bool keepdim,
                                      const char* op, const char* name) {
  auto [v, i] = minmax_dim(mop, x, dim, keepdim, op);
  if (autograd::needs_record({&x})) {
    Plan p = plan(x, {dim}, keepdim, op);
    RInfo r = rinfo(x, p, {dim}, keepdim);
    int64_t d = x->ndim() ? wrap_dim(dim, x->ndim(), op) : 0;
    Tensor idx = i;
    record_reduce(name, x, v, r, [r, d, idx](const Tensor& xx, const Tensor&) {
      if (xx->ndim() == 0) return autograd::ones_like(xx);
      Shape sh(size_t(xx->ndim()), 1);
      sh[size_t(d)] = xx->shape[size_t(d)];
      Tensor pos = reshape(arange(Scalar::from_int(0), Scalar::from_int(sh[size_t(d)]),
                                  Scalar::from_int(1), DType::Int64), sh);
      return mask_of(eq(pos, reshape(idx, r.keep_shape)), xx->dtype);
    });
  }
  return {v, i};
}
}  // namespace

Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) {
  return extreme(MinMaxOp::Max, x, dims, keepdim, "amax", "AmaxBackward0");
}
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) {
  return extreme(MinMaxOp::Min, x, dims, keepdim, "amin", "AminBackward0");
}
Tensor max(const Tensor& x) { return extreme(MinMaxOp::Max, x, {}, false, "max", "MaxBackward1"); }
Tensor min(const Tensor& x) { return extreme(MinMaxOp::Min, x, {}, false, "min", "MinBackward1"); }
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim(MinMaxOp::Max, x, dim, keepdim, "max", "MaxBackward0");
}
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim(MinMaxOp::Min, x, dim, keepdim, "min", "MinBackward0");
}
std::pair<Tensor, Tensor> aminmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  Dims dims = dim ? Dims{*dim} : Dims{};
  if (!dim && !keepdim) {  // 0-d results
    Tensor lo = extreme(MinMaxOp::Min, x, {}, false, "aminmax", "AminmaxBackward0");
    return {lo, extreme(MinMaxOp::Max, x, {}, false, "aminmax", "AminmaxBackward0")};
  }
  if (!dim) {  // keepdim over everything: every dim kept with size 1
    for (int64_t d = 0; d < x->ndim(); ++d) dims.push_back(d);
  }
  return {extreme(MinMaxOp::Min, x, dims, keepdim, "aminmax", "AminmaxBackward0"),
          extreme(MinMaxOp::Max, x, dims, keepdim, "aminmax", "AminmaxBackward0")};
}
Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg(MinMaxOp::Max, x, dim, keepdim, "argmax");
}
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg(MinMaxOp::Min, x, dim, keepdim, "argmin");
}

Tensor all(const Tensor& x, const Dims& dims, bool keepdim) {
  Plan p = plan(x, dims, keepdim, "all");
  if (p.rlen == 0) return full_like_shape(p.out_shape, DType::Bool, Scalar::from_bool(true));
  return minmax_values(MinMaxOp::Min, to_dtype(x, DType::Bool), p, p.out_shape, "all");
}
Tensor any(const Tensor& x, const Dims& dims, bool keepdim) {
  Plan p = plan(x, dims, keepdim, "any");
  if (p.rlen == 0) return full_like_shape(p.out_shape, DType::Bool, Scalar::from_bool(false));
  return minmax_values(MinMaxOp::Max, to_dtype(x, DType::Bool), p, p.out_shape, "any");
}

// ---- composites with a fused pass -----------------------------------------------------------
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  Tensor in = is_floating(x->dtype) ? x : to_dtype(x, DType::Float32);
  Plan p = plan(in, dims, keepdim, "logsumexp");
  Tensor out;
  if (p.rlen == 0) {
    out = full_like_shape(p.out_shape, in->dtype, Scalar::from_double(-INFINITY));
  } else {
    Tensor m = minmax_values(MinMaxOp::Max, in, p, p.out_shape, "logsumexp");
    SumSpec s;
    s.map = SumMap::ExpShift;
    s.post = SumPost::LogPlusParam;
    s.param = m->raw();
    out = run_sum(in, p, p.out_shape, s, "logsumexp");
  }
  if (autograd::needs_record({&in}))
    record_reduce("LogsumexpBackward0", in, out, rinfo(in, p, dims, keepdim),
                  [](const Tensor& xx, const Tensor& ok) { return unary(UnaryOp::Exp, sub(xx, ok)); });
  return out;
}

namespace {
Tensor softmax_ad(bool log, const Tensor& x, int64_t dim, std::optional<DType> dtype,
                  const char* op) {
  Tensor in = dtype ? to_dtype(x, *dtype) : x;  // the cast records itself
  Tensor out;
  {
    autograd::GradModeGuard no_grad(false);
    autograd::FwGradDisabledGuard pause;
    out = softmax_impl(log, in, dim, std::nullopt, op);
  }
  if (!autograd::needs_record({&in})) return out;
  Dims d = {dim};
  // softmax: y (g - sum(g y)); log_softmax: g - exp(y) sum(g)
  auto apply = [log, d](const Tensor& v, const Tensor& y) {
    if (log) return sub(v, mul(unary(UnaryOp::Exp, y), sum(v, d, true)));
    return mul(y, sub(v, sum(mul(v, y), d, true)));
  };
  autograd::record(log ? "LogSoftmaxBackward0" : "SoftmaxBackward0", {in}, {out}, {out},
      [apply](const TensorList& g, const TensorList& s, const Needs&) { return TensorList{apply(g[0], s[0])}; },
      [log, d](const TensorList& t, const TensorList&, const TensorList& o) {
        if (log) return TensorList{sub(t[0], sum(mul(unary(UnaryOp::Exp, o[0]), t[0]), d, true))};
        return TensorList{mul(o[0], sub(t[0], sum(mul(t[0], o[0]), d, true)))};
      });
  return out;
}

// Reverse cumulative sum along d: flip(cumsum(flip(g))).
Tensor rev_cumsum(const Tensor& g, int64_t d) {
  if (g->ndim() == 0) return g;
  return flip(cumsum(flip(g, {d}), d), {d});
}

// d/dx_k of sum_i g_i out_i. Before the first zero of a row: rev_cumsum(g * out) / x. At the
// first zero z: prod(x before z) * sum_{i >= z} g_i prod(x_(z, i]). After it: 0.
Tensor cumprod_grad(const Tensor& g, const Tensor& x, const Tensor& out, int64_t d) {
  if (x->ndim() == 0) return g;
  Tensor zero = binary(BinaryOp::Eq, x, num(0));
  Tensor safe = where(zero, num(1), x);
  Tensor nz = cumsum(mask_of(zero, x->dtype), d);  // zeros seen so far, this one included
  Tensor before = eq(nz, num(0));
  Tensor before_grad = where(before, div(rev_cumsum(mul(g, out), d), safe), num(0));
  Tensor first = binary(BinaryOp::LogicalAnd, zero, eq(nz, num(1)));
  Tensor after = cumprod(where(binary(BinaryOp::LogicalOr, before, first), num(1), x), d);
  Tensor tail = sum(where(before, num(0), mul(g, after)), {d}, true);
  Tensor head = prod(where(before, x, num(1)), {d}, true);
  return add(before_grad, where(first, mul(head, tail), num(0)));
}

Tensor scan_ad(ScanOp sop, const Tensor& x, int64_t dim, std::optional<DType> dtype, const char* op) {
  wrap_dim(dim, x->ndim(), op);
  Tensor in = dtype ? to_dtype(x, *dtype) : x;
  Tensor out;
  {
    autograd::GradModeGuard no_grad(false);
    autograd::FwGradDisabledGuard pause;
    out = scan(sop, in, dim, std::nullopt, op);
  }
  if (!autograd::needs_record({&in}) || !is_floating(out->dtype)) return out;
  int64_t d = x->ndim() ? wrap_dim(dim, x->ndim(), op) : 0;
  if (sop == ScanOp::CumSum) {
    autograd::record("CumsumBackward0", {in}, {out}, {},
        [d](const TensorList& g, const TensorList&, const Needs&) { return TensorList{rev_cumsum(g[0], d)}; },
        [d](const TensorList& t, const TensorList&, const TensorList&) { return TensorList{cumsum(t[0], d)}; });
  } else {  // jvp = out * cumsum(t / x): nonzero inputs only
    autograd::record("CumprodBackward0", {in}, {out}, {in, out},
        [d](const TensorList& g, const TensorList& s, const Needs&) {
          return TensorList{cumprod_grad(g[0], s[0], s[1], d)};
        },
        [d](const TensorList& t, const TensorList& i, const TensorList& o) {
          return TensorList{mul(o[0], cumsum(div(t[0], i[0]), d))};
        });
  }
  return out;
}
}  // namespace

Tensor softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return softmax_ad(false, x, dim, dtype, "softmax");
}
Tensor log_softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return softmax_ad(true, x, dim, dtype, "log_softmax");
}
Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return scan_ad(ScanOp::CumSum, x, dim, dtype, "cumsum");
}
Tensor cumprod(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return scan_ad(ScanOp::CumProd, x, dim, dtype, "cumprod");
}

Tensor norm(const Tensor& x, double p, const Dims& dims, bool keepdim) {
  check_float(x, "norm");
  Plan pl = plan(x, dims, keepdim, "norm");
  Tensor out;
  if (std::isinf(p)) {
    check_nonempty(x, pl, "norm");
    autograd::GradModeGuard no_grad(false);
    autograd::FwGradDisabledGuard pause;
    out = minmax_values(p > 0 ? MinMaxOp::Max : MinMaxOp::Min, unary(UnaryOp::Abs, x), pl,
                        pl.out_shape, "norm");
  } else {
    SumSpec s;
    if (p == 0) {
      s.map = SumMap::NonZero;
    } else if (p == 1) {
      s.map = SumMap::Abs;
    } else if (p == 2) {
      s.map = SumMap::Square;
      s.post = SumPost::Sqrt;
    } else {
      s.map = SumMap::AbsPow;
      s.post = SumPost::Pow;
      s.p = p;
    }
    out = run_sum(x, pl, pl.out_shape, s, "norm");
  }
  if (autograd::needs_record({&x})) {
    RInfo r = rinfo(x, pl, dims, keepdim);
    record_reduce("LinalgVectorNormBackward0", x, out, r, norm_deriv(r, p));
  }
  return out;
}

}  // namespace tgx::ops
