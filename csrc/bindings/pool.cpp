// Pooling bindings. Public where PyTorch has the function at top level (torch.max_pool2d,
// torch.avg_pool1d, ...); the others are private (_avg_pool2d, ...) and reached through
// nn.functional, as in PyTorch.
#include "bindings/common.h"
#include "ops/pool.h"

namespace tgx::bind {
namespace {

// An int or a sequence of ints; None (or an empty sequence) -> empty (stride: kernel_size).
Shape ints(py::handle h, const char* op) { return h.is_none() ? Shape{} : shape_from_py(h, op); }

std::optional<int64_t> opt_int(py::handle h, const char* op) {
  if (h.is_none()) return std::nullopt;
  Shape s = shape_from_py(h, op);
  TGX_CHECK(s.size() == 1, TypeError, "[", op, "] divisor_override must be an int or None");
  return s[0];
}

py::tuple pair(const std::pair<Tensor, Tensor>& p) { return py::make_tuple(p.first, p.second); }

template <typename F>
auto nogil(const Tensor& x, F&& f) -> decltype(f()) {
  return maybe_nogil(x->numel(), std::forward<F>(f));
}

}  // namespace

void init_pool(py::module_& m) {
  using py::arg;
  // ---- max pooling -------------------------------------------------------------------------------
  m.def("max_pool2d",
      [](const Tensor& x, py::object k, py::object s, py::object p, py::object d, bool ceil) {
        const char* op = "max_pool2d";
        Shape ks = ints(k, op), ss = ints(s, op), ps = ints(p, op), ds = ints(d, op);
        return nogil(x, [&] { return ops::max_pool2d(x, ks, ss, ps, ds, ceil); });
      },
      arg("input").none(false), arg("kernel_size"), arg("stride") = py::none(), arg("padding") = 0,
      arg("dilation") = 1, arg("ceil_mode") = false, "2-d max pooling over (N, C, H, W) or (C, H, W).");
  m.def("_max_pool2d_with_indices",
      [](const Tensor& x, py::object k, py::object s, py::object p, py::object d, bool ceil) {
        const char* op = "max_pool2d";
        Shape ks = ints(k, op), ss = ints(s, op), ps = ints(p, op), ds = ints(d, op);
        return pair(nogil(x, [&] { return ops::max_pool2d_with_indices(x, ks, ss, ps, ds, ceil); }));
      },
      arg("input").none(false), arg("kernel_size"), arg("stride") = py::none(), arg("padding") = 0,
      arg("dilation") = 1, arg("ceil_mode") = false,
      "2-d max pooling returning (values, indices); indices are flat positions h * W + w.");
  m.def("max_pool1d",
      [](const Tensor& x, py::object k, py::object s, py::object p, py::object d, bool ceil) {
        const char* op = "max_pool1d";
        Shape ks = ints(k, op), ss = ints(s, op), ps = ints(p, op), ds = ints(d, op);
        return nogil(x, [&] { return ops::max_pool1d(x, ks, ss, ps, ds, ceil); });
      },
      arg("input").none(false), arg("kernel_size"), arg("stride") = py::none(), arg("padding") = 0,
      arg("dilation") = 1, arg("ceil_mode") = false, "1-d max pooling over (N, C, L) or (C, L).");
  m.def("max_pool1d_with_indices",
      [](const Tensor& x, py::object k, py::object s, py::object p, py::object d, bool ceil) {
        const char* op = "max_pool1d";
        Shape ks = ints(k, op), ss = ints(s, op), ps = ints(p, op), ds = ints(d, op);
        return pair(nogil(x, [&] { return ops::max_pool1d_with_indices(x, ks, ss, ps, ds, ceil); }));
      },
      arg("input").none(false), arg("kernel_size"), arg("stride") = py::none(), arg("padding") = 0,
      arg("dilation") = 1, arg("ceil_mode") = false, "1-d max pooling returning (values, indices).");
  // ---- average pooling ---------------------------------------------------------------------------
  m.def("_avg_pool2d",
      [](const Tensor& x, py::object k, py::object s, py::object p, bool ceil, bool include_pad,
         py::object divisor) {
        const char* op = "avg_pool2d";
        Shape ks = ints(k, op), ss = ints(s, op), ps = ints(p, op);
        auto dv = opt_int(divisor, op);
        return nogil(x, [&] { return ops::avg_pool2d(x, ks, ss, ps, ceil, include_pad, dv); });
      },
      arg("input").none(false), arg("kernel_size"), arg("stride") = py::none(), arg("padding") = 0,
      arg("ceil_mode") = false, arg("count_include_pad") = true, arg("divisor_override") = py::none(),
      "2-d average pooling over (N, C, H, W) or (C, H, W).");
  m.def("avg_pool1d",
      [](const Tensor& x, py::object k, py::object s, py::object p, bool ceil, bool include_pad) {
        const char* op = "avg_pool1d";
        Shape ks = ints(k, op), ss = ints(s, op), ps = ints(p, op);
        return nogil(x, [&] { return ops::avg_pool1d(x, ks, ss, ps, ceil, include_pad); });
      },
      arg("input").none(false), arg("kernel_size"), arg("stride") = py::none(), arg("padding") = 0,
      arg("ceil_mode") = false, arg("count_include_pad") = true,
      "1-d average pooling over (N, C, L) or (C, L).");
  // ---- adaptive pooling --------------------------------------------------------------------------
  m.def("_adaptive_avg_pool2d",
      [](const Tensor& x, py::object size) {
        Shape os = ints(size, "adaptive_avg_pool2d");
        if (os.size() == 1) os.push_back(os[0]);
        return nogil(x, [&] { return ops::adaptive_avg_pool2d(x, os); });
      },
      arg("input").none(false), arg("output_size"), "2-d adaptive average pooling to output_size.");
  m.def("adaptive_avg_pool1d",
      [](const Tensor& x, py::object size) {
        Shape os = ints(size, "adaptive_avg_pool1d");
        return nogil(x, [&] { return ops::adaptive_avg_pool1d(x, os); });
      },
      arg("input").none(false), arg("output_size"), "1-d adaptive average pooling to output_size.");
  m.def("_adaptive_max_pool2d",
      [](const Tensor& x, py::object size) {
        Shape os = ints(size, "adaptive_max_pool2d");
        if (os.size() == 1) os.push_back(os[0]);
        return pair(nogil(x, [&] { return ops::adaptive_max_pool2d(x, os); }));
      },
      arg("input").none(false), arg("output_size"),
      "2-d adaptive max pooling returning (values, indices).");
  m.def("adaptive_max_pool1d",
      [](const Tensor& x, py::object size) {
        Shape os = ints(size, "adaptive_max_pool1d");
        return pair(nogil(x, [&] { return ops::adaptive_max_pool1d(x, os); }));
      },
      arg("input").none(false), arg("output_size"),
      "1-d adaptive max pooling returning (values, indices).");
}

}  // namespace tgx::bind
