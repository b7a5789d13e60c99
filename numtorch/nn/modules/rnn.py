"""Recurrent layers: RNN, LSTM, GRU (this file) and their cells (``_rnn_cells.py``).

Each layer and direction runs as one fused primitive over the whole sequence
(``numtorch.ops.rnn``); this module checks arguments as torch does, stacks layers and directions,
applies dropout between layers, and handles batch_first, unbatched and packed input.
"""
from __future__ import annotations

import math
import numbers
import warnings

from ... import creation
from ...ops.join import cat, stack
from ...ops.rnn import rnn_layer
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from ._rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}

_ARGS_DOC = """
    Args:
        input_size: The number of expected features in the input `x`
        hidden_size: The number of features in the hidden state `h`
        num_layers: Number of recurrent layers (stacked, each feeding the next). Default: 1
        bias: If ``False``, the layer does not use bias weights b_ih and b_hh. Default: ``True``
        batch_first: If ``True``, the input and output tensors are (batch, seq, feature) instead
            of (seq, batch, feature); it does not apply to hidden states. Default: ``False``
        dropout: If non-zero, a Dropout layer on the outputs of each layer except the last,
            with this probability, in training mode. Default: 0
        bidirectional: If ``True``, becomes a bidirectional layer. Default: ``False``"""

_IO_DOC = """
    Inputs: input, hx
        input: (L, H_in) unbatched, (L, N, H_in) or with batch_first (N, L, H_in), or a
            PackedSequence.
        hx: initial hidden state (D * num_layers, N, H_out) or (D * num_layers, H_out)
            unbatched; zeros when omitted.

    Outputs: output, h_n
        output: (L, D * H_out), (L, N, D * H_out) or (N, L, D * H_out) with batch_first, or a
            PackedSequence when the input was one: the last layer's h_t for every t.
        h_n: final hidden state of every layer and direction, (D * num_layers, N, H_out); for
            packed input, the state after each sequence's own last step.

    D = 2 if bidirectional else 1. Parameters weight_ih_l[k], weight_hh_l[k], bias_ih_l[k],
    bias_hh_l[k] (and ``_reverse`` ones) start at U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
"""


def _doc(*parts):
    """Append the shared Args/Inputs/Outputs sections to a class's docstring."""
    def deco(cls):
        cls.__doc__ = cls.__doc__.rstrip() + "\n" + "".join(parts).rstrip() + "\n"
        return cls
    return deco


class RNNBase(Module):
    """Base class of RNN, LSTM and GRU: parameters (in torch's order and names), checks, and the
    layer/direction stacking. ``mode`` is 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        _check_args(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                shapes = [(gate_size, layer_input_size), (gate_size, real_hidden_size)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    shapes.append((proj_size, hidden_size))
                    names.append("weight_hr_l{}{}")
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(creation.empty(shape, dtype=dtype,
                                                                 device=device)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n) if hasattr(self, n) else None for n in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters per layer and direction, as lists in torch's order."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op: there is no cuDNN weight buffer to compact."""

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    # ---- checks (torch's methods and messages) ------------------------------------------------
    def check_input(self, input, batch_sizes) -> None:
        w = getattr(self, self._flat_weights_names[0])
        if input.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({w.dtype}). Convert input: input.to({w.dtype}), or convert "
                             f"model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got "
                               f"{input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx, expected_hidden_size,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        if hidden is not None:
            self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return hx.index_select(1, permutation)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ---- the computation ----------------------------------------------------------------------
    def _prepare(self, input, hx, name: str, tensor_word: str):
        """Unpack or reshape the input as torch's forward does, checking it: returns (x (S, I),
        per-step batch sizes, hx, the PackedSequence's batch_sizes or None, batched, T, N,
        sorted_indices, unsorted_indices); ``hx`` is None or a tuple of state Tensors."""
        if isinstance(input, PackedSequence):
            x, batch_sizes, sorted_indices, unsorted_indices = input
            if hx is not None and sorted_indices is not None:
                hx = tuple(h.index_select(1, sorted_indices) for h in hx)
            self._check_states(x, hx, batch_sizes)
            return (x, tuple(batch_sizes.tolist()), hx, batch_sizes, True, 0, 0,
                    sorted_indices, unsorted_indices)
        nd = input.dim()
        if nd not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {nd}D{tensor_word} "
                             "instead")
        batched = nd == 3
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        if hx is not None:
            dims = [h.dim() for h in hx]
            want = 3 if batched else 2
            if any(d != want for d in dims):
                what = "hx and cx" if len(hx) == 2 else "hx"
                got = (f"({', '.join(f'{d}-D' for d in dims)}) tensors" if len(hx) == 2
                       else f"{dims[0]}-D tensor")
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, {what} should also be {want}-D but got "
                                   f"{got}")
            if not batched:
                hx = tuple(h.unsqueeze(1) for h in hx)
        self._check_states(input, hx, None)
        x = input.transpose(0, 1) if self.batch_first else input
        T, N = x.shape[0], x.shape[1]
        if T == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        return (x.reshape(T * N, x.shape[2]), (N,) * T, hx, None, batched, T, N, None, None)

    def _check_states(self, x, hx, batch_sizes) -> None:
        self.check_forward_args(x, None if hx is None else hx[0], batch_sizes)

    def _layers(self, x, bs, hx):
        """Run every layer and direction: returns y (S, D * H_out) and the final states, each
        (num_layers * D, N, *)."""
        h0 = c0 = None
        if hx is not None:
            h0 = hx[0]
            c0 = hx[1] if len(hx) > 1 else None
        D = 2 if self.bidirectional else 1
        L = self.num_layers
        nb, proj = (4 if self.bias else 2), self.proj_size > 0
        hs, cs, k = [], [], 0
        for layer in range(L):
            ys = []
            for d in range(D):
                w = [getattr(self, n) for n in self._all_weights[k]]
                b_ih, b_hh = (w[2], w[3]) if self.bias else (None, None)
                y, h, c = rnn_layer(self.mode, x, None if h0 is None else h0[k],
                                    None if c0 is None else c0[k], w[0], w[1], b_ih, b_hh,
                                    w[nb] if proj else None, bs, d == 1)
                ys.append(y)
                hs.append(h)
                cs.append(c)
                k += 1
            x = ys[0] if D == 1 else cat(ys, 1)
            if self.dropout and self.training and layer < L - 1:
                x = F.dropout(x, self.dropout, True)
        h_n = hs[0].unsqueeze(0) if k == 1 else stack(hs)
        if cs[0] is None:
            return x, (h_n,)
        return x, (h_n, cs[0].unsqueeze(0) if k == 1 else stack(cs))

    def _run(self, input, hx, name: str, tensor_word: str):
        x, bs, hx, batch_sizes, batched, T, N, srt, unsrt = self._prepare(input, hx, name,
                                                                            tensor_word)
        y, states = self._layers(x, bs, hx)
        if unsrt is not None:
            states = tuple(s.index_select(1, unsrt) for s in states)
        if batch_sizes is not None:
            return PackedSequence(y, batch_sizes, srt, unsrt), states
        y = y.view(T, N, y.shape[1])
        if self.batch_first:
            y = y.transpose(0, 1)
        if not batched:
            y = y.squeeze(0 if self.batch_first else 1)
            states = tuple(s.squeeze(1) for s in states)
        return y, states


def _check_args(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size):
    if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
            isinstance(dropout, bool):
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                      "non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", stacklevel=4)
    if not isinstance(bias, bool):
        raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
    if not isinstance(batch_first, bool):
        raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
    if not isinstance(input_size, int):
        raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if not isinstance(hidden_size, int):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


@_doc(_ARGS_DOC, """
        nonlinearity: 'tanh' or 'relu'. Default: 'tanh'
""", _IO_DOC, """
    H_out = hidden_size.
""")
class RNN(RNNBase):
    """Multi-layer Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)``
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        y, (h,) = self._run(input, None if hx is None else (hx,), "RNN", " tensor")
        return y, h


@_doc(_ARGS_DOC, "\n", _IO_DOC, """
    H_out = hidden_size.
""")
class GRU(RNNBase):
    """Multi-layer gated recurrent unit (GRU) RNN:

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_(t-1) + b_hr)
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_(t-1) + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_(t-1) + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_(t-1)

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, device=None, dtype=None)``; weight rows are (W_r|W_z|W_n).
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        y, (h,) = self._run(input, None if hx is None else (hx,), "GRU", "")
        return y, h


@_doc(_ARGS_DOC, """
        proj_size: If > 0, the hidden state is projected to this size by weight_hr_l[k]
            (proj_size, hidden_size). Default: 0
""", _IO_DOC.replace("Inputs: input, hx", "Inputs: input, (h_0, c_0)").replace(
    "Outputs: output, h_n", "Outputs: output, (h_n, c_n)"), """
    H_out = proj_size if proj_size > 0 else hidden_size; c_0 and c_n are
    (D * num_layers, N, hidden_size).
""")
class LSTM(RNNBase):
    """Multi-layer long short-term memory (LSTM) RNN:

        i, f, o = sigmoid(W_i. x_t + b_i. + W_h. h_(t-1) + b_h.)  (input, forget, output gates)
        g_t = tanh(W_ig x_t + b_ig + W_hg h_(t-1) + b_hg)
        c_t = f_t * c_(t-1) + i_t * g_t;   h_t = o_t * tanh(c_t)   (times W_hr^T with proj_size)

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0, device=None, dtype=None)``; weight rows are
    (W_i|W_f|W_g|W_o).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        if hidden is not None:
            self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                                   "Expected hidden[0] size {}, got {}")
            self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                                   "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return hx[0].index_select(1, permutation), hx[1].index_select(1, permutation)

    def _check_states(self, x, hx, batch_sizes) -> None:
        self.check_forward_args(x, hx, batch_sizes)

    def forward(self, input, hx=None):
        if hx is not None:
            hx = tuple(hx)
        y, (h, c) = self._run(input, hx, "LSTM", "")
        return y, (h, c)
