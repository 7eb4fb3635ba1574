// The Tensor class itself: dtype objects, construction from Python data, attributes.
#include <cstring>

#include "autograd/node.h"
#include "bindings/common.h"

namespace tgx::bind {

// ---- dtypes -------------------------------------------------------------------------------
// Leaked on purpose: they must outlive the interpreter's teardown of this module.
static PyObject* g_dtypes[kNumDTypes];

py::object dtype_object(DType t) { return py::reinterpret_borrow<py::object>(g_dtypes[int(t)]); }

py::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::Bool: return py::dtype::of<bool>();
    case DType::UInt8: return py::dtype::of<uint8_t>();
    case DType::Int32: return py::dtype::of<int32_t>();
    case DType::Int64: return py::dtype::of<int64_t>();
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
  }
  throw NotImplementedError("[numpy] unknown dtype");
}

DType dtype_from_numpy(const py::dtype& dt) {
  char kind = dt.kind();
  size_t sz = dt.itemsize();
  if (kind == 'b') return DType::Bool;
  if (kind == 'u' && sz == 1) return DType::UInt8;
  if (kind == 'i' && sz == 4) return DType::Int32;
  if (kind == 'i' && sz == 8) return DType::Int64;
  if (kind == 'f' && sz == 4) return DType::Float32;
  if (kind == 'f' && sz == 8) return DType::Float64;
  throw TypeError(str("[dtype] NumPy dtype ", std::string(py::str(dt)),
                      " is not supported (supported: bool, uint8, int32, int64, float32, float64)"));
}

DType dtype_from_py(py::handle h) {
  if (py::isinstance<DTypeObject>(h)) return h.cast<DTypeObject&>().dtype;
  if (py::isinstance<py::str>(h)) {
    std::string s = h.cast<std::string>();
    for (int i = 0; i < kNumDTypes; ++i)
      if (s == dtype_name(DType(i))) return DType(i);
    if (s == "float") return DType::Float32;
    if (s == "double") return DType::Float64;
    if (s == "long") return DType::Int64;
    if (s == "int") return DType::Int32;
    throw TypeError(str("[dtype] unknown dtype name '", s, "'"));
  }
  if (h.ptr() == reinterpret_cast<PyObject*>(&PyBool_Type)) return DType::Bool;
  if (h.ptr() == reinterpret_cast<PyObject*>(&PyLong_Type)) return DType::Int64;
  if (h.ptr() == reinterpret_cast<PyObject*>(&PyFloat_Type)) return DType::Float32;
  if (py::isinstance<py::dtype>(h)) return dtype_from_numpy(h.cast<py::dtype>());
  if (py::hasattr(h, "dtype") && py::isinstance<py::type>(h)) {  // np.float32 and friends
    return dtype_from_numpy(py::dtype::from_args(py::reinterpret_borrow<py::object>(h)));
  }
  throw TypeError(str("[dtype] expected a dtype, got ", std::string(py::str(py::type::handle_of(h)))));
}

// ---- Python values -> tensors -------------------------------------------------------------
bool scalar_from_py(py::handle h, Scalar& out) {
  PyObject* o = h.ptr();
  if (PyBool_Check(o)) { out = Scalar::from_bool(o == Py_True); return true; }
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    TGX_CHECK(!overflow, ValueError, "[tensor] Python int ", std::string(py::str(h)),
              " is too large for int64");
    out = Scalar::from_int(v);
    return true;
  }
  if (PyFloat_Check(o)) { out = Scalar::from_double(PyFloat_AS_DOUBLE(o)); return true; }
  // NumPy scalars (np.float32(1), np.int64(2), np.bool_(True))
  static PyObject* np_generic = py::object(py::module_::import("numpy").attr("generic")).release().ptr();
  if (PyObject_IsInstance(o, np_generic) == 1) {
    char kind = py::reinterpret_borrow<py::object>(h).attr("dtype").cast<py::dtype>().kind();
    if (kind == 'b') { out = Scalar::from_bool(py::cast<bool>(h)); return true; }
    if (kind == 'i' || kind == 'u') { out = Scalar::from_int(py::int_(py::reinterpret_borrow<py::object>(h)).cast<int64_t>()); return true; }
    if (kind == 'f') { out = Scalar::from_double(py::float_(py::reinterpret_borrow<py::object>(h)).cast<double>()); return true; }
  }
  return false;
}

Tensor to_tensor_arg(py::handle h, const char* op) {
  if (py::isinstance<TensorImpl>(h)) return h.cast<Tensor>();
  Scalar s;
  if (scalar_from_py(h, s)) return ops::scalar_tensor(s);
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h) || py::isinstance<py::array>(h))
    return tensor_from_data(h, py::none());
  throw TypeError(str("[", op, "] expected a Tensor or a number, got ",
                      std::string(py::str(py::type::handle_of(h).attr("__name__")))));
}

Tensor tensor_from_data(py::handle data, py::object dtype) {
  py::module_ np = py::module_::import("numpy");
  if (py::isinstance<TensorImpl>(data)) {
    Tensor t = data.cast<Tensor>();
    return ops::to_dtype(t, dtype.is_none() ? t->dtype : dtype_from_py(dtype), true);
  }
  bool from_array = py::isinstance<py::array>(data);
  py::array arr;
  try {
    arr = np.attr("asarray")(data);
  } catch (py::error_already_set& e) {
    throw ValueError(str("[tensor] could not convert data to a tensor: ", e.what()));
  }
  char kind = arr.dtype().kind();
  TGX_CHECK(kind == 'b' || kind == 'i' || kind == 'u' || kind == 'f', TypeError,
            "[tensor] could not convert data of NumPy dtype ", std::string(py::str(arr.dtype())),
            " to a tensor (ragged nested sequences or non-numeric values?)");
  DType target;
  if (!dtype.is_none()) {
    target = dtype_from_py(dtype);
  } else if (kind == 'f') {
    target = (from_array && arr.dtype().itemsize() == 8) ? DType::Float64 : DType::Float32;
  } else if (kind == 'b') {
    target = DType::Bool;
  } else if (kind == 'u' && arr.dtype().itemsize() == 1) {
    target = DType::UInt8;
  } else if (kind == 'i' && arr.dtype().itemsize() == 4 && from_array) {
    target = DType::Int32;
  } else {
    target = DType::Int64;
  }
  // (ascontiguousarray would turn 0-d into 1-d: take the shape from arr.)
  py::array c = np.attr("ascontiguousarray")(arr, numpy_dtype(target));
  Shape shape(arr.shape(), arr.shape() + arr.ndim());
  Tensor t = empty(shape, target);
  if (t->numel()) std::memcpy(t->raw(), c.data(), size_t(t->numel()) * itemsize(target));
  return t;
}

// An int for a shape or dim: Python ints and anything with __index__ (NumPy integers, 0-d
// integer tensors), but not bools or floats.
static bool index_from_py(py::handle x, int64_t& out) {
  if (PyBool_Check(x.ptr()) || PyFloat_Check(x.ptr()) || !PyIndex_Check(x.ptr())) return false;
  py::object v = py::reinterpret_steal<py::object>(PyNumber_Index(x.ptr()));
  if (!v) throw py::error_already_set();
  int overflow = 0;
  out = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  TGX_CHECK(!overflow, ValueError, "[shape] ", std::string(py::str(v)), " does not fit in int64");
  return true;
}

static std::string type_name(py::handle x) {
  return std::string(py::str(py::type::handle_of(x).attr("__name__")));
}

Shape shape_from_py(py::handle h, const char* op) {
  Shape s;
  int64_t v;
  if (index_from_py(h, v)) {
    s.push_back(v);
  } else if (py::isinstance<py::sequence>(h) && !py::isinstance<py::str>(h)) {
    for (py::handle x : h) {
      TGX_CHECK(index_from_py(x, v), TypeError, "[", op, "] shape entries must be ints, got ",
                type_name(x));
      s.push_back(v);
    }
  } else {
    throw TypeError(str("[", op, "] expected a shape (ints or a sequence of ints), got ", type_name(h)));
  }
  return s;
}

Shape shape_from_args(py::args args, const char* op) {
  int64_t v;
  if (args.size() == 1 && !index_from_py(args[0], v)) return shape_from_py(args[0], op);
  Shape s;
  for (py::handle x : args) {
    TGX_CHECK(index_from_py(x, v), TypeError, "[", op, "] shape entries must be ints, got ", type_name(x));
    s.push_back(v);
  }
  return s;
}

// ---- Tensor -> Python values ----------------------------------------------------------------
static py::object item(const Tensor& t) {
  TGX_CHECK(t->numel() == 1, ValueError, "[item] a Tensor with ", t->numel(),
            " elements cannot be converted to a Python scalar");
  return dispatch(t->dtype, [&](auto tag) -> py::object {
    using T = typename decltype(tag)::type;
    T v = *t->data<T>();
    if constexpr (std::is_same_v<T, bool>) return py::bool_(v);
    else if constexpr (std::is_floating_point_v<T>) return py::float_(double(v));
    else return py::int_(int64_t(v));
  });
}

// numpy(), tolist(), the buffer protocol and DLPack live in interop.cpp.

// int(x) as Python computes it: an exact int even for bools (no int subclass from __int__).
static py::object exact_int(const py::object& v) {
  PyObject* r = PyNumber_Long(v.ptr());
  if (!r) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(r);
}

void init_tensor(py::module_& m) {
  py::class_<DTypeObject>(m, "dtype", "A tensor element type (tinygrad_ext.float32, ...).")
      .def_property_readonly("is_floating_point", [](const DTypeObject& d) { return is_floating(d.dtype); })
      .def_property_readonly("itemsize", [](const DTypeObject& d) { return itemsize(d.dtype); })
      .def_property_readonly("name", [](const DTypeObject& d) { return dtype_name(d.dtype); })
      .def("__repr__", [](const DTypeObject& d) { return str("tinygrad_ext.", dtype_name(d.dtype)); })
      // a string: pickle stores the global tinygrad_ext._C.<name> (modules can't be pickled)
      .def("__reduce__", [](const DTypeObject& d) { return py::str(dtype_name(d.dtype)); });
  for (int i = 0; i < kNumDTypes; ++i) {
    g_dtypes[i] = py::cast(DTypeObject{DType(i)}).release().ptr();
    m.attr(dtype_name(DType(i))) = dtype_object(DType(i));
  }
  m.attr("float") = dtype_object(DType::Float32);
  m.attr("double") = dtype_object(DType::Float64);
  m.attr("long") = dtype_object(DType::Int64);
  m.attr("int") = dtype_object(DType::Int32);
  m.def("promote_types", &promote_types, py::arg("type1"), py::arg("type2"),
        "The smallest dtype both can be cast to.");
  m.def("result_type", [](py::handle a, py::handle b) {
    Tensor x = to_tensor_arg(a, "result_type"), y = to_tensor_arg(b, "result_type");
    return ops::result_type({x.get(), y.get()});
  }, py::arg("tensor1"), py::arg("tensor2"), "The dtype an op on these operands produces.");

  TensorClass cls(m, "Tensor", py::buffer_protocol(), "An n-dimensional array on the C++ core, with autograd.");
  // Tensor(data): an alias of `data` (shared storage, no autograd); lets Python subclass Tensor
  // (nn.Parameter is `class Parameter(Tensor)` and calls this from its __new__/__init__).
  cls.def(py::init([](const Tensor& data) { return tgx::autograd::detach(data); }), py::arg("data").none(false));
  cls.def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(t->shape)); })
      .def_property_readonly("ndim", [](const Tensor& t) { return t->ndim(); })
      .def_property_readonly("dtype", [](const Tensor& t) { return t->dtype; })
      .def_property_readonly("is_cuda", [](const Tensor& t) { return t->device().type == DeviceType::CUDA; })
      .def_property_readonly("_version", [](const Tensor& t) { return t->version(); })
      .def_property_readonly("_storage_offset", [](const Tensor& t) { return t->offset; })
      .def("dim", [](const Tensor& t) { return t->ndim(); })
      .def("numel", [](const Tensor& t) { return t->numel(); })
      .def("nelement", [](const Tensor& t) { return t->numel(); })
      .def("element_size", [](const Tensor& t) { return t->element_size(); })
      .def("storage_offset", [](const Tensor& t) { return t->offset; })
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t->raw()); })
      .def("size", [](const Tensor& t, py::object dim) -> py::object {
        if (dim.is_none()) return py::tuple(py::cast(t->shape));
        int64_t d = wrap_dim(dim.cast<int64_t>(), t->ndim(), "size");
        return py::int_(t->ndim() ? t->shape[d] : 1);
      }, py::arg("dim") = py::none())
      .def("stride", [](const Tensor& t, py::object dim) -> py::object {
        if (dim.is_none()) return py::tuple(py::cast(t->strides));
        int64_t d = wrap_dim(dim.cast<int64_t>(), t->ndim(), "stride");
        return py::int_(t->ndim() ? t->strides[d] : 1);
      }, py::arg("dim") = py::none())
      .def("is_contiguous", [](const Tensor& t) { return t->is_contiguous(); })
      .def("contiguous", [](const Tensor& t) { return maybe_nogil(t->numel(), [&] { return ops::contiguous(t); }); })
      .def("clone", [](const Tensor& t) { return maybe_nogil(t->numel(), [&] { return ops::clone(t); }); })
      .def("is_floating_point", [](const Tensor& t) { return is_floating(t->dtype); })
      .def("item", &item)
      .def("to", [](const Tensor& t, py::object dtype, bool copy) {
        if (py::isinstance<py::str>(dtype)) {
          std::string s = dtype.cast<std::string>();
          if (s == "cpu") return copy ? ops::clone(t) : t;
        }
        DType dt = dtype_from_py(dtype);
        return maybe_nogil(t->numel(), [&] { return ops::to_dtype(t, dt, copy); });
      }, py::arg("dtype"), py::arg("copy") = false)
      .def("type", [](const Tensor& t, py::object dtype) -> py::object {
        if (dtype.is_none()) return py::str(str("tinygrad_ext.", dtype_name(t->dtype)));
        return py::cast(ops::to_dtype(t, dtype_from_py(dtype)));
      }, py::arg("dtype") = py::none())
      .def("float", [](const Tensor& t) { return ops::to_dtype(t, DType::Float32); })
      .def("double", [](const Tensor& t) { return ops::to_dtype(t, DType::Float64); })
      .def("long", [](const Tensor& t) { return ops::to_dtype(t, DType::Int64); })
      .def("int", [](const Tensor& t) { return ops::to_dtype(t, DType::Int32); })
      .def("bool", [](const Tensor& t) { return ops::to_dtype(t, DType::Bool); })
      .def("byte", [](const Tensor& t) { return ops::to_dtype(t, DType::UInt8); })
      .def("__len__", [](const Tensor& t) {
        TGX_CHECK(t->ndim() > 0, TypeError, "len() of a 0-d tensor");
        return t->shape[0];
      })
      .def("__bool__", [](const Tensor& t) {
        TGX_CHECK(t->numel() == 1, RuntimeError, "Boolean value of Tensor with ", t->numel(),
                  " values is ambiguous");
        return item(t).cast<bool>();
      })
      .def("__float__", [](const Tensor& t) { return item(t).cast<double>(); })
      .def("__int__", [](const Tensor& t) { return exact_int(item(t)); })
      .def("__index__", [](const Tensor& t) {
        TGX_CHECK(is_integral(t->dtype, true) && t->numel() == 1, TypeError,
                  "only integer tensors of a single element can be converted to an index");
        return exact_int(item(t));
      })
      .def("copy_", [](const Tensor& t, py::handle src) {
        Tensor s = to_tensor_arg(src, "copy_");
        return maybe_nogil(t->numel(), [&] { return ops::copy_(t, s); });
      }, py::arg("src"))
      .def("fill_", [](const Tensor& t, py::handle v) {
        Scalar s;
        if (!scalar_from_py(v, s)) {
          Tensor vt = to_tensor_arg(v, "fill_");
          TGX_CHECK(vt->ndim() == 0, ValueError, "[fill_] only supports 0-dimension value tensors, got shape ", vt->shape);
          return ops::copy_(t, vt);
        }
        return maybe_nogil(t->numel(), [&] { return ops::fill_(t, s); });
      }, py::arg("value"))
      .def("zero_", [](const Tensor& t) { return ops::fill_(t, Scalar::from_int(0)); });

  // tinygrad_ext.tensor(data, dtype, device, requires_grad) is bound in creation.cpp.
}

}  // namespace tgx::bind
