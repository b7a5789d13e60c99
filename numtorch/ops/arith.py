"""Binary arithmetic, comparison and logical ops with PyTorch's broadcasting and promotion."""
from __future__ import annotations

from ..autograd.function import Context, Function
from ..tensor import Tensor
from ._common import binary_args, result_type

_BOOL_NP = Context.xp.bool_


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
        ctx.save_for_backward(x1, x2)
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


class Pow(Function):
    """y = x1 ** x2; dy/dx1 = x2 x1^(x2-1), dy/dx2 = y ln x1.

    NOTE: as in PyTorch, d/dx1 is 0 where x2 == 0 and d/dx2 is 0 where x1 == 0 and x2 >= 0.
    """

    @staticmethod
    def forward(ctx: Context, x1, x2):
        y = ctx.xp.power(x1, x2)
        ctx.save_for_backward(x1, x2, y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        xp = ctx.xp
        x1, x2, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        g1 = g2 = None
        if need[0]:
            if isinstance(x2, (int, float)):
                g1 = gy * 0 if x2 == 0 else gy * (x2 * xp.power(x1, x2 - 1))
            else:
                g1 = gy * xp.where(x2 == 0, 0, x2 * xp.power(x1, x2 - 1))
        if need[1]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                g2 = gy * xp.where((x1 == 0) & (x2 >= 0), 0, y * xp.log(x1))
        return g1, g2


class Maximum(Function):
    """y = max(x1, x2); NOTE: at ties each input gets half the gradient, as in PyTorch."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        ctx.save_for_backward(x1, x2)
        return ctx.xp.maximum(x1, x2)

    @staticmethod
    def backward(ctx: Context, gy):
        x1, x2 = ctx.saved_tensors
        w = (x1 > x2) + 0.5 * (x1 == x2)
        return gy * w, gy * (1 - w)


class Minimum(Function):
    """y = min(x1, x2); ties split the gradient."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        ctx.save_for_backward(x1, x2)
        return ctx.xp.minimum(x1, x2)

    @staticmethod
    def backward(ctx: Context, gy):
        x1, x2 = ctx.saved_tensors
        w = (x1 < x2) + 0.5 * (x1 == x2)
        return gy * w, gy * (1 - w)


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


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcast and promoted as in PyTorch."""
    if alpha != 1:
        other = mul(other, alpha)
    a, b = binary_args(input, other)
    return Add.apply(a, b)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    if alpha != 1:
        other = mul(other, alpha)
    a, b = binary_args(input, other)
    if isinstance(a, Tensor) and a._data.dtype.kind == "b" and \
            (not isinstance(b, Tensor) or b._data.dtype.kind == "b"):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    return Sub.apply(a, b)


subtract = sub


def mul(input, other, *, out=None):
    """input * other."""
    a, b = binary_args(input, other)
    return Mul.apply(a, b)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """input / other; true division (integers give the default float dtype) unless
    ``rounding_mode`` is 'trunc' or 'floor'."""
    if rounding_mode is None:
        a, b = binary_args(input, other, floating=True)
        return Div.apply(a, b)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        from .elementwise import trunc
        a, b = binary_args(input, other)
        if _is_int(a) and _is_int(b):
            xp = Context.xp
            q = xp.trunc(xp.true_divide(_arr(a), _arr(b)))
            return Tensor._make(q.astype(result_type(a, b).np))
        return trunc(Div.apply(a, b))
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


divide = true_divide = div


def _is_int(v):
    return (not isinstance(v, Tensor) and not isinstance(v, float)) or \
        (isinstance(v, Tensor) and v._data.dtype.kind in "iub")


def _arr(v):
    return v._data if isinstance(v, Tensor) else v


def floor_divide(input, other):
    """floor(input / other) (not differentiable, as in PyTorch)."""
    a, b = binary_args(input, other)
    xp = Context.xp
    av, bv = _arr(a), _arr(b)
    if _is_int(a) and _is_int(b) and (xp.asarray(bv) == 0).any():
        raise RuntimeError("ZeroDivisionError")
    return Tensor._make(xp.asarray(xp.floor_divide(av, bv)))


def remainder(input, other):
    """Python-style modulus (result has the divisor's sign)."""
    a, b = binary_args(input, other)
    return Remainder.apply(a, b)


def fmod(input, other):
    """C-style modulus (result has the dividend's sign)."""
    from .elementwise import trunc
    return sub(input, mul(trunc(div(input, other)).detach(), other))


def pow(input, exponent):
    """input ** exponent (either may be a number)."""
    a, b = binary_args(input, exponent)
    if isinstance(a, Tensor) and a._data.dtype.kind in "iu" and isinstance(b, int) and b < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return Pow.apply(a, b)


float_power = pow


def maximum(input, other):
    """Elementwise maximum of two tensors."""
    a, b = binary_args(input, other)
    return Maximum.apply(a, b)


def minimum(input, other):
    """Elementwise minimum of two tensors."""
    a, b = binary_args(input, other)
    return Minimum.apply(a, b)


fmax, fmin = maximum, minimum


def where(condition, input=None, other=None):
    """Pick from ``input`` where ``condition`` else from ``other`` (numbers allowed);
    ``where(condition)`` returns the indices of true elements like ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        from .index import nonzero
        return nonzero(condition, as_tuple=True)
    if condition._data.dtype != _BOOL_NP:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype}")
    a, b = binary_args(input, other)
    if not isinstance(a, Tensor):
        a = Tensor._make(Context.xp.asarray(a, dtype=b._data.dtype))
    return Where.apply(condition, a, b)


def _compare(name, f):
    def fn(input, other):
        a, b = binary_args(input, other)
        return Tensor._make(Context.xp.asarray(f(_arr(a), _arr(b))))
    fn.__name__ = name
    fn.__doc__ = f"Elementwise comparison '{name}' (bool result, not differentiable)."
    return fn


_np = Context.xp
eq = _compare("eq", _np.equal)
ne = not_equal = _compare("ne", _np.not_equal)
lt = less = _compare("lt", _np.less)
le = less_equal = _compare("le", _np.less_equal)
gt = greater = _compare("gt", _np.greater)
ge = greater_equal = _compare("ge", _np.greater_equal)
logical_and = _compare("logical_and", _np.logical_and)
logical_or = _compare("logical_or", _np.logical_or)
logical_xor = _compare("logical_xor", _np.logical_xor)


def _bitwise(name, f):
    def fn(input, other):
        a, b = binary_args(input, other)
        for v in (a, b):
            if (isinstance(v, Tensor) and v._data.dtype.kind == "f") or isinstance(v, float):
                raise RuntimeError(f"\"{name}_cpu\" not implemented for 'Float'")
        return Tensor._make(Context.xp.asarray(f(_arr(a), _arr(b))))
    fn.__name__ = name
    return fn


bitwise_and = _bitwise("bitwise_and", _np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", _np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", _np.bitwise_xor)


def bitwise_not(input):
    """~x for bool and integer tensors."""
    if input._data.dtype.kind == "f":
        raise RuntimeError("\"bitwise_not_cpu\" not implemented for 'Float'")
    return Tensor._make(_np.invert(input._data))


def logical_not(input):
    return Tensor._make(_np.logical_not(input._data))


def isnan(input):
    return Tensor._make(_np.isnan(input._data))


def isinf(input):
    return Tensor._make(_np.isinf(input._data))


def isfinite(input):
    return Tensor._make(_np.isfinite(input._data))


def isposinf(input):
    return Tensor._make(_np.isposinf(input._data))


def isneginf(input):
    return Tensor._make(_np.isneginf(input._data))


def equal(input, other) -> bool:
    """True when both tensors have the same shape and elements."""
    return input._data.shape == other._data.shape and bool((input._data == other._data).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(_np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    o = other._data if isinstance(other, Tensor) else other
    return Tensor._make(_np.isclose(input._data, o, rtol=rtol, atol=atol, equal_nan=equal_nan))

