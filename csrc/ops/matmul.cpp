#include "ops/matmul.h"

#include <algorithm>

#include "autograd/node.h"
#include "core/parallel.h"
#include "kernels/cpu/gemm.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace tgx::ops {
namespace {

const Scalar kOne = Scalar::from_int(1);
const Scalar kZero = Scalar::from_int(0);

Shape slice(const Shape& s, int64_t b, int64_t e) { return Shape(s.begin() + b, s.begin() + e); }
bool is_zero(const Scalar& s) { return s.kind == Scalar::Float ? s.d == 0 : s.i == 0; }
bool is_one(const Scalar& s) { return s.kind == Scalar::Float ? s.d == 1 : s.i == 1; }

DType gemm_dtype(std::initializer_list<const TensorImpl*> ts, const char* op) {
  DType dt = result_type(ts);
  TGX_CHECK(dt != DType::Bool, NotImplementedError, "[", op, "] not implemented for dtype bool");
  return dt;
}

void check_scalar(DType dt, const Scalar& s, const char* name, const char* op) {
  TGX_CHECK(is_floating(dt) || s.kind != Scalar::Float, TypeError, "[", op,
            "] for integral input tensors, argument ", name,
            " must not be a floating point number");
}

bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[lead + i]) return false;
  return true;
}

// Merges consecutive dims: groups[g] dims of t become dim g (0 dims -> size 1). A view when
// the strides allow it, else a copy (ops::reshape).
Tensor reshape_groups(const Tensor& t, const std::vector<int64_t>& groups) {
  Shape sh;
  size_t d = 0;
  for (int64_t g : groups) {
    int64_t size = 1;
    for (int64_t i = 0; i < g; ++i) size *= t->shape[d++];
    sh.push_back(size);
  }
  return reshape(t, sh);
}

Tensor view_as_contiguous(const Tensor& c, const Shape& shape) {
  return make_view(c, shape, contiguous_strides(shape), c->offset);
}

// c[batch] = alpha * a[batch] @ b[batch] + beta * c[batch]. a is (..., m, k), b (..., k, n),
// c (batch..., m, n) where batch is the broadcast of a's and b's batch dims; all one dtype.
// Broadcast batch dims get stride 0: expanded operands are never copied.
void gemm_batched(const Tensor& a, const Tensor& b, const Tensor& c, const Scalar& alpha,
                  const Scalar& beta) {
  const int64_t nb = c->ndim() - 2;
  const int64_t m = c->shape[size_t(nb)], n = c->shape[size_t(nb + 1)];
  const int64_t k = a->shape.back();
  const size_t isz = itemsize(c->dtype);
  auto batch_strides = [&](const Tensor& t) {
    Shape s(size_t(nb), 0);
    const int64_t tb = t->ndim() - 2;
    for (int64_t i = 0; i < tb; ++i)
      s[size_t(nb - tb + i)] = t->shape[size_t(i)] == 1 ? 0 : t->strides[size_t(i)];
    return s;
  };
  Shape sa = batch_strides(a), sb = batch_strides(b), sc = batch_strides(c);
  const Shape bshape = slice(c->shape, 0, nb);
  int64_t batch = 1;
  for (int64_t s : bshape) batch *= s;
  if (batch == 0 || m == 0 || n == 0) return;

  GemmArgs base;
  base.m = m, base.n = n, base.k = k;
  base.rsa = a->strides[size_t(a->ndim() - 2)], base.csa = a->strides.back();
  base.rsb = b->strides[size_t(b->ndim() - 2)], base.csb = b->strides.back();
  base.rsc = c->strides[size_t(nb)], base.csc = c->strides.back();
  auto kernel = TGX_KERNEL(gemm_kernel);

  // b fixed over the batch and a's batch dims foldable into its rows (c's too): one GEMM.
  if (nb > 0 && std::all_of(sb.begin(), sb.end(), [](int64_t s) { return s == 0; })) {
    Shape fshape = bshape;
    fshape.push_back(m);
    Shape fa = sa, fc = sc;
    fa.push_back(base.rsa);
    fc.push_back(base.rsc);
    auto av = compute_view_strides(fshape, fa, {batch * m});
    auto cv = compute_view_strides(fshape, fc, {batch * m});
    if (av && cv) {
      GemmArgs g = base;
      g.m = batch * m, g.rsa = (*av)[0], g.rsc = (*cv)[0];
      g.a = a->raw(), g.b = b->raw(), g.c = c->raw();
      kernel(c->dtype, g, alpha, beta);
      return;
    }
  }

  auto run = [&](int64_t i0, int64_t i1) {
    Shape idx(size_t(nb), 0);
    int64_t rem = i0;
    for (int64_t d = nb - 1; d >= 0; --d) {
      idx[size_t(d)] = rem % bshape[size_t(d)];
      rem /= bshape[size_t(d)];
    }
    for (int64_t i = i0; i < i1; ++i) {
      int64_t oa = 0, ob = 0, oc = 0;
      for (int64_t d = 0; d < nb; ++d) {
        oa += idx[size_t(d)] * sa[size_t(d)];
        ob += idx[size_t(d)] * sb[size_t(d)];
        oc += idx[size_t(d)] * sc[size_t(d)];
      }
      GemmArgs g = base;
      g.a = a->raw() + oa * int64_t(isz);
      g.b = b->raw() + ob * int64_t(isz);
      g.c = c->raw() + oc * int64_t(isz);
      kernel(c->dtype, g, alpha, beta);
      for (int64_t d = nb - 1; d >= 0; --d) {
        if (++idx[size_t(d)] < bshape[size_t(d)]) break;
        idx[size_t(d)] = 0;
      }
    }
  };
  // Enough products to go round: a batch range per thread (the GEMMs inside then stay single-
  // threaded, with no synchronisation between them). Few big ones run one after another, each
  // GEMM using every thread.
  const double per = double(m) * double(n) * double(std::max<int64_t>(k, 1));
  const double kWork = 1 << 18;
  const bool per_thread = batch >= 2 * int64_t(get_num_threads()) || per < kWork;
  const int64_t grain = !per_thread ? batch : std::max<int64_t>(1, int64_t(kWork / per));
  parallel_for(0, batch, grain, run);
}

// The broadcast of a's and b's batch dims, with a ValueError naming both shapes.
Shape batch_shape(const Tensor& a, const Tensor& b, const Shape& a0, const Shape& b0,
                  const char* op) {
  Shape ba = slice(a->shape, 0, a->ndim() - 2), bb = slice(b->shape, 0, b->ndim() - 2);
  size_t nb = std::max(ba.size(), bb.size());
  Shape out(nb);
  for (size_t i = 0; i < nb; ++i) {
    int64_t x = i < nb - ba.size() ? 1 : ba[i - (nb - ba.size())];
    int64_t y = i < nb - bb.size() ? 1 : bb[i - (nb - bb.size())];
    TGX_CHECK(x == y || x == 1 || y == 1, ValueError, "[", op, "] batch dimensions of shapes ",
              a0, " and ", b0, " cannot be broadcast together (", x, " != ", y, ")");
    out[i] = x == 1 ? y : x;
  }
  return out;
}

// ---- autograd: grad_a = g @ b^T, grad_b = a^T @ g (at the broadcast batch shape: the engine
// sums them back), jvp = ta @ b + a @ tb. Written with matmul, so they differentiate again.
using autograd::TensorList;
using Needs = std::vector<bool>;

Shape drop_dim(Shape s, int64_t from_end) {
  s.erase(s.end() - from_end);
  return s;
}

// A matrix whose columns are contiguous (the transpose of a contiguous matrix).
bool transposed_layout(const Tensor& x) {
  return x->shape[0] > 1 && x->shape[1] > 1 && x->strides[0] == 1 && x->strides[1] == x->shape[0];
}

// The grads of a @ b (2-D) for its left and right operand. An operand stored transposed (a linear
// layer's weight.t()) gets its gradient in the same layout, computed as (b g^T)^T or (g^T a)^T,
// as PyTorch does: the transpose's backward then hands AccumulateGrad a contiguous tensor it can
// keep instead of copying.
Tensor mm_grad_a(const Tensor& g, const Tensor& a, const Tensor& b) {
  return transposed_layout(a) ? matrix_transpose(matmul(b, matrix_transpose(g)))
                              : matmul(g, matrix_transpose(b));
}
Tensor mm_grad_b(const Tensor& g, const Tensor& a, const Tensor& b) {
  return transposed_layout(b) ? matrix_transpose(matmul(matrix_transpose(g), a))
                              : matmul(matrix_transpose(a), g);
}

TensorList matmul_vjp(const Tensor& g0, const Tensor& a, const Tensor& b, const Needs& needs) {
  const bool av = a->ndim() == 1, bv = b->ndim() == 1;
  Tensor g = g0;
  if (av || bv) {  // put back the dims a vector operand dropped
    Shape gs = g->shape;
    if (av) gs.insert(gs.end() - (bv ? 0 : 1), 1);
    if (bv) gs.push_back(1);
    g = reshape(g, gs);
  }
  TensorList r(2);
  if (!av && !bv && a->ndim() == 2 && b->ndim() == 2 && g->ndim() == 2) {
    if (needs[0]) r[0] = mm_grad_a(g, a, b);
    if (needs[1]) r[1] = mm_grad_b(g, a, b);
    return r;
  }
  if (needs[0]) {
    Tensor b2 = bv ? reshape(b, {b->shape[0], 1}) : b;
    Tensor ga = matmul(g, matrix_transpose(b2));
    r[0] = av ? reshape(ga, drop_dim(ga->shape, 2)) : ga;
  }
  if (needs[1]) {
    Tensor a2 = av ? reshape(a, {1, a->shape[0]}) : a;
    Tensor gb = matmul(matrix_transpose(a2), g);
    r[1] = bv ? reshape(gb, drop_dim(gb->shape, 1)) : gb;
  }
  return r;
}

Tensor add_terms(const Tensor& x, const Tensor& y) {
  return !x ? y : (!y ? x : binary(BinaryOp::Add, x, y));
}

void record_matmul(const char* op, const Tensor& a, const Tensor& b, const Tensor& out) {
  if (!is_floating(out->dtype)) return;
  std::string o = op;
  const char* name = o == "mm" ? "MmBackward0" : o == "bmm" ? "BmmBackward0" : o == "dot" ? "DotBackward0"
                   : o == "vdot" ? "VdotBackward0" : o == "mv" ? "MvBackward0" : "MatmulBackward0";
  autograd::record(name, {a, b}, {out}, {a, b},
      [](const TensorList& g, const TensorList& s, const Needs& needs) {
        return matmul_vjp(g[0], s[0], s[1], needs);
      },
      [](const TensorList& t, const TensorList& in, const TensorList&) {
        return TensorList{add_terms(t[0] ? matmul(t[0], in[1]) : nullptr,
                                    t[1] ? matmul(in[0], t[1]) : nullptr)};
      });
}

Tensor matmul_impl(const Tensor& a0, const Tensor& b0, const char* op) {
  TGX_CHECK(a0->ndim() >= 1 && b0->ndim() >= 1, ValueError, "[", op,
            "] both arguments to matmul need to be at least 1D, but they are ", a0->ndim(),
            "D and ", b0->ndim(), "D");
  const DType dt = gemm_dtype({a0.get(), b0.get()}, op);
  Tensor a = to_dtype(a0, dt), b = to_dtype(b0, dt);
  const Tensor ac = a, bc = b;  // the operands the product records (casts record themselves)
  const bool a_vec = a->ndim() == 1, b_vec = b->ndim() == 1;
  if (a_vec) a = make_view(a, {1, a->shape[0]}, {0, a->strides[0]}, a->offset);
  if (b_vec) b = make_view(b, {b->shape[0], 1}, {b->strides[0], 0}, b->offset);
  const int64_t k = a->shape.back(), kb = b->shape[size_t(b->ndim() - 2)];
  TGX_CHECK(k == kb, ValueError, "[", op, "] shapes ", a0->shape, " and ", b0->shape,
            " cannot be multiplied (", k, " != ", kb, ")");
  Shape batch = batch_shape(a, b, a0->shape, b0->shape, op);
  const int64_t m = a->shape[size_t(a->ndim() - 2)], n = b->shape.back();
  Shape cshape = batch;
  cshape.push_back(m);
  cshape.push_back(n);
  Tensor c = empty(cshape, dt);
  gemm_batched(a, b, c, kOne, kZero);
  if (a_vec || b_vec) {
    Shape out = batch;
    if (!a_vec) out.push_back(m);
    if (!b_vec) out.push_back(n);
    c = view_as_contiguous(c, out);
  }
  if (autograd::needs_record({&ac, &bc})) record_matmul(op, ac, bc, c);
  return c;
}

}  // namespace

// ---- products ------------------------------------------------------------------------------
Tensor matmul(const Tensor& a, const Tensor& b) { return matmul_impl(a, b, "matmul"); }

Tensor mm(const Tensor& a, const Tensor& b) {
  TGX_CHECK(a->ndim() == 2 && b->ndim() == 2, ValueError, "[mm] expected 2-D tensors, got ",
            a->ndim(), "-D and ", b->ndim(), "-D");
  return matmul_impl(a, b, "mm");
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  TGX_CHECK(a->ndim() == 3 && b->ndim() == 3, ValueError, "[bmm] expected 3-D tensors, got ",
            a->ndim(), "-D and ", b->ndim(), "-D");
  TGX_CHECK(a->shape[0] == b->shape[0], ValueError, "[bmm] batch sizes must match, got shapes ",
            a->shape, " and ", b->shape);
  return matmul_impl(a, b, "bmm");
}

Tensor dot(const Tensor& a, const Tensor& b) {
  TGX_CHECK(a->ndim() == 1 && b->ndim() == 1, ValueError, "[dot] 1D tensors expected, but got ",
            a->ndim(), "D and ", b->ndim(), "D tensors");
  TGX_CHECK(a->shape[0] == b->shape[0], ValueError, "[dot] inconsistent tensor size: ",
            a->shape[0], " and ", b->shape[0], " elements");
  return matmul_impl(a, b, "dot");
}

Tensor vdot(const Tensor& a, const Tensor& b) {
  TGX_CHECK(a->ndim() == 1 && b->ndim() == 1, ValueError, "[vdot] 1D tensors expected, but got ",
            a->ndim(), "D and ", b->ndim(), "D tensors");
  TGX_CHECK(a->shape[0] == b->shape[0], ValueError, "[vdot] inconsistent tensor size: ",
            a->shape[0], " and ", b->shape[0], " elements");
  return matmul_impl(a, b, "vdot");  // real dtypes only: no conjugation needed
}

Tensor mv(const Tensor& a, const Tensor& v) {
  TGX_CHECK(a->ndim() == 2 && v->ndim() == 1, ValueError,
            "[mv] expected a 2-D matrix and a 1-D vector, got ", a->ndim(), "-D and ", v->ndim(),
            "-D");
  return matmul_impl(a, v, "mv");
}

Tensor outer(const Tensor& a, const Tensor& b) {
  TGX_CHECK(a->ndim() == 1 && b->ndim() == 1, ValueError, "[outer] 1D tensors expected, but got ",
            a->ndim(), "D and ", b->ndim(), "D tensors");
  Tensor col = reshape(a, {a->shape[0], 1});  // views; differentiable through mul
  Tensor row = reshape(b, {1, b->shape[0]});
  return binary(BinaryOp::Mul, col, row);
}

namespace {
Tensor addmm_impl(const Tensor& input, const Tensor& m1, const Tensor& m2, const Scalar& beta,
                  const Scalar& alpha, const char* op) {
  const DType dt = gemm_dtype({input.get(), m1.get(), m2.get()}, op);
  check_scalar(dt, beta, "beta", op);
  check_scalar(dt, alpha, "alpha", op);
  const int64_t nd = m1->ndim();
  const int64_t k = m1->shape.back(), kb = m2->shape[size_t(nd - 2)];
  TGX_CHECK(k == kb, ValueError, "[", op, "] shapes ", m1->shape, " and ", m2->shape,
            " cannot be multiplied (", k, " != ", kb, ")");
  Shape cshape = m1->shape;
  cshape.back() = m2->shape.back();
  TGX_CHECK(broadcasts_to(input->shape, cshape), ValueError, "[", op, "] input of shape ",
            input->shape, " cannot be broadcast to the product's shape ", cshape);
  Tensor c = empty(cshape, dt);
  const bool beta0 = is_zero(beta);
  Tensor in = to_dtype(input, dt), a = to_dtype(m1, dt), b = to_dtype(m2, dt);
  {
    autograd::GradModeGuard no_grad(false);
    autograd::FwGradDisabledGuard pause;
    if (!beta0 && c->numel()) copy_(c, in);
    gemm_batched(a, b, c, alpha, beta0 ? kZero : beta);
  }
  if (autograd::needs_record({&in, &a, &b}) && is_floating(dt)) {
    // out = beta in + alpha a @ b: grads beta g, alpha g @ b^T, alpha a^T @ g.
    // A factor of 1 (nn.Linear's addmm) is no multiplication at all.
    Tensor al = is_one(alpha) ? nullptr : scalar_tensor(alpha);
    Tensor be = is_one(beta) ? nullptr : scalar_tensor(beta);
    auto scale = [](const Tensor& x, const Tensor& s) { return x && s ? binary(BinaryOp::Mul, x, s) : x; };
    autograd::record(std::string(op) == "addmm" ? "AddmmBackward0" : "BaddbmmBackward0",
        {in, a, b}, {c}, {a, b},
        [al, be, beta0, scale](const TensorList& g, const TensorList& s, const Needs& needs) {
          TensorList ab = matmul_vjp(g[0], s[0], s[1], {needs[1], needs[2]});
          Tensor gi;
          if (needs[0]) gi = beta0 ? autograd::zeros_like(g[0]) : scale(g[0], be);
          return TensorList{gi, scale(ab[0], al), scale(ab[1], al)};
        },
        [al, be, beta0, scale](const TensorList& t, const TensorList& i, const TensorList&) {
          Tensor p = add_terms(t[1] ? matmul(t[1], i[2]) : nullptr, t[2] ? matmul(i[1], t[2]) : nullptr);
          Tensor ti = t[0] && !beta0 ? scale(t[0], be) : nullptr;
          return TensorList{add_terms(ti, scale(p, al))};
        });
  }
  return c;
}
}  // namespace

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias,
              const std::string& activation) {
  const char* op = "linear";
  TGX_CHECK(activation == "none" || activation == "relu", ValueError, "[", op,
            "] activation must be 'none' or 'relu', got '", activation, "'");
  TGX_CHECK(input->ndim() == 2 && weight->ndim() == 2, ValueError, "[", op,
            "] the fused form needs a 2-D input and weight, got ", input->shape, " and ", weight->shape);
  const int64_t m = input->shape[0], k = input->shape[1], n = weight->shape[0];
  TGX_CHECK(weight->shape[1] == k, ValueError, "[", op, "] input shape ", input->shape,
            " and weight shape ", weight->shape, " do not match (in_features = ", weight->shape[1], ")");
  if (bias && !(bias->ndim() == 1 && bias->shape[0] == n)) {
    // a bias of another shape that broadcasts ((), (1,), (1, n), as torch allows): the product,
    // then a broadcasting add (which names both shapes when they do not broadcast)
    Tensor z = binary(BinaryOp::Add, linear(input, weight, nullptr, "none"), bias);
    return activation == "relu" ? unary(UnaryOp::Relu, z) : z;
  }
  const DType dt = bias ? gemm_dtype({input.get(), weight.get(), bias.get()}, op)
                        : gemm_dtype({input.get(), weight.get()}, op);
  const bool relu = activation == "relu";
  Tensor x = to_dtype(input, dt), w = to_dtype(weight, dt), b = bias ? to_dtype(bias, dt) : nullptr;
  Tensor c = empty({m, n}, dt);
  {
    autograd::GradModeGuard no_grad(false);
    autograd::FwGradDisabledGuard pause;
    Tensor bc = b ? contiguous(b) : nullptr;
    GemmArgs g;
    g.m = m, g.n = n, g.k = k;
    g.a = x->raw(), g.rsa = x->strides[0], g.csa = x->strides[1];
    g.b = w->raw(), g.rsb = w->strides[1], g.csb = w->strides[0];  // B = weight^T
    g.c = c->raw(), g.rsc = n, g.csc = 1;
    g.bias = bc ? bc->raw() : nullptr;
    g.act = relu ? GemmArgs::kRelu : GemmArgs::kNone;
    if (m && n) TGX_KERNEL(gemm_kernel)(dt, g, kOne, kZero);
  }
  if (!is_floating(dt) || !autograd::needs_record({&x, &w, &b})) return c;
  // z = x W^T + b, out = relu(z): gz = g where out > 0; grads gz W and gz^T x (z^T = W x^T, so
  // mm_grad_a gives W's grad in W's own layout), sum(gz, 0). Written with ops, so they
  // differentiate again.
  TensorList save = {x, w};
  if (relu) save.push_back(c);
  autograd::record(relu ? "LinearReluBackward0" : "AddmmBackward0", {x, w, b}, {c}, save,
      [relu](const TensorList& g, const TensorList& s, const Needs& needs) {
        const Tensor &x = s[0], &w = s[1];
        const Tensor gz = relu ? relu_backward(g[0], s[2]) : g[0];
        TensorList r(3);
        if (needs[0]) r[0] = mm_grad_a(gz, x, matrix_transpose(w));
        if (needs[1]) r[1] = mm_grad_a(matrix_transpose(gz), w, matrix_transpose(x));
        if (needs[2]) r[2] = sum(gz, {0});
        return r;
      },
      [relu](const TensorList& t, const TensorList& in, const TensorList& outs) {
        Tensor tz = add_terms(t[0] ? matmul(t[0], matrix_transpose(in[1])) : nullptr,
                              t[1] ? matmul(in[0], matrix_transpose(t[1])) : nullptr);
        if (t[2]) tz = binary(BinaryOp::Add, tz ? tz : autograd::zeros_like(outs[0]), t[2]);
        return TensorList{relu ? relu_backward(tz, outs[0]) : tz};
      });
  return c;
}

Tensor addmm(const Tensor& input, const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
             const Scalar& alpha) {
  TGX_CHECK(mat1->ndim() == 2 && mat2->ndim() == 2, ValueError,
            "[addmm] mat1 and mat2 must be 2-D matrices, got ", mat1->ndim(), "-D and ",
            mat2->ndim(), "-D");
  return addmm_impl(input, mat1, mat2, beta, alpha, "addmm");
}

Tensor baddbmm(const Tensor& input, const Tensor& b1, const Tensor& b2, const Scalar& beta,
               const Scalar& alpha) {
  TGX_CHECK(b1->ndim() == 3 && b2->ndim() == 3, ValueError,
            "[baddbmm] batch1 and batch2 must be 3-D tensors, got ", b1->ndim(), "-D and ",
            b2->ndim(), "-D");
  TGX_CHECK(b1->shape[0] == b2->shape[0], ValueError,
            "[baddbmm] batch sizes must match, got shapes ", b1->shape, " and ", b2->shape);
  return addmm_impl(input, b1, b2, beta, alpha, "baddbmm");
}

// ---- tensordot / inner ---------------------------------------------------------------------
Tensor tensordot(const Tensor& a0, const Tensor& b0, std::vector<int64_t> da,
                 std::vector<int64_t> db) {
  TGX_CHECK(da.size() == db.size(), ValueError,
            "[tensordot] both dimension lists should have the same length, got ", da.size(),
            " and ", db.size());
  const DType dt = gemm_dtype({a0.get(), b0.get()}, "tensordot");
  Tensor a = to_dtype(a0, dt), b = to_dtype(b0, dt);
  std::vector<bool> used_a(size_t(a->ndim()), false), used_b(size_t(b->ndim()), false);
  for (size_t i = 0; i < da.size(); ++i) {
    da[i] = wrap_dim(da[i], a->ndim(), "tensordot");
    db[i] = wrap_dim(db[i], b->ndim(), "tensordot");
    TGX_CHECK(a->ndim() > 0 && b->ndim() > 0, IndexError,
              "[tensordot] cannot contract a dimension of a 0-d tensor");
    TGX_CHECK(!used_a[size_t(da[i])] && !used_b[size_t(db[i])], ValueError,
              "[tensordot] a dimension appears more than once in the contracted dims");
    used_a[size_t(da[i])] = used_b[size_t(db[i])] = true;
    const int64_t sa = a->shape[size_t(da[i])], sb = b->shape[size_t(db[i])];
    TGX_CHECK(sa == sb, ValueError, "[tensordot] contracted dimensions need to match, but first "
              "has size ", sa, " in dim ", da[i], " and second has size ", sb, " in dim ", db[i],
              " (shapes ", a0->shape, " and ", b0->shape, ")");
  }
  std::vector<int64_t> perm_a, perm_b = db;
  Shape out;
  for (int64_t d = 0; d < a->ndim(); ++d)
    if (!used_a[size_t(d)]) perm_a.push_back(d), out.push_back(a->shape[size_t(d)]);
  const int64_t free_a = int64_t(perm_a.size()), nc = int64_t(da.size());
  perm_a.insert(perm_a.end(), da.begin(), da.end());
  for (int64_t d = 0; d < b->ndim(); ++d)
    if (!used_b[size_t(d)]) perm_b.push_back(d), out.push_back(b->shape[size_t(d)]);
  const int64_t free_b = b->ndim() - nc;
  // permute + reshape (views when possible) + mm: differentiable through composition.
  Tensor a2 = reshape_groups(permute(a, perm_a), {free_a, nc});
  Tensor b2 = reshape_groups(permute(b, perm_b), {nc, free_b});
  return reshape(matmul_impl(a2, b2, "tensordot"), out);
}

Tensor tensordot(const Tensor& a, const Tensor& b, int64_t dims) {
  TGX_CHECK(dims >= 0, ValueError, "[tensordot] expects dims >= 0, but got dims=", dims);
  TGX_CHECK(dims <= a->ndim() && dims <= b->ndim(), ValueError, "[tensordot] expects dims <= ",
            "the number of dims of both inputs, got dims=", dims, " for shapes ", a->shape,
            " and ", b->shape);
  std::vector<int64_t> da, db;
  for (int64_t i = 0; i < dims; ++i) da.push_back(a->ndim() - dims + i), db.push_back(i);
  return tensordot(a, b, da, db);
}

Tensor inner(const Tensor& a, const Tensor& b) {
  if (a->ndim() == 0 || b->ndim() == 0) {
    gemm_dtype({a.get(), b.get()}, "inner");
    return binary(BinaryOp::Mul, a, b);
  }
  TGX_CHECK(a->shape.back() == b->shape.back(), ValueError,
            "[inner] the last dimension must match on both inputs, but got shapes ", a->shape,
            " and ", b->shape);
  return tensordot(a, b, {-1}, {-1});
}


// ---- einsum -------------------------------------------------------------------------------
// Labels are ints: 'A'-'Z' -> 0..25, 'a'-'z' -> 26..51 (so sorting them is ASCII order, the
// implicit-output order), ellipsis dims -> 52 + i, right-aligned across operands.
namespace {

constexpr int kEllipsisBase = 52;

struct Term {
  Tensor t;
  std::vector<int> labels;  // one per dim of t
};

int label_of(char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  throw ValueError(str("[einsum] invalid subscript '", ch,
                       "' in the equation: subscripts must be letters in [a-zA-Z]"));
}

char label_char(int l) {
  return l < 26 ? char('A' + l) : (l < kEllipsisBase ? char('a' + l - 26) : '.');
}

// Parses one term into labels, with -1 marking where "..." stands.
std::vector<int> parse_term(const std::string& s) {
  std::vector<int> out;
  bool seen = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      TGX_CHECK(!seen && s.compare(i, 3, "...") == 0, ValueError,
                "[einsum] invalid ellipsis in subscripts '", s,
                "': use '...' at most once per operand");
      seen = true;
      out.push_back(-1);
      i += 2;
    } else {
      out.push_back(label_of(s[i]));
    }
  }
  return out;
}

// Sums t over the given labels (through a GEMM with a stride-0 vector of ones).
Term sum_labels(const Term& x, const std::vector<int>& drop) {
  if (drop.empty()) return x;
  std::vector<int64_t> keep_dims, drop_dims;
  Term out;
  Shape keep_shape;
  for (size_t d = 0; d < x.labels.size(); ++d) {
    bool dropped = std::find(drop.begin(), drop.end(), x.labels[d]) != drop.end();
    (dropped ? drop_dims : keep_dims).push_back(int64_t(d));
    if (!dropped) out.labels.push_back(x.labels[d]), keep_shape.push_back(x.t->shape[d]);
  }
  std::vector<int64_t> perm = keep_dims;
  perm.insert(perm.end(), drop_dims.begin(), drop_dims.end());
  Tensor a = reshape_groups(permute(x.t, perm),
                            {int64_t(keep_dims.size()), int64_t(drop_dims.size())});
  Tensor one = scalar_tensor(kOne, x.t->dtype);
  Tensor ones = make_view(one, {a->shape[1], 1}, {0, 0}, 0);
  Tensor c = empty({a->shape[0], 1}, x.t->dtype);
  gemm_batched(a, ones, c, kOne, kZero);
  out.t = view_as_contiguous(c, keep_shape);
  return out;
}

// Contracts two terms, keeping the labels in `keep`: labels in both become batch dims (kept)
// or the GEMM's k (summed); the others are the GEMM's rows (a) and columns (b).
Term contract(Term a, Term b, const std::vector<bool>& keep, const std::vector<int64_t>& sizes) {
  auto has = [](const Term& t, int l) {
    return std::find(t.labels.begin(), t.labels.end(), l) != t.labels.end();
  };
  std::vector<int> drop_a, drop_b;
  for (int l : a.labels) if (!has(b, l) && !keep[size_t(l)]) drop_a.push_back(l);
  for (int l : b.labels) if (!has(a, l) && !keep[size_t(l)]) drop_b.push_back(l);
  a = sum_labels(a, drop_a);
  b = sum_labels(b, drop_b);
  std::vector<int> batch, fa, fb, red;
  for (int l : a.labels) (has(b, l) ? (keep[size_t(l)] ? batch : red) : fa).push_back(l);
  for (int l : b.labels) if (!has(a, l)) fb.push_back(l);
  // Dims of the given labels, expanded (stride 0) where a size-1 dim broadcasts.
  auto arrange = [&](const Term& t, const std::vector<const std::vector<int>*>& order) {
    Shape sh, st;
    for (const auto* group : order) {
      for (int l : *group) {
        size_t d = size_t(std::find(t.labels.begin(), t.labels.end(), l) - t.labels.begin());
        const int64_t size = sizes[size_t(l)];
        sh.push_back(size);
        st.push_back(t.t->shape[d] == size ? t.t->strides[d] : 0);
      }
    }
    return make_view(t.t, sh, st, t.t->offset);
  };
  const int64_t nb = int64_t(batch.size());
  std::vector<int64_t> ga(size_t(nb), 1), gb(size_t(nb), 1);
  ga.push_back(int64_t(fa.size())), ga.push_back(int64_t(red.size()));
  gb.push_back(int64_t(red.size())), gb.push_back(int64_t(fb.size()));
  Tensor a3 = reshape_groups(arrange(a, {&batch, &fa, &red}), ga);
  Tensor b3 = reshape_groups(arrange(b, {&batch, &red, &fb}), gb);
  Shape cshape, out_shape;
  Term out;
  for (const auto* group : {&batch, &fa, &fb}) {
    for (int l : *group) out.labels.push_back(l), out_shape.push_back(sizes[size_t(l)]);
  }
  cshape = slice(out_shape, 0, nb);
  cshape.push_back(a3->shape[size_t(nb)]);
  cshape.push_back(b3->shape[size_t(nb + 1)]);
  Tensor c = empty(cshape, a.t->dtype);
  gemm_batched(a3, b3, c, kOne, kZero);
  out.t = view_as_contiguous(c, out_shape);
  return out;
}

}  // namespace

// ---- einsum autograd --------------------------------------------------------------------
// The grad of operand i is itself an einsum: the output's grad with the other operands, to
// operand i's subscripts. Labels only operand i has come from a ones vector, a repeated label
// (a diagonal) from an identity matrix with a fresh label, and operand i's ellipsis dims from a
// ones tensor of their shape; dims that operand i broadcast (size 1) are summed at the end.
namespace {
std::vector<std::string> tokens(const std::string& term) {
  std::vector<std::string> t;
  for (size_t i = 0; i < term.size(); ++i) {
    if (term[i] == '.') { t.push_back("..."); i += 2; }
    else t.push_back(std::string(1, term[i]));
  }
  return t;
}

Tensor einsum_grad(const Tensor& g, const std::vector<std::string>& terms, const std::string& out_term,
                   const std::vector<Tensor>& ops, size_t i) {
  std::string used = out_term;
  for (const auto& t : terms) used += t;
  auto fresh = [&]() {
    for (char c : std::string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
      if (used.find(c) == std::string::npos) { used += c; return c; }
    throw NotImplementedError("[einsum] backward ran out of subscript letters");
  };
  const Tensor& x = ops[i];
  const DType dt = x->dtype;
  std::vector<std::string> toks = tokens(terms[i]);
  const int64_t named = int64_t(std::count_if(toks.begin(), toks.end(), [](auto& s) { return s != "..."; }));
  const int64_t n_ell_i = x->ndim() - named;
  std::vector<std::string> in_terms = {out_term};
  std::vector<Tensor> in_ops = {g};
  for (size_t j = 0; j < ops.size(); ++j)
    if (j != i) in_terms.push_back(terms[j]), in_ops.push_back(ops[j]);
  std::string others = out_term;
  for (size_t j = 0; j < terms.size(); ++j) if (j != i) others += terms[j];
  std::string target, seen;
  int64_t d = 0, ell_pos = -1;
  for (const auto& tk : toks) {
    if (tk == "...") {
      ell_pos = int64_t(target.size() - std::count(target.begin(), target.end(), '.'));
      target += "...";
      Shape es(x->shape.begin() + d, x->shape.begin() + d + n_ell_i);
      in_terms.push_back("..."), in_ops.push_back(ones(es, dt));
      d += n_ell_i;
      continue;
    }
    const char c = tk[0];
    const int64_t size = x->shape[size_t(d++)];
    if (seen.find(c) != std::string::npos) {  // a diagonal: delta(c, f)
      const char f = fresh();
      target += f;
      in_terms.push_back(std::string{c, f}), in_ops.push_back(eye(size, size, dt));
      continue;
    }
    seen += c;
    target += c;
    if (others.find(c) == std::string::npos)  // only this operand has c: broadcast over it
      in_terms.push_back(std::string(1, c)), in_ops.push_back(ones({size}, dt));
  }
  std::string geq;
  for (size_t j = 0; j < in_terms.size(); ++j) geq += (j ? "," : "") + in_terms[j];
  Tensor r = einsum(geq + "->" + target, in_ops);
  const int64_t extra = r->ndim() - x->ndim();
  if (extra > 0) {  // ellipsis dims this operand does not have
    std::vector<int64_t> dims;
    for (int64_t k = 0; k < extra; ++k) dims.push_back(ell_pos + k);
    r = sum(r, dims);
  }
  std::vector<int64_t> bdims;
  for (int64_t k = 0; k < x->ndim(); ++k)
    if (x->shape[size_t(k)] == 1 && r->shape[size_t(k)] != 1) bdims.push_back(k);
  return bdims.empty() ? r : sum(r, bdims, true);
}

void record_einsum(const std::vector<std::string>& terms, const std::string& out_term,
                   const std::vector<Tensor>& ops, const Tensor& result) {
  autograd::record("EinsumBackward0", ops, {result}, ops,
      [terms, out_term](const TensorList& g, const TensorList& s, const Needs& needs) {
        TensorList r(s.size());
        for (size_t i = 0; i < s.size(); ++i)
          if (needs[i]) r[i] = einsum_grad(g[0], terms, out_term, s, i);
        return r;
      },
      [terms, out_term](const TensorList& t, const TensorList& in, const TensorList&) {
        std::string eq;
        for (size_t j = 0; j < terms.size(); ++j) eq += (j ? "," : "") + terms[j];
        eq += "->" + out_term;
        Tensor acc;
        for (size_t i = 0; i < in.size(); ++i) {
          if (!t[i]) continue;
          TensorList args = in;
          args[i] = t[i];
          acc = add_terms(acc, einsum(eq, args));
        }
        return TensorList{acc};
      });
}
}  // namespace

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  TGX_CHECK(!operands.empty(), ValueError, "[einsum] must provide at least one operand");
  std::string eq;
  for (char ch : equation) if (ch != ' ') eq += ch;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms(1);
  for (char ch : lhs) {
    if (ch == ',') terms.emplace_back();
    else terms.back() += ch;
  }
  TGX_CHECK(terms.size() == operands.size(), ValueError, "[einsum] the equation '", equation,
            "' names ", terms.size(), " operand(s) but ", operands.size(), " were given");
  std::vector<const TensorImpl*> raw;
  for (const Tensor& t : operands) {
    TGX_CHECK(t != nullptr, TypeError, "[einsum] operands must be tensors");
    raw.push_back(t.get());
  }
  DType dt = result_type({raw[0]});
  for (const TensorImpl* t : raw) dt = promote_types(dt, result_type({t}));
  TGX_CHECK(dt != DType::Bool, NotImplementedError, "[einsum] not implemented for dtype bool");

  // Parse the terms and count ellipsis dims.
  std::vector<std::vector<int>> parsed;
  int64_t n_ell = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    parsed.push_back(parse_term(terms[i]));
    const auto& p = parsed.back();
    const int64_t named = int64_t(std::count_if(p.begin(), p.end(), [](int l) { return l >= 0; }));
    const bool ell = named != int64_t(p.size());
    const int64_t nd = operands[i]->ndim();
    TGX_CHECK(ell ? nd >= named : nd == named, ValueError, "[einsum] operand ", i, " has ", nd,
              " dimension(s) but the subscripts '", terms[i], "' name ", named);
    if (ell) n_ell = std::max(n_ell, nd - named);
  }
  const int n_labels = kEllipsisBase + int(n_ell);
  std::vector<int64_t> sizes(size_t(n_labels), -1);
  std::vector<int> count(size_t(n_labels), 0);

  // Each operand: labels per dim, then a diagonal view for repeated labels.
  std::vector<Tensor> cast;  // the operands at the common dtype (what autograd records)
  std::vector<Term> ts;
  for (size_t i = 0; i < terms.size(); ++i) {
    Tensor t = to_dtype(operands[i], dt);
    cast.push_back(t);
    std::vector<int> labels;
    for (int l : parsed[i]) {
      if (l >= 0) { labels.push_back(l); continue; }
      const int64_t e = t->ndim() - int64_t(parsed[i].size() - 1);
      for (int64_t j = 0; j < e; ++j) labels.push_back(kEllipsisBase + int(n_ell - e + j));
    }
    Term term;
    Shape sh, st;
    for (size_t d = 0; d < labels.size(); ++d) {
      const int l = labels[d];
      auto it = std::find(term.labels.begin(), term.labels.end(), l);
      if (it != term.labels.end()) {
        size_t j = size_t(it - term.labels.begin());
        TGX_CHECK(sh[j] == t->shape[d], ValueError, "[einsum] subscript ", label_char(l),
                  " is repeated for operand ", i, " but the sizes don't match, ", sh[j], " != ",
                  t->shape[d]);
        st[j] += t->strides[d];
        continue;
      }
      term.labels.push_back(l);
      sh.push_back(t->shape[d]);
      st.push_back(t->strides[d]);
      count[size_t(l)]++;
      int64_t& s = sizes[size_t(l)];
      TGX_CHECK(s == -1 || s == 1 || t->shape[d] == 1 || s == t->shape[d], ValueError,
                "[einsum] subscript ", label_char(l), " has size ", t->shape[d], " for operand ",
                i, " which does not broadcast with previously seen size ", s);
      if (s == -1 || s == 1) s = t->shape[d];
    }
    term.t = make_view(t, sh, st, t->offset);
    ts.push_back(std::move(term));
  }

  // Output labels: explicit, or the ellipsis dims then the labels seen once, sorted.
  std::vector<int> out;
  if (arrow != std::string::npos) {
    for (int l : parse_term(eq.substr(arrow + 2))) {
      if (l < 0) {
        for (int64_t j = 0; j < n_ell; ++j) out.push_back(kEllipsisBase + int(j));
        continue;
      }
      TGX_CHECK(count[size_t(l)] > 0, ValueError, "[einsum] output subscript ", label_char(l),
                " does not appear in the equation for any input operand");
      TGX_CHECK(std::find(out.begin(), out.end(), l) == out.end(), ValueError,
                "[einsum] output subscript ", label_char(l), " appears more than once");
      out.push_back(l);
    }
  } else {
    for (int64_t j = 0; j < n_ell; ++j) out.push_back(kEllipsisBase + int(j));
    for (int l = 0; l < kEllipsisBase; ++l) {
      if (count[size_t(l)] != 1) continue;
      int occurrences = 0;
      for (const auto& p : parsed) occurrences += int(std::count(p.begin(), p.end(), l));
      if (occurrences == 1) out.push_back(l);
    }
  }

  // Contract left to right, keeping the labels the output or a later operand needs.
  std::vector<bool> keep(size_t(n_labels), false);
  auto keep_for = [&](size_t after) {
    std::fill(keep.begin(), keep.end(), false);
    for (int l : out) keep[size_t(l)] = true;
    for (size_t j = after; j < ts.size(); ++j)
      for (int l : ts[j].labels) keep[size_t(l)] = true;
  };
  Term acc = ts[0];
  for (size_t i = 1; i < ts.size(); ++i) {
    keep_for(i + 1);
    acc = contract(acc, ts[i], keep, sizes);
  }
  keep_for(ts.size());
  std::vector<int> drop;
  for (int l : acc.labels) if (!keep[size_t(l)]) drop.push_back(l);
  acc = sum_labels(acc, drop);
  std::vector<int64_t> perm;
  for (int l : out) {
    perm.push_back(std::find(acc.labels.begin(), acc.labels.end(), l) - acc.labels.begin());
  }
  Tensor result = permute(acc.t, perm);
  if (autograd::needs_record(cast) && is_floating(dt)) {
    std::string out_term;
    if (arrow != std::string::npos) {
      out_term = eq.substr(arrow + 2);
    } else {
      if (lhs.find('.') != std::string::npos) out_term = "...";
      for (int l : out) if (l < kEllipsisBase) out_term += label_char(l);
    }
    record_einsum(terms, out_term, cast, result);
  }
  return result;
}

}  // namespace tgx::ops
