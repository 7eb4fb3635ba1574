// Pooling front end: validates the arguments (PyTorch's checks and messages as a guide), turns
// every flavour into per-axis window tables (kernels/cpu/pool.h) and records the autograd nodes.
// The backward passes are ops of their own, recorded in turn:
//   max pool  --vjp-->  scatter at the indices  --vjp-->  gather at the indices  --vjp--> ...
//   avg pool  --vjp-->  its adjoint (spread each output over its window)  --vjp-->  avg pool
// so gradgradcheck works, and each jvp is the same linear map applied to the tangent.
#include "ops/pool.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "kernels/cpu/pool.h"
#include "ops/elementwise.h"

namespace tgx::ops {
namespace {

using autograd::TensorList;
using Needs = std::vector<bool>;
using i128 = __int128;

// Where every pooling op's windows come from: shapes, plane layout and the per-axis tables.
struct Geom {
  const char* op = "";
  const char* node = "";       // name of the forward's autograd node
  const char* back_node = "";  // name of the backward op's node
  Shape in_shape, out_shape;
  DType dtype = DType::Float32;
  int64_t planes = 0, C = 1, ih = 1, iw = 1, oh = 1, ow = 1;
  int spatial = 2;
  bool batched = true;
  std::vector<int64_t> hs, hc, ws, wc;
  int64_t hstep = 1, wstep = 1;
  std::vector<double> hdiv, wdiv;

  PoolWindows windows() const {
    PoolWindows w;
    w.planes = planes, w.C = C, w.ih = ih, w.iw = iw, w.oh = oh, w.ow = ow;
    w.hs = hs.data(), w.hc = hc.data(), w.ws = ws.data(), w.wc = wc.data();
    w.hstep = hstep, w.wstep = wstep;
    w.hdiv = hdiv.empty() ? nullptr : hdiv.data();
    w.wdiv = wdiv.empty() ? nullptr : wdiv.data();
    return w;
  }
  int64_t isize() const { return ih * iw; }
  int64_t osize() const { return oh * ow; }
};
using GeomPtr = std::shared_ptr<const Geom>;

// ---- argument checks ----------------------------------------------------------------------------
// The input's layout: (N, C, spatial...) or unbatched (C, spatial...), non-empty but for N.
std::shared_ptr<Geom> layout(const Tensor& x, int spatial, const char* op) {
  const int64_t nd = x->ndim();
  TGX_CHECK(nd == spatial + 1 || nd == spatial + 2, ValueError, "[", op, "] expected a ", spatial + 1,
            "D or ", spatial + 2, "D (batch mode) input, got a ", nd, "D tensor of shape ", x->shape);
  auto g = std::make_shared<Geom>();
  g->op = op, g->spatial = spatial, g->batched = nd == spatial + 2, g->dtype = x->dtype;
  g->in_shape = x->shape;
  for (int64_t d = g->batched ? 1 : 0; d < nd; ++d)
    TGX_CHECK(x->shape[size_t(d)] > 0, ValueError, "[", op, "] expected input with non-zero sizes "
              "except the batch dim, got shape ", x->shape, " (dim ", d, " is empty)");
  const int64_t N = g->batched ? x->shape[0] : 1;
  g->C = x->shape[size_t(nd - spatial - 1)];
  g->planes = N * g->C;
  g->ih = spatial == 2 ? x->shape[size_t(nd - 2)] : 1;
  g->iw = x->shape[size_t(nd - 1)];
  return g;
}

// One value per spatial dim (a single value is repeated); H first, W last.
Shape per_dim(const Shape& v, int spatial, const char* name, const char* op) {
  TGX_CHECK(v.size() == 1 || v.size() == size_t(spatial), ValueError, "[", op, "] ", name,
            " must either be a single int, or a tuple of ", spatial == 2 ? "two ints" : "one int",
            ", got ", v);
  Shape out(size_t(spatial), v[0]);
  if (v.size() == size_t(spatial)) out = v;
  if (spatial == 1) out.insert(out.begin(), 1);  // the H axis of a 1-d pool: a single row
  return out;
}

struct Params {
  Shape k, s, p, d;  // (H, W) each
};

Params check_params(const Geom& g, const Shape& kernel, const Shape& stride, const Shape& padding,
                    const Shape& dilation, const char* op) {
  Params q;
  const int sp = g.spatial;
  q.k = per_dim(kernel, sp, "kernel_size", op);
  q.s = stride.empty() ? q.k : per_dim(stride, sp, "stride", op);
  q.p = per_dim(padding, sp, "padding", op);
  q.d = per_dim(dilation, sp, "dilation", op);
  if (sp == 1) q.s[0] = 1, q.p[0] = 0, q.d[0] = 1;
  for (size_t i = 0; i < 2; ++i) {
    TGX_CHECK(q.k[i] > 0, ValueError, "[", op, "] kernel_size should be greater than zero, got ", kernel);
    TGX_CHECK(q.s[i] > 0, ValueError, "[", op, "] stride should be greater than zero, got ", stride);
    TGX_CHECK(q.d[i] > 0, ValueError, "[", op, "] dilation should be greater than zero, got ", dilation);
    TGX_CHECK(q.p[i] >= 0, ValueError, "[", op, "] pad must be non-negative, got ", padding);
    const i128 eff = i128(q.d[i]) * i128(q.k[i] - 1) + 1;
    TGX_CHECK(i128(q.p[i]) * 2 <= eff, ValueError, "[", op, "] pad should be at most half of effective "
              "kernel size, but got pad=", q.p[i], ", kernel_size=", q.k[i], " and dilation=", q.d[i]);
  }
  return q;
}

// PyTorch's pooling_output_shape (floor or ceil; the last window must start inside the input or
// the left padding).
int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
  const i128 num = i128(in) + 2 * i128(p) - i128(d) * i128(k - 1) - 1 + (ceil ? s - 1 : 0);
  i128 q = num / s;
  if (num % s != 0 && num < 0) --q;  // floor division
  i128 out = q + 1;
  if (ceil && (out - 1) * s >= i128(in) + p) --out;
  return out < 0 ? 0 : int64_t(out);  // out <= in + 2 since 2 p <= the effective kernel
}

void check_out(const Geom& g, const char* op) {
  TGX_CHECK(g.oh > 0 && g.ow > 0, ValueError, "[", op, "] given input of shape ", g.in_shape,
            ", the calculated output size ", g.spatial == 2 ? Shape{g.oh, g.ow} : Shape{g.ow},
            " is too small");
}

void set_out_shape(Geom& g) {
  g.out_shape = g.in_shape;
  const size_t nd = g.out_shape.size();
  g.out_shape[nd - 1] = g.ow;
  if (g.spatial == 2) g.out_shape[nd - 2] = g.oh;
}

// Max-pool taps of an axis: start, count, with step = dilation (only valid input positions).
void max_axis(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d,
              std::vector<int64_t>& st, std::vector<int64_t>& cnt) {
  st.resize(size_t(out)), cnt.resize(size_t(out));
  for (int64_t o = 0; o < out; ++o) {
    const i128 start0 = i128(o) * s - p;
    const i128 j0 = start0 < 0 ? (-start0 + d - 1) / d : 0;
    const i128 last = in - 1 - start0;  // taps j with start0 + j d <= in - 1
    const i128 j1 = last < 0 ? -1 : std::min<i128>(k - 1, last / d);
    const i128 first = start0 + j0 * d;
    cnt[size_t(o)] = int64_t(std::max<i128>(0, j1 - j0 + 1));
    st[size_t(o)] = int64_t(std::min<i128>(std::max<i128>(first, 0), in - 1));
  }
}

// Average-pool windows of an axis: start, count (step 1) and the divisor factor.
void avg_axis(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, bool include_pad,
              std::vector<int64_t>& st, std::vector<int64_t>& cnt, std::vector<double>& div) {
  st.resize(size_t(out)), cnt.resize(size_t(out)), div.resize(size_t(out));
  for (int64_t o = 0; o < out; ++o) {
    const i128 start0 = i128(o) * s - p;
    const i128 end0 = std::min<i128>(start0 + k, i128(in) + p);
    const i128 a = std::max<i128>(start0, 0), b = std::min<i128>(end0, in);
    const int64_t n = int64_t(std::max<i128>(0, b - a));
    st[size_t(o)] = int64_t(std::min<i128>(a, in - 1)), cnt[size_t(o)] = n;
    div[size_t(o)] = include_pad ? double(end0 - start0) : double(n);
  }
}

// Adaptive windows: [floor(o I / O), ceil((o + 1) I / O)).
void adaptive_axis(int64_t in, int64_t out, std::vector<int64_t>& st, std::vector<int64_t>& cnt,
                   std::vector<double>* div) {
  st.resize(size_t(out)), cnt.resize(size_t(out));
  if (div) div->resize(size_t(out));
  for (int64_t o = 0; o < out; ++o) {
    const int64_t a = int64_t(i128(o) * in / out);
    const int64_t b = int64_t((i128(o + 1) * in + out - 1) / out);
    st[size_t(o)] = a, cnt[size_t(o)] = b - a;
    if (div) (*div)[size_t(o)] = double(b - a);
  }
}

// ---- the recorded ops -----------------------------------------------------------------------------
PoolInput input_of(const Geom& g, const Tensor& x) {
  PoolInput in;
  in.data = x->raw();
  const size_t nd = x->strides.size();
  in.sN = g.batched ? x->strides[0] : 0;
  in.sC = x->strides[nd - size_t(g.spatial) - 1];
  in.sH = g.spatial == 2 ? x->strides[nd - 2] : 0;
  in.sW = x->strides[nd - 1];
  return in;
}

Tensor contig(const Tensor& t) {
  autograd::GradModeGuard no_grad(false);
  autograd::FwGradDisabledGuard pause;
  return contiguous(t);
}

void check_grad(const Geom& g, const Tensor& t, const Shape& want, const char* what) {
  TGX_CHECK(t->shape == want, RuntimeError, "[", g.op, "] ", what, " of shape ", t->shape,
            " does not match the expected shape ", want);
  TGX_CHECK(is_floating(t->dtype), TypeError, "[", g.op, "] ", what, " must be floating, got dtype ",
            t->dtype);
}

Tensor avg_forward(const Tensor& x, const GeomPtr& g);

// grad_in = adjoint of the average pooling applied to grad_out.
Tensor avg_backward(const Tensor& gout, const GeomPtr& g) {
  check_grad(*g, gout, g->out_shape, "grad_output");
  Tensor gc = contig(gout);
  Tensor gin = empty(g->in_shape, gout->dtype);
  if (gin->numel()) TGX_KERNEL(avg_pool_backward_kernel)(gout->dtype, g->windows(), gc->raw(), gin->raw());
  if (autograd::needs_record({&gout})) {
    autograd::record(g->back_node, {gout}, {gin}, {},
        [g](const TensorList& gr, const TensorList&, const Needs&) { return TensorList{avg_forward(gr[0], g)}; },
        [g](const TensorList& t, const TensorList&, const TensorList&) {
          return TensorList{t[0] ? avg_backward(t[0], g) : nullptr};
        });
  }
  return gin;
}

Tensor avg_forward(const Tensor& x, const GeomPtr& g) {
  check_grad(*g, x, g->in_shape, "input");
  Tensor out = empty(g->out_shape, x->dtype);
  if (out->numel()) TGX_KERNEL(avg_pool_kernel)(x->dtype, g->windows(), input_of(*g, x), out->raw());
  if (autograd::needs_record({&x})) {
    autograd::record(g->node, {x}, {out}, {},
        [g](const TensorList& gr, const TensorList&, const Needs&) { return TensorList{avg_backward(gr[0], g)}; },
        [g](const TensorList& t, const TensorList&, const TensorList&) {
          return TensorList{t[0] ? avg_forward(t[0], g) : nullptr};
        });
  }
  return out;
}

Tensor pool_scatter(const Tensor& gout, const Tensor& idx, const GeomPtr& g);

// out[p, o] = x[p, idx[p, o]]: the max pool's value at given indices (its double backward).
Tensor pool_gather(const Tensor& x, const Tensor& idx, const GeomPtr& g) {
  check_grad(*g, x, g->in_shape, "input");
  Tensor xc = contig(x);
  Tensor out = empty(g->out_shape, x->dtype);
  if (out->numel())
    TGX_KERNEL(pool_gather_kernel)(x->dtype, g->planes, g->isize(), g->osize(), xc->raw(),
                                   idx->data<int64_t>(), out->raw());
  if (autograd::needs_record({&x})) {
    autograd::record("MaxPoolGatherBackward0", {x}, {out}, {},
        [g, idx](const TensorList& gr, const TensorList&, const Needs&) {
          return TensorList{pool_scatter(gr[0], idx, g)};
        },
        [g, idx](const TensorList& t, const TensorList&, const TensorList&) {
          return TensorList{t[0] ? pool_gather(t[0], idx, g) : nullptr};
        });
  }
  return out;
}

// grad_in[p, idx[p, o]] += grad_out[p, o]: the max pool's vjp.
Tensor pool_scatter(const Tensor& gout, const Tensor& idx, const GeomPtr& g) {
  check_grad(*g, gout, g->out_shape, "grad_output");
  Tensor gc = contig(gout);
  Tensor gin = empty(g->in_shape, gout->dtype);
  if (gin->numel())
    TGX_KERNEL(pool_scatter_kernel)(gout->dtype, g->planes, g->isize(), g->osize(), gc->raw(),
                                    idx->data<int64_t>(), gin->raw());
  if (autograd::needs_record({&gout})) {
    autograd::record(g->back_node, {gout}, {gin}, {},
        [g, idx](const TensorList& gr, const TensorList&, const Needs&) {
          return TensorList{pool_gather(gr[0], idx, g)};
        },
        [g, idx](const TensorList& t, const TensorList&, const TensorList&) {
          return TensorList{t[0] ? pool_scatter(t[0], idx, g) : nullptr};
        });
  }
  return gin;
}

std::pair<Tensor, Tensor> max_forward(const Tensor& x, const GeomPtr& g) {
  TGX_CHECK(x->dtype != DType::Bool, NotImplementedError, "[", g->op, "] not implemented for dtype bool");
  Tensor out = empty(g->out_shape, x->dtype);
  Tensor idx = empty(g->out_shape, DType::Int64);
  if (out->numel())
    TGX_KERNEL(max_pool_kernel)(x->dtype, g->windows(), input_of(*g, x), out->raw(), idx->data<int64_t>());
  if (is_floating(x->dtype) && autograd::needs_record({&x})) {
    autograd::record(g->node, {x}, {out}, {},
        [g, idx](const TensorList& gr, const TensorList&, const Needs&) {
          return TensorList{pool_scatter(gr[0], idx, g)};
        },
        [g, idx](const TensorList& t, const TensorList&, const TensorList&) {
          return TensorList{t[0] ? pool_gather(t[0], idx, g) : nullptr};
        });
  }
  return {out, idx};
}

// ---- geometry builders ---------------------------------------------------------------------------
GeomPtr max_geom(const Tensor& x, int spatial, const Shape& kernel, const Shape& stride,
                 const Shape& padding, const Shape& dilation, bool ceil_mode, const char* op) {
  auto g = layout(x, spatial, op);
  Params q = check_params(*g, kernel, stride, padding, dilation, op);
  g->oh = out_size(g->ih, q.k[0], q.s[0], q.p[0], q.d[0], ceil_mode);
  g->ow = out_size(g->iw, q.k[1], q.s[1], q.p[1], q.d[1], ceil_mode);
  check_out(*g, op);
  set_out_shape(*g);
  checked_numel(g->out_shape, x->dtype, op);
  max_axis(g->ih, g->oh, q.k[0], q.s[0], q.p[0], q.d[0], g->hs, g->hc);
  max_axis(g->iw, g->ow, q.k[1], q.s[1], q.p[1], q.d[1], g->ws, g->wc);
  g->hstep = q.d[0], g->wstep = q.d[1];
  g->node = spatial == 2 ? "MaxPool2DWithIndicesBackward0" : "MaxPool1DWithIndicesBackward0";
  g->back_node = spatial == 2 ? "MaxPool2DWithIndicesBackwardBackward0" : "MaxPool1DWithIndicesBackwardBackward0";
  return g;
}

GeomPtr avg_geom(const Tensor& x, int spatial, const Shape& kernel, const Shape& stride,
                 const Shape& padding, bool ceil_mode, bool include_pad,
                 std::optional<int64_t> divisor, const char* op) {
  auto g = layout(x, spatial, op);
  TGX_CHECK(is_floating(x->dtype), NotImplementedError, "[", op, "] not implemented for dtype ", x->dtype);
  Params q = check_params(*g, kernel, stride, padding, {1}, op);
  TGX_CHECK(!divisor || *divisor != 0, ValueError, "[", op, "] divisor must be not zero");
  g->oh = out_size(g->ih, q.k[0], q.s[0], q.p[0], 1, ceil_mode);
  g->ow = out_size(g->iw, q.k[1], q.s[1], q.p[1], 1, ceil_mode);
  check_out(*g, op);
  set_out_shape(*g);
  checked_numel(g->out_shape, x->dtype, op);
  avg_axis(g->ih, g->oh, q.k[0], q.s[0], q.p[0], include_pad, g->hs, g->hc, g->hdiv);
  avg_axis(g->iw, g->ow, q.k[1], q.s[1], q.p[1], include_pad, g->ws, g->wc, g->wdiv);
  if (divisor) {
    std::fill(g->hdiv.begin(), g->hdiv.end(), 1.0);
    std::fill(g->wdiv.begin(), g->wdiv.end(), double(*divisor));
  }
  g->node = spatial == 2 ? "AvgPool2DBackward0" : "AvgPool1DBackward0";
  g->back_node = spatial == 2 ? "AvgPool2DBackwardBackward0" : "AvgPool1DBackwardBackward0";
  return g;
}

GeomPtr adaptive_geom(const Tensor& x, int spatial, const Shape& output_size, bool avg, const char* op) {
  auto g = layout(x, spatial, op);
  if (avg)
    TGX_CHECK(is_floating(x->dtype), NotImplementedError, "[", op, "] not implemented for dtype ", x->dtype);
  TGX_CHECK(output_size.size() == size_t(spatial), ValueError, "[", op, "] output_size must have ",
            spatial, " element", spatial == 2 ? "s" : "", ", got ", output_size);
  for (int64_t o : output_size)
    TGX_CHECK(o >= 0, ValueError, "[", op, "] elements of output_size must be greater than or equal "
              "to 0, got ", output_size);
  g->oh = spatial == 2 ? output_size[0] : 1;
  g->ow = output_size.back();
  set_out_shape(*g);
  const int64_t n = checked_numel(g->out_shape, x->dtype, op);
  if (n) {  // (tables only when there is output: an empty batch may ask for any size)
    // The output size is the caller's: allocate it before sizing the tables from it, so a size
    // the allocator refuses is a MemoryError here, not an unbounded std::vector. The block goes
    // back to the caching allocator and is reused by the forward's output.
    (void)empty(g->out_shape, x->dtype);
    adaptive_axis(g->ih, g->oh, g->hs, g->hc, avg ? &g->hdiv : nullptr);
    adaptive_axis(g->iw, g->ow, g->ws, g->wc, avg ? &g->wdiv : nullptr);
  }
  g->node = avg ? (spatial == 2 ? "AdaptiveAvgPool2DBackward0" : "AdaptiveAvgPool1DBackward0")
                : (spatial == 2 ? "AdaptiveMaxPool2DBackward0" : "AdaptiveMaxPool1DBackward0");
  g->back_node = avg ? (spatial == 2 ? "AdaptiveAvgPool2DBackwardBackward0" : "AdaptiveAvgPool1DBackwardBackward0")
                     : (spatial == 2 ? "AdaptiveMaxPool2DBackwardBackward0" : "AdaptiveMaxPool1DBackwardBackward0");
  return g;
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const Shape& kernel_size,
                                                  const Shape& stride, const Shape& padding,
                                                  const Shape& dilation, bool ceil_mode) {
  return max_forward(x, max_geom(x, 2, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d"));
}

std::pair<Tensor, Tensor> max_pool1d_with_indices(const Tensor& x, const Shape& kernel_size,
                                                  const Shape& stride, const Shape& padding,
                                                  const Shape& dilation, bool ceil_mode) {
  return max_forward(x, max_geom(x, 1, kernel_size, stride, padding, dilation, ceil_mode, "max_pool1d"));
}

Tensor max_pool2d(const Tensor& x, const Shape& kernel_size, const Shape& stride, const Shape& padding,
                  const Shape& dilation, bool ceil_mode) {
  return max_pool2d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode).first;
}

Tensor max_pool1d(const Tensor& x, const Shape& kernel_size, const Shape& stride, const Shape& padding,
                  const Shape& dilation, bool ceil_mode) {
  return max_pool1d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode).first;
}

Tensor avg_pool2d(const Tensor& x, const Shape& kernel_size, const Shape& stride, const Shape& padding,
                  bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override) {
  return avg_forward(x, avg_geom(x, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                 divisor_override, "avg_pool2d"));
}

Tensor avg_pool1d(const Tensor& x, const Shape& kernel_size, const Shape& stride, const Shape& padding,
                  bool ceil_mode, bool count_include_pad) {
  return avg_forward(x, avg_geom(x, 1, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                 std::nullopt, "avg_pool1d"));
}

Tensor adaptive_avg_pool2d(const Tensor& x, const Shape& output_size) {
  return avg_forward(x, adaptive_geom(x, 2, output_size, true, "adaptive_avg_pool2d"));
}

Tensor adaptive_avg_pool1d(const Tensor& x, const Shape& output_size) {
  return avg_forward(x, adaptive_geom(x, 1, output_size, true, "adaptive_avg_pool1d"));
}

std::pair<Tensor, Tensor> adaptive_max_pool2d(const Tensor& x, const Shape& output_size) {
  return max_forward(x, adaptive_geom(x, 2, output_size, false, "adaptive_max_pool2d"));
}

std::pair<Tensor, Tensor> adaptive_max_pool1d(const Tensor& x, const Shape& output_size) {
  return max_forward(x, adaptive_geom(x, 1, output_size, false, "adaptive_max_pool1d"));
}

}  // namespace tgx::ops
