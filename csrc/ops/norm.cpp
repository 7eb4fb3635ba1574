// layer_norm: one fused kernel pass per row (two-pass mean/variance, then the affine output),
// saving the per-row mean and rstd. The vjp calls the fused backward kernel (grad_input, and the
// column sums for grad_weight/grad_bias) for the first order; under create_graph it recomputes
// the composite formula with ops, so that it differentiates again. The jvp is written with ops.
#include "ops/norm.h"

#include <string>

#include "autograd/node.h"
#include "kernels/cpu/norm.h"
#include "ops/arith.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace tgx::ops {
namespace {

using autograd::TensorList;
using Needs = std::vector<bool>;
constexpr const char* kOp = "layer_norm";

using namespace arith;  // num, add, sub, mul, div, neg
Tensor row_mean(const Tensor& t) { return mean(t, {-1}, true); }

// The layout: `rows` rows of `n` elements (the normalised trailing dims).
struct Info {
  int64_t rows = 1, n = 1;
  Shape shape;  // the input's
  Shape wshape;  // normalized_shape
  double eps = 1e-5;
};

// xhat = (x - mean) * rstd and rstd of x viewed as (rows, n), with ops (differentiable).
std::pair<Tensor, Tensor> normalize_ops(const Tensor& x2, double eps) {
  Tensor xc = sub(x2, row_mean(x2));
  Tensor rstd = unary(UnaryOp::Rsqrt, add(row_mean(mul(xc, xc)), num(eps)));
  return {mul(xc, rstd), rstd};
}

// The vjp with ops (create_graph): gx = rstd (gxh - mean(gxh) - xhat mean(gxh xhat)).
TensorList vjp_ops(const Info& f, const Tensor& g, const Tensor& x, const Tensor& w, const Needs& needs) {
  const Shape s2{f.rows, f.n};
  Tensor g2 = reshape(g, s2);
  auto [xhat, rstd] = normalize_ops(reshape(x, s2), f.eps);
  TensorList r(3);
  if (needs[0]) {
    Tensor gxh = w ? mul(g2, reshape(w, {f.n})) : g2;
    Tensor d = sub(sub(gxh, row_mean(gxh)), mul(xhat, row_mean(mul(gxh, xhat))));
    r[0] = reshape(mul(rstd, d), f.shape);
  }
  if (needs[1]) r[1] = reshape(sum(mul(g2, xhat), {0}), f.wshape);
  if (needs[2]) r[2] = reshape(sum(g2, {0}), f.wshape);
  return r;
}

// The fused first-order vjp.
TensorList vjp_fused(const Info& f, const Tensor& g, const Tensor& x, const Tensor& w, const Tensor& mean_,
                     const Tensor& rstd, const Needs& needs) {
  const DType dt = x->dtype;
  Tensor gc = contiguous(to_dtype(g, dt)), xc = contiguous(x);
  Tensor wc = w ? contiguous(w) : nullptr;
  TensorList r(3);
  LayerNormBackwardArgs a;
  a.rows = f.rows, a.n = f.n;
  a.gy = gc->raw(), a.x = xc->raw(), a.mean = mean_->raw(), a.rstd = rstd->raw();
  a.w = wc ? wc->raw() : nullptr;
  if (needs[0]) r[0] = empty(f.shape, dt), a.gx = r[0]->raw();
  if (needs[1]) r[1] = empty(f.wshape, dt), a.gw = r[1]->raw();
  if (needs[2]) r[2] = empty(f.wshape, dt), a.gb = r[2]->raw();
  if (needs[0] && r[0]->numel() == 0) a.gx = nullptr;
  if (a.gx || a.gw || a.gb) TGX_KERNEL(layer_norm_backward_kernel)(dt, a);
  return r;
}

// Tangent of y = xhat w + b: (rstd (tx - mean(tx) - xhat mean(tx xhat))) w + xhat tw + tb.
TensorList jvp_ops(const Info& f, const TensorList& t, const TensorList& in) {
  const Shape s2{f.rows, f.n};
  auto [xhat, rstd] = normalize_ops(reshape(in[0], s2), f.eps);
  const Tensor& w = in[1];
  Tensor ty;
  if (t[0]) {
    Tensor tx = reshape(t[0], s2);
    Tensor d = mul(rstd, sub(sub(tx, row_mean(tx)), mul(xhat, row_mean(mul(tx, xhat)))));
    ty = w ? mul(d, reshape(w, {f.n})) : d;
  }
  if (t[1]) {
    Tensor e = mul(xhat, reshape(t[1], {f.n}));
    ty = ty ? add(ty, e) : e;
  }
  if (t[2]) {
    Tensor e = reshape(t[2], {f.n});
    ty = ty ? add(ty, e) : expand(e, s2);
  }
  return {ty ? reshape(ty, f.shape) : nullptr};
}

Tensor checked_param(const Tensor& p, const Info& f, DType dt, const char* what) {
  if (!p) return nullptr;
  TGX_CHECK(p->shape == f.wshape, ValueError, "[", kOp, "] expected ", what,
            " of the same shape as normalized_shape ", f.wshape, ", got ", what, " of shape ", p->shape);
  TGX_CHECK(is_floating(p->dtype), NotImplementedError, "[", kOp, "] ", what,
            " must be float32 or float64, got dtype ", p->dtype);
  return to_dtype(p, dt);  // a recorded cast: its grad comes back in the caller's dtype
}

}  // namespace

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  TGX_CHECK(input, TypeError, "[", kOp, "] input must be a tensor");
  const int64_t k = int64_t(normalized_shape.size()), nd = input->ndim();
  TGX_CHECK(k >= 1, RuntimeError, "[", kOp, "] expected normalized_shape to be at least 1-dimensional, "
            "i.e., containing at least one element, but got normalized_shape = ", normalized_shape);
  bool fits = nd >= k;
  for (int64_t i = 0; fits && i < k; ++i) fits = input->shape[size_t(nd - k + i)] == normalized_shape[size_t(i)];
  if (!fits) {
    std::string dims;
    for (int64_t d : normalized_shape) dims += ", " + std::to_string(d);
    throw ValueError(str("[", kOp, "] given normalized_shape=", normalized_shape,
                         ", expected input with shape (*", dims, "), but got input of shape ", input->shape));
  }
  const DType dt = input->dtype;
  TGX_CHECK(dt == DType::Float32 || dt == DType::Float64, NotImplementedError, "[", kOp,
            "] input must be float32 or float64, got dtype ", dt);
  Info f;
  f.shape = input->shape, f.wshape = normalized_shape, f.eps = eps;
  f.n = 1, f.rows = 1;
  for (int64_t i = 0; i < nd; ++i) (i < nd - k ? f.rows : f.n) *= input->shape[size_t(i)];
  Tensor w = checked_param(weight, f, dt, "weight");
  Tensor b = checked_param(bias, f, dt, "bias");
  const Tensor& x = input;
  Tensor out = empty(f.shape, dt);
  Tensor mean_ = empty({f.rows}, dt), rstd = empty({f.rows}, dt);
  {
    autograd::GradModeGuard no_grad(false);
    autograd::FwGradDisabledGuard pause;
    Tensor xc = contiguous(x);
    Tensor wc = w ? contiguous(w) : nullptr, bc = b ? contiguous(b) : nullptr;
    if (out->numel()) {
      LayerNormArgs a;
      a.rows = f.rows, a.n = f.n, a.eps = eps;
      a.x = xc->raw(), a.w = wc ? wc->raw() : nullptr, a.b = bc ? bc->raw() : nullptr;
      a.y = out->raw(), a.mean = mean_->raw(), a.rstd = rstd->raw();
      TGX_KERNEL(layer_norm_kernel)(dt, a);
    }
  }
  if (!autograd::needs_record({&x, &w, &b})) return out;
  autograd::record("NativeLayerNormBackward0", {x, w, b}, {out}, {x, w},
      [f, mean_, rstd](const TensorList& g, const TensorList& s, const Needs& needs) {
        const Tensor &x = s[0], &w = s[1];
        if (!g[0]) return TensorList(3);
        const bool higher = autograd::grad_enabled() && autograd::needs_record({&g[0], &x, &w});
        return higher ? vjp_ops(f, g[0], x, w, needs) : vjp_fused(f, g[0], x, w, mean_, rstd, needs);
      },
      [f](const TensorList& t, const TensorList& in, const TensorList&) { return jvp_ops(f, t, in); });
  return out;
}

}  // namespace tgx::ops
