// Reduction kernels over a ReduceIter. Two layouts get fast paths:
//  - horizontal: the innermost reduced dim is contiguous -> pairwise summation over the run
//    with kLanes independent accumulators (the compiler vectorises the lanes);
//  - vertical: the innermost kept dim is contiguous -> a block of kVecW outputs accumulates
//    whole input rows at once (vectorised across outputs), with a cascade of partial sums.
// Everything else takes the strided path. Floating sums stay accurate to a few ulps * log(n):
// pairwise within runs, a cascade (blocks of kCascade) across runs and rows.
#include "kernels/cpu/reduce.h"

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/parallel.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

constexpr int kLanes = 16;         // independent accumulators of a horizontal run
constexpr int64_t kPairBase = 256;  // pairwise base case (a multiple of kLanes)
constexpr int64_t kVecW = 32;      // outputs per vertical block
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

// Pairwise reduction of n elements at p (byte stride s) of f(x).
template <bool Contig, typename T, typename Acc, typename Op, typename F>
Acc pairwise(const char* p, int64_t n, int64_t s, const F& f) {
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
  const int64_t wmax = vertical ? std::min(kVecW, k0) : 1;
  const int64_t nblk = vertical ? (k0 + kVecW - 1) / kVecW : 1;
  const int64_t ngroups = vertical ? (it.nout / k0) * nblk : it.nout;
  auto group = [&](int64_t g, int64_t& o, int64_t& w) {
    if (!vertical) { o = g; w = 1; return; }
    int64_t outer = g / nblk, jb = g % nblk;
    o = outer * k0 + jb * kVecW;
    w = std::min(kVecW, k0 - jb * kVecW);
  };
  const int64_t work = std::max<int64_t>(1, it.rlen * wmax);
  const int nthreads = get_num_threads();
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

template <typename T, typename Acc, typename Op, typename F>
void run_sum(const SumSpec& spec, const ReduceIter& it, const F& f) {
  const Acc* param = static_cast<const Acc*>(spec.param);
  Acc* out = reinterpret_cast<Acc*>(it.out);
  const bool vertical = is_vertical(it, sizeof(T));
  auto compute = [&](int64_t o, int64_t w, int64_t a, int64_t b, Acc* res) {
    const char* base = it.base(o);
    if (!vertical) {
      const Acc prm = param ? param[o] : Acc(0);
      auto g = [&](T x) { return f(x, prm); };
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
    it.walk(base, a, b, [&](const char* p, int64_t n, int64_t s, int64_t) {
      for (int64_t i = 0; i < n; ++i) {
        const T* row = reinterpret_cast<const T*>(p + i * s);
        Acc* l0 = c.lv[0];
        for (int64_t j = 0; j < w; ++j) l0[j] = Op::apply(l0[j], f(row[j], prm[j]));
        c.bump();
      }
    });
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
      case SumMap::Identity: return run_sum<T, Acc, Op>(spec, it, [](T x, T) { return x; });
      case SumMap::Abs: return run_sum<T, Acc, Op>(spec, it, [](T x, T) { return std::abs(x); });
      case SumMap::Square: return run_sum<T, Acc, Op>(spec, it, [](T x, T) { return x * x; });
      case SumMap::AbsPow:
        return run_sum<T, Acc, Op>(spec, it, [p](T x, T) { return std::pow(std::abs(x), p); });
      case SumMap::NonZero: return run_sum<T, Acc, Op>(spec, it, [](T x, T) { return T(x != T(0)); });
      case SumMap::SqDev:
        return run_sum<T, Acc, Op>(spec, it, [](T x, T m) { T d = x - m; return d * d; });
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

// A contiguous run: a vectorised value pass (NaN sticks in a lane), then, if an index is
// wanted, a scan for the first element equal to the result.
template <bool IsMax, typename T>
MM<T> minmax_contig(const T* x, int64_t n, int64_t idx0, bool want_index) {
  T m[kLanes];
  for (int k = 0; k < kLanes; ++k) m[k] = worst<IsMax, T>();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      T v = x[i + k];
      m[k] = (better<IsMax>(v, m[k]) || isnan_(v)) ? v : m[k];
    }
  MM<T> r{worst<IsMax, T>(), idx0, false};
  for (int k = 0; k < kLanes; ++k) merge<IsMax>(r, MM<T>{m[k], idx0, isnan_(m[k])});
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

template <typename T>
void softmax_row(bool log, const T* x, T* y, int64_t n) {
  T m[kLanes];
  for (int k = 0; k < kLanes; ++k) m[k] = -std::numeric_limits<T>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) m[k] = nanmax(m[k], x[i + k]);
  T mx = -std::numeric_limits<T>::infinity();
  for (int k = 0; k < kLanes; ++k) mx = nanmax(mx, m[k]);
  for (; i < n; ++i) mx = nanmax(mx, x[i]);
  double s = 0;
  if (!log) {
    for (int64_t j = 0; j < n; ++j) {
      T e = std::exp(x[j] - mx);
      y[j] = e;
      s += double(e);
    }
    const T inv = T(1.0 / s);
    for (int64_t j = 0; j < n; ++j) y[j] *= inv;
  } else {
    for (int64_t j = 0; j < n; ++j) s += double(std::exp(x[j] - mx));
    const T shift = mx + T(std::log(s));
    for (int64_t j = 0; j < n; ++j) y[j] = x[j] - shift;
  }
}

// Softmax over the middle dim of (outer, n, inner) for a block of w <= kVecW columns.
template <typename T>
void softmax_cols(bool log, const T* x, T* y, int64_t n, int64_t inner, int64_t w) {
  T mx[kVecW];
  double s[kVecW];
  for (int64_t j = 0; j < w; ++j) { mx[j] = -std::numeric_limits<T>::infinity(); s[j] = 0; }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < w; ++j) mx[j] = nanmax(mx[j], x[i * inner + j]);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < w; ++j) {
      T e = std::exp(x[i * inner + j] - mx[j]);
      if (!log) y[i * inner + j] = e;
      s[j] += double(e);
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
    const int64_t nblk = (inner + kVecW - 1) / kVecW;
    const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, n * std::min(inner, kVecW)));
    parallel_for(0, outer * nblk, grain, [&](int64_t b, int64_t e) {
      for (int64_t g = b; g < e; ++g) {
        int64_t o = g / nblk, j0 = (g % nblk) * kVecW;
        const T* xo = x + o * n * inner + j0;
        T* yo = y + o * n * inner + j0;
        if (inner == 1) softmax_row(log, xo, yo, n);
        else softmax_cols(log, xo, yo, n, inner, std::min(kVecW, inner - j0));
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
    const int64_t nblk = (inner + kVecW - 1) / kVecW;
    const int64_t grain = std::max<int64_t>(1, kDefaultGrain / std::max<int64_t>(1, n * std::min(inner, kVecW)));
    parallel_for(0, outer * nblk, grain, [&](int64_t b, int64_t e) {
      Acc acc[kVecW];
      for (int64_t g = b; g < e; ++g) {
        int64_t o = g / nblk, j0 = (g % nblk) * kVecW, w = std::min(kVecW, inner - j0);
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
