// Matrix products: tinygrad_ext.matmul/mm/bmm/dot/... as functions and methods, `@`, einsum.
#include "bindings/common.h"
#include "ops/matmul.h"

namespace tgx::bind {
namespace {

using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);

int64_t work_of(const Tensor& a, const Tensor& b) { return std::max(a->numel(), b->numel()); }

Scalar scalar_arg(py::handle h, const char* name, const char* op) {
  Scalar s;
  TGX_CHECK(scalar_from_py(h, s), TypeError, "[", op, "] ", name, " must be a number");
  return s;
}

std::vector<int64_t> int_list(py::handle h, const char* op) {
  std::vector<int64_t> out;
  if (py::isinstance<py::int_>(h)) return {h.cast<int64_t>()};
  TGX_CHECK(py::isinstance<py::sequence>(h) && !py::isinstance<py::str>(h), TypeError, "[", op,
            "] dims must be an int or a pair of lists of ints");
  for (py::handle x : py::reinterpret_borrow<py::sequence>(h)) {
    TGX_CHECK(py::isinstance<py::int_>(x), TypeError, "[", op, "] dims must contain ints");
    out.push_back(x.cast<int64_t>());
  }
  return out;
}

Tensor tensordot_py(const Tensor& a, const Tensor& b, py::handle dims) {
  if (py::isinstance<py::int_>(dims)) {
    return maybe_nogil(work_of(a, b), [&] { return ops::tensordot(a, b, dims.cast<int64_t>()); });
  }
  TGX_CHECK(py::isinstance<py::sequence>(dims) && py::len(dims) == 2, TypeError,
            "[tensordot] dims must be an int or a pair of lists of ints");
  auto seq = py::reinterpret_borrow<py::sequence>(dims);
  std::vector<int64_t> da = int_list(seq[0], "tensordot"), db = int_list(seq[1], "tensordot");
  return maybe_nogil(work_of(a, b), [&] { return ops::tensordot(a, b, da, db); });
}

Tensor einsum_py(const std::string& eq, py::args args) {
  py::sequence items = args;
  if (args.size() == 1 && (py::isinstance<py::list>(args[0]) || py::isinstance<py::tuple>(args[0])))
    items = py::reinterpret_borrow<py::sequence>(args[0]);
  std::vector<Tensor> ops;
  int64_t work = 0;
  for (py::handle h : items) {
    ops.push_back(to_tensor_arg(h, "einsum"));
    work = std::max(work, ops.back()->numel());
  }
  return maybe_nogil(work, [&] { return ops::einsum(eq, ops); });
}

// Test helper: a strided view of t's storage (bounds checked), for non-contiguous inputs.
Tensor strided_view(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset) {
  TGX_CHECK(shape.size() == strides.size(), ValueError,
            "[_strided_view] shape and strides must have the same length");
  for (int64_t s : shape) TGX_CHECK(s >= 0, ValueError, "[_strided_view] negative size");
  TGX_CHECK(view_in_bounds(shape, strides, offset, t->element_size(), t->storage->nbytes),
            ValueError, "[_strided_view] view ", shape, " strides ", strides, " offset ", offset,
            " is out of the storage's bounds");
  return make_view(t, shape, strides, offset);
}

}  // namespace

void init_matmul(py::module_& m) {
  TensorClass cls = tensor_class(m);
  struct Spec {
    const char* name;
    BinaryFn fn;
    const char* doc;
  };
  const Spec specs[] = {
      {"matmul", &ops::matmul, "Matrix product with NumPy semantics (1-D promoted, batch dims broadcast)."},
      {"mm", &ops::mm, "Product of two 2-D matrices."},
      {"bmm", &ops::bmm, "Batched product of two 3-D tensors with equal batch size."},
      {"dot", &ops::dot, "Dot product of two 1-D tensors (0-d result)."},
      {"vdot", &ops::vdot, "Dot product of two 1-D tensors (conjugating the first; real here)."},
      {"mv", &ops::mv, "Matrix (2-D) times vector (1-D)."},
      {"outer", &ops::outer, "Outer product of two 1-D tensors."},
      {"ger", &ops::outer, "Alias of outer."},
      {"inner", &ops::inner, "Inner product over the last dims of both inputs."},
  };
  for (const Spec& s : specs) {
    BinaryFn fn = s.fn;
    const char* name = s.name;
    m.def(name, [fn, name](py::handle a, py::handle b) {
      Tensor x = to_tensor_arg(a, name), y = to_tensor_arg(b, name);
      return maybe_nogil(work_of(x, y), [&] { return fn(x, y); });
    }, py::arg("input").none(false), py::arg("other").none(false), s.doc);
    cls.def(name, [fn, name](const Tensor& self, py::handle b) {
      Tensor y = to_tensor_arg(b, name);
      return maybe_nogil(work_of(self, y), [&] { return fn(self, y); });
    }, py::arg("other").none(false), s.doc);
  }

  auto convert = [](py::handle h, Tensor& out) {
    if (py::isinstance<TensorImpl>(h)) { out = h.cast<Tensor>(); return true; }
    if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h) || py::isinstance<py::array>(h)) {
      out = to_tensor_arg(h, "matmul");
      return true;
    }
    return false;
  };
  cls.def("__matmul__", [convert](const Tensor& self, py::handle other) -> py::object {
    Tensor y;
    if (!convert(other, y)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    return py::cast(maybe_nogil(work_of(self, y), [&] { return ops::matmul(self, y); }));
  }, py::is_operator());
  cls.def("__rmatmul__", [convert](const Tensor& self, py::handle other) -> py::object {
    Tensor y;
    if (!convert(other, y)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    return py::cast(maybe_nogil(work_of(self, y), [&] { return ops::matmul(y, self); }));
  }, py::is_operator());

  auto addmm = [](const char* op, auto fn) {
    return [op, fn](py::handle input, py::handle a, py::handle b, py::handle beta, py::handle alpha) {
      Tensor x = to_tensor_arg(input, op), y = to_tensor_arg(a, op), z = to_tensor_arg(b, op);
      Scalar be = scalar_arg(beta, "beta", op), al = scalar_arg(alpha, "alpha", op);
      return maybe_nogil(work_of(y, z), [&] { return fn(x, y, z, be, al); });
    };
  };
  m.def("linear", [](py::handle input, py::handle weight, py::handle bias, const std::string& act) {
        Tensor x = to_tensor_arg(input, "linear"), w = to_tensor_arg(weight, "linear");
        Tensor b = bias.is_none() ? nullptr : to_tensor_arg(bias, "linear");
        return maybe_nogil(work_of(x, w), [&] { return ops::linear(x, w, b, act); });
      }, py::arg("input").none(false), py::arg("weight").none(false), py::arg("bias") = py::none(),
      py::arg("activation") = "none",
      "act(input @ weight.T + bias) for 2-D input in one GEMM (bias and relu fused into its "
      "epilogue); F.linear's fast path. activation: 'none' or 'relu'.");
  auto addmm_fn = addmm("addmm", &ops::addmm);
  auto baddbmm_fn = addmm("baddbmm", &ops::baddbmm);
  m.def("addmm", addmm_fn, py::arg("input").none(false), py::arg("mat1").none(false),
        py::arg("mat2").none(false), py::kw_only(), py::arg("beta") = 1, py::arg("alpha") = 1,
        "beta * input + alpha * (mat1 @ mat2).");
  cls.def("addmm", [addmm_fn](py::handle self, py::handle a, py::handle b, py::handle beta,
                              py::handle alpha) { return addmm_fn(self, a, b, beta, alpha); },
          py::arg("mat1").none(false), py::arg("mat2").none(false), py::kw_only(),
          py::arg("beta") = 1, py::arg("alpha") = 1, "beta * self + alpha * (mat1 @ mat2).");
  m.def("baddbmm", baddbmm_fn, py::arg("input").none(false), py::arg("batch1").none(false),
        py::arg("batch2").none(false), py::kw_only(), py::arg("beta") = 1, py::arg("alpha") = 1,
        "beta * input + alpha * bmm(batch1, batch2).");
  cls.def("baddbmm", [baddbmm_fn](py::handle self, py::handle a, py::handle b, py::handle beta,
                                  py::handle alpha) { return baddbmm_fn(self, a, b, beta, alpha); },
          py::arg("batch1").none(false), py::arg("batch2").none(false), py::kw_only(),
          py::arg("beta") = 1, py::arg("alpha") = 1, "beta * self + alpha * bmm(batch1, batch2).");

  m.def("tensordot", [](py::handle a, py::handle b, py::handle dims) {
    return tensordot_py(to_tensor_arg(a, "tensordot"), to_tensor_arg(b, "tensordot"), dims);
  }, py::arg("a").none(false), py::arg("b").none(false), py::arg("dims") = 2,
        "Contracts dims of a with dims of b: an int n (last n of a, first n of b) or two lists.");
  m.def("einsum", &einsum_py, py::arg("equation"),
        "Einstein summation: einsum('ij,jk->ik', a, b); implicit output, '...', repeated "
        "subscripts (diagonals) and any number of operands (contracted left to right).");
  m.def("_strided_view", &strided_view, py::arg("t"), py::arg("shape"), py::arg("strides"),
        py::arg("offset"), "Test helper: a raw strided view of t's storage.");
}

}  // namespace tgx::bind
