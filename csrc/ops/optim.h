// Fused optimizer steps (torch.optim's formulas): each call updates every parameter of a list and
// its state buffers in place, one kernel pass per parameter, without recording autograd. Step
// counts are 0-d tensors incremented here (state["step"], as PyTorch keeps it). Parameters and
// state must be float32/float64 CPU tensors of the parameter's shape and dtype; non-contiguous
// ones are updated through a contiguous copy and copied back. A null grad skips the parameter.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace tgx::ops {

using TensorVec = std::vector<Tensor>;

struct SgdOptions {
  double lr = 1e-3, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
};
// momentum_buffers: one entry per param, null where none exists yet (created from the gradient
// on this step when momentum != 0). Returns the buffers (null where momentum == 0).
TensorVec sgd_step(const TensorVec& params, const TensorVec& grads,
                   const TensorVec& momentum_buffers, const SgdOptions& o);

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false, maximize = false, decoupled = false;  // decoupled: AdamW
};
// max_exp_avg_sqs may be empty unless amsgrad.
void adam_step(const TensorVec& params, const TensorVec& grads, const TensorVec& exp_avgs,
               const TensorVec& exp_avg_sqs, const TensorVec& max_exp_avg_sqs,
               const TensorVec& steps, const AdamOptions& o);

struct RMSpropOptions {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};
// momentum_buffers only if momentum > 0, grad_avgs only if centered (else may be empty).
void rmsprop_step(const TensorVec& params, const TensorVec& grads, const TensorVec& square_avgs,
                  const TensorVec& momentum_buffers, const TensorVec& grad_avgs,
                  const TensorVec& steps, const RMSpropOptions& o);

struct AdagradOptions {
  double lr = 1e-2, lr_decay = 0, weight_decay = 0, eps = 1e-10;
  bool maximize = false;
};
void adagrad_step(const TensorVec& params, const TensorVec& grads, const TensorVec& sums,
                  const TensorVec& steps, const AdagradOptions& o);

struct AdadeltaOptions {
  double lr = 1.0, rho = 0.9, eps = 1e-6, weight_decay = 0;
  bool maximize = false;
};
void adadelta_step(const TensorVec& params, const TensorVec& grads, const TensorVec& square_avgs,
                   const TensorVec& acc_deltas, const TensorVec& steps, const AdadeltaOptions& o);

struct AdamaxOptions {
  double lr = 2e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool maximize = false;
};
void adamax_step(const TensorVec& params, const TensorVec& grads, const TensorVec& exp_avgs,
                 const TensorVec& exp_infs, const TensorVec& steps, const AdamaxOptions& o);

struct NAdamOptions {
  double lr = 2e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0,
         momentum_decay = 4e-3;
  bool decoupled = false, maximize = false;
};
// mu_products: 0-d tensors (state["mu_product"]) updated in place, rounded to their dtype.
void nadam_step(const TensorVec& params, const TensorVec& grads, const TensorVec& exp_avgs,
                const TensorVec& exp_avg_sqs, const TensorVec& mu_products,
                const TensorVec& steps, const NAdamOptions& o);

}  // namespace tgx::ops
