// Exhaustive max-ulp check of simd_math.h over all 2^32 float32 inputs against libm double.
// Not built by CMake. Run both variants:
//   g++ -O2 -std=c++17 -Icsrc -DTGX_ARCH_NS=avx2 -mavx2 -mfma bench/exhaustive_ulp.cpp -o /tmp/ulp_avx2
//   g++ -O2 -std=c++17 -Icsrc -DTGX_ARCH_NS=base bench/exhaustive_ulp.cpp -o /tmp/ulp_base
//   /tmp/ulp_avx2 [step]     (step > 1 samples every step-th bit pattern)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cpu/simd_math.h"

namespace v = tgx::cpu::TGX_ARCH_NS::vec;
using P = v::PackF;
constexpr int W = v::Traits<P>::lanes;

// error of y in units of the float32 ulp at the exact value ref (denormal ulp below 2^-126)
static double ulp_err(float y, double ref) {
  if (std::isnan(ref)) return std::isnan(y) ? 0.0 : 1e9;
  if (std::isinf(ref) || std::isinf(y)) return y == (float)ref ? 0.0 : 1e9;  // overflow: rounds to inf
  double a = std::fabs(ref);
  int e;
  std::frexp(a, &e);  // a in [2^(e-1), 2^e)
  double ulp = std::ldexp(1.0, std::max(e - 1, -126) - 23);
  if ((float)ref == 0.0f && a < std::ldexp(1.0, -150)) ulp = std::ldexp(1.0, -149);
  return std::fabs((double)y - ref) / ulp;
}

template <class F, class R>
static void run(const char* name, F f, R ref, uint64_t step) {
  double worst = 0;
  float worst_x = 0;
  alignas(32) float in[W], out[W];
  for (uint64_t u = 0; u < (1ull << 32); u += W * step) {
    for (int j = 0; j < W; ++j) {
      uint32_t b = uint32_t(u + j * step);
      std::memcpy(&in[j], &b, 4);
    }
    v::store(out, f(v::load(in)));
    for (int j = 0; j < W; ++j) {
      double e = ulp_err(out[j], ref((double)in[j]));
      if (e > worst) { worst = e; worst_x = in[j]; }
    }
  }
  std::printf("%-8s max %.3f ulp at x=%a (%.9g)\n", name, worst, worst_x, worst_x);
}

int main(int argc, char** argv) {
  uint64_t step = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1;
  const char* only = argc > 2 ? argv[2] : "";
  auto want = [&](const char* n) { return !*only || !std::strcmp(only, n); };
  std::printf("lanes=%d step=%llu\n", W, (unsigned long long)step);
  if (want("exp")) run("exp", [](P x) { return v::exp(x); }, [](double x) { return std::exp(x); }, step);
  if (want("log")) run("log", [](P x) { return v::log(x); }, [](double x) { return std::log(x); }, step);
  if (want("tanh")) run("tanh", [](P x) { return v::tanh(x); }, [](double x) { return std::tanh(x); }, step);
  if (want("sigmoid"))
    run("sigmoid", [](P x) { return v::sigmoid(x); }, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, step);
}
