"""Binary arithmetic with PyTorch's broadcasting and promotion (comparisons, logical and bitwise
ops live in ``compare.py`` and are re-exported here).

Shapes that do not broadcast raise PyTorch's RuntimeError ("The size of tensor a (3) must match
the size of tensor b (4) at non-singleton dimension 1"); the check runs only after NumPy fails.
"""
from __future__ import annotations

from ..autograd.function import Context, Function
from ..autograd.grad_mode import state as _grad_state
from ..tensor import Tensor
from ._common import (
    apply_binary, binary_args, broadcast_error, can_cast, not_implemented, type_name,
)

xp = Context.xp


class Add(Function):
    """y = x1 + x2."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        return x1 + x2

    @staticmethod
    def backward(ctx: Context, gy):
        return gy, gy


class Sub(Function):
    """y = x1 - x2."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        return x1 - x2

    @staticmethod
    def backward(ctx: Context, gy):
        return gy, (-gy if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """y = x1 * x2."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        need = ctx.needs_input_grad
        if need:  # save only what a wanted gradient uses, as torch does
            ctx.save_for_backward(x1 if need[1] else None, x2 if need[0] else None)
        return x1 * x2

    @staticmethod
    def backward(ctx: Context, gy):
        x1, x2 = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (gy * x2 if need[0] else None), (gy * x1 if need[1] else None)


class Div(Function):
    """y = x1 / x2; dy/dx1 = 1/x2, dy/dx2 = -x1/x2^2."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        ctx.save_for_backward(x1, x2)
        return x1 / x2

    @staticmethod
    def backward(ctx: Context, gy):
        x1, x2 = ctx.saved_tensors
        need = ctx.needs_input_grad
        g1 = gy / x2
        return (g1 if need[0] else None), (-g1 * x1 / x2 if need[1] else None)


def _int_power(x1, x2):
    """Integer power with negative exponents as PyTorch computes it: 1 ** -n = 1,
    (-1) ** -n = +-1, anything else ** -n = 0."""
    dt = xp.result_type(x1, x2)
    x1, x2 = xp.asarray(x1, dt), xp.asarray(x2, dt)
    neg = x2 < 0
    y = xp.power(x1, xp.where(neg, 0, x2))
    special = xp.where(x1 == 1, 1, xp.where(x1 == -1, 1 - 2 * (x2 % 2), 0))
    return xp.where(neg, special, y).astype(dt, copy=False)


class Pow(Function):
    """y = x1 ** x2; dy/dx1 = x2 x1^(x2-1), dy/dx2 = y ln x1.

    NOTE: as in PyTorch, d/dx1 is 0 where x2 == 0 and d/dx2 is 0 where x1 == 0 and x2 >= 0.
    """

    @staticmethod
    def forward(ctx: Context, x1, x2):
        try:
            y = ctx.xp.power(x1, x2)
        except ValueError:  # NumPy refuses integers to negative powers; PyTorch defines them
            y = _int_power(x1, x2)
        ctx.save_for_backward(x1, x2, y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        x1, x2, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        g1 = g2 = None
        if need[0]:
            if isinstance(x2, (int, float)):
                g1 = gy * 0 if x2 == 0 else gy * (x2 * xp.power(x1, x2 - 1))
            else:
                g1 = gy * xp.where(x2 == 0, 0, x2 * xp.power(x1, x2 - 1))
        if need[1]:
            g2 = gy * xp.where((x1 == 0) & (x2 >= 0), 0, y * xp.log(x1))
        return g1, g2


class FloorDivide(Function):
    """y = floor(x1 / x2) with Python's semantics; piecewise constant, so the gradient is zero."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        return ctx.xp.floor_divide(x1, x2)

    @staticmethod
    def backward(ctx: Context, gy):
        need = ctx.needs_input_grad
        zero = ctx.xp.zeros_like(gy)
        return (zero if need[0] else None), (zero if need[1] else None)


class Remainder(Function):
    """y = x1 - floor(x1/x2) x2 (sign of the divisor); dy/dx1 = 1, dy/dx2 = -floor(x1/x2)."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        ctx.save_for_backward(x1, x2)
        return ctx.xp.mod(x1, x2)

    @staticmethod
    def backward(ctx: Context, gy):
        x1, x2 = ctx.saved_tensors
        g2 = -gy * ctx.xp.floor_divide(x1, x2) if ctx.needs_input_grad[1] else None
        return gy, g2


def _is_bool(v) -> bool:
    return isinstance(v, bool) or (isinstance(v, Tensor) and v._data.dtype.kind == "b")


def _is_int(v) -> bool:
    """Integer or bool operand (tensor or Python scalar)."""
    if isinstance(v, Tensor):
        return v._data.dtype.kind in "iub"
    return not isinstance(v, float)


def _arr(v):
    return v._data if isinstance(v, Tensor) else v


def _to_out(name, y, out):
    """Write ``y`` into ``out`` as PyTorch's ``out=`` does (resized when the shape differs)."""
    if out is None:
        return y
    if y._rg and _grad_state.enabled:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    src, dst = y._data, out._data
    if not can_cast(src.dtype, dst.dtype):
        raise RuntimeError(f"result type {type_name(y)} can't be cast to the desired output type "
                           f"{type_name(out)}")
    if src.shape == dst.shape:
        dst[...] = src
    else:
        out._data = src.astype(dst.dtype)
    out._vc[0] += 1
    return out


def _scaled(input, other, alpha):
    if isinstance(alpha, float) and _is_int(input) and _is_int(other):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if not isinstance(other, Tensor):
        return other * alpha
    return mul(other, alpha)


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcast and promoted as in PyTorch."""
    if alpha != 1:
        other = _scaled(input, other, alpha)
    a, b = binary_args(input, other)
    try:
        y = Add.apply(a, b)
    except ValueError as e:
        raise broadcast_error(a, b, e) from None
    return y if out is None else _to_out("add", y, out)


_BOOL_SUB = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
             "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other (bool operands are refused, as in PyTorch)."""
    if alpha != 1:
        if _is_bool(input) or _is_bool(other):
            raise RuntimeError(_BOOL_SUB)
        other = _scaled(input, other, alpha)
    a, b = binary_args(input, other)
    # NOTE: bool tensors of equal dtype reach NumPy, which raises TypeError (caught below);
    # only promoted operands and bool scalars need a check here
    if a is not input or b is not other or input.__class__ is bool or other.__class__ is bool:
        if _is_bool(input) or _is_bool(other):
            raise RuntimeError(_BOOL_SUB)
    try:
        y = Sub.apply(a, b)
    except ValueError as e:
        raise broadcast_error(a, b, e) from None
    except TypeError:
        if _is_bool(a) or _is_bool(b):
            raise RuntimeError(_BOOL_SUB) from None
        raise
    return y if out is None else _to_out("sub", y, out)


subtract = sub


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    return sub(other, input, alpha=alpha)


def mul(input, other, *, out=None):
    """input * other."""
    a, b = binary_args(input, other)
    try:
        y = Mul.apply(a, b)
    except ValueError as e:
        raise broadcast_error(a, b, e) from None
    return y if out is None else _to_out("mul", y, out)


multiply = mul


def _check_int_divisor(a, b):
    if _is_int(a) and _is_int(b) and (xp.asarray(_arr(b)) == 0).any():
        raise RuntimeError("ZeroDivisionError")


def div(input, other, *, rounding_mode=None, out=None):
    """input / other; true division (integers give the default float dtype) unless
    ``rounding_mode`` is 'trunc' or 'floor' (whose gradients are zero, as in PyTorch)."""
    if rounding_mode is None:
        a, b = binary_args(input, other, floating=True)
        try:
            y = Div.apply(a, b)
        except ValueError as e:
            raise broadcast_error(a, b, e) from None
    elif rounding_mode == "floor":
        y = floor_divide(input, other)
    elif rounding_mode == "trunc":
        from .elementwise import trunc
        a, b = binary_args(input, other)
        if _is_int(a) and _is_int(b):
            if _is_bool(a) and _is_bool(b):
                raise not_implemented("div_trunc_cpu", a if isinstance(a, Tensor) else b)
            _check_int_divisor(a, b)
            av, bv = _arr(a), _arr(b)
            q = xp.floor_divide(av, bv)
            q += ((q * bv) != av) & ((xp.asarray(av) < 0) != (xp.asarray(bv) < 0))
            y = Tensor._make(xp.asarray(q))
        else:
            y = trunc(apply_binary(Div, a, b))
    else:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    return y if out is None else _to_out("div", y, out)


divide = true_divide = div


def floor_divide(input, other):
    """floor(input / other), rounding toward minus infinity; its gradient is zero (as for
    ``div(..., rounding_mode='floor')``).

    Differs from torch: ``torch.floor_divide``'s backward raises "not implemented"; here it gives
    the zero gradient that ``torch.div(rounding_mode='floor')`` gives.
    """
    a, b = binary_args(input, other)
    if _is_bool(a) and _is_bool(b):
        raise not_implemented("div_floor_cpu", a if isinstance(a, Tensor) else b)
    _check_int_divisor(a, b)
    return apply_binary(FloorDivide, a, b)


def remainder(input, other):
    """Python-style modulus (the result has the divisor's sign)."""
    a, b = binary_args(input, other)
    if _is_bool(a) and _is_bool(b):
        raise not_implemented("remainder_cpu", a if isinstance(a, Tensor) else b)
    _check_int_divisor(a, b)
    return apply_binary(Remainder, a, b)


def fmod(input, other):
    """C-style modulus (the result has the dividend's sign)."""
    from .elementwise import trunc
    if _is_int(input) and _is_int(other):
        _check_int_divisor(input, other)
        a, b = binary_args(input, other)
        return Tensor._make(xp.asarray(xp.fmod(_arr(a), _arr(b))))
    return sub(input, mul(trunc(div(input, other)).detach(), other))


def pow(input, exponent):
    """input ** exponent (either may be a number)."""
    if type(exponent) is int and exponent < 0 and isinstance(input, Tensor) and \
            input._data.dtype.kind in "iub":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    a, b = binary_args(input, exponent)
    if isinstance(a, Tensor) and a._data.dtype.kind in "iub":
        if _is_bool(a):
            if isinstance(b, bool):  # tensor ** True is the tensor; tensor ** False is all True
                return Tensor._make(a._data.copy() if b else xp.ones(a._data.shape, bool))
            raise not_implemented("pow", a)
    elif _is_bool(b) and not isinstance(b, bool):
        raise not_implemented("pow", b)
    return apply_binary(Pow, a, b)


def float_power(input, exponent):
    """input ** exponent computed in float64 (as ``torch.float_power``)."""
    f64 = xp.float64
    a = input.to(f64) if isinstance(input, Tensor) else float(input)
    b = exponent.to(f64) if isinstance(exponent, Tensor) else float(exponent)
    return apply_binary(Pow, a, b)


from .compare import (  # noqa: E402,F401  (re-exported: the binary-op family)
    eq, ne, not_equal, lt, less, le, less_equal, gt, greater, ge, greater_equal, logical_and,
    logical_or, logical_xor, logical_not, bitwise_and, bitwise_or, bitwise_xor, bitwise_not,
    isnan, isinf, isfinite, isposinf, isneginf, equal, allclose, isclose,
)
from .selection import (  # noqa: E402,F401  (re-exported: the binary-op family)
    Maximum, Minimum, Where, fmax, fmin, maximum, minimum, where,
)
