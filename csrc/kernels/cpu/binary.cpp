// Binary elementwise kernels: one functor per op, all fed by binary_loop.
#include <atomic>
#include <cmath>
#include <type_traits>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/loops.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

template <typename T> using U = std::make_unsigned_t<std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>>;

// Integer arithmetic wraps (two's complement) instead of being undefined on overflow.
template <typename T> inline T wrap_add(T a, T b) { return T(U<T>(a) + U<T>(b)); }
template <typename T> inline T wrap_sub(T a, T b) { return T(U<T>(a) - U<T>(b)); }
template <typename T> inline T wrap_mul(T a, T b) { return T(U<T>(a) * U<T>(b)); }

template <typename T> inline T float_floordiv(T a, T b) {
  if (b == 0) return a / b;
  T mod = std::fmod(a, b);
  T div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;
  if (div == 0) return std::copysign(T(0), a / b);
  T fl = std::floor(div);
  if (div - fl > T(0.5)) fl += 1;
  return fl;
}

template <typename T> inline T float_mod(T a, T b) {
  T r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  else if (r == 0) r = std::copysign(T(0), b);
  return r;
}

template <typename T> inline T int_pow(T base, T exp) {
  if constexpr (std::is_signed_v<T>) {
    if (exp < 0) {
      if (base == 1) return 1;
      if (base == -1) return (exp & 1) ? T(-1) : T(1);
      return 0;
    }
  }
  U<T> result = 1, b = U<T>(base);
  auto e = U<T>(exp);
  while (e) {
    if (e & 1) result *= b;
    b *= b;
    e >>= 1;
  }
  return T(result);
}

template <typename T>
bool run(BinaryOp op, const TensorIter& it) {
  constexpr bool is_float = std::is_floating_point_v<T>;
  constexpr bool is_bool = std::is_same_v<T, bool>;
  std::atomic<bool> zero_div{false};
  switch (op) {
    case BinaryOp::Add:
      if constexpr (is_bool) binary_loop<T, T>(it, [](T a, T b) { return T(a || b); });
      else if constexpr (is_float) binary_loop<T, T>(it, [](T a, T b) { return a + b; });
      else binary_loop<T, T>(it, [](T a, T b) { return wrap_add(a, b); });
      return false;
    case BinaryOp::Sub:
      if constexpr (is_float) binary_loop<T, T>(it, [](T a, T b) { return a - b; });
      else if constexpr (!is_bool) binary_loop<T, T>(it, [](T a, T b) { return wrap_sub(a, b); });
      else break;
      return false;
    case BinaryOp::Mul:
      if constexpr (is_bool) binary_loop<T, T>(it, [](T a, T b) { return T(a && b); });
      else if constexpr (is_float) binary_loop<T, T>(it, [](T a, T b) { return a * b; });
      else binary_loop<T, T>(it, [](T a, T b) { return wrap_mul(a, b); });
      return false;
    case BinaryOp::Div:
      if constexpr (is_float) { binary_loop<T, T>(it, [](T a, T b) { return a / b; }); return false; }
      break;
    case BinaryOp::FloorDiv:
      if constexpr (is_float) binary_loop<T, T>(it, [](T a, T b) { return float_floordiv(a, b); });
      else if constexpr (!is_bool)
        binary_loop<T, T>(it, [&](T a, T b) -> T {
          if (b == 0) { zero_div.store(true, std::memory_order_relaxed); return 0; }
          if constexpr (std::is_signed_v<T>) {
            if (b == -1) return wrap_sub(T(0), a);
            T q = a / b;
            if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
            return q;
          } else {
            return a / b;
          }
        });
      else break;
      return zero_div.load();
    case BinaryOp::Rem:
      if constexpr (is_float) binary_loop<T, T>(it, [](T a, T b) { return float_mod(a, b); });
      else if constexpr (!is_bool)
        binary_loop<T, T>(it, [&](T a, T b) -> T {
          if (b == 0) { zero_div.store(true, std::memory_order_relaxed); return 0; }
          if constexpr (std::is_signed_v<T>) {
            if (b == -1) return 0;
            T r = a % b;
            if (r != 0 && ((r < 0) != (b < 0))) r += b;
            return r;
          } else {
            return a % b;
          }
        });
      else break;
      return zero_div.load();
    case BinaryOp::Pow:
      if constexpr (is_float) binary_loop<T, T>(it, [](T a, T b) { return std::pow(a, b); });
      else if constexpr (is_bool) binary_loop<T, T>(it, [](T a, T b) { return T(a || !b); });
      else binary_loop<T, T>(it, [](T a, T b) { return int_pow(a, b); });
      return false;
    case BinaryOp::Maximum:
      if constexpr (is_float)
        binary_loop<T, T>(it, [](T a, T b) { return (a != a || a > b) ? a : b; });
      else binary_loop<T, T>(it, [](T a, T b) { return a > b ? a : b; });
      return false;
    case BinaryOp::Minimum:
      if constexpr (is_float)
        binary_loop<T, T>(it, [](T a, T b) { return (a != a || a < b) ? a : b; });
      else binary_loop<T, T>(it, [](T a, T b) { return a < b ? a : b; });
      return false;
    case BinaryOp::Atan2:
      if constexpr (is_float) { binary_loop<T, T>(it, [](T a, T b) { return std::atan2(a, b); }); return false; }
      break;
    case BinaryOp::Eq: binary_loop<bool, T>(it, [](T a, T b) { return a == b; }); return false;
    case BinaryOp::Ne: binary_loop<bool, T>(it, [](T a, T b) { return a != b; }); return false;
    case BinaryOp::Lt: binary_loop<bool, T>(it, [](T a, T b) { return a < b; }); return false;
    case BinaryOp::Le: binary_loop<bool, T>(it, [](T a, T b) { return a <= b; }); return false;
    case BinaryOp::Gt: binary_loop<bool, T>(it, [](T a, T b) { return a > b; }); return false;
    case BinaryOp::Ge: binary_loop<bool, T>(it, [](T a, T b) { return a >= b; }); return false;
    case BinaryOp::LogicalAnd: binary_loop<bool, T>(it, [](T a, T b) { return a != T(0) && b != T(0); }); return false;
    case BinaryOp::LogicalOr: binary_loop<bool, T>(it, [](T a, T b) { return a != T(0) || b != T(0); }); return false;
    case BinaryOp::LogicalXor: binary_loop<bool, T>(it, [](T a, T b) { return (a != T(0)) != (b != T(0)); }); return false;
    case BinaryOp::BitAnd:
      if constexpr (!is_float) { binary_loop<T, T>(it, [](T a, T b) { return T(a & b); }); return false; }
      break;
    case BinaryOp::BitOr:
      if constexpr (!is_float) { binary_loop<T, T>(it, [](T a, T b) { return T(a | b); }); return false; }
      break;
    case BinaryOp::BitXor:
      if constexpr (!is_float) { binary_loop<T, T>(it, [](T a, T b) { return T(a ^ b); }); return false; }
      break;
  }
  throw NotImplementedError(str("[binary_kernel] op ", int(op), " not implemented for dtype ", dtype_of<T>()));
}

}  // namespace

bool binary_kernel(BinaryOp op, DType dtype, const TensorIter& it) {
  return dispatch(dtype, [&](auto tag) { return run<typename decltype(tag)::type>(op, it); });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
