// Storage: a ref-counted, aligned block of memory on one device. Tensors are views onto it.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace tgx {

enum class DeviceType : uint8_t { CPU = 0, CUDA = 1 };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

constexpr size_t kAlignment = 64;

// CPU allocator (allocator.cpp): aligned to kAlignment, caching by size class; throws
// std::bad_alloc on failure. cpu_free must get the size that was allocated.
void* cpu_alloc(size_t nbytes);
void cpu_free(void* ptr, size_t nbytes);

struct MemoryStats {
  size_t allocated_bytes = 0;       // live blocks, rounded to their size class
  size_t peak_allocated_bytes = 0;
  size_t cached_bytes = 0;          // idle blocks kept for reuse
  size_t alloc_count = 0;
  size_t cache_hits = 0;
  bool cache_enabled = true;
};
MemoryStats cpu_memory_stats();
void cpu_empty_cache();             // return every idle block to the system

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  // Bumped by every in-place write to any view of this storage (autograd's version counter).
  std::atomic<int64_t> version{0};
  // Memory that someone else owns (NumPy arrays, DLPack producers) is released through this.
  std::function<void()> release;

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();

  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device = {});
  static std::shared_ptr<Storage> wrap(void* data, size_t nbytes, std::function<void()> release,
                                       Device device = {});
};

}  // namespace tgx
