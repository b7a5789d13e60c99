"""Helpers the op families share: PyTorch's type promotion, dimension checks, casting."""
from __future__ import annotations

import numbers
import warnings

from .. import backend
from ..backend import dtypes as _dt
from ..tensor import Tensor, _wrap_dim

wrap_dim = _wrap_dim
_NP_GENERIC = backend.xp.generic

# NOTE: PyTorch never warns on floating-point exceptions (log(0), 1/0, overflow); NumPy does.
# Silencing them here costs nothing per call, unlike an errstate block around every ufunc.
warnings.filterwarnings("ignore", r"(divide by zero|invalid value|overflow|underflow) encountered",
                        RuntimeWarning, r"numtorch\.")

#: (lowest, highest) value of the integer dtypes narrower than int64, for wrapping scalars
_INT_RANGE = {}
for _d in (_dt.uint8, _dt.int8, _dt.int16, _dt.int32):
    _info = backend.xp.iinfo(_d.np)
    _INT_RANGE[_d.np] = (int(_info.min), int(_info.max))


def wrap_int(s, npd):
    """A Python int wrapped into integer dtype ``npd``'s range, as PyTorch converts scalars
    (``uint8 tensor + -3`` adds 253); NumPy would raise OverflowError instead."""
    r = _INT_RANGE.get(npd)
    if r is None or r[0] <= s <= r[1]:
        return s
    span = r[1] - r[0] + 1
    return (s - r[0]) % span + r[0]


def type_name(t) -> str:
    """PyTorch's type name of a tensor's dtype ("Float", "Long", "Bool", ...)."""
    return _dt.TYPE_NAMES[_dt.from_np(t._data.dtype).name]


def not_implemented(kernel: str, t) -> NotImplementedError:
    """PyTorch's error for a kernel that has no implementation for ``t``'s dtype."""
    return NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(t)}'")


def broadcast_error(a, b, err):
    """PyTorch's RuntimeError for operands whose shapes do not broadcast, else ``err`` itself.

    Called only on the failure path (after NumPy raised ``err``), so the check costs nothing on
    the success path.
    """
    sa = a._data.shape if isinstance(a, Tensor) else ()
    sb = b._data.shape if isinstance(b, Tensor) else ()
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    for i, (x, y) in enumerate(zip(sa, sb)):
        if x != y and x != 1 and y != 1:
            return RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                                f"({y}) at non-singleton dimension {i}")
    return err


def can_cast(src, dst) -> bool:
    """PyTorch's ``can_cast`` for writing a result of NumPy dtype ``src`` into ``dst`` (in-place
    ops, ``out=``): floating -> integer/bool and integer -> bool are refused; everything else,
    unlike NumPy's "same_kind" (int64 -> uint8), is allowed."""
    sk, dk = src.kind, dst.kind
    if sk == "f":
        return dk == "f"
    if sk in "iu":
        return dk != "b"
    return True


def apply_binary(cls, a, b):
    """``cls.apply(a, b)``, with NumPy's broadcasting ValueError translated to PyTorch's."""
    try:
        return cls.apply(a, b)
    except ValueError as e:
        raise broadcast_error(a, b, e) from None


def _scalar_dtype(s) -> _dt.dtype:
    if isinstance(s, bool):
        return _dt.bool_
    if isinstance(s, numbers.Integral):
        return _dt.int64
    if isinstance(s, numbers.Real):
        return _dt.get_default_dtype()
    raise TypeError(f"unsupported operand type {type(s).__name__}")


def _combine(higher, lower):
    # PyTorch's combine_categories: a lower-priority operand counts only if its category is higher
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_floating_point:
        return higher
    if higher is _dt.bool_ or lower.is_floating_point:
        return _dt.promote_types(higher, lower)
    return higher


def result_type(*operands) -> _dt.dtype:
    """``torch.result_type`` for tensors and Python scalars."""
    states = [None, None, None]
    for a in operands:
        if isinstance(a, Tensor):
            k, d = (2 if a._data.ndim else 1), _dt.from_np(a._data.dtype)
        else:
            k, d = 0, _scalar_dtype(scalar(a))
        states[k] = d if states[k] is None else _dt.promote_types(states[k], d)
    return _combine(states[2], _combine(states[1], states[0]))


def cast(t, npd):
    """``t`` converted to NumPy dtype ``npd`` (differentiably), or ``t`` itself."""
    if t._data.dtype == npd:
        return t
    from .elementwise import ToDtype
    return ToDtype.apply(t, npd)


def scalar(s):
    """A Python number from a Python/NumPy scalar; other values pass through."""
    if isinstance(s, _NP_GENERIC):
        return s.item()
    return s


def _py_scalar(s, other):
    """A Python number from an operand that is not a Tensor; TypeError for anything else."""
    if isinstance(s, _NP_GENERIC):
        s = s.item()
    if isinstance(s, (int, float)):
        return s
    if isinstance(s, numbers.Integral):
        return int(s)
    if isinstance(s, numbers.Real):
        return float(s)
    raise TypeError(f"unsupported operand type(s): '{type(other).__name__}' and "
                    f"'{type(s).__name__}'")


def binary_args(a, b, floating: bool = False):
    """Bring two operands (Tensors or Python scalars) to PyTorch's common dtype.

    Scalars stay Python scalars where NumPy keeps the tensor's dtype with them (integer scalars
    wrapped into narrow integer dtypes as PyTorch does); tensors are cast. With ``floating``,
    integer results become the default float dtype (true division).
    """
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a._data.dtype, b._data.dtype
        if da == db and (not floating or da.kind == "f"):
            return a, b
    elif ta or tb:
        t, s = (a, b) if ta else (b, a)
        ts = type(s)
        if ts is not float and ts is not int and ts is not bool:
            s = _py_scalar(s, t)
            ts = type(s)
            if ta:
                b = s
            else:
                a = s
        npd = t._data.dtype
        kind = npd.kind
        if kind == "f":
            return a, b
        if not floating:
            if ts is int and kind in "iu":
                if npd in _INT_RANGE:
                    s = wrap_int(s, npd)
                return (t, s) if ta else (s, t)
            if ts is bool and kind in "iub":
                return a, b
    else:
        raise TypeError(f"expected a Tensor operand, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    dt = result_type(a, b)
    if floating and not dt.is_floating_point:
        dt = _dt.get_default_dtype()
    npd = dt.np
    a = cast(a, npd) if ta else _as_scalar(a, dt)
    b = cast(b, npd) if tb else _as_scalar(b, dt)
    return a, b


def _as_scalar(s, dt):
    if dt.is_floating_point:
        return float(s)
    if dt is _dt.bool_:
        return bool(s)
    return int(s)


def to_floating(t: Tensor) -> Tensor:
    """Integer and bool tensors become the default float dtype (for exp, sin, sqrt, ...)."""
    try:
        kind = t._data.dtype.kind
    except AttributeError:
        raise TypeError(f"expected a Tensor as input, got {type(t).__name__}") from None
    if kind == "f":
        return t
    return cast(t, _dt.get_default_dtype().np)


def ensure_tensor(x, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a Tensor, not {type(x).__name__}")
    return x


def dims(dim, ndim: int):
    """Normalise ``dim`` (None, int, or sequence) to a sorted tuple of axes; None means all
    (also for a 0-d tensor, whose only valid dims are 0 and -1)."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        out = tuple(sorted(wrap_dim(d, ndim) for d in dim))
        for a, b in zip(out, out[1:]):
            if a == b:
                raise RuntimeError(f"dim {a} appears multiple times in the list of dims")
        return out if ndim else None
    d = wrap_dim(dim, ndim)
    return (d,) if ndim else None


def size_arg(size) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` forms of a shape."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"size must be a sequence of ints, got {type(s).__name__}")
        out.append(int(s))
    return tuple(out)
