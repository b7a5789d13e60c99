"""Reductions: sum, mean, prod, amax/amin, max/min, var/std, logsumexp, norm, all/any,
argmax/argmin, count_nonzero. Scans and sorts (cumsum, sort, topk, ...) live in ``sort.py``
and are re-exported here."""
from __future__ import annotations

import builtins
import collections
import math

from ..autograd.function import Context, Function
from ..backend import dtypes as _dt
from ..tensor import Tensor
from ._common import cast, dims, to_floating, type_name, wrap_dim

xp = Context.xp
values_indices = collections.namedtuple("values_indices", ["values", "indices"])


def _expand_back(gy, shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input's shape."""
    if axes is None:
        return xp.broadcast_to(gy.reshape((1,) * len(shape)) if shape else gy, shape)
    if not keepdim:
        gy = xp.expand_dims(gy, axes)
    return xp.broadcast_to(gy, shape)


def _count(shape, axes) -> int:
    return math.prod(shape) if axes is None else math.prod(shape[a] for a in axes)


class Sum(Function):
    """y = sum of x over ``axes`` (None: all)."""

    @staticmethod
    def forward(ctx: Context, x, axes, keepdim, npd):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim, dtype=npd)

    @staticmethod
    def backward(ctx: Context, gy):
        return _expand_back(gy, ctx.shape, ctx.axes, ctx.keepdim), None, None, None


class Mean(Function):
    """y = mean of x over ``axes`` (NaN for an empty reduction, as in PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.n = n = _count(x.shape, axes)
        return xp.true_divide(x.sum(axis=axes, keepdims=keepdim), n)

    @staticmethod
    def backward(ctx: Context, gy):
        g = _expand_back(gy, ctx.shape, ctx.axes, ctx.keepdim)
        return g * gy.dtype.type(1.0 / builtins.max(ctx.n, 1)), None, None


class Prod(Function):
    """y = product of x over one axis (or all); the gradient is exact also where x has zeros."""

    @staticmethod
    def forward(ctx: Context, x, axis, keepdim, npd):
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdim = axis, keepdim
        return x.prod(axis=axis, keepdims=keepdim, dtype=npd)

    @staticmethod
    def backward(ctx: Context, gy):
        (x,) = ctx.saved_tensors
        if x.size == 0:
            return xp.zeros_like(x), None, None, None
        flat = ctx.axis is None
        xx = x.reshape(-1) if flat else x
        ax = 0 if flat else ctx.axis
        if not flat and not ctx.keepdim:
            gy = xp.expand_dims(gy, ax)
        # product of all other elements = exclusive cumprod from the left * from the right
        one = xp.ones_like(xp.take(xx, [0], ax))
        left = xp.cumprod(xp.concatenate([one, xp.take(xx, range(xx.shape[ax] - 1), ax)], ax), ax)
        rev = xp.flip(xx, ax)
        right = xp.flip(xp.cumprod(xp.concatenate(
            [one, xp.take(rev, range(rev.shape[ax] - 1), ax)], ax), ax), ax)
        gx = (gy.reshape(-1) if flat else gy) * left * right
        return (gx.reshape(x.shape) if flat else gx), None, None, None


class Amax(Function):
    """y = max (or min) of x over ``axes``; ties share the gradient evenly (as torch.amax)."""

    @staticmethod
    def forward(ctx: Context, x, axes, keepdim, is_max):
        y = (x.max if is_max else x.min)(axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axes = axes
        return y if keepdim else y.reshape(_drop(x.shape, axes))

    @staticmethod
    def backward(ctx: Context, gy):
        x, y = ctx.saved_tensors
        mask = x == y
        count = mask.sum(axis=ctx.axes, keepdims=True)
        return mask * (gy.reshape(y.shape) / count).astype(gy.dtype), None, None, None


def _drop(shape, axes):
    if axes is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in axes)


class VarStd(Function):
    """Variance (or standard deviation) over ``axes`` with Bessel's ``correction``.

    d var / dx = 2 (x - mean) / (n - correction); d std / dx = d var / dx / (2 std), which is
    NOTE: 0 where std == 0 (as in PyTorch) instead of 0/0.
    """

    @staticmethod
    def forward(ctx: Context, x, axes, keepdim, correction, is_std):
        n = _count(x.shape, axes)
        d = x - xp.true_divide(x.sum(axis=axes, keepdims=True), n)
        y = xp.true_divide((d * d).sum(axis=axes, keepdims=True), builtins.max(n - correction, 0))
        if is_std:
            y = xp.sqrt(y)
        ctx.save_for_backward(d, y)
        ctx.scale = 2.0 / (n - correction) if n > correction else float("nan")
        ctx.is_std = is_std
        return y if keepdim else y.reshape(_drop(x.shape, axes))

    @staticmethod
    def backward(ctx: Context, gy):
        d, y = ctx.saved_tensors
        g = gy.reshape(y.shape)
        if ctx.is_std:
            g = xp.where(y == 0, 0, g / (2 * y))
        return d * (g * gy.dtype.type(ctx.scale)), None, None, None, None


class LogSumExp(Function):
    """y = log(sum(exp(x))) over ``axes``, shifted by the max for stability."""

    @staticmethod
    def forward(ctx: Context, x, axes, keepdim):
        m = x.max(axis=axes, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, x.dtype)
        m = xp.where(xp.isfinite(m), m, 0)
        y = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, y)
        ctx.axes = axes
        return y if keepdim else y.reshape(_drop(x.shape, axes))

    @staticmethod
    def backward(ctx: Context, gy):
        x, y = ctx.saved_tensors
        return gy.reshape(y.shape) * xp.exp(x - y), None, None


class Norm(Function):
    """y = (sum |x|^p)^(1/p) over ``axes``; NOTE: the gradient at y == 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx: Context, x, p, axes, keepdim):
        if p == 2:
            y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        elif p == 1:
            y = xp.abs(x).sum(axis=axes, keepdims=True)
        else:
            y = (xp.abs(x) ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.axes = p, axes
        return y if keepdim else y.reshape(_drop(x.shape, axes))

    @staticmethod
    def backward(ctx: Context, gy):
        x, y = ctx.saved_tensors
        p = ctx.p
        g = gy.reshape(y.shape)
        if p == 1:
            return g * xp.sign(x), None, None, None
        if p == 2:
            gx = x * (g / y)
        else:
            gx = xp.sign(x) * xp.abs(x) ** (p - 1) * (g / y ** (p - 1))
        return xp.where(y == 0, 0, gx).astype(x.dtype, copy=False), None, None, None


def _reduce_dtype(t, dtype):
    """sum/prod's result dtype: ``dtype`` if given, int64 for integer and bool inputs."""
    if dtype is not None:
        return _dt.to_np(dtype)
    return xp.dtype(xp.int64) if t._data.dtype.kind in "iub" else t._data.dtype


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (int, tuple, or None for all); integers and bools sum to int64."""
    npd = _reduce_dtype(input, dtype)
    if dtype is not None:
        input = cast(input, npd)
    return Sum.apply(input, dims(dim, input._data.ndim), keepdim, npd)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as zero."""
    from .arith import isnan, where
    return sum(where(isnan(input), 0.0, input), dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim``; floating inputs only (or pass ``dtype``), as in PyTorch."""
    if dtype is not None:
        input = cast(input, _dt.to_np(dtype))
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {type_name(input)}")
    return Mean.apply(input, dims(dim, input._data.ndim), keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of the non-NaN elements."""
    from .arith import div, isnan
    return div(nansum(input, dim, keepdim), (~isnan(input)).sum(dim, keepdim))


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over one dimension (or all)."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    npd = _reduce_dtype(input, dtype)
    if dtype is not None:
        input = cast(input, npd)
    axis = None if dim is None else wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        axis = None
    return Prod.apply(input, axis, keepdim, npd)


def _check_nonempty(input, axes, name):
    if input._data.size == 0:
        if axes is None:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        for a in axes:
            if input._data.shape[a] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")


def amax(input, dim=(), keepdim=False):
    """Maximum over ``dim`` (all when empty); ties share the gradient evenly."""
    axes = dims(dim, input._data.ndim)
    _check_nonempty(input, axes, "amax")
    return Amax.apply(input, axes, keepdim, True)


def amin(input, dim=(), keepdim=False):
    """Minimum over ``dim`` (all when empty); ties share the gradient evenly."""
    axes = dims(dim, input._data.ndim)
    _check_nonempty(input, axes, "amin")
    return Amax.apply(input, axes, keepdim, False)


def _arg(input, dim, keepdim, fn, name):
    a = input._data
    if a.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0.")
        i = xp.asarray(fn(a.reshape(-1)), dtype=xp.int64)
        return Tensor._make(i.reshape((1,) * a.ndim) if keepdim else i)
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return Tensor._make(xp.zeros((), xp.int64))
    if a.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return Tensor._make(xp.asarray(fn(a, axis=d, keepdims=keepdim), dtype=xp.int64))


def argmax(input, dim=None, keepdim=False):
    """Index of the first maximum (of the flattened input when ``dim`` is None)."""
    return _arg(input, dim, keepdim, xp.argmax, "argmax")


def argmin(input, dim=None, keepdim=False):
    """Index of the first minimum (of the flattened input when ``dim`` is None)."""
    return _arg(input, dim, keepdim, xp.argmin, "argmin")


def _minmax(input, dim, keepdim, is_max):
    from .arith import maximum, minimum
    from .sort import PickAlongDim
    name = "max" if is_max else "min"
    if dim is None:
        _check_nonempty(input, None, name)
        return Amax.apply(input, None, False, is_max)
    if isinstance(dim, Tensor):
        return (maximum if is_max else minimum)(input, dim)
    a = input._data
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return values_indices(input.clone(), Tensor._make(xp.zeros((), xp.int64)))
    if a.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    src = a.view(xp.uint8) if a.dtype.kind == "b" else a
    idx = (xp.argmax if is_max else xp.argmin)(src, axis=d, keepdims=True)
    values = PickAlongDim.apply(input, idx, d)
    if not keepdim:
        return values_indices(values.squeeze(d), Tensor._make(idx.squeeze(d)))
    return values_indices(values, Tensor._make(idx))


def max(input, dim=None, keepdim=False):
    """max(x) -> largest value; max(x, dim) -> (values, indices); max(x, other) -> maximum."""
    return _minmax(input, dim, keepdim, True)


def min(input, dim=None, keepdim=False):
    """min(x) -> smallest value; min(x, dim) -> (values, indices); min(x, other) -> minimum."""
    return _minmax(input, dim, keepdim, False)


def _var_std(input, dim, unbiased, keepdim, correction, is_std):
    if input._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return VarStd.apply(input, dims(dim, input._data.ndim), keepdim, correction, is_std)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` is 0)."""
    return _var_std(input, dim, unbiased, keepdim, correction, False)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim`` with Bessel's ``correction`` (default 1)."""
    return _var_std(input, dim, unbiased, keepdim, correction, True)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``."""
    return (var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``."""
    return (std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, computed stably."""
    input = to_floating(input)
    return LogSumExp.apply(input, dims(dim, input._data.ndim), keepdim)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements by default); p may be 'fro', a number or inf.

    Differs from torch: 'nuc' and matrix norms are not supported.
    """
    if dtype is not None:
        input = cast(input, _dt.to_np(dtype))
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {type_name(input)}")
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("nuclear norm is not supported")
    if p == math.inf or p == -math.inf:
        from .elementwise import abs
        f = amax if p > 0 else amin
        return f(abs(input), dim if dim is not None else (), keepdim)
    if p == 0:
        from .arith import ne
        return sum(cast(ne(input, 0), input._data.dtype), dim, keepdim)
    return Norm.apply(input, p, dims(dim, input._data.ndim), keepdim)


def all(input, dim=None, keepdim=False):
    """True where all elements (along ``dim``) are non-zero (uint8 in, uint8 out)."""
    a = input._data
    y = xp.asarray(xp.all(a, axis=dims(dim, a.ndim), keepdims=keepdim))
    return Tensor._make(y.astype(xp.uint8) if a.dtype == xp.uint8 else y)


def any(input, dim=None, keepdim=False):
    """True where any element (along ``dim``) is non-zero (uint8 in, uint8 out)."""
    a = input._data
    y = xp.asarray(xp.any(a, axis=dims(dim, a.ndim), keepdims=keepdim))
    return Tensor._make(y.astype(xp.uint8) if a.dtype == xp.uint8 else y)


def count_nonzero(input, dim=None):
    """Number of non-zero elements (along ``dim``), as int64."""
    axes = dims(dim, input._data.ndim)
    return Tensor._make(xp.asarray(xp.count_nonzero(input._data, axis=axes), dtype=xp.int64))


from .sort import argsort, cumprod, cumsum, kthvalue, median, sort, topk  # noqa: E402,F401
