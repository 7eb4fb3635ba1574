// parallel_for with a grain size: ranges smaller than `grain` run inline on the calling thread,
// so small tensors never pay for waking threads. Falls back to serial without OpenMP.
#pragma once
#include <algorithm>
#include <cstdint>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace tgx {

int get_num_threads();
void set_num_threads(int n);
bool openmp_enabled();

constexpr int64_t kDefaultGrain = 32768;

template <typename F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  if (end <= begin) return;
  int64_t n = end - begin;
#ifdef _OPENMP
  if (n > grain && !omp_in_parallel()) {
    int64_t max_chunks = (n + grain - 1) / std::max<int64_t>(grain, 1);
    int nthreads = int(std::min<int64_t>(omp_get_max_threads(), max_chunks));
    if (nthreads > 1) {
#pragma omp parallel num_threads(nthreads)
      {
        int tid = omp_get_thread_num();
        int nt = omp_get_num_threads();
        int64_t chunk = (n + nt - 1) / nt;
        int64_t b = begin + tid * chunk;
        int64_t e = std::min(end, b + chunk);
        if (b < e) f(b, e);
      }
      return;
    }
  }
#endif
  f(begin, end);
}

}  // namespace tgx
