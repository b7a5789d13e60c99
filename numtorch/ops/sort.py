"""Scans and sorts: cumsum, cumprod, sort, argsort, topk, kthvalue, median, and
``PickAlongDim``, the primitive that picks the values of max/min/sort/topk along a dimension."""
from __future__ import annotations

import collections

from ..autograd.function import Context, Function
from ..backend import dtypes as _dt
from ..tensor import Tensor
from ._common import wrap_dim

xp = Context.xp
values_indices = collections.namedtuple("values_indices", ["values", "indices"])


class PickAlongDim(Function):
    """y = x picked along ``axis`` at ``idx`` (indices distinct within each slice, as sort, topk
    and max produce them); the gradient is scattered back to the picked positions."""

    @staticmethod
    def forward(ctx: Context, x, idx, axis):
        ctx.shape, ctx.idx, ctx.axis = x.shape, idx, axis
        return xp.take_along_axis(x, idx, axis)

    @staticmethod
    def backward(ctx: Context, gy):
        gx = xp.zeros(ctx.shape, gy.dtype)
        xp.put_along_axis(gx, ctx.idx, gy, ctx.axis)
        return gx, None, None


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
        gx = xp.zeros_like(xm)
        for i in range(xm.shape[-1]):
            others = xm.copy()
            others[..., i] = 1
            cp = xp.cumprod(others, axis=-1)
            gx[..., i] = (gm[..., i:] * cp[..., i:]).sum(-1)
        return xp.moveaxis(gx, -1, a), None, None


def _scan(cls, input, dim, dtype):
    a = input._data
    if dtype is not None:
        npd = _dt.to_np(dtype)
        if a.dtype != npd:
            from ._common import cast
            input = cast(input, npd)
    else:
        npd = xp.dtype(xp.int64) if a.dtype.kind in "iub" else a.dtype
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        from .elementwise import Clone
        return Clone.apply(input) if npd == a.dtype else input.to(npd)
    return cls.apply(input, d, npd)


def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim`` (integers and bools accumulate in int64)."""
    return _scan(Cumsum, input, dim, dtype)


def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim`` (integers and bools accumulate in int64)."""
    return _scan(Cumprod, input, dim, dtype)


def _sort_idx(a, d, descending):
    """Stable argsort along ``d``; NaN sorts as the largest value, as in PyTorch."""
    if a.dtype.kind == "b":
        a = a.view(xp.uint8)
    if not descending:
        return xp.argsort(a, axis=d, kind="stable")
    # a stable descending sort: sort the reversed array ascending, then reverse back
    n = a.shape[d]
    idx = xp.flip(xp.argsort(xp.flip(a, d), axis=d, kind="stable"), d)
    return n - 1 - idx


def _zero_d(input):
    from .elementwise import Clone
    return values_indices(Clone.apply(input), Tensor._make(xp.zeros((), xp.int64)))


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim``; equal values keep their order."""
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        return _zero_d(input)
    idx = _sort_idx(input._data, d, descending).astype(xp.int64, copy=False)
    return values_indices(PickAlongDim.apply(input, idx, d), Tensor._make(idx))


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim``."""
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        return Tensor._make(xp.zeros((), xp.int64))
    return Tensor._make(_sort_idx(input._data, d, descending).astype(xp.int64, copy=False))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range: k={k} for a dimension of size {n}")
    if input._data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if input._data.ndim == 0:
        return _zero_d(input)
    idx = xp.take(_sort_idx(input._data, d, largest), range(k), axis=d).astype(xp.int64)
    return values_indices(PickAlongDim.apply(input, idx, d), Tensor._make(idx))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest value along ``dim`` and its index."""
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        if k != 1:
            raise IndexError(f"kthvalue(): selected number k out of range for dimension {d}")
        return _zero_d(input)
    n = input._data.shape[d]
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue(): selected number k out of range for dimension {d}")
    idx = xp.take(_sort_idx(input._data, d, False), [k - 1], axis=d).astype(xp.int64)
    v = PickAlongDim.apply(input, idx, d)
    if not keepdim:
        return values_indices(v.squeeze(d), Tensor._make(idx.squeeze(d)))
    return values_indices(v, Tensor._make(idx))


def median(input, dim=None, keepdim=False):
    """Lower median (as PyTorch): of all elements, or (values, indices) along ``dim``."""
    if dim is None:
        if input._data.size == 0:
            return Tensor._make(xp.full((), xp.nan, input._data.dtype))
        flat = input.reshape(-1)
        return kthvalue(flat, (flat.shape[0] + 1) // 2, 0).values
    n = input._data.shape[wrap_dim(dim, input._data.ndim)] if input._data.ndim else 1
    return kthvalue(input, (n + 1) // 2, dim, keepdim)
