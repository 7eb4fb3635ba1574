// Creation functions (zeros, arange, eye, *_like ...), random sampling with Generator objects,
// and the device object (tinygrad_ext.device, Tensor.device).
#include "bindings/common.h"
#include "core/rng.h"
#include "ops/creation.h"

namespace tgx::bind {
namespace {

// ---- device ---------------------------------------------------------------------------------
struct DeviceObject {
  DeviceType type = DeviceType::CPU;
  int index = -1;  // -1: no index given (PyTorch's None)
};

const char* device_type_name(DeviceType t) { return t == DeviceType::CUDA ? "cuda" : "cpu"; }

DeviceObject parse_device(const std::string& s, int index) {
  DeviceObject d;
  std::string type = s;
  size_t colon = s.find(':');
  if (colon != std::string::npos) {
    type = s.substr(0, colon);
    std::string idx = s.substr(colon + 1);
    TGX_CHECK(!idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos && idx.size() < 9,
              ValueError, "[device] invalid device string '", s, "'");
    TGX_CHECK(index < 0, ValueError, "[device] type (string) must not include an index because index was passed explicitly: ", s);
    index = std::stoi(idx);
  }
  if (type == "cpu") d.type = DeviceType::CPU;
  else if (type == "cuda") d.type = DeviceType::CUDA;
  else throw ValueError(str("[device] expected one of cpu, cuda at the start of the device string, got '", s, "'"));
  d.index = index;
  return d;
}

DeviceObject device_object_from_py(py::handle h) {
  if (py::isinstance<DeviceObject>(h)) return h.cast<DeviceObject>();
  if (py::isinstance<py::str>(h)) return parse_device(h.cast<std::string>(), -1);
  if (py::isinstance<py::int_>(h)) return parse_device("cuda", h.cast<int>());
  throw TypeError(str("[device] expected a device, a string or an int, got ",
                      std::string(py::str(py::type::handle_of(h).attr("__name__")))));
}

// The device a creation function allocates on: only the cpu in this build.
void check_device(py::handle h, const char* op) {
  if (h.is_none()) return;
  DeviceObject d = device_object_from_py(h);
  TGX_CHECK(d.type == DeviceType::CPU, NotImplementedError, "[", op, "] device '", device_type_name(d.type),
            "' is not available: tinygrad_ext was built without CUDA (only 'cpu' tensors exist)");
}

std::string device_repr(const DeviceObject& d) {
  std::string s = str("device(type='", device_type_name(d.type), "'");
  if (d.index >= 0) s += str(", index=", d.index);
  return s + ")";
}

std::string device_str(const DeviceObject& d) {
  return d.index >= 0 ? str(device_type_name(d.type), ":", d.index) : device_type_name(d.type);
}

// ---- common arguments -------------------------------------------------------------------------
Generator* generator_from_py(py::handle h) {
  if (h.is_none()) return nullptr;
  TGX_CHECK(py::isinstance<Generator>(h), TypeError, "generator must be a tinygrad_ext.Generator, got ",
            std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  return &h.cast<Generator&>();
}

DType dtype_or(py::handle dtype, DType dflt) { return dtype.is_none() ? dflt : dtype_from_py(dtype); }

Tensor finish(Tensor t, bool requires_grad, const char* op) {
  if (requires_grad) {
    TGX_CHECK(is_floating(t->dtype), RuntimeError, "[", op,
              "] only Tensors of floating point dtype can require gradients, got ", t->dtype);
    t->meta().requires_grad = true;
  }
  return t;
}

Shape sized(py::args args, py::handle size, const char* op) {
  if (!size.is_none()) {
    TGX_CHECK(args.size() == 0, TypeError, "[", op, "] got the size both positionally and as size=");
    return shape_from_py(size, op);
  }
  return shape_from_args(args, op);
}

Scalar scalar_arg(py::handle h, const char* op, const char* what) {
  Scalar s;
  if (scalar_from_py(h, s)) return s;
  if (py::isinstance<TensorImpl>(h)) {
    Tensor t = h.cast<Tensor>();
    TGX_CHECK(t->numel() == 1, ValueError, "[", op, "] ", what, " must be a number or a one-element tensor, got shape ", t->shape);
    return dispatch(t->dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      T v = *t->data<T>();
      if constexpr (std::is_same_v<T, bool>) return Scalar::from_bool(v);
      else if constexpr (std::is_floating_point_v<T>) return Scalar::from_double(double(v));
      else return Scalar::from_int(int64_t(v));
    });
  }
  throw TypeError(str("[", op, "] ", what, " must be a number, got ",
                      std::string(py::str(py::type::handle_of(h).attr("__name__")))));
}

double double_arg(py::handle h, const char* op, const char* what) { return scalar_arg(h, op, what).d; }
int64_t int_arg(py::handle h, const char* op, const char* what) {
  Scalar s = scalar_arg(h, op, what);
  TGX_CHECK(s.kind != Scalar::Float, TypeError, "[", op, "] ", what, " must be an integer, got ", s.d);
  return s.i;
}

uint64_t seed_from_py(py::handle h) {
  TGX_CHECK(py::isinstance<py::int_>(h), TypeError, "[manual_seed] seed must be an int, got ",
            std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  py::int_ v = py::reinterpret_borrow<py::int_>(h);
  int overflow = 0;
  long long s = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  if (!overflow) return uint64_t(int64_t(s));
  unsigned long long u = PyLong_AsUnsignedLongLong(v.ptr());
  if (PyErr_Occurred()) {
    PyErr_Clear();
    throw ValueError(str("[manual_seed] seed must be in [-2**63, 2**64), got ", std::string(py::str(h))));
  }
  return u;
}

// Generator state as a uint8 tensor.
Tensor state_tensor(const Generator& g) {
  auto bytes = g.get_state();
  Tensor t = empty({int64_t(bytes.size())}, DType::UInt8);
  std::memcpy(t->raw(), bytes.data(), bytes.size());
  return t;
}

void set_state_from_py(Generator& g, py::handle state) {
  if (py::isinstance<py::bytes>(state) || py::isinstance<py::bytearray>(state)) {
    std::string s = py::isinstance<py::bytes>(state) ? state.cast<std::string>()
                                                      : std::string(py::bytes(py::reinterpret_borrow<py::object>(state)));
    g.set_state(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    return;
  }
  TGX_CHECK(py::isinstance<TensorImpl>(state), TypeError,
            "[set_state] expected a uint8 tensor or bytes, got ", std::string(py::str(py::type::handle_of(state).attr("__name__"))));
  Tensor t = state.cast<Tensor>();
  TGX_CHECK(t->dtype == DType::UInt8 && t->ndim() == 1, TypeError,
            "[set_state] expected a 1-d uint8 tensor, got dtype ", t->dtype, " and shape ", t->shape);
  Tensor c = ops::contiguous(t);
  g.set_state(c->data<uint8_t>(), size_t(c->numel()));
}

#define TGX_CREATION_KW                                                                     \
  py::arg("size") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), \
      py::arg("requires_grad") = false

void init_device(py::module_& m, TensorClass& cls) {
  py::class_<DeviceObject>(m, "device", "Where a tensor lives: tinygrad_ext.device('cpu').")
      .def(py::init([](py::handle type, py::object index) {
        if (py::isinstance<DeviceObject>(type)) return type.cast<DeviceObject>();
        TGX_CHECK(py::isinstance<py::str>(type) || index.is_none(), TypeError,
                  "[device] expected a string type when an index is given");
        if (py::isinstance<py::str>(type)) {
          int idx = index.is_none() ? -1 : index.cast<int>();
          TGX_CHECK(idx >= -1, ValueError, "[device] device index must be non-negative, got ", idx);
          return parse_device(type.cast<std::string>(), idx);
        }
        return device_object_from_py(type);
      }), py::arg("type"), py::arg("index") = py::none())
      .def_property_readonly("type", [](const DeviceObject& d) { return device_type_name(d.type); })
      .def_property_readonly("index", [](const DeviceObject& d) -> py::object {
        return d.index < 0 ? py::object(py::none()) : py::object(py::int_(d.index));
      })
      .def("__repr__", &device_repr)
      .def("__str__", &device_str)
      .def("__eq__", [](const DeviceObject& d, py::handle other) -> py::object {
        if (!py::isinstance<DeviceObject>(other) && !py::isinstance<py::str>(other))
          return py::reinterpret_borrow<py::object>(Py_NotImplemented);
        DeviceObject o;
        try {
          o = device_object_from_py(other);
        } catch (const ValueError&) {
          return py::bool_(false);
        }
        return py::bool_(o.type == d.type && o.index == d.index);
      })
      .def("__hash__", [](const DeviceObject& d) { return py::hash(py::str(device_str(d))); })
      .def("__reduce__", [](const DeviceObject& d) {
        return py::make_tuple(py::module_::import("tinygrad_ext").attr("device"), py::make_tuple(device_str(d)));
      });

  cls.def_property_readonly("device", [](const Tensor& t) {
        return DeviceObject{t->device().type, t->device().type == DeviceType::CPU ? -1 : t->device().index};
      }, "The device the tensor's memory is on.")
      .def_property_readonly("is_cpu", [](const Tensor& t) { return t->device().type == DeviceType::CPU; })
      .def("cpu", [](const Tensor& t) { return t; }, "This tensor (it already is on the cpu).")
      .def("cuda", [](const Tensor&, py::args, py::kwargs) -> Tensor {
        throw NotImplementedError("[cuda] tinygrad_ext was built without CUDA (only 'cpu' tensors exist)");
      }, "Not available: this build has no CUDA support.")
      .def("get_device", [](const Tensor& t) { return t->device().type == DeviceType::CPU ? -1 : t->device().index; });
  m.def("_check_device", [](py::handle d, const char* op) { check_device(d, op); });
}

void init_generator(py::module_& m) {
  py::class_<Generator, GeneratorPtr>(m, "Generator",
      "A Philox4x32-10 random stream: (seed, offset). Pass it as generator= to random functions.")
      .def(py::init([](py::handle device) {
        check_device(device, "Generator");
        return std::make_shared<Generator>();
      }), py::arg("device") = "cpu")
      .def("manual_seed", [](const GeneratorPtr& g, py::handle seed) {
        g->manual_seed(seed_from_py(seed));
        return g;
      }, py::arg("seed"), "Seeds the generator (and resets its offset); returns the generator.")
      .def("seed", [](Generator& g) { return g.seed(); }, "Seeds from a non-deterministic source; returns the seed.")
      .def("initial_seed", &Generator::initial_seed, "The seed the stream was started from.")
      .def("get_state", &state_tensor, "The state as a uint8 tensor of 16 bytes (seed, offset).")
      .def("set_state", [](const GeneratorPtr& g, py::handle state) {
        set_state_from_py(*g, state);
        return g;
      }, py::arg("new_state"), "Restores a state from get_state() (a uint8 tensor or bytes).")
      .def_property_readonly("device", [](const Generator&) { return DeviceObject{}; })
      .def_property_readonly("_offset", &Generator::offset);

  m.attr("default_generator") = py::cast(default_generator());
  m.def("manual_seed", [](py::handle seed) {
    default_generator()->manual_seed(seed_from_py(seed));
    return default_generator();
  }, py::arg("seed"), "Seeds the default generator; returns it.");
  m.def("seed", [] { return default_generator()->seed(); }, "Seeds the default generator non-deterministically.");
  m.def("initial_seed", [] { return default_generator()->initial_seed(); }, "The default generator's seed.");
  m.def("get_rng_state", [] { return state_tensor(*default_generator()); }, "The default generator's state.");
  m.def("set_rng_state", [](py::handle s) { set_state_from_py(*default_generator(), s); }, py::arg("new_state"),
        "Restores the default generator's state.");
}

}  // namespace

void init_creation(py::module_& m) {
  TensorClass cls = tensor_class(m);
  init_device(m, cls);
  init_generator(m);
  m.def("tensor", [](py::handle data, py::object dtype, py::handle device, bool requires_grad) {
    check_device(device, "tensor");
    return finish(tensor_from_data(data, dtype), requires_grad, "tensor");
  }, py::arg("data"), py::arg("dtype") = py::none(), py::kw_only(), py::arg("device") = py::none(),
     py::arg("requires_grad") = false,
     "A new tensor holding a copy of data (nested lists, numbers or a NumPy array).");

  // ---- f(*size, dtype=None, device=None, requires_grad=False) ----------------------------
  using Maker = Tensor (*)(const Shape&, DType);
  struct Sized { const char* name; Maker make; const char* doc; };
  static const Sized kSized[] = {
      {"zeros", &ops::zeros, "A tensor of zeros (dtype float32 unless given)."},
      {"ones", &ops::ones, "A tensor of ones (dtype float32 unless given)."},
      {"empty", [](const Shape& s, DType d) { return empty(s, d); }, "An uninitialised tensor."},
  };
  for (const Sized& f : kSized) {
    const char* name = f.name;
    Maker make = f.make;
    m.def(name, [name, make](py::args args, py::object size, py::object dtype, py::object device, bool rg) {
      check_device(device, name);
      Shape s = sized(args, size, name);
      DType dt = dtype_or(dtype, DType::Float32);
      return finish(maybe_nogil(checked_numel(s, dt, name), [&] { return make(s, dt); }), rg, name);
    }, TGX_CREATION_KW, f.doc);
    std::string like = std::string(name) + "_like";
    m.def(like.c_str(), [name, make](const Tensor& input, py::object dtype, py::object device, bool rg) {
      check_device(device, name);
      DType dt = dtype_or(dtype, input->dtype);
      return finish(maybe_nogil(input->numel(), [&] { return make(input->shape, dt); }), rg, name);
    }, py::arg("input").none(false), py::kw_only(), py::arg("dtype") = py::none(),
          py::arg("device") = py::none(), py::arg("requires_grad") = false, f.doc);
    std::string new_name = "new_" + std::string(name);
    cls.def(new_name.c_str(), [name, make](const Tensor& self, py::args args, py::object size, py::object dtype,
                                           py::object device, bool rg) {
      check_device(device, name);
      Shape s = sized(args, size, name);
      return finish(make(s, dtype_or(dtype, self->dtype)), rg, name);
    }, TGX_CREATION_KW, f.doc);
  }

  // ---- random f(*size, generator=None, ...) -------------------------------------------------
  using RandMaker = Tensor (*)(const Shape&, DType, Generator*);
  struct RandSized { const char* name; RandMaker make; const char* doc; };
  static const RandSized kRand[] = {
      {"rand", &ops::rand, "Uniform samples in [0, 1)."},
      {"randn", &ops::randn, "Standard normal samples (Box-Muller on Philox)."},
  };
  for (const RandSized& f : kRand) {
    const char* name = f.name;
    RandMaker make = f.make;
    m.def(name, [name, make](py::args args, py::object size, py::object gen, py::object dtype,
                             py::object device, bool rg) {
      check_device(device, name);
      Shape s = sized(args, size, name);
      Generator* g = generator_from_py(gen);
      DType dt = dtype_or(dtype, DType::Float32);
      return finish(maybe_nogil(checked_numel(s, dt, name), [&] { return make(s, dt, g); }), rg, name);
    }, py::arg("size") = py::none(), py::arg("generator") = py::none(), py::arg("dtype") = py::none(),
          py::arg("device") = py::none(), py::arg("requires_grad") = false, f.doc);
    std::string like = std::string(name) + "_like";
    m.def(like.c_str(), [name, make](const Tensor& input, py::object gen, py::object dtype, py::object device, bool rg) {
      check_device(device, name);
      Generator* g = generator_from_py(gen);
      DType dt = dtype_or(dtype, input->dtype);
      return finish(maybe_nogil(input->numel(), [&] { return make(input->shape, dt, g); }), rg, name);
    }, py::arg("input").none(false), py::kw_only(), py::arg("generator") = py::none(),
          py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false, f.doc);
  }

  m.def("full", [](py::handle size, py::handle value, py::object dtype, py::object device, bool rg) {
    check_device(device, "full");
    Shape s = shape_from_py(size, "full");
    Scalar v = scalar_arg(value, "full", "fill_value");
    DType dt = dtype_or(dtype, v.natural_dtype());
    return finish(maybe_nogil(checked_numel(s, dt, "full"), [&] { return ops::full(s, v, dt); }), rg, "full");
  }, py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false,
        "A tensor filled with fill_value (dtype inferred from it: bool, int64 or float32).");
  m.def("full_like", [](const Tensor& input, py::handle value, py::object dtype, py::object device, bool rg) {
    check_device(device, "full_like");
    Scalar v = scalar_arg(value, "full_like", "fill_value");
    DType dt = dtype_or(dtype, input->dtype);
    return finish(maybe_nogil(input->numel(), [&] { return ops::full(input->shape, v, dt); }), rg, "full_like");
  }, py::arg("input").none(false), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false,
        "A tensor like input filled with fill_value.");
  cls.def("new_full", [](const Tensor& self, py::handle size, py::handle value, py::object dtype, py::object device,
                         bool rg) {
    check_device(device, "new_full");
    Scalar v = scalar_arg(value, "new_full", "fill_value");
    return finish(ops::full(shape_from_py(size, "new_full"), v, dtype_or(dtype, self->dtype)), rg, "new_full");
  }, py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
          py::arg("device") = py::none(), py::arg("requires_grad") = false, "A new tensor filled with fill_value.");

  m.def("scalar_tensor", [](py::handle value, py::object dtype, py::object device, bool rg) {
    check_device(device, "scalar_tensor");
    Scalar v = scalar_arg(value, "scalar_tensor", "s");
    return finish(ops::full({}, v, dtype_or(dtype, DType::Float32)), rg, "scalar_tensor");
  }, py::arg("s"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false, "A 0-d tensor holding s (float32 unless dtype is given).");

  m.def("arange", [](py::handle start, py::handle end, py::handle step, py::object dtype, py::object device, bool rg) {
    check_device(device, "arange");
    Scalar a = scalar_arg(start, "arange", "start");
    Scalar b = end.is_none() ? a : scalar_arg(end, "arange", "end");
    if (end.is_none()) a = Scalar::from_int(0);
    Scalar c = scalar_arg(step, "arange", "step");
    std::optional<DType> dt;
    if (!dtype.is_none()) dt = dtype_from_py(dtype);
    return finish(ops::arange(a, b, c, dt), rg, "arange");
  }, py::arg("start"), py::arg("end") = py::none(), py::arg("step") = 1, py::kw_only(),
        py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false,
        "Values from start (default 0) to end (exclusive) by step; int64 for integer arguments, else float32.");
  m.def("linspace", [](py::handle start, py::handle end, py::handle steps, py::object dtype, py::object device, bool rg) {
    check_device(device, "linspace");
    return finish(ops::linspace(double_arg(start, "linspace", "start"), double_arg(end, "linspace", "end"),
                                int_arg(steps, "linspace", "steps"), dtype_or(dtype, DType::Float32)), rg, "linspace");
  }, py::arg("start"), py::arg("end"), py::arg("steps"), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false,
        "steps evenly spaced values from start to end (both included).");
  m.def("logspace", [](py::handle start, py::handle end, py::handle steps, py::handle base, py::object dtype,
                       py::object device, bool rg) {
    check_device(device, "logspace");
    return finish(ops::logspace(double_arg(start, "logspace", "start"), double_arg(end, "logspace", "end"),
                                int_arg(steps, "logspace", "steps"), double_arg(base, "logspace", "base"),
                                dtype_or(dtype, DType::Float32)), rg, "logspace");
  }, py::arg("start"), py::arg("end"), py::arg("steps"), py::arg("base") = 10.0, py::kw_only(),
        py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false,
        "base ** linspace(start, end, steps).");
  m.def("eye", [](int64_t n, py::object mo, py::object dtype, py::object device, bool rg) {
    check_device(device, "eye");
    int64_t cols = mo.is_none() ? n : int_arg(mo, "eye", "m");
    return finish(ops::eye(n, cols, dtype_or(dtype, DType::Float32)), rg, "eye");
  }, py::arg("n"), py::arg("m") = py::none(), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false,
        "A 2-d tensor with ones on the diagonal (n rows, m columns, default m = n).");

  // ---- integer sampling ------------------------------------------------------------------------
  m.def("randint", [](py::args args, py::object low, py::object high, py::object size, py::object gen,
                      py::object dtype, py::object device, bool rg) {
    check_device(device, "randint");
    std::vector<py::object> pos;
    for (py::handle a : args) pos.push_back(py::reinterpret_borrow<py::object>(a));
    TGX_CHECK(pos.size() <= 3, TypeError, "[randint] expected (high, size) or (low, high, size), got ",
              pos.size(), " positional arguments");
    // randint(high, size) / randint(low, high, size); the last positional is size unless given by keyword
    if (size.is_none() && !pos.empty() && !py::isinstance<py::int_>(pos.back()) && !py::isinstance<TensorImpl>(pos.back())) {
      size = pos.back();
      pos.pop_back();
    }
    if (pos.size() == 2) { low = pos[0]; high = pos[1]; }
    else if (pos.size() == 1) (high.is_none() ? high : low) = pos[0];
    else TGX_CHECK(pos.empty(), TypeError, "[randint] too many positional arguments");
    TGX_CHECK(!high.is_none() && !size.is_none(), TypeError, "[randint] expected arguments high and size");
    int64_t lo = low.is_none() ? 0 : int_arg(low, "randint", "low");
    int64_t hi = int_arg(high, "randint", "high");
    Shape s = shape_from_py(size, "randint");
    Generator* g = generator_from_py(gen);
    DType dt = dtype_or(dtype, DType::Int64);
    return finish(maybe_nogil(checked_numel(s, dt, "randint"), [&] { return ops::randint(lo, hi, s, dt, g); }), rg, "randint");
  }, py::arg("low") = py::none(), py::arg("high") = py::none(), py::arg("size") = py::none(),
        py::arg("generator") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false, "Uniform integers in [low, high) (low defaults to 0; int64).");
  m.def("randint_like", [](const Tensor& input, py::args args, py::object low, py::object high, py::object gen,
                           py::object dtype, py::object device, bool rg) {
    check_device(device, "randint_like");
    if (args.size() == 1) high = args[0];
    else if (args.size() == 2) { low = args[0]; high = args[1]; }
    else TGX_CHECK(args.size() == 0, TypeError, "[randint_like] expected (input, high) or (input, low, high)");
    TGX_CHECK(!high.is_none(), TypeError, "[randint_like] missing argument high");
    int64_t lo = low.is_none() ? 0 : int_arg(low, "randint_like", "low");
    int64_t hi = int_arg(high, "randint_like", "high");
    return finish(ops::randint(lo, hi, input->shape, dtype_or(dtype, input->dtype), generator_from_py(gen)), rg,
                  "randint_like");
  }, py::arg("input").none(false), py::arg("low") = py::none(), py::arg("high") = py::none(),
        py::arg("generator") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false, "Uniform integers in [low, high) with input's shape (and dtype).");
  m.def("randperm", [](int64_t n, py::object gen, py::object dtype, py::object device, bool rg) {
    check_device(device, "randperm");
    Generator* g = generator_from_py(gen);
    DType dt = dtype_or(dtype, DType::Int64);
    return finish(maybe_nogil(n, [&] { return ops::randperm(n, dt, g); }), rg, "randperm");
  }, py::arg("n"), py::kw_only(), py::arg("generator") = py::none(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false, "A random permutation of 0 .. n-1.");

  // ---- normal / bernoulli ------------------------------------------------------------------------
  m.def("normal", [](py::handle mean, py::handle std, py::object size, py::object gen, py::object dtype,
                     py::object device, bool rg) {
    check_device(device, "normal");
    Generator* g = generator_from_py(gen);
    Scalar ms, ss;
    if (scalar_from_py(mean, ms) && scalar_from_py(std, ss)) {
      TGX_CHECK(!size.is_none(), TypeError, "[normal] with a number mean and std, size is required");
      Shape s = shape_from_py(size, "normal");
      DType dt = dtype_or(dtype, DType::Float32);
      return finish(maybe_nogil(checked_numel(s, dt, "normal"), [&] { return ops::normal(ms.d, ss.d, s, dt, g); }),
                    rg, "normal");
    }
    TGX_CHECK(size.is_none(), TypeError, "[normal] size is only accepted with a number mean and std");
    Tensor mt = to_tensor_arg(mean, "normal"), st = to_tensor_arg(std, "normal");
    Tensor out = maybe_nogil(std::max(mt->numel(), st->numel()), [&] { return ops::normal(mt, st, g); });
    if (!dtype.is_none()) out = ops::to_dtype(out, dtype_from_py(dtype));
    return finish(out, rg, "normal");
  }, py::arg("mean") = 0.0, py::arg("std") = 1.0, py::arg("size") = py::none(), py::kw_only(),
        py::arg("generator") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false,
        "Normal samples: numbers mean and std with a size, or tensors (broadcast) of means and stds.");
  auto bernoulli = [](const Tensor& input, py::object p, py::object gen) {
    Generator* g = generator_from_py(gen);
    if (p.is_none()) return maybe_nogil(input->numel(), [&] { return ops::bernoulli(input, g); });
    Tensor out = empty(input->shape, input->dtype);
    if (py::isinstance<TensorImpl>(p)) return ops::bernoulli_(out, p.cast<Tensor>(), g);
    double pv = double_arg(p, "bernoulli", "p");
    return maybe_nogil(input->numel(), [&] { return ops::bernoulli_(out, pv, g); });
  };
  m.def("bernoulli", bernoulli, py::arg("input").none(false), py::arg("p") = py::none(), py::kw_only(),
        py::arg("generator") = py::none(),
        "0/1 samples: 1 with probability input (elementwise), or with probability p in input's shape.");
  cls.def("bernoulli", bernoulli, py::arg("p") = py::none(), py::kw_only(), py::arg("generator") = py::none(),
          "0/1 samples: 1 with probability self (elementwise), or with probability p.");

  // ---- in-place sampling ---------------------------------------------------------------------------
  cls.def("uniform_", [](const Tensor& self, double from, double to, py::object gen) {
    Generator* g = generator_from_py(gen);
    return maybe_nogil(self->numel(), [&] { return ops::uniform_(self, from, to, g); });
  }, py::arg("from") = 0.0, py::arg("to") = 1.0, py::kw_only(), py::arg("generator") = py::none(),
          "Fills self with uniform samples in [from, to).");
  cls.def("normal_", [](const Tensor& self, double mean, double std, py::object gen) {
    Generator* g = generator_from_py(gen);
    return maybe_nogil(self->numel(), [&] { return ops::normal_(self, mean, std, g); });
  }, py::arg("mean") = 0.0, py::arg("std") = 1.0, py::kw_only(), py::arg("generator") = py::none(),
          "Fills self with normal samples.");
  cls.def("exponential_", [](const Tensor& self, double lambd, py::object gen) {
    Generator* g = generator_from_py(gen);
    return maybe_nogil(self->numel(), [&] { return ops::exponential_(self, lambd, g); });
  }, py::arg("lambd") = 1.0, py::kw_only(), py::arg("generator") = py::none(),
          "Fills self with exponential samples of rate lambd.");
  cls.def("bernoulli_", [](const Tensor& self, py::handle p, py::object gen) {
    Generator* g = generator_from_py(gen);
    if (py::isinstance<TensorImpl>(p)) return ops::bernoulli_(self, p.cast<Tensor>(), g);
    double pv = double_arg(p, "bernoulli_", "p");
    return maybe_nogil(self->numel(), [&] { return ops::bernoulli_(self, pv, g); });
  }, py::arg("p") = 0.5, py::kw_only(), py::arg("generator") = py::none(),
          "Fills self with 1 (probability p, a number or a broadcastable tensor) or 0.");
  cls.def("random_", [](const Tensor& self, py::args args, py::object gen) {
    TGX_CHECK(args.size() <= 2, TypeError, "[random_] expected random_(), random_(to) or random_(from, to)");
    int64_t from = 0;
    std::optional<int64_t> to;
    if (args.size() == 1) to = int_arg(args[0], "random_", "to");
    if (args.size() == 2) {
      from = int_arg(args[0], "random_", "from");
      if (!args[1].is_none()) to = int_arg(args[1], "random_", "to");
    }
    Generator* g = generator_from_py(gen);
    return maybe_nogil(self->numel(), [&] { return ops::random_(self, from, to, g); });
  }, py::kw_only(), py::arg("generator") = py::none(),
          "Fills self with integers in [from, to) (default: [0, the dtype's largest exact integer]).");

  m.def("_set_requires_grad", [](const Tensor& t, bool flag) {
    if (flag) return finish(t, true, "requires_grad_");
    if (t->autograd) t->autograd->requires_grad = false;
    return t;
  }, py::arg("tensor").none(false), py::arg("flag"), "Sets the requires_grad flag (pickle, creation).");
  m.def("_requires_grad", [](const Tensor& t) { return t->requires_grad(); }, py::arg("tensor").none(false));
}

}  // namespace tgx::bind
