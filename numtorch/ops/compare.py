"""Comparisons, logical and bitwise ops, and the NaN/inf tests (bool results, no gradients)."""
from __future__ import annotations

from ..autograd.function import Context
from ..tensor import Tensor
from ._common import binary_args, broadcast_error, not_implemented

xp = Context.xp


def _arr(v):
    return v._data if isinstance(v, Tensor) else v


def _compare(name, f):
    def fn(input, other):
        a, b = binary_args(input, other)
        try:
            return Tensor._make(xp.asarray(f(_arr(a), _arr(b))))
        except ValueError as e:
            raise broadcast_error(a, b, e) from None
    fn.__name__ = name
    fn.__doc__ = f"Elementwise '{name}' (bool result, not differentiable)."
    return fn


eq = _compare("eq", xp.equal)
ne = not_equal = _compare("ne", xp.not_equal)
lt = less = _compare("lt", xp.less)
le = less_equal = _compare("le", xp.less_equal)
gt = greater = _compare("gt", xp.greater)
ge = greater_equal = _compare("ge", xp.greater_equal)
logical_and = _compare("logical_and", xp.logical_and)
logical_or = _compare("logical_or", xp.logical_or)
logical_xor = _compare("logical_xor", xp.logical_xor)


def _bitwise(name, f):
    def fn(input, other):
        a, b = binary_args(input, other)
        for v in (a, b):
            if isinstance(v, Tensor) and v._data.dtype.kind == "f":
                raise not_implemented(f"{name}_cpu", v)
        try:
            return Tensor._make(xp.asarray(f(_arr(a), _arr(b))))
        except ValueError as e:
            raise broadcast_error(a, b, e) from None
    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name} of integer or bool tensors."
    return fn


bitwise_and = _bitwise("bitwise_and", xp.bitwise_and)
bitwise_or = _bitwise("bitwise_or", xp.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", xp.bitwise_xor)


def bitwise_not(input):
    """~x for bool and integer tensors."""
    if input._data.dtype.kind == "f":
        raise not_implemented("bitwise_not_cpu", input)
    return Tensor._make(xp.invert(input._data))


def logical_not(input):
    """Elementwise logical not (bool result)."""
    return Tensor._make(xp.logical_not(input._data))


def isnan(input):
    """True where the element is NaN."""
    return Tensor._make(xp.isnan(input._data))


def isinf(input):
    """True where the element is +inf or -inf."""
    return Tensor._make(xp.isinf(input._data))


def isfinite(input):
    """True where the element is neither infinite nor NaN."""
    return Tensor._make(xp.isfinite(input._data))


def isposinf(input):
    return Tensor._make(xp.isposinf(input._data))


def isneginf(input):
    return Tensor._make(xp.isneginf(input._data))


def equal(input, other) -> bool:
    """True when both tensors have the same shape and elements."""
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when ``|input - other| <= atol + rtol * |other|`` everywhere."""
    return bool(xp.allclose(input._data, _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|``."""
    return Tensor._make(xp.asarray(xp.isclose(input._data, _arr(other), rtol=rtol, atol=atol,
                                              equal_nan=equal_nan)))
