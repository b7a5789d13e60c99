"""nn.functional: max, average and Lp pooling (adaptive pooling and max-unpooling come from
``_functional_adaptive``, interpolate and the upsampling aliases from ``_functional_resample``).

Argument checks follow PyTorch's kernels, message for message (``_pool_args``); the math is in
``ops/pool.py``.
"""
from __future__ import annotations

from ..ops import pool as _pool
from ..ops._common import not_implemented
from ..tensor import Tensor
from . import _pool_args as _a
from ._functional_adaptive import *  # noqa: F401,F403
from ._functional_adaptive import __all__ as _adaptive_all
from ._functional_resample import *  # noqa: F401,F403
from ._functional_resample import __all__ as _resample_all

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
    "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
    "avg_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
] + list(_adaptive_all) + list(_resample_all)


def _max(x, wins, return_indices, kernel):
    if x._data.dtype.kind == "b":
        raise not_implemented(kernel, x)
    if not return_indices:
        return _pool.MaxPool.apply(x, wins, False)
    y, ctx = _pool.MaxPool.apply_ctx(x, wins, True)
    return y, Tensor._make(ctx.indices)


# ---- max pooling ------------------------------------------------------------------------------
_MP1 = "max_pool1d() {} must be {} tuple of ints of size 1 but got size {}"


def _mp1_arg(v, what, forms):
    if isinstance(v, int):
        return v
    v = tuple(v)
    if len(v) != 1:
        raise RuntimeError(_MP1.format(what, forms, len(v)))
    return v[0]


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L) input.

    Args:
        kernel_size: window length. stride: step (default: kernel_size). padding: implicit -inf
        on both sides, at most half the kernel. dilation: step inside a window. ceil_mode: round
        the output length up. return_indices: also return the argmax positions along L.
    Shape: (N, C, L) -> (N, C, L_out),
        L_out = floor((L + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1).
    """
    if return_indices:
        return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    shape = input._data.shape
    if len(shape) not in (2, 3) or 0 in shape[-2:]:
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{list(shape)}")
    k = _mp1_arg(kernel_size, "kernel_size", "an int, list of ints or")
    s = k if _a.omitted(stride) else \
        _mp1_arg(stride, "stride", "None, an int, list of ints, or")
    p = _mp1_arg(padding, "padding", "an int, list of ints, or")
    d = _mp1_arg(dilation, "dilation", "an int, list of ints or")
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError("max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    o, w = _a.sliding(shape[-1], k, s, d, p, bool(ceil_mode))
    if o <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {o}")
    dt = input._data.dtype
    if dt.kind not in "fu" and dt.itemsize != 8:
        raise not_implemented("max_pool1d_impl", input)
    return _max(input, (w,), False, "max_pool1d_impl")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool1d`` that also returns the argmax positions along L."""
    _a.dim_range("max_pool1d", input, 2, 4)
    k = _a.one("max_pool1d", "kernel_size", kernel_size)
    s = k if _a.omitted(stride) else _a.one("max_pool1d", "stride", stride)
    p = _a.one("max_pool1d", "padding", padding)
    d = _a.one("max_pool1d", "dilation", dilation)
    return _max(input, _a.windows_1d(input, k, s, p, d, ceil_mode), True, "max_pool2d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W) input.

    Args:
        kernel_size: window size (int or (kH, kW)). stride: step (default: kernel_size).
        padding: implicit -inf on both sides, at most half the effective kernel. dilation: step
        inside a window. ceil_mode: round the output size up (a window must still start inside
        the input or the left padding). return_indices: also return the argmax positions, flat
        into each H*W plane (for ``max_unpool2d``).
    Shape: (N, C, H, W) -> (N, C, H_out, W_out),
        H_out = floor((H + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1).
    """
    if input._data.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    ks, ss, ps, ds = _a.nd_args("max_pool2d", 2, kernel_size, stride, padding, dilation)
    wins = _a.windows(input._data.shape, ks, ss, ps, ds, ceil_mode)
    return _max(input, wins, return_indices, "max_pool2d")


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool2d`` that also returns the argmax positions."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W) input (arguments as
    ``max_pool2d``; indices are flat into each D*H*W volume)."""
    if input._data.ndim not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    ks, ss, ps, ds = _a.nd_args("max_pool3d", 3, kernel_size, stride, padding, dilation)
    wins = _a.windows(input._data.shape, ks, ss, ps, ds, ceil_mode,
                      "max_pool3d_with_indices_out_cpu_template()")
    return _max(input, wins, return_indices, "max_pool3d")


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool3d`` that also returns the argmax positions."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---- average pooling --------------------------------------------------------------------------
def _avg(x, wins, count_include_pad, divisor_override, kernel):
    _a.float_or_long(x, kernel)
    div = divisor_override if divisor_override is not None else \
        _pool.avg_divisor(wins, count_include_pad)
    return _pool.AvgPool.apply(x, wins, div)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L) input.

    Args:
        kernel_size: window length. stride: step (default: kernel_size). padding: implicit
        zeros on both sides. ceil_mode: round the output length up. count_include_pad: count
        the zero padding in the divisor.
    Shape: (N, C, L) -> (N, C, L_out), L_out = floor((L + 2 padding - kernel_size) / stride + 1).
    """
    _a.dim_range("avg_pool1d", input, 2, 4)
    k = _a.one("avg_pool1d", "kernel_size", kernel_size)
    s = k if _a.omitted(stride) else _a.one("avg_pool1d", "stride", stride)
    p = _a.one("avg_pool1d", "padding", padding)
    wins = _a.windows_1d(input, k, s, p, 1, ceil_mode)
    return _avg(input, wins, count_include_pad, None, "avg_pool2d")


def _avg_nd(name, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
            divisor_override):
    ks, ss, ps, _ = _a.nd_args(name, nd, kernel_size, stride, padding)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    shape = input._data.shape
    if nd == 3 and len(shape) not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    if len(shape) < nd + 1:
        n = max(len(shape), 1)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {-nd - 1})")
    if len(shape) > nd + 2:
        raise RuntimeError(f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{list(shape)}")
    wins = _a.windows(shape, ks, ss, ps, (1,) * nd, ceil_mode, "avg_pool3d()")
    kernel = name if nd == 2 else "avg_pool3d_out_frame"
    return _avg(input, wins, count_include_pad, divisor_override, kernel)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W) input.

    Args:
        kernel_size: window size. stride: step (default: kernel_size). padding: implicit zeros
        on both sides. ceil_mode: round the output size up. count_include_pad: count the zero
        padding in the divisor. divisor_override: divide by this instead of the window size.
    Shape: (N, C, H, W) -> (N, C, H_out, W_out),
        H_out = floor((H + 2 padding - kernel_size) / stride + 1).
    """
    return _avg_nd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                   count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W) input (arguments as
    ``avg_pool2d``)."""
    return _avg_nd("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                   count_include_pad, divisor_override)


# ---- power-average pooling --------------------------------------------------------------------
def _lp(input, norm_type, kernel_size, stride, ceil_mode, nd, avg, mx):
    ks = (kernel_size,) * nd if isinstance(kernel_size, int) else tuple(kernel_size)
    if norm_type == float("inf"):
        return mx(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -mx(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    n = 1
    for k in ks:
        n *= k
    return (out.sign() * out.abs().relu()).mul(n).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling: (sum over each window of x**p) ** (1/p)."""
    return _lp(input, norm_type, kernel_size, stride, ceil_mode, 1, avg_pool1d, max_pool1d)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling: (sum over each window of x**p) ** (1/p)."""
    return _lp(input, norm_type, kernel_size, stride, ceil_mode, 2, avg_pool2d, max_pool2d)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling: (sum over each window of x**p) ** (1/p)."""
    return _lp(input, norm_type, kernel_size, stride, ceil_mode, 3, avg_pool3d, max_pool3d)
