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

// CPU allocator (allocator.cpp): aligned to kAlignment; throws std::bad_alloc on failure.
void* cpu_alloc(size_t nbytes);
void cpu_free(void* ptr, size_t nbytes);

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
