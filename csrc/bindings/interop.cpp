// Zero-copy exchange with other array libraries: NumPy (numpy(), from_numpy, the buffer
// protocol) and DLPack (__dlpack__, __dlpack_device__, from_dlpack). Memory another library
// owns is wrapped with Storage::wrap and released (GIL taken) when the last view dies.
#include <cstring>

#include "bindings/common.h"
#include "core/dlpack.h"

namespace tgx::bind {
namespace {

// Runs f with the GIL held, if the interpreter is still alive (storages can outlive it).
template <typename F>
void with_gil(F&& f) {
  if (!Py_IsInitialized()) return;
  py::gil_scoped_acquire gil;
  f();
}

std::string type_name(py::handle h) {
  return py::str(py::type::handle_of(h).attr("__name__")).cast<std::string>();
}

// A tensor viewing external memory: `first` points at element (0, ..., 0), strides in elements
// (any sign). The storage spans exactly the reachable bytes and calls `release` when it dies.
Tensor wrap_external(char* first, DType dt, Shape shape, Shape strides, std::function<void()> release,
                     const char* op) {
  checked_numel(shape, dt, op);
  int64_t lo = 0, hi = 0, n = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    n *= shape[d];
    int64_t ext = shape[d] > 0 ? (shape[d] - 1) * strides[d] : 0;
    (ext < 0 ? lo : hi) += ext;
  }
  size_t isz = itemsize(dt);
  size_t nbytes = n ? size_t(hi - lo + 1) * isz : 0;
  TGX_CHECK(n == 0 || first != nullptr, ValueError, "[", op, "] the producer gave a null data pointer");
  auto t = std::make_shared<TensorImpl>();
  t->storage = Storage::wrap(n ? first + lo * int64_t(isz) : first, nbytes, std::move(release));
  t->shape = std::move(shape);
  t->strides = std::move(strides);
  t->offset = n ? -lo : 0;
  t->dtype = dt;
  return t;
}

// ---- NumPy ---------------------------------------------------------------------------------
py::array numpy_view(const Tensor& t) {
  TGX_CHECK(t->device().type == DeviceType::CPU, TypeError,
            "[numpy] can't convert a non-cpu tensor to NumPy; copy it to the cpu first");
  std::vector<py::ssize_t> shape(t->shape.begin(), t->shape.end()), strides;
  for (int64_t s : t->strides) strides.push_back(s * py::ssize_t(t->element_size()));
  // The capsule keeps the storage alive as long as the array (or any view of it) lives.
  auto* keep = new std::shared_ptr<Storage>(t->storage);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  return py::array(numpy_dtype(t->dtype), shape, strides, t->raw(), base);
}

py::array to_numpy(const Tensor& t, bool force) {
  if (force) return numpy_view(ops::clone(t));
  TGX_CHECK(!t->requires_grad(), RuntimeError,
            "[numpy] can't call numpy() on a Tensor that requires grad; use tensor.detach().numpy() instead");
  return numpy_view(t);
}

Tensor from_numpy(py::handle obj) {
  TGX_CHECK(py::isinstance<py::array>(obj), TypeError, "[from_numpy] expected np.ndarray (got ",
            type_name(obj), ")");
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  std::string dname = py::str(arr.dtype()).cast<std::string>();
  DType dt;
  try {
    dt = dtype_from_numpy(arr.dtype());
  } catch (const TypeError&) {
    throw TypeError(str("[from_numpy] can't convert np.ndarray of dtype ", dname,
                        "; supported dtypes: bool, uint8, int32, int64, float32, float64"));
  }
  TGX_CHECK(arr.dtype().attr("isnative").cast<bool>(), TypeError, "[from_numpy] can't convert np.ndarray of dtype ",
            dname, " with non-native byte order; use arr.astype(arr.dtype.newbyteorder('='))");
  TGX_CHECK(arr.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_, ValueError,
            "[from_numpy] the array's data is not aligned to its itemsize; copy it first");
  int64_t isz = int64_t(itemsize(dt));
  Shape shape(arr.ndim()), strides(arr.ndim());
  for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
    shape[d] = arr.shape(d);
    TGX_CHECK(arr.strides(d) % isz == 0, ValueError, "[from_numpy] stride ", arr.strides(d),
              " bytes of dimension ", d, " is not a multiple of the element size ", isz);
    strides[d] = arr.strides(d) / isz;
  }
  checked_numel(shape, dt, "from_numpy");  // validate before taking a reference
  PyObject* owner = arr.ptr();
  Py_INCREF(owner);
  auto release = [owner] { with_gil([owner] { Py_DECREF(owner); }); };
  char* first = static_cast<char*>(const_cast<void*>(arr.data()));
  return wrap_external(first, dt, std::move(shape), std::move(strides), release, "from_numpy");
}

py::buffer_info buffer_of(TensorImpl& t) {
  TGX_CHECK(!t.requires_grad(), RuntimeError,
            "[buffer] can't export a Tensor that requires grad; use tensor.detach() instead");
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end()), strides;
  for (int64_t s : t.strides) strides.push_back(s * py::ssize_t(t.element_size()));
  std::string fmt = dispatch(t.dtype, [](auto tag) {
    using T = typename decltype(tag)::type;
    return std::string(py::format_descriptor<T>::format());
  });
  return py::buffer_info(t.raw(), py::ssize_t(t.element_size()), fmt, t.ndim(), shape, strides, false);
}

// ---- DLPack export --------------------------------------------------------------------------
constexpr const char* kVersionedName = "dltensor_versioned";
constexpr const char* kLegacyName = "dltensor";
constexpr const char* kUsedVersionedName = "used_dltensor_versioned";
constexpr const char* kUsedLegacyName = "used_dltensor";

struct ExportCtx {
  std::shared_ptr<Storage> storage;  // keeps the memory alive until the consumer's deleter runs
  Shape shape, strides;
  dlpack::ManagedTensor legacy{};
  dlpack::ManagedTensorVersioned versioned{};
};

dlpack::DataType dl_dtype(DType t) {
  switch (t) {
    case DType::Bool: return {dlpack::kDLBool, 8, 1};
    case DType::UInt8: return {dlpack::kDLUInt, 8, 1};
    case DType::Int32: return {dlpack::kDLInt, 32, 1};
    case DType::Int64: return {dlpack::kDLInt, 64, 1};
    case DType::Float32: return {dlpack::kDLFloat, 32, 1};
    case DType::Float64: return {dlpack::kDLFloat, 64, 1};
  }
  throw NotImplementedError("[__dlpack__] unknown dtype");
}

template <typename M, const char* const* Name, const char* const* UsedName>
void capsule_destructor(PyObject* cap) {
  if (PyCapsule_IsValid(cap, *UsedName)) return;  // consumed: the consumer owns it now
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  auto* m = static_cast<M*>(PyCapsule_GetPointer(cap, *Name));
  if (m) {
    if (m->deleter) m->deleter(m);
  } else {
    PyErr_WriteUnraisable(cap);
  }
  PyErr_Restore(type, value, tb);
}

const char* const kVersionedNamePtr = kVersionedName;
const char* const kLegacyNamePtr = kLegacyName;
const char* const kUsedVersionedNamePtr = kUsedVersionedName;
const char* const kUsedLegacyNamePtr = kUsedLegacyName;

py::object to_dlpack(const Tensor& self, py::object stream, py::object max_version,
                     py::object dl_device, py::object copy) {
  TGX_CHECK(!self->requires_grad(), RuntimeError,
            "[__dlpack__] can't export a Tensor that requires grad; use tensor.detach() instead");
  TGX_CHECK(stream.is_none() || (py::isinstance<py::int_>(stream) && stream.cast<int64_t>() == -1),
            ValueError, "[__dlpack__] stream must be None for cpu tensors, got ", std::string(py::repr(stream)));
  if (!dl_device.is_none()) {
    auto dev = dl_device.cast<std::pair<int, int>>();
    if (dev.first != dlpack::kDLCPU) {
      throw py::buffer_error(str("[__dlpack__] can't export a cpu tensor to DLPack device (", dev.first,
                                 ", ", dev.second, ")"));
    }
  }
  bool versioned = false;
  if (!max_version.is_none()) versioned = max_version.cast<std::pair<int, int>>().first >= 1;
  bool do_copy = !copy.is_none() && copy.cast<bool>();
  Tensor t = do_copy ? ops::clone(self) : self;

  auto* ctx = new ExportCtx();
  ctx->storage = t->storage;
  ctx->shape = t->shape;
  ctx->strides = t->strides;
  dlpack::DLTensor dl{};
  dl.data = t->raw();
  dl.device = {dlpack::kDLCPU, 0};
  dl.ndim = int32_t(t->ndim());
  dl.dtype = dl_dtype(t->dtype);
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  dl.byte_offset = 0;
  PyObject* cap;
  if (versioned) {
    auto& m = ctx->versioned;
    m.version = {dlpack::kMajorVersion, dlpack::kMinorVersion};
    m.manager_ctx = ctx;
    m.deleter = [](dlpack::ManagedTensorVersioned* p) { delete static_cast<ExportCtx*>(p->manager_ctx); };
    m.flags = do_copy ? dlpack::kFlagIsCopied : 0;
    m.dl_tensor = dl;
    cap = PyCapsule_New(&m, kVersionedName,
                        capsule_destructor<dlpack::ManagedTensorVersioned, &kVersionedNamePtr, &kUsedVersionedNamePtr>);
  } else {
    auto& m = ctx->legacy;
    m.manager_ctx = ctx;
    m.deleter = [](dlpack::ManagedTensor* p) { delete static_cast<ExportCtx*>(p->manager_ctx); };
    m.dl_tensor = dl;
    cap = PyCapsule_New(&m, kLegacyName,
                        capsule_destructor<dlpack::ManagedTensor, &kLegacyNamePtr, &kUsedLegacyNamePtr>);
  }
  if (!cap) {
    delete ctx;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(cap);
}

// ---- DLPack import --------------------------------------------------------------------------
DType dtype_from_dl(const dlpack::DataType& t) {
  TGX_CHECK(t.lanes == 1, TypeError, "[from_dlpack] vector dtypes (lanes=", t.lanes, ") are not supported");
  if (t.code == dlpack::kDLBool && t.bits == 8) return DType::Bool;
  if (t.code == dlpack::kDLUInt && t.bits == 8) return DType::UInt8;
  if (t.code == dlpack::kDLInt && t.bits == 32) return DType::Int32;
  if (t.code == dlpack::kDLInt && t.bits == 64) return DType::Int64;
  if (t.code == dlpack::kDLFloat && t.bits == 32) return DType::Float32;
  if (t.code == dlpack::kDLFloat && t.bits == 64) return DType::Float64;
  const char* kinds[] = {"int", "uint", "float", "opaque", "bfloat", "complex", "bool"};
  throw TypeError(str("[from_dlpack] DLPack dtype ", t.code < 7 ? kinds[t.code] : "code?", int(t.bits),
                      " is not supported (supported: bool, uint8, int32, int64, float32, float64)"));
}

py::object capsule_from(py::handle obj) {
  if (PyCapsule_CheckExact(obj.ptr())) return py::reinterpret_borrow<py::object>(obj);
  TGX_CHECK(py::hasattr(obj, "__dlpack__"), TypeError,
            "[from_dlpack] expected an object with __dlpack__ or a DLPack capsule, got ", type_name(obj));
  if (py::hasattr(obj, "__dlpack_device__")) {
    auto dev = obj.attr("__dlpack_device__")().cast<std::pair<int, int>>();
    TGX_CHECK(dev.first == dlpack::kDLCPU, NotImplementedError,
              "[from_dlpack] only cpu tensors can be imported, got DLPack device (", dev.first, ", ",
              dev.second, ")");
  }
  try {
    return obj.attr("__dlpack__")(py::arg("max_version") = py::make_tuple(1, 0));
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_TypeError)) throw;
  }
  return obj.attr("__dlpack__")();  // a producer older than DLPack 1.0
}

Tensor from_dlpack(py::handle obj, py::object copy) {
  py::object cap = capsule_from(obj);
  PyObject* c = cap.ptr();
  bool versioned = PyCapsule_IsValid(c, kVersionedName);
  TGX_CHECK(versioned || PyCapsule_IsValid(c, kLegacyName), ValueError,
            PyCapsule_IsValid(c, kUsedLegacyName) || PyCapsule_IsValid(c, kUsedVersionedName)
                ? "[from_dlpack] this DLPack capsule was already consumed (a capsule can be used only once)"
                : "[from_dlpack] expected a capsule named 'dltensor' or 'dltensor_versioned'");
  dlpack::DLTensor* dl;
  std::function<void()> release;
  bool readonly = false;
  if (versioned) {
    auto* m = static_cast<dlpack::ManagedTensorVersioned*>(PyCapsule_GetPointer(c, kVersionedName));
    TGX_CHECK(m->version.major == dlpack::kMajorVersion, ValueError, "[from_dlpack] DLPack version ",
              m->version.major, ".", m->version.minor, " is not supported (expected 1.x)");
    dl = &m->dl_tensor;
    readonly = m->flags & dlpack::kFlagReadOnly;
    release = [m] { if (m->deleter) with_gil([m] { m->deleter(m); }); };
  } else {
    auto* m = static_cast<dlpack::ManagedTensor*>(PyCapsule_GetPointer(c, kLegacyName));
    dl = &m->dl_tensor;
    release = [m] { if (m->deleter) with_gil([m] { m->deleter(m); }); };
  }
  // Validate everything before taking ownership: on error the capsule still frees itself.
  TGX_CHECK(dl->device.device_type == dlpack::kDLCPU, NotImplementedError,
            "[from_dlpack] only cpu tensors can be imported, got DLPack device type ", dl->device.device_type);
  DType dt = dtype_from_dl(dl->dtype);
  TGX_CHECK(dl->ndim >= 0 && (dl->ndim == 0 || dl->shape), ValueError, "[from_dlpack] invalid ndim ", dl->ndim);
  Shape shape(dl->shape, dl->shape + dl->ndim);
  Shape strides = dl->strides ? Shape(dl->strides, dl->strides + dl->ndim) : contiguous_strides(shape);
  bool want_copy = !copy.is_none() && copy.cast<bool>();
  TGX_CHECK(!readonly || copy.is_none() || want_copy, ValueError,
            "[from_dlpack] the producer exported read-only memory and tinygrad_ext tensors are writable; "
            "pass copy=None or copy=True to import a copy");
  char* first = static_cast<char*>(dl->data) + dl->byte_offset;
  TGX_CHECK(reinterpret_cast<uintptr_t>(first) % itemsize(dt) == 0, ValueError,
            "[from_dlpack] the data is not aligned to its element size (", itemsize(dt),
            " bytes); copy it first");
  Tensor t = wrap_external(first, dt, std::move(shape), std::move(strides), std::move(release), "from_dlpack");
  PyCapsule_SetName(c, versioned ? kUsedVersionedName : kUsedLegacyName);
  // Read-only memory is imported as a copy, so that writes through the tensor can't reach it.
  if (readonly || want_copy) return ops::clone(t);
  return t;
}

// ---- as_tensor ------------------------------------------------------------------------------
bool numpy_shareable(const py::array& a) {
  try {
    dtype_from_numpy(a.dtype());
  } catch (const TypeError&) {
    return false;
  }
  return a.dtype().attr("isnative").cast<bool>() && (a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_);
}

Tensor as_tensor(py::handle data, py::object dtype) {
  if (py::isinstance<TensorImpl>(data)) {
    Tensor t = data.cast<Tensor>();
    return dtype.is_none() ? t : ops::to_dtype(t, dtype_from_py(dtype));
  }
  if (py::isinstance<py::array>(data) && numpy_shareable(py::reinterpret_borrow<py::array>(data))) {
    Tensor t = from_numpy(data);
    return dtype.is_none() ? t : ops::to_dtype(t, dtype_from_py(dtype));
  }
  return tensor_from_data(data, dtype);
}

}  // namespace

void init_interop(py::module_& m) {
  TensorClass cls = tensor_class(m);
  cls.def_buffer(&buffer_of)
      .def("numpy", &to_numpy, py::kw_only(), py::arg("force") = false,
           "A NumPy array sharing this tensor's memory (force=True: a copy, allowed with grad).")
      .def("tolist", [](const Tensor& t) { return numpy_view(t).attr("tolist")(); },
           "The data as (nested) Python lists of Python numbers.")
      .def("__dlpack__", &to_dlpack, py::kw_only(), py::arg("stream") = py::none(),
           py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(),
           py::arg("copy") = py::none(),
           "A DLPack capsule sharing this tensor's memory ('dltensor_versioned' if max_version >= (1, 0)).")
      .def("__dlpack_device__", [](const Tensor&) { return py::make_tuple(int(dlpack::kDLCPU), 0); },
           "(device type, device id) in DLPack's terms: (1, 0) for the cpu.");
  m.def("_numpy_view", &numpy_view, py::arg("tensor").none(false),
        "A NumPy view of the tensor, without the requires_grad check (repr, pickle).");
  m.def("from_numpy", &from_numpy, py::arg("ndarray"),
        "A tensor sharing the NumPy array's memory (any strides); keeps the array alive.");
  m.def("from_dlpack", &from_dlpack, py::arg("ext_tensor"), py::kw_only(), py::arg("copy") = py::none(),
        "A tensor sharing memory with an object implementing __dlpack__ (or a DLPack capsule).");
  m.def("as_tensor", [](py::handle data, py::object dtype, py::object device) {
    if (!device.is_none()) {
      std::string d = py::str(device).cast<std::string>();
      TGX_CHECK(d == "cpu" || d == "cpu:0", NotImplementedError,
                "[as_tensor] device '", d, "' is not available in this build (only 'cpu')");
    }
    return as_tensor(data, dtype);
  }, py::arg("data"), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        "data as a tensor, sharing memory when it already is a tensor or a NumPy array of the dtype.");
}

}  // namespace tgx::bind
