"""Elementwise selection: maximum, minimum, fmax, fmin and where, with PyTorch's gradient
conventions at ties."""
from __future__ import annotations

from ..autograd.function import Context, Function
from ..tensor import Tensor
from ._common import apply_binary, binary_args, broadcast_error, result_type, type_name
from .compare import ge, isnan, le

xp = Context.xp


def _minmax_grads(ctx, gy, x1_wins, x2_wins):
    # NOTE: torch's rule: ties split the gradient in half; where neither input wins (NaN
    # involved) both get the full gradient
    x1, x2 = ctx.saved_tensors
    need = ctx.needs_input_grad
    g = xp.where(x1 == x2, gy * gy.dtype.type(0.5), gy)
    return (xp.where(x2_wins, 0, g) if need[0] else None,
            xp.where(x1_wins, 0, g) if need[1] else None)


class Maximum(Function):
    """y = max(x1, x2) (NaN propagates); ties split the gradient, as in PyTorch."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        ctx.save_for_backward(x1, x2)
        return ctx.xp.maximum(x1, x2)

    @staticmethod
    def backward(ctx: Context, gy):
        x1, x2 = ctx.saved_tensors
        return _minmax_grads(ctx, gy, x1 > x2, x1 < x2)


class Minimum(Function):
    """y = min(x1, x2) (NaN propagates); ties split the gradient, as in PyTorch."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        ctx.save_for_backward(x1, x2)
        return ctx.xp.minimum(x1, x2)

    @staticmethod
    def backward(ctx: Context, gy):
        x1, x2 = ctx.saved_tensors
        return _minmax_grads(ctx, gy, x1 < x2, x1 > x2)


class Where(Function):
    """y = x1 where cond else x2."""

    @staticmethod
    def forward(ctx: Context, cond, x1, x2):
        ctx.save_for_backward(cond)
        return ctx.xp.where(cond, x1, x2)

    @staticmethod
    def backward(ctx: Context, gy):
        (cond,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        zero = gy.dtype.type(0)
        return (None, ctx.xp.where(cond, gy, zero) if need[1] else None,
                ctx.xp.where(cond, zero, gy) if need[2] else None)


def maximum(input, other):
    """Elementwise maximum of two tensors (NaN propagates)."""
    a, b = binary_args(input, other)
    return apply_binary(Maximum, a, b)


def minimum(input, other):
    """Elementwise minimum of two tensors (NaN propagates)."""
    a, b = binary_args(input, other)
    return apply_binary(Minimum, a, b)


def fmax(input, other):
    """Elementwise maximum that ignores NaN; the gradient goes to ``input`` at ties."""
    return where(isnan(other) | ge(input, other), input, other)


def fmin(input, other):
    """Elementwise minimum that ignores NaN; the gradient goes to ``input`` at ties."""
    return where(isnan(other) | le(input, other), input, other)


def where(condition, input=None, other=None):
    """Pick from ``input`` where ``condition`` else from ``other`` (numbers allowed);
    ``where(condition)`` returns the indices of true elements like ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        from .index import nonzero
        return nonzero(condition, as_tuple=True)
    kind = condition._data.dtype.kind
    if kind != "b":
        if kind != "u" or condition._data.dtype.itemsize != 1:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {type_name(condition)}")
        condition = Tensor._make(condition._data.astype(bool))
    if isinstance(input, Tensor) or isinstance(other, Tensor):
        a, b = binary_args(input, other)
    else:
        dt = result_type(input, other).np
        a, b = Tensor._make(xp.asarray(input, dt)), Tensor._make(xp.asarray(other, dt))
    if not isinstance(a, Tensor):
        a = Tensor._make(xp.asarray(a, dtype=b._data.dtype))
    elif not isinstance(b, Tensor):
        b = Tensor._make(xp.asarray(b, dtype=a._data.dtype))
    try:
        return Where.apply(condition, a, b)
    except ValueError as e:
        for x, y in ((condition, a), (condition, b), (a, b)):
            err = broadcast_error(x, y, e)
            if err is not e:
                raise err from None
        raise
