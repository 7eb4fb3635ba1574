// The DLPack ABI (https://github.com/dmlc/dlpack, v1.0), written out here so the build needs no
// extra header: a C ABI for handing a strided tensor between libraries without copying. Layouts
// must match the specification exactly; do not reorder fields.
#pragma once
#include <cstdint>

namespace tgx::dlpack {

constexpr uint32_t kMajorVersion = 1;
constexpr uint32_t kMinorVersion = 0;

enum DeviceType : int32_t { kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3, kDLCUDAManaged = 13 };

struct Device {
  int32_t device_type;  // DeviceType
  int32_t device_id;
};

enum DataTypeCode : uint8_t { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBfloat = 4, kDLComplex = 5, kDLBool = 6 };

struct DataType {
  uint8_t code;   // DataTypeCode
  uint8_t bits;
  uint16_t lanes;
};

struct DLTensor {
  void* data;
  Device device;
  int32_t ndim;
  DataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; may be null for a compact row-major tensor
  uint64_t byte_offset;
};

// Legacy (pre-1.0) managed tensor: capsule name "dltensor".
struct ManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(ManagedTensor* self);
};

struct PackVersion {
  uint32_t major;
  uint32_t minor;
};

constexpr uint64_t kFlagReadOnly = 1ull << 0;
constexpr uint64_t kFlagIsCopied = 1ull << 1;

// Versioned managed tensor (DLPack >= 1.0): capsule name "dltensor_versioned".
struct ManagedTensorVersioned {
  PackVersion version;
  void* manager_ctx;
  void (*deleter)(ManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
};

static_assert(sizeof(DLTensor) == 48, "DLTensor layout");
static_assert(sizeof(ManagedTensor) == 64, "DLManagedTensor layout");
static_assert(sizeof(ManagedTensorVersioned) == 80, "DLManagedTensorVersioned layout");

}  // namespace tgx::dlpack
