// Data types, their promotion lattice (PyTorch's rules) and the dispatch helper kernels use.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "core/error.h"

namespace tgx {

// Ordered so that for the dtypes we support, promotion is the maximum.
enum class DType : uint8_t { Bool = 0, UInt8, Int32, Int64, Float32, Float64 };
constexpr int kNumDTypes = 6;

inline size_t itemsize(DType t) {
  switch (t) {
    case DType::Bool: case DType::UInt8: return 1;
    case DType::Int32: case DType::Float32: return 4;
    case DType::Int64: case DType::Float64: return 8;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::UInt8: return "uint8";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, DType t) { return os << dtype_name(t); }

inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }
inline bool is_integral(DType t, bool include_bool) {
  return (t == DType::UInt8 || t == DType::Int32 || t == DType::Int64) ||
         (include_bool && t == DType::Bool);
}
inline DType promote_types(DType a, DType b) { return a > b ? a : b; }
// 0 = bool, 1 = integer, 2 = floating: the "category" used when scalars take part in promotion.
inline int dtype_category(DType t) { return t == DType::Bool ? 0 : (is_floating(t) ? 2 : 1); }

template <typename T> struct TypeTag { using type = T; };

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::UInt8; }
template <> constexpr DType dtype_of<int32_t>() { return DType::Int32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }

// dispatch(dtype, [&](auto tag) { using T = typename decltype(tag)::type; ... });
template <typename F>
decltype(auto) dispatch(DType t, F&& f) {
  switch (t) {
    case DType::Bool: return f(TypeTag<bool>{});
    case DType::UInt8: return f(TypeTag<uint8_t>{});
    case DType::Int32: return f(TypeTag<int32_t>{});
    case DType::Int64: return f(TypeTag<int64_t>{});
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
  }
  throw NotImplementedError("[dispatch] unknown dtype");
}

template <typename F>
decltype(auto) dispatch_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
    default: throw NotImplementedError(str("[", op, "] not implemented for dtype ", t));
  }
}

// A Python number on its way into an op: keeps its kind so promotion can treat it as PyTorch
// treats "wrapped numbers".
struct Scalar {
  enum Kind : uint8_t { Bool, Int, Float } kind = Float;
  double d = 0;
  int64_t i = 0;
  Scalar() = default;
  static Scalar from_bool(bool v) { Scalar s; s.kind = Bool; s.i = v; s.d = v; return s; }
  static Scalar from_int(int64_t v) { Scalar s; s.kind = Int; s.i = v; s.d = double(v); return s; }
  static Scalar from_double(double v) { Scalar s; s.kind = Float; s.d = v; s.i = int64_t(v); return s; }
  DType natural_dtype() const {
    return kind == Bool ? DType::Bool : (kind == Int ? DType::Int64 : DType::Float32);
  }
  template <typename T> T to() const {
    if constexpr (std::is_same_v<T, bool>) return kind == Float ? d != 0 : i != 0;
    else if constexpr (std::is_floating_point_v<T>) return kind == Float ? T(d) : T(i);
    else return kind == Float ? T(int64_t(d)) : T(i);
  }
};

}  // namespace tgx
