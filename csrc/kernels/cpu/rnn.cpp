// Recurrent layer loops (see rnn.h): per step one GEMM on the recurrent weights and the fused
// gate math; float32 activations use simd_math.h (8 lanes with AVX2/FMA).
#include "kernels/cpu/rnn.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/parallel.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/simd_math.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

#if defined(_OPENMP)
#define TGX_SIMD _Pragma("omp simd")
#else
#define TGX_SIMD
#endif

template <typename T> void sigmoid_inplace(T* p, int64_t n) {
  int64_t i = 0;
  if constexpr (std::is_same_v<T, float>) {
    using P = vec::PackF;
    constexpr int L = vec::Traits<P>::lanes;
    for (; i + L <= n; i += L) vec::store(p + i, vec::sigmoid(vec::load(p + i)));
    for (; i < n; ++i) p[i] = vec::sigmoid(p[i]);
  } else {
    for (; i < n; ++i) {
      const T e = std::exp(-std::abs(p[i]));
      p[i] = (p[i] >= 0 ? T(1) : e) / (T(1) + e);
    }
  }
}

template <typename T> void tanh_inplace(T* p, int64_t n) {
  int64_t i = 0;
  if constexpr (std::is_same_v<T, float>) {
    using P = vec::PackF;
    constexpr int L = vec::Traits<P>::lanes;
    for (; i + L <= n; i += L) vec::store(p + i, vec::tanh(vec::load(p + i)));
    for (; i < n; ++i) p[i] = vec::tanh(p[i]);
  } else {
    for (; i < n; ++i) p[i] = std::tanh(p[i]);
  }
}

#if defined(TGX_VEC_AVX512)
// One LSTM cell row over n (a multiple of 16) batch columns in a single pass with 16 lanes:
// the gate activations (in place), c_t = f * c_{t-1} + i * g and h_t = o * tanh(c_t).
#pragma GCC push_options
#pragma GCC target("avx512f")
void lstm_row_512(float* i, float* f, float* g, float* o, const float* cp, float* cn, float* h,
                  int64_t n) {
  using namespace vec512;
  for (int64_t k = 0; k + 16 <= n; k += 16) {
    const VecF vi = sigmoid(load(i + k)), vf = sigmoid(load(f + k));
    const VecF vg = tanh(load(g + k)), vo = sigmoid(load(o + k));
    store(i + k, vi), store(f + k, vf), store(g + k, vg), store(o + k, vo);
    const VecF c = fmadd(vf, load(cp + k), vi * vg);
    store(cn + k, c);
    store(h + k, vo * tanh(c));
  }
}
// dst = tanh(src) over n (a multiple of 16) values.
void tanh_512(const float* src, float* dst, int64_t n) {
  for (int64_t k = 0; k + 16 <= n; k += 16) vec512::store(dst + k, vec512::tanh(vec512::load(src + k)));
}
#pragma GCC pop_options
#endif

// C (m x n, element (i, j) at c[i * rsc + j * csc]) = A (m x k) @ B (k x n) + beta * C.
template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa, const T* b,
          int64_t rsb, int64_t csb, T* c, int64_t rsc, int64_t csc, int beta) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == 0)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) c[i * rsc + j * csc] = T(0);
    return;
  }
  GemmArgs g;
  g.m = m, g.n = n, g.k = k;
  g.a = a, g.rsa = rsa, g.csa = csa;
  g.b = b, g.rsb = rsb, g.csb = csb;
  g.c = c, g.rsc = rsc, g.csc = csc;
  gemm_kernel(std::is_same_v<T, float> ? DType::Float32 : DType::Float64, g, Scalar::from_int(1),
              Scalar::from_int(beta));
}

struct Layout {
  int64_t T, B, H, G, GH, TB, SB;
  bool rev;
  const int64_t* len;
  explicit Layout(const RnnArgs& a)
      : T(a.T), B(a.B), H(a.H), G(rnn_gates(a.mode)), GH(G * a.H), TB(a.T * a.B),
        SB((a.T + 1) * a.B), rev(a.reverse), len(a.lengths) {}
  int64_t time(int64_t s) const { return rev ? T - 1 - s : s; }
  int64_t prev_slot(int64_t t) const { return rev ? t + 1 : t; }
  int64_t next_slot(int64_t t) const { return rev ? t : t + 1; }
  // m[b] = 1 if row b is active at time t, else 0; returns whether every row is active.
  template <typename T> bool mask(int64_t t, std::vector<T>& m) const {
    bool all = true;
    for (int64_t b = 0; b < B; ++b) {
      const bool on = !len || t < len[b];
      m[size_t(b)] = on ? T(1) : T(0);
      all = all && on;
    }
    return all;
  }
};

// W (GH x H, row-major) @ S, S a (H x B) block with row stride ldb, into C (row stride ldc).
template <typename T>
void gemm_w_state(const Layout& L, const T* w, const T* s, int64_t ldb, T* c, int64_t ldc, int beta) {
  gemm<T>(L.GH, L.B, L.H, w, L.H, 1, s, ldb, 1, c, ldc, 1, beta);
}

// out (B, H) row b = m[b] * column b of the feature-major state s (H x B, row stride lds).
template <typename T>
void transpose_out(const Layout& L, const T* s, int64_t lds, const T* m, T* out) {
  constexpr int64_t kBlock = 16;
  for (int64_t j0 = 0; j0 < L.H; j0 += kBlock) {
    const int64_t j1 = std::min(L.H, j0 + kBlock);
    for (int64_t b = 0; b < L.B; ++b) {
      T* o = out + b * L.H;
      for (int64_t j = j0; j < j1; ++j) o[j] = m[b] * s[j * lds + b];
    }
  }
}

// The time loops run on one team of threads for the whole sequence: each thread owns a block of
// hidden rows [j0, j1) (the gate rows q * H + j of every gate q) and the steps are separated by
// barriers, so a step costs no fork/join. Small layers run on one thread.
int team_size(const Layout& L) {
  const int64_t macs = L.GH * L.H * L.B;
  if (macs < (int64_t(1) << 18)) return 1;
  return int(std::max<int64_t>(1, std::min<int64_t>(get_num_threads(), L.H / 16)));
}

template <typename F> void run_team(int nt, const F& f) {
#ifdef _OPENMP
  if (nt > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(nt)
    f(omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#endif
  (void)nt;
  f(0, 1);
}

inline void team_barrier(int nt) {
#ifdef _OPENMP
  if (nt > 1) {
#pragma omp barrier
  }
#endif
  (void)nt;
}

// Hidden rows of thread `tid` of `nt` (blocks are multiples of 8 rows where possible).
inline void row_block(int64_t H, int tid, int nt, int64_t& j0, int64_t& j1) {
  const int64_t per = ((H + nt - 1) / nt + 7) / 8 * 8;
  j0 = std::min(H, tid * per);
  j1 = std::min(H, j0 + per);
}

template <typename T>
void forward_rows(const RnnArgs& a, const Layout& L, int tid, int nt) {
  const int64_t H = L.H, B = L.B, TB = L.TB, SB = L.SB, G = L.G;
  int64_t j0, j1;
  row_block(H, tid, nt, j0, j1);
  const int64_t jn = j1 - j0;
  const T* w = static_cast<const T*>(a.w_hh);
  const T* bhh = static_cast<const T*>(a.b_hh);
  const T* bx = static_cast<const T*>(a.b_x);
  T* hb = static_cast<T*>(a.hbuf);
  T* cb = static_cast<T*>(a.cbuf);
  T* out = static_cast<T*>(a.out);
  const bool gru = a.mode == RnnMode::Gru;
#if defined(TGX_VEC_AVX512)
  const bool use512 = avx512_enabled();
#endif
  std::vector<T> hh(gru ? size_t(L.GH * B) : 0), m(static_cast<size_t>(B));
  for (int64_t s = 0; s < L.T; ++s) {
    const int64_t t = L.time(s), ps = L.prev_slot(t), ns = L.next_slot(t);
    T* g = static_cast<T*>(a.gates) + t * B;  // gate row r: g + r * TB
    const T* hp = hb + ps * B;                // state row j: hp + j * SB
    T* hn = hb + ns * B;
    const bool all = L.mask(t, m);
    if (jn > 0) {
      for (int64_t q = 0; q < G; ++q) {  // gate rows q*H + [j0, j1) (+)= W_hh rows @ h^T
        const int64_t r0 = q * H + j0;
        if (gru) gemm<T>(jn, B, H, w + r0 * H, H, 1, hp, SB, 1, hh.data() + r0 * B, B, 1, 0);
        else gemm<T>(jn, B, H, w + r0 * H, H, 1, hp, SB, 1, g + r0 * TB, TB, 1, 1);
        if (bx) {
          for (int64_t r = r0; r < r0 + jn; ++r) {
            T* gr = g + r * TB;
            const T v = bx[r];
            TGX_SIMD
            for (int64_t b = 0; b < B; ++b) gr[b] += v;
          }
        }
      }
    }
    if (a.mode == RnnMode::Lstm) {
      for (int64_t j = j0; j < j1; ++j) {
        T *i = g + j * TB, *f = g + (H + j) * TB, *gg = g + (2 * H + j) * TB, *o = g + (3 * H + j) * TB;
        const T* cp = cb + j * SB + ps * B;
        T* cn = cb + j * SB + ns * B;
        T* h = hn + j * SB;
        int64_t k = 0;  // columns [0, k) done by the 16-lane path
#if defined(TGX_VEC_AVX512)
        if constexpr (std::is_same_v<T, float>) {
          if (use512) {
            k = B / 16 * 16;
            lstm_row_512(i, f, gg, o, cp, cn, h, k);
          }
        }
#endif
        const int64_t r = B - k;
        sigmoid_inplace(i + k, r);
        sigmoid_inplace(f + k, r);
        tanh_inplace(gg + k, r);
        sigmoid_inplace(o + k, r);
        TGX_SIMD
        for (int64_t b = k; b < B; ++b) h[b] = cn[b] = f[b] * cp[b] + i[b] * gg[b];
        tanh_inplace(h + k, r);
        TGX_SIMD
        for (int64_t b = k; b < B; ++b) h[b] *= o[b];
      }
    } else if (gru) {
      for (int64_t j = j0; j < j1; ++j) {
        for (int64_t q = 0; q < 3; ++q) {
          const int64_t r = q * H + j;
          T* hr = hh.data() + r * B;
          const T bias = bhh ? bhh[r] : T(0);
          TGX_SIMD
          for (int64_t b = 0; b < B; ++b) hr[b] += bias;
          if (q == 2) break;
          T* gr = g + r * TB;
          TGX_SIMD
          for (int64_t b = 0; b < B; ++b) gr[b] += hr[b];
          sigmoid_inplace(gr, B);
        }
        const T *rr = g + j * TB, *z = g + (H + j) * TB, *hl = hh.data() + (2 * H + j) * B;
        T* n = g + (2 * H + j) * TB;
        T* lin = static_cast<T*>(a.hn_lin) + j * TB + t * B;
        TGX_SIMD
        for (int64_t b = 0; b < B; ++b) {
          lin[b] = hl[b];
          n[b] += rr[b] * hl[b];
        }
        tanh_inplace(n, B);
        const T* hpj = hp + j * SB;
        T* h = hn + j * SB;
        TGX_SIMD
        for (int64_t b = 0; b < B; ++b) h[b] = (T(1) - z[b]) * n[b] + z[b] * hpj[b];
      }
    } else {
      for (int64_t j = j0; j < j1; ++j) {
        T* gj = g + j * TB;
        if (a.mode == RnnMode::Tanh) tanh_inplace(gj, B);
        else
          TGX_SIMD
          for (int64_t b = 0; b < B; ++b) gj[b] = gj[b] > 0 ? gj[b] : T(0);
        std::memcpy(hn + j * SB, gj, size_t(B) * sizeof(T));
      }
    }
    for (int64_t j = j0; j < j1 && !all; ++j) {
      T* h = hn + j * SB;
      const T* hpj = hp + j * SB;
      for (int64_t b = 0; b < B; ++b) {  // inactive rows keep their state (and output 0)
        if (m[size_t(b)] == T(0)) {
          h[b] = hpj[b];
          if (cb) cb[j * SB + ns * B + b] = cb[j * SB + ps * B + b];
        }
      }
    }
    T* o = out + t * B * H;  // out (B, H): this thread's columns [j0, j1)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = j0; j < j1; ++j) o[b * H + j] = m[size_t(b)] * hn[j * SB + b];
    team_barrier(nt);  // the next step's GEMM reads every row of this step's state
  }
}

template <typename T>
void forward(const RnnArgs& a) {
  const Layout L(a);
  const int nt = team_size(L);
  run_team(nt, [&](int tid, int n) { forward_rows<T>(a, L, tid, n); });
}

template <typename T>
void backward_rows(const RnnArgs& a, const RnnGradArgs& ga, const Layout& L, int tid, int nt,
                   T* dh, T* dhp, T* dc) {
  const int64_t H = L.H, B = L.B, TB = L.TB, SB = L.SB;
  int64_t j0, j1;
  row_block(H, tid, nt, j0, j1);
  const T* w = static_cast<const T*>(a.w_hh);
  const T* hb = static_cast<const T*>(a.hbuf);
  const T* cb = static_cast<const T*>(a.cbuf);
  const T* dout = static_cast<const T*>(ga.dout);
  const bool gru = a.mode == RnnMode::Gru, lstm = a.mode == RnnMode::Lstm;
#if defined(TGX_VEC_AVX512)
  const bool use512 = avx512_enabled();
#endif
  std::vector<T> tc(static_cast<size_t>(B)), m(static_cast<size_t>(B));
  for (int64_t s = L.T - 1; s >= 0; --s) {
    const int64_t t = L.time(s), ps = L.prev_slot(t), ns = L.next_slot(t);
    L.mask(t, m);
    const T* mb = m.data();
    const T* g = static_cast<const T*>(a.gates) + t * B;
    T* dx = static_cast<T*>(ga.dgx) + t * B;
    T* dhh = gru ? static_cast<T*>(ga.dgh) + t * B : dx;
    const T* hp = hb + ps * B;
    const T* hn = hb + ns * B;
    for (int64_t j = j0; j < j1; ++j) {
      T* d = dh + j * B;
      T* dp = dhp + j * B;
      if (dout) {
        const T* o = dout + t * B * H + j;  // dout is (T, B, H)
        for (int64_t b = 0; b < B; ++b) d[b] += mb[b] * o[b * H];
      }
      if (lstm) {
        const T *i = g + j * TB, *f = g + (H + j) * TB, *gg = g + (2 * H + j) * TB, *o = g + (3 * H + j) * TB;
        const T* cp = cb + j * SB + ps * B;
        int64_t k = 0;  // tc = tanh(c_t): columns [0, k) by the 16-lane path
#if defined(TGX_VEC_AVX512)
        if constexpr (std::is_same_v<T, float>) {
          if (use512) {
            k = B / 16 * 16;
            tanh_512(cb + j * SB + ns * B, tc.data(), k);
          }
        }
#endif
        std::memcpy(tc.data() + k, cb + j * SB + ns * B + k, size_t(B - k) * sizeof(T));
        tanh_inplace(tc.data() + k, B - k);
        T* dcj = dc + j * B;
        T *di = dx + j * TB, *df = dx + (H + j) * TB, *dg = dx + (2 * H + j) * TB, *dO = dx + (3 * H + j) * TB;
        TGX_SIMD
        for (int64_t b = 0; b < B; ++b) {
          const T th = tc[size_t(b)], mk = mb[b];
          const T dcn = dcj[b] + d[b] * o[b] * (T(1) - th * th);
          di[b] = mk * dcn * gg[b] * i[b] * (T(1) - i[b]);
          df[b] = mk * dcn * cp[b] * f[b] * (T(1) - f[b]);
          dg[b] = mk * dcn * i[b] * (T(1) - gg[b] * gg[b]);
          dO[b] = mk * d[b] * th * o[b] * (T(1) - o[b]);
          dcj[b] += mk * (dcn * f[b] - dcj[b]);
          dp[b] = (T(1) - mk) * d[b];
        }
      } else if (gru) {
        const T *r = g + j * TB, *z = g + (H + j) * TB, *n = g + (2 * H + j) * TB;
        const T* lin = static_cast<const T*>(a.hn_lin) + j * TB + t * B;
        const T* hpj = hp + j * SB;
        T *xr = dx + j * TB, *xz = dx + (H + j) * TB, *xn = dx + (2 * H + j) * TB;
        T *hr = dhh + j * TB, *hz = dhh + (H + j) * TB, *hn_ = dhh + (2 * H + j) * TB;
        TGX_SIMD
        for (int64_t b = 0; b < B; ++b) {
          const T mk = mb[b], db = d[b];
          const T dn = mk * db * (T(1) - z[b]) * (T(1) - n[b] * n[b]);
          const T dr = dn * lin[b] * r[b] * (T(1) - r[b]);
          const T dz = mk * db * (hpj[b] - n[b]) * z[b] * (T(1) - z[b]);
          xr[b] = hr[b] = dr;
          xz[b] = hz[b] = dz;
          xn[b] = dn;
          hn_[b] = dn * r[b];
          dp[b] = mk * db * z[b] + (T(1) - mk) * db;
        }
      } else {
        const T* h = hn + j * SB;
        T* dxj = dx + j * TB;
        TGX_SIMD
        for (int64_t b = 0; b < B; ++b) {
          const T der = a.mode == RnnMode::Tanh ? T(1) - h[b] * h[b] : (h[b] > 0 ? T(1) : T(0));
          dxj[b] = mb[b] * d[b] * der;
          dp[b] = (T(1) - mb[b]) * d[b];
        }
      }
    }
    team_barrier(nt);  // the GEMM below reads every gate row of this step
    if (j1 > j0)  // dh_prev[j0:j1] += W_hh^T[j0:j1] @ dG
      gemm<T>(j1 - j0, B, L.GH, w + j0, 1, H, dhh, TB, 1, dhp + j0 * B, B, 1, 1);
    std::swap(dh, dhp);
  }
}

template <typename T>
void backward(const RnnArgs& a, const RnnGradArgs& ga) {
  const Layout L(a);
  const int64_t BH = L.B * L.H;
  const bool lstm = a.mode == RnnMode::Lstm;
  std::vector<T> dh(size_t(BH), T(0)), dhp(static_cast<size_t>(BH)), dc;
  if (ga.dhn) std::memcpy(dh.data(), ga.dhn, size_t(BH) * sizeof(T));
  if (lstm) {
    dc.assign(size_t(BH), T(0));
    if (ga.dcn) std::memcpy(dc.data(), ga.dcn, size_t(BH) * sizeof(T));
  }
  const int nt = team_size(L);
  run_team(nt, [&](int tid, int n) {
    backward_rows<T>(a, ga, L, tid, n, dh.data(), dhp.data(), dc.data());
  });
  const T* res = L.T % 2 == 0 ? dh.data() : dhp.data();  // swapped once per step
  if (ga.dh0) std::memcpy(ga.dh0, res, size_t(BH) * sizeof(T));
  if (ga.dc0 && lstm) std::memcpy(ga.dc0, dc.data(), size_t(BH) * sizeof(T));
}

template <typename T>
void tangent(const RnnArgs& a, const RnnTangentArgs& ta) {
  const Layout L(a);
  const int64_t H = L.H, B = L.B, TB = L.TB, SB = L.SB, BH = B * H;
  const T* w = static_cast<const T*>(a.w_hh);
  const T* tw = static_cast<const T*>(ta.tw_hh);
  const T* tbhh = static_cast<const T*>(ta.tb_hh);
  const T* hb = static_cast<const T*>(a.hbuf);
  const T* cb = static_cast<const T*>(a.cbuf);
  T* tout = static_cast<T*>(ta.tout);
  const bool lstm = a.mode == RnnMode::Lstm, gru = a.mode == RnnMode::Gru;
  std::vector<T> th(size_t(BH), T(0)), tc(lstm ? size_t(BH) : 0, T(0));
  std::vector<T> thh(size_t(L.GH * B)), tanhc(static_cast<size_t>(B)), m(static_cast<size_t>(B));
  std::vector<T> tbuf(static_cast<size_t>(BH)), ones(static_cast<size_t>(B), T(1));
  if (ta.th0) std::memcpy(th.data(), ta.th0, size_t(BH) * sizeof(T));
  if (lstm && ta.tc0) std::memcpy(tc.data(), ta.tc0, size_t(BH) * sizeof(T));
  for (int64_t s = 0; s < L.T; ++s) {
    const int64_t t = L.time(s), ps = L.prev_slot(t), ns = L.next_slot(t);
    L.mask(t, m);
    const T* mb = m.data();
    const T* g = static_cast<const T*>(a.gates) + t * B;
    const T* tx = static_cast<const T*>(ta.txg) + t * B;
    const T* hp = hb + ps * B;
    gemm_w_state<T>(L, w, th.data(), B, thh.data(), B, 0);
    if (tw) gemm_w_state<T>(L, tw, hp, SB, thh.data(), B, 1);
    auto pre = [&](int64_t r, int64_t b) { return tx[r * TB + b] + thh[size_t(r * B + b)]; };
    for (int64_t j = 0; j < H; ++j) {
      T* thj = th.data() + j * B;
      T* to = tbuf.data() + j * B;
      if (lstm) {
        const T *i = g + j * TB, *f = g + (H + j) * TB, *gg = g + (2 * H + j) * TB, *o = g + (3 * H + j) * TB;
        const T* cp = cb + j * SB + ps * B;
        std::memcpy(tanhc.data(), cb + j * SB + ns * B, size_t(B) * sizeof(T));
        tanh_inplace(tanhc.data(), B);
        T* tcj = tc.data() + j * B;
        TGX_SIMD
        for (int64_t b = 0; b < B; ++b) {
          const T tch = tanhc[size_t(b)];
          const T ti = pre(j, b) * i[b] * (T(1) - i[b]);
          const T tf = pre(H + j, b) * f[b] * (T(1) - f[b]);
          const T tg = pre(2 * H + j, b) * (T(1) - gg[b] * gg[b]);
          const T tO = pre(3 * H + j, b) * o[b] * (T(1) - o[b]);
          const T tcn = tf * cp[b] + f[b] * tcj[b] + ti * gg[b] + i[b] * tg;
          const T thn = tO * tch + o[b] * (T(1) - tch * tch) * tcn;
          tcj[b] += mb[b] * (tcn - tcj[b]);
          thj[b] += mb[b] * (thn - thj[b]);
          to[b] = mb[b] * thn;
        }
      } else if (gru) {
        const T *r = g + j * TB, *z = g + (H + j) * TB, *n = g + (2 * H + j) * TB;
        const T* lin = static_cast<const T*>(a.hn_lin) + j * TB + t * B;
        const T* hpj = hp + j * SB;
        const T b_r = tbhh ? tbhh[j] : T(0), b_z = tbhh ? tbhh[H + j] : T(0), b_n = tbhh ? tbhh[2 * H + j] : T(0);
        TGX_SIMD
        for (int64_t b = 0; b < B; ++b) {
          const T tr = (pre(j, b) + b_r) * r[b] * (T(1) - r[b]);
          const T tz = (pre(H + j, b) + b_z) * z[b] * (T(1) - z[b]);
          const T thn_lin = thh[size_t((2 * H + j) * B + b)] + b_n;
          const T tn = (tx[(2 * H + j) * TB + b] + tr * lin[b] + r[b] * thn_lin) * (T(1) - n[b] * n[b]);
          const T thn = tz * (hpj[b] - n[b]) + (T(1) - z[b]) * tn + z[b] * thj[b];
          thj[b] += mb[b] * (thn - thj[b]);
          to[b] = mb[b] * thn;
        }
      } else {
        const T* h = hb + j * SB + ns * B;
        TGX_SIMD
        for (int64_t b = 0; b < B; ++b) {
          const T d = pre(j, b);
          const T thn = a.mode == RnnMode::Tanh ? d * (T(1) - h[b] * h[b]) : (h[b] > 0 ? d : T(0));
          thj[b] += mb[b] * (thn - thj[b]);
          to[b] = mb[b] * thn;
        }
      }
    }
    transpose_out(L, tbuf.data(), B, ones.data(), tout + t * B * H);
  }
  std::memcpy(ta.thn, th.data(), size_t(BH) * sizeof(T));
  if (lstm && ta.tcn) std::memcpy(ta.tcn, tc.data(), size_t(BH) * sizeof(T));
}

}  // namespace

void rnn_forward_kernel(DType dtype, const RnnArgs& a) {
  if (dtype == DType::Float32) forward<float>(a);
  else forward<double>(a);
}

void rnn_backward_kernel(DType dtype, const RnnArgs& a, const RnnGradArgs& g) {
  if (dtype == DType::Float32) backward<float>(a, g);
  else backward<double>(a, g);
}

void rnn_tangent_kernel(DType dtype, const RnnArgs& a, const RnnTangentArgs& t) {
  if (dtype == DType::Float32) tangent<float>(a, t);
  else tangent<double>(a, t);
}

}  // namespace tgx::cpu::TGX_ARCH_NS
