// CPU allocator: 64-byte aligned blocks, cached by size class so that a fresh large output does
// not pay the kernel's page faults again (glibc returns big blocks to the OS on free, and the
// next allocation faults every page in anew). Thread-safe; the cache is bounded and emptied
// whenever an allocation fails, so memory goes back to the system under pressure.
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/storage.h"

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

struct CachingAllocator {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;
  size_t cached_bytes = 0;
  size_t cache_limit = size_t(2) << 30;  // 2 GiB of idle blocks at most
  bool enabled = TGX_ALLOCATOR_CACHE_DEFAULT;
  MemoryStats stats;

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
    void* p = std::aligned_alloc(kAlignment, cls);
    if (!p && cached_bytes) {  // under pressure: give the cache back and try once more
      release_all_locked();
      p = std::aligned_alloc(kAlignment, cls);
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

}  // namespace

void* cpu_alloc(size_t nbytes) { return allocator().alloc(nbytes); }
void cpu_free(void* ptr, size_t nbytes) { allocator().free(ptr, nbytes); }

MemoryStats cpu_memory_stats() {
  std::lock_guard<std::mutex> lock(allocator().mu);
  MemoryStats s = allocator().stats;
  s.cache_enabled = allocator().enabled;
  return s;
}

void cpu_empty_cache() {
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
