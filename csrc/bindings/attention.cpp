// Bindings for the attention ops (filled in by the attention work; see docs/ARCHITECTURE.md).
#include "bindings/common.h"

namespace tgx::bind {

void init_attention(py::module_& m) { (void)m; }

}  // namespace tgx::bind
