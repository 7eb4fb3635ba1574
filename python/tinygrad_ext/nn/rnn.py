"""Recurrent modules: RNN, LSTM, GRU and their cells (torch.nn names, defaults and weight layout).

Parameters are named and shaped as PyTorch's (weight_ih_l0 (gates * hidden, input), weight_hh_l0,
bias_ih_l0, bias_hh_l0, ``_reverse`` for the second direction; gates LSTM i,f,g,o and GRU r,z,n),
so a torch state_dict loads. Each layer and direction is one call of ``_C._rnn_layer``: the time
loop, the gate math and the backward through time run in C++.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _C
from ..utils.rnn import PackedSequence, _packed_to_padded, _padded_to_packed_data
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_C_MODE = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu", "LSTM": "lstm", "GRU": "gru"}


def _check_sizes(input_size, hidden_size, name):
    if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if not isinstance(input_size, int) or input_size < 0:
        raise ValueError(f"[{name}] input_size must be a non-negative int, got {input_size!r}")


class RNNBase(Module):
    """Common code of RNN, LSTM and GRU: parameters, state checks, the layer/direction loop."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        name = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
        _check_sizes(input_size, hidden_size, name)
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=2,
            )
        if proj_size != 0:
            raise NotImplementedError(f"[{name}] proj_size={proj_size} is not supported (only 0)")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        dtype = dtype or _C.float32
        G = _GATES[mode]
        D = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                in_size = input_size if layer == 0 else hidden_size * D
                shapes = [("weight_ih", (G * hidden_size, in_size)),
                          ("weight_hh", (G * hidden_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (G * hidden_size,)), ("bias_hh", (G * hidden_size,))]
                for n, shape in shapes:
                    setattr(self, n + sfx, Parameter(_C.empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(n + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """No-op (PyTorch packs cuDNN weights here)."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        per = 4 if self.bias else 2
        w = self._flat_weights
        return [w[i : i + per] for i in range(0, len(w), per)]

    def _layer_weights(self, layer: int, d: int):
        sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        ws = [getattr(self, n + sfx) for n in names]
        return ws if self.bias else ws + [None, None]

    def _check_hidden(self, h, expected, what="hidden"):
        if tuple(h.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(h.shape)}")

    def forward(self, input, hx=None):
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        D = 2 if self.bidirectional else 1
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:
            x, lens = _packed_to_padded(input)
            lengths = _C.tensor(lens)
            batched = True
            if hx is not None and input.sorted_indices is not None:
                perm = input.sorted_indices
                hx = (hx[0].index_select(1, perm), hx[1].index_select(1, perm)) if lstm \
                    else hx.index_select(1, perm)
        else:
            if not isinstance(input, _C.Tensor):
                raise TypeError(f"[{name}] input must be a Tensor or a PackedSequence, got "
                                f"{type(input).__name__}")
            if input.dim() not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D tensor instead")
            batched = input.dim() == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
            if hx is not None:
                hs = hx if lstm else (hx,)
                if not isinstance(hs, (tuple, list)) or len(hs) != (2 if lstm else 1):
                    raise TypeError(f"[{name}] hx must be {'a tuple (h_0, c_0)' if lstm else 'a Tensor'}")
                want = 3 if batched else 2
                for h in hs:
                    if h.dim() != want:
                        kind = "batched 3-D" if batched else "unbatched 2-D"
                        raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got "
                                           f"{h.dim()}-D tensor")
                if not batched:
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1)) if lstm else hx.unsqueeze(1)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {x.shape[-1]}")
        B = x.shape[1]
        expected = (self.num_layers * D, B, self.hidden_size)
        h0 = c0 = None
        if hx is not None:
            h0, c0 = hx if lstm else (hx, None)
            self._check_hidden(h0, expected)
            if lstm:
                self._check_hidden(c0, expected, "cell")
        mode = _C_MODE[self.mode]
        layer_in = x
        hn, cn = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                r = _C._rnn_layer(mode, layer_in, None if h0 is None else h0[k],
                                  None if c0 is None else c0[k], *self._layer_weights(layer, d),
                                  lengths, d == 1)
                outs.append(r[0])
                hn.append(r[1])
                if lstm:
                    cn.append(r[2])
            layer_in = outs[0] if D == 1 else _C.cat(outs, 2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        output, h_n = layer_in, _C.stack(hn, 0)
        c_n = _C.stack(cn, 0) if lstm else None
        if packed:
            bs = input.batch_sizes.numpy().astype(np.int64)
            output = PackedSequence(_padded_to_packed_data(output, bs), input.batch_sizes,
                                    input.sorted_indices, input.unsorted_indices)
            if input.unsorted_indices is not None:
                h_n = h_n.index_select(1, input.unsorted_indices)
                c_n = c_n.index_select(1, input.unsorted_indices) if lstm else None
        elif not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """LSTM (gates i, f, g, o); forward returns (output, (h_n, c_n))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """GRU (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


class RNNCellBase(Module):
    """One time step; parameters weight_ih, weight_hh, bias_ih, bias_hh as PyTorch's cells."""

    _mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None):
        super().__init__()
        _check_sizes(input_size, hidden_size, type(self).__name__)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dtype = dtype or _C.float32
        self.weight_ih = Parameter(_C.empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(_C.empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_C.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(_C.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _step(self, input, states):
        name = type(self).__name__
        if not isinstance(input, _C.Tensor):
            raise TypeError(f"[{name}] input must be a Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[1]} expected "
                               f"{self.input_size}")
        hs = []
        for k, h in enumerate(states):
            if h is None:
                hs.append(None)
                continue
            if h.dim() != input.dim():
                raise RuntimeError(f"{name}: Expected hidden to be {input.dim()}D (as the input), got "
                                   f"{h.dim()}D instead")
            h = h if batched else h.unsqueeze(0)
            if h.shape[0] != x.shape[0]:
                raise RuntimeError(f"Input batch size {x.shape[0]} doesn't match hidden{k} batch size "
                                   f"{h.shape[0]}")
            if h.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {h.shape[1]}, "
                                   f"expected {self.hidden_size}")
            hs.append(h)
        r = _C._rnn_layer(_C_MODE[self._mode], x.unsqueeze(0), hs[0], hs[1] if len(hs) > 1 else None,
                          self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        out = list(r[1:])
        return out if batched else [o.squeeze(0) for o in out]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity='{self.nonlinearity}'"
        return s


class RNNCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step(input, [hx])[0]


class LSTMCell(RNNCellBase):
    _mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        return tuple(self._step(input, [h, c]))


class GRUCell(RNNCellBase):
    _mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step(input, [hx])[0]
