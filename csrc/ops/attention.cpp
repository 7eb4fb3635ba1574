// scaled_dot_product_attention: one fused forward kernel per (batch, head) block (GEMM, masked
// safe softmax, GEMM; kernels/cpu/attention.cpp) saving the probabilities P. The vjp and jvp are
// written with ops (matmul, the softmax backward), so create_graph differentiates them again;
// the first-order backward uses a fused softmax-backward kernel for dS = P * (dP - rowsum(dP P)).
#include "ops/attention.h"

#include <cmath>

#include "autograd/node.h"
#include "kernels/cpu/attention.h"
#include "ops/creation.h"
#include "ops/arith.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace tgx::ops {
namespace {

using autograd::TensorList;
using Needs = std::vector<bool>;
constexpr const char* kOp = "scaled_dot_product_attention";

using namespace arith;  // num, add, sub, mul, div, neg

Shape batch_dims(const Tensor& t) { return Shape(t->shape.begin(), t->shape.end() - 2); }

// Element offset of each block (flattened index over bshape) of t, whose leading dims broadcast
// (right-aligned) against bshape; its last two dims are the block's.
std::vector<int64_t> block_offsets(const Tensor& t, const Shape& bshape) {
  const int64_t nb = int64_t(bshape.size()), tb = t->ndim() - 2;
  Shape st(size_t(nb), 0);
  for (int64_t i = 0; i < tb; ++i)
    st[size_t(nb - tb + i)] = t->shape[size_t(i)] == 1 ? 0 : t->strides[size_t(i)];
  int64_t batch = 1;
  for (int64_t s : bshape) batch *= s;
  std::vector<int64_t> off(size_t(batch), 0);
  Shape idx(size_t(nb), 0);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t o = 0;
    for (int64_t d = 0; d < nb; ++d) o += idx[size_t(d)] * st[size_t(d)];
    off[size_t(b)] = o;
    for (int64_t d = nb - 1; d >= 0; --d) {
      if (++idx[size_t(d)] < bshape[size_t(d)]) break;
      idx[size_t(d)] = 0;
    }
  }
  return off;
}

// dS = P * (dP - rowsum(dP * P)): the fused kernel when no graph is needed, else ops.
// `owned`: dp is a fresh contiguous result of the caller's, safe to overwrite.
Tensor softmax_backward(const Tensor& p, const Tensor& dp, bool owned) {
  const bool higher = autograd::grad_enabled() && autograd::needs_record({&p, &dp});
  if (higher || dp->shape != p->shape) {
    Tensor dot = sum(mul(dp, p), {-1}, true);
    return mul(p, sub(dp, dot));
  }
  Tensor pc = contiguous(p);
  Tensor ds = owned && dp->is_contiguous() ? dp : clone(dp);
  if (!ds->is_contiguous()) ds = contiguous(ds);
  if (ds->numel()) {
    SoftmaxBackwardArgs a;
    a.n = p->shape.back();
    a.rows = a.n ? p->numel() / a.n : 0;
    a.p = pc->raw(), a.dp = ds->raw();
    TGX_KERNEL(softmax_backward_kernel)(p->dtype, a);
  }
  return ds;
}

TensorList sdpa_vjp(const TensorList& g, const TensorList& s, const Needs& needs,
                    const Tensor& drop, double scale) {
  const Tensor &q = s[0], &k = s[1], &v = s[2], &p = s[3];
  const Tensor &go = g[0], &ga = g[1];
  TensorList r(4);
  Tensor pd = drop ? mul(p, drop) : p;
  if (needs[2] && go) r[2] = matmul(matrix_transpose(pd), go);
  if (!(needs[0] || needs[1] || needs[3])) return r;
  Tensor dp;
  if (go) {
    dp = matmul(go, matrix_transpose(v));
    if (drop) dp = mul(dp, drop);
  }
  const bool owned = bool(dp);
  dp = add(dp, ga);
  if (!dp) return r;
  Tensor ds = softmax_backward(p, dp, owned);
  if (needs[3]) r[3] = ds;
  Tensor dss = mul(ds, num(scale));
  if (needs[0]) r[0] = matmul(dss, k);
  if (needs[1]) r[1] = matmul(matrix_transpose(dss), q);
  return r;
}

TensorList sdpa_jvp(const TensorList& t, const TensorList& in, const TensorList& out,
                    const Tensor& drop, double scale) {
  const Tensor &q = in[0], &k = in[1], &v = in[2], &p = out[1];
  Tensor ts;
  if (t[0]) ts = matmul(t[0], matrix_transpose(k));
  if (t[1]) ts = add(ts, matmul(q, matrix_transpose(t[1])));
  if (ts) ts = mul(ts, num(scale));
  ts = add(ts, t[3]);
  Tensor tp, to;
  if (ts) {
    tp = mul(p, sub(ts, sum(mul(p, ts), {-1}, true)));
    to = matmul(drop ? mul(tp, drop) : tp, v);
  }
  if (t[2]) to = add(to, matmul(drop ? mul(p, drop) : p, t[2]));
  return {to, tp};
}

}  // namespace

std::pair<Tensor, Tensor> sdpa_math(const Tensor& q0, const Tensor& k0, const Tensor& v0,
                                    const Tensor& mask0, const Tensor& drop0, double scale,
                                    bool is_causal) {
  TGX_CHECK(q0 && k0 && v0, TypeError, "[", kOp, "] query, key and value must be tensors");
  TGX_CHECK(q0->ndim() >= 2 && k0->ndim() >= 2 && v0->ndim() >= 2, ValueError, "[", kOp,
            "] query, key and value must be at least 2-D, got shapes ", q0->shape, ", ", k0->shape,
            " and ", v0->shape);
  const DType dt = result_type({q0.get(), k0.get(), v0.get()});
  TGX_CHECK(is_floating(dt), TypeError, "[", kOp, "] query, key and value must be floating point, got dtype ",
            dt);
  const int64_t L = q0->shape[size_t(q0->ndim() - 2)], E = q0->shape.back();
  const int64_t S = k0->shape[size_t(k0->ndim() - 2)], Ev = v0->shape.back();
  TGX_CHECK(k0->shape.back() == E, ValueError, "[", kOp, "] query ", q0->shape, " and key ", k0->shape,
            " must have the same embedding size (", E, " != ", k0->shape.back(), ")");
  TGX_CHECK(v0->shape[size_t(v0->ndim() - 2)] == S, ValueError, "[", kOp, "] key ", k0->shape,
            " and value ", v0->shape, " must have the same sequence length (", S,
            " != ", v0->shape[size_t(v0->ndim() - 2)], ")");
  Shape bshape = broadcast_shapes(broadcast_shapes(batch_dims(q0), batch_dims(k0), kOp), batch_dims(v0), kOp);
  Shape ashape = bshape;  // the attention's shape (..., L, S)
  ashape.push_back(L), ashape.push_back(S);
  Shape oshape = bshape;
  oshape.push_back(L), oshape.push_back(Ev);
  checked_numel(ashape, dt, kOp);
  checked_numel(oshape, dt, kOp);

  Tensor mask;
  bool mask_bool = false;
  if (mask0) {
    TGX_CHECK(!is_causal, RuntimeError, "[", kOp, "] explicit attn_mask should not be set when is_causal=True");
    TGX_CHECK(mask0->dtype == DType::Bool || is_floating(mask0->dtype), TypeError, "[", kOp,
              "] attn_mask must be bool or floating point, got dtype ", mask0->dtype);
    bool fits = mask0->ndim() <= int64_t(ashape.size());
    for (int64_t i = 0; fits && i < mask0->ndim(); ++i) {
      const int64_t m = mask0->shape[size_t(mask0->ndim() - 1 - i)];
      fits = m == 1 || m == ashape[ashape.size() - 1 - size_t(i)];
    }
    TGX_CHECK(fits, ValueError, "[", kOp, "] attn_mask of shape ", mask0->shape,
              " cannot be broadcast to the attention's shape ", ashape);
    mask_bool = mask0->dtype == DType::Bool;
    mask = mask_bool ? mask0 : to_dtype(mask0, dt);
  }
  Tensor drop;
  if (drop0) {
    TGX_CHECK(drop0->shape == ashape, ValueError, "[", kOp, "] dropout mask of shape ", drop0->shape,
              " must have the attention's shape ", ashape);
    drop = contiguous(to_dtype(autograd::detach(drop0), dt));
  }
  Tensor q = to_dtype(q0, dt), k = to_dtype(k0, dt), v = to_dtype(v0, dt);  // recorded casts
  Tensor out = empty(oshape, dt), attn = empty(ashape, dt);
  {
    Tensor m2;  // the mask as (1.., L, S) so that its last two dims are the block's
    if (mask) {
      Shape ms = mask->shape, mst = mask->strides;
      while (ms.size() < 2) ms.insert(ms.begin(), 1), mst.insert(mst.begin(), 0);
      m2 = make_view(mask, ms, mst, mask->offset);
      if (m2->shape[ms.size() - 2] == 1) m2->strides[ms.size() - 2] = 0;
      if (m2->shape[ms.size() - 1] == 1) m2->strides[ms.size() - 1] = 0;
    }
    std::vector<int64_t> oq = block_offsets(q, bshape), ok = block_offsets(k, bshape);
    std::vector<int64_t> ov = block_offsets(v, bshape);
    std::vector<int64_t> om = m2 ? block_offsets(m2, bshape) : std::vector<int64_t>{};
    auto rs = [](const Tensor& t) { return t->strides[size_t(t->ndim() - 2)]; };
    AttentionArgs a;
    a.batch = int64_t(oq.size()), a.L = L, a.S = S, a.E = E, a.Ev = Ev;
    a.off_q = oq.data(), a.off_k = ok.data(), a.off_v = ov.data(), a.off_m = m2 ? om.data() : nullptr;
    a.q = q->raw(), a.rsq = rs(q), a.csq = q->strides.back();
    a.k = k->raw(), a.rsk = rs(k), a.csk = k->strides.back();
    a.v = v->raw(), a.rsv = rs(v), a.csv = v->strides.back();
    if (m2) a.mask = m2->raw(), a.mask_bool = mask_bool, a.rsm = rs(m2), a.csm = m2->strides.back();
    a.drop = drop ? drop->raw() : nullptr;
    a.scale = scale, a.causal = is_causal;
    a.attn = attn->raw(), a.out = out->raw();
    TGX_KERNEL(attention_forward_kernel)(dt, a);
  }
  Tensor fmask = mask_bool ? nullptr : mask;
  if (autograd::needs_record({&q, &k, &v, &fmask})) {
    autograd::record("ScaledDotProductAttentionBackward0", {q, k, v, fmask}, {out, attn},
        {q, k, v, attn},
        [drop, scale](const TensorList& g, const TensorList& s, const Needs& needs) {
          return sdpa_vjp(g, s, needs, drop, scale);
        },
        [drop, scale](const TensorList& t, const TensorList& in, const TensorList& o) {
          return sdpa_jvp(t, in, o, drop, scale);
        });
  }
  return {out, attn};
}

Tensor attention_dropout_mask(const Shape& shape, DType dtype, double p, Generator* gen) {
  TGX_CHECK(p >= 0 && p <= 1, ValueError, "[", kOp, "] dropout_p must be in [0, 1], got ", p);
  Tensor d = empty(shape, dtype);
  if (p >= 1) return fill_(d, Scalar::from_int(0));
  bernoulli_(d, 1 - p, gen);
  autograd::GradModeGuard no_grad(false);
  return mul(d, scalar_tensor(Scalar::from_double(1 / (1 - p)), dtype));
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale, Generator* gen) {
  TGX_CHECK(q && k && v, TypeError, "[", kOp, "] query, key and value must be tensors");
  TGX_CHECK(dropout_p >= 0 && dropout_p <= 1, ValueError, "[", kOp, "] dropout_p must be in [0, 1], got ",
            dropout_p);
  TGX_CHECK(q->ndim() >= 1, ValueError, "[", kOp, "] query must be at least 1-D");
  const double sc = scale ? *scale : 1.0 / std::sqrt(double(std::max<int64_t>(q->shape.back(), 1)));
  Tensor drop;
  if (dropout_p > 0 && q->ndim() >= 2 && k->ndim() >= 2 && v->ndim() >= 2) {
    Shape bshape = broadcast_shapes(broadcast_shapes(batch_dims(q), batch_dims(k), kOp), batch_dims(v), kOp);
    bshape.push_back(q->shape[size_t(q->ndim() - 2)]);
    bshape.push_back(k->shape[size_t(k->ndim() - 2)]);
    const DType dt = result_type({q.get(), k.get(), v.get()});
    TGX_CHECK(is_floating(dt), TypeError, "[", kOp, "] query, key and value must be floating point, got dtype ", dt);
    drop = attention_dropout_mask(bshape, dt, dropout_p, gen);
  }
  return sdpa_math(q, k, v, attn_mask, drop, sc, is_causal).first;
}

}  // namespace tgx::ops
