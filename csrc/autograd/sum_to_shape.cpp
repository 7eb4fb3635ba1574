// The engine's un-broadcast: ops::sum_to_shape (reduce) for the values, recorded here so that
// create_graph=True can differentiate it again (its vjp broadcasts back; its jvp sums again).
#include "autograd/node.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace tgx::autograd {

namespace {
Tensor expand_to(const Tensor& x, const Shape& shape) {
  if (x->shape == shape) return x;
  return ops::binary(BinaryOp::Add, x, zeros_like_meta({shape, x->dtype}));  // recorded
}
}  // namespace

Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
  if (g->shape == shape) return g;
  Tensor out;
  {
    GradModeGuard no_grad(false);
    FwGradDisabledGuard pause;
    out = ops::sum_to_shape(g, shape);
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
