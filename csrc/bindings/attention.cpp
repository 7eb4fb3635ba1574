// Bindings for the attention ops: scaled_dot_product_attention and the primitive behind it.
#include <optional>

#include "bindings/common.h"
#include "ops/attention.h"

namespace tgx::bind {
namespace {

Tensor opt_tensor(py::handle h, const char* op) {
  return h.is_none() ? nullptr : to_tensor_arg(h, op);
}

}  // namespace

void init_attention(py::module_& m) {
  const char* op = "scaled_dot_product_attention";
  m.def(
      "scaled_dot_product_attention",
      [op](const Tensor& query, const Tensor& key, const Tensor& value, py::object attn_mask,
           double dropout_p, bool is_causal, std::optional<double> scale, bool enable_gqa) {
        TGX_CHECK(!enable_gqa, NotImplementedError, "[", op, "] enable_gqa=True is not supported");
        Tensor mask = opt_tensor(attn_mask, op);
        const int64_t work = query->numel() * (key->ndim() >= 2 ? key->shape[key->shape.size() - 2] : 1);
        return maybe_nogil(work, [&] {
          return ops::scaled_dot_product_attention(query, key, value, mask, dropout_p, is_causal, scale);
        });
      },
      py::arg("query").none(false), py::arg("key").none(false), py::arg("value").none(false),
      py::arg("attn_mask") = py::none(), py::arg("dropout_p") = 0.0, py::arg("is_causal") = false,
      py::arg("scale") = py::none(), py::arg("enable_gqa") = false,
      "softmax(query key^T * scale + attn_mask) value over the last two dims (fused; bool masks: "
      "True = attend).");
  m.def(
      "_sdpa_math",
      [op](const Tensor& query, const Tensor& key, const Tensor& value, py::object attn_mask,
           py::object dropout_mask, double scale, bool is_causal) {
        Tensor mask = opt_tensor(attn_mask, op), drop = opt_tensor(dropout_mask, op);
        const int64_t work = query->numel() * (key->ndim() >= 2 ? key->shape[key->shape.size() - 2] : 1);
        auto r = maybe_nogil(work, [&] {
          return ops::sdpa_math(query, key, value, mask, drop, scale, is_causal);
        });
        return py::make_tuple(r.first, r.second);
      },
      py::arg("query").none(false), py::arg("key").none(false), py::arg("value").none(false),
      py::arg("attn_mask") = py::none(), py::arg("dropout_mask") = py::none(),
      py::arg("scale") = 1.0, py::arg("is_causal") = false,
      "(out, attn): the attention primitive; dropout_mask holds the factors applied to attn.");
  m.def(
      "_attention_dropout_mask",
      [](const Shape& shape, DType dtype, double p) { return ops::attention_dropout_mask(shape, dtype, p); },
      py::arg("shape"), py::arg("dtype"), py::arg("p"),
      "bernoulli(1 - p) / (1 - p) of the given shape (the factors _sdpa_math takes).");
}

}  // namespace tgx::bind
