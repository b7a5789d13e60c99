"""Elementwise unary primitives (exp, log, tanh, sigmoid, relu, ...) and dtype casts. The
piecewise ops (clamp, floor, ceil, round, trunc, sign, frac) live in ``piecewise.py`` and are
re-exported here."""
from __future__ import annotations

import math

from ..autograd.function import Context, Function
from ..backend import threads
from ._common import not_implemented, to_floating


class ToDtype(Function):
    """y = x converted to another dtype; the gradient is converted back."""

    @staticmethod
    def forward(ctx: Context, x, npd):
        ctx.src = x.dtype
        return x.astype(npd)

    @staticmethod
    def backward(ctx: Context, gy):
        return gy.astype(ctx.src), None


class Clone(Function):
    """y = a copy of x."""

    @staticmethod
    def forward(ctx: Context, x):
        return x.copy()

    @staticmethod
    def backward(ctx: Context, gy):
        return gy


class Contiguous(Function):
    """y = x in C order (a copy only when x is not C-contiguous)."""

    @staticmethod
    def forward(ctx: Context, x):
        return ctx.xp.ascontiguousarray(x)

    @staticmethod
    def backward(ctx: Context, gy):
        return gy


class Neg(Function):
    """y = -x."""

    @staticmethod
    def forward(ctx: Context, x):
        return -x

    @staticmethod
    def backward(ctx: Context, gy):
        return -gy


class Abs(Function):
    """y = |x|; dy/dx = sign(x) (0 at 0, as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx: Context, gy):
        (x,) = ctx.saved_tensors
        return gy * ctx.xp.sign(x)


class Exp(Function):
    """y = e^x; dy/dx = y."""

    @staticmethod
    def forward(ctx: Context, x):
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        return gy * y


class Expm1(Function):
    """y = e^x - 1; dy/dx = y + 1."""

    @staticmethod
    def forward(ctx: Context, x):
        y = ctx.xp.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        return gy * (y + 1)


class Log(Function):
    """y = ln x; dy/dx = 1/x."""

    @staticmethod
    def forward(ctx: Context, x):
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx: Context, gy):
        (x,) = ctx.saved_tensors
        return gy / x


class Log2(Function):
    """y = log2 x; dy/dx = 1/(x ln 2)."""

    @staticmethod
    def forward(ctx: Context, x):
        ctx.save_for_backward(x)
        return ctx.xp.log2(x)

    @staticmethod
    def backward(ctx: Context, gy):
        (x,) = ctx.saved_tensors
        return gy / (x * 0.6931471805599453)


class Log10(Function):
    """y = log10 x; dy/dx = 1/(x ln 10)."""

    @staticmethod
    def forward(ctx: Context, x):
        ctx.save_for_backward(x)
        return ctx.xp.log10(x)

    @staticmethod
    def backward(ctx: Context, gy):
        (x,) = ctx.saved_tensors
        return gy / (x * 2.302585092994046)


class Log1p(Function):
    """y = ln(1 + x); dy/dx = 1/(1 + x)."""

    @staticmethod
    def forward(ctx: Context, x):
        ctx.save_for_backward(x)
        return ctx.xp.log1p(x)

    @staticmethod
    def backward(ctx: Context, gy):
        (x,) = ctx.saved_tensors
        return gy / (1 + x)


class Sqrt(Function):
    """y = sqrt(x); dy/dx = 1/(2y)."""

    @staticmethod
    def forward(ctx: Context, x):
        y = ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        return gy / (2 * y)


class Rsqrt(Function):
    """y = 1/sqrt(x); dy/dx = -y^3/2."""

    @staticmethod
    def forward(ctx: Context, x):
        y = 1 / ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        return gy * (-0.5 * y * y * y)


class Reciprocal(Function):
    """y = 1/x; dy/dx = -y^2."""

    @staticmethod
    def forward(ctx: Context, x):
        y = 1 / x
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        return -gy * y * y


class Sin(Function):
    """y = sin x; dy/dx = cos x."""

    @staticmethod
    def forward(ctx: Context, x):
        ctx.save_for_backward(x)
        return ctx.xp.sin(x)

    @staticmethod
    def backward(ctx: Context, gy):
        (x,) = ctx.saved_tensors
        return gy * ctx.xp.cos(x)


class Cos(Function):
    """y = cos x; dy/dx = -sin x."""

    @staticmethod
    def forward(ctx: Context, x):
        ctx.save_for_backward(x)
        return ctx.xp.cos(x)

    @staticmethod
    def backward(ctx: Context, gy):
        (x,) = ctx.saved_tensors
        return -gy * ctx.xp.sin(x)


class Tanh(Function):
    """y = tanh(x)."""

    @staticmethod
    def forward(ctx: Context, x):
        y = ctx.xp.tanh(x)
        ctx.save_for_backward(y)           # the output is enough: dy/dx = 1 - y**2
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        return gy * (1 - y * y)


_SIGMOID_CONSTS: dict = {}  # dtype -> read-only 0-d arrays (cap, 1); cap = floor(log(dtype max))


def _sigmoid_consts(dt):
    """(largest t with exp(t) finite, floored; 1) as 0-d arrays of ``dt``: a 0-d array operand
    costs a ufunc about half what a Python scalar does."""
    xp = Context.xp
    c = (xp.array(math.floor(math.log(xp.finfo(dt).max)), dt), xp.array(1, dt))
    for a in c:
        a.flags.writeable = False
    _SIGMOID_CONSTS[dt] = c
    return c


class Sigmoid(Function):
    """y = 1 / (1 + e^-x); dy/dx = y (1 - y), computed in torch's order (gy (1 - y)) y."""

    @staticmethod
    def forward(ctx: Context, x):
        # NOTE: torch's formula, with -x capped at floor(log(dtype max)) so that e^-x never
        # overflows (torch's reaches inf for x < -88.7 in float32 and gives y = 0; ours gives the
        # subnormal 1 / (1 + e^88) there)
        xp = ctx.xp
        cap, one = _SIGMOID_CONSTS.get(x.dtype) or _sigmoid_consts(x.dtype)
        # (a ufunc returns a scalar for a 0-d input unless given out=)
        y = xp.negative(x) if x.ndim else xp.negative(x, out=xp.empty_like(x))
        xp.minimum(y, cap, out=y)
        xp.exp(y, out=y)
        xp.add(y, one, out=y)
        xp.reciprocal(y, out=y)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        one = (_SIGMOID_CONSTS.get(y.dtype) or _sigmoid_consts(y.dtype))[1]
        return gy * ctx.xp.subtract(one, y) * y


class Relu(Function):
    """y = max(x, 0); NOTE: the subgradient at 0 is 0, as in PyTorch. Large float inputs are
    split along their first axis across the intra-op threads."""

    @staticmethod
    def forward(ctx: Context, x):
        xp = ctx.xp
        parts = threads.split(x.shape[0], x.size) if x.ndim and x.dtype.kind == "f" else None
        if parts is None or len(parts) == 1:
            y = xp.maximum(x, 0)
        else:
            y = xp.empty(x.shape, x.dtype)
            threads.run(lambda s: xp.maximum(x[s], 0, out=y[s]), parts)
        ctx.save_for_backward(y)
        ctx.parts = parts
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        parts = ctx.parts
        if parts is None or len(parts) == 1 or gy.shape != y.shape:
            return gy * (y > 0)
        gx = ctx.xp.empty(y.shape, gy.dtype)
        threads.run(lambda s: ctx.xp.multiply(gy[s], y[s] > 0, out=gx[s]), parts)
        return gx


_UNARY_FLOAT = {"exp": Exp, "expm1": Expm1, "log": Log, "log2": Log2, "log10": Log10,
                "log1p": Log1p, "sqrt": Sqrt, "rsqrt": Rsqrt, "sin": Sin, "cos": Cos,
                "tanh": Tanh, "sigmoid": Sigmoid, "reciprocal": Reciprocal}


def _make_unary(name, cls):
    def fn(input):
        return cls.apply(to_floating(input))
    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name}; integer inputs are computed in the default float dtype."
    return fn


for _n, _c in _UNARY_FLOAT.items():
    globals()[_n] = _make_unary(_n, _c)


def neg(input):
    """Elementwise -x."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return Neg.apply(input)


negative = neg


def abs(input):
    """Elementwise |x|; the gradient at 0 is 0 (as in PyTorch)."""
    if input._data.dtype.kind == "b":
        raise not_implemented("abs_cpu", input)
    return Abs.apply(input)


absolute = abs


def relu(input):
    """Elementwise max(x, 0); the gradient at 0 is 0 (as in PyTorch)."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return Relu.apply(input)


def square(input):
    """x ** 2 (bool inputs give int64, as in PyTorch)."""
    from .arith import pow
    return pow(input, 2)


from .piecewise import (  # noqa: E402,F401  (re-exported: the unary family)
    Clamp, ZeroGrad, ceil, clamp, clip, fix, floor, frac, round, sgn, sign, trunc,
)
