"""Elementwise unary primitives (exp, log, tanh, sigmoid, relu, ...) and dtype casts."""
from __future__ import annotations

from ..autograd.function import Context, Function
from ._common import scalar, to_floating


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


class Sigmoid(Function):
    """y = 1 / (1 + e^-x), computed without overflow; dy/dx = y (1 - y)."""

    @staticmethod
    def forward(ctx: Context, x):
        xp = ctx.xp
        # NOTE: 0.5 * (1 + tanh(x/2)) equals the logistic function and never overflows
        y = xp.tanh(x * 0.5)
        y += 1
        y *= 0.5
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        return gy * y * (1 - y)


class Relu(Function):
    """y = max(x, 0); NOTE: the subgradient at 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx: Context, x):
        y = ctx.xp.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        (y,) = ctx.saved_tensors
        return gy * (y > 0)


class Clamp(Function):
    """y = min(max(x, lo), hi) with scalar bounds; the gradient passes where lo <= x <= hi."""

    @staticmethod
    def forward(ctx: Context, x, lo, hi):
        xp = ctx.xp
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
    """Elementwise |x|."""
    return Abs.apply(input)


def relu(input):
    """Elementwise max(x, 0)."""
    return Relu.apply(input)


def clamp(input, min=None, max=None):
    """Clamp to [min, max]; bounds may be numbers or tensors (tensor bounds broadcast)."""
    from .arith import maximum, minimum
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor_) or isinstance(max, Tensor_):
        y = input
        if min is not None:
            y = maximum(y, min if isinstance(min, Tensor_) else _full_like(input, min))
        if max is not None:
            y = minimum(y, max if isinstance(max, Tensor_) else _full_like(input, max))
        return y
    lo, hi = scalar(min), scalar(max)
    if input._data.dtype.kind != "f" and (isinstance(lo, float) or isinstance(hi, float)):
        input = to_floating(input)
    return Clamp.apply(input, lo, hi)


clip = clamp


def _full_like(t, v):
    from ..creation import full_like
    return full_like(t, v)


def _zero_grad(name, f):
    def fn(input, *args, **kwargs):
        return ZeroGrad.apply(input, lambda a: f(a, *args, **kwargs))
    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name}; its gradient is zero (as in PyTorch)."
    return fn


def _xp():
    return Context.xp


def _keep_int(f):
    def g(a):
        return a.copy() if a.dtype.kind in "iub" else f(a)
    return g


floor = _zero_grad("floor", _keep_int(lambda a: _xp().floor(a)))
ceil = _zero_grad("ceil", _keep_int(lambda a: _xp().ceil(a)))
trunc = _zero_grad("trunc", _keep_int(lambda a: _xp().trunc(a)))
fix = trunc
sign = _zero_grad("sign", lambda a: _xp().sign(a))
sgn = sign


def round(input, *, decimals=0):
    """Round half to even (as PyTorch); gradient zero."""
    return ZeroGrad.apply(input, lambda a: a.copy() if a.dtype.kind in "iub"
                          else _xp().round(a, decimals))


def frac(input):
    """x - trunc(x); gradient one."""
    from .arith import sub
    return sub(input, trunc(input).detach())


def square(input):
    """x * x."""
    from .arith import mul
    return mul(input, input)


from ..tensor import Tensor as Tensor_  # noqa: E402

