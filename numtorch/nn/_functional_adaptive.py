"""nn.functional: adaptive average/max pooling and max-unpooling."""
from __future__ import annotations

from .. import backend
from ..ops import pool as _pool
from ..ops._common import type_name
from ..tensor import Tensor
from . import _pool_args as _a

xp = backend.xp

__all__ = [
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_avg_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d",
]


def _list_with_default(out_size, defaults):
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size):])]


def _pool_adaptive(x, outs, is_max, return_indices):
    """Adaptive pooling of the trailing len(outs) axes of ``x``: output ``i`` along an axis of
    length n reads [floor(i n / o), ceil((i + 1) n / o))."""
    nd = len(outs)
    shape = x._data.shape
    if 0 in outs or 0 in shape:
        y = Tensor._make(xp.zeros(shape[:len(shape) - nd] + tuple(outs), x._data.dtype))
        return (y, Tensor._make(xp.zeros(y._data.shape, xp.int64))) if return_indices else y
    wins = tuple(_pool.adaptive_windows(n, o) for n, o in zip(shape[-nd:], outs))
    if not is_max:
        return _pool.AvgPool.apply(x, wins, _pool.avg_divisor(wins, True))
    if not return_indices:
        return _pool.MaxPool.apply(x, wins, False)
    y, ctx = _pool.MaxPool.apply_ctx(x, wins, True)
    return y, Tensor._make(ctx.indices)


def _joined(outs):
    # NOTE: torch's 3-D message drops the last space: {-1, -1,-1}
    return ", ".join(str(o) for o in outs[:2]) + "".join(f",{o}" for o in outs[2:])


def _avg_checks(name, x, outs, nd, shape=None):
    if len(outs) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd}")
    if min(outs) < 0:
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{_joined(outs)}}}")
    shape = x._data.shape if shape is None else shape
    if len(shape) not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(shape)}")
    for i in range(len(shape) - nd, len(shape)):
        if shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(shape)} with dimension "
                               f"{i} being empty")
    _a.floating(x, name)


def _max_checks(name, x, outs, nd, shape=None):
    shape = x._data.shape if shape is None else shape
    if len(shape) not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(shape)}")
    for i in range(1, len(shape)):
        if shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(shape)} with dimension "
                               f"{i} being empty")
    if len(outs) != nd:
        raise RuntimeError(f"{name}(): internal error: output_size.size() must be {nd}")
    if min(outs) < 0:
        o = min(outs)
        raise RuntimeError(f"Trying to create tensor with negative dimension {o}: "
                           f"{list(shape[:len(shape) - nd]) + list(outs)}")
    _a.floating(x, name)


def _outs(output_size, x, nd):
    outs = _list_with_default(output_size, x._data.shape)
    return (outs,) * nd if isinstance(outs, int) else tuple(outs)


def adaptive_avg_pool1d(input, output_size):
    """1-D adaptive average pooling: (N, C, L) or (C, L) -> (N, C, output_size)."""
    _a.dim_range("adaptive_avg_pool1d", input, 2, 4)
    o = _a.one("adaptive_avg_pool1d", "output_size", output_size)
    shape = input._data.shape  # torch checks it as the 2-D pooling of x[..., None, :]
    _avg_checks("adaptive_avg_pool2d", input, (1, o), 2, shape[:-1] + (1,) + shape[-1:])
    return _pool_adaptive(input, (o,), False, False)


def adaptive_avg_pool2d(input, output_size):
    """2-D adaptive average pooling to ``output_size`` ((oH, oW), an int, None keeps a size).

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, oH, oW); output i along H averages rows
    [floor(i H / oH), ceil((i + 1) H / oH)).
    """
    outs = _outs(output_size, input, 2)
    _avg_checks("adaptive_avg_pool2d", input, outs, 2)
    return _pool_adaptive(input, outs, False, False)


def adaptive_avg_pool3d(input, output_size):
    """3-D adaptive average pooling: (N, C, D, H, W) or (C, D, H, W) -> (N, C, oD, oH, oW)."""
    outs = _outs(output_size, input, 3)
    _avg_checks("adaptive_avg_pool3d", input, outs, 3)
    return _pool_adaptive(input, outs, False, False)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-D adaptive max pooling: (N, C, L) or (C, L) -> (N, C, output_size) (and indices)."""
    _a.dim_range("adaptive_max_pool1d", input, 2, 4)
    o = _a.one("adaptive_max_pool1d", "output_size", output_size)
    shape = input._data.shape
    for i in range(1, len(shape)):
        if shape[i] == 0:
            raise RuntimeError("adaptive_max_pool1d(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes {list(shape)} with "
                               f"dimension {i} being empty")
    _max_checks("adaptive_max_pool2d", input, (1, o), 2, shape[:-1] + (1,) + shape[-1:])
    return _pool_adaptive(input, (o,), True, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d`` that also returns the argmax positions."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """2-D adaptive max pooling to ``output_size`` ((oH, oW), an int, None keeps a size), with
    the argmax positions (flat into each H*W plane) when ``return_indices``."""
    outs = _outs(output_size, input, 2)
    _max_checks("adaptive_max_pool2d", input, outs, 2)
    return _pool_adaptive(input, outs, True, return_indices)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d`` that also returns the argmax positions."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """3-D adaptive max pooling (see ``adaptive_max_pool2d``)."""
    outs = _outs(output_size, input, 3)
    _max_checks("adaptive_max_pool3d", input, outs, 3)
    return _pool_adaptive(input, outs, True, return_indices)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d`` that also returns the argmax positions."""
    return adaptive_max_pool3d(input, output_size, True)


# ---- max-unpooling ----------------------------------------------------------------------------
def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    input_size = input._data.shape
    nd = len(kernel_size)
    default = [(input_size[-nd + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d]
               for d in range(nd)]
    if output_size is None:
        ret = default
    else:
        if len(output_size) == nd + 2:
            output_size = output_size[2:]
        if len(output_size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                             f"elements, but it has a length of '{len(output_size)}'")
        for d in range(nd):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < output_size[d] < hi:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                                 f"{lo} and {hi})")
        ret = output_size
    for d in range(nd):
        if ret[d] < 0:
            raise ValueError("max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={ret[d]}")
    return list(ret)


def _unpool(input, indices, size, name):
    """Scatter ``input`` to the flat positions ``indices`` of zero planes of ``size``."""
    nd = len(size)
    x, idx = input._data, indices._data
    if idx.dtype != xp.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{type_name(indices)}")
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to {name} should be a {nd + 1}d or {nd + 2}d Tensor, but got "
                           f"a tensor with {x.ndim} dimensions.")
    if x.shape != idx.shape:
        raise RuntimeError("Expected shape of indices to be same as that of the input tensor "
                           f"({list(x.shape)}) but got indices tensor with shape: "
                           f"{list(idx.shape)}")
    n = 1
    for s in size:
        n *= s
    bad = (idx < 0) | (idx >= n)
    if bad.any():
        raise RuntimeError(f"Found an invalid max index: {idx[bad].flat[0]} (output volumes are "
                           f"of size {'x'.join(str(s) for s in size)})")
    return _pool.MaxUnpool.apply(input, indices, tuple(size))


def _ntuple(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


def _unpool_nd(input, indices, kernel_size, stride, padding, output_size, nd, name):
    ks = _ntuple(kernel_size, nd)
    ss = ks if stride is None else _ntuple(stride, nd)
    size = _unpool_output_size(input, ks, ss, _ntuple(padding, nd), output_size)
    return _unpool(input, indices, size, name)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: put each value back at its argmax, zeros elsewhere."""
    if input._data.ndim not in (2, 3):  # torch runs it as max_unpool2d of x[..., None]
        raise RuntimeError("Input to max_unpooling2d should be a 3d or 4d Tensor, but got a "
                           f"tensor with {input._data.ndim + 1} dimensions.")
    return _unpool_nd(input, indices, kernel_size, stride, padding, output_size, 1,
                      "max_unpooling2d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``: put each value back at its argmax (flat into H*W),
    zeros elsewhere.  Shape: (N, C, H, W) -> (N, C, H_out, W_out),
    H_out = (H - 1) stride - 2 padding + kernel_size, or ``output_size``."""
    return _unpool_nd(input, indices, kernel_size, stride, padding, output_size, 2,
                      "max_unpooling2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d`` (see ``max_unpool2d``)."""
    return _unpool_nd(input, indices, kernel_size, stride, padding, output_size, 3,
                      "max_unpooling3d")
