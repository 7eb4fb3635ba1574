// Elementwise ops as functions (tinygrad_ext.add), methods (t.add, t.add_) and operators.
#include <iterator>
#include <limits>
#include <utility>

#include "bindings/common.h"
#include "bindings/fastcall.h"

namespace tgx::bind {
namespace {

struct BinarySpec {
  const char* name;
  BinaryOp op;
  const char* dunder;   // "__add__" or nullptr
  const char* rdunder;  // "__radd__"
  const char* idunder;  // "__iadd__"
  const char* doc;
};

const BinarySpec kBinary[] = {
    {"add", BinaryOp::Add, "__add__", "__radd__", "__iadd__", "input + alpha * other, broadcasting."},
    {"sub", BinaryOp::Sub, "__sub__", "__rsub__", "__isub__", "input - alpha * other, broadcasting."},
    {"mul", BinaryOp::Mul, "__mul__", "__rmul__", "__imul__", "Elementwise product, broadcasting."},
    {"div", BinaryOp::Div, "__truediv__", "__rtruediv__", "__itruediv__", "True division (integers give float32)."},
    {"floor_divide", BinaryOp::FloorDiv, "__floordiv__", "__rfloordiv__", "__ifloordiv__", "Division rounded toward -inf (Python's //)."},
    {"remainder", BinaryOp::Rem, "__mod__", "__rmod__", "__imod__", "Python's modulus: the result has the sign of the divisor."},
    {"pow", BinaryOp::Pow, "__pow__", "__rpow__", "__ipow__", "input ** exponent, broadcasting."},
    {"maximum", BinaryOp::Maximum, nullptr, nullptr, nullptr, "Elementwise maximum (nan propagates)."},
    {"minimum", BinaryOp::Minimum, nullptr, nullptr, nullptr, "Elementwise minimum (nan propagates)."},
    {"atan2", BinaryOp::Atan2, nullptr, nullptr, nullptr, "Elementwise atan2(input, other)."},
    {"eq", BinaryOp::Eq, "__eq__", nullptr, nullptr, "input == other (bool)."},
    {"ne", BinaryOp::Ne, "__ne__", nullptr, nullptr, "input != other (bool)."},
    {"lt", BinaryOp::Lt, "__lt__", "__gt__", nullptr, "input < other (bool)."},
    {"le", BinaryOp::Le, "__le__", "__ge__", nullptr, "input <= other (bool)."},
    {"gt", BinaryOp::Gt, "__gt__", "__lt__", nullptr, "input > other (bool)."},
    {"ge", BinaryOp::Ge, "__ge__", "__le__", nullptr, "input >= other (bool)."},
    {"logical_and", BinaryOp::LogicalAnd, nullptr, nullptr, nullptr, "Elementwise logical and (bool)."},
    {"logical_or", BinaryOp::LogicalOr, nullptr, nullptr, nullptr, "Elementwise logical or (bool)."},
    {"logical_xor", BinaryOp::LogicalXor, nullptr, nullptr, nullptr, "Elementwise logical xor (bool)."},
    {"bitwise_and", BinaryOp::BitAnd, "__and__", "__rand__", "__iand__", "Bitwise and (integers, bool)."},
    {"bitwise_or", BinaryOp::BitOr, "__or__", "__ror__", "__ior__", "Bitwise or (integers, bool)."},
    {"bitwise_xor", BinaryOp::BitXor, "__xor__", "__rxor__", "__ixor__", "Bitwise xor (integers, bool)."},
};

const std::pair<const char*, const char*> kBinaryAliases[] = {
    {"subtract", "sub"}, {"multiply", "mul"}, {"divide", "div"}, {"true_divide", "div"},
    {"greater", "gt"}, {"greater_equal", "ge"}, {"less", "lt"}, {"less_equal", "le"},
    {"not_equal", "ne"}, {"float_power", "pow"},
};

struct UnarySpec {
  const char* name;
  UnaryOp op;
  const char* dunder;
  const char* doc;
};

const UnarySpec kUnary[] = {
    {"neg", UnaryOp::Neg, "__neg__", "-input."},
    {"abs", UnaryOp::Abs, "__abs__", "|input|."},
    {"sign", UnaryOp::Sign, nullptr, "-1, 0 or 1 by the sign of input."},
    {"exp", UnaryOp::Exp, nullptr, "e ** input."},
    {"exp2", UnaryOp::Exp2, nullptr, "2 ** input."},
    {"expm1", UnaryOp::Expm1, nullptr, "exp(input) - 1, accurate near 0."},
    {"log", UnaryOp::Log, nullptr, "Natural logarithm."},
    {"log2", UnaryOp::Log2, nullptr, "Base-2 logarithm."},
    {"log10", UnaryOp::Log10, nullptr, "Base-10 logarithm."},
    {"log1p", UnaryOp::Log1p, nullptr, "log(1 + input), accurate near 0."},
    {"sqrt", UnaryOp::Sqrt, nullptr, "Square root."},
    {"rsqrt", UnaryOp::Rsqrt, nullptr, "1 / sqrt(input)."},
    {"reciprocal", UnaryOp::Reciprocal, nullptr, "1 / input."},
    {"square", UnaryOp::Square, nullptr, "input * input."},
    {"sin", UnaryOp::Sin, nullptr, "Sine."},
    {"cos", UnaryOp::Cos, nullptr, "Cosine."},
    {"tan", UnaryOp::Tan, nullptr, "Tangent."},
    {"asin", UnaryOp::Asin, nullptr, "Arcsine."},
    {"acos", UnaryOp::Acos, nullptr, "Arccosine."},
    {"atan", UnaryOp::Atan, nullptr, "Arctangent."},
    {"sinh", UnaryOp::Sinh, nullptr, "Hyperbolic sine."},
    {"cosh", UnaryOp::Cosh, nullptr, "Hyperbolic cosine."},
    {"tanh", UnaryOp::Tanh, nullptr, "Hyperbolic tangent."},
    {"sigmoid", UnaryOp::Sigmoid, nullptr, "1 / (1 + exp(-input))."},
    {"relu", UnaryOp::Relu, nullptr, "max(input, 0)."},
    {"erf", UnaryOp::Erf, nullptr, "Gauss error function."},
    {"floor", UnaryOp::Floor, nullptr, "Round toward -inf."},
    {"ceil", UnaryOp::Ceil, nullptr, "Round toward +inf."},
    {"round", UnaryOp::Round, nullptr, "Round half to even."},
    {"trunc", UnaryOp::Trunc, nullptr, "Round toward zero."},
    {"bitwise_not", UnaryOp::BitNot, "__invert__", "Bitwise not (logical not for bool)."},
    {"isnan", UnaryOp::IsNan, nullptr, "True where input is nan."},
    {"isinf", UnaryOp::IsInf, nullptr, "True where input is +-inf."},
    {"isfinite", UnaryOp::IsFinite, nullptr, "True where input is neither inf nor nan."},
    {"logical_not", UnaryOp::LogicalNot, nullptr, "True where input is zero."},
};

const std::pair<const char*, const char*> kUnaryAliases[] = {
    {"negative", "neg"}, {"absolute", "abs"}, {"fix", "trunc"}, {"arcsin", "asin"},
    {"arccos", "acos"}, {"arctan", "atan"},
};

// other * alpha for add/sub's alpha argument (PyTorch's signature).
Tensor scaled(const Tensor& other, py::handle alpha) {
  Scalar s;
  TGX_CHECK(scalar_from_py(alpha, s), TypeError, "[add] alpha must be a number");
  if ((s.kind == Scalar::Int || s.kind == Scalar::Bool) && s.i == 1) return other;
  if (s.kind == Scalar::Float) {
    TGX_CHECK(is_floating(other->dtype) || other->is_wrapped_number, TypeError,
              "[add] a float alpha needs a floating-point tensor, got ", other->dtype);
  }
  return ops::binary(BinaryOp::Mul, other, ops::scalar_tensor(s));
}

Tensor optional_out(py::handle out) {
  if (out.is_none()) return nullptr;
  TGX_CHECK(py::isinstance<TensorImpl>(out), TypeError, "out must be a Tensor");
  return out.cast<Tensor>();
}

int64_t work_of(const Tensor& a, const Tensor& b) { return std::max(a->numel(), b->numel()); }

// isinstance(h, Tensor) without pybind11's type-registry lookup on every call.
bool is_tensor(py::handle h) {
  static PyTypeObject* type = reinterpret_cast<PyTypeObject*>(py::type::of<TensorImpl>().ptr());
  return Py_TYPE(h.ptr()) == type || PyType_IsSubtype(Py_TYPE(h.ptr()), type);
}

// Operators return NotImplemented for operand types they cannot take, as Python expects.
// A Python number next to a float tensor is stored in that tensor's dtype at once.
bool convert_operand(const Tensor& self, py::handle h, Tensor& out, const char* name) {
  if (is_tensor(h)) { out = h.cast<Tensor>(); return true; }
  Scalar s;
  if (scalar_from_py(h, s)) { out = ops::wrapped_scalar_like(s, self); return true; }
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h) || py::isinstance<py::array>(h)) {
    out = to_tensor_arg(h, name);
    return true;
  }
  return false;
}

// The hottest operators also go straight into the Tensor type's number slots: Python then calls
// them without looking up __add__/__radd__, binding a method and running pybind11's overload
// dispatcher. Same behaviour as the bound dunders (which stay, for explicit calls): Python calls
// the slot for `t + x` and for `x + t` alike, so the slot works out which side the tensor is on.
// The Tensor inside a Python Tensor object, by reference (no shared_ptr copy); valid while the
// object is; null if its C++ part was never constructed.
const Tensor* held_tensor(PyObject* o) {
  auto vh = reinterpret_cast<py::detail::instance*>(o)->get_value_and_holder();
  return vh.holder_constructed() ? &vh.holder<Tensor>() : nullptr;
}

// `self` of a method bound with a py::handle first argument: checked, then held by reference.
const Tensor& self_tensor(py::handle h) {
  const Tensor* t = is_tensor(h) ? held_tensor(h.ptr()) : nullptr;
  TGX_CHECK(t, TypeError, "expected a Tensor as self, got ",
            std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  return *t;
}

template <BinaryOp op>
PyObject* number_slot(PyObject* a, PyObject* b) {
  return translate_exceptions([&]() -> PyObject* {
    bool forward = is_tensor(a);
    PyObject* oh = forward ? b : a;
    const Tensor* self = held_tensor(forward ? a : b);
    const Tensor* other = is_tensor(oh) ? held_tensor(oh) : nullptr;
    Tensor converted;
    if (!self || (!other && is_tensor(oh))) Py_RETURN_NOTIMPLEMENTED;
    if (!other) {
      if (!convert_operand(*self, oh, converted, ops::binary_name(op))) Py_RETURN_NOTIMPLEMENTED;
      other = &converted;
    }
    Tensor r = maybe_nogil(work_of(*self, *other), [&] {
      return forward ? ops::binary(op, *self, *other) : ops::binary(op, *other, *self);
    });
    return tensor_object(r).release().ptr();
  });
}

// The module functions tgx.add(input, other, *, alpha, out), tgx.mul(input, other, *, out), ...
// and tgx.exp(input, *, out), ... on the fast calling convention (see fastcall.h); f.tag is the
// row of kBinary / kUnary.
// An operand of a fast function: the held Tensor when it is one (no caster, no shared_ptr
// copy), else converted into `slot`.
const Tensor& operand(PyObject* h, Tensor& slot, const char* name) {
  if (const Tensor* t = is_tensor(h) ? held_tensor(h) : nullptr) return *t;
  return slot = to_tensor_arg(h, name);
}

// The result as a Python object; `out` itself when the op wrote into it.
py::object result_object(Tensor r, PyObject* out_obj, const Tensor* out) {
  if (out && r.get() == out->get()) return py::reinterpret_borrow<py::object>(out_obj);
  return tensor_object(r);
}

const Tensor* out_arg(PyObject* h) {
  if (h == Py_None) return nullptr;
  const Tensor* t = is_tensor(h) ? held_tensor(h) : nullptr;
  TGX_CHECK(t, TypeError, "out must be a Tensor");
  return t;
}

py::object binary_function(const FastFunction& f, PyObject* const* args) {
  const BinarySpec& spec = kBinary[f.tag];
  const bool has_alpha = f.params.size() == 4;
  Tensor xs, ys;
  const Tensor& x = operand(args[0], xs, spec.name);
  const Tensor* y = &operand(args[1], ys, spec.name);
  if (has_alpha && args[2] != Py_None) ys = scaled(*y, args[2]), y = &ys;
  PyObject* out_obj = args[has_alpha ? 3 : 2];
  const Tensor* o = out_arg(out_obj);
  Tensor r = maybe_nogil(work_of(x, *y), [&] { return ops::binary(spec.op, x, *y, o ? *o : nullptr); });
  return result_object(std::move(r), out_obj, o);
}

py::object unary_function(const FastFunction& f, PyObject* const* args) {
  const UnarySpec& spec = kUnary[f.tag];
  const Tensor* a = is_tensor(args[0]) ? held_tensor(args[0]) : nullptr;
  TGX_CHECK(a, TypeError, spec.name, "(): argument 'input' (position 1) must be Tensor, not ",
            std::string(py::str(py::type::handle_of(args[0]).attr("__name__"))));
  const Tensor* o = out_arg(args[1]);
  Tensor r = maybe_nogil((*a)->numel(), [&] { return ops::unary(spec.op, *a, o ? *o : nullptr); });
  return result_object(std::move(r), args[1], o);
}

// t.exp(), t.relu(), ...: method descriptors on the fast calling convention as well, one
// function per row of kUnary (a method descriptor carries no data of its own).
template <size_t Row>
PyObject* unary_method(PyObject* self, PyObject* const*, Py_ssize_t nargs) {
  return translate_exceptions([&] {
    TGX_CHECK(nargs == 0, TypeError, kUnary[Row].name, "() takes no arguments (", nargs, " given)");
    const Tensor& a = self_tensor(self);
    return tensor_object(maybe_nogil(a->numel(), [&] { return ops::unary(kUnary[Row].op, a); })).release().ptr();
  });
}

template <size_t... Row>
void install_unary_methods(TensorClass& cls, std::index_sequence<Row...>) {
  static PyMethodDef defs[] = {{kUnary[Row].name,
                                reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&unary_method<Row>)),
                                METH_FASTCALL, kUnary[Row].doc}...};
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  for (PyMethodDef& d : defs) {
    py::object descr = py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, &d));
    if (!descr) throw py::error_already_set();
    cls.attr(d.ml_name) = descr;
  }
}

// Must run after the dunders are defined: setting __add__ on the type resets nb_add.
void install_number_slots(TensorClass& cls) {
  PyNumberMethods* nb = reinterpret_cast<PyTypeObject*>(cls.ptr())->tp_as_number;
  nb->nb_add = number_slot<BinaryOp::Add>;
  nb->nb_subtract = number_slot<BinaryOp::Sub>;
  nb->nb_multiply = number_slot<BinaryOp::Mul>;
  nb->nb_true_divide = number_slot<BinaryOp::Div>;
}

}  // namespace

void init_elementwise(py::module_& m) {
  TensorClass cls = tensor_class(m);
  for (const BinarySpec& spec : kBinary) {
    BinaryOp op = spec.op;
    const char* name = spec.name;
    bool has_alpha = op == BinaryOp::Add || op == BinaryOp::Sub;
    auto fn = [op, name, has_alpha](py::handle a, py::handle b, py::handle alpha, py::handle out) {
      Tensor x = to_tensor_arg(a, name), y = to_tensor_arg(b, name);
      if (has_alpha && !alpha.is_none()) y = scaled(y, alpha);
      Tensor o = optional_out(out);
      return maybe_nogil(work_of(x, y), [&] { return ops::binary(op, x, y, o); });
    };
    const int row = int(&spec - kBinary);
    if (has_alpha) {
      def_fast(m, name, {"input", "other", "alpha", "out"}, 2, 2, binary_function, row, spec.doc);
      cls.def(name, [fn](const Tensor& self, py::handle other, py::handle alpha) {
        return fn(py::cast(self), other, alpha, py::none());
      }, py::arg("other"), py::kw_only(), py::arg("alpha") = py::none(), spec.doc);
    } else {
      def_fast(m, name, {"input", "other", "out"}, 2, 2, binary_function, row, spec.doc);
      cls.def(name, [op, name](const Tensor& self, py::handle other) {
        Tensor y = to_tensor_arg(other, name);
        return maybe_nogil(work_of(self, y), [&] { return ops::binary(op, self, y); });
      }, py::arg("other"), spec.doc);
    }
    cls.def((std::string(name) + "_").c_str(), [op, name, has_alpha](const Tensor& self, py::handle other, py::handle alpha) {
      Tensor y = to_tensor_arg(other, name);
      if (has_alpha && !alpha.is_none()) y = scaled(y, alpha);
      return maybe_nogil(work_of(self, y), [&] { return ops::binary_(op, self, y); });
    }, py::arg("other"), py::kw_only(), py::arg("alpha") = py::none(), "In-place form.");

    auto convert = [name](const Tensor& self, py::handle h, Tensor& out) {
      return convert_operand(self, h, out, name);
    };
    if (spec.dunder) {
      cls.def(spec.dunder, [op, convert](const Tensor& self, py::handle other) -> py::object {
        Tensor y;
        if (!convert(self, other, y)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
        return py::cast(maybe_nogil(work_of(self, y), [&] { return ops::binary(op, self, y); }));
      }, py::is_operator());
    }
    if (spec.rdunder) {
      // Comparisons reflect to the mirrored comparison with swapped operands: a < t  ->  t > a.
      bool is_cmp = op >= BinaryOp::Lt && op <= BinaryOp::Ge;
      cls.def(spec.rdunder, [op, convert, is_cmp](const Tensor& self, py::handle other) -> py::object {
        Tensor y;
        if (!convert(self, other, y)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
        BinaryOp rop = op;
        if (is_cmp) {
          rop = op == BinaryOp::Lt ? BinaryOp::Gt : op == BinaryOp::Le ? BinaryOp::Ge
              : op == BinaryOp::Gt ? BinaryOp::Lt : BinaryOp::Le;
          return py::cast(maybe_nogil(work_of(self, y), [&] { return ops::binary(rop, self, y); }));
        }
        return py::cast(maybe_nogil(work_of(self, y), [&] { return ops::binary(op, y, self); }));
      }, py::is_operator());
    }
    if (spec.idunder) {
      cls.def(spec.idunder, [op, convert](const Tensor& self, py::handle other) -> py::object {
        Tensor y;
        if (!convert(self, other, y)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
        return py::cast(maybe_nogil(work_of(self, y), [&] { return ops::binary_(op, self, y); }));
      }, py::is_operator());
    }
  }
  install_number_slots(cls);
  cls.attr("__hash__") = py::module_::import("builtins").attr("object").attr("__hash__");
  for (auto& [alias, target] : kBinaryAliases) {
    m.attr(alias) = m.attr(target);
    cls.attr(alias) = cls.attr(target);
  }

  for (const UnarySpec& spec : kUnary) {
    UnaryOp op = spec.op;
    def_fast(m, spec.name, {"input", "out"}, 1, 1, unary_function, int(&spec - kUnary), spec.doc);
    cls.def((std::string(spec.name) + "_").c_str(), [op](const Tensor& a) {
      return maybe_nogil(a->numel(), [&] { return ops::unary_(op, a); });
    }, "In-place form.");
    if (spec.dunder)
      cls.def(spec.dunder, [op](py::handle self) { return ops::unary(op, self_tensor(self)); });
  }
  install_unary_methods(cls, std::make_index_sequence<std::size(kUnary)>{});
  for (auto& [alias, target] : kUnaryAliases) {
    m.attr(alias) = m.attr(target);
    cls.attr(alias) = cls.attr(target);
  }
  cls.def("__pos__", [](const Tensor& a) { return a; });

  // ---- where / lerp / clamp / nan_to_num ----
  m.def("where", [](const Tensor& cond, py::handle a, py::handle b) {
    Tensor x = to_tensor_arg(a, "where"), y = to_tensor_arg(b, "where");
    return maybe_nogil(cond->numel(), [&] { return ops::where(cond, x, y); });
  }, py::arg("condition").none(false), py::arg("input"), py::arg("other"),
     "Elements of input where condition holds, else of other.");
  cls.def("where", [](const Tensor& self, const Tensor& cond, py::handle b) {
    return ops::where(cond, self, to_tensor_arg(b, "where"));
  }, py::arg("condition").none(false), py::arg("other"));
  auto lerp = [](const Tensor& a, py::handle end, py::handle w) {
    Tensor e = to_tensor_arg(end, "lerp"), wt = to_tensor_arg(w, "lerp");
    return maybe_nogil(a->numel(), [&] { return ops::lerp(a, e, wt); });
  };
  m.def("lerp", lerp, py::arg("input").none(false), py::arg("end"), py::arg("weight"),
        "input + weight * (end - input).");
  cls.def("lerp", lerp, py::arg("end"), py::arg("weight"));
  auto clamp = [](const Tensor& x, py::handle lo, py::handle hi, py::handle out) {
    Tensor l = lo.is_none() ? nullptr : to_tensor_arg(lo, "clamp");
    Tensor h = hi.is_none() ? nullptr : to_tensor_arg(hi, "clamp");
    Tensor o = optional_out(out);
    return maybe_nogil(x->numel(), [&] { return ops::clamp(x, l, h, o); });
  };
  for (const char* name : {"clamp", "clip"}) {
    m.def(name, clamp, py::arg("input").none(false), py::arg("min") = py::none(),
          py::arg("max") = py::none(), py::kw_only(), py::arg("out") = py::none(),
          "Limit input to [min, max]; either bound may be a number or a tensor.");
    cls.def(name, [clamp](const Tensor& x, py::handle lo, py::handle hi) {
      return clamp(x, lo, hi, py::none());
    }, py::arg("min") = py::none(), py::arg("max") = py::none());
    cls.def((std::string(name) + "_").c_str(), [clamp](const Tensor& x, py::handle lo, py::handle hi) {
      return clamp(x, lo, hi, py::cast(x));
    }, py::arg("min") = py::none(), py::arg("max") = py::none());
  }
  auto nan_to_num = [](const Tensor& x, double nan, py::object posinf, py::object neginf) {
    double hi = x->dtype == DType::Float64 ? std::numeric_limits<double>::max()
                                           : double(std::numeric_limits<float>::max());
    return ops::nan_to_num(x, nan, posinf.is_none() ? hi : posinf.cast<double>(),
                           neginf.is_none() ? -hi : neginf.cast<double>());
  };
  m.def("nan_to_num", nan_to_num, py::arg("input").none(false), py::arg("nan") = 0.0,
        py::arg("posinf") = py::none(), py::arg("neginf") = py::none(),
        "Replace nan, +inf and -inf by finite numbers.");
  cls.def("nan_to_num", nan_to_num, py::arg("nan") = 0.0, py::arg("posinf") = py::none(),
          py::arg("neginf") = py::none());
}

}  // namespace tgx::bind
