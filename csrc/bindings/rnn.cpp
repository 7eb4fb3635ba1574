// Bindings for the rnn ops (filled in by the rnn work; see docs/ARCHITECTURE.md).
#include "bindings/common.h"

namespace tgx::bind {

void init_rnn(py::module_& m) { (void)m; }

}  // namespace tgx::bind
