#include "ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/reduce.h"
#include "ops/elementwise.h"

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

// ---- sums -------------------------------------------------------------------------------
Tensor sum(const Tensor& x, const Dims& dims, bool keepdim, std::optional<DType> dtype) {
  Tensor in = dtype ? to_dtype(x, *dtype) : x;
  Plan p = plan(in, dims, keepdim, "sum");
  Tensor out = run_sum(in, p, p.out_shape, SumSpec{}, "sum");
  return dtype ? to_dtype(out, *dtype) : out;
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad->shape == shape) return grad;
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
  return run_sum(in, p, p.out_shape, s, "mean");
}

Tensor prod(const Tensor& x, const Dims& dims, bool keepdim, std::optional<DType> dtype) {
  Tensor in = dtype ? to_dtype(x, *dtype) : x;
  Plan p = plan(in, dims, keepdim, "prod");
  SumSpec s;
  s.op = SumOp::Mul;
  Tensor out = run_sum(in, p, p.out_shape, s, "prod");
  return dtype ? to_dtype(out, *dtype) : out;
}

Tensor var(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return moments(x, dims, correction, keepdim, false, "var").first;
}
Tensor std_dev(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return moments(x, dims, correction, keepdim, true, "std").first;
}
std::pair<Tensor, Tensor> var_mean(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return moments(x, dims, correction, keepdim, false, "var_mean");
}
std::pair<Tensor, Tensor> std_mean(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return moments(x, dims, correction, keepdim, true, "std_mean");
}

// ---- min / max ----------------------------------------------------------------------------
Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) {
  Plan p = plan(x, dims, keepdim, "amax");
  return minmax_values(MinMaxOp::Max, x, p, p.out_shape, "amax");
}
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) {
  Plan p = plan(x, dims, keepdim, "amin");
  return minmax_values(MinMaxOp::Min, x, p, p.out_shape, "amin");
}
Tensor max(const Tensor& x) {
  Plan p = plan(x, {}, false, "max");
  return minmax_values(MinMaxOp::Max, x, p, p.out_shape, "max");
}
Tensor min(const Tensor& x) {
  Plan p = plan(x, {}, false, "min");
  return minmax_values(MinMaxOp::Min, x, p, p.out_shape, "min");
}
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return minmax_dim(MinMaxOp::Max, x, dim, keepdim, "max");
}
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return minmax_dim(MinMaxOp::Min, x, dim, keepdim, "min");
}
std::pair<Tensor, Tensor> aminmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  Plan p = plan_one(x, dim, keepdim, "aminmax");
  return {minmax_values(MinMaxOp::Min, x, p, p.out_shape, "aminmax"),
          minmax_values(MinMaxOp::Max, x, p, p.out_shape, "aminmax")};
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
  if (p.rlen == 0)
    return full_like_shape(p.out_shape, in->dtype, Scalar::from_double(-INFINITY));
  Tensor m = minmax_values(MinMaxOp::Max, in, p, p.out_shape, "logsumexp");
  SumSpec s;
  s.map = SumMap::ExpShift;
  s.post = SumPost::LogPlusParam;
  s.param = m->raw();
  return run_sum(in, p, p.out_shape, s, "logsumexp");
}

Tensor softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return softmax_impl(false, x, dim, dtype, "softmax");
}
Tensor log_softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return softmax_impl(true, x, dim, dtype, "log_softmax");
}
Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return scan(ScanOp::CumSum, x, dim, dtype, "cumsum");
}
Tensor cumprod(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  return scan(ScanOp::CumProd, x, dim, dtype, "cumprod");
}

Tensor norm(const Tensor& x, double p, const Dims& dims, bool keepdim) {
  check_float(x, "norm");
  Plan pl = plan(x, dims, keepdim, "norm");
  if (std::isinf(p)) {
    check_nonempty(x, pl, "norm");
    return minmax_values(p > 0 ? MinMaxOp::Max : MinMaxOp::Min, unary(UnaryOp::Abs, x), pl,
                         pl.out_shape, "norm");
  }
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
  return run_sum(x, pl, pl.out_shape, s, "norm");
}

}  // namespace tgx::ops
