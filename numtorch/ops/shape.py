"""Shape ops: reshape/view, permute/transpose, expand, squeeze/unsqueeze, cat/stack, split,
narrow, flip, roll, repeat, tril/triu. Views share memory with their input, as in PyTorch."""
from __future__ import annotations

from ..autograd.function import Context, Function
from ..tensor import Tensor
from ._common import cast, result_type, size_arg, wrap_dim

xp = Context.xp


def _infer_shape(shape, numel):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


class Reshape(Function):
    """y = x with a new shape (a view when the memory layout allows)."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Context, gy):
        return gy.reshape(ctx.shape), None


class Permute(Function):
    """y = x with its axes reordered (a view)."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx: Context, gy):
        return gy.transpose(xp.argsort(ctx.axes)), None


class Expand(Function):
    """y = x broadcast to ``shape`` (a read-only view); the engine sums the gradient back."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, x, shape):
        return xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx: Context, gy):
        return gy, None


class Slice(Function):
    """y = x[key] for basic keys (ints, slices, None, Ellipsis): a view."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, x, key):
        ctx.shape, ctx.dtype, ctx.key = x.shape, x.dtype, key
        return x[key]

    @staticmethod
    def backward(ctx: Context, gy):
        gx = xp.zeros(ctx.shape, ctx.dtype)
        gx[ctx.key] = gy
        return gx, None


class Cat(Function):
    """y = the inputs joined along ``axis``."""

    @staticmethod
    def forward(ctx: Context, axis, *xs):
        ctx.axis = axis
        ctx.bounds = xp.cumsum([x.shape[axis] for x in xs])[:-1]
        return xp.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx: Context, gy):
        return (None, *xp.split(gy, ctx.bounds, axis=ctx.axis))


class Stack(Function):
    """y = the inputs stacked along a new axis."""

    @staticmethod
    def forward(ctx: Context, axis, *xs):
        ctx.axis = axis
        return xp.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx: Context, gy):
        a = ctx.axis
        return (None, *(xp.take(gy, i, axis=a) for i in range(gy.shape[a])))


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


def reshape(input, *shape):
    """A tensor with the same data and ``shape`` (one dimension may be -1)."""
    shape = _infer_shape(size_arg(shape), input._data.size)
    if shape == input._data.shape:
        return Reshape.apply(input, shape) if input._rg else _alias(input)
    return Reshape.apply(input, shape)


def _alias(t):
    out = Tensor._make(t._data)
    out._vc = t._vc
    return out


def view(input, *shape):
    """Like ``reshape`` but never copies: raises when the strides do not allow a view."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and \
            not isinstance(shape[0], Tensor):
        return input.to(shape[0])
    shape = _infer_shape(size_arg(shape), input._data.size)
    probe = input._data.view()
    try:
        probe.shape = shape
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None
    return Reshape.apply(input, shape)


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim``..``end_dim`` into one."""
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input._data.shape
    return reshape(input, shp[:s] + (-1 if 0 not in shp[s:e + 1] else 0,) + shp[e + 1:])


def unflatten(input, dim, sizes):
    """Split dimension ``dim`` into ``sizes``."""
    d = wrap_dim(dim, input._data.ndim)
    shp = input._data.shape
    sizes = tuple(sizes)
    inner = _infer_shape(sizes, shp[d])
    return reshape(input, shp[:d] + inner + shp[d + 1:])


def permute(input, *dims):
    """Reorder the dimensions (a view)."""
    dims = size_arg(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    axes = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(axes)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, axes)


def transpose(input, dim0, dim1):
    """Swap two dimensions (a view)."""
    nd = input._data.ndim
    axes = list(range(nd))
    if nd == 0:
        wrap_dim(dim0, 0), wrap_dim(dim1, 0)
        return _alias(input) if not input._rg else Reshape.apply(input, ())
    a, b = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    axes[a], axes[b] = axes[b], axes[a]
    return Permute.apply(input, tuple(axes))


swapaxes = swapdims = transpose


def t(input):
    """Transpose a tensor of at most 2 dimensions."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else _alias(input)


def movedim(input, source, destination):
    nd = input._data.ndim
    src = [wrap_dim(s, nd) for s in ((source,) if isinstance(source, int) else source)]
    dst = [wrap_dim(s, nd) for s in ((destination,) if isinstance(destination, int)
                                     else destination)]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return Permute.apply(input, tuple(order))


moveaxis = movedim


def expand(input, *sizes):
    """Broadcast to ``sizes`` without copying (-1 keeps a dimension)."""
    sizes = size_arg(sizes)
    nd = input._data.ndim
    if len(sizes) < nd:
        raise RuntimeError(f"expand(numtorch.FloatTensor{{{list(input._data.shape)}}}, size="
                           f"{list(sizes)}): the number of sizes provided ({len(sizes)}) must be "
                           f"greater or equal to the number of dimensions in the tensor ({nd})")
    lead = len(sizes) - nd
    shape = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   "leading, non-existing dimension")
            shape.append(s)
            continue
        cur = input._data.shape[i - lead]
        if s == -1:
            s = cur
        if cur != s and cur != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({cur}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(input._data.shape)}")
        shape.append(s)
    shape = tuple(shape)
    if shape == input._data.shape:
        return _alias(input) if not input._rg else Reshape.apply(input, shape)
    return Expand.apply(input, shape)


def expand_as(input, other):
    return expand(input, other._data.shape)


def broadcast_to(input, shape):
    return expand(input, tuple(shape))


def broadcast_tensors(*tensors):
    shape = xp.broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def squeeze(input, dim=None):
    """Remove size-1 dimensions (all, or those in ``dim``; others are left alone)."""
    shp = input._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        ds = dim if isinstance(dim, (tuple, list)) else (dim,)
        ds = {wrap_dim(d, len(shp)) for d in ds}
        new = tuple(s for i, s in enumerate(shp) if not (i in ds and s == 1))
    return Reshape.apply(input, new)


def unsqueeze(input, dim):
    """Insert a size-1 dimension at ``dim`` (in [-ndim-1, ndim])."""
    nd = input._data.ndim
    d = wrap_dim(dim, nd + 1)
    shp = input._data.shape
    return Reshape.apply(input, shp[:d] + (1,) + shp[d:])


def _common_dtype(tensors):
    return result_type(*tensors).np if len({t._data.dtype for t in tensors}) > 1 else None


def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing dimension; shapes must match elsewhere."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    parts = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    ref = parts[0]
    nd = ref._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, nd)
    for i, t in enumerate(parts):
        if t._data.ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and "
                               f"{t._data.ndim}")
        for k in range(nd):
            if k != d and t._data.shape[k] != ref._data.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref._data.shape[k]} but got size "
                                   f"{t._data.shape[k]} for tensor number {i} in the list.")
    npd = _common_dtype(parts)
    if npd is not None:
        parts = [cast(t, npd) for t in parts]
    return Cat.apply(d, *parts)


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Join same-shaped tensors along a new dimension."""
    tensors = list(tensors)
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
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([t.reshape(1, -1) if t._data.ndim < 2 else t for t in tensors], 0)


def narrow(input, dim, start, length):
    """The slice [start, start + length) of dimension ``dim`` (a view)."""
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if isinstance(start, Tensor):
        start = int(start)
    if start < 0:
        start += n
    if not (0 <= start <= n and 0 <= length and start + length <= n):
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    key = (slice(None),) * d + (slice(start, start + length),)
    return Slice.apply(input, key)


def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of ``split_size`` (last may be smaller) or of the given section sizes."""
    d = wrap_dim(dim, tensor._data.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [min(s, n - i) for i in range(0, n, s)] if s else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                               f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(tensor, d, start, s))
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input._data.shape[wrap_dim(dim, input._data.ndim)]
    return split(input, max(1, -(-n // chunks)), dim)


def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
    else:
        idx = [0] + list(indices_or_sections) + [n]
        sizes = [max(0, min(b, n) - min(a, n)) for a, b in zip(idx, idx[1:])]
    return split(input, sizes, d)


def unbind(input, dim=0):
    """The slices along ``dim`` as a tuple, the dimension removed (views)."""
    d = wrap_dim(dim, input._data.ndim)
    pre = (slice(None),) * d
    return tuple(Slice.apply(input, pre + (i,)) for i in range(input._data.shape[d]))


def flip(input, dims):
    """Reverse the order of elements along ``dims``."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Flip.apply(input, tuple(wrap_dim(d, input._data.ndim) for d in dims))


def fliplr(input):
    return flip(input, (1,))


def flipud(input):
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    """Roll elements along ``dims`` (the flattened tensor when dims is None)."""
    if dims is None:
        return Roll.apply(input, shifts, None)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    return Roll.apply(input, shifts, tuple(wrap_dim(d, input._data.ndim) for d in dims))


def repeat(input, *sizes):
    """Tile the tensor ``sizes`` times along each dimension."""
    sizes = size_arg(sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    return Repeat.apply(input, sizes)


def tile(input, dims):
    dims = tuple(dims)
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return Repeat.apply(input, dims)


def repeat_interleave(input, repeats, dim=None):
    from .index import index_select
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    idx = xp.repeat(xp.arange(n), reps)
    return index_select(input, d, Tensor._make(idx.astype(xp.int64)))


def tril(input, diagonal=0):
    """Lower triangle of the last two dimensions."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tril.apply(input, diagonal, True)


def triu(input, diagonal=0):
    """Upper triangle of the last two dimensions."""
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Tril.apply(input, diagonal, False)


def atleast_1d(t):
    return t.reshape(1) if t._data.ndim == 0 else t


def atleast_2d(t):
    return t.reshape(1, -1) if t._data.ndim < 2 else t
