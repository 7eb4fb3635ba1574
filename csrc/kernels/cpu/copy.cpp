// Strided copy with dtype conversion, and fill.
#include <cstring>
#include <type_traits>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/loops.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

// Float -> integer conversion goes through int64 so that out-of-range values wrap instead of
// being undefined (matches what PyTorch produces on x86 for in-range values).
template <typename To, typename From> inline To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) return v != From(0);
  else if constexpr (std::is_floating_point_v<From> && !std::is_floating_point_v<To>) {
    if (!(v == v)) return To(0);
    if (v >= From(9.2233720368547758e18) || v <= From(-9.2233720368547758e18)) return To(int64_t(INT64_MIN));
    return To(int64_t(v));
  } else return To(v);
}

}  // namespace

void copy_kernel(DType to, DType from, const TensorIter& it) {
  dispatch(to, [&](auto tt) {
    using To = typename decltype(tt)::type;
    dispatch(from, [&](auto ft) {
      using From = typename decltype(ft)::type;
      if constexpr (std::is_same_v<To, From>) {
        it.for_each([](char** d, const int64_t* s, int64_t n) {
          if (s[0] == sizeof(To) && s[1] == sizeof(To)) std::memcpy(d[0], d[1], size_t(n) * sizeof(To));
          else if (s[1] == 0) { To v = *reinterpret_cast<To*>(d[1]); for (int64_t i = 0; i < n; ++i) at<To>(d[0], s[0], i) = v; }
          else for (int64_t i = 0; i < n; ++i) at<To>(d[0], s[0], i) = at<To>(d[1], s[1], i);
        });
      } else {
        unary_loop<To, From>(it, [](From v) { return convert<To, From>(v); });
      }
    });
  });
}

void fill_kernel(DType dtype, const Scalar& value, const TensorIter& it) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = value.to<T>();
    it.for_each([v](char** d, const int64_t* s, int64_t n) {
      if (s[0] == sizeof(T)) { T* o = reinterpret_cast<T*>(d[0]); for (int64_t i = 0; i < n; ++i) o[i] = v; }
      else for (int64_t i = 0; i < n; ++i) at<T>(d[0], s[0], i) = v;
    });
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
