#include "autograd/grad_mode.h"

#include <atomic>

#include "core/error.h"

namespace tgx::autograd {
namespace {
thread_local bool t_grad_enabled = true;
thread_local bool t_inference = false;
thread_local bool t_fw_paused = false;
std::atomic<int64_t> g_level_id{-1};  // -1: no active dual level
std::atomic<int64_t> g_next_level{0};
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool enabled) { t_grad_enabled = enabled; }
bool inference_mode_enabled() { return t_inference; }
void set_inference_mode(bool enabled) { t_inference = enabled; }

bool fw_active() { return !t_fw_paused && g_level_id.load(std::memory_order_relaxed) >= 0; }
int64_t fw_level_id() { return g_level_id.load(std::memory_order_relaxed); }

int64_t enter_dual_level() {
  TGX_CHECK(g_level_id.load() < 0, RuntimeError,
            "[forward_ad] Nested forward mode AD is not supported at the moment");
  int64_t id = g_next_level.fetch_add(1);
  g_level_id.store(id);
  return id;
}

void exit_dual_level(int64_t level) {
  TGX_CHECK(g_level_id.load() == level, RuntimeError, "[forward_ad] Trying to exit dual level ",
            level, " but it is not the current level");
  g_level_id.store(-1);
}

bool set_fw_grad_paused(bool paused) {
  bool prev = t_fw_paused;
  t_fw_paused = paused;
  return prev;
}

FwGradDisabledGuard::FwGradDisabledGuard() : prev(t_fw_paused) { t_fw_paused = true; }
FwGradDisabledGuard::~FwGradDisabledGuard() { t_fw_paused = prev; }

}  // namespace tgx::autograd
