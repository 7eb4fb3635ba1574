// Shared by the binding files: argument conversion and the dtype <-> Python object caster.
// Bindings convert and raise; they never compute.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/tensor.h"
#include "ops/elementwise.h"

namespace py = pybind11;

namespace tgx::bind {

using TensorClass = py::class_<TensorImpl, Tensor>;

// Python-visible dtype objects: one singleton per DType (tinygrad_ext.float32, ...).
struct DTypeObject {
  DType dtype;
};
py::object dtype_object(DType t);
// Accepts a tinygrad_ext dtype, a NumPy dtype or type, or a name ("float32").
DType dtype_from_py(py::handle h);
DType dtype_from_numpy(const py::dtype& dt);  // TypeError for unsupported
py::dtype numpy_dtype(DType t);

// A Python number -> Scalar; returns false if h is not a number.
bool scalar_from_py(py::handle h, Scalar& out);
// Tensor, Python number (as a wrapped 0-d tensor), or array-like (via tensor()).
Tensor to_tensor_arg(py::handle h, const char* op);
// tinygrad_ext.tensor(data, dtype): copies.
Tensor tensor_from_data(py::handle data, py::object dtype);
// Shape from ints, a tuple/list of ints, or a torch.Size-like sequence.
Shape shape_from_args(py::args args, const char* op);
Shape shape_from_py(py::handle h, const char* op);

// py::cast(Tensor) without pybind11's per-call type lookups (the conversion every op result
// goes through). Same object as py::cast: an existing wrapper of the same TensorImpl is reused.
inline py::object tensor_object(const Tensor& t) {
  if (!t) return py::none();
  static const py::detail::type_info* info = py::detail::get_type_info(typeid(TensorImpl));
#if PYBIND11_VERSION_MAJOR >= 3
  py::handle h = py::detail::type_caster_generic::cast(py::detail::cast_sources(t.get(), info),
                                                       py::return_value_policy::take_ownership,
                                                       {}, nullptr, nullptr, &t);
#else
  py::handle h = py::detail::type_caster_generic::cast(
      t.get(), py::return_value_policy::take_ownership, {}, info, nullptr, nullptr, &t);
#endif
  if (!h) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(h);
}

inline TensorClass tensor_class(py::module_& m) {
  return py::reinterpret_borrow<TensorClass>(m.attr("Tensor"));
}

// Release the GIL around work big enough to be worth it.
constexpr int64_t kNoGilThreshold = 1 << 15;
template <typename F>
auto maybe_nogil(int64_t work, F&& f) -> decltype(f()) {
  if (work >= kNoGilThreshold) {
    py::gil_scoped_release release;
    return f();
  }
  return f();
}

void init_tensor(py::module_& m);
void init_elementwise(py::module_& m);
void init_creation(py::module_& m);
void init_reduce(py::module_& m);
void init_shape(py::module_& m);
void init_index(py::module_& m);
void init_matmul(py::module_& m);
void init_interop(py::module_& m);
void init_autograd(py::module_& m);
void init_optim(py::module_& m);
void init_loss(py::module_& m);
void init_conv(py::module_& m);
void init_pool(py::module_& m);
void init_rnn(py::module_& m);
void init_attention(py::module_& m);
void init_norm(py::module_& m);

}  // namespace tgx::bind

namespace pybind11::detail {
// Shape converts like std::vector<int64_t>: from any sequence of ints, to a list.
template <> struct type_caster<tgx::Shape> : list_caster<tgx::Shape, int64_t> {};

template <> struct type_caster<tgx::DType> {
 public:
  PYBIND11_TYPE_CASTER(tgx::DType, const_name("dtype"));
  bool load(handle src, bool) {
    if (src.is_none()) return false;
    try {
      value = tgx::bind::dtype_from_py(src);
      return true;
    } catch (const tgx::TypeError&) {
      return false;
    }
  }
  static handle cast(tgx::DType src, return_value_policy, handle) {
    return tgx::bind::dtype_object(src).release();
  }
};
}  // namespace pybind11::detail
