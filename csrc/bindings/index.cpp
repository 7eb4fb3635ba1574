// Indexing: t[key] / t[key] = value (the key is parsed here into ops::IndexSpec entries; the
// op does the work) and the PyTorch indexing functions, bound as functions and methods.
#include "bindings/common.h"
#include "ops/index.h"

namespace tgx::bind {
namespace {

using ops::IndexSpec;

std::string type_name(py::handle h) {
  return std::string(py::str(py::type::handle_of(h).attr("__name__")));
}

[[noreturn]] void bad_index(py::handle h) {
  throw IndexError(str("[index] only integers, slices (`:`), ellipsis (`...`), None and integer "
                       "or boolean tensors are valid indices (got ", type_name(h), ")"));
}

// A tensor used as an index: bool -> mask, 0-d integer -> int, other integer -> advanced.
IndexSpec tensor_index(const Tensor& t) {
  if (t->dtype == DType::Bool) return IndexSpec::array(t);
  TGX_CHECK(is_integral(t->dtype, false), IndexError,
            "[index] tensors used as indices must be integer or bool tensors, got ", t->dtype);
  if (t->ndim() == 0) {
    return IndexSpec::integer(dispatch(t->dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      return int64_t(*t->data<T>());
    }));
  }
  return IndexSpec::array(t);
}

// A list, nested tuple or NumPy array used as an index.
IndexSpec array_index(py::handle h) {
  py::array arr;
  try {
    arr = py::module_::import("numpy").attr("asarray")(h);
  } catch (py::error_already_set&) {
    bad_index(h);
  }
  char kind = arr.dtype().kind();
  if (arr.size() == 0 && kind == 'f' && !py::isinstance<py::array>(h)) {  // [] is an int index
    arr = arr.attr("astype")("int64");
    kind = 'i';
  }
  TGX_CHECK(kind == 'b' || kind == 'i' || kind == 'u', IndexError,
            "[index] arrays used as indices must be of integer (or boolean) type, got NumPy dtype ",
            std::string(py::str(arr.dtype())));
  return tensor_index(tensor_from_data(arr, py::none()));
}

IndexSpec slice_index(py::handle h) {
  py::object step = h.attr("step");
  if (!step.is_none() && PyIndex_Check(step.ptr())) {
    Py_ssize_t s = PyNumber_AsSsize_t(step.ptr(), nullptr);
    if (s == -1 && PyErr_Occurred()) throw py::error_already_set();
    TGX_CHECK(s != 0, ValueError, "[index] slice step cannot be zero");
  }
  Py_ssize_t start, stop, st;
  if (PySlice_Unpack(h.ptr(), &start, &stop, &st) < 0) throw py::error_already_set();
  return IndexSpec::slice(start, stop, st);
}

void parse_one(py::handle h, ops::Indices& out) {
  PyObject* o = h.ptr();
  if (o == Py_None) {
    out.push_back(IndexSpec::newaxis());
  } else if (o == Py_Ellipsis) {
    out.push_back(IndexSpec::ellipsis());
  } else if (PyBool_Check(o)) {
    out.push_back(IndexSpec::array(ops::scalar_tensor(Scalar::from_bool(o == Py_True), DType::Bool)));
  } else if (PyLong_Check(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    TGX_CHECK(!overflow, IndexError, "[index] index ", std::string(py::str(h)), " is out of bounds");
    out.push_back(IndexSpec::integer(v));
  } else if (PySlice_Check(o)) {
    out.push_back(slice_index(h));
  } else if (py::isinstance<TensorImpl>(h)) {
    out.push_back(tensor_index(h.cast<Tensor>()));
  } else if (PyList_Check(o) || PyTuple_Check(o) || py::isinstance<py::array>(h)) {
    out.push_back(array_index(h));
  } else {
    Scalar s;
    if (scalar_from_py(h, s)) {  // NumPy scalars
      if (s.kind == Scalar::Float) bad_index(h);
      out.push_back(s.kind == Scalar::Bool
                        ? IndexSpec::array(ops::scalar_tensor(s, DType::Bool))
                        : IndexSpec::integer(s.i));
    } else if (PyIndex_Check(o)) {
      out.push_back(IndexSpec::integer(py::int_(py::reinterpret_borrow<py::object>(h)).cast<int64_t>()));
    } else {
      bad_index(h);
    }
  }
}

ops::Indices parse_index(py::handle key) {
  ops::Indices out;
  if (PyTuple_Check(key.ptr())) {
    for (py::handle h : key) parse_one(h, out);
  } else {
    parse_one(key, out);
  }
  return out;
}

// A value argument: a number becomes a wrapped 0-d tensor, lists and arrays become tensors.
Tensor value_arg(py::handle h, const char* op) { return to_tensor_arg(h, op); }

ScatterReduce reduce_arg(py::handle reduce, const char* op) {
  if (reduce.is_none()) return ScatterReduce::None;
  std::string r = py::isinstance<py::str>(reduce) ? reduce.cast<std::string>() : "";
  if (r == "add") return ScatterReduce::Add;
  if (r == "multiply") return ScatterReduce::Mul;
  throw ValueError(str("[", op, "] reduce argument must be either 'add' or 'multiply', got ",
                       std::string(py::repr(reduce))));
}

Tensor scatter_impl(const Tensor& self, int64_t dim, py::handle index, py::handle src,
                    py::handle value, py::handle reduce, bool inplace) {
  const char* op = inplace ? "scatter_" : "scatter";
  Tensor idx = to_tensor_arg(index, op);
  ScatterReduce r = reduce_arg(reduce, op);
  Scalar s;
  bool have_src = !src.is_none(), have_value = !value.is_none();
  TGX_CHECK(have_src != have_value, TypeError, "[", op, "] expected exactly one of src or value");
  py::handle v = have_src ? src : value;
  bool is_value = have_value || scalar_from_py(v, s);
  Tensor t = is_value ? value_arg(v, op) : to_tensor_arg(v, op);
  return maybe_nogil(idx->numel(), [&] {
    return ops::scatter_(inplace ? self : ops::clone(self), dim, idx, t, r, is_value, op);
  });
}

std::vector<int64_t> dims_arg(py::handle dim, const char* op) {
  if (dim.is_none()) return {};
  return shape_from_py(dim, op);
}

Tensor searchsorted_impl(const Tensor& sorted, py::handle input, bool out_int32, bool right,
                         py::handle side, py::handle sorter) {
  const char* op = "searchsorted";
  if (!side.is_none()) {
    std::string s = py::isinstance<py::str>(side) ? side.cast<std::string>() : "";
    TGX_CHECK(s == "left" || s == "right", ValueError,
              "[searchsorted] side can only be 'left' or 'right', got ", std::string(py::repr(side)));
    TGX_CHECK(!(right && s == "left"), ValueError,
              "[searchsorted] side and right can't be set to opposites, got side of left while right was True");
    right = s == "right";
  }
  Tensor seq = sorted;
  if (!sorter.is_none()) seq = ops::gather(sorted, -1, to_tensor_arg(sorter, op));
  Tensor values = to_tensor_arg(input, op);
  return maybe_nogil(values->numel(), [&] { return ops::searchsorted(seq, values, right, out_int32); });
}

// Binds f as tinygrad_ext.<name>(input, ...) and as the method Tensor.<name>(...).
template <typename F, typename... Extra>
void def_both(py::module_& m, TensorClass& cls, const char* name, F f, const char* doc,
              const Extra&... extra) {
  m.def(name, f, py::arg("input").none(false), extra..., doc);
  cls.def(name, f, extra..., doc);
}

}  // namespace

void init_index(py::module_& m) {
  TensorClass cls = tensor_class(m);
  cls.def("__getitem__", [](const Tensor& self, py::handle key) {
    ops::Indices idx = parse_index(key);
    return maybe_nogil(ops::is_basic(idx) ? 0 : self->numel(), [&] { return ops::index(self, idx); });
  });
  cls.def("__setitem__", [](const Tensor& self, py::handle key, py::handle value) {
    ops::Indices idx = parse_index(key);
    Tensor v = value_arg(value, "index_put_");
    maybe_nogil(self->numel(), [&] { ops::index_put_(self, idx, v); });
  });
  cls.def("index_put_", [](const Tensor& self, py::tuple indices, py::handle values, bool accumulate) {
    ops::Indices idx;
    for (py::handle h : indices) {
      TGX_CHECK(py::isinstance<TensorImpl>(h), TypeError, "[index_put_] indices must be a tuple of tensors");
      idx.push_back(IndexSpec::array(h.cast<Tensor>()));
    }
    Tensor v = value_arg(values, "index_put_");
    return maybe_nogil(self->numel(), [&] { return ops::index_put_(self, idx, v, accumulate); });
  }, py::arg("indices"), py::arg("values"), py::arg("accumulate") = false,
     "self[indices] = values (or += with accumulate); indices is a tuple of tensors.");

  def_both(m, cls, "gather", [](const Tensor& self, int64_t dim, py::handle index, bool) {
    Tensor idx = to_tensor_arg(index, "gather");
    return maybe_nogil(idx->numel(), [&] { return ops::gather(self, dim, idx); });
  }, "Values along dim at index: out[i][j] = input[index[i][j]][j] for dim=0.",
     py::arg("dim"), py::arg("index"), py::kw_only(), py::arg("sparse_grad") = false);

  for (bool inplace : {false, true}) {
    const char* name = inplace ? "scatter_" : "scatter";
    auto f = [inplace](const Tensor& self, int64_t dim, py::handle index, py::handle src,
                       py::handle value, py::handle reduce) {
      return scatter_impl(self, dim, index, src, value, reduce, inplace);
    };
    const char* doc = "Writes src (or value) into self at index along dim; reduce='add'|'multiply'.";
    if (!inplace)
      m.def(name, f, py::arg("input").none(false), py::arg("dim"), py::arg("index"),
            py::arg("src") = py::none(), py::kw_only(), py::arg("value") = py::none(),
            py::arg("reduce") = py::none(), doc);
    cls.def(name, f, py::arg("dim"), py::arg("index"), py::arg("src") = py::none(), py::kw_only(),
            py::arg("value") = py::none(), py::arg("reduce") = py::none(), doc);
  }
  def_both(m, cls, "scatter_add", [](const Tensor& self, int64_t dim, py::handle index, const Tensor& src) {
    Tensor idx = to_tensor_arg(index, "scatter_add");
    return ops::scatter_(ops::clone(self), dim, idx, src, ScatterReduce::Add, false, "scatter_add");
  }, "scatter with reduce='add', out of place.", py::arg("dim"), py::arg("index"), py::arg("src").none(false));
  cls.def("scatter_add_", [](const Tensor& self, int64_t dim, py::handle index, const Tensor& src) {
    Tensor idx = to_tensor_arg(index, "scatter_add_");
    return ops::scatter_(self, dim, idx, src, ScatterReduce::Add, false, "scatter_add_");
  }, py::arg("dim"), py::arg("index"), py::arg("src").none(false), "In-place scatter_add.");

  def_both(m, cls, "index_select", [](const Tensor& self, int64_t dim, py::handle index) {
    Tensor idx = to_tensor_arg(index, "index_select");
    return maybe_nogil(self->numel(), [&] { return ops::index_select(self, dim, idx); });
  }, "The entries of input at index (a vector) along dim.", py::arg("dim"), py::arg("index"));

  for (bool inplace : {false, true}) {
    auto add = [inplace](const Tensor& self, int64_t dim, py::handle index, const Tensor& source,
                         py::handle alpha) {
      Scalar a;
      TGX_CHECK(scalar_from_py(alpha, a), TypeError, "[index_add] alpha must be a number");
      Tensor idx = to_tensor_arg(index, "index_add");
      return ops::index_add_(inplace ? self : ops::clone(self), dim, idx, source, a);
    };
    auto copy = [inplace](const Tensor& self, int64_t dim, py::handle index, const Tensor& source) {
      Tensor idx = to_tensor_arg(index, "index_copy");
      return ops::index_copy_(inplace ? self : ops::clone(self), dim, idx, source);
    };
    auto fill = [inplace](const Tensor& self, int64_t dim, py::handle index, py::handle value) {
      Tensor idx = to_tensor_arg(index, "index_fill");
      Tensor v = value_arg(value, "index_fill");
      return ops::index_fill_(inplace ? self : ops::clone(self), dim, idx, v);
    };
    auto mfill = [inplace](const Tensor& self, py::handle mask, py::handle value) {
      Tensor mk = to_tensor_arg(mask, "masked_fill"), v = value_arg(value, "masked_fill");
      return maybe_nogil(self->numel(), [&] {
        return inplace ? ops::masked_fill_(self, mk, v) : ops::masked_fill(self, mk, v);
      });
    };
    auto mscatter = [inplace](const Tensor& self, py::handle mask, const Tensor& source) {
      Tensor mk = to_tensor_arg(mask, "masked_scatter");
      return ops::masked_scatter_(inplace ? self : ops::clone(self), mk, source);
    };
    auto put = [inplace](const Tensor& self, py::handle index, const Tensor& source, bool accumulate) {
      Tensor idx = to_tensor_arg(index, "put");
      return ops::put_(inplace ? self : ops::clone(self), idx, source, accumulate);
    };
    if (inplace) {
      cls.def("index_add_", add, py::arg("dim"), py::arg("index"), py::arg("source").none(false),
              py::kw_only(), py::arg("alpha") = 1, "self[..., index[i], ...] += alpha * source[..., i, ...].");
      cls.def("index_copy_", copy, py::arg("dim"), py::arg("index"), py::arg("source").none(false),
              "self[..., index[i], ...] = source[..., i, ...].");
      cls.def("index_fill_", fill, py::arg("dim"), py::arg("index"), py::arg("value"),
              "self[..., index[i], ...] = value.");
      cls.def("masked_fill_", mfill, py::arg("mask"), py::arg("value"), "self[mask] = value (mask broadcasts).");
      cls.def("masked_scatter_", mscatter, py::arg("mask"), py::arg("source").none(false),
              "Copies source's leading elements into self where mask is True.");
      cls.def("put_", put, py::arg("index"), py::arg("source").none(false), py::arg("accumulate") = false,
              "self.flatten()[index] = source (or += with accumulate).");
    } else {
      def_both(m, cls, "index_add", add, "Out-of-place index_add_.", py::arg("dim"), py::arg("index"),
               py::arg("source").none(false), py::kw_only(), py::arg("alpha") = 1);
      def_both(m, cls, "index_copy", copy, "Out-of-place index_copy_.", py::arg("dim"), py::arg("index"),
               py::arg("source").none(false));
      def_both(m, cls, "index_fill", fill, "Out-of-place index_fill_.", py::arg("dim"), py::arg("index"),
               py::arg("value"));
      def_both(m, cls, "masked_fill", mfill, "input with value where mask is True (mask broadcasts).",
               py::arg("mask"), py::arg("value"));
      def_both(m, cls, "masked_scatter", mscatter, "Out-of-place masked_scatter_.", py::arg("mask"),
               py::arg("source").none(false));
      def_both(m, cls, "put", put, "Out-of-place put_.", py::arg("index"), py::arg("source").none(false),
               py::arg("accumulate") = false);
    }
  }

  def_both(m, cls, "masked_select", [](const Tensor& self, py::handle mask) {
    Tensor mk = to_tensor_arg(mask, "masked_select");
    return maybe_nogil(self->numel(), [&] { return ops::masked_select(self, mk); });
  }, "1-d tensor of the elements of input where mask (broadcast) is True.", py::arg("mask"));
  def_both(m, cls, "take", [](const Tensor& self, py::handle index) {
    Tensor idx = to_tensor_arg(index, "take");
    return maybe_nogil(idx->numel(), [&] { return ops::take(self, idx); });
  }, "input treated as 1-d, indexed by index (negative indices count from the end).", py::arg("index"));
  def_both(m, cls, "take_along_dim", [](const Tensor& self, py::handle indices, std::optional<int64_t> dim) {
    Tensor idx = to_tensor_arg(indices, "take_along_dim");
    return maybe_nogil(idx->numel(), [&] { return ops::take_along_dim(self, idx, dim); });
  }, "Values at indices along dim (broadcasting the other dims); flat when dim is None.",
     py::arg("indices"), py::arg("dim") = py::none());
  def_both(m, cls, "nonzero", [](const Tensor& self, bool as_tuple) -> py::object {
    if (as_tuple) return py::tuple(py::cast(ops::nonzero_tuple(self)));
    return py::cast(maybe_nogil(self->numel(), [&] { return ops::nonzero(self); }));
  }, "Indices of the nonzero elements: int64 [n, ndim], or a tuple of ndim vectors.",
     py::kw_only(), py::arg("as_tuple") = false);
  def_both(m, cls, "argwhere", [](const Tensor& self) {
    return maybe_nogil(self->numel(), [&] { return ops::nonzero(self); });
  }, "Same as nonzero(input): int64 [n, ndim].");
  def_both(m, cls, "count_nonzero", [](const Tensor& self, py::handle dim) {
    std::vector<int64_t> dims = dims_arg(dim, "count_nonzero");
    return maybe_nogil(self->numel(), [&] { return ops::count_nonzero(self, dims); });
  }, "Number of nonzero elements, over all dims or along dim (an int or a tuple).",
     py::arg("dim") = py::none());

  m.def("one_hot", [](const Tensor& t, int64_t num_classes) { return ops::one_hot(t, num_classes); },
        py::arg("tensor").none(false), py::arg("num_classes") = -1,
        "int64 one-hot encoding: shape tensor.shape + (num_classes,) (-1: max + 1).");
  m.def("searchsorted", &searchsorted_impl, py::arg("sorted_sequence").none(false),
        py::arg("input").none(false), py::kw_only(), py::arg("out_int32") = false,
        py::arg("right") = false, py::arg("side") = py::none(), py::arg("sorter") = py::none(),
        "Insertion points of input in the last dim of sorted_sequence.");
  m.def("bucketize", [](py::handle input, const Tensor& boundaries, bool out_int32, bool right) {
    TGX_CHECK(boundaries->ndim() == 1, ValueError, "[bucketize] boundaries tensor must be 1 "
              "dimension, but got dim(", boundaries->ndim(), ")");
    Tensor values = to_tensor_arg(input, "bucketize");
    return maybe_nogil(values->numel(), [&] {
      return ops::searchsorted(boundaries, values, right, out_int32, "bucketize");
    });
  }, py::arg("input").none(false), py::arg("boundaries").none(false), py::kw_only(),
     py::arg("out_int32") = false, py::arg("right") = false,
     "Index of the bucket of each input value given 1-d sorted boundaries.");
}

}  // namespace tgx::bind
