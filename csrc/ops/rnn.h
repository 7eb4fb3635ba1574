// Recurrent layers: one call runs one layer in one direction over a whole sequence (PyTorch's
// weight layout: w_ih (G*H, I), w_hh (G*H, H), gate order LSTM i,f,g,o and GRU r,z,n with
// n = tanh(W_in x + b_in + r * (W_hn h + b_hn))). The input projection of all time steps is one
// GEMM; the time loop (a GEMM on W_hh and fused gate math per step) and the backward through time
// run in C++ (kernels/cpu/rnn.h). Differentiable once (vjp) and in forward mode (jvp); double
// backward raises NotImplementedError, as cuDNN RNNs do.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tgx::ops {

// mode: "rnn_tanh", "rnn_relu", "lstm" or "gru". x (T, B, I) time-major; h0, c0 (B, H) or null
// (zeros; c0 for LSTM only); biases may be null (both or neither, as PyTorch's bias=False);
// lengths: int64 (B) or null, rows stop updating at t >= lengths[b] and output 0 there (packed
// sequences). reverse: run from the last step back. Returns {output (T, B, H), h_n (B, H)} and,
// for LSTM, c_n (B, H) third.
std::vector<Tensor> rnn_layer(const std::string& mode, const Tensor& x, const Tensor& h0,
                              const Tensor& c0, const Tensor& w_ih, const Tensor& w_hh,
                              const Tensor& b_ih, const Tensor& b_hh, const Tensor& lengths,
                              bool reverse);

}  // namespace tgx::ops
