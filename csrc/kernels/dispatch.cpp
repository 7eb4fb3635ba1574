#include "kernels/dispatch.h"

#include <cstdlib>
#include <cstring>

namespace tgx::cpu {

bool cpu_has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool cpu_has_avx512f() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

static Arch detect() {
  const char* force = std::getenv("TGX_FORCE_PORTABLE");
  if (force && *force && std::strcmp(force, "0") != 0) return Arch::Base;
#if defined(TGX_HAVE_ARCH_AVX2)
  if (cpu_has_avx2_fma()) return Arch::AVX2;
#endif
  return Arch::Base;
}

Arch cpu_arch() {
  static const Arch arch = detect();
  return arch;
}

bool avx512_enabled() {
  static const bool on = [] {
    const char* off = std::getenv("TGX_NO_AVX512");
    if (off && *off && std::strcmp(off, "0") != 0) return false;
    return cpu_arch() == Arch::AVX2 && cpu_has_avx512f();
  }();
  return on;
}

const char* arch_name(Arch a) { return a == Arch::AVX2 ? "avx2+fma" : "portable"; }

}  // namespace tgx::cpu
