// Blocked GEMM (BLIS's loop structure), compiled once portable and once with AVX2/FMA; the
// AVX2 build also carries an AVX-512 micro-kernel picked at run time when the CPU (and OS)
// support it (TGX_GEMM_NO_AVX512=1 turns it off, e.g. to test the AVX2 kernel on such a CPU).
//
//   split C into one sub-problem per thread (a pm x pn grid: no barriers, no shared buffers)
//   for jc in n step NC:
//     for pc in k step KC:
//       pack B block KC x NC into NR-wide panels      (skipped for small contiguous B)
//       for ic in m step MC:
//         pack A block MC x KC into MR-tall panels    (skipped when A's rows or columns are
//                                                      contiguous and n is small)
//         for jr in NC step NR, ir in MC step MR:  micro-kernel MR x NR over KC
//
// The micro-kernel (gemm_ukernel.inc) reads A through (row, k) strides, so packed panels, row-
// and column-major A all run the same code; unpacked B edges use masked loads. Packing buffers
// are per-thread scratch that is kept between calls (no allocation per GEMM).
#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <vector>

#include "core/parallel.h"

#include "kernels/cpu/simd_vec.h"
#if defined(TGX_SIMD_AVX2)
#define TGX_GEMM_AVX2 1
#endif
#if defined(TGX_SIMD_AVX512)
#define TGX_GEMM_AVX512 1
#endif

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

// Below this many multiply-adds a GEMV / integer GEMM runs on the calling thread; a float GEMM
// below kParallelGemmMacs (~50 us of work): waking threads and splitting costs more.
constexpr double kParallelMacs = 1 << 18;
constexpr double kParallelGemmMacs = 1 << 21;

// What one micro-kernel call works on (see gemm_ukernel.inc).
template <typename T> struct Tile {
  int64_t kc = 0;
  const T* a = nullptr;
  int64_t ars = 0, aks = 0;
  const T* b = nullptr;
  int64_t bks = 0;
  T* c = nullptr;
  int64_t rsc = 0, csc = 0;
  int mr = 0, nr = 0;
  T alpha = T(1), beta = T(0);
  const T* bias = nullptr;  // the tile's first column's bias (last K block only), or null
  int act = GemmArgs::kNone;   // applied with the bias, on the last K block only
};

// The micro-kernels of one CPU and their blocking. fn[h][w][e]: h = 1 for tiles of at most
// mr / 2 rows, w = 1 for tiles of at most nr / 2 columns (one vector), e = 1 for masked B loads
// (an unpacked edge panel). The half-height and half-width kernels read the same panels (their
// strides are arguments), so a 10-column output layer computes 16 columns, not 32.
template <typename T> struct Kernel {
  using Fn = void (*)(const Tile<T>&);
  Fn fn[2][2][2] = {};
  int mr = 0, nr = 0;
  int64_t kc = 0, mc = 0, nc = 0;
  Fn pick(int mr_, int nr_, bool edge) const {
    return fn[2 * mr_ <= mr][2 * nr_ <= nr][edge];
  }
};

// Fills k.fn with UK<MR or MR / 2, NV or NV / 2, edge> (UK a micro-kernel template adaptor).
template <typename T, template <int, int, bool> class UK, int MR, int NV>
void set_kernels(Kernel<T>& k) {
  constexpr int HM = MR / 2, HV = NV / 2;
  k.fn[0][0][0] = &UK<MR, NV, false>::run, k.fn[0][0][1] = &UK<MR, NV, true>::run;
  k.fn[0][1][0] = &UK<MR, HV, false>::run, k.fn[0][1][1] = &UK<MR, HV, true>::run;
  k.fn[1][0][0] = &UK<HM, NV, false>::run, k.fn[1][0][1] = &UK<HM, NV, true>::run;
  k.fn[1][1][0] = &UK<HM, HV, false>::run, k.fn[1][1][1] = &UK<HM, HV, true>::run;
}

// The epilogue of one element of column j: + bias[j], then relu if asked (nan stays nan).
template <typename T>
inline T epilogue(T x, const T* bias, int64_t j, int act) {
  if (bias) x += bias[j];
  return act == GemmArgs::kRelu && x < T(0) ? T(0) : x;
}
// C[i, j] = act(alpha * acc[i * ld + j] + beta * C[i, j] + bias[j]) for the valid mr x nr part
// of a tile.
template <typename T>
inline void store_tile(const T* acc, int ld, const Tile<T>& t) {
  for (int i = 0; i < t.mr; ++i) {
    T* ci = t.c + i * t.rsc;
    if (t.beta == T(0)) {
      for (int j = 0; j < t.nr; ++j) ci[j * t.csc] = epilogue(t.alpha * acc[i * ld + j], t.bias, j, t.act);
    } else {
      for (int j = 0; j < t.nr; ++j)
        ci[j * t.csc] = epilogue(t.alpha * acc[i * ld + j] + t.beta * ci[j * t.csc], t.bias, j, t.act);
    }
  }
}

// The epilogue as a pass over C, for the paths that do not fuse it (GEMV, integers, k == 0).
template <typename T>
void epilogue_pass(const GemmArgs& g) {
  if (!g.bias && g.act == GemmArgs::kNone) return;
  const T* bias = static_cast<const T*>(g.bias);
  T* C = static_cast<T*>(g.c);
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) {
      T& c = C[i * g.rsc + j * g.csc];
      c = epilogue(c, bias, j, g.act);
    }
}

// Portable micro-kernel: a fixed-size accumulator the compiler keeps in (SSE) registers.
template <typename T, int MR, int NR, bool EDGE>
void ukernel_portable(const Tile<T>& t) {
  alignas(64) T acc[MR * NR] = {};
  const T* ar[MR];
  for (int r = 0; r < MR; ++r) ar[r] = t.a + (r < t.mr ? r : t.mr - 1) * t.ars;
  const T* b = t.b;
  const int nr = EDGE ? t.nr : NR;
  for (int64_t p = 0, off = 0; p < t.kc; ++p, off += t.aks, b += t.bks) {
    for (int r = 0; r < MR; ++r) {
      const T av = ar[r][off];
      if (EDGE) {
        for (int j = 0; j < nr; ++j) acc[r * NR + j] += av * b[j];
      } else {
        for (int j = 0; j < NR; ++j) acc[r * NR + j] += av * b[j];
      }
    }
  }
  store_tile(acc, NR, t);
}
template <typename T> struct PortableUK {
  template <int MR, int NV, bool EDGE> struct K {
    static void run(const Tile<T>& t) { ukernel_portable<T, MR, NV * 8, EDGE>(t); }
  };
};

#if defined(TGX_GEMM_AVX2)
using simd::Avx2F;
using simd::Avx2D;
namespace k_avx2 {
#include "kernels/cpu/gemm_ukernel.inc"
}  // namespace k_avx2

#if defined(TGX_GEMM_AVX512)
using simd::Avx512F;
using simd::Avx512D;
#pragma GCC push_options
#pragma GCC target("avx512f")
namespace k_avx512 {
#include "kernels/cpu/gemm_ukernel.inc"
}  // namespace k_avx512
#pragma GCC pop_options

bool avx512_usable() {
  static const bool ok = [] {
    const char* off = std::getenv("TGX_GEMM_NO_AVX512");
    if (off && *off && std::strcmp(off, "0") != 0) return false;
    return avx512_enabled();
  }();
  return ok;
}
#endif  // TGX_GEMM_AVX512
#endif  // TGX_GEMM_AVX2

// The micro-kernel and blocking for T on this CPU. KC x NR panels of B stay in L1 (or L2),
// MC x KC blocks of A in L2, KC x NC blocks of B in L3.
template <typename T>
const Kernel<T>& select_kernel() {
  static const Kernel<T> k = [] {
    Kernel<T> r;
    constexpr bool f32 = std::is_same_v<T, float>;
#if defined(TGX_GEMM_AVX512)
    if (avx512_usable()) {
      using W = std::conditional_t<f32, Avx512F, Avx512D>;
      set_kernels<T, k_avx512::UK<W>::template K, 8, 2>(r);
      r.mr = 8, r.nr = 2 * W::L;
      // KC = 512 (measured on Zen 5): fewer passes over C beat keeping B's panel in L1.
      r.kc = 512, r.mc = 96, r.nc = f32 ? 4096 : 2048;
      return r;
    }
#endif
#if defined(TGX_GEMM_AVX2)
    using W = std::conditional_t<f32, Avx2F, Avx2D>;
    set_kernels<T, k_avx2::UK<W>::template K, 6, 2>(r);
    r.mr = 6, r.nr = 2 * W::L;
#else
    set_kernels<T, PortableUK<T>::template K, 6, 2>(r);
    r.mr = 6, r.nr = 16;
#endif
    r.kc = 256, r.mc = f32 ? 144 : 72, r.nc = f32 ? 4096 : 2048;
    return r;
  }();
  return k;
}

// ---- per-thread scratch -------------------------------------------------------------------
// 64-byte aligned, grown on demand and kept for the thread's life (OpenMP threads persist).
template <typename T> struct Scratch {
  T* ptr = nullptr;
  size_t cap = 0;
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(ptr); }
  T* get(size_t n) {
    if (n > cap) {
      std::free(ptr);
      ptr = nullptr, cap = 0;
      const size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
      ptr = static_cast<T*>(std::aligned_alloc(64, bytes));
      if (!ptr) throw std::bad_alloc();
      cap = n;
    }
    return ptr;
  }
};
template <typename T> T* scratch(int which, size_t n) {
  static thread_local Scratch<T> s[2];
  return s[which].get(n);
}

// ---- packing ------------------------------------------------------------------------------
// A block (mc x kc, element (i, p) at a[i*rsa + p*csa]) -> MR-tall panels, buf[p*MR + r],
// zero padded to a multiple of MR rows.
template <typename T, int MR>
void pack_a_mr(int64_t mc, int64_t kc, const T* a, int64_t rsa, int64_t csa, T* buf) {
  for (int64_t i = 0; i < mc; i += MR) {
    const int64_t mr = std::min<int64_t>(MR, mc - i);
    const T* ap = a + i * rsa;
    if (mr == MR && rsa == 1) {
      for (int64_t p = 0; p < kc; ++p) std::memcpy(buf + p * MR, ap + p * csa, sizeof(T) * MR);
    } else if (mr == MR) {
      for (int64_t p = 0; p < kc; ++p)
        for (int r = 0; r < MR; ++r) buf[p * MR + r] = ap[r * rsa + p * csa];
    } else {
      for (int64_t p = 0; p < kc; ++p)
        for (int r = 0; r < MR; ++r) buf[p * MR + r] = r < mr ? ap[r * rsa + p * csa] : T(0);
    }
    buf += MR * kc;
  }
}
template <typename T>
void pack_a(int mr_, int64_t mc, int64_t kc, const T* a, int64_t rsa, int64_t csa, T* buf) {
  if (mr_ == 8) return pack_a_mr<T, 8>(mc, kc, a, rsa, csa, buf);
  return pack_a_mr<T, 6>(mc, kc, a, rsa, csa, buf);
}

#if defined(TGX_GEMM_AVX2)
// dst[i * lds + j] = src[j * ls + i] for an 8 x 8 float block.
inline void transpose8x8(const float* src, int64_t ls, float* dst, int64_t lds) {
  __m256 r[8], t[8];
  for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(src + j * ls);
  for (int j = 0; j < 8; j += 2) {
    t[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);
    t[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
  }
  for (int j = 0; j < 8; j += 4) {
    r[j] = _mm256_shuffle_ps(t[j], t[j + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[j + 1] = _mm256_shuffle_ps(t[j], t[j + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[j + 2] = _mm256_shuffle_ps(t[j + 1], t[j + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[j + 3] = _mm256_shuffle_ps(t[j + 1], t[j + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int j = 0; j < 4; ++j) {
    _mm256_storeu_ps(dst + j * lds, _mm256_permute2f128_ps(r[j], r[j + 4], 0x20));
    _mm256_storeu_ps(dst + (j + 4) * lds, _mm256_permute2f128_ps(r[j], r[j + 4], 0x31));
  }
}
#endif

// A kc x nc block of B (element (p, j) at b[p*rsb + j*csb]) -> NR-wide panels,
// buf[panel*NR*kc + p*NR + c], zero padded.
template <typename T>
void pack_b(int NR, int64_t nc, int64_t kc, const T* b, int64_t rsb, int64_t csb, T* buf) {
  for (int64_t j = 0; j < nc; j += NR) {
    const int64_t nr = std::min<int64_t>(NR, nc - j);
    const T* bp = b + j * csb;
    if (nr == NR && csb == 1) {
      for (int64_t p = 0; p < kc; ++p) std::memcpy(buf + p * NR, bp + p * rsb, sizeof(T) * NR);
    } else if (csb == 1) {
      for (int64_t p = 0; p < kc; ++p) {
        std::memcpy(buf + p * NR, bp + p * rsb, sizeof(T) * size_t(nr));
        std::fill(buf + p * NR + nr, buf + (p + 1) * NR, T(0));
      }
    } else {
      int64_t p0 = 0;
#if defined(TGX_GEMM_AVX2)
      // B^T (columns contiguous): 8x8 register transposes for whole 8-column groups.
      if constexpr (std::is_same_v<T, float>) {
        if (rsb == 1 && nr == NR && NR % 8 == 0)
          for (; p0 + 8 <= kc; p0 += 8)
            for (int c = 0; c < NR; c += 8) transpose8x8(bp + p0 + c * csb, csb, buf + p0 * NR + c, NR);
      }
#endif
      if (nr < NR) {  // a narrow edge: zero the panel, then copy column by column
        std::fill(buf + p0 * NR, buf + kc * NR, T(0));
        for (int c = 0; c < nr; ++c)
          for (int64_t p = p0; p < kc; ++p) buf[p * NR + c] = bp[p * rsb + c * csb];
      } else {
        for (int64_t p = p0; p < kc; ++p)
          for (int c = 0; c < NR; ++c) buf[p * NR + c] = bp[p * rsb + c * csb];
      }
    }
    buf += NR * kc;
  }
}

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

// Packing pays off when a panel is reused often enough: B is reused by every MR rows of A, A
// by every NR columns of B. Unpacked operands must have a unit stride the kernel can use.
inline bool want_pack_b(const GemmArgs& g, int mr) {
  return g.csb != 1 || g.m > 4 * mr || (g.k > 64 && g.rsb % 256 == 0);
}
inline bool want_pack_a(const GemmArgs& g, int nr) {
  return (g.rsa != 1 && g.csa != 1) || g.n > 8 * nr;
}

// One thread's GEMM on a sub-problem (pointers already offset).
template <typename T>
void gemm_serial(const Kernel<T>& K, const GemmArgs& g, T alpha, T beta) {
  const int MR = K.mr, NR = K.nr;
  const int64_t m = g.m, n = g.n, k = g.k;
  if (m <= 0 || n <= 0) return;
  const T* A = static_cast<const T*>(g.a);
  const T* B = static_cast<const T*>(g.b);
  T* C = static_cast<T*>(g.c);
  const bool packb = want_pack_b(g, MR), packa = want_pack_a(g, NR);
  const int64_t KC = K.kc, MC = K.mc, NC = K.nc;
  T* bbuf = packb ? scratch<T>(0, size_t((std::min(n, NC) + NR - 1) / NR * NR * std::min(k, KC)))
                  : nullptr;
  T* abuf = packa ? scratch<T>(1, size_t((std::min(m, MC) + MR - 1) / MR * MR * std::min(k, KC)))
                  : nullptr;
  Tile<T> t;
  t.alpha = alpha;
  t.rsc = g.rsc, t.csc = g.csc;
  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = std::min(NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = std::min(KC, k - pc);
      t.kc = kc;
      t.beta = pc == 0 ? beta : T(1);
      const bool last = pc + kc == k;
      t.act = last ? g.act : GemmArgs::kNone;
      const T* bblock = B + pc * g.rsb + jc * g.csb;
      if (packb) pack_b(NR, nc, kc, bblock, g.rsb, g.csb, bbuf);
      for (int64_t ic = 0; ic < m; ic += MC) {
        const int64_t mc = std::min(MC, m - ic);
        const T* ablock = A + ic * g.rsa + pc * g.csa;
        if (packa) pack_a(MR, mc, kc, ablock, g.rsa, g.csa, abuf);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          t.nr = int(std::min<int64_t>(NR, nc - jr));
          // A packed panel is zero padded to NR columns: no masked loads needed.
          const bool edge = !packb && t.nr < NR;
          if (packb) {
            t.b = bbuf + jr * kc, t.bks = NR;
          } else {
            t.b = bblock + jr, t.bks = g.rsb;
          }
          for (int64_t ir = 0; ir < mc; ir += MR) {
            t.mr = int(std::min<int64_t>(MR, mc - ir));
            const auto fn = K.pick(t.mr, t.nr, edge);
            if (packa) {
              t.a = abuf + ir * kc, t.ars = 1, t.aks = MR;
            } else {
              t.a = ablock + ir * g.rsa, t.ars = g.rsa, t.aks = g.csa;
            }
            t.c = C + (ic + ir) * g.rsc + (jc + jr) * g.csc;
            t.bias = last && g.bias ? static_cast<const T*>(g.bias) + jc + jr : nullptr;
            fn(t);
          }
        }
      }
    }
  }
}

// Splits C into a pm x pn grid (one block per thread, rows in multiples of MR, columns in
// multiples of NR) minimising the padded compute plus the packing each thread does.
inline void thread_grid(int nt, int64_t m, int64_t n, int64_t k, int mr, int nr, int& pm,
                        int& pn) {
  double best = -1;
  for (int cn = 1; cn <= nt; ++cn) {
    if (nt % cn) continue;
    const int cm = nt / cn;
    const int64_t rows = ((m + cm - 1) / cm + mr - 1) / mr * mr;
    const int64_t cols = ((n + cn - 1) / cn + nr - 1) / nr * nr;
    const double cost = double(rows) * double(cols) * double(k) +
                        8.0 * double(k) * double(rows + cols);
    if (best < 0 || cost < best) best = cost, pm = cm, pn = cn;
  }
}

template <typename T>
void gemm_blocked(const GemmArgs& g, T alpha, T beta) {
  const int64_t m = g.m, n = g.n, k = g.k;
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == T(0)) {
    scale_c(g, beta);
    return epilogue_pass<T>(g);
  }
  const T* A = static_cast<const T*>(g.a);
  const T* B = static_cast<const T*>(g.b);
  T* C = static_cast<T*>(g.c);
  if ((n == 1 && gemv(m, k, A, g.rsa, g.csa, B, g.rsb, C, g.rsc, alpha, beta)) ||
      (m == 1 && gemv(n, k, B, g.csb, g.rsb, A, g.csa, C, g.csc, alpha, beta)))
    return epilogue_pass<T>(g);

  const Kernel<T>& K = select_kernel<T>();
  const double macs = double(m) * double(n) * double(k);
  int nt = 1;
#ifdef _OPENMP
  if (macs >= kParallelGemmMacs && !omp_in_parallel()) nt = std::max(1, get_num_threads());
#endif
  if (nt == 1) return gemm_serial(K, g, alpha, beta);
  int pm = 1, pn = 1;
  thread_grid(nt, m, n, k, K.mr, K.nr, pm, pn);
  const int64_t rows = ((m + pm - 1) / pm + K.mr - 1) / K.mr * K.mr;
  const int64_t cols = ((n + pn - 1) / pn + K.nr - 1) / K.nr * K.nr;
  parallel_for(0, int64_t(pm) * pn, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t i0 = (t / pn) * rows, j0 = (t % pn) * cols;
      if (i0 >= m || j0 >= n) continue;
      GemmArgs s = g;
      s.m = std::min(rows, m - i0), s.n = std::min(cols, n - j0);
      s.a = A + i0 * g.rsa;
      s.b = B + j0 * g.csb;
      s.c = C + i0 * g.rsc + j0 * g.csc;
      if (g.bias) s.bias = static_cast<const T*>(g.bias) + j0;
      gemm_serial(K, s, alpha, beta);
    }
  });
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
      epilogue_pass<T>(g);
    }
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
