// Convolution bindings: tinygrad_ext.conv1d/conv2d/conv_transpose1d/conv_transpose2d/convolution
// (torch's names and defaults) and _im2col/_col2im behind F.unfold/F.fold.
#include "bindings/common.h"
#include "ops/conv.h"

namespace tgx::bind {
namespace {

using ops::IntList;

// An int or a sequence of ints (bools refused, as PyTorch).
IntList int_list(py::handle h, const char* name, const char* op) {
  auto one = [&](py::handle x) {
    TGX_CHECK(py::isinstance<py::int_>(x) && !py::isinstance<py::bool_>(x), TypeError, "[", op,
              "] ", name, " must be an int or a tuple of ints, got ",
              std::string(py::str(py::type::of(x).attr("__name__"))));
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(x.ptr(), &overflow);
    TGX_CHECK(!overflow, ValueError, "[", op, "] ", name, " value ",
              std::string(py::str(x)), " is out of range");
    return int64_t(v);
  };
  if (py::isinstance<py::int_>(h)) return {one(h)};
  TGX_CHECK(py::isinstance<py::sequence>(h) && !py::isinstance<py::str>(h), TypeError, "[", op,
            "] ", name, " must be an int or a tuple of ints, got ",
            std::string(py::str(py::type::of(h).attr("__name__"))));
  IntList out;
  for (py::handle x : py::reinterpret_borrow<py::sequence>(h)) out.push_back(one(x));
  TGX_CHECK(!out.empty(), ValueError, "[", op, "] ", name, " must not be empty");
  return out;
}

Tensor opt_tensor(py::handle h, const char* op) {
  return h.is_none() ? nullptr : to_tensor_arg(h, op);
}

int64_t work(const Tensor& x, const Tensor& w) { return x->numel() + w->numel(); }

template <typename StrFn, typename IntFn>
Tensor conv_py(const char* op, const Tensor& input, const Tensor& weight, py::object bias,
               py::handle stride, py::handle padding, py::handle dilation, int64_t groups,
               StrFn str_fn, IntFn int_fn) {
  Tensor b = opt_tensor(bias, op);
  IntList s = int_list(stride, "stride", op), d = int_list(dilation, "dilation", op);
  if (py::isinstance<py::str>(padding)) {
    std::string p = padding.cast<std::string>();
    return maybe_nogil(work(input, weight), [&] { return str_fn(input, weight, b, s, p, d, groups); });
  }
  IntList p = int_list(padding, "padding", op);
  return maybe_nogil(work(input, weight), [&] { return int_fn(input, weight, b, s, p, d, groups); });
}

template <typename Fn>
Tensor conv_t_py(const char* op, const Tensor& input, const Tensor& weight, py::object bias,
                 py::handle stride, py::handle padding, py::handle output_padding, int64_t groups,
                 py::handle dilation, Fn fn) {
  Tensor b = opt_tensor(bias, op);
  IntList s = int_list(stride, "stride", op), p = int_list(padding, "padding", op);
  IntList op_ = int_list(output_padding, "output_padding", op);
  IntList d = int_list(dilation, "dilation", op);
  return maybe_nogil(work(input, weight), [&] { return fn(input, weight, b, s, p, op_, groups, d); });
}

using ConvInt = Tensor (*)(const Tensor&, const Tensor&, const Tensor&, const IntList&,
                           const IntList&, const IntList&, int64_t);
using ConvStr = Tensor (*)(const Tensor&, const Tensor&, const Tensor&, const IntList&,
                           const std::string&, const IntList&, int64_t);

}  // namespace

void init_conv(py::module_& m) {
  m.def(
      "conv1d",
      [](const Tensor& input, const Tensor& weight, py::object bias, py::handle stride,
         py::handle padding, py::handle dilation, int64_t groups) {
        return conv_py("conv1d", input, weight, bias, stride, padding, dilation, groups,
                       static_cast<ConvStr>(&ops::conv1d), static_cast<ConvInt>(&ops::conv1d));
      },
      py::arg("input").none(false), py::arg("weight").none(false), py::arg("bias") = py::none(),
      py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
      py::arg("groups") = 1,
      "1-D convolution of (N, C, L) or (C, L) input with (out, C/groups, k) weight; padding "
      "may be 'same' or 'valid'.");
  m.def(
      "conv2d",
      [](const Tensor& input, const Tensor& weight, py::object bias, py::handle stride,
         py::handle padding, py::handle dilation, int64_t groups) {
        return conv_py("conv2d", input, weight, bias, stride, padding, dilation, groups,
                       static_cast<ConvStr>(&ops::conv2d), static_cast<ConvInt>(&ops::conv2d));
      },
      py::arg("input").none(false), py::arg("weight").none(false), py::arg("bias") = py::none(),
      py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
      py::arg("groups") = 1,
      "2-D convolution of (N, C, H, W) or (C, H, W) input with (out, C/groups, kh, kw) weight; "
      "padding may be 'same' or 'valid'.");
  m.def(
      "conv_transpose1d",
      [](const Tensor& input, const Tensor& weight, py::object bias, py::handle stride,
         py::handle padding, py::handle output_padding, int64_t groups, py::handle dilation) {
        return conv_t_py("conv_transpose1d", input, weight, bias, stride, padding, output_padding,
                         groups, dilation, &ops::conv_transpose1d);
      },
      py::arg("input").none(false), py::arg("weight").none(false), py::arg("bias") = py::none(),
      py::arg("stride") = 1, py::arg("padding") = 0, py::arg("output_padding") = 0,
      py::arg("groups") = 1, py::arg("dilation") = 1,
      "1-D transposed convolution; weight is (in, out/groups, k).");
  m.def(
      "conv_transpose2d",
      [](const Tensor& input, const Tensor& weight, py::object bias, py::handle stride,
         py::handle padding, py::handle output_padding, int64_t groups, py::handle dilation) {
        return conv_t_py("conv_transpose2d", input, weight, bias, stride, padding, output_padding,
                         groups, dilation, &ops::conv_transpose2d);
      },
      py::arg("input").none(false), py::arg("weight").none(false), py::arg("bias") = py::none(),
      py::arg("stride") = 1, py::arg("padding") = 0, py::arg("output_padding") = 0,
      py::arg("groups") = 1, py::arg("dilation") = 1,
      "2-D transposed convolution; weight is (in, out/groups, kh, kw).");
  m.def(
      "convolution",
      [](const Tensor& input, const Tensor& weight, py::object bias, py::handle stride,
         py::handle padding, py::handle dilation, bool transposed, py::handle output_padding,
         int64_t groups) {
        const char* op = "convolution";
        Tensor b = opt_tensor(bias, op);
        IntList s = int_list(stride, "stride", op), p = int_list(padding, "padding", op);
        IntList d = int_list(dilation, "dilation", op);
        IntList o = int_list(output_padding, "output_padding", op);
        return maybe_nogil(work(input, weight), [&] {
          return ops::convolution(input, weight, b, s, p, d, transposed, o, groups);
        });
      },
      py::arg("input").none(false), py::arg("weight").none(false), py::arg("bias").none(true),
      py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("transposed"),
      py::arg("output_padding"), py::arg("groups"),
      "torch.convolution: the general (transposed) 1-D/2-D convolution.");
  m.def(
      "_im2col",
      [](const Tensor& input, py::handle kernel_size, py::handle dilation, py::handle padding,
         py::handle stride) {
        const char* op = "unfold";
        IntList k = int_list(kernel_size, "kernel_size", op), d = int_list(dilation, "dilation", op);
        IntList p = int_list(padding, "padding", op), s = int_list(stride, "stride", op);
        return maybe_nogil(input->numel(), [&] { return ops::im2col(input, k, d, p, s); });
      },
      py::arg("input").none(false), py::arg("kernel_size"), py::arg("dilation") = 1,
      py::arg("padding") = 0, py::arg("stride") = 1, "im2col (F.unfold).");
  m.def(
      "_col2im",
      [](const Tensor& input, py::handle output_size, py::handle kernel_size, py::handle dilation,
         py::handle padding, py::handle stride) {
        const char* op = "fold";
        IntList o = int_list(output_size, "output_size", op);
        IntList k = int_list(kernel_size, "kernel_size", op), d = int_list(dilation, "dilation", op);
        IntList p = int_list(padding, "padding", op), s = int_list(stride, "stride", op);
        return maybe_nogil(input->numel(), [&] { return ops::col2im(input, o, k, d, p, s); });
      },
      py::arg("input").none(false), py::arg("output_size"), py::arg("kernel_size"),
      py::arg("dilation") = 1, py::arg("padding") = 0, py::arg("stride") = 1,
      "col2im (F.fold).");
}

}  // namespace tgx::bind
