// Grad mode (thread-local, as PyTorch) and forward-mode AD levels (global, one level at a time).
#pragma once
#include <cstdint>

namespace tgx::autograd {

bool grad_enabled();
void set_grad_enabled(bool enabled);
bool inference_mode_enabled();
void set_inference_mode(bool enabled);  // inference mode also turns grad mode off

// RAII: sets grad mode for a scope and restores the previous value.
struct GradModeGuard {
  bool prev;
  explicit GradModeGuard(bool enabled) : prev(grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(prev); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;
};

// ---- forward mode ----------------------------------------------------------------------------
// A tangent is valid only while the dual level it was set at is the active one: leaving the
// level invalidates every tangent at once (they are dropped lazily).
bool fw_active();              // a dual level is active and forward AD is not paused
int64_t fw_level_id();         // id of the active level (-1 if none)
int64_t enter_dual_level();    // RuntimeError if one is already active (no nesting, as PyTorch)
void exit_dual_level(int64_t level);

bool set_fw_grad_paused(bool paused);  // returns the previous state

// Pauses forward AD while a jvp is computed from primal values (their tangents are ignored).
struct FwGradDisabledGuard {
  bool prev;
  FwGradDisabledGuard();
  ~FwGradDisabledGuard();
  FwGradDisabledGuard(const FwGradDisabledGuard&) = delete;
  FwGradDisabledGuard& operator=(const FwGradDisabledGuard&) = delete;
};

}  // namespace tgx::autograd
