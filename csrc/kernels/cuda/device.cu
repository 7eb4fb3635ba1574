#include <cuda_runtime.h>

#include "kernels/cuda/device.h"

namespace tgx::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return 0;
  }
  return n;
}

}  // namespace tgx::cuda
