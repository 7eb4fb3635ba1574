#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/simd_math.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

// s[j] = exp(s[j] - mx) for j < n; returns the sum (float32: simd_math's exp, 8 lanes on AVX2).
template <typename T>
T exp_shifted(T* s, int64_t n, T mx) {
  T sum = 0;
  int64_t j = 0;
  if constexpr (std::is_same_v<T, float>) {
    using P = vec::PackF;
    constexpr int W = vec::Traits<P>::lanes;
    if constexpr (W > 1) {
      P acc(0.0f);
      for (; j + W <= n; j += W) {
        const P e = vec::exp(vec::load(s + j) - P(mx));
        vec::store(s + j, e);
        acc = acc + e;
      }
      float buf[W];
      vec::store(buf, acc);
      for (int w = 0; w < W; ++w) sum += buf[w];
    }
  }
  for (; j < n; ++j) {
    s[j] = std::exp(s[j] - mx);
    sum += s[j];
  }
  return sum;
}

// Row i of a block's scores: mask, causal limit, safe softmax, in place.
template <typename T>
void softmax_row(T* s, int64_t i, const AttentionArgs& a, const char* mrow) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  const int64_t n = a.S;
  const int64_t lim = a.causal ? std::min<int64_t>(n, i + 1) : n;  // keys >= lim are masked
  if (mrow && a.mask_bool) {
    const bool* m = reinterpret_cast<const bool*>(mrow);
    for (int64_t j = 0; j < lim; ++j)
      if (!m[j * a.csm]) s[j] = kNegInf;
  } else if (mrow) {
    const T* m = reinterpret_cast<const T*>(mrow);
    for (int64_t j = 0; j < lim; ++j) s[j] += m[j * a.csm];
  }
  T mx = kNegInf;
  bool nan = false;
  for (int64_t j = 0; j < lim; ++j) {
    mx = s[j] > mx ? s[j] : mx;
    nan |= std::isnan(s[j]);
  }
  std::fill(s + lim, s + n, T(0));
  if (mx == kNegInf && !nan) {  // every key masked: a zero row (PyTorch's _safe_softmax)
    std::fill(s, s + lim, T(0));
    return;
  }
  const T inv = T(1) / exp_shifted(s, lim, mx);
  for (int64_t j = 0; j < lim; ++j) s[j] *= inv;
}

template <typename T>
void attention_block(const AttentionArgs& a, int64_t b, T* scratch, bool rows_parallel) {
  const int64_t L = a.L, S = a.S, Ev = a.Ev;
  const int64_t isz = int64_t(sizeof(T));
  T* attn = reinterpret_cast<T*>(a.attn) + b * L * S;
  T* out = reinterpret_cast<T*>(a.out) + b * L * Ev;
  GemmArgs g;  // attn = scale * Q K^T
  g.m = L, g.n = S, g.k = a.E;
  g.a = a.q + a.off_q[b] * isz, g.rsa = a.rsq, g.csa = a.csq;
  g.b = a.k + a.off_k[b] * isz, g.rsb = a.csk, g.csb = a.rsk;
  g.c = attn, g.rsc = S, g.csc = 1;
  gemm_kernel(DType(dtype_of<T>()), g, Scalar::from_double(a.scale), Scalar::from_int(0));
  const char* mblock = a.mask ? a.mask + a.off_m[b] * int64_t(a.mask_bool ? 1 : isz) : nullptr;
  auto rows = [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const char* mrow = mblock ? mblock + i * a.rsm * int64_t(a.mask_bool ? 1 : isz) : nullptr;
      softmax_row<T>(attn + i * S, i, a, mrow);
    }
  };
  if (rows_parallel) parallel_for(0, L, std::max<int64_t>(1, 2048 / std::max<int64_t>(S, 1)), rows);
  else rows(0, L);
  const T* p = attn;
  if (a.drop) {  // P * drop into the scratch block
    const T* d = reinterpret_cast<const T*>(a.drop) + b * L * S;
    for (int64_t e = 0; e < L * S; ++e) scratch[e] = attn[e] * d[e];
    p = scratch;
  }
  GemmArgs o;  // out = P V
  o.m = L, o.n = Ev, o.k = S;
  o.a = p, o.rsa = S, o.csa = 1;
  o.b = a.v + a.off_v[b] * isz, o.rsb = a.rsv, o.csb = a.csv;
  o.c = out, o.rsc = Ev, o.csc = 1;
  gemm_kernel(DType(dtype_of<T>()), o, Scalar::from_int(1), Scalar::from_int(0));
}

}  // namespace

void attention_forward_kernel(DType dtype, const AttentionArgs& a) {
  dispatch_floating(dtype, "scaled_dot_product_attention", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (a.batch == 0 || a.L == 0) return;
    const double per = double(a.L) * double(a.S) * double(std::max<int64_t>(a.E + a.Ev, 1));
    const bool per_block = a.batch >= 2 * int64_t(get_num_threads()) || per < double(1 << 18);
    const int64_t scratch = a.drop ? a.L * a.S : 0;
    if (per_block) {  // a range of blocks per thread; the GEMMs inside stay single-threaded
      const int64_t grain = std::max<int64_t>(1, int64_t(double(1 << 17) / std::max(per, 1.0)));
      parallel_for(0, a.batch, grain, [&](int64_t b0, int64_t b1) {
        std::vector<T> buf(static_cast<size_t>(scratch));
        for (int64_t b = b0; b < b1; ++b) attention_block<T>(a, b, buf.data(), false);
      });
    } else {  // few big blocks: each GEMM and softmax uses every thread
      std::vector<T> buf(static_cast<size_t>(scratch));
      for (int64_t b = 0; b < a.batch; ++b) attention_block<T>(a, b, buf.data(), true);
    }
  });
}

void softmax_backward_kernel(DType dtype, const SoftmaxBackwardArgs& a) {
  dispatch_floating(dtype, "scaled_dot_product_attention", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = reinterpret_cast<const T*>(a.p);
    T* dp = reinterpret_cast<T*>(a.dp);
    const int64_t n = a.n;
    parallel_for(0, a.rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(n, 1)),
                 [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* pr = p + r * n;
        T* dr = dp + r * n;
        T dot = 0;
        for (int64_t j = 0; j < n; ++j) dot += pr[j] * dr[j];
        for (int64_t j = 0; j < n; ++j) dr[j] = pr[j] * (dr[j] - dot);
      }
    });
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
