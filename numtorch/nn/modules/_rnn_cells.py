"""Recurrent cells: RNNCell, LSTMCell, GRUCell (one time step; re-exported by ``rnn.py``).

A cell step is the layer primitive of ``numtorch.ops.rnn`` run over a single step.
"""
from __future__ import annotations

import math

from ... import creation
from ...ops._common import type_name
from ...ops.rnn import rnn_layer
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """Base class of the cells: weight_ih (G * hidden_size, input_size), weight_hh
    (G * hidden_size, hidden_size), bias_ih and bias_hh (G * hidden_size), all starting at
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        kw = {"dtype": dtype, "device": device}
        self.weight_ih = Parameter(creation.empty((num_chunks * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(creation.empty((num_chunks * hidden_size, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _step(self, mode, name, input, hx, two):
        """Checks as torch's, then one step; ``hx`` is None or a tuple of 1 or 2 states."""
        nd = input.dim()
        if nd not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {nd}D instead")
        if hx is not None:
            for i, h in enumerate(hx):
                if h.dim() not in (1, 2):
                    what = f"hx[{i}]" if two else "hidden"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {h.dim()}D "
                                     "instead")
        if mode is None:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        batched = nd == 2
        if not batched:
            input = input.unsqueeze(0)
            if hx is not None:
                hx = tuple(h.unsqueeze(0) for h in hx)
        n, size = input.shape[0], input.shape[1]
        if size != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {size} expected "
                               f"{self.input_size}")
        if hx is not None:
            for i, h in enumerate(hx):
                if h.shape[0] != n:
                    raise RuntimeError(f"Input batch size {n} doesn't match hidden{i} batch "
                                       f"size {h.shape[0]}")
                if h.shape[1] != self.hidden_size:
                    raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got "
                                       f"{h.shape[1]}, expected {self.hidden_size}")
        w = self.weight_ih
        if input.dtype != w.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                               f"{type_name(input)} and {type_name(w)}")
        h0 = c0 = None
        if hx is not None:
            h0 = hx[0]
            c0 = hx[1] if two else None
        y, _, c = rnn_layer(mode, input, h0, c0, w, self.weight_hh, self.bias_ih, self.bias_hh,
                            None, (n,))
        if not batched:
            y = y.squeeze(0)
            c = None if c is None else c.squeeze(0)
        return (y, c) if two else y


class RNNCell(RNNCellBase):
    """An Elman RNN cell: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu.

    Args:
        input_size: The number of expected features in the input `x`
        hidden_size: The number of features in the hidden state `h`
        bias: If ``False``, the layer does not use bias weights b_ih and b_hh. Default: ``True``
        nonlinearity: 'tanh' or 'relu'. Default: 'tanh'

    Inputs: input (N, input_size) or (input_size), hidden (N, hidden_size) or (hidden_size),
    zeros if omitted.  Output: h' (N, hidden_size) or (hidden_size).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            mode = None
        return self._step(mode, "RNNCell", input, None if hx is None else (hx,), False)


class LSTMCell(RNNCellBase):
    """A long short-term memory (LSTM) cell: gates i, f, g, o from x W_ih^T + b_ih + h W_hh^T +
    b_hh; c' = f c + i g, h' = o tanh(c').

    Args:
        input_size: The number of expected features in the input `x`
        hidden_size: The number of features in the hidden state `h`
        bias: If ``False``, the layer does not use bias weights b_ih and b_hh. Default: ``True``

    Inputs: input (N, input_size) or (input_size), (h_0, c_0) each (N, hidden_size) or
    (hidden_size), zeros if omitted.  Outputs: (h_1, c_1), the same shapes as (h_0, c_0).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step("LSTM", "LSTMCell", input, None if hx is None else tuple(hx), True)


class GRUCell(RNNCellBase):
    """A gated recurrent unit (GRU) cell: r, z = sigmoid(.), n = tanh(W_in x + b_in + r (W_hn h +
    b_hn)), h' = (1 - z) n + z h.

    Args:
        input_size: The number of expected features in the input `x`
        hidden_size: The number of features in the hidden state `h`
        bias: If ``False``, the layer does not use bias weights b_ih and b_hh. Default: ``True``

    Inputs: input (N, input_size) or (input_size), hidden (N, hidden_size) or (hidden_size),
    zeros if omitted.  Output: h' (N, hidden_size) or (hidden_size).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step("GRU", "GRUCell", input, None if hx is None else (hx,), False)
