// Run-time instruction-set dispatch. Every file in kernels/cpu/ is compiled once per arch into
// namespace tgx::cpu::<arch> (TGX_ARCH_NS); ops call TGX_KERNEL(name)(args...) and get the best
// variant this CPU runs. TGX_FORCE_PORTABLE=1 in the environment forces the portable build.
#pragma once

namespace tgx::cpu {

enum class Arch { Base = 0, AVX2 = 1 };
Arch cpu_arch();             // selected once, at first use
const char* arch_name(Arch a);
bool cpu_has_avx2_fma();     // what the CPU supports, whatever was selected
bool cpu_has_avx512f();
// AVX-512 code paths inside the avx2 build (GEMM micro-kernel, float32 math): the CPU has
// avx512f, the avx2 build was selected, and TGX_NO_AVX512 is unset or 0. Decided once.
bool avx512_enabled();

}  // namespace tgx::cpu

// Declares a kernel in every arch namespace.
#define TGX_DECLARE_KERNEL(ret, name, args) \
  namespace tgx::cpu::base { ret name args; } \
  namespace tgx::cpu::avx2 { ret name args; }

#if defined(TGX_HAVE_ARCH_AVX2)
#define TGX_KERNEL(name) \
  (::tgx::cpu::cpu_arch() == ::tgx::cpu::Arch::AVX2 ? &::tgx::cpu::avx2::name : &::tgx::cpu::base::name)
#else
#define TGX_KERNEL(name) (&::tgx::cpu::base::name)
#endif
