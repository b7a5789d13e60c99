"""Index ops with an explicit index tensor: gather, scatter, scatter_add, index_select,
index_add, index_fill, masked_fill, masked_select, take, take_along_dim, nonzero."""
from __future__ import annotations

from ..autograd.function import Context, Function
from ..tensor import Tensor
from ._accumulate import add_at
from ._common import type_name, wrap_dim

xp = Context.xp
_C_NAMES = {"float32": "float", "float64": "double", "float16": "half", "int64": "long",
            "int32": "int", "int16": "short", "int8": "signed char", "uint8": "unsigned char"}


def _along(index, axis, ndim):
    """The advanced-index tuple that selects ``index`` along ``axis`` (gather/scatter)."""
    shape = index.shape
    key = []
    for d in range(ndim):
        if d == axis:
            key.append(index)
        else:
            r = [1] * ndim
            r[d] = shape[d]
            key.append(xp.arange(shape[d]).reshape(r))
    return tuple(key)


def _pnq(shape, axis):
    """(before, size, after): ``shape`` folded to 3-D around ``axis``."""
    p = q = 1
    for s in shape[:axis]:
        p *= s
    for s in shape[axis + 1:]:
        q *= s
    return p, shape[axis], q


def _add_along(gx, axis, index, g):
    """gx[..., index, ...] += g along ``axis`` (repeated indices add up)."""
    p, n, q = _pnq(gx.shape, axis)
    m = index.shape[0]
    key = (xp.arange(p)[:, None], index[None, :]) if p > 1 else (index,)
    add_at(gx.reshape(p, n, q) if p > 1 else gx.reshape(n, q), key,
           g.reshape(p, m, q) if p > 1 else g.reshape(m, q))
    return gx


class Gather(Function):
    """y[i][j] = x[i][index[i][j]] along an axis (``key`` is the advanced-index tuple)."""

    @staticmethod
    def forward(ctx: Context, x, key):
        ctx.shape, ctx.dtype, ctx.key = x.shape, x.dtype, key
        return x[key]

    @staticmethod
    def backward(ctx: Context, gy):
        return add_at(xp.zeros(ctx.shape, ctx.dtype), ctx.key, gy), None


class Scatter(Function):
    """y = x with y[key] = src (``add``: y[key] += src, repeated indices adding up)."""

    @staticmethod
    def forward(ctx: Context, x, src, key, add):
        ctx.key, ctx.add = key, add
        y = x.copy()
        if add:
            add_at(y, key, src)
        else:
            y[key] = src
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        gx = None
        if ctx.needs_input_grad[0]:
            gx = gy
            if not ctx.add:
                gx = gy.copy()
                gx[ctx.key] = 0
        gsrc = gy[ctx.key] if ctx.needs_input_grad[1] else None
        return gx, gsrc, None, None


class IndexSelect(Function):
    """y = x taken at the 1-D ``index`` along ``axis``."""

    @staticmethod
    def forward(ctx: Context, x, index, axis):
        ctx.shape, ctx.dtype, ctx.axis, ctx.index = x.shape, x.dtype, axis, index
        return xp.take(x, index, axis=axis)

    @staticmethod
    def backward(ctx: Context, gy):
        gx = xp.zeros(ctx.shape, ctx.dtype)
        return _add_along(gx, ctx.axis, ctx.index, gy), None, None


class IndexAdd(Function):
    """y = x with ``alpha * src`` added at ``index`` along ``axis``."""

    @staticmethod
    def forward(ctx: Context, x, src, index, axis, alpha):
        ctx.index, ctx.axis, ctx.alpha = index, axis, alpha
        y = xp.array(x, order="C")
        return _add_along(y, axis, index, src * alpha if alpha != 1 else src)

    @staticmethod
    def backward(ctx: Context, gy):
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = xp.take(gy, ctx.index, axis=ctx.axis)
            if ctx.alpha != 1:
                gsrc = gsrc * ctx.alpha
        return gy, gsrc, None, None, None


class MaskedFill(Function):
    """y = value where mask else x (mask broadcast; scalar value)."""

    @staticmethod
    def forward(ctx: Context, x, mask, value):
        ctx.mask = mask
        return xp.where(mask, xp.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx: Context, gy):
        return xp.where(ctx.mask, gy.dtype.type(0), gy), None, None


# ---- gather / scatter -------------------------------------------------------------------------
def _check_gather(name, x, dim, index):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    idx = index._data
    if idx.dtype != xp.int64 and idx.dtype != xp.int32:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    nd = x._data.ndim
    d = wrap_dim(dim, nd)
    if idx.ndim != nd and not (nd == 0 and idx.ndim <= 1) and not (idx.ndim == 0 and nd == 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input tensor "
                           f"({name}: input {nd}-D, index {idx.ndim}-D)")
    if idx.ndim == nd:
        for k in range(nd):
            if k != d and idx.shape[k] > x._data.shape[k]:
                raise RuntimeError(f"Size does not match at dimension {k} expected index "
                                   f"{list(idx.shape)} to be no larger than self "
                                   f"{list(x._data.shape)} apart from dimension {d}")
    n = x._data.shape[d] if nd else 1
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= n:
            raise RuntimeError(f"index {hi if hi >= n else lo} is out of bounds for dimension "
                               f"{d} with size {n}")
    return d


def _key(x, d, index):
    idx = index._data
    nd = x._data.ndim
    if nd == 0 or idx.ndim == 0:
        return (idx.reshape(-1) if nd else idx.reshape(-1) * 0,)
    return _along(idx, d, nd)


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[i][index[i][j]] along ``dim`` (index: int64, same number of dims)."""
    d = _check_gather("gather", input, dim, index)
    x = input.reshape(-1) if input._data.ndim == 0 or index._data.ndim == 0 else input
    out = Gather.apply(x, _key(input, d, index))
    return out.reshape(index._data.shape) if out._data.shape != index._data.shape else out


def take_along_dim(input, indices, dim=None):
    """Values of ``input`` at ``indices`` along ``dim`` (both flattened when dim is None); the
    other dimensions broadcast."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    si, sx = list(indices._data.shape), list(input._data.shape)
    if len(si) == nd and any(a != b for k, (a, b) in enumerate(zip(si, sx)) if k != d):
        si[d] = sx[d] = 1
        shape = xp.broadcast_shapes(tuple(si), tuple(sx))
        input = input.expand(shape[:d] + (input._data.shape[d],) + shape[d + 1:])
        indices = indices.expand(shape[:d] + (indices._data.shape[d],) + shape[d + 1:])
    return gather(input, d, indices)


def _scatter(input, dim, index, src, add, name):
    d = _check_gather(name, input, dim, index)
    key = _key(input, d, index)
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        si, ss = index._data.shape, src._data.shape
        if src._data.ndim != index._data.ndim or any(a > b for a, b in zip(si, ss)):
            raise RuntimeError(f"Expected index {list(si)} to be no larger than self "
                               f"{list(input._data.shape)} apart from dimension {d} and to be no "
                               f"larger size than src {list(ss)}")
        if ss != si:
            from .shape import Slice, view_apply
            src = view_apply(Slice, src, tuple(slice(0, s) for s in si))
    else:
        src = Tensor._make(xp.full(index._data.shape, src, input._data.dtype))
    x = input.reshape(-1) if input._data.ndim == 0 else input
    out = Scatter.apply(x, src.reshape(-1) if len(key) == 1 and src._data.ndim != 1 else src,
                        key, add)
    return out.reshape(()) if input._data.ndim == 0 else out


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of ``input`` with ``src`` (tensor or number) written at ``index`` along ``dim``."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if reduce is None:
        return _scatter(input, dim, index, src, False, "scatter")
    if reduce == "add":
        return _scatter(input, dim, index, src, True, "scatter")
    if reduce == "multiply":
        from ..autograd.grad_mode import no_grad
        d = _check_gather("scatter", input, dim, index)
        with no_grad():
            y = input.clone()
            s = src._data[tuple(slice(0, n) for n in index._data.shape)] \
                if isinstance(src, Tensor) else src
            xp.multiply.at(y._data, _key(input, d, index), s)
        return y
    raise RuntimeError("reduce argument must be either add or multiply.")


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' (position 3) must be Tensor, not "
                        f"{type(src).__name__}")
    return _scatter(input, dim, index, src, True, "scatter_add")


# ---- index_select / index_add / index_fill --------------------------------------------------
def _vector_index(name, index, n, dim, negative_ok=False):
    idx = index._data
    if idx.dtype != xp.int64 and idx.dtype != xp.int32:
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index")
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    idx = idx.reshape(-1)
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if hi >= n or lo < (-n if negative_ok else 0):
            bad = hi if hi >= n else lo
            return idx, bad
        if lo < 0:
            idx = idx % n
    return idx, None


def index_select(input, dim, index):
    """Entries of ``input`` along ``dim`` at the 1-D int ``index``."""
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    n = input._data.shape[d] if nd else 1
    idx, bad = _vector_index("index_select", index, n, d)
    if bad is not None:
        raise IndexError(f"index out of range in self (index {bad} for dimension {d} with size "
                         f"{n})")
    if nd == 0:
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{idx.size} value(s)")
        return input.reshape(1).reshape(())
    return IndexSelect.apply(input, idx, d)


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` added at ``index`` along ``dim``."""
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    idx, bad = _vector_index("index_add_", index, n, d)
    if bad is not None:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {n}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_add_(): self ({type_name(input)}) and source "
                           f"({type_name(source)}) must have the same scalar type")
    m = source._data.shape[d] if source._data.ndim else 1
    if idx.shape[0] != m:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.shape[0]}) should be equal to "
                           f"source.size(dim): ({m}), for dim: {d}")
    return IndexAdd.apply(input, source, idx, d, alpha)


def index_fill(input, dim, index, value):
    """A copy of ``input`` with ``value`` at ``index`` along ``dim``."""
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    n = input._data.shape[d] if nd else 1
    idx, bad = _vector_index("index_fill_", index, n, d, negative_ok=True)
    if bad is not None:
        raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {n}")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value._data.ndim} dimension(s).")
    mask = xp.zeros(n, bool)
    mask[idx] = True
    shape = [1] * nd
    if nd:
        shape[d] = n
    return masked_fill(input, Tensor._make(mask.reshape(shape)), value)


# ---- masks ------------------------------------------------------------------------------------
def masked_fill(input, mask, value):
    """``input`` with ``value`` where the bool ``mask`` is True (the two broadcast together)."""
    if mask._data.dtype != xp.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_C_NAMES.get(mask.dtype.name, mask.dtype.name)}")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        if value._rg:
            from .arith import where
            from ._common import cast
            return where(mask, cast(value, input._data.dtype), input)
        value = value._data
    try:
        return MaskedFill.apply(input, mask._data, value)
    except ValueError as e:
        from ._common import broadcast_error
        raise broadcast_error(input, mask, e) from None


def masked_select(input, mask):
    """The elements where ``mask`` (broadcast with ``input``) is True, as a 1-D tensor."""
    from .index import Index
    shape = xp.broadcast_shapes(input._data.shape, mask._data.shape)
    x = input.expand(shape) if input._data.shape != shape else input
    return Index.apply(x, (xp.broadcast_to(mask._data, shape),))


def take(input, index):
    """Elements of the flattened ``input`` at ``index`` (the result has index's shape)."""
    from .index import Index
    flat = input.reshape(-1)
    n = flat._data.shape[0]
    idx = index._data
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if hi >= n or lo < -n:
            raise IndexError(f"out of range: tried to access index {hi if hi >= n else lo} on a "
                             f"tensor of {n} elements.")
    return Index.apply(flat, (idx,))


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or a tuple of 1-D ones."""
    a = input._data
    idx = xp.nonzero(a) if a.ndim else xp.nonzero(a.reshape(1))
    if as_tuple:
        return tuple(Tensor._make(i.astype(xp.int64)) for i in idx)
    if not a.ndim:
        return Tensor._make(xp.zeros((int(bool(a)), 0), xp.int64))
    return Tensor._make(xp.stack(idx, axis=1).astype(xp.int64))


def argwhere(input):
    return nonzero(input)
