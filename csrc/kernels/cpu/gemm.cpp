// Blocked GEMM (BLIS's loop structure), compiled once portable and once with AVX2/FMA.
//
//   for jc in n step NC:                 B block  KC x NC  packed into NR-wide panels (shared)
//     for pc in k step KC:
//       pack B
//       parallel over tiles (ic in m step MC) x (column chunk of the NC block):
//         pack A block MC x KC into MR-tall panels (per thread, reused while ic is unchanged)
//         for jr in chunk step NR, ir in MC step MR:  micro-kernel MR x NR over KC
//
// The micro-kernel accumulates an MR x NR tile in registers; full tiles with unit column
// stride are written straight to C, edge tiles go through a small temporary (no scalar cliff:
// the packed panels are zero padded, so the kernel always runs at full width).
#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/parallel.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TGX_GEMM_AVX2 1
#endif

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

template <typename T> struct Blocking;
template <> struct Blocking<float> {
  static constexpr int MR = 6, NR = 16;
  static constexpr int64_t KC = 256, MC = 144, NC = 4096;
};
template <> struct Blocking<double> {
  static constexpr int MR = 6, NR = 8;
  static constexpr int64_t KC = 256, MC = 72, NC = 2048;
};

// Below this many multiply-adds a GEMM runs on the calling thread.
constexpr double kParallelMacs = 1 << 18;

// 64-byte aligned scratch buffer.
template <typename T> struct Buffer {
  std::unique_ptr<T[]> raw;
  T* ptr = nullptr;
  explicit Buffer(int64_t n) : raw(new T[size_t(n) + 64 / sizeof(T)]) {
    uintptr_t p = reinterpret_cast<uintptr_t>(raw.get());
    ptr = reinterpret_cast<T*>((p + 63) & ~uintptr_t(63));
  }
};

// ---- packing ------------------------------------------------------------------------------
// A block (mc x kc, element (i, p) at a[i*rsa + p*csa]) -> MR-tall panels, buf[p*MR + r],
// zero padded to a multiple of MR rows.
template <typename T>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t rsa, int64_t csa, T* buf) {
  constexpr int MR = Blocking<T>::MR;
  for (int64_t i = 0; i < mc; i += MR) {
    const int64_t mr = std::min<int64_t>(MR, mc - i);
    const T* ap = a + i * rsa;
    if (mr == MR) {
      if (csa == 1) {
        for (int64_t p = 0; p < kc; ++p)
          for (int r = 0; r < MR; ++r) buf[p * MR + r] = ap[r * rsa + p];
      } else {
        for (int64_t p = 0; p < kc; ++p)
          for (int r = 0; r < MR; ++r) buf[p * MR + r] = ap[r * rsa + p * csa];
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        for (int r = 0; r < MR; ++r) buf[p * MR + r] = r < mr ? ap[r * rsa + p * csa] : T(0);
      }
    }
    buf += MR * kc;
  }
}

// Panels [jp0, jp1) of a B block (kc x nc, element (p, j) at b[p*rsb + j*csb]) -> NR-wide
// panels, buf[panel*NR*kc + p*NR + c], zero padded.
template <typename T>
void pack_b(int64_t jp0, int64_t jp1, int64_t nc, int64_t kc, const T* b, int64_t rsb,
            int64_t csb, T* buf) {
  constexpr int NR = Blocking<T>::NR;
  for (int64_t jp = jp0; jp < jp1; ++jp) {
    const int64_t j = jp * NR;
    const int64_t nr = std::min<int64_t>(NR, nc - j);
    const T* bp = b + j * csb;
    T* out = buf + jp * NR * kc;
    if (nr == NR && csb == 1) {
      for (int64_t p = 0; p < kc; ++p) std::memcpy(out + p * NR, bp + p * rsb, sizeof(T) * NR);
    } else if (nr == NR) {
      for (int64_t p = 0; p < kc; ++p)
        for (int c = 0; c < NR; ++c) out[p * NR + c] = bp[p * rsb + c * csb];
    } else {
      for (int64_t p = 0; p < kc; ++p)
        for (int c = 0; c < NR; ++c) out[p * NR + c] = c < nr ? bp[p * rsb + c * csb] : T(0);
    }
  }
}

// ---- writing a tile back -----------------------------------------------------------------
// C[i, j] = alpha * acc[i*NR + j] + beta * C[i, j] for the valid mr x nr part.
template <typename T>
void store_tile(const T* acc, T* c, int64_t rsc, int64_t csc, int mr, int nr, T alpha, T beta) {
  constexpr int NR = Blocking<T>::NR;
  for (int i = 0; i < mr; ++i) {
    T* ci = c + i * rsc;
    if (beta == T(0)) {
      for (int j = 0; j < nr; ++j) ci[j * csc] = alpha * acc[i * NR + j];
    } else {
      for (int j = 0; j < nr; ++j) ci[j * csc] = alpha * acc[i * NR + j] + beta * ci[j * csc];
    }
  }
}

// ---- micro-kernels ------------------------------------------------------------------------
#if defined(TGX_GEMM_AVX2)
template <typename T> struct Vec;
template <> struct Vec<float> {
  using V = __m256;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
};
template <> struct Vec<double> {
  using V = __m256d;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static V bcast(const double* p) { return _mm256_broadcast_sd(p); }
  static V set1(double x) { return _mm256_set1_pd(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
};

// 6 x (2 vectors) tile: 12 accumulators, 2 B loads and 6 broadcasts per k step.
template <typename T>
void micro_kernel(int64_t kc, const T* __restrict a, const T* __restrict b, T* c, int64_t rsc,
                  int64_t csc, int mr, int nr, T alpha, T beta) {
  using W = Vec<T>;
  using V = typename W::V;
  constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR, L = NR / 2;
  static_assert(MR == 6, "the AVX2 micro-kernel is written for MR = 6");
  V c00 = W::zero(), c01 = W::zero(), c10 = W::zero(), c11 = W::zero();
  V c20 = W::zero(), c21 = W::zero(), c30 = W::zero(), c31 = W::zero();
  V c40 = W::zero(), c41 = W::zero(), c50 = W::zero(), c51 = W::zero();
  for (int64_t p = 0; p < kc; ++p) {
    const V b0 = W::load(b), b1 = W::load(b + L);
    V ai = W::bcast(a + 0); c00 = W::fma(ai, b0, c00); c01 = W::fma(ai, b1, c01);
    ai = W::bcast(a + 1); c10 = W::fma(ai, b0, c10); c11 = W::fma(ai, b1, c11);
    ai = W::bcast(a + 2); c20 = W::fma(ai, b0, c20); c21 = W::fma(ai, b1, c21);
    ai = W::bcast(a + 3); c30 = W::fma(ai, b0, c30); c31 = W::fma(ai, b1, c31);
    ai = W::bcast(a + 4); c40 = W::fma(ai, b0, c40); c41 = W::fma(ai, b1, c41);
    ai = W::bcast(a + 5); c50 = W::fma(ai, b0, c50); c51 = W::fma(ai, b1, c51);
    a += MR;
    b += NR;
  }
  const V acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (mr == MR && nr == NR && csc == 1) {
    const V va = W::set1(alpha), vb = W::set1(beta);
    for (int i = 0; i < MR; ++i) {
      T* ci = c + i * rsc;
      for (int h = 0; h < 2; ++h) {
        V r = W::mul(va, acc[i][h]);
        if (beta != T(0)) r = W::fma(vb, W::load(ci + h * L), r);
        W::store(ci + h * L, r);
      }
    }
    return;
  }
  alignas(64) T tmp[MR * NR];
  for (int i = 0; i < MR; ++i) {
    W::store(tmp + i * NR, acc[i][0]);
    W::store(tmp + i * NR + L, acc[i][1]);
  }
  store_tile(tmp, c, rsc, csc, mr, nr, alpha, beta);
}
#else
// Portable: a fixed-size accumulator the compiler keeps in (SSE) registers and vectorises.
template <typename T>
void micro_kernel(int64_t kc, const T* __restrict a, const T* __restrict b, T* c, int64_t rsc,
                  int64_t csc, int mr, int nr, T alpha, T beta) {
  constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
  alignas(64) T acc[MR * NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < MR; ++i) {
      const T ai = a[i];
      for (int j = 0; j < NR; ++j) acc[i * NR + j] += ai * b[j];
    }
    a += MR;
    b += NR;
  }
  store_tile(acc, c, rsc, csc, mr, nr, alpha, beta);
}
#endif

// C = beta * C (beta == 0 writes zeros, ignoring nan in C).
template <typename T>
void scale_c(const GemmArgs& g, T beta) {
  T* c = static_cast<T*>(g.c);
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < g.n; ++j) {
      T& v = c[i * g.rsc + j * g.csc];
      v = beta == T(0) ? T(0) : beta * v;
    }
  }
}

// y = alpha * A x + beta * y for an m x k matrix A with unit row or column stride (GEMMs with
// n == 1, or m == 1 transposed). Packing would waste MR - 1 of every MR rows here.
template <typename T>
bool gemv(int64_t m, int64_t k, const T* A, int64_t rsa, int64_t csa, const T* x, int64_t incx,
          T* y, int64_t incy, T alpha, T beta) {
  if (csa != 1 && rsa != 1) return false;
  std::vector<T> xc;
  if (incx != 1) {
    xc.resize(size_t(k));
    for (int64_t p = 0; p < k; ++p) xc[size_t(p)] = x[p * incx];
    x = xc.data();
  }
  auto finish = [&](int64_t i, T acc) {
    T& out = y[i * incy];
    out = beta == T(0) ? alpha * acc : alpha * acc + beta * out;
  };
  const double macs = double(m) * double(k);
  if (csa == 1) {  // rows are contiguous: one dot product per row, 8 independent partial sums
    const int64_t grain = macs < kParallelMacs ? m : std::max<int64_t>(16, m / 64);
    parallel_for(0, m, grain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const T* a = A + i * rsa;
        T acc[8] = {};
        int64_t p = 0;
        for (; p + 8 <= k; p += 8)
          for (int j = 0; j < 8; ++j) acc[j] += a[p + j] * x[p + j];
        T sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; p < k; ++p) sum += a[p] * x[p];
        finish(i, sum);
      }
    });
    return true;
  }
  // columns are contiguous: y += x[p] * A[:, p], over a block of rows per thread
  const int64_t grain = macs < kParallelMacs ? m : std::max<int64_t>(256, m / 64);
  parallel_for(0, m, grain, [&](int64_t i0, int64_t i1) {
    constexpr int64_t kBlock = 1024;
    T acc[kBlock];
    for (int64_t ib = i0; ib < i1; ib += kBlock) {
      const int64_t len = std::min(kBlock, i1 - ib);
      std::fill(acc, acc + len, T(0));
      for (int64_t p = 0; p < k; ++p) {
        const T xp = x[p];
        const T* a = A + ib + p * csa;
        for (int64_t i = 0; i < len; ++i) acc[i] += xp * a[i];
      }
      for (int64_t i = 0; i < len; ++i) finish(ib + i, acc[i]);
    }
  });
  return true;
}

template <typename T>
void gemm_blocked(const GemmArgs& g, T alpha, T beta) {
  constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
  constexpr int64_t KC = Blocking<T>::KC, MC = Blocking<T>::MC, NC = Blocking<T>::NC;
  const int64_t m = g.m, n = g.n, k = g.k;
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == T(0)) return scale_c(g, beta);
  const T* A = static_cast<const T*>(g.a);
  const T* B = static_cast<const T*>(g.b);
  T* C = static_cast<T*>(g.c);
  if (g.n == 1 && gemv(m, k, A, g.rsa, g.csa, B, g.rsb, C, g.rsc, alpha, beta)) return;
  if (g.m == 1 && gemv(n, k, B, g.csb, g.rsb, A, g.csa, C, g.csc, alpha, beta)) return;

  const double macs = double(m) * double(n) * double(k);
  const int nthreads = macs < kParallelMacs ? 1 : std::max(1, get_num_threads());
  const int64_t n_ic = (m + MC - 1) / MC;
  Buffer<T> bbuf(((std::min(n, NC) + NR - 1) / NR) * NR * std::min(k, KC));

  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = std::min(NC, n - jc);
    const int64_t n_panels = (nc + NR - 1) / NR;
    // Column chunks (in whole NR panels) so that small-m problems still give every thread work.
    int64_t n_chunks = nthreads > 1 ? std::max<int64_t>(1, (2 * nthreads + n_ic - 1) / n_ic) : 1;
    n_chunks = std::min(n_chunks, std::max<int64_t>(1, n_panels / 4));
    const int64_t panels_per_chunk = (n_panels + n_chunks - 1) / n_chunks;
    n_chunks = (n_panels + panels_per_chunk - 1) / panels_per_chunk;
    const int64_t n_tiles = n_ic * n_chunks;

    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = std::min(KC, k - pc);
      const T beta_eff = pc == 0 ? beta : T(1);
      const T* bblock = B + pc * g.rsb + jc * g.csb;
      parallel_for(0, n_panels, nthreads > 1 ? 4 : n_panels, [&](int64_t p0, int64_t p1) {
        pack_b(p0, p1, nc, kc, bblock, g.rsb, g.csb, bbuf.ptr);
      });
      parallel_for(0, n_tiles, nthreads > 1 ? 1 : n_tiles, [&](int64_t t0, int64_t t1) {
        Buffer<T> abuf(((MC + MR - 1) / MR) * MR * kc);
        int64_t packed_ic = -1;
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t ib = t / n_chunks, chunk = t % n_chunks;
          const int64_t ic = ib * MC, mc = std::min(MC, m - ic);
          if (ib != packed_ic) {
            pack_a(mc, kc, A + ic * g.rsa + pc * g.csa, g.rsa, g.csa, abuf.ptr);
            packed_ic = ib;
          }
          const int64_t jp0 = chunk * panels_per_chunk;
          const int64_t jp1 = std::min(n_panels, jp0 + panels_per_chunk);
          for (int64_t jp = jp0; jp < jp1; ++jp) {
            const int64_t jr = jp * NR;
            const int nr = int(std::min<int64_t>(NR, nc - jr));
            const T* bp = bbuf.ptr + jp * NR * kc;
            for (int64_t ir = 0; ir < mc; ir += MR) {
              const int mr = int(std::min<int64_t>(MR, mc - ir));
              T* cp = C + (ic + ir) * g.rsc + (jc + jr) * g.csc;
              micro_kernel<T>(kc, abuf.ptr + ir * kc, bp, cp, g.rsc, g.csc, mr, nr, alpha,
                              beta_eff);
            }
          }
        }
      });
    }
  }
}

// Integer GEMM: a plain row-times-matrix loop; arithmetic wraps (unsigned) like PyTorch's.
template <typename T>
void gemm_integer(const GemmArgs& g, T alpha, T beta) {
  using U = std::make_unsigned_t<T>;
  const T* A = static_cast<const T*>(g.a);
  const T* B = static_cast<const T*>(g.b);
  T* C = static_cast<T*>(g.c);
  const double macs = double(g.m) * double(g.n) * double(std::max<int64_t>(g.k, 1));
  const int64_t grain = macs < kParallelMacs ? std::max<int64_t>(g.m, 1) : 1;
  parallel_for(0, g.m, grain, [&](int64_t i0, int64_t i1) {
    std::vector<U> acc(size_t(g.n));
    for (int64_t i = i0; i < i1; ++i) {
      std::fill(acc.begin(), acc.end(), U(0));
      for (int64_t p = 0; p < g.k; ++p) {
        const U av = U(A[i * g.rsa + p * g.csa]);
        if (av == 0) continue;
        const T* bp = B + p * g.rsb;
        for (int64_t j = 0; j < g.n; ++j) acc[size_t(j)] += U(av * U(bp[j * g.csb]));
      }
      T* ci = C + i * g.rsc;
      for (int64_t j = 0; j < g.n; ++j) {
        U r = U(U(alpha) * acc[size_t(j)]);
        if (beta != T(0)) r = U(r + U(U(beta) * U(ci[j * g.csc])));
        ci[j * g.csc] = T(r);
      }
    }
  });
}

}  // namespace

void gemm_kernel(DType dtype, const GemmArgs& g, const Scalar& alpha, const Scalar& beta) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      throw NotImplementedError("[gemm] not implemented for dtype bool");
    } else if constexpr (std::is_floating_point_v<T>) {
      gemm_blocked<T>(g, alpha.to<T>(), beta.to<T>());
    } else {
      gemm_integer<T>(g, alpha.to<T>(), beta.to<T>());
    }
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
