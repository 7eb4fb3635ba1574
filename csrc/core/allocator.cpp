// CPU allocator: 64-byte aligned blocks, cached by size class so that a fresh large output does
// not pay the kernel's page faults again (glibc returns big blocks to the OS on free, and the
// next allocation faults every page in anew). Thread-safe; the cache is bounded and emptied
// whenever an allocation fails, so memory goes back to the system under pressure.
// Small blocks (<= kSmallMax bytes, the per-op outputs of tiny tensors) go through a per-thread
// free list first: no lock, no hashing. Each thread keeps at most kSmallPerClass blocks per size
// class and hands them back to the shared cache when it exits.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/storage.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define TGX_ALLOCATOR_CACHE_DEFAULT false  // let ASan see every use-after-free
#else
#define TGX_ALLOCATOR_CACHE_DEFAULT true
#endif

namespace tgx {
namespace {

// Size classes: 4 per power of two above 4 KiB (at most 25% waste), exact 64-byte steps below.
size_t size_class(size_t nbytes) {
  if (nbytes == 0) nbytes = 1;
  if (nbytes <= 4096) return (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  int log2 = 63 - __builtin_clzll(nbytes - 1);        // 2^log2 < nbytes <= 2^(log2+1)
  size_t step = size_t(1) << (log2 - 2);
  return (nbytes + step - 1) / step * step;
}

// Blocks of 4 MiB and more start on a 2 MiB boundary and ask for transparent huge pages, as
// NumPy's do: one TLB entry per 2 MiB instead of 512, and the hardware prefetchers are not cut
// off at every 4 KiB page. (Needed where THP is in 'madvise' mode; harmless elsewhere.)
constexpr size_t kHugeMin = size_t(4) << 20, kHugePage = size_t(2) << 20;
void* system_alloc(size_t cls) {
  if (cls < kHugeMin) return std::aligned_alloc(kAlignment, cls);
  const size_t bytes = (cls + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, bytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (p) madvise(p, bytes, MADV_HUGEPAGE);  // advice only: failure changes nothing
#endif
  return p;
}

constexpr size_t kSmallMax = 1024;
constexpr size_t kSmallClasses = kSmallMax / kAlignment;  // 64, 128, ..., 1024 bytes
constexpr size_t kSmallPerClass = 16;
struct ThreadCache;

struct CachingAllocator {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;
  size_t cached_bytes = 0;
  size_t cache_limit = size_t(2) << 30;  // 2 GiB of idle blocks at most
  bool enabled = TGX_ALLOCATOR_CACHE_DEFAULT;
  MemoryStats stats;
  // The per-thread small-block caches (ThreadCache below), for the stats; guarded by mu.
  std::vector<ThreadCache*> thread_caches;
  size_t exited_small_hits = 0;

  CachingAllocator() {
    const char* env = std::getenv("TGX_ALLOCATOR_CACHE");
    if (env && *env) enabled = env[0] != '0';
  }

  void release_all_locked() {
    for (auto& [size, blocks] : free_blocks)
      for (void* p : blocks) std::free(p);
    free_blocks.clear();
    stats.cached_bytes = cached_bytes = 0;
  }

  void* alloc(size_t nbytes) {
    size_t cls = size_class(nbytes);
    if (cls < nbytes) throw std::bad_alloc();
    std::lock_guard<std::mutex> lock(mu);
    ++stats.alloc_count;
    if (enabled) {
      auto it = free_blocks.find(cls);
      if (it != free_blocks.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_bytes -= cls;
        stats.cached_bytes = cached_bytes;
        ++stats.cache_hits;
        note_alloc(cls);
        return p;
      }
    }
    void* p = system_alloc(cls);
    if (!p && cached_bytes) {  // under pressure: give the cache back and try once more
      release_all_locked();
      p = system_alloc(cls);
    }
    if (!p) throw std::bad_alloc();
    note_alloc(cls);
    return p;
  }

  void note_alloc(size_t cls) {
    stats.allocated_bytes += cls;
    if (stats.allocated_bytes > stats.peak_allocated_bytes) stats.peak_allocated_bytes = stats.allocated_bytes;
  }

  void free(void* p, size_t nbytes) {
    if (!p) return;
    size_t cls = size_class(nbytes);
    std::lock_guard<std::mutex> lock(mu);
    stats.allocated_bytes -= cls;
    if (enabled && cls <= cache_limit) {
      while (cached_bytes + cls > cache_limit && !free_blocks.empty()) evict_one_locked();
      free_blocks[cls].push_back(p);
      cached_bytes += cls;
      stats.cached_bytes = cached_bytes;
      return;
    }
    std::free(p);
  }

  void evict_one_locked() {
    auto it = free_blocks.begin();
    while (it != free_blocks.end() && it->second.empty()) it = free_blocks.erase(it);
    if (it == free_blocks.end()) return;
    std::free(it->second.back());
    it->second.pop_back();
    cached_bytes -= it->first;
    stats.cached_bytes = cached_bytes;
  }
};

CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();  // never destroyed: outlives all tensors
  return *a;
}

// Per-thread free lists for small size classes (class c holds blocks of (c + 1) * 64 bytes).
// The shared stats count parked blocks as allocated; each cache counts what it parked and the
// allocations it served, in single-writer atomics (plain loads and stores, no lock prefix) that
// cpu_memory_stats() reads.
thread_local bool tls_cache_gone = false;  // trivially destructible: safe to read at thread exit

struct ThreadCache {
  void* blocks[kSmallClasses][kSmallPerClass];
  uint32_t count[kSmallClasses] = {};
  std::atomic<int64_t> parked_bytes{0};
  std::atomic<size_t> hits{0};

  ThreadCache() {
    std::lock_guard<std::mutex> lock(allocator().mu);
    allocator().thread_caches.push_back(this);
  }
  ~ThreadCache() {
    flush();
    auto& a = allocator();
    std::lock_guard<std::mutex> lock(a.mu);
    a.exited_small_hits += hits.load(std::memory_order_relaxed);
    a.thread_caches.erase(std::find(a.thread_caches.begin(), a.thread_caches.end(), this));
    tls_cache_gone = true;
  }
  static void add(std::atomic<int64_t>& v, int64_t d) {
    v.store(v.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }
  void* pop(size_t c) {
    add(parked_bytes, -int64_t((c + 1) * kAlignment));
    hits.store(hits.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return blocks[c][--count[c]];
  }
  void push(size_t c, void* p) {
    add(parked_bytes, int64_t((c + 1) * kAlignment));
    blocks[c][count[c]++] = p;
  }
  void flush() {
    for (size_t c = 0; c < kSmallClasses; ++c) {
      while (count[c]) {
        add(parked_bytes, -int64_t((c + 1) * kAlignment));
        allocator().free(blocks[c][--count[c]], (c + 1) * kAlignment);
      }
    }
  }
};

ThreadCache* thread_cache() {
  if (tls_cache_gone || !allocator().enabled) return nullptr;
  thread_local ThreadCache cache;
  return &cache;
}

size_t small_class_index(size_t nbytes) { return (nbytes ? nbytes - 1 : 0) / kAlignment; }

}  // namespace

void* cpu_alloc(size_t nbytes) {
  if (nbytes <= kSmallMax) {
    ThreadCache* tc = thread_cache();
    size_t c = small_class_index(nbytes);
    if (tc && tc->count[c]) return tc->pop(c);
  }
  return allocator().alloc(nbytes);
}

void cpu_free(void* ptr, size_t nbytes) {
  if (ptr && nbytes <= kSmallMax) {
    ThreadCache* tc = thread_cache();
    size_t c = small_class_index(nbytes);
    if (tc && tc->count[c] < kSmallPerClass) return tc->push(c, ptr);
  }
  allocator().free(ptr, nbytes);
}

MemoryStats cpu_memory_stats() {
  auto& a = allocator();
  std::lock_guard<std::mutex> lock(a.mu);
  MemoryStats s = a.stats;
  s.cache_enabled = a.enabled;
  // Small blocks parked in per-thread lists are idle (cached), not allocated.
  int64_t parked = 0;
  size_t hits = a.exited_small_hits;
  for (ThreadCache* tc : a.thread_caches) {
    parked += tc->parked_bytes.load(std::memory_order_relaxed);
    hits += tc->hits.load(std::memory_order_relaxed);
  }
  size_t p = std::min(size_t(std::max<int64_t>(parked, 0)), s.allocated_bytes);
  s.allocated_bytes -= p;
  s.cached_bytes += p;
  s.alloc_count += hits;
  s.cache_hits += hits;
  return s;
}

void cpu_empty_cache() {
  if (ThreadCache* tc = thread_cache()) tc->flush();
  std::lock_guard<std::mutex> lock(allocator().mu);
  allocator().release_all_locked();
}

Storage::~Storage() {
  if (release) release();
  else if (data) cpu_free(data, nbytes);
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  auto s = std::make_shared<Storage>();
  s->data = cpu_alloc(nbytes);
  s->nbytes = nbytes;
  s->device = device;
  return s;
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, std::function<void()> release,
                                       Device device) {
  auto s = std::make_shared<Storage>();
  s->data = data;
  s->nbytes = nbytes;
  s->device = device;
  s->release = std::move(release);
  return s;
}

}  // namespace tgx
