// Bindings for the fused normalisation ops (layer_norm).
#include "bindings/common.h"

namespace tgx::bind {

void init_norm(py::module_& m) { (void)m; }

}  // namespace tgx::bind
