// Single-thread ns/element of simd_math.h on 1e5 contiguous float32 (quick iteration on the
// polynomials without rebuilding the extension). Not built by CMake:
//   g++ -O3 -std=c++17 -Icsrc -DTGX_ARCH_NS=avx2 -mavx2 -mfma bench/micro_math.cpp -o /tmp/micro && /tmp/micro
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/cpu/simd_math.h"

namespace v = tgx::cpu::TGX_ARCH_NS::vec;
using P = v::PackF;
constexpr int W = v::Traits<P>::lanes;

template <class F>
static void bench(const char* name, float lo, float hi, F f) {
  const int n = getenv("N") ? atoi(getenv("N")) : 100000;
  std::vector<float> a(n), o(n);
  std::mt19937 g(0);
  std::uniform_real_distribution<float> u(lo, hi);
  for (auto& x : a) x = u(g);
  std::vector<double> ts;
  for (int rep = 0; rep < 31; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < 10; ++k)
      for (int i = 0; i < n; i += W) v::store(&o[i], f(v::load(&a[i])));
    ts.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / (10.0 * n));
  }
  std::sort(ts.begin(), ts.end());
  std::printf("%-8s %.3f ns/elem (min %.3f)\n", name, ts[ts.size() / 2] * 1e9, ts[0] * 1e9);
}

int main() {
  bench("exp", -80, 80, [](P x) { return v::exp(x); });
  bench("log", 1e-3f, 1e3f, [](P x) { return v::log(x); });
  bench("tanh", -10, 10, [](P x) { return v::tanh(x); });
  bench("tanh9", -9, 9, [](P x) { return v::tanh(x); });
  bench("tanh3", -3, 3, [](P x) { return v::tanh(x); });
  bench("sigmoid", -30, 30, [](P x) { return v::sigmoid(x); });
}
