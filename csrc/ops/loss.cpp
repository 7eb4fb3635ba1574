// Cross-entropy: the forward is one fused kernel pass per row (max, log-sum-exp, pick); the vjp
// uses the fused kernel for the first order and ops (log_softmax, masks) when create_graph needs
// a differentiable grad. nll_loss is composed from ops (a one-hot mask and a sum).
#include "ops/loss.h"

#include "autograd/node.h"
#include "kernels/cpu/loss.h"
#include "ops/creation.h"
#include "ops/arith.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace tgx::ops {
namespace {

using autograd::TensorList;
using Needs = std::vector<bool>;
enum class Reduction { None, Mean, Sum };

using namespace arith;  // num, add, sub, mul, div, neg

Reduction parse_reduction(const std::string& r, const char* op) {
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  TGX_CHECK(r == "none", ValueError, "[", op, "] reduction must be 'none', 'mean' or 'sum', got '", r, "'");
  return Reduction::None;
}

// The layout: rows are every position but the class dim.
struct Info {
  int64_t outer = 1, C = 1, inner = 1, cdim = 0;
  Shape row_shape;   // input shape without the class dim
  Shape bshape;      // row_shape with a 1 at the class dim (broadcasts against the input)
  Shape wshape;      // C at the class dim, 1 elsewhere (the weight's broadcast shape)
  bool probs = false;
  int64_t ignore_index = -100;
  double eps = 0;
  Reduction red = Reduction::Mean;
};

Info layout(const Tensor& input, const Tensor& target, const char* op) {
  TGX_CHECK(input->ndim() >= 1, ValueError, "[", op, "] input must have a class dim, got a 0-d tensor");
  TGX_CHECK(is_floating(input->dtype), TypeError, "[", op, "] input must be floating point, got dtype ",
            input->dtype);
  Info f;
  f.cdim = input->ndim() == 1 ? 0 : 1;
  f.C = input->shape[size_t(f.cdim)];
  if (f.cdim == 1) f.outer = input->shape[0];
  for (int64_t d = 0; d < input->ndim(); ++d) {
    if (d > f.cdim) f.inner *= input->shape[size_t(d)];
    if (d != f.cdim) f.row_shape.push_back(input->shape[size_t(d)]);
    f.bshape.push_back(d == f.cdim ? 1 : input->shape[size_t(d)]);
    f.wshape.push_back(d == f.cdim ? f.C : 1);
  }
  TGX_CHECK(target->dtype != DType::Bool, TypeError, "[", op, "] target must be class indices (integer) "
            "or class probabilities (floating), got dtype bool");
  f.probs = is_floating(target->dtype);
  if (f.probs) {
    TGX_CHECK(target->shape == input->shape, ValueError, "[", op, "] probability target of shape ",
              target->shape, " must have the input's shape ", input->shape);
  } else {
    TGX_CHECK(input->ndim() < 2 || target->ndim() == 0 || target->shape[0] == input->shape[0], ValueError,
              "[", op, "] expected input batch_size (", input->shape[0], ") to match target batch_size (",
              target->shape[0], ")");
    TGX_CHECK(target->shape == f.row_shape, ValueError, "[", op, "] target of shape ", target->shape,
              " does not match input of shape ", input->shape, " (expected target shape ", f.row_shape, ")");
  }
  return f;
}

// Class indices as contiguous int64, each in [0, C) or ignore_index.
Tensor checked_targets(const Tensor& target, const Info& f, const char* op) {
  Tensor t = contiguous(to_dtype(target, DType::Int64));
  const int64_t* p = t->data<int64_t>();
  for (int64_t i = 0, n = t->numel(); i < n; ++i) {
    TGX_CHECK(p[i] == f.ignore_index || (p[i] >= 0 && p[i] < f.C), IndexError, "[", op, "] target ",
              p[i], " is out of bounds for ", f.C, " classes (valid range [0, ", f.C - 1, "])");
  }
  return t;
}

Tensor checked_weight(const Tensor& weight, const Info& f, DType dt, const char* op) {
  if (!weight) return nullptr;
  TGX_CHECK(weight->shape == Shape{f.C}, ValueError, "[", op, "] weight of shape ", weight->shape,
            " must have one entry per class (", f.C, ")");
  return weight;
}

// The per-row target distribution q (input-shaped, weights folded in), built with ops.
Tensor target_dist(const Info& f, const Tensor& x, const Tensor& t, const Tensor& probs, const Tensor& w) {
  const DType dt = x->dtype;
  Tensor wb = w ? reshape(to_dtype(w, dt), f.wshape) : nullptr;
  auto weighted = [&](const Tensor& v) { return wb ? mul(v, wb) : v; };
  if (f.probs) return weighted(add(mul(probs, num(1 - f.eps)), num(f.eps / double(f.C))));
  Tensor tb = reshape(t, f.bshape);
  Tensor cls = reshape(arange(Scalar::from_int(0), Scalar::from_int(f.C), Scalar::from_int(1),
                              DType::Int64), f.wshape);
  Tensor valid = to_dtype(binary(BinaryOp::Ne, tb, scalar_tensor(Scalar::from_int(f.ignore_index))), dt);
  Tensor onehot = mul(to_dtype(binary(BinaryOp::Eq, cls, tb), dt), valid);
  Tensor q = mul(onehot, num(1 - f.eps));
  if (f.eps != 0) q = add(q, mul(valid, num(f.eps / double(f.C))));
  return weighted(q);
}

// d loss / d row for each row (row_shape): g through the reduction.
Tensor row_scale(const Info& f, const Tensor& g, const Tensor& den, DType dt) {
  Tensor s = f.red == Reduction::Mean ? div(g, den) : g;
  if (f.red != Reduction::None) s = add(s, autograd::zeros_like_meta({f.row_shape, dt}));
  return s;
}

Tensor reduce_rows(const Info& f, const Tensor& rows, const Tensor& den) {
  if (f.red == Reduction::None) return rows;
  Tensor s = sum(rows);
  return f.red == Reduction::Sum ? s : div(s, den);
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     int64_t ignore_index, double label_smoothing, const std::string& reduction) {
  const char* op = "cross_entropy";
  Info f = layout(input, target, op);
  f.red = parse_reduction(reduction, op);
  f.ignore_index = ignore_index;
  f.eps = label_smoothing;
  TGX_CHECK(label_smoothing >= 0 && label_smoothing <= 1, ValueError, "[", op,
            "] label_smoothing must be between 0.0 and 1.0, got ", label_smoothing);
  const DType dt = f.probs ? result_type({input.get(), target.get()}) : input->dtype;
  Tensor x = to_dtype(input, dt);  // recorded casts: grads come back in the callers' dtypes
  Tensor probs = f.probs ? to_dtype(target, dt) : nullptr;
  Tensor t = f.probs ? nullptr : checked_targets(target, f, op);
  Tensor w = checked_weight(weight, f, dt, op);
  Tensor out, den;
  {
    autograd::GradModeGuard no_grad(false);
    autograd::FwGradDisabledGuard pause;
    Tensor xc = contiguous(x), pc = probs ? contiguous(probs) : nullptr;
    Tensor wc = w ? contiguous(to_dtype(w, dt)) : nullptr;
    Tensor rows = empty(f.row_shape, dt), wrow = f.probs ? nullptr : empty(f.row_shape, dt);
    if (rows->numel()) {
      CrossEntropyArgs a;
      a.outer = f.outer, a.C = f.C, a.inner = f.inner;
      a.logits = xc->raw(), a.target = t ? t->data<int64_t>() : nullptr;
      a.probs = pc ? pc->raw() : nullptr, a.weight = wc ? wc->raw() : nullptr;
      a.ignore_index = ignore_index, a.smoothing = label_smoothing;
      a.loss = rows->raw(), a.wrow = wrow ? wrow->raw() : nullptr;
      TGX_KERNEL(cross_entropy_kernel)(dt, a);
    }
    den = f.probs ? scalar_tensor(Scalar::from_double(double(f.outer * f.inner)), dt) : sum(wrow);
    out = reduce_rows(f, rows, den);
  }
  if (!autograd::needs_record({&x, &probs, &w})) return out;
  Tensor wd = w ? autograd::detach(w) : nullptr;
  autograd::record("CrossEntropyLossBackward0", {x, probs, w}, {out}, {x, probs},
      [f, t, wd, den, op](const TensorList& g, const TensorList& s, const Needs& needs) {
        TGX_CHECK(!needs[2], NotImplementedError, "[", op, "] the derivative for 'weight' is not implemented");
        const Tensor &x = s[0], &p = s[1];
        const DType dt = x->dtype;
        Tensor sc = row_scale(f, g[0], den, dt);
        TensorList r(3);
        const bool higher = autograd::grad_enabled() && autograd::needs_record({&g[0], &x, &p});
        Tensor logp = (needs[1] || higher) ? log_softmax(x, f.cdim) : nullptr;
        if (needs[0] && !higher) {  // fused: softmax * sum(q) - q, scaled per row
          Tensor xc = contiguous(x), pc = p ? contiguous(p) : nullptr, scc = contiguous(to_dtype(sc, dt));
          Tensor wc = wd ? contiguous(to_dtype(wd, dt)) : nullptr;
          r[0] = empty(x->shape, dt);
          if (x->numel()) {
            CrossEntropyArgs a;
            a.outer = f.outer, a.C = f.C, a.inner = f.inner;
            a.logits = xc->raw(), a.target = t ? t->data<int64_t>() : nullptr;
            a.probs = pc ? pc->raw() : nullptr, a.weight = wc ? wc->raw() : nullptr;
            a.ignore_index = f.ignore_index, a.smoothing = f.eps;
            a.scale = scc->raw(), a.grad = r[0]->raw();
            TGX_KERNEL(cross_entropy_kernel)(dt, a);
          }
        } else if (needs[0]) {  // the same with ops, so that it differentiates again
          Tensor q = target_dist(f, x, t, p, wd);
          Tensor sm = unary(UnaryOp::Exp, logp);
          r[0] = mul(reshape(sc, f.bshape), sub(mul(sm, sum(q, {f.cdim}, true)), q));
        }
        if (needs[1]) {  // d loss / d p = -(1 - eps) w log_softmax(x)
          Tensor d = mul(logp, num(-(1 - f.eps)));
          if (wd) d = mul(d, reshape(to_dtype(wd, dt), f.wshape));
          r[1] = mul(reshape(sc, f.bshape), d);
        }
        return r;
      },
      [f, t, wd, den](const TensorList& tg, const TensorList& in, const TensorList&) {
        const Tensor &x = in[0], &p = in[1];
        Tensor logp = log_softmax(x, f.cdim);
        Tensor rows;
        if (tg[0]) {  // sum(q) * sum(softmax * tx) - sum(q * tx)
          Tensor q = target_dist(f, x, t, p, wd);
          Tensor sm = unary(UnaryOp::Exp, logp);
          rows = sub(mul(sum(q, {f.cdim}), sum(mul(sm, tg[0]), {f.cdim})), sum(mul(q, tg[0]), {f.cdim}));
        }
        if (tg[1]) {
          Tensor d = mul(mul(logp, tg[1]), num(-(1 - f.eps)));
          if (wd) d = mul(d, reshape(to_dtype(wd, x->dtype), f.wshape));
          Tensor pr = sum(d, {f.cdim});
          rows = rows ? add(rows, pr) : pr;
        }
        return TensorList{rows ? reduce_rows(f, rows, den) : nullptr};
      });
  return out;
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                const std::string& reduction) {
  const char* op = "nll_loss";
  Info f = layout(input, target, op);
  TGX_CHECK(!f.probs, TypeError, "[", op, "] target must hold class indices (an integer tensor), got dtype ",
            target->dtype);
  f.red = parse_reduction(reduction, op);
  f.ignore_index = ignore_index;
  Tensor t = checked_targets(target, f, op);
  Tensor w = checked_weight(weight, f, input->dtype, op);
  Tensor q = target_dist(f, input, t, nullptr, w ? autograd::detach(w) : nullptr);  // w_y one-hot
  Tensor rows = unary(UnaryOp::Neg, sum(mul(input, q), {f.cdim}));
  Tensor den;
  {
    autograd::GradModeGuard no_grad(false);
    autograd::FwGradDisabledGuard pause;
    den = sum(q);
  }
  return reduce_rows(f, rows, den);
}

}  // namespace tgx::ops
