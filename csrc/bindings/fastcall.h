// Module functions on CPython's vectorcall protocol (METH_FASTCALL | METH_KEYWORDS), for the
// hottest calls (tgx.add(a, b, out=c), tgx.exp(a)): pybind11's overload dispatcher costs more
// than a small op itself. The function receives its arguments by position (missing optional
// ones as None) and does what the pybind11 binding would; argument errors are Python's usual
// TypeErrors, C++ exceptions are translated by pybind11's translators.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "bindings/common.h"

namespace tgx::bind {

// Runs body() (returning a new reference) for a raw CPython entry point: C++ exceptions become
// the Python exception pybind11's translators give them, with a null return.
template <typename Body>
PyObject* translate_exceptions(const Body& body) {
  try {
    return body();
  } catch (py::error_already_set& e) {
    e.restore();
    return nullptr;
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
}

struct FastFunction {
  using Impl = py::object (*)(const FastFunction&, PyObject* const* args);
  std::string name, doc;
  std::vector<std::string> params;  // positional-or-keyword first, then keyword-only
  size_t positional = 0, required = 0;
  Impl impl = nullptr;
  int tag = 0;  // the op, for impl
  PyMethodDef def{};
};

inline PyObject* fast_trampoline(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                                 PyObject* kwnames) {
  const auto& f = *static_cast<const FastFunction*>(PyCapsule_GetPointer(self, nullptr));
  constexpr size_t kMax = 8;
  PyObject* vals[kMax] = {};
  const char* n = f.name.c_str();
  if (size_t(nargs) > f.positional) {
    PyErr_Format(PyExc_TypeError, "%s() takes %zu positional arguments but %zd were given", n,
                 f.positional, nargs);
    return nullptr;
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) vals[i] = args[i];
  const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* key = PyTuple_GET_ITEM(kwnames, k);
    size_t j = 0;
    while (j < f.params.size() && PyUnicode_CompareWithASCIIString(key, f.params[j].c_str()) != 0) ++j;
    if (j == f.params.size()) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", n, key);
      return nullptr;
    }
    if (vals[j]) {
      PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%U'", n, key);
      return nullptr;
    }
    vals[j] = args[nargs + k];
  }
  for (size_t j = 0; j < f.params.size(); ++j) {
    if (vals[j]) continue;
    if (j < f.required) {
      PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", n, f.params[j].c_str());
      return nullptr;
    }
    vals[j] = Py_None;
  }
  return translate_exceptions([&] { return f.impl(f, vals).release().ptr(); });
}

// m.<name>(params...): the first `positional` params may be given by position, the first
// `required` must be given; the rest are keyword-only. The function lives as long as the process.
inline void def_fast(py::module_& m, const char* name, std::vector<std::string> params,
                     size_t positional, size_t required, FastFunction::Impl impl, int tag,
                     const char* doc) {
  auto* f = new FastFunction;  // never freed: module functions live until exit
  f->name = name, f->params = std::move(params), f->positional = positional;
  f->required = required, f->impl = impl, f->tag = tag;
  std::string sig = f->name + "($module";
  for (size_t j = 0; j < f->params.size(); ++j) {
    if (j == f->positional) sig += ", *";
    sig += ", " + f->params[j] + (j < f->required ? "" : "=None");
  }
  f->doc = sig + ")\n--\n\n" + doc;
  f->def.ml_name = f->name.c_str();
  f->def.ml_meth = reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&fast_trampoline));
  f->def.ml_flags = METH_FASTCALL | METH_KEYWORDS;
  f->def.ml_doc = f->doc.c_str();
  py::capsule cap(static_cast<void*>(f));
  py::object fn = py::reinterpret_steal<py::object>(
      PyCFunction_NewEx(&f->def, cap.ptr(), m.attr("__name__").ptr()));
  if (!fn) throw py::error_already_set();
  m.attr(name) = fn;
}

}  // namespace tgx::bind
