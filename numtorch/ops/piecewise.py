"""Piecewise elementwise ops: clamp/clip (number or tensor bounds) and the piecewise-constant
floor, ceil, round, trunc, sign (zero gradient), and frac."""
from __future__ import annotations

from ..autograd.function import Context, Function
from ..tensor import Tensor as Tensor_
from ._common import not_implemented, scalar, to_floating, wrap_int
from .compare import gt, lt
from .selection import where

xp = Context.xp


class Clamp(Function):
    """y = min(max(x, lo), hi) with scalar bounds; the gradient passes where lo <= x <= hi."""

    @staticmethod
    def forward(ctx: Context, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        y = x
        if lo is not None:
            y = xp.maximum(y, lo)
        if hi is not None:
            y = xp.minimum(y, hi)
        return y if y is not x else x.copy()

    @staticmethod
    def backward(ctx: Context, gy):
        (x,) = ctx.saved_tensors
        mask = None
        if ctx.lo is not None:
            mask = x >= ctx.lo
        if ctx.hi is not None:
            m = x <= ctx.hi
            mask = m if mask is None else mask & m
        return (gy if mask is None else gy * mask), None, None


class ZeroGrad(Function):
    """Piecewise-constant functions (floor, ceil, round, trunc, sign, frac's integer part):
    the gradient is zero everywhere, as in PyTorch."""

    @staticmethod
    def forward(ctx: Context, x, fn):
        return fn(x)

    @staticmethod
    def backward(ctx: Context, gy):
        return ctx.xp.zeros_like(gy), None


def _kind(input) -> str:
    """The NumPy kind of a tensor's dtype ('f', 'i', 'u', 'b'); TypeError for non-tensors."""
    try:
        return input._data.dtype.kind
    except AttributeError:
        raise TypeError(f"expected a Tensor as input, got {type(input).__name__}") from None


def clamp(input, min=None, max=None):
    """Clamp to [min, max]: both bounds numbers, or both tensors (which broadcast).

    The gradient passes to ``input`` where min <= input <= max (bounds included, as in PyTorch)
    and to a tensor bound where it was selected.
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor_) or isinstance(max, Tensor_):
        if not (min is None or isinstance(min, Tensor_)) or \
                not (max is None or isinstance(max, Tensor_)):
            raise TypeError("clamp(): min and max must both be tensors or both be numbers, got "
                            f"{type(min).__name__} and {type(max).__name__}")
        y = input
        if min is not None:
            y = where(lt(y, min), min, y)
        if max is not None:
            y = where(gt(y, max), max, y)
        return y
    lo, hi = scalar(min), scalar(max)
    kind = _kind(input)
    if kind != "f":
        if isinstance(lo, float) or isinstance(hi, float):
            input = to_floating(input)
        elif kind in "iu":
            npd = input._data.dtype
            lo = lo if lo is None else wrap_int(lo, npd)
            hi = hi if hi is None else wrap_int(hi, npd)
    return Clamp.apply(input, lo, hi)


clip = clamp


def _zero_grad(name, f, kernel):
    def fn(input):
        kind = _kind(input)
        if kind == "b":
            raise not_implemented(kernel, input)
        if kind != "f":
            return Tensor_._make(input._data.copy())
        return ZeroGrad.apply(input, f)
    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name}; its gradient is zero (as in PyTorch)."
    return fn


floor = _zero_grad("floor", xp.floor, "floor_vml_cpu")
ceil = _zero_grad("ceil", xp.ceil, "ceil_vml_cpu")
trunc = _zero_grad("trunc", xp.trunc, "trunc_vml_cpu")
fix = trunc


def sign(input):
    """Elementwise sign (-1, 0 or 1; bool stays bool); its gradient is zero."""
    if _kind(input) == "b":
        return Tensor_._make(input._data.copy())
    return ZeroGrad.apply(input, xp.sign)


sgn = sign


def round(input, *, decimals=0):
    """Round half to even (as PyTorch), to ``decimals`` places; its gradient is zero."""
    kind = _kind(input)
    if kind == "b" or (kind != "f" and decimals != 0):
        raise not_implemented("round_cpu" if decimals else "round_vml_cpu", input)
    if kind != "f":
        return Tensor_._make(input._data.copy())
    if decimals == 0:
        return ZeroGrad.apply(input, xp.round)
    return ZeroGrad.apply(input, lambda a: xp.round(a, decimals))


def frac(input):
    """x - trunc(x) (floating inputs only); its gradient is one."""
    if _kind(input) != "f":
        raise not_implemented("frac_cpu", input)
    from .arith import sub
    return sub(input, trunc(input).detach())
