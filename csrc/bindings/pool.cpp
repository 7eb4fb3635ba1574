// Bindings for the pool ops (filled in by the pool work; see docs/ARCHITECTURE.md).
#include "bindings/common.h"

namespace tgx::bind {

void init_pool(py::module_& m) { (void)m; }

}  // namespace tgx::bind
