// Autograd bindings: Tensor.requires_grad/grad/grad_fn/backward..., grad_fn objects, grad mode,
// forward-mode duals, and the custom Function node (the one place the engine calls Python).
#include <sstream>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "bindings/common.h"

namespace tgx::bind {
namespace {
namespace ag = tgx::autograd;
using ag::TensorList;

// A Python object kept alive by C++ structures; released with the GIL held.
using PyRef = std::shared_ptr<py::object>;
PyRef py_ref(py::object o) {
  return PyRef(new py::object(std::move(o)), [](py::object* p) {
    if (!Py_IsInitialized()) {
      p->release();  // interpreter is gone: leak rather than crash
    } else {
      py::gil_scoped_acquire gil;
      delete p;
    }
  });
}

std::function<Tensor(const Tensor&)> py_hook(py::function fn) {
  PyRef f = py_ref(std::move(fn));
  return [f](const Tensor& g) -> Tensor {
    py::gil_scoped_acquire gil;
    py::object r = (*f)(g);
    if (r.is_none()) return nullptr;
    TGX_CHECK(py::isinstance<TensorImpl>(r), TypeError, "[register_hook] a hook must return a Tensor or None, got ",
              std::string(py::str(py::type::handle_of(r).attr("__name__"))));
    return r.cast<Tensor>();
  };
}

// Tensors (or None) from a Python sequence.
TensorList tensor_list(py::handle seq, const char* op, bool allow_none) {
  TensorList out;
  for (py::handle h : seq) {
    if (h.is_none()) {
      TGX_CHECK(allow_none, TypeError, "[", op, "] expected a Tensor, got None");
      out.push_back(nullptr);
    } else {
      out.push_back(to_tensor_arg(h, op));
    }
  }
  return out;
}

py::object tensor_or_none(const Tensor& t) { return t ? py::cast(t) : py::none(); }

struct HookHandle {
  std::weak_ptr<TensorImpl> leaf;
  std::weak_ptr<ag::Node> node;
  int64_t id;
  void remove() {
    if (auto t = leaf.lock()) {
      auto& hs = t->meta().hooks;
      hs.erase(std::remove_if(hs.begin(), hs.end(), [&](auto& h) { return h.first == id; }), hs.end());
    }
    if (auto n = node.lock()) {
      auto& hs = n->tensor_hooks;
      hs.erase(std::remove_if(hs.begin(), hs.end(), [&](auto& h) { return h.id == id; }), hs.end());
    }
  }
};

// ---- custom autograd.Function ---------------------------------------------------------------
struct PyNode : ag::Node {
  PyRef ctx, backward_fn;
  std::string name_;
  std::vector<ag::SavedTensor> saved;
  bool materialize = true;
  size_t num_args = 0;

  std::string name() const override { return name_; }
  void release_variables() override {
    for (auto& s : saved) s.release();
    released = true;
  }
  TensorList apply(TensorList&& grads) override {
    py::gil_scoped_acquire gil;
    std::shared_ptr<Node> self = shared_from_this();
    py::tuple unpacked(saved.size());
    for (size_t i = 0; i < saved.size(); ++i) unpacked[i] = tensor_or_none(saved[i].unpack(self));
    py::tuple gargs(grads.size() + 1);
    gargs[0] = *ctx;
    for (size_t i = 0; i < grads.size(); ++i) {
      Tensor g = grads[i];
      if (!g && materialize && i < output_meta.size()) g = ag::zeros_like_meta(output_meta[i]);
      gargs[i + 1] = tensor_or_none(g);
    }
    ctx->attr("_unpacked") = unpacked;
    py::object res;
    try {
      res = (*backward_fn)(*gargs);
    } catch (...) {
      ctx->attr("_unpacked") = py::none();
      throw;
    }
    ctx->attr("_unpacked") = py::none();
    py::tuple rt = py::isinstance<py::tuple>(res) ? py::reinterpret_borrow<py::tuple>(res) : py::make_tuple(res);
    size_t got = rt.size();
    while (got > num_args && rt[got - 1].is_none()) --got;
    TGX_CHECK(got == num_args, RuntimeError, "function ", name_,
              " returned an incorrect number of gradients (expected ", num_args, ", got ", rt.size(), ")");
    TensorList out(num_args);
    for (size_t i = 0; i < num_args; ++i) {
      py::handle h = rt[i];
      if (h.is_none()) continue;
      TGX_CHECK(py::isinstance<TensorImpl>(h), TypeError, "function ", name_,
                " returned a gradient that is not a Tensor or None at position ", i);
      if (next_edges[i].valid()) out[i] = h.cast<Tensor>();
    }
    return out;
  }
};

// Called by Function.apply after forward (which ran under no_grad): records the node.
py::object function_apply(py::object cls, py::object ctx, py::tuple args, py::object outputs) {
  TensorList inputs;
  for (py::handle a : args) inputs.push_back(py::isinstance<TensorImpl>(a) ? a.cast<Tensor>() : nullptr);
  bool is_tuple = py::isinstance<py::tuple>(outputs);
  py::list outs = is_tuple ? py::list(outputs) : py::list(py::make_tuple(outputs));
  // An input returned as is becomes an alias, so its history is not overwritten.
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!py::isinstance<TensorImpl>(outs[i])) continue;
    Tensor t = outs[i].cast<Tensor>();
    for (const Tensor& in : inputs)
      if (in && in.get() == t.get()) outs[i] = py::cast(ag::detach(t));
  }
  std::vector<const TensorImpl*> non_diff;
  for (py::handle h : ctx.attr("_non_differentiable"))
    if (py::isinstance<TensorImpl>(h)) non_diff.push_back(h.cast<Tensor>().get());
  if (ag::any_requires_grad(inputs)) {
    auto node = std::make_shared<PyNode>();
    node->name_ = std::string(py::str(cls.attr("__name__"))) + "Backward";
    node->ctx = py_ref(ctx);
    node->backward_fn = py_ref(cls.attr("backward"));
    node->materialize = ctx.attr("_materialize_grads").cast<bool>();
    node->num_args = inputs.size();
    ag::collect_edges(*node, inputs);
    TensorList out_tensors;
    for (size_t i = 0; i < outs.size(); ++i) {
      if (!py::isinstance<TensorImpl>(outs[i])) {
        node->output_meta.push_back({});
        continue;
      }
      Tensor t = outs[i].cast<Tensor>();
      out_tensors.push_back(t);
      node->output_meta.push_back({t->shape, t->dtype});
      bool nd = std::find(non_diff.begin(), non_diff.end(), t.get()) != non_diff.end();
      if (nd || !is_floating(t->dtype)) continue;
      AutogradMeta& m = t->meta();
      m.requires_grad = true;
      m.grad_fn = node;
      m.output_nr = uint32_t(i);
    }
    py::object to_save = ctx.attr("_to_save");
    if (!to_save.is_none()) {
      for (py::handle h : to_save) {
        Tensor t = h.is_none() ? nullptr : h.cast<Tensor>();
        bool is_out = t && std::any_of(out_tensors.begin(), out_tensors.end(),
                                       [&](const Tensor& o) { return o.get() == t.get(); });
        node->saved.emplace_back(t, is_out);
      }
    }
    ctx.attr("_to_save") = py::none();  // the node holds them now (no cycle through ctx)
    ctx.attr("_has_node") = true;
  }
  return is_tuple ? py::object(py::tuple(outs)) : py::object(outs[0]);
}

std::string node_repr(const ag::Node& n) {
  std::ostringstream os;
  os << "<" << n.name() << " object at " << static_cast<const void*>(&n) << ">";
  return os.str();
}

}  // namespace

void init_autograd(py::module_& m) {
  TensorClass cls = tensor_class(m);

  py::class_<ag::Node, std::shared_ptr<ag::Node>>(m, "Node", "A node of the autograd graph (a tensor's grad_fn).")
      .def("name", &ag::Node::name)
      .def_property_readonly("next_functions", [](const ag::Node& n) {
        py::tuple t(n.next_edges.size());
        for (size_t i = 0; i < n.next_edges.size(); ++i) {
          const ag::Edge& e = n.next_edges[i];
          t[i] = py::make_tuple(e.node ? py::cast(e.node) : py::none(), e.input_nr);
        }
        return t;
      })
      .def_property_readonly("variable", [](const ag::Node& n) -> py::object {
        auto* acc = dynamic_cast<const ag::AccumulateGrad*>(&n);
        if (!acc) throw py::attribute_error("'" + n.name() + "' object has no attribute 'variable'");
        return tensor_or_none(acc->variable.lock());
      })
      .def_property_readonly("_sequence_nr", [](const ag::Node& n) { return n.sequence_nr; })
      .def_property_readonly("_input_metadata", [](const ag::Node& n) {
        py::list l;
        for (auto& mt : n.input_meta) l.append(py::make_tuple(py::tuple(py::cast(mt.shape)), mt.dtype));
        return l;
      })
      .def_property_readonly("_output_metadata", [](const ag::Node& n) {
        py::list l;
        for (auto& mt : n.output_meta) l.append(py::make_tuple(py::tuple(py::cast(mt.shape)), mt.dtype));
        return l;
      })
      .def("register_prehook", [](ag::Node& n, py::function fn) {
        int64_t id = ag::next_hook_id();
        n.tensor_hooks.push_back({id, 0, py_hook(std::move(fn))});
        return id;
      })
      .def("__repr__", &node_repr);

  py::class_<HookHandle>(m, "RemovableHandle", "Returned by register_hook; call remove() to unregister.")
      .def("remove", &HookHandle::remove)
      .def_readonly("id", &HookHandle::id);

  cls.def_property("requires_grad", [](const Tensor& t) {
        ag::sync_view(t);
        return t->requires_grad();
      },
      [](const Tensor& t, bool v) {
        if (!ag::is_leaf(t)) {
          TGX_CHECK(v, RuntimeError, "you can only change requires_grad flags of leaf variables. If you "
                    "want to use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().");
          return;
        }
        TGX_CHECK(!v || is_floating(t->dtype), RuntimeError,
                  "only Tensors of floating point dtype can require gradients (got ", t->dtype, ")");
        if (v || t->autograd) t->meta().requires_grad = v;
      });
  cls.def("requires_grad_", [](const Tensor& t, bool v) {
    py::cast(t).attr("requires_grad") = v;
    return t;
  }, py::arg("requires_grad") = true, "Sets requires_grad in place (leaves only); returns self.");
  cls.def_property("grad", [](const Tensor& t) -> py::object {
        if (t->autograd && !ag::is_leaf(t) && !t->autograd->retains_grad && !t->autograd->grad) {
          PyErr_WarnEx(PyExc_UserWarning, "The .grad attribute of a Tensor that is not a leaf Tensor is "
                       "being accessed. Its .grad attribute won't be populated during autograd.backward(). "
                       "If you indeed want the .grad field to be populated for a non-leaf Tensor, use "
                       ".retain_grad() on the non-leaf Tensor.", 1);
        }
        return tensor_or_none(t->autograd ? t->autograd->grad : nullptr);
      },
      [](const Tensor& t, py::object g) {
        if (g.is_none()) {
          if (t->autograd) t->autograd->grad = nullptr;
          return;
        }
        TGX_CHECK(py::isinstance<TensorImpl>(g), TypeError, "assigned grad expected to be a Tensor or None");
        Tensor gt = g.cast<Tensor>();
        TGX_CHECK(gt->shape == t->shape, RuntimeError, "assigned grad has data of a different size (",
                  gt->shape, " vs ", t->shape, ")");
        TGX_CHECK(gt->dtype == t->dtype, RuntimeError, "assigned grad has data of a different type (",
                  gt->dtype, " vs ", t->dtype, ")");
        t->meta().grad = gt;
      });
  cls.def_property_readonly("grad_fn", [](const Tensor& t) -> py::object {
    ag::sync_view(t);
    if (!t->autograd || !t->autograd->grad_fn) return py::none();
    return py::cast(t->autograd->grad_fn);
  });
  cls.def_property_readonly("is_leaf", [](const Tensor& t) { return ag::is_leaf(t); });
  cls.def_property_readonly("output_nr", [](const Tensor& t) { return t->autograd ? t->autograd->output_nr : 0; });
  cls.def("detach", [](const Tensor& t) { return ag::detach(t); },
          "A tensor sharing storage with this one, outside the autograd graph.");
  cls.def("detach_", [](const Tensor& t) {
    t->view_base.reset();  // no longer a differentiable view of anything
    if (t->autograd) {
      t->autograd->grad_fn = nullptr;
      t->autograd->requires_grad = false;
      t->autograd->output_nr = 0;
    }
    return t;
  });
  cls.def_property("data", [](const Tensor& t) { return ag::detach(t); },
      [](const Tensor& t, const Tensor& src) {
        t->storage = src->storage;
        t->shape = src->shape;
        t->strides = src->strides;
        t->offset = src->offset;
        t->dtype = src->dtype;
      });
  cls.def("retain_grad", [](const Tensor& t) {
    TGX_CHECK(t->requires_grad(), RuntimeError, "can't retain_grad on Tensor that has requires_grad=False");
    if (ag::is_leaf(t) || t->autograd->retains_grad) return;
    t->autograd->grad_fn->retains_grad.push_back({t->autograd->output_nr, t});
    t->autograd->retains_grad = true;
  });
  cls.def_property_readonly("retains_grad", [](const Tensor& t) { return t->autograd && t->autograd->retains_grad; });
  cls.def("register_hook", [](const Tensor& t, py::function fn) {
    TGX_CHECK(t->requires_grad(), RuntimeError, "cannot register a hook on a tensor that doesn't require gradient");
    HookHandle h;
    h.id = ag::next_hook_id();
    if (ag::is_leaf(t)) {
      t->meta().hooks.push_back({h.id, py_hook(std::move(fn))});
      h.leaf = t;
    } else {
      t->autograd->grad_fn->tensor_hooks.push_back({h.id, t->autograd->output_nr, py_hook(std::move(fn))});
      h.node = t->autograd->grad_fn;
    }
    return h;
  }, py::arg("hook"), "hook(grad) -> Tensor or None runs when the gradient of this tensor is computed.");
  cls.def_property_readonly("_fw_grad_", [](const Tensor& t) { return tensor_or_none(ag::fw_grad(t)); });

  // ---- engine ----
  m.def("_run_backward", [](py::sequence tensors, py::sequence grads, bool keep_graph, bool create_graph,
                            py::sequence inputs) {
    TensorList ts = tensor_list(tensors, "backward", false), gs = tensor_list(grads, "backward", true);
    TensorList ins = tensor_list(inputs, "backward", false);
    ag::backward(ts, gs, keep_graph, create_graph, ins);
  });
  m.def("_run_grad", [](py::sequence outputs, py::sequence grads, py::sequence inputs, bool keep_graph,
                        bool create_graph, bool allow_unused) {
    TensorList os = tensor_list(outputs, "grad", false), gs = tensor_list(grads, "grad", true);
    TensorList ins = tensor_list(inputs, "grad", false);
    TensorList r = ag::grad(os, gs, ins, keep_graph, create_graph, allow_unused);
    py::tuple out(r.size());
    for (size_t i = 0; i < r.size(); ++i) out[i] = tensor_or_none(r[i]);
    return out;
  });

  // ---- grad mode ----
  m.def("is_grad_enabled", &ag::grad_enabled, "True unless inside no_grad() / inference_mode().");
  m.def("_set_grad_enabled", &ag::set_grad_enabled, py::arg("mode"));
  m.def("is_inference_mode_enabled", &ag::inference_mode_enabled);
  m.def("_set_inference_mode", &ag::set_inference_mode, py::arg("mode"));

  // ---- forward mode ----
  m.def("_enter_dual_level", &ag::enter_dual_level);
  m.def("_exit_dual_level", &ag::exit_dual_level, py::arg("level"));
  m.def("_current_dual_level", &ag::fw_level_id);
  m.def("_set_fw_grad_paused", &ag::set_fw_grad_paused, py::arg("paused"));
  m.def("_make_dual", [](const Tensor& primal, const Tensor& tangent) {
    TGX_CHECK(ag::fw_level_id() >= 0, RuntimeError,
              "[make_dual] no dual level is active: use it inside `with forward_ad.dual_level():`");
    TGX_CHECK(is_floating(primal->dtype), RuntimeError,
              "[make_dual] expected a floating point primal, got ", primal->dtype);
    TGX_CHECK(tangent->shape == primal->shape, RuntimeError, "[make_dual] Trying to set a forward gradient "
              "that has a different size than that of the original Tensor, this is not supported. Tensor is "
              "of size ", primal->shape, " while the given forward gradient is of size ", tangent->shape, ".");
    Tensor out = ag::detach(primal);
    ag::FwGradDisabledGuard pause;
    ag::record("AliasBackward0", {primal}, {out}, {},
        [](const TensorList& g, const TensorList&, const std::vector<bool>&) { return TensorList{g[0]}; },
        [](const TensorList& t, const TensorList&, const TensorList&) { return TensorList{t[0]}; });
    ag::set_fw_grad(out, ag::detach(tangent));
    return out;
  }, py::arg("tensor").none(false), py::arg("tangent").none(false));
  m.def("_unpack_dual", [](const Tensor& t) {
    Tensor tangent = ag::fw_grad(t);
    Tensor primal = ag::detach(t);
    if (ag::any_requires_grad({t})) {
      ag::FwGradDisabledGuard pause;
      ag::record("AliasBackward0", {t}, {primal}, {},
          [](const TensorList& g, const TensorList&, const std::vector<bool>&) { return TensorList{g[0]}; });
    }
    if (primal->autograd) primal->autograd->fw_grad = nullptr;
    return py::make_tuple(primal, tensor_or_none(tangent));
  }, py::arg("tensor").none(false));
  m.def("_set_fw_grad", [](const Tensor& t, const Tensor& tangent) { ag::set_fw_grad(t, tangent); });

  // ---- custom Function ----
  m.def("_function_apply", &function_apply);
}

}  // namespace tgx::bind
