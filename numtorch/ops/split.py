"""Multi-output views: split, chunk, tensor_split, unbind.

Each piece is a view of the input. When a gradient is recorded, all pieces of one call hang from
one ``Pieces`` node that gathers their gradients into a single buffer, so backward through n
pieces costs one input-sized array instead of n (linear, not quadratic, in n: the LSTM pattern
``for x_t in x.unbind(0)``).
"""
from __future__ import annotations

from ..autograd.function import Context, Function
from ..autograd.grad_mode import state as _grad_state
from ..tensor import Tensor
from ._common import wrap_dim
from .shape import _mark

xp = Context.xp


class _PieceGrads:
    """The gradients of the pieces of one unbind/split, kept apart until all have arrived.

    The engine adds the pieces' gradients for their shared parent (``Pieces``) with ``+``; here
    that only collects them (each object is fresh from ``Split.backward`` and held by the engine
    alone, so it may grow in place), and ``Pieces.backward`` writes them into one zero buffer:
    one input-sized array in all, where a ``Slice`` per piece would allocate n of them.
    """

    __slots__ = ("shape", "dtype", "parts")

    def __init__(self, shape, dtype, parts) -> None:
        self.shape, self.dtype, self.parts = shape, dtype, parts

    def __add__(self, other: "_PieceGrads") -> "_PieceGrads":
        self.parts.extend(other.parts)
        return self


class Pieces(Function):
    """y = x: the parent that all pieces of one unbind/split/chunk hang from (a view)."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, x):
        ctx.shape, ctx.dtype = x.shape, x.dtype
        return x.view()

    @staticmethod
    def backward(ctx: Context, gy):
        if type(gy) is not _PieceGrads:
            return gy
        gx = xp.zeros(ctx.shape, ctx.dtype)
        for key, g in gy.parts:
            gx[key] = g
        return gx


class Split(Function):
    """y = x[key], one piece of ``Pieces``; its gradient goes back as a ``_PieceGrads``."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, x, key):
        ctx.shape, ctx.dtype, ctx.key = x.shape, x.dtype, key
        return x[key]

    @staticmethod
    def backward(ctx: Context, gy):
        return _PieceGrads(ctx.shape, ctx.dtype, [(ctx.key, gy)]), None


class Unbind(Split):
    """y = x[..., i, ...], one slice of ``unbind`` (the dimension removed)."""


def _pieces(x: Tensor, keys, cls):
    """The views x[key] for each key, sharing one ``Pieces`` parent when grad is recorded."""
    name = cls.__name__
    out = []
    if x._rg and _grad_state.enabled:
        parent = Pieces.apply(x)
        for i, k in enumerate(keys):
            out.append(_mark(cls.apply(parent, k), x, None, (name, i)))
        return tuple(out)
    a, vc = x._data, x._vc
    for i, k in enumerate(keys):
        p = Tensor._make(a[k])
        p._vc = vc
        out.append(_mark(p, x, None, (name, i)))
    return tuple(out)


def _split_sizes(n, split_size_or_sections, d):
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        if s == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        return [min(s, n - i) for i in range(0, n, s)] if s and n else [0]
    sizes = [int(s) for s in split_size_or_sections]
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, "
                           f"but got split_sizes={sizes}")
    if sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    return sizes


def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (last may be smaller) or of the given section sizes;
    the pieces are views."""
    d = wrap_dim(dim, tensor._data.ndim)
    sizes = _split_sizes(tensor._data.shape[d], split_size_or_sections, d)
    pre = (slice(None),) * d
    keys, start = [], 0
    for s in sizes:
        keys.append(pre + (slice(start, start + s),))
        start += s
    return _pieces(tensor, keys, Split)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input._data.shape[wrap_dim(dim, input._data.ndim)]
    return split(input, -(-n // chunks) if n else 0, dim)


def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``sections`` nearly equal pieces, or at the given indices."""
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if isinstance(indices_or_sections, Tensor) and indices_or_sections._data.ndim == 0:
        indices_or_sections = int(indices_or_sections)
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
    else:
        idx = [0] + [int(i) for i in indices_or_sections] + [n]
        sizes = [max(0, min(b, n) - min(a, n)) for a, b in zip(idx, idx[1:])]
    return split(input, sizes, d)


def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple, the dimension removed (views)."""
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, nd)
    pre = (slice(None),) * d
    return _pieces(input, [pre + (i,) for i in range(input._data.shape[d])], Unbind)
