// Private sum_to_shape for the engine's un-broadcast step, until ops::sum_to_shape (reduce) lands.
#include "autograd/node.h"
#include "ops/elementwise.h"

namespace tgx::autograd {

namespace {
Tensor expand_to(const Tensor& x, const Shape& shape) {
  if (x->shape == shape) return x;
  return ops::binary(BinaryOp::Add, x, zeros_like_meta({shape, x->dtype}));
}
}  // namespace

Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
  if (g->shape == shape) return g;
  int64_t nd = g->ndim(), ns = int64_t(shape.size()), lead = nd - ns;
  bool ok = ns <= nd;
  for (int64_t d = 0; ok && d < ns; ++d) ok = shape[d] == g->shape[lead + d] || shape[d] == 1;
  TGX_CHECK(ok, RuntimeError, "[sum_to_shape] gradient of shape ", g->shape,
            " cannot be summed to shape ", shape);
  Tensor out = zeros_like_meta({shape, g->dtype});
  if (g->numel()) {
    Tensor gc = ops::contiguous(g);
    Shape ostride = contiguous_strides(shape), tstride(nd, 0);
    for (int64_t d = lead; d < nd; ++d)
      if (shape[d - lead] != 1) tstride[d] = ostride[d - lead];
    dispatch(g->dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, bool>) {
        throw TypeError("[sum_to_shape] not supported for dtype bool");
      } else {
        const T* src = gc->data<T>();
        T* dst = out->data<T>();
        std::vector<int64_t> idx(nd, 0);
        int64_t n = g->numel(), off = 0;
        for (int64_t i = 0; i < n; ++i) {
          dst[off] += src[i];
          for (int64_t d = nd - 1; d >= 0; --d) {  // odometer increment
            off += tstride[d];
            if (++idx[d] < g->shape[d]) break;
            off -= tstride[d] * idx[d];
            idx[d] = 0;
          }
        }
      }
    });
  }
  if (needs_record({&g})) {
    Shape gshape = g->shape;
    record("SumToSizeBackward0", {g}, {out}, {},
           [gshape](const TensorList& gr, const TensorList&, const std::vector<bool>&) {
             return TensorList{expand_to(gr[0], gshape)};
           },
           [shape](const TensorList& t, const TensorList&, const TensorList&) {
             return TensorList{sum_to_shape(t[0], shape)};
           });
  }
  return out;
}

}  // namespace tgx::autograd
