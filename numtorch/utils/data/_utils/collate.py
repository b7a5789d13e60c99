"""Merge samples into batches: ``default_collate``, ``default_convert`` and the ``collate``
registry, as in ``torch.utils.data._utils.collate``.

Collation is on the training hot path, so a batch of tensors or arrays is built with one
``numpy.stack`` over the samples' arrays; torch's slower, exact path (``numtorch.stack`` with
type promotion, autograd and its error messages) runs only when that fast path does not apply.
"""
from __future__ import annotations

import collections
import copy
import re
from functools import reduce

import numpy as np

from ....backend import dtypes as _dt
from ....creation import as_tensor, tensor
from ....ops.shape import stack
from ....tensor import Tensor

np_str_obj_array_pattern = re.compile(r"[SaUO]")

_make = Tensor._make
_np_stack = np.stack
_Mapping = collections.abc.Mapping
_MutableMapping = collections.abc.MutableMapping
_Sequence = collections.abc.Sequence
_MutableSequence = collections.abc.MutableSequence


def default_convert(data):
    """Convert each NumPy array or scalar in ``data`` to a tensor, recursing into mappings,
    namedtuples and sequences; anything else is returned unchanged.

    The collate function of a DataLoader with automatic batching disabled (``batch_size=None``).
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ == "ndarray" and \
                np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, _Mapping):
        try:
            if isinstance(data, _MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # NOTE: a list, as torch returns
    if isinstance(data, _Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, _MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def collate(batch, *, collate_fn_map=None):
    """Collate a batch by the type of its first element, recursing into containers.

    ``collate_fn_map`` maps an element type (or tuple of types) to a function
    ``fn(batch, *, collate_fn_map)``; an exact type match wins, else the first key the element
    is an instance of, in insertion order.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        fn = collate_fn_map.get(elem_type)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, _Mapping):
        try:
            if isinstance(elem, _MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                    for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch)))
    if isinstance(elem, _Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, _MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map)
                              for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def _stack_exact(batch):
    """``numtorch.stack(batch, 0)``: promotion, autograd and torch's errors (the slow path)."""
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return stack(batch, 0)


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stack tensors along a new first dimension."""
    dtype = batch[0]._data.dtype
    try:
        if not any(t._rg for t in batch):
            out = _np_stack([t._data for t in batch])
            # NumPy promotes mixed dtypes differently from torch; then take the exact path.
            if out.dtype == dtype:
                return _make(out)
    except (AttributeError, ValueError):
        pass
    return _stack_exact(batch)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """Stack NumPy arrays into one tensor (string and object arrays are an error)."""
    dtype = batch[0].dtype
    if np_str_obj_array_pattern.search(dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(dtype))
    try:
        out = _np_stack(batch)
        if out.dtype == dtype:
            _dt.from_np(dtype)  # TypeError for a dtype numtorch lacks
            return _make(out)
    except ValueError:
        pass
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars -> a 1-d tensor of their promoted dtype (torch's promotion rules)."""
    t0 = type(batch[0])
    if all(type(b) is t0 for b in batch):
        return _make(np.array(batch, dtype=_dt.from_np(batch[0].dtype).np))
    if all(isinstance(b, np.generic) for b in batch):
        dt = reduce(_dt.promote_types, [_dt.from_np(b.dtype) for b in batch])
        return _make(np.array(batch).astype(dt.np))
    return as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats -> a float64 tensor."""
    return _make(np.array(batch, dtype=np.float64))


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints -> int64, bools -> bool; a float among them makes the default float dtype."""
    arr = np.array(batch)
    kind = arr.dtype.kind
    if kind == "i":
        return _make(arr.astype(np.int64, copy=False))
    if kind == "b":
        return _make(arr)
    if kind == "f":
        return _make(arr.astype(_dt.get_default_dtype().np))
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes stay a list."""
    return batch


default_collate_fn_map = {Tensor: collate_tensor_fn}
default_collate_fn_map[np.ndarray] = collate_numpy_array_fn
default_collate_fn_map[(np.bool_, np.number, np.object_)] = collate_numpy_scalar_fn
default_collate_fn_map[float] = collate_float_fn
default_collate_fn_map[int] = collate_int_fn
default_collate_fn_map[str] = collate_str_fn
default_collate_fn_map[bytes] = collate_str_fn


def default_collate(batch):
    """Put each data field of a list of samples into a tensor with an outer batch dimension.

    Tensors are stacked; NumPy arrays and scalars become tensors; Python floats a float64
    tensor, ints an int64 tensor, bools a bool tensor; str and bytes stay a list. Mappings are
    collated per key, namedtuples per field, and other sequences are transposed (tuples give a
    list), each element collated recursively.

    Args:
        batch: a list of samples.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
