// Reductions and scans as functions (tinygrad_ext.sum) and methods (t.sum). Argument parsing
// only: dim as None / int / tuple / list, PyTorch's legacy overloads (var(unbiased), max(other)).
#include <cmath>

#include "bindings/common.h"
#include "ops/reduce.h"

namespace tgx::bind {
namespace {

using ops::Dims;

bool is_int_like(py::handle h) {
  return py::isinstance<py::int_>(h) && !py::isinstance<py::bool_>(h);
}

int64_t dim_from_py(py::handle h, const char* op) {
  if (is_int_like(h)) return h.cast<int64_t>();
  if (!py::isinstance<py::float_>(h) && !py::isinstance<py::bool_>(h) && py::hasattr(h, "__index__"))
    return py::int_(py::reinterpret_borrow<py::object>(h)).cast<int64_t>();
  throw TypeError(str("[", op, "] dim must be an int, got ",
                      std::string(py::str(py::type::handle_of(h).attr("__name__")))));
}

// None -> all dims (empty), int -> one dim, tuple/list -> those dims (empty = all).
Dims dims_from_py(py::handle h, const char* op) {
  Dims d;
  if (h.is_none()) return d;
  if (py::isinstance<py::tuple>(h) || py::isinstance<py::list>(h)) {
    for (py::handle x : h) d.push_back(dim_from_py(x, op));
    return d;
  }
  d.push_back(dim_from_py(h, op));
  return d;
}

std::optional<int64_t> opt_dim(py::handle h, const char* op) {
  if (h.is_none()) return std::nullopt;
  return dim_from_py(h, op);
}

std::optional<DType> opt_dtype(py::handle h) {
  if (h.is_none()) return std::nullopt;
  return dtype_from_py(h);
}

// var/std: correction= wins; the legacy unbiased flag maps to correction 1 or 0.
double correction_of(py::handle unbiased, py::handle correction, const char* op) {
  if (!correction.is_none()) {
    TGX_CHECK(unbiased.is_none(), TypeError, "[", op, "] pass either unbiased or correction, not both");
    TGX_CHECK(py::isinstance<py::int_>(correction) || py::isinstance<py::float_>(correction), TypeError,
              "[", op, "] correction must be a number");
    return correction.cast<double>();
  }
  if (unbiased.is_none()) return 1;
  TGX_CHECK(py::isinstance<py::bool_>(unbiased), TypeError, "[", op, "] unbiased must be a bool");
  return unbiased.cast<bool>() ? 1 : 0;
}

double norm_p(py::handle p) {
  if (p.is_none()) return 2;
  if (py::isinstance<py::str>(p)) {
    std::string s = p.cast<std::string>();
    if (s == "fro") return 2;
    if (s == "nuc") throw NotImplementedError("[norm] the nuclear norm ('nuc') is not supported");
    throw ValueError(str("[norm] unknown norm type '", s, "' (expected 'fro', a number or inf)"));
  }
  TGX_CHECK(py::isinstance<py::int_>(p) || py::isinstance<py::float_>(p), TypeError,
            "[norm] p must be a number, inf or 'fro'");
  return p.cast<double>();
}

py::object make_namedtuple(const char* name, const char* a, const char* b) {
  return py::module_::import("collections").attr("namedtuple")(
      name, py::make_tuple(a, b), py::arg("module") = "tinygrad_ext.return_types");
}

}  // namespace

void init_reduce(py::module_& m) {
  TensorClass cls = tensor_class(m);
  py::module_ rt = m.def_submodule("return_types", "Named tuples returned by reductions.");
  for (const char* name : {"max", "min"}) rt.attr(name) = make_namedtuple(name, "values", "indices");
  rt.attr("aminmax") = make_namedtuple("aminmax", "min", "max");
  py::object max_t = rt.attr("max"), min_t = rt.attr("min"), aminmax_t = rt.attr("aminmax");

  // ---- sum / mean / prod ----
  // `axis` is accepted as an alias of `dim`, and `out=`, as PyTorch does, so that NumPy's
  // np.sum(t) / np.mean(t) (which call t.sum(axis=None, out=None)) work.
  auto def_sum_like = [&](const char* name, auto op, const char* doc) {
    auto fn = [op, name](const Tensor& x, py::handle dim, bool keepdim, py::handle dtype,
                         py::handle axis, py::handle out) {
      TGX_CHECK(dim.is_none() || axis.is_none(), TypeError, "[", name,
                "] got both dim and its alias axis");
      Dims d = dims_from_py(dim.is_none() ? axis : dim, name);
      auto dt = opt_dtype(dtype);
      Tensor r = maybe_nogil(x->numel(), [&] { return op(x, d, keepdim, dt); });
      if (out.is_none()) return r;
      TGX_CHECK(py::isinstance<TensorImpl>(out), TypeError, "[", name, "] out must be a Tensor");
      Tensor o = out.cast<Tensor>();
      TGX_CHECK(o->shape == r->shape, ValueError, "[", name, "] out has shape ", o->shape,
                " but the result has shape ", r->shape);
      return ops::copy_(o, r);
    };
    m.def(name, fn, py::arg("input").none(false), py::arg("dim") = py::none(),
          py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none(),
          py::arg("axis") = py::none(), py::arg("out") = py::none(), doc);
    cls.def(name, fn, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
            py::arg("dtype") = py::none(), py::arg("axis") = py::none(),
            py::arg("out") = py::none(), doc);
  };
  def_sum_like("sum", [](const Tensor& x, const Dims& d, bool k, std::optional<DType> dt) {
    return ops::sum(x, d, k, dt);
  }, "Sum over dim (an int, a tuple, or None for all); ints and bools sum to int64.");
  def_sum_like("mean", [](const Tensor& x, const Dims& d, bool k, std::optional<DType> dt) {
    return ops::mean(x, d, k, dt);
  }, "Mean over dim; needs a floating input or dtype=.");
  def_sum_like("prod", [](const Tensor& x, const Dims& d, bool k, std::optional<DType> dt) {
    return ops::prod(x, d, k, dt);
  }, "Product over dim (or everything); ints and bools multiply to int64.");
  cls.def("sum_to_size", [](const Tensor& x, py::args size) {
    Shape s = shape_from_args(size, "sum_to_size");
    return maybe_nogil(x->numel(), [&] { return ops::sum_to_shape(x, s); });
  }, "Sum the broadcast dims so that the result has the given (broadcastable) size.");
  m.def("_sum_to_shape", [](const Tensor& x, py::handle shape) {
    return ops::sum_to_shape(x, shape_from_py(shape, "sum_to_shape"));
  }, py::arg("grad").none(false), py::arg("shape"));

  // ---- var / std (+ _mean) ----
  auto def_moment = [&](const char* name, bool with_mean, bool take_sqrt, const char* doc) {
    auto fn = [=](const Tensor& x, py::handle dim, py::handle unbiased, bool keepdim,
                  py::handle correction) -> py::object {
      if (py::isinstance<py::bool_>(dim)) {  // legacy var(input, unbiased)
        TGX_CHECK(unbiased.is_none(), TypeError, "[", name, "] unbiased given twice");
        unbiased = dim;
        dim = py::none();
      }
      Dims d = dims_from_py(dim, name);
      double c = correction_of(unbiased, correction, name);
      std::pair<Tensor, Tensor> r = maybe_nogil(x->numel(), [&] {
        if (take_sqrt) return with_mean ? ops::std_mean(x, d, c, keepdim) : std::make_pair(ops::std_dev(x, d, c, keepdim), Tensor());
        return with_mean ? ops::var_mean(x, d, c, keepdim) : std::make_pair(ops::var(x, d, c, keepdim), Tensor());
      });
      if (with_mean) return py::make_tuple(r.first, r.second);
      return py::cast(r.first);
    };
    m.def(name, fn, py::arg("input").none(false), py::arg("dim") = py::none(),
          py::arg("unbiased") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("correction") = py::none(), doc);
    if (!with_mean)
      cls.def(name, fn, py::arg("dim") = py::none(), py::arg("unbiased") = py::none(),
              py::arg("keepdim") = false, py::kw_only(), py::arg("correction") = py::none(), doc);
  };
  def_moment("var", false, false, "Variance over dim, dividing by N - correction (default 1).");
  def_moment("std", false, true, "Standard deviation over dim (correction 1 by default).");
  def_moment("var_mean", true, false, "(var, mean) over dim.");
  def_moment("std_mean", true, true, "(std, mean) over dim.");

  // ---- max / min: full, along a dim (values, indices), or elementwise with a tensor ----
  auto def_max_like = [&](const char* name, bool is_max, py::object tuple_type) {
    auto fn = [=](const Tensor& x, py::handle dim, bool keepdim) -> py::object {
      if (dim.is_none()) return py::cast(maybe_nogil(x->numel(), [&] { return is_max ? ops::max(x) : ops::min(x); }));
      if (py::isinstance<TensorImpl>(dim)) {
        Tensor y = dim.cast<Tensor>();
        return py::cast(ops::binary(is_max ? BinaryOp::Maximum : BinaryOp::Minimum, x, y));
      }
      int64_t d = dim_from_py(dim, name);
      auto r = maybe_nogil(x->numel(), [&] { return is_max ? ops::max(x, d, keepdim) : ops::min(x, d, keepdim); });
      return tuple_type(r.first, r.second);
    };
    const char* doc = is_max
        ? "max(input): largest element; max(input, dim, keepdim) -> (values, indices); max(input, other): maximum."
        : "min(input): smallest element; min(input, dim, keepdim) -> (values, indices); min(input, other): minimum.";
    m.def(name, fn, py::arg("input").none(false), py::arg("dim") = py::none(), py::arg("keepdim") = false, doc);
    cls.def(name, fn, py::arg("dim") = py::none(), py::arg("keepdim") = false, doc);
  };
  def_max_like("max", true, max_t);
  def_max_like("min", false, min_t);

  auto def_amax_like = [&](const char* name, bool is_max) {
    auto fn = [=](const Tensor& x, py::handle dim, bool keepdim) {
      Dims d = dims_from_py(dim, name);
      return maybe_nogil(x->numel(), [&] { return is_max ? ops::amax(x, d, keepdim) : ops::amin(x, d, keepdim); });
    };
    const char* doc = is_max ? "Largest values over dim (int or tuple; all by default)."
                             : "Smallest values over dim (int or tuple; all by default).";
    m.def(name, fn, py::arg("input").none(false), py::arg("dim") = py::tuple(), py::arg("keepdim") = false, doc);
    cls.def(name, fn, py::arg("dim") = py::tuple(), py::arg("keepdim") = false, doc);
  };
  def_amax_like("amax", true);
  def_amax_like("amin", false);

  auto aminmax = [aminmax_t](const Tensor& x, py::handle dim, bool keepdim) {
    auto d = opt_dim(dim, "aminmax");
    auto r = maybe_nogil(x->numel(), [&] { return ops::aminmax(x, d, keepdim); });
    return aminmax_t(r.first, r.second);
  };
  m.def("aminmax", aminmax, py::arg("input").none(false), py::kw_only(), py::arg("dim") = py::none(),
        py::arg("keepdim") = false, "(min, max) over dim or everything.");
  cls.def("aminmax", aminmax, py::kw_only(), py::arg("dim") = py::none(), py::arg("keepdim") = false);

  auto def_arg = [&](const char* name, bool is_max) {
    auto fn = [=](const Tensor& x, py::handle dim, bool keepdim) {
      auto d = opt_dim(dim, name);
      return maybe_nogil(x->numel(), [&] { return is_max ? ops::argmax(x, d, keepdim) : ops::argmin(x, d, keepdim); });
    };
    const char* doc = is_max ? "Index of the largest value (of the flattened input if dim is None)."
                             : "Index of the smallest value (of the flattened input if dim is None).";
    m.def(name, fn, py::arg("input").none(false), py::arg("dim") = py::none(), py::arg("keepdim") = false, doc);
    cls.def(name, fn, py::arg("dim") = py::none(), py::arg("keepdim") = false, doc);
  };
  def_arg("argmax", true);
  def_arg("argmin", false);

  auto def_bool = [&](const char* name, bool is_all) {
    auto fn = [=](const Tensor& x, py::handle dim, bool keepdim) {
      Dims d = dims_from_py(dim, name);
      return maybe_nogil(x->numel(), [&] { return is_all ? ops::all(x, d, keepdim) : ops::any(x, d, keepdim); });
    };
    const char* doc = is_all ? "True where every element over dim is non-zero."
                             : "True where any element over dim is non-zero.";
    m.def(name, fn, py::arg("input").none(false), py::arg("dim") = py::none(), py::arg("keepdim") = false, doc);
    cls.def(name, fn, py::arg("dim") = py::none(), py::arg("keepdim") = false, doc);
  };
  def_bool("all", true);
  def_bool("any", false);

  // ---- logsumexp / softmax / scans / norm ----
  auto logsumexp = [](const Tensor& x, py::handle dim, bool keepdim) {
    Dims d = dims_from_py(dim, "logsumexp");
    return maybe_nogil(x->numel(), [&] { return ops::logsumexp(x, d, keepdim); });
  };
  m.def("logsumexp", logsumexp, py::arg("input").none(false), py::arg("dim") = py::none(),
        py::arg("keepdim") = false, "log(sum(exp(input))) over dim, computed stably.");
  cls.def("logsumexp", logsumexp, py::arg("dim") = py::none(), py::arg("keepdim") = false);

  auto def_softmax = [&](const char* name, bool log) {
    auto fn = [=](const Tensor& x, py::handle dim, py::handle dtype) {
      TGX_CHECK(!dim.is_none(), TypeError, "[", name, "] dim is required");
      int64_t d = dim_from_py(dim, name);
      auto dt = opt_dtype(dtype);
      return maybe_nogil(x->numel(), [&] { return log ? ops::log_softmax(x, d, dt) : ops::softmax(x, d, dt); });
    };
    const char* doc = log ? "log(softmax(input)) along dim, in one stable pass per row."
                          : "exp(input) / sum(exp(input)) along dim, computed stably.";
    m.def(name, fn, py::arg("input").none(false), py::arg("dim") = py::none(), py::arg("dtype") = py::none(), doc);
    cls.def(name, fn, py::arg("dim") = py::none(), py::arg("dtype") = py::none(), doc);
  };
  def_softmax("softmax", false);
  def_softmax("log_softmax", true);

  auto def_scan = [&](const char* name, bool is_sum) {
    auto fn = [=](const Tensor& x, py::handle dim, py::handle dtype) {
      int64_t d = dim_from_py(dim, name);
      auto dt = opt_dtype(dtype);
      return maybe_nogil(x->numel(), [&] { return is_sum ? ops::cumsum(x, d, dt) : ops::cumprod(x, d, dt); });
    };
    const char* doc = is_sum ? "Running sum along dim (ints and bools accumulate in int64)."
                             : "Running product along dim (ints and bools accumulate in int64).";
    m.def(name, fn, py::arg("input").none(false), py::arg("dim"), py::kw_only(), py::arg("dtype") = py::none(), doc);
    cls.def(name, fn, py::arg("dim"), py::kw_only(), py::arg("dtype") = py::none(), doc);
  };
  def_scan("cumsum", true);
  def_scan("cumprod", false);

  auto norm = [](const Tensor& x, py::handle p, py::handle dim, bool keepdim, py::handle dtype) {
    double pv = norm_p(p);
    Dims d = dims_from_py(dim, "norm");
    Tensor in = dtype.is_none() ? x : ops::to_dtype(x, dtype_from_py(dtype));
    return maybe_nogil(x->numel(), [&] { return ops::norm(in, pv, d, keepdim); });
  };
  m.def("norm", norm, py::arg("input").none(false), py::arg("p") = "fro", py::arg("dim") = py::none(),
        py::arg("keepdim") = false, py::arg("dtype") = py::none(),
        "Vector p-norm over dim ('fro' = 2, inf = max |x|, 0 = count of non-zeros).");
  cls.def("norm", norm, py::arg("p") = "fro", py::arg("dim") = py::none(), py::arg("keepdim") = false,
          py::arg("dtype") = py::none());

  // A view with arbitrary strides (tests build non-contiguous and negative-stride inputs).
  m.def("_strided_view", [](const Tensor& t, py::handle shape, py::handle strides, int64_t offset) {
    Shape sh = shape_from_py(shape, "_strided_view"), st = shape_from_py(strides, "_strided_view");
    TGX_CHECK(sh.size() == st.size(), ValueError, "[_strided_view] shape ", sh, " and strides ", st,
              " have different lengths");
    checked_numel(sh, t->dtype, "_strided_view");
    TGX_CHECK(view_in_bounds(sh, st, t->offset + offset, t->element_size(), t->storage->nbytes),
              IndexError, "[_strided_view] view (shape ", sh, ", strides ", st, ", offset ", offset,
              ") is out of bounds of the storage");
    return make_view(t, sh, st, t->offset + offset);
  }, py::arg("input").none(false), py::arg("shape"), py::arg("strides"), py::arg("offset") = 0);
}

}  // namespace tgx::bind
