"""Indexing: ``x[key]`` and ``x[key] = v`` with ints, slices, None, Ellipsis, bools, and integer or
boolean tensors and lists, as PyTorch reads them. Basic keys give views; tensor and list keys give
copies. gather/scatter/index_select and friends live in ``scatter.py`` (re-exported here)."""
from __future__ import annotations

import numbers

from ..autograd.function import Context, Function
from ..autograd.grad_mode import state as _grad_state
from ..tensor import Tensor
from ._accumulate import add_at
from .shape import Slice, view_apply

xp = Context.xp
_ndarray = xp.ndarray
_INT_OR_NONE = (int, type(None))


class Index(Function):
    """y = x[key] with advanced (array) indexing; repeated indices accumulate gradient."""

    @staticmethod
    def forward(ctx: Context, x, key):
        ctx.shape, ctx.dtype, ctx.key = x.shape, x.dtype, key
        return x[key]

    @staticmethod
    def backward(ctx: Context, gy):
        gx = xp.zeros(ctx.shape, ctx.dtype)
        key = ctx.key
        if _unique(key):
            gx[key] = gy
        else:
            add_at(gx, key, gy)
        return gx, None


def _unique(key) -> bool:
    """True when every element of the indexed tensor is selected at most once (masks, slices)."""
    for k in key:
        if type(k) is _ndarray and k.dtype != xp.bool_:
            return False
    return True


# ---- key normalisation ------------------------------------------------------------------------
def _as_index_array(k):
    a = k._data if isinstance(k, Tensor) else xp.asarray(
        [int(v) if isinstance(v, Tensor) else v for v in k] if isinstance(k, list) else k)
    kind = a.dtype.kind
    if kind == "b":
        return a
    if kind == "u" and a.dtype.itemsize == 1 and isinstance(k, Tensor):
        return a.astype(xp.bool_)               # uint8 tensors index as masks (deprecated)
    if kind in "iu":
        return a
    if a.size == 0 and not isinstance(k, Tensor):
        return a.astype(xp.int64)               # x[[]]
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


def _slice_bound(v):
    if v is None or isinstance(v, int):
        return v
    if isinstance(v, Tensor) or isinstance(v, numbers.Integral):
        return int(v)
    raise TypeError("slice indices must be integers or None or have an __index__ method")


def _seq_as_tuple(key) -> bool:
    """PyTorch (like old NumPy) reads a short list holding sequences, slices, None or Ellipsis
    as a tuple of indices: ``x[[[0, 1], [1, 2]]]`` is ``x[[0, 1], [1, 2]]``."""
    if len(key) >= 32:
        return False
    for k in key:
        if isinstance(k, (list, tuple, Tensor, slice, _ndarray)) or k is None or k is Ellipsis:
            return True
    return False


def norm_key(key):
    """Convert a PyTorch index to a NumPy one; return (key tuple, basic)."""
    if type(key) is not tuple:
        if isinstance(key, list) and _seq_as_tuple(key):
            key = tuple(key)
        else:
            key = (key,)
    out = []
    basic = True
    for k in key:
        tk = type(k)
        if tk is int or k is None or k is Ellipsis:
            out.append(k)
        elif tk is slice:
            start, stop, step = k.start, k.stop, k.step
            if not (type(start) in _INT_OR_NONE and type(stop) in _INT_OR_NONE
                    and type(step) in _INT_OR_NONE):
                start, stop, step = _slice_bound(start), _slice_bound(stop), _slice_bound(step)
                k = slice(start, stop, step)
            if step is not None and step <= 0:
                raise ValueError("slice step cannot be zero" if step == 0 else
                                 "step must be greater than zero")
            out.append(k)
        elif isinstance(k, (Tensor, list, _ndarray)):
            out.append(_as_index_array(k))
            basic = False
        elif isinstance(k, bool):
            out.append(xp.bool_(k))
            basic = False
        elif isinstance(k, numbers.Integral):
            out.append(int(k))
        elif isinstance(k, str):
            raise TypeError(f"new(): invalid data type '{k}'")
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(k).__name__})")
    return tuple(out), basic


def _index_error(x, key, err):
    """PyTorch's IndexError for a key that NumPy rejected (called only on failure)."""
    shape = x._data.shape
    if not shape:
        return IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                          "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    msg = str(err)
    if "too many indices" in msg:
        return IndexError(f"too many indices for tensor of dimension {len(shape)}")
    if "out of bounds" in msg:
        return IndexError(msg.replace("axis", "dimension"))
    if "boolean index did not match" in msg:
        dim = 0
        for k in key:
            if type(k) is _ndarray and k.dtype == xp.bool_ and k.ndim:
                if tuple(k.shape) != tuple(shape[dim:dim + k.ndim]):
                    return IndexError(f"The shape of the mask {list(k.shape)} at index {dim} "
                                      f"does not match the shape of the indexed tensor "
                                      f"{list(shape)} at index {dim}")
                dim += k.ndim
            elif k is not None and k is not Ellipsis:
                dim += 1
    if "could not be broadcast" in msg:
        shapes = ", ".join(str(list(k.shape)) for k in key if type(k) is _ndarray)
        return IndexError(f"shape mismatch: indexing tensors could not be broadcast together "
                          f"with shapes {shapes}")
    if "an index can only have a single ellipsis" in msg:
        return IndexError(msg)
    return IndexError(f"{msg} (indexing a tensor of shape {list(shape)})")


def getitem(x, key):
    """x[key] as PyTorch indexes: basic keys give views, tensor/list keys give copies."""
    k, basic = norm_key(key)
    try:
        if basic:
            return view_apply(Slice, x, k)
        return Index.apply(x, k)
    except IndexError as e:
        raise _index_error(x, k, e) from None


def _value(x, value):
    """The value of ``x[key] = value`` as a Tensor of x's dtype, or a NumPy scalar/array."""
    if isinstance(value, Tensor):
        if value._data.dtype != x._data.dtype:
            from ._common import cast
            return cast(value, x._data.dtype)
        return value
    if isinstance(value, (numbers.Number, xp.generic, _ndarray)):
        return value
    raise TypeError(f"can't assign a {type(value).__name__} to a {x.type()}")


def setitem(x, key, value) -> None:
    """x[key] = value in place (value: a number or a tensor broadcast to the selection)."""
    k, basic = norm_key(key)
    if not basic and isinstance(value, Tensor) and value._data.dtype != x._data.dtype:
        from ._common import type_name
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{type_name(x)} for the destination and {type_name(value)} for the "
                           "source.")
    v = _value(x, value)
    if _grad_state.enabled and (x._rg or (isinstance(v, Tensor) and v._rg) or
                                (x._view is not None and x._view[0]._rg)):
        from .inplace import write_graph
        if not isinstance(v, Tensor):
            v = Tensor._make(xp.asarray(v, dtype=x._data.dtype))
        try:
            write_graph(x, v, k, view_key=basic and k != (Ellipsis,))
        except IndexError as e:
            raise _index_error(x, k, e) from None
        return
    try:
        x._data[k] = v._data if isinstance(v, Tensor) else v
    except IndexError as e:
        raise _index_error(x, k, e) from None
    except ValueError as e:
        if not x._data.flags.writeable:
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.") from None
        raise value_shape_error(x, k, v, e) from None
    x._vc[0] += 1


def value_shape_error(x, key, v, err):
    """PyTorch's RuntimeError for a value that does not broadcast to the selection."""
    try:
        target = list(x._data[key].shape)
    except (IndexError, ValueError):
        return RuntimeError(str(err))
    vs = list(v._data.shape if isinstance(v, Tensor) else xp.shape(v))
    return RuntimeError(f"shape mismatch: value tensor of shape {vs} cannot be broadcast to "
                        f"indexing result of shape {target}")


from .scatter import (  # noqa: E402,F401  (re-exported: the indexing family)
    Gather, IndexSelect, MaskedFill, Scatter, argwhere, gather, index_add, index_fill,
    index_select, masked_fill, masked_select, nonzero, scatter, scatter_add, take,
    take_along_dim,
)
