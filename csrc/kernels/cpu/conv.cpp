// Convolution kernels (see conv.h for the three maps): stride-1 maps on direct kernels
// (conv_direct.inc: padded planes read through a table of row offsets, no im2col), everything
// else as implicit GEMM: per image, group and block of output positions, an im2col panel in a
// per-thread buffer (L2-sized) feeds one call of the blocked GEMM kernel of the same arch.
#include "kernels/cpu/conv.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/simd_vec.h"

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

// Per-thread buffers kept between calls: 0 holds im2col panels or padded sources, 1 the
// flattened output gradient of the direct weight gradient.
template <typename T> T* scratch(int which, size_t n) {
  static thread_local std::vector<T> buf[2];
  if (buf[which].size() < n) buf[which].resize(n);
  return buf[which].data();
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

// ---- direct stride-1 convolution (conv_direct.inc) -----------------------------------------
// Every stride-1 map is a correlation of zero-padded source planes: the forward of x with w,
// the input gradient of the output gradient with w flipped and transposed (leading padding
// (K - 1) * d - p), and the weight gradient of x with the output gradient. B images sit side by
// side in the padded planes (row i of P holds row i of each image, Wp apart), so that flat
// tiles of positions run on from one image into the next instead of wasting a partial tile
// at the end of every small image.
struct DirectGeom {
  int64_t Csrc = 0, Hs = 0, Ws = 0;   // source planes (of one group)
  int64_t ph = 0, pw = 0;             // leading padding of the source (negative: cropped)
  int64_t KH = 1, KW = 1, dh = 1, dw = 1;
  int64_t OH = 0, OW = 0;             // output positions
  int64_t Hp = 0, Wp = 0;             // padded planes: Hp = OH + (KH - 1) dh, Wp likewise
  int64_t B = 1, Wr = 0, plane = 0;   // images side by side, row stride B * Wp, Hp * Wr
  int64_t ystride = 0;                // output elements from one image to the next
  int64_t Lf = 0;                     // flat positions up to the last output
};
// Zeros after the padded planes: a tile reads up to this far past the last flat position.
constexpr int64_t kSlack = 64;

// d with B images side by side, outputs ystride apart.
DirectGeom batched(DirectGeom d, int64_t B, int64_t ystride) {
  d.B = B, d.Wr = B * d.Wp, d.plane = d.Hp * d.Wr, d.ystride = ystride;
  d.Lf = ((d.OH - 1) * B + B - 1) * d.Wp + d.OW;
  return d;
}

DirectGeom direct_geom(const ConvGeometry& g, int64_t Csrc, int64_t Hs, int64_t Ws, int64_t ph,
                       int64_t pw, int64_t OH, int64_t OW) {
  DirectGeom d;
  d.Csrc = Csrc, d.Hs = Hs, d.Ws = Ws, d.ph = ph, d.pw = pw;
  d.KH = g.KH, d.KW = g.KW, d.dh = g.dh, d.dw = g.dw;
  d.OH = OH, d.OW = OW;
  d.Hp = OH + (g.KH - 1) * g.dh, d.Wp = OW + (g.KW - 1) * g.dw;
  return batched(d, 1, 0);
}

// The A operand (m rows x `rows`) in register blocks of at most max_rows rows, sizes balanced.
template <typename T> struct PackedRows {
  struct Block {
    int64_t row0;
    int mr;
    size_t offset;  // data[offset + r * mr + i] = A[row0 + i][r]
  };
  int64_t rows = 0;
  std::vector<Block> blocks;
  std::vector<T> data;
};

template <typename T, typename F>
PackedRows<T> pack_rows(int64_t m, int64_t rows, int max_rows, const F& elem) {
  PackedRows<T> A;
  A.rows = rows;
  A.data.resize(size_t(m * rows));
  const int64_t nb = (m + max_rows - 1) / max_rows;
  int64_t row0 = 0;
  size_t offset = 0;
  for (int64_t b = 0; b < nb; ++b) {
    const int mr = int((m - row0 + (nb - b) - 1) / (nb - b));
    T* dst = A.data.data() + offset;
    for (int64_t r = 0; r < rows; ++r)
      for (int i = 0; i < mr; ++i) dst[r * mr + i] = elem(row0 + i, r);
    A.blocks.push_back({row0, mr, offset});
    offset += size_t(mr * rows), row0 += mr;
  }
  return A;
}

// off[r] for the product rows r = (c, ki, kj) of the padded source.
std::vector<int64_t> row_offsets(const DirectGeom& d) {
  std::vector<int64_t> off;
  off.reserve(size_t(d.Csrc * d.KH * d.KW));
  for (int64_t c = 0; c < d.Csrc; ++c)
    for (int64_t ki = 0; ki < d.KH; ++ki)
      for (int64_t kj = 0; kj < d.KW; ++kj) off.push_back(c * d.plane + ki * d.dh * d.Wr + kj * d.dw);
  return off;
}

// P (Csrc x Hp x B x Wp, then kSlack zeros) <- the source planes (Csrc x Hs x Ws) of B images
// (src_image elements apart), zero padded.
template <typename T>
void pad_source(const DirectGeom& d, const T* s, int64_t src_image, T* P) {
  const int64_t j0 = std::clamp<int64_t>(d.pw, 0, d.Wp), j1 = std::clamp<int64_t>(d.pw + d.Ws, 0, d.Wp);
  for (int64_t c = 0; c < d.Csrc; ++c) {
    for (int64_t i = 0; i < d.Hp; ++i) {
      T* row = P + c * d.plane + i * d.Wr;
      const int64_t si = i - d.ph;
      if (si < 0 || si >= d.Hs || j1 <= j0) {
        std::fill(row, row + d.Wr, T(0));
        continue;
      }
      for (int64_t b = 0; b < d.B; ++b, row += d.Wp) {
        std::fill(row, row + j0, T(0));
        std::memcpy(row + j0, s + b * src_image + (c * d.Hs + si) * d.Ws + (j0 - d.pw),
                    sizeof(T) * size_t(j1 - j0));
        std::fill(row + j1, row + d.Wp, T(0));
      }
    }
  }
  std::fill(P + d.Csrc * d.plane, P + d.Csrc * d.plane + kSlack, T(0));
}

// G (m rows of ldg >= Lf) <- y (m x OH x OW) at the flat positions (of a one-image geometry),
// zeros elsewhere.
template <typename T>
void flatten_rows(const DirectGeom& d, const T* y, int64_t m, T* G, int64_t ldg) {
  for (int64_t o = 0; o < m; ++o) {
    T* gr = G + o * ldg;
    const T* yr = y + o * d.OH * d.OW;
    for (int64_t oh = 0; oh < d.OH; ++oh) {
      std::memcpy(gr + oh * d.Wp, yr + oh * d.OW, sizeof(T) * size_t(d.OW));
      const int64_t gap_end = std::min((oh + 1) * d.Wp, ldg);
      std::fill(gr + oh * d.Wp + d.OW, gr + gap_end, T(0));
    }
    std::fill(gr + d.Lf, gr + ldg, T(0));
  }
}

// The micro-kernels of one (instruction set, dtype).
template <typename T> struct DirectKernels {
  int max_rows = 0, lanes = 0, grad_rows = 0, grad_cols = 0;
  void (*correlate)(const DirectGeom&, const PackedRows<T>&, const int64_t*, const T*, int64_t,
                    int64_t, T*, int64_t, const T*) = nullptr;
  void (*weight_grad_tiles)(const T* const*, const T* const*, int64_t, int64_t, const int64_t*,
                            int64_t, int64_t, int64_t, T*, int64_t, int64_t, int64_t) = nullptr;
};

#if defined(TGX_SIMD_AVX2)
#define TGX_DIRECT_CONV 1
namespace dk_avx2_f {
using W = simd::Avx2F;
#include "kernels/cpu/conv_direct.inc"
}  // namespace dk_avx2_f
namespace dk_avx2_d {
using W = simd::Avx2D;
#include "kernels/cpu/conv_direct.inc"
}  // namespace dk_avx2_d
#if defined(TGX_SIMD_AVX512)
#pragma GCC push_options
#pragma GCC target("avx512f")
namespace dk_avx512_f {
using W = simd::Avx512F;
#include "kernels/cpu/conv_direct.inc"
}  // namespace dk_avx512_f
namespace dk_avx512_d {
using W = simd::Avx512D;
#include "kernels/cpu/conv_direct.inc"
}  // namespace dk_avx512_d
#pragma GCC pop_options
#endif

#define TGX_DIRECT_KERNELS(ns)                                                        \
  [] {                                                                                \
    DirectKernels<typename ns::W::T> k;                                               \
    k.max_rows = ns::kMaxRows, k.lanes = ns::L;                                       \
    k.grad_rows = ns::kGradRows, k.grad_cols = ns::kGradCols;                         \
    k.correlate = &ns::correlate, k.weight_grad_tiles = &ns::weight_grad_tiles;       \
    return k;                                                                         \
  }()
#endif

// The direct kernels for T on this CPU, or null (portable build: im2col + GEMM instead).
template <typename T>
const DirectKernels<T>* direct_kernels() {
#if defined(TGX_DIRECT_CONV)
  constexpr bool f32 = std::is_same_v<T, float>;
  static const DirectKernels<T> k = [] {
#if defined(TGX_SIMD_AVX512)
    if (avx512_enabled()) {
      if constexpr (f32) return TGX_DIRECT_KERNELS(dk_avx512_f);
      else return TGX_DIRECT_KERNELS(dk_avx512_d);
    }
#endif
    if constexpr (f32) return TGX_DIRECT_KERNELS(dk_avx2_f);
    else return TGX_DIRECT_KERNELS(dk_avx2_d);
  }();
  return &k;
#else
  return nullptr;
#endif
}

// Whether a map with this geometry runs direct: stride 1, and at least half of the flat
// positions are outputs (else im2col's GEMM wastes less), and padded planes of a sane size
// (huge paddings take the im2col path, which never pads). 1x1 kernels without padding are
// plain GEMMs on the image and stay on that path.
bool direct_fits(const ConvGeometry& g, const Plan& p, const DirectGeom& d) {
  return !p.direct && g.sh == 1 && g.sw == 1 && d.OH > 0 && d.OW > 0 && 2 * d.OW >= d.Wp &&
         double(d.Csrc) * double(d.Hp) * double(d.Wp) <= double(int64_t(1) << 24);
}

// Whether every element is finite. The direct kernels also multiply zeros (padding, dropped
// columns) into products the definition leaves out: 0 * inf would put nan where the result is
// finite, so inputs holding inf or nan take the im2col path (which forms only real products).
template <typename T>
bool all_finite(const T* p, int64_t n) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr U kExp = sizeof(T) == 4 ? U(0x7f800000u) : U(0x7ff0000000000000ull);
  U bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    U b;
    std::memcpy(&b, p + i, sizeof(T));
    bad |= U((b & kExp) == kExp);
  }
  return bad == 0;
}

// out (per image and group: the packed rows' m output planes) = the correlation of the padded
// source planes with A[group] (+ bias). With enough images, each thread takes its share in
// batches of up to B side by side; else each batch's positions are split over the threads.
template <typename T>
void correlate_images(const DirectKernels<T>& K, const DirectGeom& d1, int64_t N,
                      const std::vector<PackedRows<T>>& A, const T* src, int64_t src_group,
                      T* out, int64_t out_group, const T* bias, int64_t bias_group) {
  const int64_t groups = int64_t(A.size());
  const int64_t src_image = groups * src_group, out_image = groups * out_group;
  const int64_t ldy = d1.OH * d1.OW, m = out_group / ldy;
  const int nt = get_num_threads();
  const bool by_image = nt > 1 && N >= nt;
  // images per batch: padded planes of at most ~256 KiB (they are read once per row block)
  const int64_t per_image = d1.Csrc * d1.plane;
  int64_t B = std::clamp<int64_t>((int64_t(1) << 16) / std::max<int64_t>(1, per_image), 1, 64);
  B = std::min(B, by_image ? (N + nt - 1) / nt : N);
  std::vector<int64_t> off;  // for batches of B images; a shorter last batch gets its own
  int64_t off_B = 0;
  auto run = [&](int64_t n0, int64_t nb, T* P, bool split) {
    const DirectGeom d = batched(d1, nb, out_image);
    std::vector<int64_t> own;
    const int64_t* o = off.data();
    if (nb != off_B) own = row_offsets(d), o = own.data();
    const double macs = double(m) * double(A[0].rows) * double(ldy * nb);
    const int64_t grain = split ? std::max<int64_t>(64, int64_t(double(d.Lf) * double(1 << 18) / std::max(1.0, macs)))
                                : d.Lf;
    for (int64_t gi = 0; gi < groups; ++gi) {
      pad_source(d, src + n0 * src_image + gi * src_group, src_image, P);
      parallel_for(0, d.Lf, grain, [&](int64_t p0, int64_t p1) {
        K.correlate(d, A[size_t(gi)], o, P, p0, p1, out + n0 * out_image + gi * out_group, ldy,
                    bias ? bias + gi * bias_group : nullptr);
      });
    }
  };
  off = row_offsets(batched(d1, B, out_image)), off_B = B;
  const size_t psize = size_t(B * per_image + kSlack);
  if (by_image) {
    parallel_for(0, N, 1, [&](int64_t n0, int64_t n1) {
      T* P = scratch<T>(0, psize);
      for (int64_t n = n0; n < n1; n += B) run(n, std::min(B, n1 - n), P, false);
    });
    return;
  }
  std::vector<T> P(psize);
  for (int64_t n = 0; n < N; n += B) run(n, std::min(B, N - n), P.data(), true);
}

template <typename T>
bool forward_direct(const ConvGeometry& g, const Plan& p, const ConvBuffers& buf) {
  const DirectKernels<T>* K = direct_kernels<T>();
  const DirectGeom d = direct_geom(g, p.Cg, g.H, g.W, g.ph, g.pw, g.OH, g.OW);
  if (!K || !direct_fits(g, p, d)) return false;
  const T* w = static_cast<const T*>(buf.w);
  std::vector<PackedRows<T>> A;
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    const T* wg = w + gi * p.Og * p.CgK;
    A.push_back(pack_rows<T>(p.Og, p.CgK, K->max_rows,
                             [&](int64_t o, int64_t r) { return wg[o * p.CgK + r]; }));
  }
  correlate_images(*K, d, g.N, A, static_cast<const T*>(buf.x), p.Cg * p.HW,
                   static_cast<T*>(buf.out), p.Og * p.L, static_cast<const T*>(buf.b), p.Og);
  return true;
}

// dx = the correlation of gy, padded by (K - 1) * d - p in front, with the flipped weight
// transposed (rows c, columns (o, ki, kj)).
template <typename T>
bool input_grad_direct(const ConvGeometry& g, const Plan& p, const ConvBuffers& buf) {
  const DirectKernels<T>* K = direct_kernels<T>();
  const DirectGeom d = direct_geom(g, p.Og, g.OH, g.OW, (g.KH - 1) * g.dh - g.ph,
                                   (g.KW - 1) * g.dw - g.pw, g.H, g.W);
  const T* w = static_cast<const T*>(buf.w);
  if (!K || !direct_fits(g, p, d) || !all_finite(w, g.O * p.CgK)) return false;
  std::vector<PackedRows<T>> A;
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    const T* wg = w + gi * p.Og * p.CgK;
    A.push_back(pack_rows<T>(p.Cg, p.Og * p.K, K->max_rows, [&](int64_t c, int64_t r) {
      const int64_t o = r / p.K, k = r % p.K;  // k = ki * KW + kj, read flipped
      return wg[(o * p.Cg + c) * p.K + (p.K - 1 - k)];
    }));
  }
  correlate_images(*K, d, g.N, A, static_cast<const T*>(buf.y), p.Og * p.L,
                   static_cast<T*>(buf.out), p.Cg * p.HW, static_cast<const T*>(buf.b), p.Cg);
  return true;
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
  if (forward_direct<T>(g, p, buf)) return;
  const T* x = static_cast<const T*>(buf.x);
  const T* w = static_cast<const T*>(buf.w);
  const T* b = static_cast<const T*>(buf.b);
  T* y = static_cast<T*>(buf.out);
  for_images(g.N, double(g.O) * double(p.CgK) * double(p.L), [&](int64_t n) {
    T* panel = p.direct ? nullptr : scratch<T>(0, size_t(p.CgK * p.ld));
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
  if (input_grad_direct<T>(g, p, buf)) return;
  const T* gy = static_cast<const T*>(buf.y);
  const T* w = static_cast<const T*>(buf.w);
  const T* b = static_cast<const T*>(buf.b);
  T* dx = static_cast<T*>(buf.out);
  for_images(g.N, double(g.O) * double(p.CgK) * double(p.L), [&](int64_t n) {
    T* img = dx + n * g.C * p.HW;
    if (!p.direct) std::fill(img, img + g.C * p.HW, T(0));
    T* panel = p.direct ? nullptr : scratch<T>(0, size_t(p.CgK * p.ld));
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

// dw = sum over images of per-image terms: run(n0, n1, acc, inner) adds images [n0, n1) into
// acc (zeroed, dw-sized). With enough images and work, chunks of images run on separate threads
// into their own accumulators (summed at the end, in a fixed order); else one chunk runs and
// `inner` tells it to spread each image's work over the threads itself.
template <typename T, typename F>
void sum_over_images(int64_t N, int64_t wn, double macs_per_image, T* dw, const F& run) {
  std::fill(dw, dw + wn, T(0));
  int64_t chunks = 1;
  const int nt = get_num_threads();
  if (nt > 1 && N >= nt && macs_per_image * double(N) >= double(1 << 18)) chunks = nt;
  // at most ~64 MiB of extra accumulators (big weights and many threads)
  const int64_t cap = 1 + (int64_t(1) << 26) / std::max<int64_t>(1, wn * int64_t(sizeof(T)));
  chunks = std::min(chunks, cap);
  if (chunks == 1) return run(0, N, dw, true);
  std::vector<std::vector<T>> extra(size_t(chunks - 1), std::vector<T>(size_t(wn), T(0)));
  parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t ck = b; ck < e; ++ck)
      run(N * ck / chunks, N * (ck + 1) / chunks, ck == 0 ? dw : extra[size_t(ck - 1)].data(), false);
  });
  for (const auto& e : extra)
    for (int64_t i = 0; i < wn; ++i) dw[i] += e[size_t(i)];
}

// dw_g (Og x CgK) += sum over flat positions of G (gy_g flattened) times the shifted P rows,
// for batches of images at a time (padded sources and flattened gradients side by side).
template <typename T>
bool weight_grad_direct(const ConvGeometry& g, const Plan& p, const ConvBuffers& buf) {
  const DirectKernels<T>* K = direct_kernels<T>();
  const DirectGeom d = direct_geom(g, p.Cg, g.H, g.W, g.ph, g.pw, g.OH, g.OW);
  const T* x = static_cast<const T*>(buf.x);
  const T* gy = static_cast<const T*>(buf.y);
  if (!K || !direct_fits(g, p, d) || !all_finite(x, g.N * g.C * p.HW)) return false;
  const auto off = row_offsets(d);
  const int64_t ldg = (d.Lf + K->lanes - 1) / K->lanes * K->lanes;  // within P's slack
  const int64_t psize = d.Csrc * d.plane + kSlack, gsize = p.Og * ldg;
  // images per batch: about 2048 flat positions, within ~1 MiB of buffers
  const int64_t batch = std::clamp<int64_t>(
      std::min(2048 / ldg, (int64_t(1) << 20) / int64_t(sizeof(T)) / (psize + gsize)), 1, 64);
  const int64_t tiles = (p.Og + K->grad_rows - 1) / K->grad_rows *
                        ((p.CgK + K->grad_cols - 1) / K->grad_cols);
  const double macs = double(g.O) * double(p.CgK) * double(ldg);
  sum_over_images<T>(g.N, g.O * p.CgK, macs, static_cast<T*>(buf.out),
                     [&](int64_t n0, int64_t n1, T* acc, bool inner) {
    const int64_t nb = std::min(batch, n1 - n0);
    T* Pbuf = scratch<T>(0, size_t(nb * psize));
    T* Gbuf = scratch<T>(1, size_t(nb * gsize));
    std::vector<const T*> Ps(static_cast<size_t>(nb)), Gs(static_cast<size_t>(nb));
    const bool split = inner && macs * double(nb) / double(g.groups) >= double(1 << 18);
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      T* ag = acc + gi * p.Og * p.CgK;
      for (int64_t b0 = n0; b0 < n1; b0 += nb) {
        const int64_t cnt = std::min(nb, n1 - b0);
        for (int64_t b = 0; b < cnt; ++b) {
          const int64_t n = b0 + b;
          T* P = Pbuf + b * psize;
          T* G = Gbuf + b * gsize;
          pad_source(d, x + (n * g.C + gi * p.Cg) * p.HW, 0, P);
          flatten_rows(d, gy + (n * g.O + gi * p.Og) * p.L, p.Og, G, ldg);
          Ps[size_t(b)] = P, Gs[size_t(b)] = G;
        }
        parallel_for(0, tiles, split ? 1 : tiles, [&](int64_t t0, int64_t t1) {
          K->weight_grad_tiles(Gs.data(), Ps.data(), cnt, ldg, off.data(), ldg, p.Og, p.CgK, ag,
                               p.CgK, t0, t1);
        });
      }
    }
  });
  return true;
}

template <typename T>
void weight_grad(DType dt, const ConvGeometry& g, const ConvBuffers& buf) {
  const Plan p = make_plan<T>(g);
  if (weight_grad_direct<T>(g, p, buf)) return;
  const T* x = static_cast<const T*>(buf.x);
  const T* gy = static_cast<const T*>(buf.y);
  const double macs = double(g.O) * double(p.CgK) * double(p.L);
  sum_over_images<T>(g.N, g.O * p.CgK, macs, static_cast<T*>(buf.out),
                     [&](int64_t n0, int64_t n1, T* acc, bool inner) {
    T* panel = p.direct ? nullptr : scratch<T>(0, size_t(p.CgK * p.ld));
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
          const int64_t row_grain = inner && work >= double(1 << 18) ? 4 : p.Og;
          parallel_for(0, p.Og, row_grain, [&](int64_t r0, int64_t r1) {
            gemm_nt(r1 - r0, p.CgK, nb, yg + r0 * p.L + l0, p.L, bp, ld, ag + r0 * p.CgK, p.CgK);
          });
        }
      }
    }
  });
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
