// Recurrent layers: _C._rnn_layer runs one layer in one direction over a sequence (the modules
// in nn/rnn.py stack layers and directions on it).
#include "bindings/common.h"
#include "ops/rnn.h"

namespace tgx::bind {

void init_rnn(py::module_& m) {
  m.def(
      "_rnn_layer",
      [](const std::string& mode, const Tensor& input, const Tensor& h0, const Tensor& c0,
         const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
         const Tensor& lengths, bool reverse) {
        std::vector<Tensor> r = maybe_nogil(input->numel() * w_hh->shape[0], [&] {
          return ops::rnn_layer(mode, input, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse);
        });
        return py::tuple(py::cast(r));
      },
      py::arg("mode"), py::arg("input").none(false), py::arg("h0").none(true),
      py::arg("c0").none(true), py::arg("weight_ih").none(false), py::arg("weight_hh").none(false),
      py::arg("bias_ih").none(true), py::arg("bias_hh").none(true),
      py::arg("lengths").none(true) = py::none(), py::arg("reverse") = false,
      "One recurrent layer, one direction: input (T, B, I) time-major -> (output, h_n[, c_n]).");
}

}  // namespace tgx::bind
