// Recurrent layer loops (see rnn.h): per step one GEMM on the recurrent weights and the fused
// gate math; float32 activations use simd_math.h (8 lanes with AVX2/FMA).
#include "kernels/cpu/rnn.h"

#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/simd_math.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

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

// C (B x GH, row stride ldc) (+)= h (B x H) @ W^T for W (GH x H) row-major. Computed as
// C^T = W @ h^T: W is then the GEMM's A operand, read in place (no per-step packing of the
// weights), and only the small h^T is packed.
template <typename T>
void gemm_hwt(int64_t B, int64_t GH, int64_t H, const T* h, const T* w, T* c, int64_t ldc, int beta) {
  gemm<T>(GH, B, H, w, H, 1, h, 1, H, c, 1, ldc, beta);
}

struct Layout {
  int64_t T, B, H, G, GH, BH;
  bool rev;
  const int64_t* len;
  explicit Layout(const RnnArgs& a)
      : T(a.T), B(a.B), H(a.H), G(rnn_gates(a.mode)), GH(G * a.H), BH(a.B * a.H), rev(a.reverse),
        len(a.lengths) {}
  int64_t time(int64_t s) const { return rev ? T - 1 - s : s; }
  int64_t prev_slot(int64_t t) const { return rev ? t + 1 : t; }
  int64_t next_slot(int64_t t) const { return rev ? t : t + 1; }
  bool active(int64_t b, int64_t t) const { return !len || t < len[b]; }
};

template <typename T>
void forward(const RnnArgs& a) {
  const Layout L(a);
  const int64_t H = L.H, GH = L.GH;
  const T* w = static_cast<const T*>(a.w_hh);
  const T* bhh = static_cast<const T*>(a.b_hh);
  T* hb = static_cast<T*>(a.hbuf);
  T* cb = static_cast<T*>(a.cbuf);
  std::vector<T> hh(a.mode == RnnMode::Gru ? size_t(L.B * GH) : 0);
  for (int64_t s = 0; s < L.T; ++s) {
    const int64_t t = L.time(s);
    T* gt = static_cast<T*>(a.gates) + t * L.B * GH;
    const T* hp = hb + L.prev_slot(t) * L.BH;
    T* hn = hb + L.next_slot(t) * L.BH;
    T* out = static_cast<T*>(a.out) + t * L.BH;
    if (a.mode == RnnMode::Gru) {
      gemm_hwt<T>(L.B, GH, H, hp, w, hh.data(), GH, 0);
    } else {
      gemm_hwt<T>(L.B, GH, H, hp, w, gt, GH, 1);  // gates += h @ W_hh^T
    }
    for (int64_t b = 0; b < L.B; ++b) {
      const T* hpb = hp + b * H;
      T* hnb = hn + b * H;
      T* ob = out + b * H;
      if (!L.active(b, t)) {
        std::memcpy(hnb, hpb, size_t(H) * sizeof(T));
        if (cb) std::memcpy(cb + L.next_slot(t) * L.BH + b * H, cb + L.prev_slot(t) * L.BH + b * H,
                            size_t(H) * sizeof(T));
        std::memset(ob, 0, size_t(H) * sizeof(T));
        continue;
      }
      T* g = gt + b * GH;
      if (a.mode == RnnMode::Lstm) {
        const T* cp = cb + L.prev_slot(t) * L.BH + b * H;
        T* cn = cb + L.next_slot(t) * L.BH + b * H;
        sigmoid_inplace(g, 2 * H);
        tanh_inplace(g + 2 * H, H);
        sigmoid_inplace(g + 3 * H, H);
        for (int64_t j = 0; j < H; ++j) cn[j] = g[H + j] * cp[j] + g[j] * g[2 * H + j];
        std::memcpy(hnb, cn, size_t(H) * sizeof(T));
        tanh_inplace(hnb, H);
        for (int64_t j = 0; j < H; ++j) hnb[j] *= g[3 * H + j];
      } else if (a.mode == RnnMode::Gru) {
        T* hhb = hh.data() + b * GH;
        if (bhh)
          for (int64_t j = 0; j < GH; ++j) hhb[j] += bhh[j];
        for (int64_t j = 0; j < 2 * H; ++j) g[j] += hhb[j];
        sigmoid_inplace(g, 2 * H);
        T* lin = static_cast<T*>(a.hn_lin) + t * L.BH + b * H;
        for (int64_t j = 0; j < H; ++j) {
          lin[j] = hhb[2 * H + j];
          g[2 * H + j] += g[j] * lin[j];
        }
        tanh_inplace(g + 2 * H, H);
        for (int64_t j = 0; j < H; ++j) {
          const T z = g[H + j], n = g[2 * H + j];
          hnb[j] = (T(1) - z) * n + z * hpb[j];
        }
      } else {
        if (a.mode == RnnMode::Tanh) {
          tanh_inplace(g, H);
        } else {
          for (int64_t j = 0; j < H; ++j) g[j] = g[j] > 0 ? g[j] : T(0);
        }
        std::memcpy(hnb, g, size_t(H) * sizeof(T));
      }
      std::memcpy(ob, hnb, size_t(H) * sizeof(T));
    }
  }
}

template <typename T>
void backward(const RnnArgs& a, const RnnGradArgs& ga) {
  const Layout L(a);
  const int64_t H = L.H, GH = L.GH;
  const T* w = static_cast<const T*>(a.w_hh);
  const T* hb = static_cast<const T*>(a.hbuf);
  const T* cb = static_cast<const T*>(a.cbuf);
  const T* dout = static_cast<const T*>(ga.dout);
  const bool gru = a.mode == RnnMode::Gru;
  std::vector<T> dh(size_t(L.BH), T(0)), dhp(size_t(L.BH)), dc, tc(static_cast<size_t>(H));
  if (ga.dhn) std::memcpy(dh.data(), ga.dhn, size_t(L.BH) * sizeof(T));
  if (a.mode == RnnMode::Lstm) {
    dc.assign(size_t(L.BH), T(0));
    if (ga.dcn) std::memcpy(dc.data(), ga.dcn, size_t(L.BH) * sizeof(T));
  }
  for (int64_t s = L.T - 1; s >= 0; --s) {
    const int64_t t = L.time(s);
    const T* gt = static_cast<const T*>(a.gates) + t * L.B * GH;
    T* dgx = static_cast<T*>(ga.dgx) + t * L.B * GH;
    T* dgh = gru ? static_cast<T*>(ga.dgh) + t * L.B * GH : dgx;
    const T* hp = hb + L.prev_slot(t) * L.BH;
    const T* hn = hb + L.next_slot(t) * L.BH;
    for (int64_t b = 0; b < L.B; ++b) {
      T* dhb = dh.data() + b * H;
      T* dhpb = dhp.data() + b * H;
      T* dx = dgx + b * GH;
      T* dhh = dgh + b * GH;
      if (!L.active(b, t)) {
        std::memset(dx, 0, size_t(GH) * sizeof(T));
        if (gru) std::memset(dhh, 0, size_t(GH) * sizeof(T));
        std::memcpy(dhpb, dhb, size_t(H) * sizeof(T));
        continue;
      }
      if (dout)
        for (int64_t j = 0; j < H; ++j) dhb[j] += dout[t * L.BH + b * H + j];
      const T* g = gt + b * GH;
      if (a.mode == RnnMode::Lstm) {
        const T* cp = cb + L.prev_slot(t) * L.BH + b * H;
        const T* cn = cb + L.next_slot(t) * L.BH + b * H;
        T* dcb = dc.data() + b * H;
        std::memcpy(tc.data(), cn, size_t(H) * sizeof(T));
        tanh_inplace(tc.data(), H);
        for (int64_t j = 0; j < H; ++j) {
          const T i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j], th = tc[size_t(j)];
          const T d = dcb[j] + dhb[j] * o * (T(1) - th * th);
          dx[j] = d * gg * i * (T(1) - i);
          dx[H + j] = d * cp[j] * f * (T(1) - f);
          dx[2 * H + j] = d * i * (T(1) - gg * gg);
          dx[3 * H + j] = dhb[j] * th * o * (T(1) - o);
          dcb[j] = d * f;
          dhpb[j] = 0;
        }
      } else if (gru) {
        const T* lin = static_cast<const T*>(a.hn_lin) + t * L.BH + b * H;
        for (int64_t j = 0; j < H; ++j) {
          const T r = g[j], z = g[H + j], n = g[2 * H + j], d = dhb[j];
          const T dn = d * (T(1) - z) * (T(1) - n * n);
          const T dr = dn * lin[j] * r * (T(1) - r);
          const T dz = d * (hp[b * H + j] - n) * z * (T(1) - z);
          dx[j] = dhh[j] = dr;
          dx[H + j] = dhh[H + j] = dz;
          dx[2 * H + j] = dn;
          dhh[2 * H + j] = dn * r;
          dhpb[j] = d * z;
        }
      } else {
        const T* h = hn + b * H;
        for (int64_t j = 0; j < H; ++j) {
          const T d = dhb[j];
          dx[j] = a.mode == RnnMode::Tanh ? d * (T(1) - h[j] * h[j]) : (h[j] > 0 ? d : T(0));
          dhpb[j] = 0;
        }
      }
    }
    gemm<T>(L.B, H, GH, dgh, GH, 1, w, H, 1, dhp.data(), H, 1, 1);  // dh_prev += dG @ W_hh
    dh.swap(dhp);
  }
  if (ga.dh0) std::memcpy(ga.dh0, dh.data(), size_t(L.BH) * sizeof(T));
  if (ga.dc0 && a.mode == RnnMode::Lstm) std::memcpy(ga.dc0, dc.data(), size_t(L.BH) * sizeof(T));
}

template <typename T>
void tangent(const RnnArgs& a, const RnnTangentArgs& ta) {
  const Layout L(a);
  const int64_t H = L.H, GH = L.GH;
  const T* w = static_cast<const T*>(a.w_hh);
  const T* tw = static_cast<const T*>(ta.tw_hh);
  const T* tbhh = static_cast<const T*>(ta.tb_hh);
  const T* hb = static_cast<const T*>(a.hbuf);
  const T* cb = static_cast<const T*>(a.cbuf);
  const bool lstm = a.mode == RnnMode::Lstm, gru = a.mode == RnnMode::Gru;
  std::vector<T> th(size_t(L.BH), T(0)), tc(lstm ? size_t(L.BH) : 0, T(0));
  std::vector<T> thh(size_t(L.B * GH)), tanhc(static_cast<size_t>(H));
  if (ta.th0) std::memcpy(th.data(), ta.th0, size_t(L.BH) * sizeof(T));
  if (lstm && ta.tc0) std::memcpy(tc.data(), ta.tc0, size_t(L.BH) * sizeof(T));
  for (int64_t s = 0; s < L.T; ++s) {
    const int64_t t = L.time(s);
    const T* gt = static_cast<const T*>(a.gates) + t * L.B * GH;
    const T* tx = static_cast<const T*>(ta.txg) + t * L.B * GH;
    const T* hp = hb + L.prev_slot(t) * L.BH;
    T* tout = static_cast<T*>(ta.tout) + t * L.BH;
    gemm_hwt<T>(L.B, GH, H, th.data(), w, thh.data(), GH, 0);
    if (tw) gemm_hwt<T>(L.B, GH, H, hp, tw, thh.data(), GH, 1);
    for (int64_t b = 0; b < L.B; ++b) {
      T* thb = th.data() + b * H;
      if (!L.active(b, t)) {
        std::memset(tout + b * H, 0, size_t(H) * sizeof(T));
        continue;
      }
      const T* g = gt + b * GH;
      const T* txb = tx + b * GH;
      T* hh = thh.data() + b * GH;
      if (gru && tbhh)
        for (int64_t j = 0; j < GH; ++j) hh[j] += tbhh[j];
      if (lstm) {
        const T* cp = cb + L.prev_slot(t) * L.BH + b * H;
        const T* cn = cb + L.next_slot(t) * L.BH + b * H;
        T* tcb = tc.data() + b * H;
        std::memcpy(tanhc.data(), cn, size_t(H) * sizeof(T));
        tanh_inplace(tanhc.data(), H);
        for (int64_t j = 0; j < H; ++j) {
          const T i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j], tch = tanhc[size_t(j)];
          const T ti = (txb[j] + hh[j]) * i * (T(1) - i);
          const T tf = (txb[H + j] + hh[H + j]) * f * (T(1) - f);
          const T tg = (txb[2 * H + j] + hh[2 * H + j]) * (T(1) - gg * gg);
          const T to = (txb[3 * H + j] + hh[3 * H + j]) * o * (T(1) - o);
          tcb[j] = tf * cp[j] + f * tcb[j] + ti * gg + i * tg;
          thb[j] = to * tch + o * (T(1) - tch * tch) * tcb[j];
        }
      } else if (gru) {
        const T* lin = static_cast<const T*>(a.hn_lin) + t * L.BH + b * H;
        for (int64_t j = 0; j < H; ++j) {
          const T r = g[j], z = g[H + j], n = g[2 * H + j];
          const T tr = (txb[j] + hh[j]) * r * (T(1) - r);
          const T tz = (txb[H + j] + hh[H + j]) * z * (T(1) - z);
          const T tn = (txb[2 * H + j] + tr * lin[j] + r * hh[2 * H + j]) * (T(1) - n * n);
          thb[j] = tz * (hp[b * H + j] - n) + (T(1) - z) * tn + z * thb[j];
        }
      } else {
        const T* h = hb + L.next_slot(t) * L.BH + b * H;
        for (int64_t j = 0; j < H; ++j) {
          const T d = txb[j] + hh[j];
          thb[j] = a.mode == RnnMode::Tanh ? d * (T(1) - h[j] * h[j]) : (h[j] > 0 ? d : T(0));
        }
      }
      std::memcpy(tout + b * H, thb, size_t(H) * sizeof(T));
    }
  }
  std::memcpy(ta.thn, th.data(), size_t(L.BH) * sizeof(T));
  if (lstm && ta.tcn) std::memcpy(ta.tcn, tc.data(), size_t(L.BH) * sizeof(T));
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
