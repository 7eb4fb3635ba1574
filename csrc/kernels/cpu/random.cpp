// Philox-based random kernels and the range kernels behind arange/linspace.
#include "kernels/cpu/random.h"

#include <cmath>
#include <type_traits>

#include "core/parallel.h"
#include "core/rng.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

constexpr int64_t kBlockGrain = 2048;  // blocks per chunk before threads are worth it
constexpr double kTwoPi = 6.283185307179586476925286766559;

// Writes the values of block k (elements k*per ... k*per+per-1, clipped to n) with f(bits, j),
// where j is the element's position inside the block.
template <typename T, typename F>
void for_blocks(void* out, int64_t n, int64_t per, uint64_t seed, uint64_t offset, const F& f) {
  T* o = static_cast<T*>(out);
  int64_t nblocks = (n + per - 1) / per;
  parallel_for(0, nblocks, kBlockGrain, [&](int64_t b, int64_t e) {
    T vals[4] = {};
    for (int64_t k = b; k < e; ++k) {
      philox::Block bits = philox::block(seed, offset, uint64_t(k));
      f(bits, vals);
      int64_t base = k * per, m = std::min<int64_t>(per, n - base);
      for (int64_t j = 0; j < m; ++j) o[base + j] = vals[j];
    }
  });
}

template <typename T>
void uniform(void* out, int64_t n, uint64_t seed, uint64_t offset, double a, double b) {
  const double span = b - a;
  auto finish = [a, b, span](double u) {
    T v = T(a + span * u);
    // rounding to T may reach b; keep the interval half-open
    if (span > 0 && double(v) >= b) v = std::nextafter(T(b), T(a));
    return v;
  };
  if constexpr (std::is_same_v<T, double>) {
    for_blocks<T>(out, n, 2, seed, offset, [&](const philox::Block& x, T* v) {
      v[0] = finish(philox::to_unit_double(x[0], x[1]));
      v[1] = finish(philox::to_unit_double(x[2], x[3]));
    });
  } else {
    for_blocks<T>(out, n, 4, seed, offset, [&](const philox::Block& x, T* v) {
      for (int j = 0; j < 4; ++j) v[j] = finish(double(philox::to_unit_float(x[j])));
    });
  }
}

// Box-Muller on a pair of uniforms, in S (float for float32 outputs); u1 in (0, 1] so the log
// is finite.
template <typename S>
inline void box_muller(S u1, S u2, S mean, S std, S* z) {
  S r = std * std::sqrt(S(-2) * std::log(u1));
  S t = S(kTwoPi) * u2;
  z[0] = mean + r * std::cos(t);
  z[1] = mean + r * std::sin(t);
}

template <typename T>
void normal(void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  if constexpr (std::is_same_v<T, double>) {
    for_blocks<T>(out, n, 2, seed, offset, [&](const philox::Block& x, T* v) {
      box_muller(1.0 - philox::to_unit_double(x[0], x[1]), philox::to_unit_double(x[2], x[3]),
                 mean, std, v);
    });
  } else {
    const float m = float(mean), s = float(std);
    for_blocks<T>(out, n, 4, seed, offset, [&](const philox::Block& x, T* v) {
      box_muller(1.0f - philox::to_unit_float(x[0]), philox::to_unit_float(x[1]), m, s, v);
      box_muller(1.0f - philox::to_unit_float(x[2]), philox::to_unit_float(x[3]), m, s, v + 2);
    });
  }
}

template <typename T>
void exponential(void* out, int64_t n, uint64_t seed, uint64_t offset, double lambd) {
  auto f = [lambd](double u) { return T(-std::log1p(-u) / lambd); };
  if constexpr (std::is_same_v<T, double>) {
    for_blocks<T>(out, n, 2, seed, offset, [&](const philox::Block& x, T* v) {
      v[0] = f(philox::to_unit_double(x[0], x[1]));
      v[1] = f(philox::to_unit_double(x[2], x[3]));
    });
  } else {
    for_blocks<T>(out, n, 4, seed, offset, [&](const philox::Block& x, T* v) {
      for (int j = 0; j < 4; ++j) v[j] = f(philox::to_unit_float(x[j]));
    });
  }
}

template <typename T>
void bernoulli(void* out, int64_t n, uint64_t seed, uint64_t offset, double p) {
  // u = (x + 0.5) / 2^32 is never 0 or 1, so p = 0 gives all zeros and p = 1 all ones
  for_blocks<T>(out, n, 4, seed, offset, [&](const philox::Block& x, T* v) {
    for (int j = 0; j < 4; ++j) v[j] = T((double(x[j]) + 0.5) * (1.0 / 4294967296.0) < p);
  });
}

template <typename T>
void integer(void* out, int64_t n, uint64_t seed, uint64_t offset, int64_t low, uint64_t range) {
  // 64 random bits mod range: the bias is at most range / 2^64
  for_blocks<T>(out, n, 2, seed, offset, [&](const philox::Block& x, T* v) {
    uint64_t r[2] = {(uint64_t(x[1]) << 32) | x[0], (uint64_t(x[3]) << 32) | x[2]};
    for (int j = 0; j < 2; ++j) {
      uint64_t k = range ? r[j] % range : r[j];
      v[j] = T(int64_t(uint64_t(low) + k));
    }
  });
}

}  // namespace

void random_kernel(RandomDist dist, DType dtype, void* out, int64_t n, uint64_t seed,
                   uint64_t offset, const RandomParams& p) {
  if (n <= 0) return;
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    switch (dist) {
      case RandomDist::Bernoulli: return bernoulli<T>(out, n, seed, offset, p.a);
      case RandomDist::Integer: return integer<T>(out, n, seed, offset, p.low, p.range);
      default: break;
    }
    if constexpr (std::is_floating_point_v<T>) {
      switch (dist) {
        case RandomDist::Uniform: return uniform<T>(out, n, seed, offset, p.a, p.b);
        case RandomDist::Normal: return normal<T>(out, n, seed, offset, p.a, p.b);
        case RandomDist::Exponential: return exponential<T>(out, n, seed, offset, p.a);
        default: break;
      }
    }
    throw NotImplementedError(str("[random] distribution not implemented for dtype ", dtype));
  });
}

void arange_kernel(DType dtype, void* out, int64_t n, const Scalar& start, const Scalar& step) {
  bool exact = start.kind != Scalar::Float && step.kind != Scalar::Float;
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = static_cast<T*>(out);
    parallel_for(0, n, kDefaultGrain, [&](int64_t b, int64_t e) {
      if (exact && !std::is_floating_point_v<T>) {
        for (int64_t i = b; i < e; ++i) o[i] = T(int64_t(uint64_t(start.i) + uint64_t(i) * uint64_t(step.i)));
      } else {
        for (int64_t i = b; i < e; ++i) o[i] = T(start.d + double(i) * step.d);
      }
    });
  });
}

void linspace_kernel(DType dtype, void* out, int64_t n, double start, double end) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    // PyTorch computes floating linspace in the output type and integer linspace in double
    using S = std::conditional_t<std::is_floating_point_v<T>, T, double>;
    T* o = static_cast<T*>(out);
    const S s0 = S(start), s1 = S(end);
    const S step = n > 1 ? (s1 - s0) / S(n - 1) : S(0);
    const int64_t half = n == 1 ? 1 : n / 2;  // one step: just start
    parallel_for(0, n, kDefaultGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        o[i] = T(i < half ? s0 + step * S(i) : s1 - step * S(n - i - 1));
    });
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
