// The autograd graph: a Node per recorded op (its vjp), Edges to the nodes of its inputs, and
// SavedTensors checked against in-place modification. Ops record themselves with record().
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/tensor.h"

namespace tgx::autograd {

using TensorList = std::vector<Tensor>;
// Node lives in namespace tgx (core/tensor.h forward-declares it for AutogradMeta::grad_fn).

// Where a gradient goes: input `input_nr` of `node` (= output input_nr of the forward op).
struct Edge {
  std::shared_ptr<Node> node;
  uint32_t input_nr = 0;
  bool valid() const { return bool(node); }
};

struct TensorMeta {
  Shape shape;
  DType dtype = DType::Float32;
};

// A tensor kept for the backward pass. It holds an alias of the data (no autograd meta, so no
// reference cycle through the graph) plus what is needed to rebuild its autograd identity, and
// the storage version at save time, so a later in-place write is detected on unpack.
class SavedTensor {
 public:
  SavedTensor() = default;
  // is_output: t is an output of the node that saves it (the node is passed back on unpack).
  SavedTensor(const Tensor& t, bool is_output);
  SavedTensor(SavedTensor&&) = default;
  SavedTensor& operator=(SavedTensor&&) = default;
  ~SavedTensor();
  // `owner` is the node that saved this tensor; raises RuntimeError if modified or released.
  Tensor unpack(const std::shared_ptr<Node>& owner) const;
  void release();
  bool defined() const { return was_defined_; }

 private:
  Tensor data_;
  std::shared_ptr<Node> grad_fn_;  // inputs only: grad_fn or AccumulateGrad of the tensor
  uint32_t output_nr_ = 0;
  int64_t version_ = 0;
  bool requires_grad_ = false;
  bool is_output_ = false;
  bool was_defined_ = false;
  bool released_ = false;
};

}  // namespace tgx::autograd

namespace tgx {
struct Node : std::enable_shared_from_this<Node> {
  Node();
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  virtual std::string name() const = 0;
  // grads: one per forward output (null where none arrived). Returns one per next edge, at the
  // shape of the forward output or already reduced (the engine sums to the input's shape).
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;
  // apply, told which next edges lead to a wanted gradient (the engine prunes the others, so
  // autograd.grad(y, [x]) computes no weight gradient). By default every edge is computed.
  virtual std::vector<Tensor> apply_pruned(std::vector<Tensor>&& grads, const std::vector<bool>&) {
    return apply(std::move(grads));
  }
  virtual void release_variables() {}

  std::vector<autograd::Edge> next_edges;         // one per forward input
  std::vector<autograd::TensorMeta> input_meta;   // shape/dtype of each forward input (for un-broadcast)
  std::vector<autograd::TensorMeta> output_meta;  // shape/dtype of each forward output (zero grads)
  uint64_t sequence_nr;

  // Hooks of non-leaf tensors: run on the grad of output `output_nr` before apply().
  struct Hook {
    int64_t id;
    uint32_t output_nr;
    std::function<Tensor(const Tensor&)> fn;
  };
  std::vector<Hook> tensor_hooks;
  std::vector<std::pair<uint32_t, std::weak_ptr<TensorImpl>>> retains_grad;  // run after hooks
  bool released = false;  // saved tensors freed (backward ran without retain_graph)

  size_t num_outputs() const { return output_meta.size(); }
  bool needs_input_grad(size_t i) const { return i < next_edges.size() && next_edges[i].valid(); }
};

}  // namespace tgx

namespace tgx::autograd {
using tgx::Node;

// Leaves that require grad get one of these; it writes into .grad. It holds the leaf weakly
// (and the leaf holds it weakly), so create_graph=True leaves no reference cycle.
struct AccumulateGrad : Node {
  std::weak_ptr<TensorImpl> variable;
  explicit AccumulateGrad(const Tensor& leaf);
  std::string name() const override { return "AccumulateGrad"; }
  TensorList apply(TensorList&& grads) override;
};

// vjp(grads, saved, needs_input_grad) -> one grad per input (null = none / zero).
using VjpFn = std::function<TensorList(const TensorList&, const TensorList&, const std::vector<bool>&)>;
// jvp(tangents, inputs, outputs) -> one tangent per output; tangents are null where an input has none.
using JvpFn = std::function<TensorList(const TensorList&, const TensorList&, const TensorList&)>;

// The node every op records: a name, its saved tensors and its vjp as a function.
struct FnNode : Node {
  std::string name_;
  std::vector<SavedTensor> saved;
  VjpFn vjp;
  std::string name() const override { return name_; }
  TensorList apply(TensorList&& grads) override;
  TensorList apply_pruned(TensorList&& grads, const std::vector<bool>& wanted) override;
  void release_variables() override;
};

// ---- recording (call at the end of an op's forward) -------------------------------------------
// True if the op must record: grad mode is on and an input requires grad, or forward AD is
// active and an input carries a tangent. A few flag checks when nothing needs recording.
bool needs_record(std::initializer_list<const Tensor*> inputs);
bool needs_record(const TensorList& inputs);
bool any_requires_grad(const TensorList& inputs);  // grad mode on and some input requires grad

// Records `outputs` as produced from `inputs` (null entries allowed) by a node named `name`
// (PyTorch style: "MulBackward0"). `to_save` may contain inputs and outputs; the vjp receives
// them unpacked in the same order. The jvp (optional) gives output tangents; if an input carries
// a tangent and no jvp is given, NotImplementedError. Integer/bool outputs never require grad.
void record(const char* name, const TensorList& inputs, const TensorList& outputs,
            const TensorList& to_save, VjpFn vjp, JvpFn jvp = nullptr);

// Lower-level pieces (custom nodes): edges from inputs, and outputs pointing at a node.
Edge gradient_edge(const Tensor& t);  // invalid edge if t does not require grad
std::shared_ptr<Node> grad_accumulator(const Tensor& leaf);
void collect_edges(Node& node, const TensorList& inputs);  // next_edges + input_meta
void set_history(const TensorList& outputs, const std::shared_ptr<Node>& node);

// In-place ops: raises for a leaf that requires grad (in grad mode).
void check_inplace(const Tensor& self, const char* op);
// In-place op with autograd: `compute(snapshot)` computes the result out of place from a copy
// of self that carries self's history; the result is written into self (cast to its dtype), the
// version is bumped, and self's history (and tangent) are rebased onto the result's. When self
// is a view, its base's history is rebased instead (a CopySlices node, as PyTorch) and self's
// history becomes an as_strided view of the base's new one (autograd/copy_slices.cpp).
Tensor inplace_rebase(const Tensor& self, const char* op,
                      const std::function<Tensor(const Tensor& snapshot)>& compute);

// ---- views and in-place (autograd/copy_slices.cpp) ----------------------------------------------
// A view whose base's history was rewritten by an in-place op since the view's own history was
// built gets a fresh one: AsStridedBackward0 of the base's current history (PyTorch rebuilds a
// view's grad_fn the same way). Called wherever a tensor's autograd state is read.
void regenerate_view_history(const Tensor& view);
inline void sync_view(const Tensor& t) {
  if (t->view_base && t->view_gen != t->view_base->view_gen) regenerate_view_history(t);
}
// Rewrites base's history after `result` was written into its view `view`: the base's new
// grad_fn is a CopySlices node (grad of the old base: grad with the view's region zeroed; grad
// of result: the grad's region), and the view's grad_fn becomes an as_strided view of it.
void rebase_view_inplace(const Tensor& view, const Tensor& result, const char* op);

// ---- tensors ------------------------------------------------------------------------------------
bool is_leaf(const Tensor& t);
Tensor detach(const Tensor& t);  // alias sharing storage (and version), no autograd
Tensor zeros_like_meta(const TensorMeta& m);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);

// Forward mode: tangent of t at the active level (null if none).
Tensor fw_grad(const Tensor& t);
void set_fw_grad(const Tensor& t, const Tensor& tangent);
bool any_fw_grad(const TensorList& inputs);

// Runs fn(grad) hooks of a leaf; returns the (possibly replaced) grad.
Tensor run_leaf_hooks(const Tensor& leaf, Tensor grad);
// .grad += g (a new tensor the first time; in place afterwards, or out of place in grad mode).
void accumulate_grad(const Tensor& var, const Tensor& g);
int64_t next_hook_id();
uint64_t next_sequence_nr();
// Drops a node reference; the last one is destroyed by a loop, not recursively.
void release_node_deferred(std::shared_ptr<Node>&& n);

// Sums a broadcast gradient back to `shape` (recorded, so it can be differentiated again).
Tensor sum_to_shape(const Tensor& g, const Shape& shape);

}  // namespace tgx::autograd
