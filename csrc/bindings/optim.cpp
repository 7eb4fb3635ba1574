// Fused optimizer steps, as tinygrad_ext._C._optim.<name>(lists of tensors, hyper-parameters).
// The Python optimizers (tinygrad_ext.optim) gather the lists per param group and call these.
#include "bindings/common.h"
#include "ops/optim.h"

namespace tgx::bind {
namespace {

using ops::TensorVec;

int64_t total_numel(const TensorVec& params) {
  int64_t n = 0;
  for (const Tensor& p : params) n += p ? p->numel() : 0;
  return n;
}

}  // namespace

void init_optim(py::module_& m) {
  py::module_ o = m.def_submodule("_optim", "Fused optimizer updates (used by tinygrad_ext.optim).");
  o.def("sgd", [](const TensorVec& params, const TensorVec& grads, const TensorVec& bufs,
                  double lr, double momentum, double dampening, double weight_decay, bool nesterov,
                  bool maximize) {
    ops::SgdOptions opt{lr, momentum, dampening, weight_decay, nesterov, maximize};
    return maybe_nogil(total_numel(params), [&] { return ops::sgd_step(params, grads, bufs, opt); });
  }, py::arg("params"), py::arg("grads"), py::arg("momentum_buffers"), py::arg("lr"),
     py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"),
     py::arg("maximize"), "SGD step; returns the momentum buffers (new where None was given).");

  o.def("adam", [](const TensorVec& params, const TensorVec& grads, const TensorVec& exp_avgs,
                   const TensorVec& exp_avg_sqs, const TensorVec& max_exp_avg_sqs,
                   const TensorVec& steps, double lr, double beta1, double beta2, double eps,
                   double weight_decay, bool amsgrad, bool maximize, bool decoupled) {
    ops::AdamOptions opt{lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled};
    maybe_nogil(total_numel(params), [&] {
      ops::adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, opt);
    });
  }, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"),
     py::arg("max_exp_avg_sqs"), py::arg("steps"), py::arg("lr"), py::arg("beta1"),
     py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("amsgrad"),
     py::arg("maximize"), py::arg("decoupled"), "Adam / AdamW (decoupled=True) step.");

  o.def("rmsprop", [](const TensorVec& params, const TensorVec& grads, const TensorVec& square_avgs,
                      const TensorVec& momentum_buffers, const TensorVec& grad_avgs,
                      const TensorVec& steps, double lr, double alpha, double eps,
                      double weight_decay, double momentum, bool centered, bool maximize) {
    ops::RMSpropOptions opt{lr, alpha, eps, weight_decay, momentum, centered, maximize};
    maybe_nogil(total_numel(params), [&] {
      ops::rmsprop_step(params, grads, square_avgs, momentum_buffers, grad_avgs, steps, opt);
    });
  }, py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("momentum_buffers"),
     py::arg("grad_avgs"), py::arg("steps"), py::arg("lr"), py::arg("alpha"), py::arg("eps"),
     py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"), py::arg("maximize"),
     "RMSprop step.");

  o.def("adagrad", [](const TensorVec& params, const TensorVec& grads, const TensorVec& sums,
                      const TensorVec& steps, double lr, double lr_decay, double weight_decay,
                      double eps, bool maximize) {
    ops::AdagradOptions opt{lr, lr_decay, weight_decay, eps, maximize};
    maybe_nogil(total_numel(params), [&] { ops::adagrad_step(params, grads, sums, steps, opt); });
  }, py::arg("params"), py::arg("grads"), py::arg("sums"), py::arg("steps"), py::arg("lr"),
     py::arg("lr_decay"), py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"),
     "Adagrad step.");

  o.def("adadelta", [](const TensorVec& params, const TensorVec& grads,
                       const TensorVec& square_avgs, const TensorVec& acc_deltas,
                       const TensorVec& steps, double lr, double rho, double eps,
                       double weight_decay, bool maximize) {
    ops::AdadeltaOptions opt{lr, rho, eps, weight_decay, maximize};
    maybe_nogil(total_numel(params), [&] {
      ops::adadelta_step(params, grads, square_avgs, acc_deltas, steps, opt);
    });
  }, py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("acc_deltas"),
     py::arg("steps"), py::arg("lr"), py::arg("rho"), py::arg("eps"), py::arg("weight_decay"),
     py::arg("maximize"), "Adadelta step.");

  o.def("adamax", [](const TensorVec& params, const TensorVec& grads, const TensorVec& exp_avgs,
                     const TensorVec& exp_infs, const TensorVec& steps, double lr, double beta1,
                     double beta2, double eps, double weight_decay, bool maximize) {
    ops::AdamaxOptions opt{lr, beta1, beta2, eps, weight_decay, maximize};
    maybe_nogil(total_numel(params), [&] {
      ops::adamax_step(params, grads, exp_avgs, exp_infs, steps, opt);
    });
  }, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_infs"),
     py::arg("steps"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
     py::arg("weight_decay"), py::arg("maximize"), "Adamax step.");

  o.def("nadam", [](const TensorVec& params, const TensorVec& grads, const TensorVec& exp_avgs,
                    const TensorVec& exp_avg_sqs, const TensorVec& mu_products,
                    const TensorVec& steps, double lr, double beta1, double beta2, double eps,
                    double weight_decay, double momentum_decay, bool decoupled, bool maximize) {
    ops::NAdamOptions opt{lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled, maximize};
    maybe_nogil(total_numel(params), [&] {
      ops::nadam_step(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, opt);
    });
  }, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"),
     py::arg("mu_products"), py::arg("steps"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"),
     py::arg("eps"), py::arg("weight_decay"), py::arg("momentum_decay"), py::arg("decoupled"),
     py::arg("maximize"), "NAdam step.");
}

}  // namespace tgx::bind
