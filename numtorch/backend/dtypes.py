"""dtype objects with PyTorch's names, and PyTorch's type-promotion rules.

Differs from torch: float16 is mainly a storage type. NumPy computes half-precision ops in half
(each ufunc rounds its result to float16, and reductions may accumulate in half), where PyTorch's
CPU kernels compute in float32 and round once; results agree to about 2e-3 relative, which is the
tolerance tests/oracle/test_elementwise.py uses for float16.
"""
from __future__ import annotations

import numpy as _np

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """A tensor element type, like ``torch.dtype`` (``numtorch.float32``, ``numtorch.int64``)."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "category")

    def __init__(self, name: str, np_type, category: int) -> None:
        self.name = name
        self.np = _np.dtype(np_type)
        self.category = category
        self.is_floating_point = category == _FLOAT
        self.is_signed = self.np.kind in "if"
        self.itemsize = self.np.itemsize

    @property
    def is_complex(self) -> bool:
        return False

    def to_real(self) -> "dtype":
        return self

    def __repr__(self) -> str:
        return "numtorch." + self.name

    def __reduce__(self):
        # pickled by reference to the module attribute (``bool`` is spelled ``bool_`` here)
        return "bool_" if self.name == "bool" else self.name


bool_ = dtype("bool", _np.bool_, _BOOL)
uint8 = dtype("uint8", _np.uint8, _INT)
int8 = dtype("int8", _np.int8, _INT)
int16 = dtype("int16", _np.int16, _INT)
int32 = dtype("int32", _np.int32, _INT)
int64 = dtype("int64", _np.int64, _INT)
float16 = dtype("float16", _np.float16, _FLOAT)
float32 = dtype("float32", _np.float32, _FLOAT)
float64 = dtype("float64", _np.float64, _FLOAT)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "long": int64,
                 "int": int32, "short": int16})

#: PyTorch's legacy type names ("Float" in ``torch.FloatTensor`` and in kernel error messages)
TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
              "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double"}

_default = [float32]


def get_default_dtype() -> dtype:
    """The floating dtype that factories and Python floats use (float32 unless changed)."""
    return _default[0]


def set_default_dtype(d) -> None:
    """Set the default floating dtype; only float32 and float64 are allowed (as in PyTorch)."""
    d = as_dtype(d)
    if d not in (float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


def from_np(np_dtype) -> dtype:
    """The numtorch dtype of a NumPy dtype."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        d = _BY_NP.get(_np.dtype(np_dtype))
        if d is None:
            raise TypeError(f"can't convert NumPy array of dtype {np_dtype}; supported: "
                            + ", ".join(x.name for x in ALL)) from None
        return d


def as_dtype(d) -> dtype:
    """Accept a numtorch dtype, a Python type (float -> float64, int -> int64, bool), a NumPy
    dtype or a name, and return the numtorch dtype."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    try:
        return from_np(_np.dtype(d))
    except TypeError:
        raise TypeError(f"not a dtype: {d!r}") from None


def to_np(d):
    """The NumPy dtype of a numtorch dtype (or anything ``as_dtype`` accepts)."""
    return as_dtype(d).np


def promote_types(a: dtype, b: dtype) -> dtype:
    """PyTorch's ``promote_types``: the higher category wins; within one category the wider type."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return from_np(_np.promote_types(a.np, b.np))
