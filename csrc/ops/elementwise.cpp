#include "ops/elementwise.h"

#include <cmath>
#include <limits>

namespace tgx::ops {

const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "floor_divide", "remainder", "pow",
                                "maximum", "minimum", "atan2", "eq", "ne", "lt", "le", "gt", "ge",
                                "logical_and", "logical_or", "logical_xor", "bitwise_and",
                                "bitwise_or", "bitwise_xor"};
  return names[int(op)];
}

const char* unary_name(UnaryOp op) {
  static const char* names[] = {"neg", "abs", "sign", "exp", "exp2", "expm1", "log", "log2",
                                "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "square", "sin",
                                "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
                                "sigmoid", "relu", "erf", "floor", "ceil", "round", "trunc",
                                "bitwise_not", "isnan", "isinf", "isfinite", "logical_not"};
  return names[int(op)];
}

// ---- promotion ---------------------------------------------------------------------------
namespace {
constexpr int kUndef = -1;
int combine_categories(int higher, int lower) {
  if (higher == kUndef) return lower;
  if (lower == kUndef) return higher;
  DType h = DType(higher), l = DType(lower);
  if (is_floating(h)) return higher;
  if (h == DType::Bool || is_floating(l)) return int(promote_types(h, l));
  return higher;
}
int update(int state, DType t) { return state == kUndef ? int(t) : int(promote_types(DType(state), t)); }
}  // namespace

DType result_type(std::initializer_list<const TensorImpl*> operands) {
  int dim = kUndef, zero = kUndef, wrapped = kUndef;
  for (const TensorImpl* t : operands) {
    if (!t) continue;
    if (t->is_wrapped_number) wrapped = update(wrapped, is_floating(t->dtype) ? DType::Float32 : t->dtype);
    else if (t->ndim() == 0) zero = update(zero, t->dtype);
    else dim = update(dim, t->dtype);
  }
  int r = combine_categories(dim, combine_categories(zero, wrapped));
  return r == kUndef ? DType::Float32 : DType(r);
}

Tensor scalar_tensor(const Scalar& s, bool wrapped) {
  DType dt = s.kind == Scalar::Bool ? DType::Bool : (s.kind == Scalar::Int ? DType::Int64 : DType::Float64);
  Tensor t = scalar_tensor(s, dt);
  t->is_wrapped_number = wrapped;
  return t;
}

Tensor scalar_tensor(const Scalar& s, DType dtype) {
  Tensor t = empty({}, dtype);
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    *t->data<T>() = s.to<T>();
  });
  return t;
}

// ---- copies -------------------------------------------------------------------------------
Tensor copy_(const Tensor& dst, const Tensor& src) {
  TGX_CHECK(src->ndim() <= dst->ndim(), ValueError, "[copy_] source of shape ", src->shape,
            " cannot be broadcast to destination of shape ", dst->shape);
  Shape b = broadcast_shapes(dst->shape, src->shape, "copy_");
  TGX_CHECK(b == dst->shape, ValueError, "[copy_] source of shape ", src->shape,
            " cannot be broadcast to destination of shape ", dst->shape);
  if (dst->numel() == 0) return dst;
  TensorIter it = TensorIter::build({dst.get(), src.get()}, "copy_");
  TGX_KERNEL(copy_kernel)(dst->dtype, src->dtype, it);
  dst->bump_version();
  return dst;
}

Tensor to_dtype(const Tensor& t, DType dtype, bool copy) {
  if (t->dtype == dtype && !copy) return t;
  Tensor out = empty(t->shape, dtype);
  if (t->numel()) {
    TensorIter it = TensorIter::build({out.get(), t.get()}, "to");
    TGX_KERNEL(copy_kernel)(dtype, t->dtype, it);
  }
  return out;
}

Tensor contiguous(const Tensor& t) { return t->is_contiguous() ? t : to_dtype(t, t->dtype, true); }
Tensor clone(const Tensor& t) { return to_dtype(t, t->dtype, true); }

Tensor fill_(const Tensor& dst, const Scalar& value) {
  if (dst->numel()) {
    TensorIter it = TensorIter::build({dst.get()}, "fill_");
    TGX_KERNEL(fill_kernel)(dst->dtype, value, it);
  }
  dst->bump_version();
  return dst;
}

// ---- binary -------------------------------------------------------------------------------
namespace {

// The dtype the kernel computes in, given the promoted dtype; raises for unsupported pairs.
DType binary_compute_dtype(BinaryOp op, DType promoted) {
  const char* name = binary_name(op);
  switch (op) {
    case BinaryOp::Sub:
      TGX_CHECK(promoted != DType::Bool, TypeError, "[sub] subtraction of bool tensors is not "
                "supported; use logical_xor() or ~ instead");
      return promoted;
    case BinaryOp::Div:
    case BinaryOp::Atan2:
      return is_floating(promoted) ? promoted : DType::Float32;
    case BinaryOp::FloorDiv:
    case BinaryOp::Rem:
      TGX_CHECK(promoted != DType::Bool, TypeError, "[", name, "] not supported for dtype bool");
      return promoted;
    case BinaryOp::BitAnd:
    case BinaryOp::BitOr:
    case BinaryOp::BitXor:
      TGX_CHECK(!is_floating(promoted), TypeError, "[", name, "] not supported for dtype ",
                promoted, " (bitwise ops need integer or bool tensors)");
      return promoted;
    default:
      return promoted;
  }
}

Tensor run_binary(BinaryOp op, DType cdt, const Tensor& out, const Tensor& a, const Tensor& b) {
  Tensor ac = to_dtype(a, cdt), bc = to_dtype(b, cdt);
  if (out->numel() == 0) return out;
  TensorIter it = TensorIter::build({out.get(), ac.get(), bc.get()}, binary_name(op));
  bool zero_div = TGX_KERNEL(binary_kernel)(op, cdt, it);
  TGX_CHECK(!zero_div, ZeroDivisionError, "[", binary_name(op), "] integer division by zero");
  return out;
}

// Checks that an explicit output fits: its shape must equal the broadcast shape and the
// result dtype must be castable to it (no float -> int, no int -> bool), as PyTorch.
void check_out(const char* name, const Tensor& out, const Shape& shape, DType result) {
  TGX_CHECK(out->shape == shape, ValueError, "[", name, "] output with shape ", out->shape,
            " doesn't match the broadcast shape ", shape);
  TGX_CHECK(dtype_category(result) <= dtype_category(out->dtype), TypeError, "[", name,
            "] result type ", result, " can't be cast to the desired output type ", out->dtype);
}

}  // namespace

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const char* name = binary_name(op);
  DType cdt = binary_compute_dtype(op, result_type({a.get(), b.get()}));
  DType odt = binary_writes_bool(op) ? DType::Bool : cdt;
  Shape shape = broadcast_shapes(a->shape, b->shape, name);
  if (!out) return run_binary(op, cdt, empty(shape, odt), a, b);
  check_out(name, out, shape, odt);
  if (out->dtype == odt && out->is_contiguous()) {
    run_binary(op, cdt, out, a, b);
    out->bump_version();
    return out;
  }
  return copy_(out, run_binary(op, cdt, empty(shape, odt), a, b));
}

Tensor binary_(BinaryOp op, const Tensor& self, const Tensor& other) {
  return binary(op, self, other, self);
}

// ---- unary --------------------------------------------------------------------------------
namespace {
bool is_float_math(UnaryOp op) {
  return (op >= UnaryOp::Exp && op <= UnaryOp::Reciprocal) ||
         (op >= UnaryOp::Sin && op <= UnaryOp::Sigmoid) || op == UnaryOp::Erf;
}
}  // namespace

Tensor unary(UnaryOp op, const Tensor& a, const Tensor& out) {
  const char* name = unary_name(op);
  DType dt = a->dtype;
  DType cdt = dt;
  if (is_float_math(op)) {
    TGX_CHECK(dt != DType::Bool, TypeError, "[", name, "] not supported for dtype bool");
    if (!is_floating(dt)) cdt = DType::Float32;
  } else if (op == UnaryOp::Neg || op == UnaryOp::Relu || op == UnaryOp::Square ||
             (op >= UnaryOp::Floor && op <= UnaryOp::Trunc)) {
    TGX_CHECK(dt != DType::Bool, TypeError, "[", name, "] not supported for dtype bool",
              op == UnaryOp::Neg ? " (use logical_not() or ~ instead)" : "");
  } else if (op == UnaryOp::BitNot) {
    TGX_CHECK(!is_floating(dt), TypeError, "[bitwise_not] not supported for dtype ", dt,
              " (bitwise ops need integer or bool tensors)");
  }
  DType odt = unary_writes_bool(op) ? DType::Bool : cdt;
  bool identity = !is_floating(cdt) && op >= UnaryOp::Floor && op <= UnaryOp::Trunc;
  Tensor ac = to_dtype(a, cdt);
  Tensor result = out;
  if (out) {
    check_out(name, out, a->shape, odt);
    if (out->dtype != odt || !out->is_contiguous()) result = nullptr;
  }
  if (!result) result = empty(a->shape, odt);
  if (result->numel()) {
    if (identity) {
      TensorIter it = TensorIter::build({result.get(), ac.get()}, name);
      TGX_KERNEL(copy_kernel)(odt, cdt, it);
    } else {
      TensorIter it = TensorIter::build({result.get(), ac.get()}, name);
      TGX_KERNEL(unary_kernel)(op, cdt, it);
    }
  }
  if (out && result != out) return copy_(out, result);
  if (out) out->bump_version();
  return result;
}

Tensor unary_(UnaryOp op, const Tensor& self) { return unary(op, self, self); }

// ---- ternary ------------------------------------------------------------------------------
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  TGX_CHECK(cond->dtype == DType::Bool, TypeError, "[where] condition must be a bool tensor, got ",
            cond->dtype);
  DType dt = result_type({a.get(), b.get()});
  Shape shape = broadcast_shapes(broadcast_shapes(cond->shape, a->shape, "where"), b->shape, "where");
  Tensor out = empty(shape, dt);
  if (out->numel()) {
    Tensor ac = to_dtype(a, dt), bc = to_dtype(b, dt);
    TensorIter it = TensorIter::build({out.get(), cond.get(), ac.get(), bc.get()}, "where");
    TGX_KERNEL(ternary_kernel)(TernaryOp::Where, dt, it);
  }
  return out;
}

Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& w) {
  DType dt = result_type({a.get(), b.get(), w.get()});
  TGX_CHECK(is_floating(dt), TypeError, "[lerp] needs floating-point tensors, got ", dt);
  Shape shape = broadcast_shapes(broadcast_shapes(a->shape, b->shape, "lerp"), w->shape, "lerp");
  Tensor out = empty(shape, dt);
  if (out->numel()) {
    Tensor ac = to_dtype(a, dt), bc = to_dtype(b, dt), wc = to_dtype(w, dt);
    TensorIter it = TensorIter::build({out.get(), ac.get(), bc.get(), wc.get()}, "lerp");
    TGX_KERNEL(ternary_kernel)(TernaryOp::Lerp, dt, it);
  }
  return out;
}

Tensor clamp(const Tensor& x, const Tensor& lo, const Tensor& hi, const Tensor& out) {
  TGX_CHECK(lo || hi, ValueError, "[clamp] at least one of min or max must not be None");
  TGX_CHECK(x->dtype != DType::Bool, TypeError, "[clamp] not supported for dtype bool");
  DType dt = result_type({x.get(), lo.get(), hi.get()});
  // A missing bound is the dtype's extreme value (+-inf for floats).
  auto bound = [&](const Tensor& b, bool upper) -> Tensor {
    if (b) return to_dtype(b, dt);
    return dispatch(dt, [&](auto tag) {
      using T = typename decltype(tag)::type;
      using L = std::numeric_limits<T>;
      T v = std::is_floating_point_v<T> ? (upper ? L::infinity() : -L::infinity())
                                        : (upper ? L::max() : L::lowest());
      Tensor s = empty({}, dt);
      *s->data<T>() = v;
      return s;
    });
  };
  Tensor l = bound(lo, false), h = bound(hi, true);
  Shape shape = broadcast_shapes(broadcast_shapes(x->shape, l->shape, "clamp"), h->shape, "clamp");
  Tensor result = out;
  if (out) {
    check_out("clamp", out, shape, dt);
    if (out->dtype != dt || !out->is_contiguous()) result = nullptr;
  }
  if (!result) result = empty(shape, dt);
  if (result->numel()) {
    Tensor xc = to_dtype(x, dt);
    TensorIter it = TensorIter::build({result.get(), xc.get(), l.get(), h.get()}, "clamp");
    TGX_KERNEL(ternary_kernel)(TernaryOp::Clamp, dt, it);
  }
  if (out && result != out) return copy_(out, result);
  if (out) out->bump_version();
  return result;
}

Tensor nan_to_num(const Tensor& x, double nan, double posinf, double neginf) {
  if (!is_floating(x->dtype)) return clone(x);
  Tensor out = clone(x);
  dispatch_floating(x->dtype, "nan_to_num", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = out->data<T>();
    int64_t n = out->numel();
    for (int64_t i = 0; i < n; ++i) {
      if (p[i] != p[i]) p[i] = T(nan);
      else if (p[i] == std::numeric_limits<T>::infinity()) p[i] = T(posinf);
      else if (p[i] == -std::numeric_limits<T>::infinity()) p[i] = T(neginf);
    }
  });
  return out;
}

}  // namespace tgx::ops
