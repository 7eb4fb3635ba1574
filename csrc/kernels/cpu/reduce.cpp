// Reduction kernels over a ReduceIter. Two layouts get fast paths:
//  - horizontal: the innermost reduced dim is contiguous -> pairwise summation over the run
//    with kLanes independent accumulators (the compiler vectorises the lanes);
//  - vertical: the innermost kept dim is contiguous -> a block of up to kVecW outputs
//    accumulates input rows, four at a time (vectorised across outputs), with a cascade of
//    partial sums.
// Everything else takes the strided path. Floating sums stay accurate to a few ulps * log(n):
// pairwise within runs, a cascade (blocks of kCascade) across runs and rows.
#include "kernels/cpu/reduce.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/parallel.h"
#include "kernels/cpu/row_exp.h"
#include "kernels/cpu/simd_math.h"

// The sum maps below also take 32-byte vectors by value; they are inlined lambdas local to this
// file, so the ABI note gcc gives for the portable build does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

constexpr int kLanes = 16;         // independent accumulators of a horizontal run
constexpr int64_t kPairBase = 256;  // pairwise base case (a multiple of kLanes)
constexpr int64_t kVecW = 1024;    // outputs per vertical block at most (rows read in long runs)
constexpr int64_t kMinVecW = 32;   // ... and at least, when narrower blocks make work for threads
constexpr int64_t kColW = 32;     // columns per block of a softmax or scan over a non-last dim
constexpr int kLevels = 5;         // cascade levels; the last one is unbounded
constexpr int kCascade = 16;       // partial sums per cascade level before carrying

template <typename T>
using AccOf = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;

// Integer accumulation wraps (two's complement) instead of overflowing (undefined).
template <typename Acc> struct AddOp {
  static Acc id() { return Acc(0); }
  static Acc apply(Acc a, Acc b) {
    if constexpr (std::is_floating_point_v<Acc>) return a + b;
    else return Acc(uint64_t(a) + uint64_t(b));
  }
};
template <typename Acc> struct MulOp {
  static Acc id() { return Acc(1); }
  static Acc apply(Acc a, Acc b) {
    if constexpr (std::is_floating_point_v<Acc>) return a * b;
    else return Acc(uint64_t(a) * uint64_t(b));
  }
};

template <bool Contig, typename T> inline T load(const char* p, int64_t s, int64_t i) {
  if constexpr (Contig) return reinterpret_cast<const T*>(p)[i];
  else return *reinterpret_cast<const T*>(p + i * s);
}

// 32-byte vectors (GCC vector extensions: one AVX2 register, two SSE registers portable).
template <typename T> struct Vec32 { using type = void; };  // no vector path
template <> struct Vec32<float> { typedef float type __attribute__((vector_size(32))); };
template <> struct Vec32<double> { typedef double type __attribute__((vector_size(32))); };

// The contiguous floating sum of f(x) when f also maps whole vectors (identity, square,
// squared deviation): pairwise over blocks, four vector accumulators per block (64 sequential
// adds per lane: smaller blocks made the tree's overhead the bottleneck of a streaming sum),
// partial sums kept as vectors up the tree and summed across lanes once.
// (The result goes out through a reference: a 32-byte vector return value would change the ABI
// between the portable and the AVX2 build.)
template <typename T, typename F>
void pairwise_vec(const T* p, int64_t n, const F& f, typename Vec32<T>::type& out) {
  using V = typename Vec32<T>::type;
  constexpr int L = int(32 / sizeof(T));
  constexpr int64_t kBase = 256 * L;
  if (n <= kBase) {
    V a[4] = {};
    int64_t i = 0;
    for (; i + 4 * L <= n; i += 4 * L) {
      for (int q = 0; q < 4; ++q) {
        V x;
        std::memcpy(&x, p + i + q * L, sizeof(V));
        a[q] += f(x);
      }
    }
    for (; i + L <= n; i += L) {
      V x;
      std::memcpy(&x, p + i, sizeof(V));
      a[0] += f(x);
    }
    out = (a[0] + a[1]) + (a[2] + a[3]);
    for (int k = 0; i < n; ++i, ++k) out[k] += f(p[i]);
    return;
  }
  const int64_t h = (n / 2 + L - 1) / L * L;
  V hi;
  pairwise_vec<T>(p, h, f, out);
  pairwise_vec<T>(p + h, n - h, f, hi);
  out += hi;
}

// Pairwise reduction of n elements at p (byte stride s) of f(x).
template <bool Contig, typename T, typename Acc, typename Op, typename F>
Acc pairwise(const char* p, int64_t n, int64_t s, const F& f) {
  if constexpr (Contig && std::is_floating_point_v<T> && std::is_same_v<T, Acc> &&
                std::is_same_v<Op, AddOp<Acc>> && std::is_invocable_v<const F&, typename Vec32<T>::type>) {
    typename Vec32<T>::type v;
    pairwise_vec<T>(reinterpret_cast<const T*>(p), n, f, v);
    constexpr int L = int(32 / sizeof(T));
    for (int w = L / 2; w >= 1; w /= 2)
      for (int k = 0; k < w; ++k) v[k] += v[k + w];
    return v[0];
  }
  if (n <= kPairBase) {
    Acc a[kLanes];
    for (int k = 0; k < kLanes; ++k) a[k] = Op::id();
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int k = 0; k < kLanes; ++k) a[k] = Op::apply(a[k], f(load<Contig, T>(p, s, i + k)));
    Acc r = Op::id();
    for (; i < n; ++i) r = Op::apply(r, f(load<Contig, T>(p, s, i)));
    for (int w = kLanes / 2; w >= 1; w /= 2)
      for (int k = 0; k < w; ++k) a[k] = Op::apply(a[k], a[k + w]);
    return Op::apply(a[0], r);
  }
  int64_t h = (n / 2 + kLanes - 1) / kLanes * kLanes;
  Acc lo = pairwise<Contig, T, Acc, Op>(p, h, s, f);
  return Op::apply(lo, pairwise<Contig, T, Acc, Op>(p + h * s, n - h, s, f));
}

// Adds w partial results at a time; carries every kCascade additions to the next level.
template <typename Acc, typename Op> struct Cascade {
  Acc lv[kLevels][kVecW];
  int cnt[kLevels] = {};
  int64_t w;
  explicit Cascade(int64_t width) : w(width) {
    for (auto& l : lv)
      for (int64_t j = 0; j < w; ++j) l[j] = Op::id();
  }
  // Call after adding one partial into lv[0].
  void bump() {
    if (++cnt[0] < kCascade) return;
    cnt[0] = 0;
    for (int l = 0; l + 1 < kLevels; ++l) {
      for (int64_t j = 0; j < w; ++j) {
        lv[l + 1][j] = Op::apply(lv[l + 1][j], lv[l][j]);
        lv[l][j] = Op::id();
      }
      if (l + 1 == kLevels - 1 || ++cnt[l + 1] < kCascade) return;
      cnt[l + 1] = 0;
    }
  }
  void total(Acc* res) const {
    for (int64_t j = 0; j < w; ++j) {
      Acc t = lv[0][j];
      for (int l = 1; l < kLevels; ++l) t = Op::apply(t, lv[l][j]);
      res[j] = t;
    }
  }
};

// Runs compute(o, w, a, b, res) over groups of outputs: single outputs (horizontal) or blocks of
// up to kVecW consecutive outputs along the contiguous kept dim (vertical). Many groups:
// parallel over groups. Few groups with long reductions: each group's reduced range is split
// across threads and the partial results combined in order.
template <typename Acc, typename Compute, typename Combine, typename Write>
void schedule(const ReduceIter& it, bool vertical, const Compute& compute, const Combine& combine,
              const Write& write) {
  const int64_t k0 = vertical ? it.keep_shape[0] : 1;
  const int nthreads = get_num_threads();
  // vertical blocks: as wide as kVecW, narrower (down to kMinVecW) while that leaves threads idle
  int64_t vw = kVecW;
  while (vertical && vw > kMinVecW && (it.nout / k0) * ((k0 + vw - 1) / vw) < 2 * nthreads) vw /= 2;
  const int64_t wmax = vertical ? std::min(vw, k0) : 1;
  const int64_t nblk = vertical ? (k0 + vw - 1) / vw : 1;
  const int64_t ngroups = vertical ? (it.nout / k0) * nblk : it.nout;
  auto group = [&](int64_t g, int64_t& o, int64_t& w) {
    if (!vertical) { o = g; w = 1; return; }
    int64_t outer = g / nblk, jb = g % nblk;
    o = outer * k0 + jb * vw;
    w = std::min(vw, k0 - jb * vw);
  };
  const int64_t work = std::max<int64_t>(1, it.rlen * wmax);
  const int64_t nchunks = std::min<int64_t>(nthreads, work / kDefaultGrain);
  if (ngroups >= 2 * nthreads || nchunks <= 1) {
    parallel_for(0, ngroups, std::max<int64_t>(1, kDefaultGrain / work), [&](int64_t b, int64_t e) {
      Acc res[kVecW];
      for (int64_t g = b; g < e; ++g) {
        int64_t o, w;
        group(g, o, w);
        compute(o, w, int64_t(0), it.rlen, res);
        write(o, w, res);
      }
    });
    return;
  }
  std::vector<Acc> part(size_t(nchunks * kVecW));
  for (int64_t g = 0; g < ngroups; ++g) {
    int64_t o, w;
    group(g, o, w);
    parallel_for(0, nchunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c)
        compute(o, w, it.rlen * c / nchunks, it.rlen * (c + 1) / nchunks, &part[size_t(c * kVecW)]);
    });
    for (int64_t c = 1; c < nchunks; ++c) combine(part.data(), &part[size_t(c * kVecW)], w);
    write(o, w, part.data());
  }
}

bool is_vertical(const ReduceIter& it, size_t itemsize) {
  return it.nkeep >= 1 && it.keep_stride[0] == int64_t(itemsize) && it.keep_shape[0] > 1 &&
         it.red_stride[0] != int64_t(itemsize);
}

// ---- sum family -----------------------------------------------------------------------------
template <typename T> inline T shift_of(T m) { return std::isinf(m) ? T(0) : m; }

// One input row into w level-0 accumulators; fixed width W when the block is full.
template <int64_t W, typename Op, typename Acc, typename T, typename F>
inline void sum_row(Acc* __restrict l0, const T* __restrict row, const Acc* prm, int64_t w, const F& f) {
  const int64_t n = W ? W : w;
  for (int64_t j = 0; j < n; ++j) l0[j] = Op::apply(l0[j], f(row[j], prm[j]));
}

constexpr int kRowsAtOnce = 4;  // a divisor of kCascade

template <int64_t W, typename Op, typename T, typename Acc, typename F>
inline void sum_rows4(Acc* __restrict l0, const T* __restrict r0, int64_t stride, const Acc* prm,
                      int64_t w, const F& f) {
  const int64_t n = W ? W : w;
  const T* __restrict r1 = reinterpret_cast<const T*>(reinterpret_cast<const char*>(r0) + stride);
  const T* __restrict r2 = reinterpret_cast<const T*>(reinterpret_cast<const char*>(r1) + stride);
  const T* __restrict r3 = reinterpret_cast<const T*>(reinterpret_cast<const char*>(r2) + stride);
  for (int64_t j = 0; j < n; ++j) {
    const Acc a = Op::apply(f(r0[j], prm[j]), f(r1[j], prm[j]));
    const Acc b = Op::apply(f(r2[j], prm[j]), f(r3[j], prm[j]));
    l0[j] = Op::apply(l0[j], Op::apply(a, b));
  }
}

template <typename T, typename Acc, typename Op, typename F>
void run_sum(const SumSpec& spec, const ReduceIter& it, const F& f) {
  const Acc* param = static_cast<const Acc*>(spec.param);
  Acc* out = reinterpret_cast<Acc*>(it.out);
  const bool vertical = is_vertical(it, sizeof(T));
  auto compute = [&](int64_t o, int64_t w, int64_t a, int64_t b, Acc* res) {
    const char* base = it.base(o);
    if (!vertical) {
      const Acc prm = param ? param[o] : Acc(0);
      // g maps vectors too where f does (SFINAE-friendly: pairwise asks)
      auto g = [&](auto x) -> decltype(f(x, prm)) { return f(x, prm); };
      Cascade<Acc, Op> c(1);
      it.walk(base, a, b, [&](const char* p, int64_t n, int64_t s, int64_t) {
        Acc r = s == int64_t(sizeof(T)) ? pairwise<true, T, Acc, Op>(p, n, s, g)
                                        : pairwise<false, T, Acc, Op>(p, n, s, g);
        c.lv[0][0] = Op::apply(c.lv[0][0], r);
        c.bump();
      });
      c.total(res);
      return;
    }
    Acc prm[kVecW];
    for (int64_t j = 0; j < w; ++j) prm[j] = param ? param[o + j] : Acc(0);
    Cascade<Acc, Op> c(w);
    Acc l0[kVecW];  // level 0 lives here, so that the row loop does not alias the cascade
    for (int64_t j = 0; j < w; ++j) l0[j] = Op::id();
    int rows = 0;
    it.walk(base, a, b, [&](const char* p, int64_t n, int64_t s, int64_t) {
      for (int64_t i = 0; i < n;) {
        const T* row = reinterpret_cast<const T*>(p + i * s);
        if (n - i >= kRowsAtOnce && rows + kRowsAtOnce <= kCascade) {
          // four rows per pass over l0: four input streams, one read-modify-write of l0
          if (w == kVecW) sum_rows4<kVecW, Op>(l0, row, s, prm, w, f);
          else sum_rows4<0, Op>(l0, row, s, prm, w, f);
          i += kRowsAtOnce, rows += kRowsAtOnce;
        } else {
          if (w == kVecW) sum_row<kVecW, Op>(l0, row, prm, w, f);
          else sum_row<0, Op>(l0, row, prm, w, f);
          ++i, ++rows;
        }
        if (rows < kCascade) continue;
        rows = 0;
        for (int64_t j = 0; j < w; ++j) {
          c.lv[0][j] = l0[j];
          l0[j] = Op::id();
        }
        c.cnt[0] = kCascade - 1;
        c.bump();
      }
    });
    for (int64_t j = 0; j < w; ++j) c.lv[0][j] = l0[j];
    c.total(res);
  };
  auto combine = [](Acc* dst, const Acc* src, int64_t w) {
    for (int64_t j = 0; j < w; ++j) dst[j] = Op::apply(dst[j], src[j]);
  };
  auto write = [&](int64_t o, int64_t w, const Acc* res) {
    for (int64_t j = 0; j < w; ++j) {
      Acc r = res[j];
      if constexpr (std::is_floating_point_v<Acc>) {
        switch (spec.post) {
          case SumPost::None: break;
          case SumPost::Div: r = r / Acc(spec.d); break;
          case SumPost::SqrtDiv: r = std::sqrt(r / Acc(spec.d)); break;
          case SumPost::Pow: r = std::pow(r, Acc(1.0 / spec.p)); break;
          case SumPost::Sqrt: r = std::sqrt(r); break;
          case SumPost::LogPlusParam: r = std::log(r) + shift_of(param[o + j]); break;
        }
      }
      out[o + j] = r;
    }
  };
  schedule<Acc>(it, vertical, compute, combine, write);
}

template <typename T, typename Op>
void sum_dispatch_map(const SumSpec& spec, const ReduceIter& it) {
  using Acc = AccOf<T>;
  if constexpr (!std::is_floating_point_v<T>) {
    if (spec.map == SumMap::NonZero)
      return run_sum<T, Acc, Op>(spec, it, [](T x, Acc) { return Acc(x != T(0)); });
    return run_sum<T, Acc, Op>(spec, it, [](T x, Acc) { return Acc(x); });
  } else {
    const T p = T(spec.p);
    switch (spec.map) {
      case SumMap::Identity: return run_sum<T, Acc, Op>(spec, it, [](auto x, T) { return x; });
      case SumMap::Abs: return run_sum<T, Acc, Op>(spec, it, [](T x, T) { return std::abs(x); });
      case SumMap::Square: return run_sum<T, Acc, Op>(spec, it, [](auto x, T) { return x * x; });
      case SumMap::AbsPow:
        return run_sum<T, Acc, Op>(spec, it, [p](T x, T) { return std::pow(std::abs(x), p); });
      case SumMap::NonZero: return run_sum<T, Acc, Op>(spec, it, [](T x, T) { return T(x != T(0)); });
      case SumMap::SqDev:
        return run_sum<T, Acc, Op>(spec, it, [](auto x, T m) { auto d = x - m; return d * d; });
      case SumMap::ExpShift:
        return run_sum<T, Acc, Op>(spec, it, [](T x, T m) { return std::exp(x - shift_of(m)); });
    }
  }
}

// ---- min / max / argmin / argmax ----------------------------------------------------------
template <typename T> struct MM {
  T v;
  int64_t i;
  bool nan;
};

template <typename T> inline bool isnan_(T x) {
  if constexpr (std::is_floating_point_v<T>) return x != x;
  else return false;
}

template <bool IsMax, typename T> inline bool better(T x, T cur) { return IsMax ? x > cur : x < cur; }

template <bool IsMax, typename T> constexpr T worst() {
  using L = std::numeric_limits<T>;
  if constexpr (std::is_floating_point_v<T>) return IsMax ? -L::infinity() : L::infinity();
  else return IsMax ? L::lowest() : L::max();
}

// `later` follows `acc` in index order: NaN wins, then strictly better, ties keep acc.
template <bool IsMax, typename T> inline void merge(MM<T>& acc, const MM<T>& later) {
  if (acc.nan) return;
  if (later.nan || better<IsMax>(later.v, acc.v)) acc = later;
}

// GCC/Clang vector extensions: 32-byte vectors, lowered to SSE2 pairs in the portable build.
template <typename T> struct Vec { typedef T type __attribute__((vector_size(32))); };

// Compare-and-select over two vectors of lanes; NaN sticks in a lane once seen.
template <bool IsMax, typename T>
T minmax_lanes(const T* x, int64_t n, int64_t& done) {
  using V = typename Vec<T>::type;
  constexpr int64_t L = 32 / sizeof(T);
  V m0, m1;
  for (int64_t k = 0; k < L; ++k) m0[k] = m1[k] = worst<IsMax, T>();
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    V v0, v1;
    std::memcpy(&v0, x + i, sizeof(V));
    std::memcpy(&v1, x + i + L, sizeof(V));
    if constexpr (IsMax) {
      m0 = ((v0 > m0) | (v0 != v0)) ? v0 : m0;
      m1 = ((v1 > m1) | (v1 != v1)) ? v1 : m1;
    } else {
      m0 = ((v0 < m0) | (v0 != v0)) ? v0 : m0;
      m1 = ((v1 < m1) | (v1 != v1)) ? v1 : m1;
    }
  }
  done = i;
  T r = worst<IsMax, T>();
  for (int64_t k = 0; k < L; ++k)
    for (T v : {m0[k], m1[k]})
      if (isnan_(r) || isnan_(v)) r = isnan_(r) ? r : v;
      else if (better<IsMax>(v, r)) r = v;
  return r;
}

// A contiguous run: a vectorised value pass, then, if an index is wanted, a scan for the first
// element equal to the result (or the first NaN).
template <bool IsMax, typename T>
MM<T> minmax_contig(const T* x, int64_t n, int64_t idx0, bool want_index) {
  MM<T> r{worst<IsMax, T>(), idx0, false};
  int64_t i = 0;
  if constexpr (std::is_same_v<T, bool>) {
    // bool storage is one byte holding 0 or 1: reduce it as uint8
    uint8_t v = minmax_lanes<IsMax>(reinterpret_cast<const uint8_t*>(x), n, i);
    r.v = v != 0;
  } else {
    T v = minmax_lanes<IsMax>(x, n, i);
    r = MM<T>{v, idx0, isnan_(v)};
  }
  for (; i < n && !r.nan; ++i) merge<IsMax>(r, MM<T>{x[i], idx0 + i, isnan_(x[i])});
  if (!want_index) return r;
  for (int64_t j = 0; j < n; ++j) {
    if (r.nan ? isnan_(x[j]) : x[j] == r.v) {
      r.i = idx0 + j;
      break;
    }
  }
  return r;
}

// One input row into w running values (values only, NaN sticky); fixed width when full.
template <bool IsMax, int64_t W, typename T>
inline void minmax_row(T* acc, const T* row, int64_t w) {
  const int64_t n = W ? W : w;
  for (int64_t j = 0; j < n; ++j) {
    T v = row[j], c = acc[j];
    acc[j] = (better<IsMax>(v, c) | isnan_(v)) ? v : c;
  }
}

template <bool IsMax, typename T>
void run_minmax(const ReduceIter& it, T* values, int64_t* indices) {
  const bool vertical = is_vertical(it, sizeof(T));
  const bool want_index = indices != nullptr;
  auto compute = [&](int64_t o, int64_t w, int64_t a, int64_t b, MM<T>* res) {
    const char* base = it.base(o);
    for (int64_t j = 0; j < w; ++j) res[j] = MM<T>{worst<IsMax, T>(), a, false};
    if (!vertical) {
      MM<T>& acc = res[0];
      it.walk(base, a, b, [&](const char* p, int64_t n, int64_t s, int64_t idx0) {
        if (acc.nan) return;
        if (s == int64_t(sizeof(T))) {
          merge<IsMax>(acc, minmax_contig<IsMax>(reinterpret_cast<const T*>(p), n, idx0, want_index));
          return;
        }
        for (int64_t i = 0; i < n; ++i) {
          T v = load<false, T>(p, s, i);
          if (isnan_(v)) { acc = MM<T>{v, idx0 + i, true}; return; }
          if (better<IsMax>(v, acc.v)) acc = MM<T>{v, idx0 + i, false};
        }
      });
      return;
    }
    if (!want_index) {
      T acc[kVecW];
      for (int64_t j = 0; j < w; ++j) acc[j] = worst<IsMax, T>();
      it.walk(base, a, b, [&](const char* p, int64_t n, int64_t s, int64_t) {
        for (int64_t i = 0; i < n; ++i) {
          const T* row = reinterpret_cast<const T*>(p + i * s);
          if (w == kVecW) minmax_row<IsMax, kVecW>(acc, row, w);
          else minmax_row<IsMax, 0>(acc, row, w);
        }
      });
      for (int64_t j = 0; j < w; ++j) res[j] = MM<T>{acc[j], a, isnan_(acc[j])};
      return;
    }
    it.walk(base, a, b, [&](const char* p, int64_t n, int64_t s, int64_t idx0) {
      for (int64_t i = 0; i < n; ++i) {
        const T* row = reinterpret_cast<const T*>(p + i * s);
        for (int64_t j = 0; j < w; ++j) {
          T v = row[j];
          if (!res[j].nan && (better<IsMax>(v, res[j].v) || isnan_(v))) res[j] = MM<T>{v, idx0 + i, isnan_(v)};
        }
      }
    });
  };
  auto combine = [](MM<T>* dst, const MM<T>* src, int64_t w) {
    for (int64_t j = 0; j < w; ++j) merge<IsMax>(dst[j], src[j]);
  };
  auto write = [&](int64_t o, int64_t w, const MM<T>* res) {
    for (int64_t j = 0; j < w; ++j) {
      if (values) values[o + j] = res[j].v;
      if (indices) indices[o + j] = res[j].i;
    }
  };
  schedule<MM<T>>(it, vertical, compute, combine, write);
}

// ---- softmax ----------------------------------------------------------------------------
template <typename T> inline T nanmax(T a, T v) { return (v > a || v != v) ? v : a; }

// exp of 8 floats (Cephes' expf: round-to-nearest range reduction, degree-6 polynomial; about
// 1 ulp). Below ln(FLT_MIN) the result is 0, so exp(-inf) is exactly 0; NaN stays NaN.
using F8 = Vec<float>::type;
using I8 = int32_t __attribute__((vector_size(32)));
inline void exp8(const F8& x, F8& y) {  // by reference: no vector-ABI concerns
  const F8 zero = {}, lo = zero - 88.0f, hi = zero + 88.3762626647949f, magic = zero + 12582912.0f;
  F8 c = x > hi ? hi : x;
  c = c < lo ? lo : c;  // also maps NaN to itself (comparisons are false)
  F8 n = (c * 1.44269504088896341f + magic) - magic;  // adding 1.5 * 2^23 rounds to an integer
  F8 r = c - n * 0.693359375f + n * 2.12194440e-4f;
  F8 p = zero + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  I8 bits = (__builtin_convertvector(n == n ? n : zero, I8) + 127) << 23;
  F8 scale;
  std::memcpy(&scale, &bits, sizeof(F8));
  y = p * scale;
  y = x < -87.3365447505531f ? zero : y;  // underflow (and -inf) -> exactly 0
  y = x != x ? x : y;
}

// y[j] = exp(x[j] - shift[j]) (shift[0] for all j when !per_col); returns sum of y in double.
template <typename T>
double exp_shift(const T* x, const T* shift, bool per_col, T* y, int64_t n) {
  double s = 0;
  int64_t j = 0;
  if constexpr (std::is_same_v<T, float>) {
    using D8 = double __attribute__((vector_size(64)));
    D8 acc = {};
    F8 sh = F8{} + shift[0];
    for (; j + 8 <= n; j += 8) {
      F8 v, e;
      std::memcpy(&v, x + j, sizeof(F8));
      if (per_col) std::memcpy(&sh, shift + j, sizeof(F8));
      exp8(v - sh, e);
      std::memcpy(y + j, &e, sizeof(F8));
      acc += __builtin_convertvector(e, D8);
    }
    for (int k = 0; k < 8; ++k) s += acc[k];
  }
  for (; j < n; ++j) {
    y[j] = std::exp(x[j] - shift[per_col ? j : 0]);
    s += double(y[j]);
  }
  return s;
}

// Row softmax, float32: the vectorised max and exp-sum passes of row_exp.h (storing e^(x - max)
// unless log), then a scale pass; log_softmax's last pass is x - (max + log(sum)).
void softmax_row_f32(bool log, const float* x, float* y, int64_t n) {
  using P = vec::PackF;
  constexpr int64_t L = vec::Traits<P>::lanes;
  const float mx = row_max_f32(x, n);
  const double s = exp_sum_f32(x, mx, log ? nullptr : y, n);
  if (!log) {
    const P inv(float(1.0 / s));
    int64_t j = 0;
    for (; j + L <= n; j += L) vec::store(y + j, vec::load(y + j) * inv);
    for (; j < n; ++j) y[j] *= float(1.0 / s);
  } else {
    const float sh = mx + float(std::log(s));
    const P shv(sh);
    int64_t j = 0;
    for (; j + L <= n; j += L) vec::store(y + j, vec::load(x + j) - shv);
    for (; j < n; ++j) y[j] = x[j] - sh;
  }
}

template <typename T>
void softmax_row(bool log, const T* x, T* y, int64_t n) {
  if constexpr (std::is_same_v<T, float>) return softmax_row_f32(log, x, y, n);
  T m[kLanes];
  for (int k = 0; k < kLanes; ++k) m[k] = -std::numeric_limits<T>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) m[k] = nanmax(m[k], x[i + k]);
  T mx = -std::numeric_limits<T>::infinity();
  for (int k = 0; k < kLanes; ++k) mx = nanmax(mx, m[k]);
  for (; i < n; ++i) mx = nanmax(mx, x[i]);
  double s = exp_shift(x, &mx, false, y, n);
  if (!log) {
    const T inv = T(1.0 / s);
    for (int64_t j = 0; j < n; ++j) y[j] *= inv;
  } else {
    const T shift = mx + T(std::log(s));
    for (int64_t j = 0; j < n; ++j) y[j] = x[j] - shift;
  }
}

// Softmax over the middle dim of (outer, n, inner) for a block of w <= kColW columns.
template <typename T>
void softmax_cols(bool log, const T* x, T* y, int64_t n, int64_t inner, int64_t w) {
  T mx[kColW];
  double s[kColW];
  for (int64_t j = 0; j < w; ++j) { mx[j] = -std::numeric_limits<T>::infinity(); s[j] = 0; }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < w; ++j) mx[j] = nanmax(mx[j], x[i * inner + j]);
  for (int64_t i = 0; i < n; ++i) {
    T* yr = y + i * inner;
    exp_shift(x + i * inner, mx, true, yr, w);
    for (int64_t j = 0; j < w; ++j) s[j] += double(yr[j]);
  }
  for (int64_t j = 0; j < w; ++j) {
    if (log) mx[j] += T(std::log(s[j]));
    else mx[j] = T(1.0 / s[j]);  // reuse as the scale
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < w; ++j) {
      if (log) y[i * inner + j] = x[i * inner + j] - mx[j];
      else y[i * inner + j] *= mx[j];
    }
}

}  // namespace

void sum_kernel(DType in_dtype, const SumSpec& spec, const ReduceIter& it) {
  dispatch(in_dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (spec.op == SumOp::Mul) sum_dispatch_map<T, MulOp<AccOf<T>>>(spec, it);
    else sum_dispatch_map<T, AddOp<AccOf<T>>>(spec, it);
  });
}

void minmax_kernel(MinMaxOp op, DType dtype, const ReduceIter& it, char* values, int64_t* indices) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* v = reinterpret_cast<T*>(values);
    if (op == MinMaxOp::Max) run_minmax<true, T>(it, v, indices);
    else run_minmax<false, T>(it, v, indices);
  });
}

void softmax_kernel(bool log, DType dtype, const char* in, char* out, int64_t outer, int64_t n,
                    int64_t inner) {
  dispatch_floating(dtype, "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = reinterpret_cast<const T*>(in);
    T* y = reinterpret_cast<T*>(out);
    const int64_t nblk = (inner + kColW - 1) / kColW;
    const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, n * std::min(inner, kColW)));
    parallel_for(0, outer * nblk, grain, [&](int64_t b, int64_t e) {
      for (int64_t g = b; g < e; ++g) {
        int64_t o = g / nblk, j0 = (g % nblk) * kColW;
        const T* xo = x + o * n * inner + j0;
        T* yo = y + o * n * inner + j0;
        if (inner == 1) softmax_row(log, xo, yo, n);
        else softmax_cols(log, xo, yo, n, inner, std::min(kColW, inner - j0));
      }
    });
  });
}

void scan_kernel(ScanOp op, DType dtype, const char* in, char* out, int64_t outer, int64_t n,
                 int64_t inner) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    // Floating scans accumulate in double (as PyTorch on CPU), integer ones in wrapping int64.
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
    auto step = [op](Acc a, T x) -> Acc {
      if constexpr (std::is_floating_point_v<T>) return op == ScanOp::CumSum ? a + Acc(x) : a * Acc(x);
      else return Acc(op == ScanOp::CumSum ? uint64_t(a) + uint64_t(x) : uint64_t(a) * uint64_t(x));
    };
    const Acc id = op == ScanOp::CumSum ? Acc(0) : Acc(1);
    const T* x = reinterpret_cast<const T*>(in);
    T* y = reinterpret_cast<T*>(out);
    const int64_t nblk = (inner + kColW - 1) / kColW;
    const int64_t grain = std::max<int64_t>(1, kDefaultGrain / std::max<int64_t>(1, n * std::min(inner, kColW)));
    parallel_for(0, outer * nblk, grain, [&](int64_t b, int64_t e) {
      Acc acc[kColW];
      for (int64_t g = b; g < e; ++g) {
        int64_t o = g / nblk, j0 = (g % nblk) * kColW, w = std::min(kColW, inner - j0);
        const T* xo = x + o * n * inner + j0;
        T* yo = y + o * n * inner + j0;
        for (int64_t j = 0; j < w; ++j) acc[j] = id;
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < w; ++j) {
            acc[j] = step(acc[j], xo[i * inner + j]);
            yo[i * inner + j] = T(acc[j]);
          }
      }
    });
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
