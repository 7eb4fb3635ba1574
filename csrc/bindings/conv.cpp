// Bindings for the conv ops (filled in by the conv work; see docs/ARCHITECTURE.md).
#include "bindings/common.h"

namespace tgx::bind {

void init_conv(py::module_& m) { (void)m; }

}  // namespace tgx::bind
