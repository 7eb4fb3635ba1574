// tinygrad_ext._C: one binding file per area, each with an init_* called here.
#include "bindings/common.h"
#include "core/parallel.h"
#include "kernels/dispatch.h"
#if TGX_BUILD_CUDA
#include "kernels/cuda/device.h"
#endif

namespace tgx::bind {
namespace {

void init_errors(py::module_&) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const NotImplementedError& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
    } catch (const ZeroDivisionError& e) {
      PyErr_SetString(PyExc_ZeroDivisionError, e.what());
    } catch (const RuntimeError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

void init_config(py::module_& m) {
  m.def("get_num_threads", &get_num_threads, "Number of threads used by parallel kernels.");
  m.def("set_num_threads", [](int n) {
    TGX_CHECK(n >= 1, ValueError, "[set_num_threads] expected a positive number of threads, got ", n);
    set_num_threads(n);
  }, py::arg("n"), "Set the number of threads used by parallel kernels.");
  m.def("_live_tensors", [] { return TensorImpl::live_count.load(); },
        "Number of C++ tensors alive (for leak tests).");
  py::dict cfg;
  cfg["version"] = TGX_VERSION;
  cfg["compiler"] = TGX_COMPILER;
  cfg["openmp"] = bool(TGX_BUILD_OPENMP);
  cfg["cuda"] = bool(TGX_BUILD_CUDA);
  cfg["native"] = bool(TGX_BUILD_NATIVE);
  cfg["sanitize"] = bool(TGX_BUILD_SANITIZE);
  m.attr("_build_config") = cfg;
  m.def("_cuda_device_count", [] {
#if TGX_BUILD_CUDA
    return cuda::device_count();
#else
    return 0;
#endif
  }, "Number of CUDA devices visible to this build (0 without CUDA).");
  m.def("memory_stats", [] {
    MemoryStats s = cpu_memory_stats();
    py::dict d;
    d["allocated_bytes"] = s.allocated_bytes;
    d["peak_allocated_bytes"] = s.peak_allocated_bytes;
    d["cached_bytes"] = s.cached_bytes;
    d["alloc_count"] = s.alloc_count;
    d["cache_hits"] = s.cache_hits;
    d["cache_enabled"] = s.cache_enabled;
    return d;
  }, "CPU allocator statistics (bytes are rounded to the allocator's size classes).");
  m.def("empty_cache", &cpu_empty_cache, "Return the allocator's idle blocks to the system.");
  m.def("_simd_level", [] { return std::string(cpu::arch_name(cpu::cpu_arch())); },
        "The kernel instruction set selected at run time.");
  m.def("_cpu_features", [] {
    py::dict d;
    d["avx2_fma"] = cpu::cpu_has_avx2_fma();
    d["avx512f"] = cpu::cpu_has_avx512f();
    return d;
  });
}

}  // namespace
}  // namespace tgx::bind

PYBIND11_MODULE(_C, m) {
  m.doc() = "tinygrad_ext C++ core";
  using namespace tgx::bind;
  init_errors(m);
  init_config(m);
  init_tensor(m);
  init_elementwise(m);
  init_creation(m);
  init_reduce(m);
  init_shape(m);
  init_index(m);
  init_matmul(m);
  init_interop(m);
  init_autograd(m);
  init_optim(m);
  init_loss(m);
  init_conv(m);
  init_pool(m);
  init_rnn(m);
  init_attention(m);
  init_norm(m);
}
