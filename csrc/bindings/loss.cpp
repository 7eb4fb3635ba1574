// Fused losses: tinygrad_ext._C.cross_entropy and nll_loss (PyTorch's F.cross_entropy/F.nll_loss).
#include "bindings/common.h"
#include "ops/loss.h"

namespace tgx::bind {
namespace {

Tensor opt_tensor(py::handle h, const char* op) {
  return h.is_none() ? nullptr : to_tensor_arg(h, op);
}

}  // namespace

void init_loss(py::module_& m) {
  m.def(
      "cross_entropy",
      [](const Tensor& input, const Tensor& target, py::object weight, int64_t ignore_index,
         double label_smoothing, const std::string& reduction) {
        return ops::cross_entropy(input, target, opt_tensor(weight, "cross_entropy"), ignore_index,
                                  label_smoothing, reduction);
      },
      py::arg("input").none(false), py::arg("target").none(false), py::arg("weight") = py::none(),
      py::arg("ignore_index") = -100, py::arg("label_smoothing") = 0.0,
      py::arg("reduction") = "mean",
      "Cross-entropy of logits against class indices or probabilities (fused log-softmax + NLL).");
  m.def(
      "nll_loss",
      [](const Tensor& input, const Tensor& target, py::object weight, int64_t ignore_index,
         const std::string& reduction) {
        return ops::nll_loss(input, target, opt_tensor(weight, "nll_loss"), ignore_index, reduction);
      },
      py::arg("input").none(false), py::arg("target").none(false), py::arg("weight") = py::none(),
      py::arg("ignore_index") = -100, py::arg("reduction") = "mean",
      "Negative log-likelihood of log-probabilities at the target classes.");
}

}  // namespace tgx::bind
