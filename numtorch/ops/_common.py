"""Helpers the op families share: PyTorch's type promotion, dimension checks, casting."""
from __future__ import annotations

import numbers

from .. import backend
from ..backend import dtypes as _dt
from ..tensor import Tensor, _wrap_dim

wrap_dim = _wrap_dim
_kind_cache: dict = {}
_NP_GENERIC = backend.xp.generic


def _dim_kind(a) -> int:
    """Priority of an operand in promotion: 2 dimensioned tensor, 1 zero-dim tensor, 0 scalar."""
    return 2 if a._data.ndim else 1


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
            k, d = _dim_kind(a), _dt.from_np(a._data.dtype)
        else:
            k, d = 0, _scalar_dtype(a)
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


def binary_args(a, b, floating: bool = False):
    """Bring two operands (Tensors or Python scalars) to PyTorch's common dtype.

    Scalars stay Python scalars where NumPy keeps the tensor's dtype with them; tensors are cast.
    With ``floating``, integer results become the default float dtype (true division).
    """
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a._data.dtype, b._data.dtype
        if da == db and (not floating or da.kind == "f"):
            return a, b
    elif not (ta or tb):
        raise TypeError(f"expected a Tensor operand, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    else:
        t, s = (a, scalar(b)) if ta else (b, scalar(a))
        if not isinstance(s, (numbers.Number,)):
            raise TypeError(f"unsupported operand type: {type(s).__name__}")
        kind = t._data.dtype.kind
        ok = (kind == "f" or (kind in "iu" and not isinstance(s, float)) or
              (kind == "b" and isinstance(s, bool)))
        if ok and (not floating or kind == "f"):
            return (t, s) if ta else (s, t)
    dt = result_type(a, b)
    if floating and not dt.is_floating_point:
        dt = _dt.get_default_dtype()
    npd = dt.np
    a = cast(a, npd) if ta else _as_scalar(scalar(a), dt)
    b = cast(b, npd) if tb else _as_scalar(scalar(b), dt)
    return a, b


def _as_scalar(s, dt):
    if dt.is_floating_point:
        return float(s)
    if dt is _dt.bool_:
        return bool(s)
    return int(s)


def to_floating(t: Tensor) -> Tensor:
    """Integer and bool tensors become the default float dtype (for exp, sin, sqrt, ...)."""
    if t._data.dtype.kind == "f":
        return t
    return cast(t, _dt.get_default_dtype().np)


def ensure_tensor(x, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a Tensor, not {type(x).__name__}")
    return x


def dims(dim, ndim: int):
    """Normalise ``dim`` (None, int, or sequence) to a sorted tuple of axes; None means all."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        out = tuple(sorted(wrap_dim(d, ndim) for d in dim))
        if len(set(out)) != len(out):
            raise RuntimeError(f"dim {tuple(dim)} appears multiple times in the list of dims")
        return out
    return (wrap_dim(dim, ndim),)


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
