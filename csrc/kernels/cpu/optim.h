// Fused optimizer updates: one pass over contiguous float32/float64 buffers updates the parameter
// and its state in place (no temporaries). The op front end (ops/optim.cpp) validates shapes and
// dtypes, makes buffers contiguous and turns step counts into the per-step scalars below.
// Each formula follows torch.optim's single-tensor path operation by operation, so float32
// results round like PyTorch's.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/dispatch.h"

namespace tgx {

enum class OptimKind : uint8_t { SGD, Adam, RMSprop, Adagrad, Adadelta, Adamax, NAdam };

// Raw contiguous buffers of n elements. s0..s2 are the state buffers, per kind:
//   SGD: s0 momentum_buffer (null if momentum == 0)
//   Adam: s0 exp_avg, s1 exp_avg_sq, s2 max_exp_avg_sq (null unless amsgrad)
//   RMSprop: s0 square_avg, s1 momentum_buffer (null if momentum == 0), s2 grad_avg (null unless centered)
//   Adagrad: s0 sum;  Adadelta: s0 square_avg, s1 acc_delta;  Adamax: s0 exp_avg, s1 exp_inf
//   NAdam: s0 exp_avg, s1 exp_avg_sq
struct OptimBuffers {
  void* param = nullptr;
  const void* grad = nullptr;
  void* s0 = nullptr;
  void* s1 = nullptr;
  void* s2 = nullptr;
  int64_t n = 0;
};

// Per-step scalars (already bias-corrected where the optimizer has a bias correction).
struct OptimCoeffs {
  double lr = 0;            // SGD/RMSprop/Adadelta: lr; Adagrad: clr; Adamax: lr / bias_correction
  double weight_decay = 0;  // 0: no weight decay term at all
  bool decoupled = false;   // Adam/NAdam: param *= 1 - lr * weight_decay instead of grad += wd * param
  bool maximize = false;
  double momentum = 0, dampening = 0;  // SGD, RMSprop (momentum)
  bool nesterov = false;
  bool first_step = false;  // SGD: the momentum buffer is initialised to the gradient
  double beta1 = 0, beta2 = 0, eps = 0;  // Adam/Adamax/NAdam betas; RMSprop alpha = beta2; Adadelta rho = beta2
  bool amsgrad = false, centered = false;
  double step_size = 0;     // Adam: lr / bias_correction1
  double bc2_sqrt = 1;      // Adam: sqrt(bias_correction2); NAdam: bias_correction2
  double c1 = 0, c2 = 0;    // NAdam: coefficients of grad / denom and exp_avg / denom
};

}  // namespace tgx

// dtype: Float32 or Float64 (the front end checks). Parallel over elements with a grain.
TGX_DECLARE_KERNEL(void, optim_kernel, (tgx::OptimKind kind, tgx::DType dtype,
                                        const tgx::OptimBuffers& b, const tgx::OptimCoeffs& c))
