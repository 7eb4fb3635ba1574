// Bindings for the fused normalisation ops (layer_norm).
#include "bindings/common.h"
#include "ops/norm.h"

namespace tgx::bind {

void init_norm(py::module_& m) {
  m.def(
      "layer_norm",
      [](const Tensor& input, py::handle normalized_shape, py::object weight, py::object bias, double eps) {
        const char* op = "layer_norm";
        Shape ns = shape_from_py(normalized_shape, op);
        Tensor w = weight.is_none() ? nullptr : to_tensor_arg(weight, op);
        Tensor b = bias.is_none() ? nullptr : to_tensor_arg(bias, op);
        return maybe_nogil(input->numel(), [&] { return ops::layer_norm(input, ns, w, b, eps); });
      },
      py::arg("input").none(false), py::arg("normalized_shape"), py::arg("weight") = py::none(),
      py::arg("bias") = py::none(), py::arg("eps") = 1e-5,
      "(input - mean) / sqrt(var + eps) * weight + bias over the trailing normalized_shape dims "
      "(fused; biased variance).");
}

}  // namespace tgx::bind
