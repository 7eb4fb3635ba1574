// Recurrent layers: the time loop of one layer in one direction (RNN tanh/relu, LSTM, GRU), its
// backward through time and its forward-mode tangent loop. Per step: one GEMM W_hh @ h^T and the
// fused gate math. Buffers are contiguous, float32 or float64, laid out feature-major
// (feature, time, batch), so that a step's gates are a (G*H) x B matrix whose rows are B
// contiguous values (the gate math runs in SIMD over the batch), W_hh is read in place by the
// GEMM (no per-step packing) and all T steps together form one (G*H) x (T*B) matrix for the
// weight-gradient GEMMs:
//   gates (G*H, T, B): on entry W_ih @ x^T (b_x is added per step); on exit the activations
//        (LSTM i,f,g,o; GRU r,z,n; RNN the new state).
//   hbuf, cbuf (H, T+1, B): slot t+1 (forward) or t (reverse) holds the state after time t; the
//        initial state sits at slot 0 (forward) or T (reverse), so the state before time t is at
//        slot t (forward) or t+1 (reverse) and the T previous states are contiguous per row.
//   out (T, B, H): the output (batch-major, as returned), 0 where a row is inactive.
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
  const void* w_hh = nullptr;  // (G*H, H) row-major
  const void* b_hh = nullptr;  // GRU only (G*H) or null
  const void* b_x = nullptr;   // (G*H) or null: added to the gates' input part (forward only)
  void* gates = nullptr;       // (G*H, T, B)
  void* hbuf = nullptr;        // (H, T+1, B)
  void* cbuf = nullptr;        // LSTM (H, T+1, B)
  void* hn_lin = nullptr;      // GRU (H, T, B): W_hn h + b_hn, kept for backward
  void* out = nullptr;         // (T, B, H)
};

struct RnnGradArgs {
  const void* dout = nullptr;  // (T, B, H) or null
  const void* dhn = nullptr;   // (H, B) or null
  const void* dcn = nullptr;   // (H, B) or null
  void* dgx = nullptr;         // (G*H, T, B): grads of the input pre-activations
  void* dgh = nullptr;         // GRU (G*H, T, B): grads of W_hh h + b_hh (else = dgx)
  void* dh0 = nullptr;         // (H, B)
  void* dc0 = nullptr;         // LSTM (H, B)
};

struct RnnTangentArgs {
  const void* txg = nullptr;   // (G*H, T, B): tangent of W_ih x + biases (b_hh too except GRU)
  const void* tw_hh = nullptr; // (G*H, H) or null
  const void* tb_hh = nullptr; // GRU (G*H) or null
  const void* th0 = nullptr;   // (H, B) or null
  const void* tc0 = nullptr;   // (H, B) or null
  void* tout = nullptr;        // (T, B, H)
  void* thn = nullptr;         // (H, B)
  void* tcn = nullptr;         // LSTM (H, B)
};

}  // namespace tgx

TGX_DECLARE_KERNEL(void, rnn_forward_kernel, (tgx::DType dtype, const tgx::RnnArgs& a))
TGX_DECLARE_KERNEL(void, rnn_backward_kernel, (tgx::DType dtype, const tgx::RnnArgs& a,
                                               const tgx::RnnGradArgs& g))
TGX_DECLARE_KERNEL(void, rnn_tangent_kernel, (tgx::DType dtype, const tgx::RnnArgs& a,
                                              const tgx::RnnTangentArgs& t))
