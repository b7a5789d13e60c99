"""Argument parsing and PyTorch's checks (message for message) for the pooling functions."""
from __future__ import annotations

import functools

from ..ops import pool as _pool
from ..ops._common import not_implemented

_AXES = {1: ("W",), 2: ("H", "W"), 3: ("T", "H", "W")}
_DIMS = {1: "one", 2: "two", 3: "three"}


def ints(v, n, name, what):
    """``v`` (an int or a sequence of 1 or n ints) as an n-tuple, or torch's error."""
    if isinstance(v, int):
        return (v,) * n
    v = tuple(v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        must = _MUST.get(f"{name}:{what}", _MUST[what])
        raise RuntimeError(f"{name}: {what} must {must.format(_DIMS[n])}")
    return v


_MUST = {"kernel_size": "either be a single int, or a tuple of {} ints",
         "avg_pool3d:kernel_size": "be a single int, or a tuple of {} ints",
         "stride": "either be omitted, a single int, or a tuple of {} ints",
         "padding": "either be a single int, or a tuple of {} ints",
         "dilation": "be either a single int, or a tuple of {} ints"}


def omitted(stride) -> bool:
    return stride is None or (not isinstance(stride, int) and len(stride) == 0)


def nd_args(name, nd, kernel_size, stride, padding, dilation=1):
    """(kernel, stride, padding, dilation) as nd-tuples; the stride defaults to the kernel."""
    ks = ints(kernel_size, nd, name, "kernel_size")
    ss = ks if omitted(stride) else ints(stride, nd, name, "stride")
    return ks, ss, ints(padding, nd, name, "padding"), ints(dilation, nd, name, "dilation")


def one(name, arg, v):
    """A 1-D pooling argument (int or 1-sequence), as torch's check1d checks it."""
    if isinstance(v, int):
        return v
    v = tuple(v)
    if len(v) != 1:
        raise RuntimeError(f"{name}() argument '{arg}' should contain one int (got {len(v)})")
    return v[0]


def dim_range(name, x, lo, hi):
    """torch's checkDimRange: lo <= x.dim() < hi."""
    nd = x._data.ndim
    if not lo <= nd < hi:
        raise RuntimeError(f"Expected {lo} to {hi - 1} dimensions, but got {nd}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for {name})")


@functools.lru_cache(maxsize=1024)
def sliding(n, k, s, d, p, ceil):
    """(output length, Windows or None) along one axis, with torch's checks and ceil rule."""
    if s == 0:
        raise RuntimeError("stride should not be zero")
    if p < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
    if p > int(((k - 1) * d + 1) / 2):  # C++ division truncates toward zero
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                           f"pad={p}, kernel_size={k} and dilation={d}")
    o = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1  # NOTE: torch's rule: the last window must start inside the input or left pad
    ok = o > 0 and k > 0 and s > 0 and d > 0
    return o, (_pool.Windows(n, o, k, s, d, p) if ok else None)


@functools.lru_cache(maxsize=1024)
def windows(shape, ks, ss, ps, ds, ceil_mode, fn3d=None):
    """Windows over the trailing len(ks) axes of ``shape``, after torch's pool2d/3d checks
    (``fn3d``: the kernel's name in 3-D messages; "avg_pool3d()" also checks the input is at
    least as large as the kernel)."""
    nd = len(ks)
    res = [sliding(shape[i - nd], k, s, d, p, bool(ceil_mode))
           for i, k, s, d, p in zip(range(nd), ks, ss, ds, ps)]
    outs = [o for o, _ in res]
    ax = _AXES[nd]

    def names(prefix, vals):
        return " ".join(f"{prefix}{a}: {v}" for a, v in zip(ax, vals))
    if min(ks) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got {names('k', ks)}")
    if min(ss) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got {names('d', ss)}")
    if min(ds) <= 0:
        raise RuntimeError("dilation should be greater than zero, but got "
                           f"{names('dilation', ds)}")
    if nd == 3:
        _check3d(shape, ks, ps, outs, fn3d)
    if 0 in shape[1:] or (len(shape) == nd + 1 and shape[0] == 0):
        raise RuntimeError(f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional "
                           f"0 dim batch size for input, but got:{list(shape)}")
    if any(p > k // 2 for p, k in zip(ps, ks)):
        rev = list(zip(ax, ps, ks))[::-1]
        raise RuntimeError("pad should be smaller than or equal to half of kernel size, but got "
                           + ", ".join(f"pad{a} = {p}" for a, p, _ in rev) + ", "
                           + ", ".join(f"k{a} = {k}" for a, _, k in rev))
    if min(outs) < 1:
        size = "x".join(str(v) for v in shape[-nd - 1:])
        out = "x".join(str(v) for v in (shape[-nd - 1],) + tuple(outs))
        raise RuntimeError(f"Given input size: ({size}). Calculated output size: ({out}). "
                           "Output size is too small")
    return tuple(w for _, w in res)


def _check3d(shape, ks, ps, outs, fn):
    """The rest of torch's pool3d_shape_check (its own messages)."""
    for i, n in enumerate(shape):
        if n == 0 and not (len(shape) == 5 and i == 0):
            # NOTE: torch prints the (zero) length where it means the dimension
            raise RuntimeError(f"{fn}: Expected input's non-batch dimensions to have positive "
                               f"length, but input has a shape of {list(shape)} and non-batch "
                               f"dimension {n} has length zero!")
    if fn == "avg_pool3d()" and any(n < k for n, k in zip(shape[-3:], ks)):
        t, h, w = shape[-3:]
        raise RuntimeError(f"input image (T: {t} H: {h} W: {w}) smaller than kernel size "
                           f"(kT: {ks[0]} kH: {ks[1]} kW: {ks[2]})")
    if any(p > k // 2 for p, k in zip(ps, ks)):
        raise RuntimeError("pad should be smaller than or equal to half of kernel size, but got "
                           f"kT: {ks[0]} kW: {ks[2]} kH: {ks[1]} padT: {ps[0]} padW: {ps[2]} "
                           f"padH: {ps[1]}")
    if min(outs) < 1:
        size = "x".join(str(v) for v in shape[-4:])
        out = "x".join(str(v) for v in (shape[-4],) + tuple(outs))
        raise RuntimeError(f"Given input size: ({size}). Calculated output size: ({out}). "
                           "Output size is too small")


def windows_1d(x, k, s, p, d, ceil_mode):
    """Windows of a 1-D pooling, checked as torch checks it: as a 2-D pooling of x[..., None, :]."""
    shape = x._data.shape
    return windows(shape[:-1] + (1,) + shape[-1:], (1, k), (1, s), (0, p), (1, d), ceil_mode)[1:]


def float_or_long(x, kernel):
    """Raise torch's NotImplementedError unless ``x`` is floating or int64 (avg pooling)."""
    dt = x._data.dtype
    if dt.kind != "f" and dt.name != "int64":
        raise not_implemented(kernel, x)


def floating(x, kernel):
    if x._data.dtype.kind != "f":
        raise not_implemented(kernel, x)
