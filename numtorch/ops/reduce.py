"""Reductions: sum, mean, prod, amax/amin, max/min, var/std, logsumexp, norm, cumsum, cumprod,
all/any, argmax/argmin, topk, sort."""
from __future__ import annotations

import collections
import math

from ..autograd.function import Context, Function
from ..backend import dtypes as _dt
from ..tensor import Tensor
from ._common import dims, to_floating, wrap_dim

xp = Context.xp
values_indices = collections.namedtuple("values_indices", ["values", "indices"])


def _expand_back(gy, shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input's shape."""
    if axes is None:
        return xp.broadcast_to(gy.reshape((1,) * len(shape)) if shape else gy, shape)
    if not keepdim:
        gy = xp.expand_dims(gy, axes)
    return xp.broadcast_to(gy, shape)


class Sum(Function):
    """y = sum of x over ``axes`` (None: all)."""

    @staticmethod
    def forward(ctx: Context, x, axes, keepdim, npd):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return xp.asarray(x.sum(axis=axes, keepdims=keepdim, dtype=npd))

    @staticmethod
    def backward(ctx: Context, gy):
        return _expand_back(gy, ctx.shape, ctx.axes, ctx.keepdim), None, None, None


class Mean(Function):
    """y = mean of x over ``axes``."""

    @staticmethod
    def forward(ctx: Context, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        n = x.size if axes is None else math.prod(x.shape[a] for a in axes)
        ctx.n = n
        with xp.errstate(invalid="ignore", divide="ignore"):
            return xp.asarray(x.mean(axis=axes, keepdims=keepdim) if n else
                              xp.full(xp.sum(x, axis=axes, keepdims=keepdim).shape, xp.nan,
                                      x.dtype))

    @staticmethod
    def backward(ctx: Context, gy):
        g = _expand_back(gy, ctx.shape, ctx.axes, ctx.keepdim)
        return g * gy.dtype.type(1.0 / builtins_max(ctx.n, 1)), None, None


class Prod(Function):
    """y = product of x over one axis (or all); gradient exact also where x has zeros."""

    @staticmethod
    def forward(ctx: Context, x, axis, keepdim, npd):
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdim = axis, keepdim
        return xp.asarray(x.prod(axis=axis, keepdims=keepdim, dtype=npd))

    @staticmethod
    def backward(ctx: Context, gy):
        (x,) = ctx.saved_tensors
        axis = ctx.axis
        flat = axis is None
        xx = x.reshape(-1) if flat else x
        ax = 0 if flat else axis
        if not flat and not ctx.keepdim:
            gy = xp.expand_dims(gy, ax)
        # product of all other elements = exclusive cumprod from the left * from the right
        left = xp.cumprod(xp.concatenate([xp.ones_like(xp.take(xx, [0], ax)),
                                          xp.take(xx, range(xx.shape[ax] - 1), ax)], ax), ax)
        rev = xp.flip(xx, ax)
        right = xp.flip(xp.cumprod(xp.concatenate(
            [xp.ones_like(xp.take(rev, [0], ax)), xp.take(rev, range(rev.shape[ax] - 1), ax)],
            ax), ax), ax)
        g = gy.reshape(-1) if flat else gy
        gx = g * left * right
        return (gx.reshape(x.shape) if flat else gx), None, None, None


class Amax(Function):
    """y = max of x over ``axes``; ties share the gradient evenly (as torch.amax)."""

    @staticmethod
    def forward(ctx: Context, x, axes, keepdim, is_max):
        y = (x.max if is_max else x.min)(axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return xp.asarray(y if keepdim else y.reshape(_drop(x.shape, axes)))

    @staticmethod
    def backward(ctx: Context, gy):
        x, y = ctx.saved_tensors
        mask = x == y
        count = mask.sum(axis=ctx.axes, keepdims=True)
        g = gy.reshape(y.shape)
        return mask * (g / count).astype(gy.dtype), None, None, None


def _drop(shape, axes):
    if axes is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in axes)


class LogSumExp(Function):
    """y = log(sum(exp(x))) over ``axes``, shifted by the max for stability."""

    @staticmethod
    def forward(ctx: Context, x, axes, keepdim):
        m = x.max(axis=axes, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, x.dtype)
        m = xp.where(xp.isfinite(m), m, 0)
        y = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else y.reshape(_drop(x.shape, axes))

    @staticmethod
    def backward(ctx: Context, gy):
        x, y = ctx.saved_tensors
        return gy.reshape(y.shape) * xp.exp(x - y), None, None


class Norm(Function):
    """y = (sum |x|^p)^(1/p) over ``axes``; NOTE: the gradient at y == 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx: Context, x, p, axes, keepdim):
        a = xp.abs(x)
        if p == 2:
            y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        elif p == 1:
            y = a.sum(axis=axes, keepdims=True)
        else:
            y = (a ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return xp.asarray(y if keepdim else y.reshape(_drop(x.shape, axes)))

    @staticmethod
    def backward(ctx: Context, gy):
        x, y = ctx.saved_tensors
        p = ctx.p
        g = gy.reshape(y.shape)
        if p == 1:
            return g * xp.sign(x), None, None, None
        with xp.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                gx = x * (g / y)
            else:
                gx = xp.sign(x) * xp.abs(x) ** (p - 1) * (g / y ** (p - 1))
        return xp.where(y == 0, 0, gx).astype(x.dtype), None, None, None


class Cumsum(Function):
    """y_i = sum_{j<=i} x_j along ``axis``; the gradient is the reversed cumulative sum."""

    @staticmethod
    def forward(ctx: Context, x, axis, npd):
        ctx.axis = axis
        return xp.cumsum(x, axis=axis, dtype=npd)

    @staticmethod
    def backward(ctx: Context, gy):
        a = ctx.axis
        return xp.flip(xp.cumsum(xp.flip(gy, a), axis=a), a), None, None


class Cumprod(Function):
    """y_i = prod_{j<=i} x_j along ``axis``; the gradient is exact also where x has zeros."""

    @staticmethod
    def forward(ctx: Context, x, axis, npd):
        y = xp.cumprod(x, axis=axis, dtype=npd)
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        x, y = ctx.saved_tensors
        a = ctx.axis
        if (x != 0).all():
            return xp.flip(xp.cumsum(xp.flip(gy * y, a), axis=a), a) / x, None, None
        # exact O(n^2): dy_j/dx_i = prod_{k<=j, k!=i} x_k for j >= i
        xm = xp.moveaxis(x, a, -1)
        gm = xp.moveaxis(gy, a, -1)
        n = xm.shape[-1]
        gx = xp.zeros_like(xm)
        for i in range(n):
            others = xm.copy()
            others[..., i] = 1
            cp = xp.cumprod(others, axis=-1)
            gx[..., i] = (gm[..., i:] * cp[..., i:]).sum(-1)
        return xp.moveaxis(gx, -1, a), None, None


def _sum_dtype(t, dtype):
    if dtype is not None:
        return _dt.to_np(dtype)
    return xp.dtype(xp.int64) if t._data.dtype.kind in "iub" else t._data.dtype


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (int, tuple, or None for all); integers and bools sum to int64."""
    npd = _sum_dtype(input, dtype)
    if dtype is not None and input._data.dtype != npd:
        from ._common import cast
        input = cast(input, npd)
    return Sum.apply(input, dims(dim, input._data.ndim), keepdim, npd)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .arith import where
    from .arith import isnan
    return sum(where(isnan(input), 0.0, input), dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim``; floating inputs only (as in PyTorch)."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {input.dtype}")
    return Mean.apply(input, dims(dim, input._data.ndim), keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    from .arith import isnan, where, div
    nn = (~isnan(input)).sum(dim, keepdim)
    return div(nansum(input, dim, keepdim), nn)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product over one dimension (or all)."""
    npd = _sum_dtype(input, dtype)
    axis = None if dim is None else wrap_dim(dim, input._data.ndim)
    return Prod.apply(input, axis, keepdim, npd)


def _check_nonempty(input, axes, name):
    if input._data.size == 0:
        sizes = input._data.shape if axes is None else [input._data.shape[a] for a in axes]
        if axes is None or 0 in sizes:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                             f"== 0. Specify the reduction dim with the 'dim' argument.")


def amax(input, dim=(), keepdim=False):
    """Maximum over ``dim`` (all when empty); ties share the gradient."""
    axes = dims(dim, input._data.ndim)
    _check_nonempty(input, axes, "amax")
    return Amax.apply(input, axes, keepdim, True)


def amin(input, dim=(), keepdim=False):
    """Minimum over ``dim``; ties share the gradient."""
    axes = dims(dim, input._data.ndim)
    _check_nonempty(input, axes, "amin")
    return Amax.apply(input, axes, keepdim, False)


def _arg(input, dim, keepdim, fn, name):
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0.")
        i = fn(input._data.reshape(-1))
        return Tensor._make(xp.asarray(i, dtype=xp.int64).reshape((1,) * input.ndim
                                                                   if keepdim else ()))
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        return Tensor._make(xp.zeros((), xp.int64))
    return Tensor._make(xp.asarray(fn(input._data, axis=d, keepdims=keepdim), dtype=xp.int64))


def argmax(input, dim=None, keepdim=False):
    """Index of the first maximum (flattened when ``dim`` is None)."""
    return _arg(input, dim, keepdim, xp.argmax, "argmax")


def argmin(input, dim=None, keepdim=False):
    """Index of the first minimum."""
    return _arg(input, dim, keepdim, xp.argmin, "argmin")


def _minmax(input, dim, keepdim, is_max):
    from .arith import maximum, minimum
    from .index import gather
    if dim is None:
        return amax(input) if is_max else amin(input)
    if isinstance(dim, Tensor):
        return (maximum if is_max else minimum)(input, dim)
    name = "max" if is_max else "min"
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim and input._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if input._data.ndim == 0:
        return values_indices(input.clone(), Tensor._make(xp.zeros((), xp.int64)))
    idx = (xp.argmax if is_max else xp.argmin)(input._data, axis=d, keepdims=True)
    values = gather(input, d, Tensor._make(idx))
    idx_t = Tensor._make(idx)
    if not keepdim:
        values, idx_t = values.squeeze(d), Tensor._make(idx.squeeze(d))
    return values_indices(values, idx_t)


def max(input, dim=None, keepdim=False):
    """max(x) -> largest value; max(x, dim) -> (values, indices); max(x, other) -> maximum."""
    return _minmax(input, dim, keepdim, True)


def min(input, dim=None, keepdim=False):
    """min(x) -> smallest value; min(x, dim) -> (values, indices); min(x, other) -> minimum."""
    return _minmax(input, dim, keepdim, False)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1)."""
    from .arith import div
    c = _correction(unbiased, correction)
    axes = dims(dim, input._data.ndim)
    n = input._data.size if axes is None else math.prod(input._data.shape[a] for a in axes)
    m = mean(input, dim if axes is not None else None, keepdim=True)
    d = input - m
    ss = sum(d * d, dim, keepdim)
    return div(ss, builtins_max(n - c, 0))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim``."""
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, computed stably."""
    input = to_floating(input)
    return LogSumExp.apply(input, dims(dim, input._data.ndim), keepdim)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements by default); p may be 'fro', a number or inf."""
    if dtype is not None:
        input = input.to(dtype)
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("nuclear norm is not supported")
    axes = dims(dim, input._data.ndim)
    if p == math.inf:
        return amax(input.abs(), dim if dim is not None else (), keepdim)
    if p == -math.inf:
        return amin(input.abs(), dim if dim is not None else (), keepdim)
    if p == 0:
        return sum((input != 0).to(input.dtype), dim, keepdim)
    return Norm.apply(to_floating(input), p, axes, keepdim)


def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``."""
    return Cumsum.apply(input, wrap_dim(dim, input._data.ndim), _sum_dtype(input, dtype))


def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim``."""
    return Cumprod.apply(input, wrap_dim(dim, input._data.ndim), _sum_dtype(input, dtype))


def all(input, dim=None, keepdim=False):
    """True where all elements (along ``dim``) are non-zero."""
    axes = dims(dim, input._data.ndim)
    return Tensor._make(xp.asarray(xp.all(input._data, axis=axes, keepdims=keepdim)))


def any(input, dim=None, keepdim=False):
    """True where any element (along ``dim``) is non-zero."""
    axes = dims(dim, input._data.ndim)
    return Tensor._make(xp.asarray(xp.any(input._data, axis=axes, keepdims=keepdim)))


def count_nonzero(input, dim=None):
    axes = dims(dim, input._data.ndim)
    return Tensor._make(xp.asarray(xp.count_nonzero(input._data, axis=axes), dtype=xp.int64))


def _sort_idx(a, d, descending):
    if a.dtype.kind == "b":
        a = a.astype(xp.int8)
    if descending:
        a = -a.astype(xp.float64) if a.dtype.kind == "u" else -a
    return xp.argsort(a, axis=d, kind="stable")


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim``; equal values keep their order."""
    from .index import gather
    if input._data.ndim == 0:
        return values_indices(input.clone(), Tensor._make(xp.zeros((), xp.int64)))
    d = wrap_dim(dim, input._data.ndim)
    idx = Tensor._make(_sort_idx(input._data, d, descending).astype(xp.int64))
    return values_indices(gather(input, d, idx), idx)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    from .index import gather
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range: k={k} for a dimension of size {n}")
    if input._data.ndim == 0:
        return values_indices(input.clone(), Tensor._make(xp.zeros((), xp.int64)))
    idx = xp.take(_sort_idx(input._data, d, largest), range(k), axis=d).astype(xp.int64)
    idx_t = Tensor._make(idx)
    return values_indices(gather(input, d, idx_t), idx_t)


def kthvalue(input, k, dim=-1, keepdim=False):
    from .index import gather
    d = wrap_dim(dim, input._data.ndim)
    idx = xp.take(_sort_idx(input._data, d, False), [k - 1], axis=d).astype(xp.int64)
    v = gather(input, d, Tensor._make(idx))
    if not keepdim:
        return values_indices(v.squeeze(d), Tensor._make(idx.squeeze(d)))
    return values_indices(v, Tensor._make(idx))


def median(input, dim=None, keepdim=False):
    """Lower median (as PyTorch): of all elements, or (values, indices) along ``dim``."""
    if dim is None:
        flat = input.reshape(-1)
        return kthvalue(flat, (flat.shape[0] + 1) // 2, 0).values
    n = input._data.shape[wrap_dim(dim, input._data.ndim)]
    return kthvalue(input, (n + 1) // 2, dim, keepdim)


import builtins as _builtins  # noqa: E402

builtins_max = _builtins.max
