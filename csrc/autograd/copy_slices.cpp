// In-place writes through views (PyTorch's CopySlices). A view shares its base's storage, so
// writing into the view changes the base: the base's history is rebased onto a CopySlices node
// (grad of the old base = grad with the view's region zeroed; grad of the written value = the
// grad's region), and the view's history becomes an as_strided view of the base's new history.
// Other views of the base notice (view_gen) and rebuild their history the same way on next use.
// The region of the base a view covers is given by the view's (shape, strides, offset) over the
// shared storage, so no chain of view functions has to be replayed.
#include <utility>

#include "autograd/node.h"
#include "ops/elementwise.h"

namespace tgx::autograd {
namespace {

struct Geometry {
  Shape shape, strides;
  int64_t offset = 0;
};
Geometry geometry(const Tensor& t) { return {t->shape, t->strides, t->offset}; }

struct NoAD {
  GradModeGuard grad{false};
  FwGradDisabledGuard fw;
};

// A scratch buffer laid out like the base (same strides and relative offsets): returns the
// base-shaped alias and the view-shaped alias into it.
std::pair<Tensor, Tensor> scratch(const Geometry& b, const Geometry& v, DType dt, bool zero) {
  int64_t lo = b.offset, hi = b.offset;
  bool is_empty = false;
  for (size_t d = 0; d < b.shape.size(); ++d) {
    if (b.shape[d] == 0) is_empty = true;
    int64_t ext = (b.shape[d] - 1) * b.strides[d];
    if (ext < 0) lo += ext;
    else hi += ext;
  }
  if (is_empty) lo = hi = b.offset;
  Tensor flat = empty(Shape{hi - lo + 1}, dt);
  if (zero) ops::fill_(flat, Scalar::from_int(0));
  return {make_view(flat, b.shape, b.strides, b.offset - lo),
          make_view(flat, v.shape, v.strides, is_empty ? 0 : v.offset - lo)};
}

Tensor region(const Tensor& g, const Geometry& b, const Geometry& v);
Tensor scatter(const Tensor& g, const Geometry& b, const Geometry& v);

// g (base-shaped) -> the elements the view covers, view-shaped. Recorded: vjp = scatter.
Tensor region(const Tensor& g, const Geometry& b, const Geometry& v) {
  Tensor out;
  {
    NoAD off;
    auto [sb, sv] = scratch(b, v, g->dtype, false);
    ops::copy_(sb, g);
    out = sv;
    out->view_base.reset();  // a fresh result, not a view anyone writes through
  }
  if (needs_record({&g}))
    record("AsStridedBackward0", {g}, {out}, {},
        [b, v](const TensorList& gr, const TensorList&, const std::vector<bool>&) {
          return TensorList{scatter(gr[0], b, v)};
        },
        [b, v](const TensorList& t, const TensorList&, const TensorList&) {
          return TensorList{region(t[0], b, v)};
        });
  return out;
}

// g (view-shaped) -> base-shaped zeros holding g in the view's region. Recorded: vjp = region.
Tensor scatter(const Tensor& g, const Geometry& b, const Geometry& v) {
  Tensor out;
  {
    NoAD off;
    auto [sb, sv] = scratch(b, v, g->dtype, true);
    ops::copy_(sv, g);
    out = sb;
    out->view_base.reset();
  }
  if (needs_record({&g}))
    record("AsStridedScatterBackward0", {g}, {out}, {},
        [b, v](const TensorList& gr, const TensorList&, const std::vector<bool>&) {
          return TensorList{region(gr[0], b, v)};
        },
        [b, v](const TensorList& t, const TensorList&, const TensorList&) {
          return TensorList{scatter(t[0], b, v)};
        });
  return out;
}

// 1 outside the view's region, 0 inside (base-shaped, no history).
Tensor outside_mask(const Geometry& b, const Geometry& v, DType dt) {
  NoAD off;
  auto [sb, sv] = scratch(b, v, dt, false);
  ops::fill_(sb, Scalar::from_int(1));
  ops::fill_(sv, Scalar::from_int(0));
  sb->view_base.reset();
  return sb;
}

// A node making `view` an as_strided view of `base`'s current history.
void set_view_history(const Tensor& view, const Tensor& base) {
  Geometry b = geometry(base), v = geometry(view);
  auto node = std::make_shared<FnNode>();
  node->name_ = "AsStridedBackward0";
  node->vjp = [b, v](const TensorList& g, const TensorList&, const std::vector<bool>&) {
    return TensorList{scatter(g[0], b, v)};
  };
  collect_edges(*node, {base});
  set_history({view}, node);
}

}  // namespace

void regenerate_view_history(const Tensor& view) {
  const Tensor& base = view->view_base;
  view->view_gen = base->view_gen;
  if (base->storage != view->storage) {  // the base's .data was replaced: no longer a view
    view->view_base.reset();
    return;
  }
  if (!base->requires_grad() || !is_floating(view->dtype)) return;
  set_view_history(view, base);
}

void rebase_view_inplace(const Tensor& view, const Tensor& result, const char* op) {
  Tensor base = view->view_base;
  bool rec = grad_enabled() && (result->requires_grad() || base->requires_grad());
  bool fw = fw_level_id() >= 0 && (fw_grad(result) || fw_grad(base));
  if (!rec && !fw) return;
  for (size_t d = 0; d < view->shape.size(); ++d)
    TGX_CHECK(!(view->strides[d] == 0 && view->shape[d] > 1), RuntimeError, "[", op,
              "] unsupported operation: more than one element of the written-to tensor refers to "
              "a single memory location. Please clone() the tensor before performing the operation.");
  // The old base: an alias carrying the base's history and tangent as they were.
  Tensor old = detach(base);
  Edge e = gradient_edge(base);
  if (e.valid() && grad_enabled()) {
    AutogradMeta& m = old->meta();
    m.requires_grad = true;
    m.grad_fn = e.node;
    m.output_nr = e.input_nr;
  }
  if (Tensor t = fw_grad(base)) set_fw_grad(old, t);
  Geometry b = geometry(base), v = geometry(view);
  DType dt = base->dtype;
  record("CopySlices", {old, result}, {base}, {},
      [b, v, dt](const TensorList& g, const TensorList&, const std::vector<bool>& needs) {
        Tensor g_old, g_res;
        if (needs[0]) g_old = ops::binary(BinaryOp::Mul, g[0], outside_mask(b, v, dt));
        if (needs[1]) g_res = region(g[0], b, v);
        return TensorList{g_old, g_res};
      },
      [b, v, dt](const TensorList& t, const TensorList&, const TensorList&) {
        Tensor out;
        if (t[0]) out = ops::binary(BinaryOp::Mul, t[0], outside_mask(b, v, dt));
        if (t[1]) {
          Tensor s = scatter(t[1], b, v);
          out = out ? ops::binary(BinaryOp::Add, out, s) : s;
        }
        return TensorList{out};
      });
  if (rec) {
    base->view_gen++;
    view->view_gen = base->view_gen;
    set_view_history(view, base);
  }
  if (fw_level_id() >= 0 && view->autograd) {
    Tensor t = fw_grad(result);
    if (t) set_fw_grad(view, t);
    else view->autograd->fw_grad.reset();
  }
}

}  // namespace tgx::autograd
