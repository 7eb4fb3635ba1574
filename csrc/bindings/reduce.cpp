#include "bindings/common.h"

namespace tgx::bind {

void init_reduce(py::module_& m) { (void)m; }

}  // namespace tgx::bind
