// Convolution front ends (validation, 1-D / unbatched views, 'same' padding) and the three
// differentiable primitives with their vjp and jvp side by side:
//
//   conv_forward(x, w, b)      y  = conv(x, w) + b                    "ConvolutionBackward0"
//   conv_input_grad(y, w, b)   x  = conv^T(y, w) + b (conv_transpose)  "ConvolutionBackward0"
//   conv_weight_grad(x, y)     w  = d<y, conv(x, w)>/dw                "ConvolutionBackwardBackward0"
//
// All three are partial derivatives of T(x, w, y) = <y, conv(x, w)>, so each one's vjp and jvp
// are the other two (plus a sum for the bias): gradients of every order run on the same GEMM
// kernels and record themselves. The kernels work on contiguous 4-D NCHW tensors.
#include "ops/conv.h"

#include <sstream>

#include "autograd/node.h"
#include "kernels/cpu/conv.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace tgx::ops {
namespace {

using autograd::TensorList;
using Needs = std::vector<bool>;

// Stride, padding and dilation beyond this are refused (sizes built from them stay in int64).
constexpr int64_t kMaxParam = int64_t(1) << 40;

int64_t mul_ck(int64_t a, int64_t b, const char* op) {
  int64_t r;
  TGX_CHECK(!__builtin_mul_overflow(a, b, &r), ValueError, "[", op, "] sizes overflow int64 (", a,
            " * ", b, ")");
  return r;
}
int64_t add_ck(int64_t a, int64_t b, const char* op) {
  int64_t r;
  TGX_CHECK(!__builtin_add_overflow(a, b, &r), ValueError, "[", op, "] sizes overflow int64 (", a,
            " + ", b, ")");
  return r;
}

std::string sizes_str(const IntList& v, const char* sep = " x ") {
  std::ostringstream os;
  for (size_t i = 0; i < v.size(); ++i) os << (i ? sep : "") << v[i];
  return os.str();
}

// One value per spatial dim from a single value or a full list.
IntList expand_param(const IntList& v, int64_t sd, const char* name, const char* op) {
  TGX_CHECK(v.size() == 1 || int64_t(v.size()) == sd, ValueError, "[", op, "] expected ", name,
            " to be a single integer value or a list of ", sd,
            " values to match the convolution dimensions, but got ", name, "=", v);
  return v.size() == 1 ? IntList(size_t(sd), v[0]) : v;
}

void check_range(const IntList& v, int64_t lo, const char* name, const char* op) {
  for (int64_t x : v) {
    TGX_CHECK(x >= lo, ValueError, "[", op, "] ", lo > 0 ? "non-positive " : "negative ", name,
              " is not supported, got ", name, "=", v);
    TGX_CHECK(x <= kMaxParam, ValueError, "[", op, "] ", name, "=", v, " is too large (max ",
              kMaxParam, ")");
  }
}

void check_float(const Tensor& t, const char* name, const char* op) {
  TGX_CHECK(t->dtype == DType::Float32 || t->dtype == DType::Float64, TypeError, "[", op, "] ",
            name, " must be float32 or float64, got dtype ", t->dtype);
}

void check_same_dtype(const Tensor& a, const Tensor& b, const char* na, const char* nb,
                      const char* op) {
  TGX_CHECK(a->dtype == b->dtype, TypeError, "[", op, "] ", na, " (", a->dtype, ") and ", nb, " (",
            b->dtype, ") must have the same dtype");
}

Tensor add_terms(const Tensor& a, const Tensor& b) {
  return !a ? b : (!b ? a : binary(BinaryOp::Add, a, b));
}

// A (C)-vector broadcast to NCHW `shape` as an addend (for bias tangents).
Tensor channel_bcast(const Tensor& v, const Shape& shape) {
  return contiguous(expand(reshape(v, {1, v->shape[0], 1, 1}), shape));
}

// ---- the primitives --------------------------------------------------------------------------
Tensor conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, ConvGeometry g);
Tensor conv_input_grad(const Tensor& y, const Tensor& w, const Tensor& b, ConvGeometry g,
                       const char* name = "ConvolutionBackward0");
Tensor conv_weight_grad(const Tensor& x, const Tensor& y, ConvGeometry g);

// Runs a kernel on contiguous copies, with no recording inside.
template <typename F>
Tensor run_kernel(const Shape& out_shape, DType dt, const F& f) {
  autograd::GradModeGuard no_grad(false);
  autograd::FwGradDisabledGuard pause;
  Tensor out = empty(out_shape, dt);
  if (out->numel() > 0) f(out);
  return out;
}

Tensor conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, ConvGeometry g) {
  g.N = x->shape[0];
  Tensor out = run_kernel({g.N, g.O, g.OH, g.OW}, x->dtype, [&](const Tensor& o) {
    Tensor xc = contiguous(x), wc = contiguous(w), bc = b ? contiguous(b) : nullptr;
    ConvBuffers buf;
    buf.x = xc->raw(), buf.w = wc->raw(), buf.b = bc ? bc->raw() : nullptr, buf.out = o->raw();
    TGX_KERNEL(conv2d_forward_kernel)(x->dtype, g, buf);
  });
  if (!autograd::needs_record({&x, &w, &b})) return out;
  autograd::record("ConvolutionBackward0", {x, w, b}, {out}, {x, w},
      [g](const TensorList& gr, const TensorList& s, const Needs& needs) {
        TensorList r(3);
        if (needs[0]) r[0] = conv_input_grad(gr[0], s[1], nullptr, g);
        if (needs[1]) r[1] = conv_weight_grad(s[0], gr[0], g);
        if (needs[2]) r[2] = sum(gr[0], {0, 2, 3});
        return r;
      },
      [g](const TensorList& t, const TensorList& in, const TensorList& out) {
        Tensor r = add_terms(t[0] ? conv_forward(t[0], in[1], nullptr, g) : nullptr,
                             t[1] ? conv_forward(in[0], t[1], nullptr, g) : nullptr);
        if (t[2]) r = add_terms(r, channel_bcast(t[2], out[0]->shape));
        return TensorList{r};
      });
  return out;
}

Tensor conv_input_grad(const Tensor& y, const Tensor& w, const Tensor& b, ConvGeometry g,
                       const char* name) {
  g.N = y->shape[0];
  Tensor out = run_kernel({g.N, g.C, g.H, g.W}, y->dtype, [&](const Tensor& o) {
    Tensor yc = contiguous(y), wc = contiguous(w), bc = b ? contiguous(b) : nullptr;
    ConvBuffers buf;
    buf.y = yc->raw(), buf.w = wc->raw(), buf.b = bc ? bc->raw() : nullptr, buf.out = o->raw();
    TGX_KERNEL(conv2d_input_grad_kernel)(y->dtype, g, buf);
  });
  if (!autograd::needs_record({&y, &w, &b})) return out;
  autograd::record(name, {y, w, b}, {out}, {y, w},
      [g](const TensorList& gr, const TensorList& s, const Needs& needs) {
        TensorList r(3);
        if (needs[0]) r[0] = conv_forward(gr[0], s[1], nullptr, g);
        if (needs[1]) r[1] = conv_weight_grad(gr[0], s[0], g);
        if (needs[2]) r[2] = sum(gr[0], {0, 2, 3});
        return r;
      },
      [g](const TensorList& t, const TensorList& in, const TensorList& out) {
        Tensor r = add_terms(t[0] ? conv_input_grad(t[0], in[1], nullptr, g) : nullptr,
                             t[1] ? conv_input_grad(in[0], t[1], nullptr, g) : nullptr);
        if (t[2]) r = add_terms(r, channel_bcast(t[2], out[0]->shape));
        return TensorList{r};
      });
  return out;
}

Tensor conv_weight_grad(const Tensor& x, const Tensor& y, ConvGeometry g) {
  g.N = x->shape[0];
  Tensor out = run_kernel({g.O, g.C / g.groups, g.KH, g.KW}, x->dtype, [&](const Tensor& o) {
    Tensor xc = contiguous(x), yc = contiguous(y);
    ConvBuffers buf;
    buf.x = xc->raw(), buf.y = yc->raw(), buf.out = o->raw();
    TGX_KERNEL(conv2d_weight_grad_kernel)(x->dtype, g, buf);
  });
  if (!autograd::needs_record({&x, &y})) return out;
  autograd::record("ConvolutionBackwardBackward0", {x, y}, {out}, {x, y},
      [g](const TensorList& gr, const TensorList& s, const Needs& needs) {
        TensorList r(2);
        if (needs[0]) r[0] = conv_input_grad(s[1], gr[0], nullptr, g);
        if (needs[1]) r[1] = conv_forward(s[0], gr[0], nullptr, g);
        return r;
      },
      [g](const TensorList& t, const TensorList& in, const TensorList&) {
        return TensorList{add_terms(t[0] ? conv_weight_grad(t[0], in[1], g) : nullptr,
                                    t[1] ? conv_weight_grad(in[0], t[1], g) : nullptr)};
      });
  return out;
}

// ---- front end -------------------------------------------------------------------------------
enum class PadMode { Explicit, Same, Valid };

PadMode parse_padding(const std::string& s, const char* op) {
  if (s == "same") return PadMode::Same;
  TGX_CHECK(s == "valid", ValueError, "[", op, "] invalid padding string '", s,
            "' (expected 'same' or 'valid')");
  return PadMode::Valid;
}

Tensor conv_impl(const Tensor& input, const Tensor& weight, const Tensor& bias, IntList stride,
                 IntList padding, IntList dilation, bool transposed, IntList output_padding,
                 int64_t groups, int64_t sd, PadMode mode, const char* op) {
  check_float(input, "input", op);
  check_float(weight, "weight", op);
  check_same_dtype(input, weight, "input", "weight", op);
  if (bias) {
    check_float(bias, "bias", op);
    check_same_dtype(input, bias, "input", "bias", op);
  }
  const int64_t nd = input->ndim();
  TGX_CHECK(nd == sd + 1 || nd == sd + 2, ValueError, "[", op, "] expected ", sd + 1,
            "-D (unbatched) or ", sd + 2, "-D (batched) input, but got input of shape ",
            input->shape);
  TGX_CHECK(weight->ndim() == sd + 2, ValueError, "[", op, "] expected ", sd + 2,
            "-D weight, but got weight of shape ", weight->shape);
  stride = expand_param(stride, sd, "stride", op);
  padding = expand_param(padding, sd, "padding", op);
  dilation = expand_param(dilation, sd, "dilation", op);
  output_padding = expand_param(output_padding, sd, "output_padding", op);
  check_range(stride, 1, "stride", op);
  check_range(padding, 0, "padding", op);
  check_range(dilation, 1, "dilation", op);
  check_range(output_padding, 0, "output_padding", op);
  TGX_CHECK(groups > 0, ValueError, "[", op, "] non-positive groups is not supported, got groups=",
            groups);
  if (mode == PadMode::Same) {
    for (int64_t s : stride)
      TGX_CHECK(s == 1, ValueError, "[", op,
                "] padding='same' is not supported for strided convolutions, got stride=", stride);
  }
  for (int64_t i = 0; i < sd; ++i) {
    TGX_CHECK(!transposed || output_padding[size_t(i)] < stride[size_t(i)] ||
                  output_padding[size_t(i)] < dilation[size_t(i)],
              ValueError, "[", op, "] output padding must be smaller than either stride or ",
              "dilation, got output_padding=", output_padding, ", stride=", stride,
              ", dilation=", dilation);
  }

  const bool batched = nd == sd + 2;
  const int64_t C = input->shape[batched ? 1 : 0];
  const int64_t w0 = weight->shape[0], w1 = weight->shape[1];
  TGX_CHECK(w0 >= groups, ValueError, "[", op, "] given groups=", groups,
            ", expected weight to be at least ", groups, " at dimension 0, but got weight of shape ",
            weight->shape);
  TGX_CHECK(transposed || w0 % groups == 0, ValueError, "[", op, "] given groups=", groups,
            ", expected weight to be divisible by ", groups,
            " at dimension 0, but got weight of shape ", weight->shape);
  const int64_t in_ch = transposed ? w0 : mul_ck(w1, groups, op);
  TGX_CHECK(C == in_ch, ValueError, "[", op, "] given groups=", groups, ", weight of shape ",
            weight->shape, ", expected input of shape ", input->shape, " to have ", in_ch,
            " channels, but got ", C, " channels instead");
  TGX_CHECK(!transposed || w0 % groups == 0, ValueError, "[", op, "] given groups=", groups,
            ", expected the input channels ", w0, " to be divisible by groups");
  const int64_t out_ch = transposed ? mul_ck(w1, groups, op) : w0;
  if (bias) {
    TGX_CHECK(bias->ndim() == 1 && bias->shape[0] == out_ch, ValueError, "[", op,
              "] given weight of shape ", weight->shape,
              ", expected bias to be 1-D with ", out_ch, " elements, but got bias of shape ",
              bias->shape);
  }

  // Spatial sizes: in, kernel, out, and the leading padding of each spatial dim.
  const size_t nsd = size_t(sd);
  IntList in(nsd), k(nsd), out(nsd), lead(nsd);
  for (int64_t i = 0; i < sd; ++i) {
    const size_t u = size_t(i);
    in[u] = input->shape[size_t(nd - sd + i)];
    k[u] = weight->shape[size_t(2 + i)];
    TGX_CHECK(k[u] > 0, ValueError, "[", op, "] expected a non-empty kernel, but got weight of shape ",
              weight->shape);
    const int64_t ext = add_ck(mul_ck(dilation[u], k[u] - 1, op), 1, op);  // dilated kernel
    if (mode != PadMode::Explicit) padding[u] = 0;
    lead[u] = padding[u];
    if (mode == PadMode::Same) {  // total d*(k-1), the odd one on the right
      lead[u] = (ext - 1) / 2;
      out[u] = in[u];
    } else if (!transposed) {
      const int64_t padded = add_ck(in[u], mul_ck(2, padding[u], op), op);
      if (padded < ext) {
        IntList pin(nsd), ks(nsd);
        for (int64_t j = 0; j < sd; ++j) {
          pin[size_t(j)] = input->shape[size_t(nd - sd + j)] + 2 * padding[size_t(j)];
          ks[size_t(j)] = weight->shape[size_t(2 + j)];
        }
        TGX_CHECK(false, ValueError, "[", op, "] calculated padded input size per channel: (",
                  sizes_str(pin), "). Kernel size: (", sizes_str(ks),
                  "). Kernel size can't be greater than actual input size");
      }
      out[u] = (padded - ext) / stride[u] + 1;
    } else {
      const int64_t base = mul_ck(in[u] - 1, stride[u], op);
      out[u] = add_ck(add_ck(base, ext, op), output_padding[u] - 2 * padding[u], op);
      TGX_CHECK(out[u] > 0, ValueError, "[", op, "] given input size per channel: (",
                sizes_str(in), "), the calculated output size per channel (", out[u],
                " in dim ", i, ") is too small");
    }
  }

  // The geometry of the underlying (non-transposed) convolution on 4-D tensors.
  ConvGeometry g;
  g.groups = groups;
  g.KH = sd == 2 ? k[0] : 1, g.KW = k[size_t(sd - 1)];
  g.sh = sd == 2 ? stride[0] : 1, g.sw = stride[size_t(sd - 1)];
  g.dh = sd == 2 ? dilation[0] : 1, g.dw = dilation[size_t(sd - 1)];
  g.ph = sd == 2 ? lead[0] : 0, g.pw = lead[size_t(sd - 1)];
  const int64_t ih = sd == 2 ? in[0] : 1, iw = in[size_t(sd - 1)];
  const int64_t oh = sd == 2 ? out[0] : 1, ow = out[size_t(sd - 1)];
  if (!transposed) {
    g.C = C, g.O = out_ch, g.H = ih, g.W = iw, g.OH = oh, g.OW = ow;
  } else {  // conv_transpose(x) = input grad of the conv mapping (out size) -> (in size)
    g.C = out_ch, g.O = C, g.H = oh, g.W = ow, g.OH = ih, g.OW = iw;
  }
  const int64_t N = batched ? input->shape[0] : 1;
  Shape out_shape{N, out_ch, oh, ow};
  checked_numel(out_shape, input->dtype, op);

  Tensor x = batched ? input : unsqueeze(input, 0);
  Tensor w = weight;
  if (sd == 1) x = unsqueeze(x, 2), w = unsqueeze(w, 2);
  Tensor y = transposed ? conv_input_grad(x, w, bias, g) : conv_forward(x, w, bias, g);
  if (sd == 1) y = squeeze(y, {2});
  return batched ? y : squeeze(y, {0});
}

}  // namespace

Tensor convolution(const Tensor& input, const Tensor& weight, const Tensor& bias,
                   const IntList& stride, const IntList& padding, const IntList& dilation,
                   bool transposed, const IntList& output_padding, int64_t groups) {
  const int64_t sd = weight->ndim() - 2;
  TGX_CHECK(sd == 1 || sd == 2, NotImplementedError,
            "[convolution] only 1-D and 2-D convolutions are implemented, got weight of shape ",
            weight->shape);
  return conv_impl(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                   groups, sd, PadMode::Explicit, "convolution");
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, const IntList& stride,
              const IntList& padding, const IntList& dilation, int64_t groups) {
  return conv_impl(input, weight, bias, stride, padding, dilation, false, {0}, groups, 1,
                   PadMode::Explicit, "conv1d");
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const IntList& stride,
              const IntList& padding, const IntList& dilation, int64_t groups) {
  return conv_impl(input, weight, bias, stride, padding, dilation, false, {0}, groups, 2,
                   PadMode::Explicit, "conv2d");
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, const IntList& stride,
              const std::string& padding, const IntList& dilation, int64_t groups) {
  return conv_impl(input, weight, bias, stride, {0}, dilation, false, {0}, groups, 1,
                   parse_padding(padding, "conv1d"), "conv1d");
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const IntList& stride,
              const std::string& padding, const IntList& dilation, int64_t groups) {
  return conv_impl(input, weight, bias, stride, {0}, dilation, false, {0}, groups, 2,
                   parse_padding(padding, "conv2d"), "conv2d");
}

Tensor conv_transpose1d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        const IntList& stride, const IntList& padding,
                        const IntList& output_padding, int64_t groups, const IntList& dilation) {
  return conv_impl(input, weight, bias, stride, padding, dilation, true, output_padding, groups, 1,
                   PadMode::Explicit, "conv_transpose1d");
}

Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        const IntList& stride, const IntList& padding,
                        const IntList& output_padding, int64_t groups, const IntList& dilation) {
  return conv_impl(input, weight, bias, stride, padding, dilation, true, output_padding, groups, 2,
                   PadMode::Explicit, "conv_transpose2d");
}

// ---- unfold / fold ---------------------------------------------------------------------------
namespace {

struct FoldSpec {
  ConvGeometry g;
  bool batched;
};

// Validates kernel_size/dilation/padding/stride (2 values each) and fills the geometry's
// kernel, stride, padding and dilation, and OH/OW from (H, W).
void fold_params(ConvGeometry& g, IntList ks, IntList dil, IntList pad, IntList st,
                 const char* op) {
  ks = expand_param(ks, 2, "kernel_size", op);
  dil = expand_param(dil, 2, "dilation", op);
  pad = expand_param(pad, 2, "padding", op);
  st = expand_param(st, 2, "stride", op);
  check_range(ks, 1, "kernel_size", op);
  check_range(dil, 1, "dilation", op);
  check_range(pad, 0, "padding", op);
  check_range(st, 1, "stride", op);
  g.KH = ks[0], g.KW = ks[1], g.dh = dil[0], g.dw = dil[1];
  g.ph = pad[0], g.pw = pad[1], g.sh = st[0], g.sw = st[1];
  int64_t blocks[2];
  const int64_t sizes[2] = {g.H, g.W};
  for (int i = 0; i < 2; ++i) {
    const int64_t ext = add_ck(mul_ck(dil[size_t(i)], ks[size_t(i)] - 1, op), 1, op);
    const int64_t padded = add_ck(sizes[i], mul_ck(2, pad[size_t(i)], op), op);
    blocks[i] = padded < ext ? 0 : (padded - ext) / st[size_t(i)] + 1;
  }
  TGX_CHECK(blocks[0] >= 1 && blocks[1] >= 1, ValueError, "[", op, "] given input with spatial ",
            "size (", g.H, ", ", g.W, "), kernel_size=", ks, ", dilation=", dil, ", padding=", pad,
            ", calculated shape of the array of sliding blocks as (", blocks[0], ", ", blocks[1],
            "), but its components must be at least one");
  g.OH = blocks[0], g.OW = blocks[1];
}

Tensor im2col_prim(const Tensor& x, ConvGeometry g);
Tensor col2im_prim(const Tensor& col, ConvGeometry g);

Tensor im2col_prim(const Tensor& x, ConvGeometry g) {
  g.N = x->shape[0];
  Tensor out = run_kernel({g.N, g.C * g.KH * g.KW, g.OH * g.OW}, x->dtype, [&](const Tensor& o) {
    Tensor xc = contiguous(x);
    TGX_KERNEL(im2col_kernel)(x->dtype, g, xc->raw(), o->raw());
  });
  if (!autograd::needs_record({&x})) return out;
  autograd::record("Im2ColBackward0", {x}, {out}, {},
      [g](const TensorList& gr, const TensorList&, const Needs&) {
        return TensorList{col2im_prim(gr[0], g)};
      },
      [g](const TensorList& t, const TensorList&, const TensorList&) {
        return TensorList{im2col_prim(t[0], g)};
      });
  return out;
}

Tensor col2im_prim(const Tensor& col, ConvGeometry g) {
  g.N = col->shape[0];
  Tensor out = run_kernel({g.N, g.C, g.H, g.W}, col->dtype, [&](const Tensor& o) {
    Tensor cc = contiguous(col);
    TGX_KERNEL(col2im_kernel)(col->dtype, g, cc->raw(), o->raw());
  });
  if (!autograd::needs_record({&col})) return out;
  autograd::record("Col2ImBackward0", {col}, {out}, {},
      [g](const TensorList& gr, const TensorList&, const Needs&) {
        return TensorList{im2col_prim(gr[0], g)};
      },
      [g](const TensorList& t, const TensorList&, const TensorList&) {
        return TensorList{col2im_prim(t[0], g)};
      });
  return out;
}

}  // namespace

Tensor im2col(const Tensor& input, const IntList& kernel_size, const IntList& dilation,
              const IntList& padding, const IntList& stride) {
  const char* op = "unfold";
  check_float(input, "input", op);
  const int64_t nd = input->ndim();
  TGX_CHECK(nd == 3 || nd == 4, ValueError, "[", op,
            "] expected 3-D (unbatched) or 4-D (batched) input, but got input of shape ",
            input->shape);
  const bool batched = nd == 4;
  ConvGeometry g;
  g.C = input->shape[size_t(nd - 3)], g.H = input->shape[size_t(nd - 2)];
  g.W = input->shape[size_t(nd - 1)];
  fold_params(g, kernel_size, dilation, padding, stride, op);
  checked_numel({batched ? input->shape[0] : 1, mul_ck(g.C, mul_ck(g.KH, g.KW, op), op),
                 mul_ck(g.OH, g.OW, op)}, input->dtype, op);
  Tensor y = im2col_prim(batched ? input : unsqueeze(input, 0), g);
  return batched ? y : squeeze(y, {0});
}

Tensor col2im(const Tensor& input, const IntList& output_size, const IntList& kernel_size,
              const IntList& dilation, const IntList& padding, const IntList& stride) {
  const char* op = "fold";
  check_float(input, "input", op);
  const int64_t nd = input->ndim();
  TGX_CHECK(nd == 2 || nd == 3, ValueError, "[", op,
            "] expected 2-D (unbatched) or 3-D (batched) input, but got input of shape ",
            input->shape);
  const bool batched = nd == 3;
  const IntList osz = expand_param(output_size, 2, "output_size", op);
  check_range(osz, 0, "output_size", op);
  const IntList ks = expand_param(kernel_size, 2, "kernel_size", op);
  check_range(ks, 1, "kernel_size", op);
  const int64_t K = mul_ck(ks[0], ks[1], op);
  const int64_t rows = input->shape[size_t(nd - 2)], L = input->shape[size_t(nd - 1)];
  TGX_CHECK(rows % K == 0, ValueError, "[", op, "] expected size of input's dimension ", nd - 2,
            " to be divisible by the product of kernel_size, but got input.size(", nd - 2,
            ")=", rows, " and kernel_size=", ks);
  ConvGeometry g;
  g.C = rows / K, g.H = osz[0], g.W = osz[1];
  fold_params(g, ks, dilation, padding, stride, op);
  TGX_CHECK(mul_ck(g.OH, g.OW, op) == L, ValueError, "[", op, "] given output_size=", osz,
            ", kernel_size=", ks, ", dilation=", IntList{g.dh, g.dw}, ", padding=",
            IntList{g.ph, g.pw}, ", stride=", IntList{g.sh, g.sw},
            ", expected size of input's dimension ", nd - 1,
            " to match the calculated number of sliding blocks ", g.OH, " * ", g.OW, " = ",
            g.OH * g.OW, ", but got input.size(", nd - 1, ")=", L);
  checked_numel({batched ? input->shape[0] : 1, g.C, g.H, g.W}, input->dtype, op);
  Tensor y = col2im_prim(batched ? input : unsqueeze(input, 0), g);
  return batched ? y : squeeze(y, {0});
}

}  // namespace tgx::ops
