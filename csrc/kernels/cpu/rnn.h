// Recurrent layers: the time loop of one layer in one direction (RNN tanh/relu, LSTM, GRU), its
// backward through time and its forward-mode tangent loop. Per step: one GEMM h @ W_hh^T and the
// fused gate math. All buffers are contiguous, float32 or float64, time-major:
//   gates (T, B, G*H): on entry x @ W_ih^T + b_ih (+ b_hh except GRU); on exit the activations
//        (LSTM i,f,g,o; GRU r,z,n; RNN the new state before masking is not kept).
//   hbuf, cbuf (T+1, B, H): the state after time t at slot t+1 (forward) or t (reverse), the
//        initial state at slot 0 (forward) or T (reverse); so the state before time t sits at
//        slot t (forward) or t+1 (reverse) and the T previous states are contiguous.
// lengths (B) or null: row b is active at time t iff t < lengths[b]; inactive rows keep their
// state and output 0 (packed sequences: reverse runs start at each sequence's last step).
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/dispatch.h"

namespace tgx {

enum class RnnMode : int { Tanh = 0, Relu = 1, Lstm = 2, Gru = 3 };
inline int rnn_gates(RnnMode m) { return m == RnnMode::Lstm ? 4 : m == RnnMode::Gru ? 3 : 1; }

struct RnnArgs {
  RnnMode mode = RnnMode::Tanh;
  int64_t T = 0, B = 0, H = 0;
  bool reverse = false;
  const int64_t* lengths = nullptr;
  const void* w_hh = nullptr;  // (G*H, H)
  const void* b_hh = nullptr;  // GRU only (G*H) or null
  void* gates = nullptr;       // (T, B, G*H)
  void* hbuf = nullptr;        // (T+1, B, H)
  void* cbuf = nullptr;        // LSTM (T+1, B, H)
  void* hn_lin = nullptr;      // GRU (T, B, H): W_hn h + b_hn, kept for backward
  void* out = nullptr;         // (T, B, H)
};

struct RnnGradArgs {
  const void* dout = nullptr;  // (T, B, H) or null
  const void* dhn = nullptr;   // (B, H) or null
  const void* dcn = nullptr;   // (B, H) or null
  void* dgx = nullptr;         // (T, B, G*H): grads of the input pre-activations
  void* dgh = nullptr;         // GRU (T, B, G*H): grads of h @ W_hh^T + b_hh (else = dgx)
  void* dh0 = nullptr;         // (B, H)
  void* dc0 = nullptr;         // LSTM (B, H)
};

struct RnnTangentArgs {
  const void* txg = nullptr;   // (T, B, G*H): tangent of x @ W_ih^T + biases (b_hh too except GRU)
  const void* tw_hh = nullptr; // (G*H, H) or null
  const void* tb_hh = nullptr; // GRU (G*H) or null
  const void* th0 = nullptr;   // (B, H) or null
  const void* tc0 = nullptr;   // (B, H) or null
  void* tout = nullptr;        // (T, B, H)
  void* thn = nullptr;         // (B, H)
  void* tcn = nullptr;         // LSTM (B, H)
};

}  // namespace tgx

TGX_DECLARE_KERNEL(void, rnn_forward_kernel, (tgx::DType dtype, const tgx::RnnArgs& a))
TGX_DECLARE_KERNEL(void, rnn_backward_kernel, (tgx::DType dtype, const tgx::RnnArgs& a,
                                               const tgx::RnnGradArgs& g))
TGX_DECLARE_KERNEL(void, rnn_tangent_kernel, (tgx::DType dtype, const tgx::RnnArgs& a,
                                              const tgx::RnnTangentArgs& t))
