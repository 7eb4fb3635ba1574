// Reverse mode in four steps, all iterative (a 100,000-op chain needs no recursion):
//   1. discover the nodes reachable from the roots (depth-first, explicit stack, post-order);
//   2. mark the nodes on a path to something that needs a grad (all of them for backward());
//   3. count, for each needed node, the needed nodes that feed it a gradient;
//   4. run nodes whose count reached zero (newest first), summing grads that arrive by several
//      paths, un-broadcasting each grad to its input's shape, freeing saved tensors as we go.
#include "autograd/engine.h"

#include <queue>
#include <unordered_map>

#include "ops/elementwise.h"

namespace tgx::autograd {
namespace {

struct Capture {
  Node* node;
  uint32_t nr;
  size_t index;  // position in `inputs`
};

// The grad `g` produced for input k of node n, at that input's shape and dtype.
Tensor validate(Tensor g, const TensorMeta& m, const Node& n, size_t k) {
  if (g->shape != m.shape) g = sum_to_shape(g, m.shape);
  if (g->dtype != m.dtype) {
    TGX_CHECK(is_floating(g->dtype), RuntimeError, "[", n.name(), "] returned a gradient of dtype ",
              g->dtype, " for input ", k, " of dtype ", m.dtype);
    g = ops::to_dtype(g, m.dtype);
  }
  return g;
}

void add_into(Tensor& slot, Tensor g) {
  if (!slot) slot = std::move(g);
  else slot = ops::binary(BinaryOp::Add, slot, g);
}

bool is_accumulate(const Node* n) { return dynamic_cast<const AccumulateGrad*>(n) != nullptr; }

TensorList run_engine(const TensorList& roots, const TensorList& grad_roots,
                      const TensorList& inputs, bool keep_graph, bool create_graph,
                      bool allow_unused, bool accumulate_into_inputs) {
  TGX_CHECK(roots.size() == grad_roots.size(), RuntimeError, "got ", grad_roots.size(),
            " gradients for ", roots.size(), " tensors");
  TGX_CHECK(!roots.empty(), RuntimeError, "backward() needs at least one tensor");
  // 1. roots and their grads
  std::vector<Edge> root_edges;
  TensorList root_grads;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    Edge e = gradient_edge(r);
    TGX_CHECK(e.valid(), RuntimeError, "element ", i,
              " of tensors does not require grad and does not have a grad_fn");
    Tensor g = grad_roots[i];
    if (!g) {
      TGX_CHECK(r->numel() == 1, RuntimeError,
                "grad can be implicitly created only for scalar outputs (got a tensor of shape ",
                r->shape, ")");
      g = ones_like(r);
    } else {
      TGX_CHECK(g->shape == r->shape, RuntimeError, "Mismatch in shape: grad_output[", i,
                "] has a shape of ", g->shape, " and output[", i, "] has a shape of ", r->shape, ".");
      if (g->dtype != r->dtype) g = ops::to_dtype(g, r->dtype);
    }
    root_edges.push_back(std::move(e));
    root_grads.push_back(std::move(g));
  }
  std::vector<Capture> captures;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Edge e = gradient_edge(inputs[i]);
    TGX_CHECK(e.valid(), RuntimeError, "One of the differentiated Tensors (input ", i,
              ") does not require grad");
    captures.push_back({e.node.get(), e.input_nr, i});
  }
  bool capture_mode = !inputs.empty();

  // 2. discovery, post-order (children before parents)
  std::unordered_map<Node*, int> index;
  std::vector<std::shared_ptr<Node>> nodes;
  auto add = [&](const std::shared_ptr<Node>& n) {
    auto [it, fresh] = index.emplace(n.get(), int(nodes.size()));
    if (fresh) nodes.push_back(n);
    return fresh;
  };
  std::vector<int> post;
  std::vector<std::pair<int, size_t>> stack;  // (node, next edge to look at)
  for (const Edge& e : root_edges)
    if (add(e.node)) stack.push_back({int(nodes.size()) - 1, 0});
  while (!stack.empty()) {
    auto [i, k] = stack.back();
    Node* n = nodes[i].get();
    if (k < n->next_edges.size()) {
      stack.back().second++;
      const std::shared_ptr<Node>& c = n->next_edges[k].node;
      if (c && add(c)) stack.push_back({int(nodes.size()) - 1, 0});
    } else {
      post.push_back(i);
      stack.pop_back();
    }
  }
  size_t N = nodes.size();
  std::vector<char> is_target(N, 0), needed(N, 0), exec(N, 0);
  for (const Capture& c : captures) {
    auto it = index.find(c.node);
    if (it != index.end()) is_target[it->second] = 1;
  }
  for (int i : post) {
    Node* n = nodes[i].get();
    bool child = false;
    for (const Edge& e : n->next_edges)
      if (e.node && needed[index[e.node.get()]]) child = true;
    if (!capture_mode) {
      needed[i] = exec[i] = 1;
    } else {
      needed[i] = is_target[i] || child;
      exec[i] = child && !is_accumulate(n);
    }
  }
  // 3. dependencies
  std::vector<int> deps(N, 0);
  for (size_t i = 0; i < N; ++i) {
    if (!exec[i]) continue;
    for (const Edge& e : nodes[i]->next_edges)
      if (e.node) {
        int j = index[e.node.get()];
        if (needed[j]) deps[j]++;
      }
  }
  std::vector<TensorList> buffers(N);
  for (size_t i = 0; i < N; ++i) buffers[i].resize(std::max<size_t>(nodes[i]->num_outputs(), 1));
  GradModeGuard mode(create_graph);
  for (size_t r = 0; r < root_edges.size(); ++r) {
    int i = index[root_edges[r].node.get()];
    TensorList& buf = buffers[i];
    if (root_edges[r].input_nr >= buf.size()) buf.resize(root_edges[r].input_nr + 1);
    add_into(buf[root_edges[r].input_nr], root_grads[r]);
  }

  // 4. execution, newest node first among the ready ones
  std::priority_queue<std::pair<uint64_t, int>> ready;
  for (const Edge& e : root_edges) {
    int i = index[e.node.get()];
    if (deps[i] == 0 && needed[i]) {
      deps[i] = -1;  // queued once
      ready.push({nodes[i]->sequence_nr, i});
    }
  }
  TensorList captured(inputs.size());
  while (!ready.empty()) {
    int i = ready.top().second;
    ready.pop();
    Node* n = nodes[i].get();
    TensorList grads = std::move(buffers[i]);
    if (!n->tensor_hooks.empty()) {
      auto hooks = n->tensor_hooks;  // a hook may remove itself
      for (auto& h : hooks)
        if (h.output_nr < grads.size() && grads[h.output_nr])
          if (Tensor r = h.fn(grads[h.output_nr])) grads[h.output_nr] = r;
    }
    for (auto& [nr, weak] : n->retains_grad)
      if (Tensor t = weak.lock())
        if (nr < grads.size() && grads[nr]) accumulate_grad(t, grads[nr]);
    if (is_target[i]) {
      for (const Capture& c : captures) {
        if (c.node != n || c.nr >= grads.size()) continue;
        Tensor g = grads[c.nr];
        if (g && is_accumulate(n))
          if (Tensor var = static_cast<AccumulateGrad*>(n)->variable.lock()) g = run_leaf_hooks(var, g);
        captured[c.index] = g;
      }
    }
    if (!exec[i]) continue;
    bool any = false;
    for (const Tensor& g : grads) any = any || bool(g);
    TensorList outs;
    if (any) {
      std::vector<bool> wanted(n->next_edges.size(), false);
      for (size_t k = 0; k < wanted.size(); ++k)
        if (const auto& c = n->next_edges[k].node) wanted[k] = needed[index[c.get()]] != 0;
      outs = n->apply_pruned(std::move(grads), wanted);
    }
    if (!keep_graph) n->release_variables();
    for (size_t k = 0; k < n->next_edges.size(); ++k) {
      const Edge& e = n->next_edges[k];
      if (!e.node) continue;
      int j = index[e.node.get()];
      if (!needed[j]) continue;
      if (k < outs.size() && outs[k]) {
        Tensor g = validate(std::move(outs[k]), n->input_meta[k], *n, k);
        TensorList& buf = buffers[j];
        if (e.input_nr >= buf.size()) buf.resize(e.input_nr + 1);
        add_into(buf[e.input_nr], std::move(g));
      }
      if (--deps[j] == 0) ready.push({nodes[j]->sequence_nr, j});
    }
  }
  if (accumulate_into_inputs) {
    for (size_t k = 0; k < inputs.size(); ++k)
      if (captured[k]) accumulate_grad(inputs[k], captured[k]);
    return {};
  }
  for (size_t k = 0; k < inputs.size(); ++k)
    TGX_CHECK(captured[k] || allow_unused, RuntimeError,
              "One of the differentiated Tensors appears to not have been used in the graph. "
              "Set allow_unused=True if this is the desired behavior.");
  return captured;
}

}  // namespace

void backward(const TensorList& roots, const TensorList& grad_roots, bool keep_graph,
              bool create_graph, const TensorList& inputs) {
  run_engine(roots, grad_roots, inputs, keep_graph, create_graph, true, true);
}

TensorList grad(const TensorList& roots, const TensorList& grad_roots, const TensorList& inputs,
                bool keep_graph, bool create_graph, bool allow_unused) {
  TGX_CHECK(!inputs.empty(), RuntimeError, "grad requires at least one input");
  return run_engine(roots, grad_roots, inputs, keep_graph, create_graph, allow_unused, false);
}

}  // namespace tgx::autograd
