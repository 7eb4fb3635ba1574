#include "ops/arith.h"
#include "ops/elementwise.h"

#include <cctype>
#include <cmath>
#include <limits>
#include <string>

#include "autograd/node.h"

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

Tensor wrapped_scalar_like(const Scalar& s, const Tensor& other) {
  if (!is_floating(other->dtype)) return scalar_tensor(s);
  // A float tensor with any Python number computes in the tensor's dtype (result_type), so the
  // number is stored in that dtype right away instead of being cast by every op.
  Tensor t = scalar_tensor(s, other->dtype);
  t->is_wrapped_number = true;
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

// ---- derivative helpers (vjps and jvps are written with ops, so they differentiate again) ------
namespace {
using autograd::TensorList;
using Needs = std::vector<bool>;
using namespace arith;  // num, add, sub, mul, div, neg
Tensor where0(const Tensor& cond, const Tensor& x) { return where(cond, x, num(0)); }
Tensor as_mask(const Tensor& cond, DType dt) { return to_dtype(cond, dt); }
// Sum of the non-null terms (null if none).
Tensor add_terms(const Tensor& a, const Tensor& b) { return !a ? b : (!b ? a : add(a, b)); }

// A cast without autograd, for the kernels' compute dtype inside an op's forward.
Tensor cast(const Tensor& t, DType dtype) {
  if (t->dtype == dtype) return t;
  Tensor out = empty(t->shape, dtype);
  if (t->numel()) {
    TensorIter it = TensorIter::build({out.get(), t.get()}, "to");
    TGX_KERNEL(copy_kernel)(dtype, t->dtype, it);
  }
  return out;
}

// Identity-derivative ops (to, clone, copies): grads pass through (the engine casts them).
void record_identity(const char* name, const Tensor& in, const Tensor& out) {
  if (!autograd::needs_record({&in}) || !is_floating(out->dtype) || !is_floating(in->dtype)) return;
  autograd::record(name, {in}, {out}, {},
      [](const TensorList& g, const TensorList&, const Needs&) { return TensorList{g[0]}; },
      [](const TensorList& t, const TensorList&, const TensorList&) { return TensorList{t[0]}; });
}
}  // namespace

// ---- copies -------------------------------------------------------------------------------
Tensor copy_(const Tensor& dst, const Tensor& src) {
  autograd::check_inplace(dst, "copy_");
  TGX_CHECK(src->ndim() <= dst->ndim(), ValueError, "[copy_] source of shape ", src->shape,
            " cannot be broadcast to destination of shape ", dst->shape);
  Shape b = broadcast_shapes(dst->shape, src->shape, "copy_");
  TGX_CHECK(b == dst->shape, ValueError, "[copy_] source of shape ", src->shape,
            " cannot be broadcast to destination of shape ", dst->shape);
  if (autograd::needs_record({&dst, &src})) {
    // dst's old value gets a zero grad, src gets the grad summed to its shape.
    return autograd::inplace_rebase(dst, "copy_", [&](const Tensor& snap) {
      Tensor r = empty(dst->shape, dst->dtype);
      if (r->numel()) {
        TensorIter it = TensorIter::build({r.get(), src.get()}, "copy_");
        TGX_KERNEL(copy_kernel)(r->dtype, src->dtype, it);
      }
      autograd::record("CopyBackwards", {snap, src}, {r}, {},
          [](const TensorList& g, const TensorList&, const Needs& needs) {
            return TensorList{needs[0] ? autograd::zeros_like(g[0]) : nullptr, g[0]};
          },
          [](const TensorList& t, const TensorList&, const TensorList& out) {
            return TensorList{t[1] ? t[1] : autograd::zeros_like(out[0])};
          });
      return r;
    });
  }
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
  record_identity(t->dtype == dtype ? "CloneBackward0" : "ToCopyBackward0", t, out);
  return out;
}

Tensor contiguous(const Tensor& t) { return t->is_contiguous() ? t : to_dtype(t, t->dtype, true); }
Tensor clone(const Tensor& t) { return to_dtype(t, t->dtype, true); }

Tensor fill_(const Tensor& dst, const Scalar& value) {
  autograd::check_inplace(dst, "fill_");
  if (autograd::needs_record({&dst})) {
    return autograd::inplace_rebase(dst, "fill_", [&](const Tensor& snap) {
      Tensor r = empty(dst->shape, dst->dtype);
      fill_(r, value);
      auto zero = [](const Tensor& x) { return TensorList{autograd::zeros_like(x)}; };
      autograd::record("FillBackward0", {snap}, {r}, {},
          [zero](const TensorList& g, const TensorList&, const Needs&) { return zero(g[0]); },
          [zero](const TensorList&, const TensorList&, const TensorList& out) { return zero(out[0]); });
      return r;
    });
  }
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
  if (out->numel() == 0) return out;
  Tensor ac = a->dtype == cdt ? nullptr : cast(a, cdt), bc = b->dtype == cdt ? nullptr : cast(b, cdt);
  const TensorImpl* pa = ac ? ac.get() : a.get();
  const TensorImpl* pb = bc ? bc.get() : b.get();
  TensorIter it = TensorIter::build({out.get(), pa, pb}, binary_name(op));
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

// ---- binary derivatives: d out / d a and d out / d b, shared by the vjp (g * d) and jvp (t * d)
namespace {
Tensor binary_partial(BinaryOp op, bool wrt_b, const Tensor& a_in, const Tensor& b_in,
                      const Tensor& o, DType out_dtype) {
  // Compute the partial in the output's dtype: a Python number (a wrapped int or float) must not
  // pull it down to float32, e.g. d(x / 6)/dx for float64 x is 1/6 in float64.
  // Wrapped numbers become plain 0-d tensors of that dtype, so they rank as tensors again.
  const bool cast = is_floating(out_dtype);
  auto fix = [&](const Tensor& t) {  // (null when the forward did not save it)
    if (!cast || !t) return t;
    return t->is_wrapped_number ? to_dtype(t, out_dtype, /*copy=*/true) : to_dtype(t, out_dtype);
  };
  const Tensor a = fix(a_in), b = fix(b_in);
  switch (op) {
    case BinaryOp::Mul: return wrt_b ? a : b;
    case BinaryOp::Div: return wrt_b ? neg(div(a, mul(b, b))) : div(num(1), b);
    case BinaryOp::Pow:
      if (!wrt_b)  // b * a^(b-1), and 0 where b == 0 (as PyTorch)
        return where(binary(BinaryOp::Eq, b, num(0)), num(0), mul(b, binary(BinaryOp::Pow, a, sub(b, num(1)))));
      return where(binary(BinaryOp::LogicalAnd, binary(BinaryOp::Eq, a, num(0)), binary(BinaryOp::Ge, b, num(0))),
                   num(0), mul(o, unary(UnaryOp::Log, a)));
    case BinaryOp::Maximum:
    case BinaryOp::Minimum: {  // the winner gets the grad; ties split it equally (as PyTorch)
      bool gt = (op == BinaryOp::Maximum) != wrt_b;
      DType dt = result_type({a.get(), b.get()});
      Tensor win = binary(gt ? BinaryOp::Gt : BinaryOp::Lt, a, b);
      return add(as_mask(win, dt), mul(as_mask(binary(BinaryOp::Eq, a, b), dt), num(0.5)));
    }
    case BinaryOp::Atan2: {
      Tensor den = add(mul(a, a), mul(b, b));
      return wrt_b ? neg(div(a, den)) : div(b, den);
    }
    case BinaryOp::Rem:  // a - floor(a / b) * b
      return wrt_b ? neg(binary(BinaryOp::FloorDiv, a, b)) : nullptr;
    default:
      throw RuntimeError(str("derivative for ", binary_name(op), " is not implemented"));
  }
}

const char* binary_backward_name(BinaryOp op) {
  static const char* names[] = {"AddBackward0", "SubBackward0", "MulBackward0", "DivBackward0",
                                "FloorDivideBackward0", "RemainderBackward0", "PowBackward1",
                                "MaximumBackward0", "MinimumBackward0", "Atan2Backward0"};
  return int(op) <= int(BinaryOp::Atan2) ? names[int(op)] : "BinaryBackward0";
}

void record_binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  if (!is_floating(out->dtype) || op > BinaryOp::Atan2) return;
  bool ra = a->requires_grad(), rb = b->requires_grad();
  // Save only what the vjp reads (as PyTorch), so in-place writes elsewhere stay legal.
  bool keep_a = true, keep_b = true;
  if (op == BinaryOp::Add || op == BinaryOp::Sub || op == BinaryOp::FloorDiv) keep_a = keep_b = false;
  if (op == BinaryOp::Mul) keep_a = rb, keep_b = ra;
  if (op == BinaryOp::Div) keep_a = rb, keep_b = true;
  if (op == BinaryOp::Rem) keep_a = keep_b = rb;
  TensorList save = {keep_a ? a : nullptr, keep_b ? b : nullptr};
  if (op == BinaryOp::Pow) save.push_back(out);
  auto vjp = [op](const TensorList& g, const TensorList& s, const Needs& needs) {
    TensorList r(2);
    if (op == BinaryOp::FloorDiv) throw RuntimeError("[floor_divide] derivative for floor_divide is not implemented");
    Tensor o = s.size() > 2 ? s[2] : nullptr;
    for (int k = 0; k < 2; ++k) {
      if (!needs[k]) continue;
      if (op == BinaryOp::Add || (op == BinaryOp::Sub && k == 0) || (op == BinaryOp::Rem && k == 0)) r[k] = g[0];
      else if (op == BinaryOp::Sub) r[k] = neg(g[0]);
      else r[k] = mul(g[0], binary_partial(op, k == 1, s[0], s[1], o, g[0]->dtype));
    }
    return r;
  };
  auto jvp = [op](const TensorList& t, const TensorList& in, const TensorList& outs) {
    if (op == BinaryOp::FloorDiv) throw RuntimeError("[floor_divide] derivative for floor_divide is not implemented");
    Tensor ta = t[0], tb = t[1];
    if (op == BinaryOp::Add) return TensorList{add_terms(ta, tb)};
    if (op == BinaryOp::Sub) return TensorList{add_terms(ta, tb ? neg(tb) : nullptr)};
    Tensor da = ta ? (op == BinaryOp::Rem ? ta : mul(ta, binary_partial(op, false, in[0], in[1], outs[0], outs[0]->dtype))) : nullptr;
    Tensor db = tb ? mul(tb, binary_partial(op, true, in[0], in[1], outs[0], outs[0]->dtype)) : nullptr;
    return TensorList{add_terms(da, db)};
  };
  autograd::record(binary_backward_name(op), {a, b}, {out}, save, vjp, jvp);
}

void check_no_out_grad(const char* name, std::initializer_list<const Tensor*> args) {
  TGX_CHECK(!autograd::needs_record(args), RuntimeError, "[", name, "] functions with out=... "
            "arguments don't support automatic differentiation, but one of the arguments requires grad.");
}
}  // namespace

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const char* name = binary_name(op);
  // Same dtype, not a wrapped number: that dtype is the promoted one (result_type's fast path).
  bool same = a->dtype == b->dtype && !a->is_wrapped_number && !b->is_wrapped_number;
  DType cdt = binary_compute_dtype(op, same ? a->dtype : result_type({a.get(), b.get()}));
  DType odt = binary_writes_bool(op) ? DType::Bool : cdt;
  Shape shape = a->shape == b->shape ? a->shape : broadcast_shapes(a->shape, b->shape, name);
  if (!out) {
    Tensor r = run_binary(op, cdt, empty(std::move(shape), odt), a, b);
    if (autograd::needs_record({&a, &b})) record_binary(op, a, b, r);
    return r;
  }
  autograd::check_inplace(out, name);
  check_no_out_grad(name, {&a, &b, &out});
  check_out(name, out, shape, odt);
  if (out->dtype == odt && out->is_contiguous()) {
    run_binary(op, cdt, out, a, b);
    out->bump_version();
    return out;
  }
  return copy_(out, run_binary(op, cdt, empty(shape, odt), a, b));
}

Tensor binary_(BinaryOp op, const Tensor& self, const Tensor& other) {
  if (autograd::needs_record({&self, &other}))
    return autograd::inplace_rebase(self, (std::string(binary_name(op)) + "_").c_str(),
                                    [&](const Tensor& snap) { return binary(op, snap, other); });
  return binary(op, self, other, self);
}

// ---- unary --------------------------------------------------------------------------------
namespace {
bool is_float_math(UnaryOp op) {
  return (op >= UnaryOp::Exp && op <= UnaryOp::Reciprocal) ||
         (op >= UnaryOp::Sin && op <= UnaryOp::Sigmoid) || op == UnaryOp::Erf;
}
}  // namespace

// ---- unary derivatives: f'(x) from x and the output o, shared by the vjp and the jvp ----------
// g * relu'(x) from the output o = relu(x), as PyTorch's threshold_backward: g where o > 0, else
// 0 (even where g is inf or nan). One compare and one select, no float mask.
Tensor relu_backward(const Tensor& g, const Tensor& o) { return where0(binary(BinaryOp::Gt, o, num(0)), g); }

namespace {
enum class Uses { None, Input, Output, Zero };
Uses unary_uses(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return Uses::None;
    case UnaryOp::Sign: case UnaryOp::Floor: case UnaryOp::Ceil: case UnaryOp::Round:
    case UnaryOp::Trunc: return Uses::Zero;
    case UnaryOp::Exp: case UnaryOp::Exp2: case UnaryOp::Expm1: case UnaryOp::Sqrt:
    case UnaryOp::Rsqrt: case UnaryOp::Reciprocal: case UnaryOp::Tan: case UnaryOp::Tanh:
    case UnaryOp::Sigmoid: case UnaryOp::Relu: return Uses::Output;
    default: return Uses::Input;
  }
}

Tensor unary_derivative(UnaryOp op, const Tensor& x, const Tensor& o) {
  auto u = [](UnaryOp f, const Tensor& t) { return unary(f, t); };
  switch (op) {
    case UnaryOp::Abs: return u(UnaryOp::Sign, x);  // abs'(0) = 0, as PyTorch
    case UnaryOp::Exp: return o;
    case UnaryOp::Exp2: return mul(o, num(M_LN2));
    case UnaryOp::Expm1: return add(o, num(1));
    case UnaryOp::Log: return u(UnaryOp::Reciprocal, x);
    case UnaryOp::Log2: return u(UnaryOp::Reciprocal, mul(x, num(M_LN2)));
    case UnaryOp::Log10: return u(UnaryOp::Reciprocal, mul(x, num(M_LN10)));
    case UnaryOp::Log1p: return u(UnaryOp::Reciprocal, add(x, num(1)));
    case UnaryOp::Sqrt: return div(num(0.5), o);
    case UnaryOp::Rsqrt: return mul(num(-0.5), mul(o, mul(o, o)));
    case UnaryOp::Reciprocal: return neg(mul(o, o));
    case UnaryOp::Square: return mul(x, num(2));
    case UnaryOp::Sin: return u(UnaryOp::Cos, x);
    case UnaryOp::Cos: return neg(u(UnaryOp::Sin, x));
    case UnaryOp::Tan: return add(num(1), mul(o, o));
    case UnaryOp::Asin: return u(UnaryOp::Rsqrt, sub(num(1), mul(x, x)));
    case UnaryOp::Acos: return neg(u(UnaryOp::Rsqrt, sub(num(1), mul(x, x))));
    case UnaryOp::Atan: return u(UnaryOp::Reciprocal, add(num(1), mul(x, x)));
    case UnaryOp::Sinh: return u(UnaryOp::Cosh, x);
    case UnaryOp::Cosh: return u(UnaryOp::Sinh, x);
    case UnaryOp::Tanh: return sub(num(1), mul(o, o));
    case UnaryOp::Sigmoid: return mul(o, sub(num(1), o));
    case UnaryOp::Relu: return as_mask(binary(BinaryOp::Gt, o, num(0)), o->dtype);  // relu'(0) = 0
    case UnaryOp::Erf: return mul(num(M_2_SQRTPI), u(UnaryOp::Exp, neg(mul(x, x))));
    default: throw RuntimeError(str("derivative for ", unary_name(op), " is not implemented"));
  }
}

const char* unary_backward_name(UnaryOp op) {
  static std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (int i = 0; i <= int(UnaryOp::LogicalNot); ++i) {
      std::string n = unary_name(UnaryOp(i));
      n[0] = char(std::toupper(n[0]));
      v.push_back(n + "Backward0");
    }
    return v;
  }();
  return names[int(op)].c_str();
}

void record_unary(UnaryOp op, const Tensor& a, const Tensor& out) {
  if (!is_floating(out->dtype) || !is_floating(a->dtype)) return;
  Uses uses = unary_uses(op);
  TensorList save;
  if (uses == Uses::Input) save = {a};
  if (uses == Uses::Output) save = {out};
  auto vjp = [op, uses](const TensorList& g, const TensorList& s, const Needs&) {
    if (uses == Uses::None) return TensorList{neg(g[0])};
    if (uses == Uses::Zero) return TensorList{autograd::zeros_like(g[0])};
    Tensor x = uses == Uses::Input ? s[0] : nullptr, o = uses == Uses::Output ? s[0] : nullptr;
    if (op == UnaryOp::Relu) return TensorList{relu_backward(g[0], o)};
    return TensorList{mul(g[0], unary_derivative(op, x, o))};
  };
  auto jvp = [op, uses](const TensorList& t, const TensorList& in, const TensorList& outs) {
    if (uses == Uses::None) return TensorList{neg(t[0])};
    if (uses == Uses::Zero) return TensorList{autograd::zeros_like(outs[0])};
    if (op == UnaryOp::Relu) return TensorList{relu_backward(t[0], outs[0])};
    return TensorList{mul(t[0], unary_derivative(op, in[0], outs[0]))};
  };
  autograd::record(unary_backward_name(op), {a}, {out}, save, vjp, jvp);
}
}  // namespace

Tensor unary(UnaryOp op, const Tensor& a, const Tensor& out) {
  const char* name = unary_name(op);
  if (out) {
    autograd::check_inplace(out, name);
    check_no_out_grad(name, {&a, &out});
  }
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
  Tensor ac = cdt == dt ? nullptr : cast(a, cdt);
  const TensorImpl* pa = ac ? ac.get() : a.get();
  Tensor result = out;
  if (out) {
    check_out(name, out, a->shape, odt);
    if (out->dtype != odt || !out->is_contiguous()) result = nullptr;
  }
  if (!result) result = empty(a->shape, odt);
  if (result->numel()) {
    if (identity) {
      TensorIter it = TensorIter::build({result.get(), pa}, name);
      TGX_KERNEL(copy_kernel)(odt, cdt, it);
    } else {
      TensorIter it = TensorIter::build({result.get(), pa}, name);
      TGX_KERNEL(unary_kernel)(op, cdt, it);
    }
  }
  if (out && result != out) return copy_(out, result);
  if (out) out->bump_version();
  else if (autograd::needs_record({&a})) record_unary(op, a, result);
  return result;
}

Tensor unary_(UnaryOp op, const Tensor& self) {
  if (autograd::needs_record({&self}))
    return autograd::inplace_rebase(self, (std::string(unary_name(op)) + "_").c_str(),
                                    [&](const Tensor& snap) { return unary(op, snap); });
  return unary(op, self, self);
}

// ---- ternary ------------------------------------------------------------------------------
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  TGX_CHECK(cond->dtype == DType::Bool, TypeError, "[where] condition must be a bool tensor, got ",
            cond->dtype);
  DType dt = result_type({a.get(), b.get()});
  Shape shape = broadcast_shapes(broadcast_shapes(cond->shape, a->shape, "where"), b->shape, "where");
  Tensor out = empty(shape, dt);
  if (out->numel()) {
    Tensor ac = cast(a, dt), bc = cast(b, dt);
    TensorIter it = TensorIter::build({out.get(), cond.get(), ac.get(), bc.get()}, "where");
    TGX_KERNEL(ternary_kernel)(TernaryOp::Where, dt, it);
  }
  if (autograd::needs_record({&a, &b}) && is_floating(dt)) {
    autograd::record("WhereBackward0", {a, b}, {out}, {cond},
        [](const TensorList& g, const TensorList& s, const Needs& needs) {
          return TensorList{needs[0] ? where0(s[0], g[0]) : nullptr,
                            needs[1] ? where(s[0], num(0), g[0]) : nullptr};
        },
        [cond](const TensorList& t, const TensorList&, const TensorList& outs) {
          Tensor z = autograd::zeros_like(outs[0]);
          return TensorList{where(cond, t[0] ? t[0] : z, t[1] ? t[1] : z)};
        });
  }
  return out;
}

Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& w) {
  DType dt = result_type({a.get(), b.get(), w.get()});
  TGX_CHECK(is_floating(dt), TypeError, "[lerp] needs floating-point tensors, got ", dt);
  Shape shape = broadcast_shapes(broadcast_shapes(a->shape, b->shape, "lerp"), w->shape, "lerp");
  Tensor out = empty(shape, dt);
  if (out->numel()) {
    Tensor ac = cast(a, dt), bc = cast(b, dt), wc = cast(w, dt);
    TensorIter it = TensorIter::build({out.get(), ac.get(), bc.get(), wc.get()}, "lerp");
    TGX_KERNEL(ternary_kernel)(TernaryOp::Lerp, dt, it);
  }
  if (autograd::needs_record({&a, &b, &w})) {
    // out = a + w (b - a): d/da = 1 - w, d/db = w, d/dw = b - a
    auto partial = [](int k, const TensorList& s) {
      return k == 0 ? sub(num(1), s[2]) : (k == 1 ? s[2] : sub(s[1], s[0]));
    };
    autograd::record("LerpBackward1", {a, b, w}, {out}, {a, b, w},
        [partial](const TensorList& g, const TensorList& s, const Needs& needs) {
          TensorList r(3);
          for (int k = 0; k < 3; ++k)
            if (needs[k]) r[k] = mul(g[0], partial(k, s));
          return r;
        },
        [partial](const TensorList& t, const TensorList& in, const TensorList&) {
          Tensor r;
          for (int k = 0; k < 3; ++k)
            if (t[k]) r = add_terms(r, mul(t[k], partial(k, in)));
          return TensorList{r};
        });
  }
  return out;
}

namespace {
// Which elements pass the grad to x, lo and hi (PyTorch's clamp_backward_min_max): x on
// [lo, hi] including the boundary, lo where x < lo < hi, hi where x > hi or hi < lo.
Tensor clamp_mask(int k, const Tensor& x, const Tensor& lo, const Tensor& hi) {
  auto B = [](BinaryOp op, const Tensor& a, const Tensor& b) { return binary(op, a, b); };
  if (k == 0) {
    if (lo && hi) return B(BinaryOp::LogicalAnd, B(BinaryOp::Ge, x, lo), B(BinaryOp::Le, x, hi));
    return lo ? B(BinaryOp::Ge, x, lo) : B(BinaryOp::Le, x, hi);
  }
  if (k == 1) {
    Tensor m = B(BinaryOp::Lt, x, lo);
    return hi ? B(BinaryOp::LogicalAnd, m, B(BinaryOp::Lt, lo, hi)) : m;
  }
  Tensor m = B(BinaryOp::Gt, x, hi);
  return lo ? B(BinaryOp::LogicalOr, m, B(BinaryOp::Lt, hi, lo)) : m;
}

void record_clamp(const Tensor& x, const Tensor& lo, const Tensor& hi, const Tensor& out) {
  if (!is_floating(out->dtype)) return;
  autograd::record("ClampBackward1", {x, lo, hi}, {out}, {x, lo, hi},
      [](const TensorList& g, const TensorList& s, const Needs& needs) {
        TensorList r(3);
        for (int k = 0; k < 3; ++k)
          if (needs[k]) r[k] = where0(clamp_mask(k, s[0], s[1], s[2]), g[0]);
        return r;
      },
      [](const TensorList& t, const TensorList& in, const TensorList&) {
        Tensor r;
        for (int k = 0; k < 3; ++k)
          if (t[k]) r = add_terms(r, where0(clamp_mask(k, in[0], in[1], in[2]), t[k]));
        return TensorList{r};
      });
}
}  // namespace

Tensor clamp(const Tensor& x, const Tensor& lo, const Tensor& hi, const Tensor& out) {
  TGX_CHECK(lo || hi, ValueError, "[clamp] at least one of min or max must not be None");
  TGX_CHECK(x->dtype != DType::Bool, TypeError, "[clamp] not supported for dtype bool");
  if (out) {
    if (out.get() == x.get() && autograd::needs_record({&x, &lo, &hi}))
      return autograd::inplace_rebase(x, "clamp_", [&](const Tensor& snap) { return clamp(snap, lo, hi); });
    autograd::check_inplace(out, "clamp");
    check_no_out_grad("clamp", {&x, &lo, &hi, &out});
  }
  DType dt = result_type({x.get(), lo.get(), hi.get()});
  // A missing bound is the dtype's extreme value (+-inf for floats).
  auto bound = [&](const Tensor& b, bool upper) -> Tensor {
    if (b) return cast(b, dt);
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
    Tensor xc = cast(x, dt);
    TensorIter it = TensorIter::build({result.get(), xc.get(), l.get(), h.get()}, "clamp");
    TGX_KERNEL(ternary_kernel)(TernaryOp::Clamp, dt, it);
  }
  if (out && result != out) return copy_(out, result);
  if (out) out->bump_version();
  else if (autograd::needs_record({&x, &lo, &hi})) record_clamp(x, lo, hi, result);
  return result;
}

Tensor nan_to_num(const Tensor& x, double nan, double posinf, double neginf) {
  if (!is_floating(x->dtype)) return clone(x);
  Tensor out = empty(x->shape, x->dtype);
  if (x->numel()) {
    TensorIter it = TensorIter::build({out.get(), x.get()}, "nan_to_num");
    TGX_KERNEL(copy_kernel)(x->dtype, x->dtype, it);
  }
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
  if (autograd::needs_record({&x})) {  // the grad passes where x is finite
    auto fin = [](const Tensor& v) { return unary(UnaryOp::IsFinite, v); };
    autograd::record("NanToNumBackward0", {x}, {out}, {x},
        [fin](const TensorList& g, const TensorList& s, const Needs&) { return TensorList{where0(fin(s[0]), g[0])}; },
        [fin](const TensorList& t, const TensorList& in, const TensorList&) { return TensorList{where0(fin(in[0]), t[0])}; });
  }
  return out;
}

}  // namespace tgx::ops
