// Shape and view ops as functions (tinygrad_ext.reshape) and methods (t.reshape(2, 3)).
#include "bindings/common.h"
#include "ops/shape.h"

namespace tgx::bind {
namespace {

using ops::Dims;

std::string type_name(py::handle h) {
  return py::str(py::type::handle_of(h).attr("__name__"));
}

// A sequence of Tensors (cat, stack, broadcast_tensors ...); TypeError for anything else.
ops::TensorList tensors_from_py(py::handle h, const char* op) {
  TGX_CHECK(!py::isinstance<TensorImpl>(h) && py::isinstance<py::sequence>(h) &&
                !py::isinstance<py::str>(h),
            TypeError, "[", op, "] expected a sequence of Tensors, got ", type_name(h));
  ops::TensorList out;
  size_t i = 0;
  for (py::handle x : h) {
    TGX_CHECK(py::isinstance<TensorImpl>(x), TypeError, "[", op, "] expected a sequence of "
              "Tensors, but element ", i, " is ", type_name(x));
    out.push_back(x.cast<Tensor>());
    ++i;
  }
  return out;
}

int64_t total_numel(const ops::TensorList& ts) {
  int64_t n = 0;
  for (const Tensor& t : ts) n += t->numel();
  return n;
}

py::tuple to_tuple(const ops::TensorList& ts) {
  py::tuple out(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) out[i] = py::cast(ts[i]);
  return out;
}

int64_t int_arg(py::handle h, const char* op, const char* name) {
  TGX_CHECK(!py::isinstance<py::float_>(h) && !h.is_none() &&
                (py::isinstance<py::int_>(h) || py::hasattr(h, "__index__")),
            TypeError, "[", op, "] ", name, " must be an int, got ", type_name(h));
  return py::int_(py::reinterpret_borrow<py::object>(h)).cast<int64_t>();
}

// The copying ops release the GIL for big inputs.
template <typename F>
Tensor big(const Tensor& t, F&& f) {
  return maybe_nogil(t->numel(), std::forward<F>(f));
}

void init_views(py::module_& m, TensorClass& cls) {
  // reshape / view: function takes a shape, method takes varargs or one sequence.
  m.def("reshape", [](const Tensor& t, py::handle shape) {
    return big(t, [&] { return ops::reshape(t, shape_from_py(shape, "reshape")); });
  }, py::arg("input").none(false), py::arg("shape"), "input with the given shape: a view when "
     "the strides allow it, else a copy; one size may be -1.");
  cls.def("reshape", [](const Tensor& t, py::args shape) {
    Shape s = shape_from_args(shape, "reshape");
    return big(t, [&] { return ops::reshape(t, s); });
  }, "A view with the given shape when possible, else a copy.");
  cls.def("view", [](const Tensor& t, py::args shape) {
    return ops::view(t, shape_from_args(shape, "view"));
  }, "A view with the given shape (RuntimeError when the strides make that impossible).");
  cls.def("view_as", [](const Tensor& t, const Tensor& other) { return ops::view(t, other->shape); },
          py::arg("other").none(false), "self.view(other.shape).");
  cls.def("reshape_as", [](const Tensor& t, const Tensor& other) {
    return big(t, [&] { return ops::reshape(t, other->shape); });
  }, py::arg("other").none(false), "self.reshape(other.shape).");

  auto flatten = [](const Tensor& t, int64_t start, int64_t end) {
    return big(t, [&] { return ops::flatten(t, start, end); });
  };
  m.def("flatten", flatten, py::arg("input").none(false), py::arg("start_dim") = 0,
        py::arg("end_dim") = -1, "Dims start_dim..end_dim merged into one (a view when possible).");
  cls.def("flatten", flatten, py::arg("start_dim") = 0, py::arg("end_dim") = -1,
          "Dims start_dim..end_dim merged into one (a view when possible).");
  auto unflatten = [](const Tensor& t, int64_t dim, py::handle sizes) {
    return ops::unflatten(t, dim, shape_from_py(sizes, "unflatten"));
  };
  m.def("unflatten", unflatten, py::arg("input").none(false), py::arg("dim"), py::arg("sizes"),
        "Dim `dim` split into `sizes` (a view).");
  cls.def("unflatten", unflatten, py::arg("dim"), py::arg("sizes"), "Dim `dim` split into `sizes` (a view).");

  auto squeeze = [](const Tensor& t, py::object dim) {
    if (dim.is_none()) return ops::squeeze(t);
    return ops::squeeze(t, shape_from_py(dim, "squeeze"));
  };
  m.def("squeeze", squeeze, py::arg("input").none(false), py::arg("dim") = py::none(),
        "A view without size-1 dims (all, or those among dim: an int or a tuple).");
  cls.def("squeeze", squeeze, py::arg("dim") = py::none(),
          "A view without size-1 dims (all, or those among dim: an int or a tuple).");
  auto unsqueeze = [](const Tensor& t, int64_t dim) { return ops::unsqueeze(t, dim); };
  const char* udoc = "A view with a size-1 dim inserted at dim.";
  m.def("unsqueeze", unsqueeze, py::arg("input").none(false), py::arg("dim"), udoc);
  cls.def("unsqueeze", unsqueeze, py::arg("dim"), udoc);

  auto transpose = [](const Tensor& t, int64_t a, int64_t b) { return ops::transpose(t, a, b); };
  const char* tdoc = "A view with two dims swapped.";
  m.def("transpose", transpose, py::arg("input").none(false), py::arg("dim0"), py::arg("dim1"), tdoc);
  cls.def("transpose", transpose, py::arg("dim0"), py::arg("dim1"), tdoc);
  m.def("swapdims", transpose, py::arg("input").none(false), py::arg("dim0"), py::arg("dim1"), tdoc);
  cls.def("swapdims", transpose, py::arg("dim0"), py::arg("dim1"), tdoc);
  m.def("swapaxes", transpose, py::arg("input").none(false), py::arg("axis0"), py::arg("axis1"), tdoc);
  cls.def("swapaxes", transpose, py::arg("axis0"), py::arg("axis1"), tdoc);

  m.def("permute", [](const Tensor& t, py::handle dims) {
    return ops::permute(t, shape_from_py(dims, "permute"));
  }, py::arg("input").none(false), py::arg("dims"), "A view with the dims reordered.");
  cls.def("permute", [](const Tensor& t, py::args dims) {
    return ops::permute(t, shape_from_args(dims, "permute"));
  }, "A view with the dims reordered (varargs or one tuple).");
  auto movedim = [](const Tensor& t, py::handle src, py::handle dst) {
    return ops::movedim(t, shape_from_py(src, "movedim"), shape_from_py(dst, "movedim"));
  };
  const char* mdoc = "A view with dims source moved to positions destination (ints or tuples).";
  m.def("movedim", movedim, py::arg("input").none(false), py::arg("source"), py::arg("destination"), mdoc);
  cls.def("movedim", movedim, py::arg("source"), py::arg("destination"), mdoc);
  m.def("moveaxis", movedim, py::arg("input").none(false), py::arg("source"), py::arg("destination"), mdoc);
  cls.def("moveaxis", movedim, py::arg("source"), py::arg("destination"), mdoc);
  m.def("t", &ops::transpose_2d, py::arg("input").none(false), "Transpose of a <= 2-d tensor (a view).");
  cls.def("t", &ops::transpose_2d, "Transpose of a <= 2-d tensor (a view).");
  cls.def_property_readonly("T", &ops::reverse_dims, "A view with all dims reversed.");
  cls.def_property_readonly("mT", &ops::matrix_transpose, "A view with the last two dims swapped.");

  cls.def("expand", [](const Tensor& t, py::args sizes) {
    return ops::expand(t, shape_from_args(sizes, "expand"));
  }, "A broadcast view: size-1 dims stretched (stride 0), -1 keeps a size, new leading dims.");
  cls.def("expand_as", [](const Tensor& t, const Tensor& other) { return ops::expand(t, other->shape); },
          py::arg("other").none(false), "self.expand(other.shape).");
  auto broadcast_to = [](const Tensor& t, py::handle shape) {
    return ops::broadcast_to(t, shape_from_py(shape, "broadcast_to"));
  };
  m.def("broadcast_to", broadcast_to, py::arg("input").none(false), py::arg("size"), "input.expand(size).");
  cls.def("broadcast_to", broadcast_to, py::arg("size"), "self.expand(size).");
  m.def("broadcast_tensors", [](py::args tensors) {
    py::handle seq = tensors;
    if (tensors.size() == 1 && !py::isinstance<TensorImpl>(tensors[0])) seq = tensors[0];
    return to_tuple(ops::broadcast_tensors(tensors_from_py(seq, "broadcast_tensors")));
  }, "The tensors expanded (as views) to their common broadcast shape.");
  m.def("broadcast_shapes", [](py::args shapes) {
    std::vector<Shape> ss;
    for (py::handle s : shapes) ss.push_back(shape_from_py(s, "broadcast_shapes"));
    return py::tuple(py::cast(ops::broadcast_shapes(ss)));
  }, "The shape the given shapes broadcast to.");

  auto narrow = [](const Tensor& t, int64_t dim, py::handle start, int64_t length) {
    return ops::narrow(t, dim, int_arg(start, "narrow", "start"), length);
  };
  const char* ndoc = "A view of length elements of dim, from start.";
  m.def("narrow", narrow, py::arg("input").none(false), py::arg("dim"), py::arg("start"), py::arg("length"), ndoc);
  cls.def("narrow", narrow, py::arg("dim"), py::arg("start"), py::arg("length"), ndoc);
  auto select = [](const Tensor& t, int64_t dim, py::handle index) {
    return ops::select(t, dim, int_arg(index, "select", "index"));
  };
  m.def("select", select, py::arg("input").none(false), py::arg("dim"), py::arg("index"),
        "A view of index along dim, with dim removed.");
  cls.def("select", select, py::arg("dim"), py::arg("index"), "A view of index along dim, with dim removed.");
  auto unbind = [](const Tensor& t, int64_t dim) { return to_tuple(ops::unbind(t, dim)); };
  m.def("unbind", unbind, py::arg("input").none(false), py::arg("dim") = 0, "The slices along dim (views).");
  cls.def("unbind", unbind, py::arg("dim") = 0, "The slices along dim (views).");
  cls.def("__iter__", [](const Tensor& t) {
    TGX_CHECK(t->ndim() > 0, TypeError, "iteration over a 0-d tensor");
    return py::iter(to_tuple(ops::unbind(t, 0)));
  });
  auto split = [](const Tensor& t, py::handle size, int64_t dim) {
    if (py::isinstance<py::int_>(size)) return to_tuple(ops::split(t, size.cast<int64_t>(), dim));
    return to_tuple(ops::split_with_sizes(t, shape_from_py(size, "split"), dim));
  };
  const char* sdoc = "Views of pieces of split_size (an int) or of the listed sizes along dim.";
  m.def("split", split, py::arg("tensor").none(false), py::arg("split_size_or_sections"), py::arg("dim") = 0, sdoc);
  cls.def("split", split, py::arg("split_size"), py::arg("dim") = 0, sdoc);
  auto chunk = [](const Tensor& t, int64_t chunks, int64_t dim) { return to_tuple(ops::chunk(t, chunks, dim)); };
  m.def("chunk", chunk, py::arg("input").none(false), py::arg("chunks"), py::arg("dim") = 0,
        "At most `chunks` views of equal size (the last may be smaller) along dim.");
  cls.def("chunk", chunk, py::arg("chunks"), py::arg("dim") = 0,
          "At most `chunks` views of equal size (the last may be smaller) along dim.");
  auto diagonal = [](const Tensor& t, int64_t offset, int64_t d1, int64_t d2) {
    return ops::diagonal(t, offset, d1, d2);
  };
  const char* ddoc = "A view of the diagonal (offset above it if > 0) of dims dim1, dim2, as the last dim.";
  m.def("diagonal", diagonal, py::arg("input").none(false), py::arg("offset") = 0, py::arg("dim1") = 0,
        py::arg("dim2") = 1, ddoc);
  cls.def("diagonal", diagonal, py::arg("offset") = 0, py::arg("dim1") = 0, py::arg("dim2") = 1, ddoc);
  m.def("_flip_view", [](const Tensor& t, py::handle dims) {
    return ops::flip_view(t, shape_from_py(dims, "flip"));
  }, py::arg("input").none(false), py::arg("dims"), "Test helper: a negative-stride view.");
}

Scalar scalar_arg(py::handle h, const char* op) {
  Scalar s = Scalar::from_int(0);
  TGX_CHECK(h.is_none() || scalar_from_py(h, s), TypeError, "[", op, "] value must be a number, got ",
            type_name(h));
  return s;
}

void init_copies(py::module_& m, TensorClass& cls) {
  auto tril = [](const Tensor& t, int64_t k) { return big(t, [&] { return ops::tril(t, k); }); };
  auto triu = [](const Tensor& t, int64_t k) { return big(t, [&] { return ops::triu(t, k); }); };
  const char* ldoc = "A copy with the elements above the diagonal (offset by `diagonal`) zeroed; batched.";
  const char* udoc = "A copy with the elements below the diagonal (offset by `diagonal`) zeroed; batched.";
  m.def("tril", tril, py::arg("input").none(false), py::arg("diagonal") = 0, ldoc);
  cls.def("tril", tril, py::arg("diagonal") = 0, ldoc);
  m.def("triu", triu, py::arg("input").none(false), py::arg("diagonal") = 0, udoc);
  cls.def("triu", triu, py::arg("diagonal") = 0, udoc);
  cls.def("tril_", [tril](const Tensor& t, int64_t k) { return ops::copy_(t, tril(t, k)); },
          py::arg("diagonal") = 0, "In-place tril.");
  cls.def("triu_", [triu](const Tensor& t, int64_t k) { return ops::copy_(t, triu(t, k)); },
          py::arg("diagonal") = 0, "In-place triu.");

  cls.def("repeat", [](const Tensor& t, py::args reps) {
    Shape r = shape_from_args(reps, "repeat");
    return big(t, [&] { return ops::repeat(t, r); });
  }, "A copy tiled repeats[i] times along each dim (more repeats than dims add leading dims).");
  auto tile = [](const Tensor& t, py::handle dims) {
    Shape r = shape_from_py(dims, "tile");
    return big(t, [&] { return ops::tile(t, r); });
  };
  const char* tidoc = "NumPy's tile: repeat, with dims padded by leading 1s when shorter than the tensor.";
  m.def("tile", tile, py::arg("input").none(false), py::arg("dims"), tidoc);
  cls.def("tile", [](const Tensor& t, py::args dims) {
    Shape r = shape_from_args(dims, "tile");
    return big(t, [&] { return ops::tile(t, r); });
  }, tidoc);

  auto cat = [](const char* op) {
    return [op](py::handle tensors, int64_t dim) {
      ops::TensorList ts = tensors_from_py(tensors, op);
      return maybe_nogil(total_numel(ts), [&] { return ops::cat(ts, dim); });
    };
  };
  const char* cdoc = "Tensors joined along an existing dim (dtypes promoted; 1-d empty tensors skipped).";
  m.def("cat", cat("cat"), py::arg("tensors"), py::arg("dim") = 0, cdoc);
  m.def("concat", cat("concat"), py::arg("tensors"), py::arg("dim") = 0, cdoc);
  m.def("concatenate", cat("concatenate"), py::arg("tensors"), py::arg("axis") = 0, cdoc);
  m.def("stack", [](py::handle tensors, int64_t dim) {
    ops::TensorList ts = tensors_from_py(tensors, "stack");
    return maybe_nogil(total_numel(ts), [&] { return ops::stack(ts, dim); });
  }, py::arg("tensors"), py::arg("dim") = 0, "Equal-shaped tensors joined along a new dim.");
  m.def("hstack", [](py::handle tensors) {
    ops::TensorList ts = tensors_from_py(tensors, "hstack");
    return maybe_nogil(total_numel(ts), [&] { return ops::hstack(ts); });
  },
        py::arg("tensors"), "Tensors joined column-wise (dim 0 for 1-d inputs, else dim 1).");
  auto vstack = [](py::handle tensors) {
    ops::TensorList ts = tensors_from_py(tensors, "vstack");
    return maybe_nogil(total_numel(ts), [&] { return ops::vstack(ts); });
  };
  m.def("vstack", vstack, py::arg("tensors"), "Tensors joined row-wise (1-d inputs become rows).");
  m.def("row_stack", vstack, py::arg("tensors"), "Alias of vstack.");

  const char* fdoc = "A copy with the order of elements along dims reversed.";
  m.def("flip", [](const Tensor& t, py::handle dims) {
    Dims d = shape_from_py(dims, "flip");
    return big(t, [&] { return ops::flip(t, d); });
  }, py::arg("input").none(false), py::arg("dims"), fdoc);
  cls.def("flip", [](const Tensor& t, py::args dims) {
    Dims d = shape_from_args(dims, "flip");
    return big(t, [&] { return ops::flip(t, d); });
  }, fdoc);
  auto fliplr = [](const Tensor& t) { return big(t, [&] { return ops::fliplr(t); }); };
  auto flipud = [](const Tensor& t) { return big(t, [&] { return ops::flipud(t); }); };
  m.def("fliplr", fliplr, py::arg("input").none(false), "A copy with dim 1 reversed (>= 2-d).");
  cls.def("fliplr", fliplr, "A copy with dim 1 reversed (>= 2-d).");
  m.def("flipud", flipud, py::arg("input").none(false), "A copy with dim 0 reversed (>= 1-d).");
  cls.def("flipud", flipud, "A copy with dim 0 reversed (>= 1-d).");
  auto roll = [](const Tensor& t, py::handle shifts, py::handle dims) {
    Dims s = shape_from_py(shifts, "roll");
    Dims d = dims.is_none() ? Dims{} : Dims(shape_from_py(dims, "roll"));
    TGX_CHECK(dims.is_none() || !d.empty(), ValueError, "[roll] dims must not be empty");
    return big(t, [&] { return ops::roll(t, s, d); });
  };
  const char* rdoc = "A copy with elements shifted cyclically along dims (the flattened tensor if dims is None).";
  m.def("roll", roll, py::arg("input").none(false), py::arg("shifts"), py::arg("dims") = py::none(), rdoc);
  cls.def("roll", roll, py::arg("shifts"), py::arg("dims") = py::none(), rdoc);

  m.def("pad", [](const Tensor& t, py::handle pad, const std::string& mode, py::handle value) {
    Dims p = shape_from_py(pad, "pad");
    Scalar v = scalar_arg(value, "pad");
    TGX_CHECK(value.is_none() || mode == "constant", ValueError, "[pad] padding mode '", mode,
              "' doesn't take a value argument");
    return big(t, [&] { return ops::pad(t, p, mode, v); });
  }, py::arg("input").none(false), py::arg("pad"), py::arg("mode") = "constant", py::arg("value") = py::none(),
     "torch.nn.functional.pad: pad = (last_lo, last_hi, prev_lo, prev_hi, ...); mode constant "
     "(value, default 0; negative pads crop), reflect, replicate or circular.");
}

}  // namespace

void init_shape(py::module_& m) {
  TensorClass cls = tensor_class(m);
  init_views(m, cls);
  init_copies(m, cls);
}

}  // namespace tgx::bind
