#include "ops/rnn.h"

#include <memory>

#include "autograd/node.h"
#include "kernels/cpu/rnn.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace tgx::ops {
namespace {

using autograd::TensorList;

RnnMode parse_mode(const std::string& m) {
  if (m == "rnn_tanh") return RnnMode::Tanh;
  if (m == "rnn_relu") return RnnMode::Relu;
  if (m == "lstm") return RnnMode::Lstm;
  TGX_CHECK(m == "gru", ValueError, "[rnn] unknown mode '", m,
            "' (expected 'rnn_tanh', 'rnn_relu', 'lstm' or 'gru')");
  return RnnMode::Gru;
}

const char* node_name(RnnMode m) {
  switch (m) {
    case RnnMode::Tanh: return "RnnTanhBackward0";
    case RnnMode::Relu: return "RnnReluBackward0";
    case RnnMode::Lstm: return "LstmBackward0";
    default: return "GruBackward0";
  }
}

void check_tensor(const Tensor& t, const char* name, const Shape& want, DType dt, const char* op) {
  if (!t) return;
  TGX_CHECK(t->dtype == dt, TypeError, "[", op, "] ", name, " has dtype ", t->dtype,
            " but the input has dtype ", dt);
  TGX_CHECK(t->shape == want, ValueError, "[", op, "] expected ", name, " of shape ", want, ", got ",
            t->shape);
}

Tensor add_opt(const Tensor& a, const Tensor& b) {
  if (!a) return b;
  if (!b) return a;
  return binary(BinaryOp::Add, a, b);
}

// What the forward leaves for the backward and the jvp (no autograd meta: plain buffers).
struct State {
  RnnMode mode;
  int64_t T, B, I, H, G;
  bool reverse;
  Tensor lengths, gates, hbuf, cbuf, hn_lin;
  RnnArgs args(const Tensor& w_hh, const Tensor& b_hh) const {
    RnnArgs a;
    a.mode = mode, a.T = T, a.B = B, a.H = H, a.reverse = reverse;
    a.lengths = lengths ? lengths->data<int64_t>() : nullptr;
    a.w_hh = w_hh->raw(), a.b_hh = b_hh ? b_hh->raw() : nullptr;
    a.gates = gates->raw(), a.hbuf = hbuf->raw();
    a.cbuf = cbuf ? cbuf->raw() : nullptr, a.hn_lin = hn_lin ? hn_lin->raw() : nullptr;
    return a;
  }
  // The state before each time step as an (H, T * B) matrix (a view of hbuf).
  Tensor prev_states() const { return reshape(narrow(hbuf, 1, reverse ? 1 : 0, T), {H, T * B}); }
};

Tensor contig(const Tensor& t) { return t ? contiguous(t) : nullptr; }
// (B, H) <-> the kernels' feature-major (H, B).
Tensor to_fm(const Tensor& t) { return t ? contiguous(transpose_2d(t)) : nullptr; }


TensorList backward(const State& st, const TensorList& g, const Tensor& x, const Tensor& w_ih,
                    const Tensor& w_hh, const std::vector<bool>& needs, const char* op) {
  TGX_CHECK(!autograd::grad_enabled(), NotImplementedError, "[", op,
            "] double backward through a recurrent layer is not supported (as cuDNN RNNs); "
            "use create_graph=False");
  const DType dt = x->dtype;
  const int64_t GH = st.G * st.H, TB = st.T * st.B;
  Tensor dout = contig(g[0]), dhn = to_fm(g[1]), dcn = g.size() > 2 ? to_fm(g[2]) : nullptr;
  Tensor dgx = empty({GH, st.T, st.B}, dt);
  Tensor dgh = st.mode == RnnMode::Gru ? empty({GH, st.T, st.B}, dt) : dgx;
  Tensor dh0 = empty({st.H, st.B}, dt);
  Tensor dc0 = st.mode == RnnMode::Lstm ? empty({st.H, st.B}, dt) : nullptr;
  Tensor whh = contiguous(w_hh);
  RnnArgs a = st.args(whh, nullptr);
  RnnGradArgs ga;
  ga.dout = dout ? dout->raw() : nullptr, ga.dhn = dhn ? dhn->raw() : nullptr;
  ga.dcn = dcn ? dcn->raw() : nullptr;
  ga.dgx = dgx->raw(), ga.dgh = dgh->raw(), ga.dh0 = dh0->raw(), ga.dc0 = dc0 ? dc0->raw() : nullptr;
  TGX_KERNEL(rnn_backward_kernel)(dt, a, ga);
  Tensor gx2 = reshape(dgx, {GH, TB}), gh2 = reshape(dgh, {GH, TB});  // (GH, T * B)
  TensorList r(7);
  if (needs[0]) r[0] = reshape(mm(transpose_2d(gx2), w_ih), {st.T, st.B, st.I});
  if (needs[1]) r[1] = transpose_2d(dh0);
  if (needs[2]) r[2] = transpose_2d(dc0);
  if (needs[3]) r[3] = mm(gx2, reshape(x, {TB, st.I}));
  if (needs[4]) r[4] = mm(gh2, transpose_2d(st.prev_states()));
  if (needs[5]) r[5] = sum(gx2, {1});
  if (needs[6]) r[6] = sum(gh2, {1});
  return r;
}

TensorList tangent(const State& st, const TensorList& tg, const TensorList& in) {
  const Tensor &x = in[0], &w_ih = in[3], &w_hh = in[4];
  const DType dt = x->dtype;
  const int64_t GH = st.G * st.H, TB = st.T * st.B;
  const bool gru = st.mode == RnnMode::Gru;
  autograd::GradModeGuard no_grad(false);
  Tensor xt = transpose_2d(reshape(x, {TB, st.I}));  // (I, T * B)
  Tensor txg = zeros({GH, TB}, dt);
  if (tg[0]) txg = add_opt(txg, mm(w_ih, transpose_2d(reshape(tg[0], {TB, st.I}))));
  if (tg[3]) txg = add_opt(txg, mm(tg[3], xt));
  if (tg[5]) txg = add_opt(txg, reshape(tg[5], {GH, 1}));
  if (tg[6] && !gru) txg = add_opt(txg, reshape(tg[6], {GH, 1}));
  txg = contiguous(txg);
  Tensor whh = contiguous(w_hh), tw = contig(tg[4]), th0 = to_fm(tg[1]), tc0 = to_fm(tg[2]);
  Tensor tbhh = gru ? contig(tg[6]) : nullptr;
  Tensor tout = empty({st.T, st.B, st.H}, dt), thn = empty({st.H, st.B}, dt);
  Tensor tcn = st.mode == RnnMode::Lstm ? empty({st.H, st.B}, dt) : nullptr;
  RnnArgs a = st.args(whh, nullptr);
  RnnTangentArgs ta;
  ta.txg = txg->raw(), ta.tw_hh = tw ? tw->raw() : nullptr, ta.tb_hh = tbhh ? tbhh->raw() : nullptr;
  ta.th0 = th0 ? th0->raw() : nullptr, ta.tc0 = tc0 ? tc0->raw() : nullptr;
  ta.tout = tout->raw(), ta.thn = thn->raw(), ta.tcn = tcn ? tcn->raw() : nullptr;
  TGX_KERNEL(rnn_tangent_kernel)(dt, a, ta);
  TensorList r{tout, contiguous(transpose_2d(thn))};
  if (tcn) r.push_back(contiguous(transpose_2d(tcn)));
  return r;
}

}  // namespace

std::vector<Tensor> rnn_layer(const std::string& mode_name, const Tensor& x, const Tensor& h0,
                              const Tensor& c0, const Tensor& w_ih, const Tensor& w_hh,
                              const Tensor& b_ih, const Tensor& b_hh, const Tensor& lengths,
                              bool reverse) {
  const RnnMode mode = parse_mode(mode_name);
  const char* op = mode_name.c_str();
  TGX_CHECK(x && w_ih && w_hh, TypeError, "[", op, "] input and weights must be tensors");
  TGX_CHECK(x->ndim() == 3, ValueError, "[", op, "] expected a 3-d input (seq_len, batch, input_size), got shape ",
            x->shape);
  const DType dt = x->dtype;
  TGX_CHECK(dt == DType::Float32 || dt == DType::Float64, NotImplementedError, "[", op,
            "] not implemented for dtype ", dt, " (float32 and float64 only)");
  TGX_CHECK(w_ih->ndim() == 2 && w_hh->ndim() == 2, ValueError, "[", op,
            "] weights must be 2-d, got weight_ih ", w_ih->shape, " and weight_hh ", w_hh->shape);
  const int64_t G = rnn_gates(mode), T = x->shape[0], B = x->shape[1], I = x->shape[2];
  const int64_t H = w_hh->shape[1];
  TGX_CHECK(w_hh->shape[0] == G * H, ValueError, "[", op, "] weight_hh must be (", G, " * hidden_size, hidden_size) = ",
            Shape{G * H, H}, ", got ", w_hh->shape);
  TGX_CHECK(w_ih->shape[1] == I, ValueError, "[", op, "] input.size(-1) must be equal to input_size. Expected ",
            w_ih->shape[1], ", got ", I);
  check_tensor(w_ih, "weight_ih", {G * H, I}, dt, op);
  check_tensor(w_hh, "weight_hh", {G * H, H}, dt, op);
  TGX_CHECK(bool(b_ih) == bool(b_hh), ValueError, "[", op, "] pass both biases or neither");
  check_tensor(b_ih, "bias_ih", {G * H}, dt, op);
  check_tensor(b_hh, "bias_hh", {G * H}, dt, op);
  check_tensor(h0, "hidden state h0", {B, H}, dt, op);
  TGX_CHECK(!c0 || mode == RnnMode::Lstm, ValueError, "[", op, "] a cell state is only used by lstm");
  check_tensor(c0, "cell state c0", {B, H}, dt, op);
  checked_numel({T, B, G * H}, dt, op);
  checked_numel({T + 1, B, H}, dt, op);

  State st{mode, T, B, I, H, G, reverse, nullptr, nullptr, nullptr, nullptr, nullptr};
  if (lengths) {
    TGX_CHECK(lengths->dtype == DType::Int64 && lengths->shape == Shape{B}, ValueError, "[", op,
              "] lengths must be an int64 tensor of shape ", Shape{B}, ", got ", lengths->dtype, " ",
              lengths->shape);
    st.lengths = contiguous(lengths);
    const int64_t* p = st.lengths->data<int64_t>();
    for (int64_t b = 0; b < B; ++b)
      TGX_CHECK(p[b] >= 0 && p[b] <= T, ValueError, "[", op, "] lengths[", b, "] = ", p[b],
                " is outside [0, ", T, "]");
  }
  Tensor out, hn, cn;
  {
    autograd::GradModeGuard no_grad(false);
    autograd::FwGradDisabledGuard pause;
    // All input projections at once: gates (G*H, T*B) = W_ih @ x^T + b (feature-major).
    Tensor xt = transpose_2d(reshape(x, {T * B, I}));
    Tensor bias = mode == RnnMode::Gru ? b_ih : add_opt(b_ih, b_hh);
    st.gates = reshape(contiguous(mm(w_ih, xt)), {G * H, T, B});  // + bias inside the loop
    Tensor bx = contig(bias);
    const int64_t first = reverse ? T : 0;
    st.hbuf = empty({H, T + 1, B}, dt);
    Tensor s0 = select(st.hbuf, 1, first);
    h0 ? copy_(s0, transpose_2d(h0)) : fill_(s0, Scalar::from_int(0));
    if (mode == RnnMode::Lstm) {
      st.cbuf = empty({H, T + 1, B}, dt);
      Tensor c = select(st.cbuf, 1, first);
      c0 ? copy_(c, transpose_2d(c0)) : fill_(c, Scalar::from_int(0));
    }
    if (mode == RnnMode::Gru) st.hn_lin = empty({H, T, B}, dt);
    out = empty({T, B, H}, dt);
    Tensor whh = contiguous(w_hh), bhh = mode == RnnMode::Gru ? contig(b_hh) : nullptr;
    RnnArgs a = st.args(whh, bhh);
    a.out = out->raw(), a.b_x = bx ? bx->raw() : nullptr;
    TGX_KERNEL(rnn_forward_kernel)(dt, a);
    const int64_t last = reverse ? 0 : T;
    hn = contiguous(transpose_2d(select(st.hbuf, 1, last)));
    if (st.cbuf) cn = contiguous(transpose_2d(select(st.cbuf, 1, last)));
  }
  TensorList outs{out, hn};
  if (cn) outs.push_back(cn);
  TensorList inputs{x, h0, c0, w_ih, w_hh, b_ih, b_hh};
  if (!autograd::needs_record(inputs)) return outs;
  auto state = std::make_shared<const State>(st);
  std::string opname = mode_name;
  autograd::record(node_name(mode), inputs, outs, {x, w_ih, w_hh},
      [state, opname](const TensorList& g, const TensorList& s, const std::vector<bool>& needs) {
        return backward(*state, g, s[0], s[1], s[2], needs, opname.c_str());
      },
      [state](const TensorList& tg, const TensorList& in, const TensorList&) {
        return tangent(*state, tg, in);
      });
  return outs;
}

}  // namespace tgx::ops
