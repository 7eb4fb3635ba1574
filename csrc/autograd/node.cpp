#include "autograd/node.h"

#include <algorithm>
#include <atomic>

#include "ops/elementwise.h"

namespace tgx::autograd {

// ---- iterative graph destruction -----------------------------------------------------------
// Dropping the last reference to a long chain would recurse once per node (Node -> Edge -> Node
// ...). Nodes whose last owner goes away are queued here and destroyed by a loop instead.
namespace {
thread_local std::vector<std::shared_ptr<Node>> t_pending;
thread_local bool t_draining = false;
std::atomic<uint64_t> g_sequence_nr{0};
std::atomic<int64_t> g_hook_id{0};

void release_node(std::shared_ptr<Node>&& n) {
  if (!n) return;
  if (n.use_count() > 1) {
    n.reset();
    return;
  }
  t_pending.push_back(std::move(n));
  if (t_draining) return;
  t_draining = true;
  while (!t_pending.empty()) {
    std::shared_ptr<Node> p = std::move(t_pending.back());
    t_pending.pop_back();
    p.reset();
  }
  t_draining = false;
}
}  // namespace

int64_t next_hook_id() { return ++g_hook_id; }

uint64_t next_sequence_nr() { return g_sequence_nr++; }
void release_node_deferred(std::shared_ptr<Node>&& n) { release_node(std::move(n)); }

// ---- saved tensors ---------------------------------------------------------------------------
SavedTensor::SavedTensor(const Tensor& t, bool is_output) {
  if (!t) return;
  was_defined_ = true;
  is_output_ = is_output;
  version_ = t->version();
  data_ = detach(t);
  requires_grad_ = t->requires_grad();
  if (requires_grad_) {
    if (is_output) {
      output_nr_ = t->autograd->output_nr;
    } else {
      Edge e = gradient_edge(t);
      grad_fn_ = std::move(e.node);
      output_nr_ = e.input_nr;
    }
  }
}

SavedTensor::~SavedTensor() { release_node(std::move(grad_fn_)); }

void SavedTensor::release() {
  data_.reset();
  release_node(std::move(grad_fn_));
  released_ = true;
}

Tensor SavedTensor::unpack(const std::shared_ptr<Node>& owner) const {
  if (!was_defined_) return nullptr;
  TGX_CHECK(!released_, RuntimeError,
            "Trying to backward through the graph a second time (or directly access saved tensors "
            "after they have already been freed). Saved intermediate values of the graph are freed "
            "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
            "backward through the graph a second time or if you need to access saved tensors after "
            "calling backward.");
  if (data_->version() != version_) {
    std::string which = is_output_ && owner ? str(", which is output ", output_nr_, " of ", owner->name(), ",") : "";
    throw RuntimeError(str("one of the variables needed for gradient computation has been modified by "
                           "an inplace operation: [", dtype_name(data_->dtype), " tensor of shape ",
                           data_->shape, "]", which, " is at version ", data_->version(),
                           "; expected version ", version_, " instead. Hint: the operation that "
                           "failed to compute its gradient saved this tensor; avoid modifying it in "
                           "place (or clone() it first)."));
  }
  Tensor t = detach(data_);
  if (requires_grad_) {
    AutogradMeta& m = t->meta();
    m.requires_grad = true;
    m.grad_fn = is_output_ ? owner : grad_fn_;
    m.output_nr = output_nr_;
  }
  return t;
}

// ---- nodes -------------------------------------------------------------------------------------
AccumulateGrad::AccumulateGrad(const Tensor& leaf) : variable(leaf) {
  input_meta.push_back({leaf->shape, leaf->dtype});
  output_meta.push_back({leaf->shape, leaf->dtype});
}

TensorList AccumulateGrad::apply(TensorList&& grads) {
  Tensor var = variable.lock();
  if (!var || grads.empty() || !grads[0]) return {};
  Tensor g = run_leaf_hooks(var, std::move(grads[0]));
  if (g) accumulate_grad(var, std::move(g));
  return {};
}

TensorList FnNode::apply(TensorList&& grads) {
  return apply_pruned(std::move(grads), std::vector<bool>(next_edges.size(), true));
}

TensorList FnNode::apply_pruned(TensorList&& grads, const std::vector<bool>& wanted) {
  std::shared_ptr<Node> self = shared_from_this();
  TensorList sv;
  sv.reserve(saved.size());
  for (const SavedTensor& s : saved) sv.push_back(s.unpack(self));
  for (size_t i = 0; i < grads.size() && i < output_meta.size(); ++i)
    if (!grads[i]) grads[i] = zeros_like_meta(output_meta[i]);
  std::vector<bool> needs(next_edges.size());
  for (size_t i = 0; i < needs.size(); ++i) needs[i] = next_edges[i].valid() && wanted[i];
  return vjp(grads, sv, needs);
}

void FnNode::release_variables() {
  for (SavedTensor& s : saved) s.release();
  released = true;
}

// ---- recording ------------------------------------------------------------------------------
bool any_requires_grad(const TensorList& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs) {
    if (t) sync_view(t);
    if (t && t->requires_grad()) return true;
  }
  return false;
}

bool any_fw_grad(const TensorList& inputs) {
  for (const Tensor& t : inputs)
    if (t && fw_grad(t)) return true;
  return false;
}

bool needs_record(std::initializer_list<const Tensor*> inputs) {
  bool ge = grad_enabled(), fw = fw_active();
  if (!ge && !fw) return false;
  for (const Tensor* t : inputs) {
    if (!t || !*t) continue;
    sync_view(*t);
    if (!(*t)->autograd) continue;
    if (ge && (*t)->autograd->requires_grad) return true;
    if (fw && fw_grad(*t)) return true;
  }
  return false;
}

bool needs_record(const TensorList& inputs) {
  bool ge = grad_enabled(), fw = fw_active();
  if (!ge && !fw) return false;
  for (const Tensor& t : inputs) {
    if (!t) continue;
    sync_view(t);
    if (!t->autograd) continue;
    if (ge && t->autograd->requires_grad) return true;
    if (fw && fw_grad(t)) return true;
  }
  return false;
}

std::shared_ptr<Node> grad_accumulator(const Tensor& leaf) {
  AutogradMeta& m = leaf->meta();
  std::shared_ptr<Node> acc = m.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(leaf);
    m.grad_accumulator = acc;
  }
  return acc;
}

Edge gradient_edge(const Tensor& t) {
  if (t) sync_view(t);
  if (!t || !t->requires_grad()) return {};
  if (t->autograd->grad_fn) return {t->autograd->grad_fn, t->autograd->output_nr};
  return {grad_accumulator(t), 0};
}

void collect_edges(Node& node, const TensorList& inputs) {
  node.next_edges.reserve(inputs.size());
  node.input_meta.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    node.next_edges.push_back(gradient_edge(t));
    if (t) node.input_meta.push_back({t->shape, t->dtype});
    else node.input_meta.push_back({});
  }
}

void set_history(const TensorList& outputs, const std::shared_ptr<Node>& node) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    node->output_meta.push_back({t->shape, t->dtype});
    if (!is_floating(t->dtype)) continue;
    AutogradMeta& m = t->meta();
    m.requires_grad = true;
    m.grad_fn = node;
    m.output_nr = uint32_t(i);
  }
}

void record(const char* name, const TensorList& inputs, const TensorList& outputs,
            const TensorList& to_save, VjpFn vjp, JvpFn jvp) {
  if (any_requires_grad(inputs)) {
    auto node = std::make_shared<FnNode>();
    node->name_ = name;
    node->vjp = std::move(vjp);
    collect_edges(*node, inputs);
    set_history(outputs, node);
    node->saved.reserve(to_save.size());
    for (const Tensor& t : to_save) {
      bool is_out = t && std::any_of(outputs.begin(), outputs.end(),
                                     [&](const Tensor& o) { return o.get() == t.get(); });
      node->saved.emplace_back(t, is_out);
    }
  }
  if (fw_active() && any_fw_grad(inputs)) {
    TGX_CHECK(bool(jvp), NotImplementedError, "[", name,
              "] forward-mode AD (jvp) is not implemented for this op");
    TensorList tangents;
    tangents.reserve(inputs.size());
    for (const Tensor& t : inputs) tangents.push_back(t ? fw_grad(t) : nullptr);
    TensorList out_t;
    {
      FwGradDisabledGuard pause;
      out_t = jvp(tangents, inputs, outputs);
    }
    for (size_t i = 0; i < outputs.size() && i < out_t.size(); ++i)
      if (out_t[i] && is_floating(outputs[i]->dtype)) set_fw_grad(outputs[i], out_t[i]);
  }
}

// ---- in-place ------------------------------------------------------------------------------
bool is_leaf(const Tensor& t) {
  sync_view(t);
  return !t->autograd || !t->autograd->grad_fn;
}

void check_inplace(const Tensor& self, const char* op) {
  if (!grad_enabled()) return;
  TGX_CHECK(!(self->requires_grad() && is_leaf(self)), RuntimeError, "[", op,
            "] a leaf Variable that requires grad is being used in an in-place operation.");
  const Tensor& b = self->view_base;
  TGX_CHECK(!(b && b->storage == self->storage && b->requires_grad() && is_leaf(b)), RuntimeError,
            "[", op, "] a view of a leaf Variable that requires grad is being used in an in-place "
            "operation.");
}

Tensor inplace_rebase(const Tensor& self, const char* op,
                      const std::function<Tensor(const Tensor&)>& compute) {
  check_inplace(self, op);
  Tensor snap;
  {
    GradModeGuard no_grad(false);
    FwGradDisabledGuard pause;
    snap = ops::clone(self);
  }
  snap->is_wrapped_number = self->is_wrapped_number;
  Edge e = gradient_edge(self);
  if (e.valid()) {
    AutogradMeta& m = snap->meta();
    m.requires_grad = true;
    m.grad_fn = e.node;
    m.output_nr = e.input_nr;
  }
  if (Tensor t = fw_grad(self)) set_fw_grad(snap, t);
  Tensor r = compute(snap);
  TGX_CHECK(dtype_category(r->dtype) <= dtype_category(self->dtype), TypeError, "[", op,
            "] result type ", r->dtype, " can't be cast to the desired output type ", self->dtype);
  if (r->dtype != self->dtype) r = ops::to_dtype(r, self->dtype);
  TGX_CHECK(r->shape == self->shape, ValueError, "[", op, "] output with shape ", self->shape,
            " doesn't match the broadcast shape ", r->shape);
  {
    GradModeGuard no_grad(false);
    FwGradDisabledGuard pause;
    ops::copy_(self, r);  // bumps the version
  }
  if (self->view_base && self->view_base->storage == self->storage) {
    rebase_view_inplace(self, r, op);
    return self;
  }
  if (r->requires_grad() && grad_enabled()) self->view_gen++;  // views of self: history changed
  if (r->requires_grad()) {
    AutogradMeta& m = self->meta();
    m.requires_grad = true;
    m.grad_fn = r->autograd->grad_fn;
    m.output_nr = r->autograd->output_nr;
  }
  if (fw_level_id() >= 0 && self->autograd) {
    Tensor t = fw_grad(r);
    if (t) set_fw_grad(self, t);
    else self->autograd->fw_grad.reset();
  }
  return self;
}

// ---- tensors ---------------------------------------------------------------------------------
Tensor detach(const Tensor& t) {
  Tensor v = make_view(t, t->shape, t->strides, t->offset);
  v->view_base.reset();  // not a differentiable view: in-place writes leave t's history alone
  v->is_wrapped_number = t->is_wrapped_number;
  return v;
}

Tensor zeros_like_meta(const TensorMeta& m) {
  Tensor z = empty(m.shape, m.dtype);
  ops::fill_(z, Scalar::from_int(0));
  return z;
}
Tensor zeros_like(const Tensor& t) { return zeros_like_meta({t->shape, t->dtype}); }
Tensor ones_like(const Tensor& t) {
  Tensor z = empty(t->shape, t->dtype);
  ops::fill_(z, Scalar::from_int(1));
  return z;
}

Tensor fw_grad(const Tensor& t) {
  if (!t->autograd || !t->autograd->fw_grad) return nullptr;
  int64_t id = fw_level_id();
  if (id < 0 || t->autograd->fw_level != id) {
    t->autograd->fw_grad.reset();  // stale: its level has exited
    return nullptr;
  }
  return t->autograd->fw_grad;
}

void set_fw_grad(const Tensor& t, const Tensor& tangent) {
  int64_t id = fw_level_id();
  TGX_CHECK(id >= 0, RuntimeError, "[forward_ad] no dual level is active (use forward_ad.dual_level())");
  Tensor tg = tangent;
  {
    FwGradDisabledGuard pause;
    if (tg->shape != t->shape) tg = ops::binary(BinaryOp::Add, tg, zeros_like_meta({t->shape, tg->dtype}));
    if (tg->dtype != t->dtype) tg = ops::to_dtype(tg, t->dtype);
  }
  AutogradMeta& m = t->meta();
  m.fw_grad = tg;
  m.fw_level = id;
}

// ---- accumulation ------------------------------------------------------------------------------
Tensor run_leaf_hooks(const Tensor& leaf, Tensor grad) {
  if (!leaf->autograd || leaf->autograd->hooks.empty()) return grad;
  auto hooks = leaf->autograd->hooks;  // a hook may remove itself
  for (auto& [id, fn] : hooks) {
    Tensor r = fn(grad);
    if (r) grad = r;
  }
  return grad;
}

void accumulate_grad(const Tensor& var, const Tensor& g) {
  AutogradMeta& m = var->meta();
  if (!m.grad) {
    bool stealable = g.use_count() == 1 && g->storage.use_count() == 1 && !g->autograd &&
                     g->is_contiguous();
    if (grad_enabled() || stealable) {
      m.grad = g;
    } else {
      GradModeGuard no_grad(false);
      m.grad = ops::clone(g);
    }
  } else if (!grad_enabled()) {
    ops::binary(BinaryOp::Add, m.grad, g, m.grad);
  } else {
    m.grad = ops::binary(BinaryOp::Add, m.grad, g);
  }
}

}  // namespace tgx::autograd

namespace tgx {
Node::Node() : sequence_nr(autograd::next_sequence_nr()) {}

Node::~Node() {
  for (autograd::Edge& e : next_edges) autograd::release_node_deferred(std::move(e.node));
}
}  // namespace tgx
