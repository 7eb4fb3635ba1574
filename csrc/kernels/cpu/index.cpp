// Indexing kernels (see index.h). Indices arrive validated; kernels only move data.
#include "kernels/cpu/index.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/loops.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

constexpr int64_t kIndexGrain = 16384;

// Element offset (relative to self) of the first element of iteration row `row`, where rows
// are all dims but the last.
inline int64_t row_offset(const AdvIndexGeom& g, int64_t row) {
  int64_t off = 0;
  for (int d = int(g.shape.size()) - 2; d >= 0; --d) {
    int64_t c = row % g.shape[d];
    row /= g.shape[d];
    off += d == g.bdim ? g.offs[c] : c * g.self_strides[d];
  }
  return off;
}

template <typename T> inline bool nonzero(T v) { return v != T(0); }

}  // namespace

int64_t index_wrap_check_kernel(int64_t* idx, int64_t n, int64_t size, bool allow_negative) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = idx[i];
    if (v < 0 && allow_negative) v += size;
    if (v < 0 || v >= size) return i;
    idx[i] = v;
  }
  return -1;
}

void index_offsets_kernel(const TensorIter& it, int64_t stride) {
  it.for_each([stride](char** d, const int64_t* s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) at<int64_t>(d[0], s[0], i) += at<int64_t>(d[1], s[1], i) * stride;
  });
}

void adv_gather_kernel(DType dtype, char* out, const char* self, const AdvIndexGeom& g) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int last = int(g.shape.size()) - 1;
    const int64_t inner = g.shape[last];
    int64_t rows = 1;
    for (int d = 0; d < last; ++d) rows *= g.shape[d];
    const T* src = reinterpret_cast<const T*>(self);
    T* dst = reinterpret_cast<T*>(out);
    const int64_t grain = std::max<int64_t>(1, kIndexGrain / std::max<int64_t>(inner, 1));
    parallel_for(0, rows, grain, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* base = src + row_offset(g, r);
        T* o = dst + r * inner;
        if (last == g.bdim) {
          for (int64_t j = 0; j < inner; ++j) o[j] = base[g.offs[j]];
        } else {
          const int64_t st = g.self_strides[last];
          for (int64_t j = 0; j < inner; ++j) o[j] = base[j * st];
        }
      }
    });
  });
}

void adv_put_kernel(DType dtype, char* self, const char* values, bool scalar_value,
                    const AdvIndexGeom& g, bool accumulate) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int last = int(g.shape.size()) - 1;
    const int64_t inner = g.shape[last];
    int64_t rows = 1;
    for (int d = 0; d < last; ++d) rows *= g.shape[d];
    T* dst = reinterpret_cast<T*>(self);
    const T* val = reinterpret_cast<const T*>(values);
    for (int64_t r = 0; r < rows; ++r) {
      T* base = dst + row_offset(g, r);
      const T* v = scalar_value ? val : val + r * inner;
      const int64_t vs = scalar_value ? 0 : 1;
      for (int64_t j = 0; j < inner; ++j) {
        T& slot = base[last == g.bdim ? g.offs[j] : j * g.self_strides[last]];
        if (!accumulate) slot = v[j * vs];
        else if constexpr (std::is_same_v<T, bool>) slot = slot || v[j * vs];
        else slot = T(slot + v[j * vs]);
      }
    }
  });
}

void gather_kernel(DType dtype, const TensorIter& it, int64_t dim_stride) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    it.for_each([dim_stride](char** d, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        int64_t k = at<int64_t>(d[1], s[1], i);
        at<T>(d[0], s[0], i) = *reinterpret_cast<const T*>(d[2] + i * s[2] + k * dim_stride);
      }
    }, kIndexGrain);
  });
}

void scatter_kernel(DType dtype, ScatterReduce reduce, const TensorIter& it, int64_t dim_stride) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    it.serial_for_each(0, it.numel, [&](char** d, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        int64_t k = at<int64_t>(d[1], s[1], i);
        T& slot = *reinterpret_cast<T*>(d[0] + i * s[0] + k * dim_stride);
        T v = at<T>(d[2], s[2], i);
        if constexpr (std::is_same_v<T, bool>) {
          slot = reduce == ScatterReduce::None ? v
                 : reduce == ScatterReduce::Add ? (slot || v) : (slot && v);
        } else {
          slot = reduce == ScatterReduce::None ? v
                 : reduce == ScatterReduce::Add ? T(slot + v) : T(slot * v);
        }
      }
    });
  });
}

int64_t count_nonzero_kernel(DType dtype, const char* data, int64_t n) {
  return dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = reinterpret_cast<const T*>(data);
    int64_t c = 0;
    for (int64_t i = 0; i < n; ++i) c += nonzero(p[i]);
    return c;
  });
}

void nonzero_kernel(DType dtype, const char* data, const std::vector<int64_t>& shape,
                    int64_t* out) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = reinterpret_cast<const T*>(data);
    const int nd = int(shape.size());
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    std::vector<int64_t> coord(size_t(nd), 0);
    for (int64_t i = 0; i < n; ++i) {
      if (nonzero(p[i])) {
        for (int d = 0; d < nd; ++d) *out++ = coord[size_t(d)];
      }
      for (int d = nd - 1; d >= 0; --d) {  // row-major increment
        if (++coord[size_t(d)] < shape[size_t(d)]) break;
        coord[size_t(d)] = 0;
      }
    }
  });
}

void count_nonzero_iter_kernel(DType dtype, const TensorIter& it) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    it.serial_for_each(0, it.numel, [](char** d, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) at<int64_t>(d[0], s[0], i) += nonzero(at<T>(d[1], s[1], i));
    });
  });
}

void searchsorted_kernel(DType dtype, const char* seq, int64_t seq_rows, int64_t seq_len,
                         const char* values, int64_t nvalues, int64_t row_len, bool right,
                         int64_t* out) {
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* sq = reinterpret_cast<const T*>(seq);
    const T* v = reinterpret_cast<const T*>(values);
    // NaN sorts last, as PyTorch and NumPy do.
    auto less = [](T a, T b) {
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(a)) return false;
        if (std::isnan(b)) return true;
      }
      return a < b;
    };
    parallel_for(0, nvalues, kIndexGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T* row = sq + (seq_rows == 1 ? 0 : (i / row_len) * seq_len);
        const T x = v[i];
        const T* pos = right ? std::upper_bound(row, row + seq_len, x, less)
                             : std::lower_bound(row, row + seq_len, x, less);
        out[i] = pos - row;
      }
    });
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS
