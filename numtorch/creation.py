"""Tensor factories: tensor, as_tensor, from_numpy, zeros/ones/full/empty(_like), arange,
linspace, eye, rand, randn, randint, randperm, manual_seed."""
from __future__ import annotations

import math
import numbers

from . import backend
from .backend import dtypes as _dt
from .backend import random as _random
from .tensor import Tensor, _check_device
from .ops._common import size_arg

xp = backend.xp


_NEG_DIM = "Trying to create tensor with negative dimension {}: {}"


def _size(size, name=None):
    """A shape from ``f(2, 3)`` / ``f((2, 3))`` forms; negative sizes raise as in PyTorch."""
    if not size and name is not None:
        raise TypeError(f"{name}() missing 1 required positional arguments: \"size\"")
    shape = size_arg(size)
    for s in shape:
        if s < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(_NEG_DIM.format(s, list(shape)))
    return shape


def _infer_np_dtype(data):
    """PyTorch's dtype inference for nested Python data: bool < int64 < default float."""
    kinds = set()
    stack = [data]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, Tensor):
            kinds.add(v._data.dtype.kind)
        elif isinstance(v, bool):
            kinds.add("b")
        elif isinstance(v, numbers.Integral):
            kinds.add("i")
        elif isinstance(v, numbers.Real):
            kinds.add("f")
        elif isinstance(v, numbers.Complex):
            raise TypeError("complex tensors are not supported")
        elif isinstance(v, str):
            raise TypeError(f"new(): invalid data type '{type(v).__name__}'")
        else:
            raise RuntimeError(f"Could not infer dtype of {type(v).__name__}")
    if "f" in kinds:
        return _dt.get_default_dtype().np
    if "i" in kinds or "u" in kinds:
        return xp.int64
    if "b" in kinds:
        return xp.bool_
    return _dt.get_default_dtype().np


def _from_data(data, dtype, copy: bool):
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, backend.ndarray):
        arr = data
        if arr.dtype.kind == "O":
            raise TypeError("can't convert np.ndarray of type numpy.object_")
    elif isinstance(data, backend.xp.generic):
        arr = xp.asarray(data)
    else:
        if isinstance(data, range):
            data = list(data)
        if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in data):
            data = [v.tolist() if isinstance(v, Tensor) else v for v in data]
        npd = _dt.to_np(dtype) if dtype is not None else _infer_np_dtype(data)
        try:
            arr = xp.array(data, dtype=npd)
        except OverflowError:
            raise ValueError("Overflow when unpacking long long") from None
        except ValueError:
            raise ValueError(f"expected a sequence of numbers with a regular shape, got "
                             f"{_ragged_hint(data)}") from None
        return arr
    if dtype is not None:
        arr = arr.astype(_dt.to_np(dtype), copy=copy)
    else:
        _dt.from_np(arr.dtype)
        if copy:
            arr = arr.copy()
    return arr


def _ragged_hint(data) -> str:
    """Where nested lists stop being rectangular (for the error message)."""
    level = [data]
    for dim in range(64):
        lens = {len(v) for v in level if isinstance(v, (list, tuple))}
        if len(lens) > 1:
            a, b = sorted(lens)[-1], sorted(lens)[0]
            return f"sequences of lengths {a} and {b} at dim {dim}"
        level = [w for v in level if isinstance(v, (list, tuple)) for w in v]
        if not level:
            break
    return "an irregular shape"


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors).

    dtype is inferred as PyTorch infers it: floats -> default dtype, ints -> int64, bools -> bool;
    NumPy arrays keep their dtype.
    """
    _check_device(device)
    t = Tensor._make(_from_data(data, dtype, copy=True))
    return t.requires_grad_(requires_grad) if requires_grad else t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with ``data`` when it is a tensor or array of the
    requested dtype."""
    _check_device(device)
    if isinstance(data, Tensor) and (dtype is None or _dt.to_np(dtype) == data._data.dtype):
        return data
    return Tensor._make(_from_data(data, dtype, copy=False))


def asarray(obj, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    t = as_tensor(obj, dtype) if not copy else tensor(obj, dtype)
    return t.requires_grad_(requires_grad) if requires_grad else t


def from_numpy(ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(ndarray, backend.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dt.from_np(ndarray.dtype)
    return Tensor._make(ndarray)


def _factory(arr, requires_grad):
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype):
    return _dt.get_default_dtype().np if dtype is None else _dt.to_np(dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None) -> Tensor:
    """A tensor of zeros of the given shape (default dtype float32)."""
    _check_device(device)
    return _factory(xp.zeros(_size(size, "zeros"), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None) -> Tensor:
    """A tensor of ones of the given shape (default dtype float32)."""
    _check_device(device)
    return _factory(xp.ones(_size(size, "ones"), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          memory_format=None, pin_memory=False) -> Tensor:
    """An uninitialised tensor of the given shape."""
    _check_device(device)
    return _factory(xp.empty(_size(size, "empty"), _float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    """A tensor filled with ``fill_value``; dtype inferred from it as PyTorch infers it."""
    _check_device(device)
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = _infer_np_dtype(fill_value)
    return _factory(xp.full(_size((size,)), fill_value, _dt.to_np(dtype)), requires_grad)


def _like(t, dtype):
    return t._data.dtype if dtype is None else _dt.to_np(dtype)


def zeros_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _factory(xp.zeros(input._data.shape, _like(input, dtype)), requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _factory(xp.ones(input._data.shape, _like(input, dtype)), requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _factory(xp.empty(input._data.shape, _like(input, dtype)), requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _factory(xp.full(input._data.shape, fill_value, _like(input, dtype)), requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return rand(input._data.shape, dtype=_dt.from_np(_like(input, dtype)),
                requires_grad=requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return randn(input._data.shape, dtype=_dt.from_np(_like(input, dtype)),
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, dtype=_dt.from_np(_like(input, dtype)))


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False, out=None):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 when all are integers."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (vals[1] - vals[0]) / vals[2] < 0:
        raise RuntimeError(f"upper bound and larger bound inconsistent with step sign: start="
                           f"{vals[0]}, end={vals[1]}, step={vals[2]}")
    if dtype is None:
        dtype = _infer_np_dtype(vals)
    npd = _dt.to_np(dtype)
    if npd.kind == "f":  # start + i * step in double, then rounded once (as PyTorch)
        n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
        arr = (vals[0] + vals[2] * xp.arange(n, dtype=xp.float64)).astype(npd)
    else:  # NOTE: for integer dtypes PyTorch truncates start, end and step first
        start, end, step = (int(v) for v in vals)
        if step == 0:
            raise ValueError("step must be nonzero")
        arr = xp.arange(start, end, step, dtype=xp.int64).astype(npd)
    return _factory(arr, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False, out=None):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if isinstance(steps, Tensor):
        steps = steps.item()
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    npd = _float_dtype(dtype)
    # PyTorch's kernel: the first half counts up from start, the second half down from end, with
    # the step in the result's float type (double for integers) and fused multiply-adds, which a
    # wider type emulates here
    ct = npd if npd.kind == "f" else xp.dtype(xp.float64)
    wide = {8: xp.longdouble, 4: xp.float64}.get(ct.itemsize, ct.type)  # half: no fma
    if npd.kind != "f":  # the bounds are converted to the integer type first
        start, end = int(start), int(end)
    lo, hi = ct.type(start), ct.type(end)
    step = wide((hi - lo) / ct.type(max(steps - 1, 1)))
    i = xp.arange(steps, dtype=wide)
    vals = xp.where(i < steps // 2, wide(lo) + step * i, wide(hi) - step * (steps - 1 - i))
    if steps == 1:
        vals[0] = lo
    return _factory(vals.astype(ct).astype(npd, copy=False), requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    npd = _float_dtype(dtype)
    return _factory(xp.logspace(start, end, steps, base=base).astype(npd), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    """The n x m identity matrix."""
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    return _factory(xp.eye(n, n if m is None else m, dtype=_float_dtype(dtype)), requires_grad)


def manual_seed(seed: int):
    """Seed the default generator (numtorch's draws use NumPy's PCG64, not PyTorch's stream)."""
    return _random.default_generator.manual_seed(seed)


def seed() -> int:
    return _random.default_generator.seed()


def initial_seed() -> int:
    return _random.default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return Tensor._make(_random.default_generator.get_state())


def set_rng_state(state) -> None:
    _random.default_generator.set_state(state)


def _not_float(kernel, npd):
    return NotImplementedError(f"\"{kernel}\" not implemented for "
                               f"'{_dt.TYPE_NAMES[_dt.from_np(npd).name]}'")


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Uniform samples on [0, 1) of the default float dtype."""
    npd = _float_dtype(dtype)
    g = _random.gen(generator)
    shape = _size(size, "rand")
    if npd == xp.float32 or npd == xp.float64:
        arr = g.random(shape, dtype=npd)
    elif npd == xp.float16:  # rounding to half could reach 1.0: keep the bound exclusive
        arr = xp.minimum(g.random(shape, dtype=xp.float32).astype(npd),
                         xp.nextafter(xp.float16(1), xp.float16(0)))
    else:
        raise _not_float("check_uniform_bounds", npd)
    return _factory(arr, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Standard normal samples of the default float dtype."""
    npd = _float_dtype(dtype)
    if npd.kind != "f":
        raise _not_float("normal_kernel_cpu", npd)
    g = _random.gen(generator)
    shape = _size(size, "randn")
    arr = g.standard_normal(shape, dtype=npd) if npd != xp.float16 else \
        g.standard_normal(shape, dtype=xp.float32).astype(npd)
    return _factory(arr, requires_grad)


_C_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short",
            "int32": "int", "int64": "long"}


def randint(low, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high) (int64 by default); ``randint(high, size)`` also works."""
    if size is None:
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    low, high = int(low), int(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    npd = xp.dtype(xp.int64) if dtype is None else _dt.to_np(dtype)
    if npd.kind in "iub":
        info = xp.iinfo(npd) if npd.kind != "b" else None
        lo, hi = (0, 1) if info is None else (int(info.min), int(info.max))
        name = _C_NAMES[_dt.from_np(npd).name]
        if low < lo:
            raise RuntimeError(f"from is out of bounds for {name}")
        if high - 1 > hi:
            raise RuntimeError(f"to - 1 is out of bounds for {name}")
    arr = _random.gen(generator).integers(low, high, size=_size((size,), "randint")).astype(npd)
    return _factory(arr, requires_grad)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64)."""
    if n < 0:
        raise RuntimeError(_NEG_DIM.format(n, [n]))
    npd = xp.int64 if dtype is None else _dt.to_np(dtype)
    return _factory(_random.gen(generator).permutation(n).astype(npd), requires_grad)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None):
    """Normal samples; ``mean``/``std`` may be tensors (broadcast) or numbers with ``size``."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    shape = _size((size,)) if size is not None else xp.broadcast_shapes(xp.shape(m), xp.shape(s))
    npd = (mean._data.dtype if isinstance(mean, Tensor) else
           std._data.dtype if isinstance(std, Tensor) else _float_dtype(dtype))
    arr = _random.gen(generator).normal(m, s, size=shape).astype(npd)
    return Tensor._make(arr)


def bernoulli(input, p=None, generator=None):
    """0/1 samples with probabilities ``input`` (or the scalar ``p``)."""
    probs = input._data if p is None else xp.full(input._data.shape, p)
    arr = (_random.gen(generator).random(probs.shape) < probs).astype(input._data.dtype)
    return Tensor._make(arr)


def multinomial(input, num_samples, replacement=False, generator=None):
    """Indices sampled from the rows of ``input`` (non-negative weights)."""
    p = xp.asarray(input._data, dtype=xp.float64)
    rows = p.reshape(-1, p.shape[-1])
    if (rows < 0).any() or not xp.isfinite(rows).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    g = _random.gen(generator)
    out = []
    for r in rows:
        s = r.sum()
        if s <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement and num_samples > (r > 0).sum():
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        out.append(g.choice(r.size, size=num_samples, replace=replacement, p=r / s))
    arr = xp.asarray(out, dtype=xp.int64).reshape(p.shape[:-1] + (num_samples,))
    return Tensor._make(arr)
