// The CUDA slot: built only when nvcc is found (TGX_CUDA=AUTO/ON). Device kernels will join
// this directory; the CPU build never includes them.
#pragma once

namespace tgx::cuda {
// Number of visible CUDA devices; 0 when the driver or a device is missing (never throws).
int device_count();
}  // namespace tgx::cuda
