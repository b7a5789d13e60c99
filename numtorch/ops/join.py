"""Shape ops that copy: cat/stack (and hstack/vstack), flip, roll, repeat/tile,
repeat_interleave, tril/triu."""
from __future__ import annotations

from ..autograd.function import Context, Function
from ..tensor import Tensor
from ._common import cast, result_type, size_arg, wrap_dim

xp = Context.xp


class Cat(Function):
    """y = the inputs joined along ``axis``; ``skip`` marks legacy empty (0,) inputs that take
    no part (their gradient is empty)."""

    @staticmethod
    def forward(ctx: Context, axis, skip, *xs):
        ctx.axis, ctx.skip = axis, skip
        parts = [x for x, s in zip(xs, skip) if not s] if skip else xs
        ctx.bounds = xp.cumsum([x.shape[axis] for x in parts])[:-1]
        return xp.concatenate(parts, axis=axis)

    @staticmethod
    def backward(ctx: Context, gy):
        gs = xp.split(gy, ctx.bounds, axis=ctx.axis)
        if ctx.skip:
            it = iter(gs)
            gs = [xp.zeros(0, gy.dtype) if s else next(it) for s in ctx.skip]
        return (None, None, *gs)


class Stack(Function):
    """y = the inputs stacked along a new axis."""

    @staticmethod
    def forward(ctx: Context, axis, *xs):
        ctx.axis = axis
        return xp.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx: Context, gy):
        a = ctx.axis
        key = (slice(None),) * a
        return (None, *(gy[key + (i,)] for i in range(gy.shape[a])))


class Flip(Function):
    """y = x reversed along ``axes``."""

    @staticmethod
    def forward(ctx: Context, x, axes):
        ctx.axes = axes
        return xp.flip(x, axes).copy()

    @staticmethod
    def backward(ctx: Context, gy):
        return xp.flip(gy, ctx.axes), None


class Roll(Function):
    """y = x rolled by ``shifts`` along ``axes`` (flattened when axes is None)."""

    @staticmethod
    def forward(ctx: Context, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return xp.roll(x, shifts, axes)

    @staticmethod
    def backward(ctx: Context, gy):
        s = ctx.shifts
        neg = tuple(-v for v in s) if isinstance(s, tuple) else -s
        return xp.roll(gy, neg, ctx.axes), None, None


class Repeat(Function):
    """y = x tiled ``reps`` times per dimension (torch.Tensor.repeat)."""

    @staticmethod
    def forward(ctx: Context, x, reps):
        shape = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.shape, ctx.xshape, ctx.reps = shape, x.shape, reps
        return xp.tile(x.reshape(shape), reps)

    @staticmethod
    def backward(ctx: Context, gy):
        inter = []
        for r, s in zip(ctx.reps, ctx.shape):
            inter += [r, s]
        g = gy.reshape(inter).sum(axis=tuple(range(0, len(inter), 2)))
        return g.reshape(ctx.xshape), None


class Tril(Function):
    """y = the lower (or upper) triangle of the last two axes, the rest zero."""

    @staticmethod
    def forward(ctx: Context, x, k, lower):
        ctx.k, ctx.lower = k, lower
        return xp.tril(x, k) if lower else xp.triu(x, k)

    @staticmethod
    def backward(ctx: Context, gy):
        return (xp.tril(gy, ctx.k) if ctx.lower else xp.triu(gy, ctx.k)), None, None


def _common_dtype(tensors):
    d0 = tensors[0]._data.dtype
    for t in tensors:
        if t._data.dtype != d0:
            return result_type(*tensors).np
    return None


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    return list(tensors)


def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing dimension; shapes must match elsewhere. 1-D empty tensors
    are skipped, as in PyTorch."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    skip = [t._data.shape == (0,) for t in tensors]
    parts = [t for t, s in zip(tensors, skip) if not s]
    if not parts:
        parts, skip = tensors[:1], [False] + skip[1:]
    ref = parts[0]._data.shape
    nd = len(ref)
    d = wrap_dim(dim, nd)
    for i, t in enumerate(tensors):
        s = t._data.shape
        if skip[i]:
            continue
        if len(s) != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and "
                               f"{len(s)}")
        for k in range(nd):
            if k != d and s[k] != ref[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref[k]} but got size {s[k]} for tensor "
                                   f"number {i} in the list.")
    npd = _common_dtype(tensors)
    if npd is not None:
        tensors = [cast(t, npd) for t in tensors]
    if len(tensors) == 1:
        from .elementwise import Clone
        return Clone.apply(tensors[0])
    return Cat.apply(d, tuple(skip) if any(skip) else None, *tensors)


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Join same-shaped tensors along a new dimension."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shp = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shp)} at entry 0 and {list(t._data.shape)} at entry {i}")
    d = wrap_dim(dim, len(shp) + 1)
    npd = _common_dtype(tensors)
    if npd is not None:
        tensors = [cast(t, npd) for t in tensors]
    return Stack.apply(d, *tensors)


def hstack(tensors):
    """Concatenate column-wise (1-D tensors end to end)."""
    tensors = [t.reshape(1) if t._data.ndim == 0 else t for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    """Concatenate row-wise (1-D tensors become rows)."""
    return cat([t.reshape(1, -1) if t._data.ndim < 2 else t
                for t in _tensor_list(tensors, "vstack")], 0)


def flip(input, dims):
    """Reverse the order of elements along ``dims``."""
    nd = input._data.ndim
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    axes = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {axes[0]} appears multiple times in the list of dims")
    if nd == 0:
        axes = ()
    return Flip.apply(input, axes)


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    """Roll elements along ``dims`` (the flattened tensor when dims is None)."""
    shifts = tuple(int(s) for s in shifts) if isinstance(shifts, (tuple, list)) else int(shifts)
    if dims is None or (isinstance(dims, (tuple, list)) and not dims):
        if isinstance(shifts, tuple):
            if len(shifts) != 1:
                raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                                   "dims:0")
            shifts = shifts[0]
        return Roll.apply(input, shifts, None)
    shifts = shifts if isinstance(shifts, tuple) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return Roll.apply(input, shifts, tuple(wrap_dim(d, nd) for d in dims))


def repeat(input, *sizes):
    """Tile the tensor ``sizes`` times along each dimension."""
    sizes = size_arg(sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    shape = (1,) * (len(sizes) - input._data.ndim) + input._data.shape
    if any(r < 0 for r in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(sizes)}: {[r * s for r, s in zip(sizes, shape)]}")
    return Repeat.apply(input, sizes)


def tile(input, dims):
    """Like ``repeat``, with missing leading repetitions taken as 1."""
    dims = size_arg((dims,))
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int, or one count per element) along ``dim``
    (the flattened tensor when dim is None). ``repeat_interleave(counts)`` gives the indices."""
    from .scatter import index_select
    if repeats is None:
        counts = input._data
        if counts.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        return Tensor._make(xp.repeat(xp.arange(counts.shape[0]), counts).astype(xp.int64))
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    if isinstance(reps, int) or getattr(reps, "ndim", 1) == 0:
        reps = int(reps)
        if reps < 0:
            raise RuntimeError("Repeats must be non-negative")
    elif reps.shape[0] not in (1, n):
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {reps.shape[0]} and input.size(0) = {n}")
    elif (reps < 0).any():
        raise RuntimeError("repeats can not be negative")
    idx = xp.repeat(xp.arange(n), reps)
    return index_select(input, d, Tensor._make(idx.astype(xp.int64)))


def tril(input, diagonal=0):
    """Lower triangle of the last two dimensions (the rest zero)."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tril.apply(input, int(diagonal), True)


def triu(input, diagonal=0):
    """Upper triangle of the last two dimensions (the rest zero)."""
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Tril.apply(input, int(diagonal), False)
