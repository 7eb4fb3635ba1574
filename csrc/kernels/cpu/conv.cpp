// Convolution as implicit GEMM: per image, group and block of output positions, an im2col
// panel in a per-thread buffer (L2-sized) feeds one call of the blocked GEMM kernel of the same
// arch (see conv.h for the layout of the three maps).
#include "kernels/cpu/conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu/gemm.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

int64_t floor_div(int64_t a, int64_t b) {  // b > 0
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// The part [lo, hi) of output columns ow in [ow0, ow1) whose input column ow*sw + off is in
// [0, W); lo == hi when none is.
void valid_cols(int64_t ow0, int64_t ow1, int64_t off, int64_t sw, int64_t W, int64_t& lo,
                int64_t& hi) {
  lo = std::max(ow0, ceil_div(-off, sw));
  hi = std::min(ow1, floor_div(W - 1 - off, sw) + 1);
  if (hi < lo) lo = hi = ow0;
}

// Walks the panel rows (c, ki, kj) of `channels` channels and output positions [l0, l1):
// run(panel offset, input row offset or -1 (a padding row), ow0, n, off, lo, hi) per run of
// one output row; [lo, hi) are the output columns whose input column ow*sw + off is inside.
// For every (row r, position l): panel[r * ld + l - l0] <-> x[c][ih][iw].
template <typename Run>
void walk_panel(const ConvGeometry& g, int64_t channels, int64_t l0, int64_t l1, int64_t ld,
                const Run& run) {
  const int64_t H = g.H, W = g.W, OW = g.OW;
  const int64_t oh_first = l0 / OW, ow_first = l0 - oh_first * OW;
  int64_t row = 0;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t ki = 0; ki < g.KH; ++ki) {
      for (int64_t kj = 0; kj < g.KW; ++kj, ++row) {
        const int64_t off = kj * g.dw - g.pw;
        int64_t vlo, vhi;  // valid columns of a whole output row (independent of oh)
        valid_cols(0, OW, off, g.sw, W, vlo, vhi);
        int64_t oh = oh_first, ow0 = ow_first;
        for (int64_t l = l0; l < l1; ++oh, ow0 = 0) {
          const int64_t n = std::min(OW - ow0, l1 - l);
          const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
          const int64_t src = (ih < 0 || ih >= H) ? -1 : (c * H + ih) * W;
          int64_t lo = std::max(vlo, ow0), hi = std::min(vhi, ow0 + n);
          if (hi < lo) lo = hi = ow0;
          run(row * ld + (l - l0), src, ow0, n, off, lo, hi);
          l += n;
        }
      }
    }
  }
}

// panel (channels*KH*KW rows of stride ld) <- x (channels, H, W) at positions [l0, l1).
template <typename T>
void im2col_block(const ConvGeometry& g, const T* x, int64_t channels, int64_t l0, int64_t l1,
                  T* panel, int64_t ld) {
  const int64_t sw = g.sw;
  walk_panel(g, channels, l0, l1, ld, [&](int64_t p, int64_t src, int64_t ow0, int64_t n,
                                          int64_t off, int64_t lo, int64_t hi) {
    T* d = panel + p;
    if (src < 0) {
      std::fill(d, d + n, T(0));
      return;
    }
    const T* s = x + src;
    std::fill(d, d + (lo - ow0), T(0));
    if (sw == 1) {
      if (hi > lo) std::memcpy(d + (lo - ow0), s + lo + off, sizeof(T) * size_t(hi - lo));
    } else {
      for (int64_t ow = lo; ow < hi; ++ow) d[ow - ow0] = s[ow * sw + off];
    }
    std::fill(d + (hi - ow0), d + n, T(0));
  });
}

// x (channels, H, W) += panel (the adjoint of im2col_block).
template <typename T>
void col2im_block(const ConvGeometry& g, const T* panel, int64_t channels, int64_t l0, int64_t l1,
                  int64_t ld, T* x) {
  const int64_t sw = g.sw;
  walk_panel(g, channels, l0, l1, ld, [&](int64_t p, int64_t src, int64_t ow0, int64_t n,
                                          int64_t off, int64_t lo, int64_t hi) {
    if (src < 0) return;
    const T* d = panel + p;
    T* s = x + src;
    if (sw == 1) {
      for (int64_t ow = lo; ow < hi; ++ow) s[ow + off] += d[ow - ow0];
    } else {
      for (int64_t ow = lo; ow < hi; ++ow) s[ow * sw + off] += d[ow - ow0];
    }
  });
}

// C (m x n, row stride ldc) += A (m x k) B^T with A and B both k-contiguous (rows lda, ldb
// apart): the weight gradient's product, where both operands run along the output positions.
// Register blocks of MB x NB dot products in 32-byte vectors (GCC vector extensions: one AVX2
// register, or two SSE registers in the portable build).
template <typename T>
void gemm_nt(int64_t m, int64_t n, int64_t k, const T* A, int64_t lda, const T* B, int64_t ldb,
             T* C, int64_t ldc) {
  typedef T V __attribute__((vector_size(32)));
  constexpr int MB = 4, NB = 3, VL = int(sizeof(V) / sizeof(T));
  auto load = [](V& v, const T* p) { std::memcpy(&v, p, sizeof(V)); };
  for (int64_t i0 = 0; i0 < m; i0 += MB) {
    const int mb = int(std::min<int64_t>(MB, m - i0));
    const T* a[MB];
    for (int i = 0; i < MB; ++i) a[i] = A + (i0 + std::min(i, mb - 1)) * lda;
    for (int64_t j0 = 0; j0 < n; j0 += NB) {
      const int nb = int(std::min<int64_t>(NB, n - j0));
      const T* b[NB];
      for (int j = 0; j < NB; ++j) b[j] = B + (j0 + std::min(j, nb - 1)) * ldb;
      V acc[MB][NB];
#pragma GCC unroll 16
      for (int i = 0; i < MB; ++i)
#pragma GCC unroll 16
        for (int j = 0; j < NB; ++j) acc[i][j] = V{};
      int64_t p = 0;
      for (; p + VL <= k; p += VL) {
        V vb[NB];
#pragma GCC unroll 16
        for (int j = 0; j < NB; ++j) load(vb[j], b[j] + p);
#pragma GCC unroll 16
        for (int i = 0; i < MB; ++i) {
          V va;
          load(va, a[i] + p);
#pragma GCC unroll 16
          for (int j = 0; j < NB; ++j) acc[i][j] += va * vb[j];
        }
      }
      for (int i = 0; i < mb; ++i) {
        for (int j = 0; j < nb; ++j) {
          T sum = 0;
          for (int v = 0; v < VL; ++v) sum += acc[i][j][v];
          for (int64_t q = p; q < k; ++q) sum += a[i][q] * b[j][q];
          C[(i0 + i) * ldc + j0 + j] += sum;
        }
      }
    }
  }
}

template <typename T> T* scratch(size_t n) {
  static thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// The layout shared by the three maps.
struct Plan {
  int64_t Cg, Og, K, CgK, L, HW, lb, ld;  // lb columns per panel block, ld its row stride
  bool direct;  // 1x1, stride 1, no padding: the image is its own panel
};

template <typename T>
Plan make_plan(const ConvGeometry& g) {
  Plan p;
  p.Cg = g.C / g.groups, p.Og = g.O / g.groups;
  p.K = g.KH * g.KW, p.CgK = p.Cg * p.K;
  p.L = g.OH * g.OW, p.HW = g.H * g.W;
  p.direct = p.K == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.OH == g.H &&
             g.OW == g.W;
  // Panels of about 256 KiB (in L2 beside the GEMM's packed blocks), at least 64 columns.
  const int64_t target = (int64_t(1) << 18) / int64_t(sizeof(T));
  p.lb = p.direct ? p.L : std::min(p.L, std::max<int64_t>(64, target / std::max<int64_t>(1, p.CgK)));
  // Panel rows a little longer than a multiple of 64 bytes: rows a power of two apart (1024
  // floats = 4 KiB) would all fall into the same L1 set while the GEMM walks down a column.
  constexpr int64_t kLine = 64 / int64_t(sizeof(T));
  p.ld = (p.lb + kLine - 1) / kLine * kLine + kLine;
  return p;
}

// Runs f(n) for every image: spread over threads when there are enough images (the GEMMs
// inside then run on one thread each), else in turn (each GEMM then uses every thread).
template <typename F>
void for_images(int64_t N, double macs_per_image, const F& f) {
  const int nt = get_num_threads();
  if (nt > 1 && N >= nt) {
    const int64_t grain = std::max<int64_t>(1, int64_t(double(1 << 18) / std::max(1.0, macs_per_image)));
    parallel_for(0, N, grain, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) f(n);
    });
  } else {
    for (int64_t n = 0; n < N; ++n) f(n);
  }
}

void gemm(DType dt, int64_t m, int64_t n, int64_t k, const void* a, int64_t rsa, int64_t csa,
          const void* b, int64_t rsb, int64_t csb, void* c, int64_t rsc, bool accumulate) {
  GemmArgs ga;
  ga.m = m, ga.n = n, ga.k = k;
  ga.a = a, ga.rsa = rsa, ga.csa = csa;
  ga.b = b, ga.rsb = rsb, ga.csb = csb;
  ga.c = c, ga.rsc = rsc, ga.csc = 1;
  gemm_kernel(dt, ga, Scalar::from_int(1), Scalar::from_int(accumulate ? 1 : 0));
}

template <typename T>
void forward(DType dt, const ConvGeometry& g, const ConvBuffers& buf) {
  const Plan p = make_plan<T>(g);
  const T* x = static_cast<const T*>(buf.x);
  const T* w = static_cast<const T*>(buf.w);
  const T* b = static_cast<const T*>(buf.b);
  T* y = static_cast<T*>(buf.out);
  for_images(g.N, double(g.O) * double(p.CgK) * double(p.L), [&](int64_t n) {
    T* panel = p.direct ? nullptr : scratch<T>(size_t(p.CgK * p.ld));
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const T* xg = x + (n * g.C + gi * p.Cg) * p.HW;
      const T* wg = w + gi * p.Og * p.CgK;
      T* yg = y + (n * g.O + gi * p.Og) * p.L;
      for (int64_t l0 = 0; l0 < p.L; l0 += p.lb) {
        const int64_t l1 = std::min(p.L, l0 + p.lb), nb = l1 - l0;
        const T* bp = xg + l0;
        int64_t ld = p.L;
        if (!p.direct) {
          im2col_block(g, xg, p.Cg, l0, l1, panel, p.ld);
          bp = panel, ld = p.ld;
        }
        gemm(dt, p.Og, nb, p.CgK, wg, p.CgK, 1, bp, ld, 1, yg + l0, p.L, false);
        if (b) {
          for (int64_t o = 0; o < p.Og; ++o) {
            const T bo = b[gi * p.Og + o];
            T* r = yg + o * p.L + l0;
            for (int64_t j = 0; j < nb; ++j) r[j] += bo;
          }
        }
      }
    }
  });
}

template <typename T>
void input_grad(DType dt, const ConvGeometry& g, const ConvBuffers& buf) {
  const Plan p = make_plan<T>(g);
  const T* gy = static_cast<const T*>(buf.y);
  const T* w = static_cast<const T*>(buf.w);
  const T* b = static_cast<const T*>(buf.b);
  T* dx = static_cast<T*>(buf.out);
  for_images(g.N, double(g.O) * double(p.CgK) * double(p.L), [&](int64_t n) {
    T* img = dx + n * g.C * p.HW;
    if (!p.direct) std::fill(img, img + g.C * p.HW, T(0));
    T* panel = p.direct ? nullptr : scratch<T>(size_t(p.CgK * p.ld));
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      T* xg = img + gi * p.Cg * p.HW;
      const T* wg = w + gi * p.Og * p.CgK;
      const T* yg = gy + (n * g.O + gi * p.Og) * p.L;
      if (p.direct) {  // dx_g (Cg x HW) = w_g^T (Cg x Og) @ gy_g (Og x HW)
        gemm(dt, p.Cg, p.L, p.Og, wg, 1, p.CgK, yg, p.L, 1, xg, p.L, false);
        continue;
      }
      for (int64_t l0 = 0; l0 < p.L; l0 += p.lb) {
        const int64_t l1 = std::min(p.L, l0 + p.lb), nb = l1 - l0;
        gemm(dt, p.CgK, nb, p.Og, wg, 1, p.CgK, yg + l0, p.L, 1, panel, p.ld, false);
        col2im_block(g, panel, p.Cg, l0, l1, p.ld, xg);
      }
    }
    if (b) {
      for (int64_t c = 0; c < g.C; ++c) {
        T* r = img + c * p.HW;
        for (int64_t j = 0; j < p.HW; ++j) r[j] += b[c];
      }
    }
  });
}

template <typename T>
void weight_grad(DType dt, const ConvGeometry& g, const ConvBuffers& buf) {
  const Plan p = make_plan<T>(g);
  const T* x = static_cast<const T*>(buf.x);
  const T* gy = static_cast<const T*>(buf.y);
  T* dw = static_cast<T*>(buf.out);
  const int64_t wn = g.O * p.CgK;
  std::fill(dw, dw + wn, T(0));
  // One accumulator per chunk of images (chunk 0 writes the result), summed at the end.
  const double macs = double(g.O) * double(p.CgK) * double(p.L);
  int64_t chunks = 1;
  const int nt = get_num_threads();
  if (nt > 1 && g.N >= nt && macs * double(g.N) >= double(1 << 18)) chunks = nt;
  // at most ~64 MiB of extra accumulators (big weights and many threads)
  const int64_t cap = 1 + (int64_t(1) << 26) / std::max<int64_t>(1, wn * int64_t(sizeof(T)));
  chunks = std::min(chunks, cap);
  std::vector<std::vector<T>> extra(size_t(chunks - 1), std::vector<T>(size_t(wn), T(0)));
  auto run_chunk = [&](int64_t ck) {
    T* acc = ck == 0 ? dw : extra[size_t(ck - 1)].data();
    T* panel = p.direct ? nullptr : scratch<T>(size_t(p.CgK * p.ld));
    const int64_t n0 = g.N * ck / chunks, n1 = g.N * (ck + 1) / chunks;
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const T* xg = x + (n * g.C + gi * p.Cg) * p.HW;
        const T* yg = gy + (n * g.O + gi * p.Og) * p.L;
        T* ag = acc + gi * p.Og * p.CgK;
        for (int64_t l0 = 0; l0 < p.L; l0 += p.lb) {
          const int64_t l1 = std::min(p.L, l0 + p.lb), nb = l1 - l0;
          const T* bp = xg + l0;
          int64_t ld = p.L;
          if (!p.direct) {
            im2col_block(g, xg, p.Cg, l0, l1, panel, p.ld);
            bp = panel, ld = p.ld;
          }
          // acc_g (Og x CgK) += gy block (Og x nb) @ panel^T (nb x CgK); with one chunk (few
          // images), the rows of acc_g are spread over the threads instead
          const double work = double(p.Og) * double(p.CgK) * double(nb);
          const int64_t row_grain = chunks == 1 && work >= double(1 << 18) ? 4 : p.Og;
          parallel_for(0, p.Og, row_grain, [&](int64_t r0, int64_t r1) {
            gemm_nt(r1 - r0, p.CgK, nb, yg + r0 * p.L + l0, p.L, bp, ld, ag + r0 * p.CgK, p.CgK);
          });
        }
      }
    }
  };
  if (chunks == 1) {
    run_chunk(0);
    return;
  }
  parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t ck = b; ck < e; ++ck) run_chunk(ck);
  });
  for (const auto& e : extra)
    for (int64_t i = 0; i < wn; ++i) dw[i] += e[size_t(i)];
}

template <typename T>
void unfold(const ConvGeometry& g, const T* x, T* col) {
  const int64_t K = g.KH * g.KW, L = g.OH * g.OW, HW = g.H * g.W;
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, K * L));
  parallel_for(0, g.N * g.C, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) im2col_block(g, x + i * HW, 1, 0, L, col + i * K * L, L);
  });
}

template <typename T>
void fold(const ConvGeometry& g, const T* col, T* x) {
  const int64_t K = g.KH * g.KW, L = g.OH * g.OW, HW = g.H * g.W;
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, K * L));
  parallel_for(0, g.N * g.C, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      std::fill(x + i * HW, x + (i + 1) * HW, T(0));
      col2im_block(g, col + i * K * L, 1, 0, L, L, x + i * HW);
    }
  });
}

}  // namespace

void conv2d_forward_kernel(DType dtype, const ConvGeometry& g, const ConvBuffers& buf) {
  dispatch_floating(dtype, "conv2d", [&](auto tag) { forward<typename decltype(tag)::type>(dtype, g, buf); });
}

void conv2d_input_grad_kernel(DType dtype, const ConvGeometry& g, const ConvBuffers& buf) {
  dispatch_floating(dtype, "conv2d", [&](auto tag) { input_grad<typename decltype(tag)::type>(dtype, g, buf); });
}

void conv2d_weight_grad_kernel(DType dtype, const ConvGeometry& g, const ConvBuffers& buf) {
  dispatch_floating(dtype, "conv2d", [&](auto tag) { weight_grad<typename decltype(tag)::type>(dtype, g, buf); });
}

void im2col_kernel(DType dtype, const ConvGeometry& g, const void* x, void* col) {
  dispatch_floating(dtype, "unfold", [&](auto tag) {
    using T = typename decltype(tag)::type;
    unfold<T>(g, static_cast<const T*>(x), static_cast<T*>(col));
  });
}

void col2im_kernel(DType dtype, const ConvGeometry& g, const void* col, void* x) {
  dispatch_floating(dtype, "fold", [&](auto tag) {
    using T = typename decltype(tag)::type;
    fold<T>(g, static_cast<const T*>(col), static_cast<T*>(x));
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
