// Fused optimizer steps: validation, step counting and per-step scalars here; the arithmetic is
// one kernel pass (kernels/cpu/optim.cpp).
#include "ops/optim.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "core/iter.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/optim.h"
#include "ops/elementwise.h"

namespace tgx::ops {
namespace {

void check_len(const TensorVec& v, size_t n, const char* op, const char* what) {
  TGX_CHECK(v.size() == n, ValueError, "[", op, "] expected ", n, " ", what, " (one per parameter), got ",
            v.size());
}

void check_state(const Tensor& p, const Tensor& s, const char* op, const char* what) {
  TGX_CHECK(s != nullptr, ValueError, "[", op, "] missing state '", what, "' for a parameter of shape ",
            p->shape);
  TGX_CHECK(s->shape == p->shape, ValueError, "[", op, "] state '", what, "' has shape ", s->shape,
            " but the parameter has shape ", p->shape);
  TGX_CHECK(s->dtype == p->dtype, TypeError, "[", op, "] state '", what, "' has dtype ", s->dtype,
            " but the parameter has dtype ", p->dtype);
  TGX_CHECK(s->device().type == DeviceType::CPU, NotImplementedError, "[", op,
            "] only cpu tensors are supported");
}

void check_param(const Tensor& p, const Tensor& g, const char* op) {
  TGX_CHECK(p != nullptr, TypeError, "[", op, "] expected a Tensor parameter, got None");
  TGX_CHECK(is_floating(p->dtype), TypeError, "[", op,
            "] expected float32 or float64 parameters, got dtype ", p->dtype);
  TGX_CHECK(p->device().type == DeviceType::CPU, NotImplementedError, "[", op,
            "] only cpu tensors are supported");
  TGX_CHECK(g->shape == p->shape, ValueError, "[", op, "] gradient of shape ", g->shape,
            " does not match the parameter's shape ", p->shape);
  TGX_CHECK(g->dtype == p->dtype, TypeError, "[", op, "] gradient of dtype ", g->dtype,
            " does not match the parameter's dtype ", p->dtype);
}

void check_scalar(const Tensor& s, const char* op, const char* what) {
  TGX_CHECK(s != nullptr, ValueError, "[", op, "] missing state '", what, "'");
  TGX_CHECK(s->numel() == 1 && s->dtype != DType::Bool, ValueError, "[", op, "] state '", what,
            "' must be a one-element numeric tensor, got shape ", s->shape, " dtype ", s->dtype);
}

double read_scalar(const Tensor& s) {
  return dispatch(s->dtype, [&](auto tag) { using T = typename decltype(tag)::type;
    return double(*s->data<T>()); });
}

// Stores v rounded to s's dtype and returns the stored value (PyTorch keeps float32 scalars).
double write_scalar(const Tensor& s, double v) {
  s->bump_version();
  return dispatch(s->dtype, [&](auto tag) { using T = typename decltype(tag)::type;
    *s->data<T>() = T(v);
    return double(*s->data<T>()); });
}

double bump_step(const Tensor& step) { return write_scalar(step, read_scalar(step) + 1); }

// A contiguous stand-in for t; copy_back() writes it into t if it was a copy.
struct Work {
  Tensor orig, data;
  explicit Work(const Tensor& t) : orig(t), data(t ? contiguous(t) : nullptr) {}
  void* ptr() const { return data ? data->raw() : nullptr; }
  void copy_back() const {
    if (!orig) return;
    if (data != orig) {
      TensorIter it = TensorIter::build({orig.get(), data.get()}, "optimizer step");
      TGX_KERNEL(copy_kernel)(orig->dtype, data->dtype, it);
    }
    orig->bump_version();
  }
};

// One fused pass: param and the (up to three) state buffers in place.
void fused(OptimKind kind, const Tensor& param, const Tensor& grad, const Tensor& s0,
           const Tensor& s1, const Tensor& s2, const OptimCoeffs& c) {
  if (param->numel() == 0) return;
  autograd::GradModeGuard no_grad(false);  // contiguous copies of leaves must not be recorded
  Work p(param), g(grad), a(s0), b(s1), d(s2);
  OptimBuffers buf;
  buf.param = p.ptr();
  buf.grad = g.ptr();
  buf.s0 = a.ptr();
  buf.s1 = b.ptr();
  buf.s2 = d.ptr();
  buf.n = param->numel();
  TGX_KERNEL(optim_kernel)(kind, param->dtype, buf, c);
  p.copy_back();
  a.copy_back();
  b.copy_back();
  d.copy_back();
}

// Validates parameter i and its states (all given states must exist) before anything changes.
void validate_all(const char* op, const TensorVec& params, const TensorVec& grads,
                  std::initializer_list<std::pair<const TensorVec*, const char*>> states,
                  const TensorVec* steps) {
  check_len(grads, params.size(), op, "gradients");
  for (const auto& [v, name] : states) check_len(*v, params.size(), op, name);
  if (steps) check_len(*steps, params.size(), op, "step counts");
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads[i]) continue;
    check_param(params[i], grads[i], op);
    for (const auto& [v, name] : states) check_state(params[i], (*v)[i], op, name);
    if (steps) check_scalar((*steps)[i], op, "step");
  }
}

Tensor at(const TensorVec& v, size_t i) { return i < v.size() ? v[i] : nullptr; }

}  // namespace

TensorVec sgd_step(const TensorVec& params, const TensorVec& grads, const TensorVec& bufs,
                   const SgdOptions& o) {
  const char* op = "sgd_step";
  validate_all(op, params, grads, {}, nullptr);
  check_len(bufs, params.size(), op, "momentum buffers");
  for (size_t i = 0; i < params.size(); ++i)
    if (o.momentum != 0 && grads[i] && bufs[i]) check_state(params[i], bufs[i], op, "momentum_buffer");
  TensorVec out = bufs;
  OptimCoeffs c;
  c.lr = o.lr;
  c.weight_decay = o.weight_decay;
  c.maximize = o.maximize;
  c.momentum = o.momentum;
  c.dampening = o.dampening;
  c.nesterov = o.nesterov;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads[i]) continue;
    c.first_step = false;
    if (o.momentum != 0 && !out[i]) {
      out[i] = empty(params[i]->shape, params[i]->dtype);
      c.first_step = true;
    }
    fused(OptimKind::SGD, params[i], grads[i], o.momentum != 0 ? out[i] : nullptr, nullptr,
          nullptr, c);
  }
  return out;
}

void adam_step(const TensorVec& params, const TensorVec& grads, const TensorVec& exp_avgs,
               const TensorVec& exp_avg_sqs, const TensorVec& max_exp_avg_sqs,
               const TensorVec& steps, const AdamOptions& o) {
  const char* op = o.decoupled ? "adamw_step" : "adam_step";
  if (o.amsgrad) {
    validate_all(op, params, grads, {{&exp_avgs, "exp_avg"}, {&exp_avg_sqs, "exp_avg_sq"},
                 {&max_exp_avg_sqs, "max_exp_avg_sq"}}, &steps);
  } else {
    validate_all(op, params, grads, {{&exp_avgs, "exp_avg"}, {&exp_avg_sqs, "exp_avg_sq"}}, &steps);
  }
  OptimCoeffs c;
  c.lr = o.lr;
  c.weight_decay = o.weight_decay;
  c.decoupled = o.decoupled;
  c.maximize = o.maximize;
  c.beta1 = o.beta1;
  c.beta2 = o.beta2;
  c.eps = o.eps;
  c.amsgrad = o.amsgrad;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads[i]) continue;
    double step = bump_step(steps[i]);
    c.step_size = o.lr / (1 - std::pow(o.beta1, step));
    c.bc2_sqrt = std::sqrt(1 - std::pow(o.beta2, step));
    fused(OptimKind::Adam, params[i], grads[i], exp_avgs[i], exp_avg_sqs[i],
          o.amsgrad ? at(max_exp_avg_sqs, i) : nullptr, c);
  }
}

void rmsprop_step(const TensorVec& params, const TensorVec& grads, const TensorVec& square_avgs,
                  const TensorVec& momentum_buffers, const TensorVec& grad_avgs,
                  const TensorVec& steps, const RMSpropOptions& o) {
  const char* op = "rmsprop_step";
  validate_all(op, params, grads, {{&square_avgs, "square_avg"}}, &steps);
  if (o.momentum > 0) validate_all(op, params, grads, {{&momentum_buffers, "momentum_buffer"}}, nullptr);
  if (o.centered) validate_all(op, params, grads, {{&grad_avgs, "grad_avg"}}, nullptr);
  OptimCoeffs c;
  c.lr = o.lr;
  c.weight_decay = o.weight_decay;
  c.maximize = o.maximize;
  c.beta2 = o.alpha;
  c.eps = o.eps;
  c.momentum = o.momentum;
  c.centered = o.centered;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads[i]) continue;
    bump_step(steps[i]);
    fused(OptimKind::RMSprop, params[i], grads[i], square_avgs[i],
          o.momentum > 0 ? momentum_buffers[i] : nullptr, o.centered ? grad_avgs[i] : nullptr, c);
  }
}

void adagrad_step(const TensorVec& params, const TensorVec& grads, const TensorVec& sums,
                  const TensorVec& steps, const AdagradOptions& o) {
  validate_all("adagrad_step", params, grads, {{&sums, "sum"}}, &steps);
  OptimCoeffs c;
  c.weight_decay = o.weight_decay;
  c.maximize = o.maximize;
  c.eps = o.eps;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads[i]) continue;
    double step = bump_step(steps[i]);
    c.lr = o.lr / (1 + (step - 1) * o.lr_decay);
    fused(OptimKind::Adagrad, params[i], grads[i], sums[i], nullptr, nullptr, c);
  }
}

void adadelta_step(const TensorVec& params, const TensorVec& grads, const TensorVec& square_avgs,
                   const TensorVec& acc_deltas, const TensorVec& steps, const AdadeltaOptions& o) {
  validate_all("adadelta_step", params, grads,
               {{&square_avgs, "square_avg"}, {&acc_deltas, "acc_delta"}}, &steps);
  OptimCoeffs c;
  c.lr = o.lr;
  c.weight_decay = o.weight_decay;
  c.maximize = o.maximize;
  c.beta2 = o.rho;
  c.eps = o.eps;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads[i]) continue;
    bump_step(steps[i]);
    fused(OptimKind::Adadelta, params[i], grads[i], square_avgs[i], acc_deltas[i], nullptr, c);
  }
}

void adamax_step(const TensorVec& params, const TensorVec& grads, const TensorVec& exp_avgs,
                 const TensorVec& exp_infs, const TensorVec& steps, const AdamaxOptions& o) {
  validate_all("adamax_step", params, grads, {{&exp_avgs, "exp_avg"}, {&exp_infs, "exp_inf"}},
               &steps);
  OptimCoeffs c;
  c.weight_decay = o.weight_decay;
  c.maximize = o.maximize;
  c.beta1 = o.beta1;
  c.beta2 = o.beta2;
  c.eps = o.eps;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads[i]) continue;
    double step = bump_step(steps[i]);
    c.lr = o.lr / (1 - std::pow(o.beta1, step));
    fused(OptimKind::Adamax, params[i], grads[i], exp_avgs[i], exp_infs[i], nullptr, c);
  }
}

void nadam_step(const TensorVec& params, const TensorVec& grads, const TensorVec& exp_avgs,
                const TensorVec& exp_avg_sqs, const TensorVec& mu_products,
                const TensorVec& steps, const NAdamOptions& o) {
  const char* op = "nadam_step";
  validate_all(op, params, grads, {{&exp_avgs, "exp_avg"}, {&exp_avg_sqs, "exp_avg_sq"}}, &steps);
  check_len(mu_products, params.size(), op, "mu_products");
  for (size_t i = 0; i < params.size(); ++i)
    if (grads[i]) check_scalar(mu_products[i], op, "mu_product");
  OptimCoeffs c;
  c.weight_decay = o.weight_decay;
  c.decoupled = o.decoupled;
  c.maximize = o.maximize;
  c.lr = o.lr;
  c.beta1 = o.beta1;
  c.beta2 = o.beta2;
  c.eps = o.eps;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!grads[i]) continue;
    double step = bump_step(steps[i]);
    c.bc2_sqrt = 1 - std::pow(o.beta2, step);  // NAdam divides by bias_correction2 before sqrt
    double mu = o.beta1 * (1.0 - 0.5 * std::pow(0.96, step * o.momentum_decay));
    double mu_next = o.beta1 * (1.0 - 0.5 * std::pow(0.96, (step + 1) * o.momentum_decay));
    double mu_product = write_scalar(mu_products[i], read_scalar(mu_products[i]) * mu);
    double mu_product_next = mu_product * mu_next;
    c.c1 = -o.lr * (1.0 - mu) / (1.0 - mu_product);
    c.c2 = -o.lr * mu_next / (1.0 - mu_product_next);
    fused(OptimKind::NAdam, params[i], grads[i], exp_avgs[i], exp_avg_sqs[i], nullptr, c);
  }
}

}  // namespace tgx::ops
