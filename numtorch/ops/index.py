"""Indexing: x[key] and x[key] = v (ints, slices, None, Ellipsis, integer/bool tensors and lists),
gather, scatter, scatter_add, index_select, masked_fill, nonzero, masked_select, take."""
from __future__ import annotations

import numbers

from ..autograd.function import Context, Function
from ..autograd.grad_mode import state as _grad_state
from ..tensor import Tensor
from ._common import wrap_dim
from .shape import Slice

xp = Context.xp


class Index(Function):
    """y = x[key] with advanced (array) indexing; duplicate indices accumulate gradient."""

    @staticmethod
    def forward(ctx: Context, x, key):
        ctx.shape, ctx.dtype, ctx.key = x.shape, x.dtype, key
        return x[key]

    @staticmethod
    def backward(ctx: Context, gy):
        gx = xp.zeros(ctx.shape, ctx.dtype)
        key = ctx.key
        if _is_mask_key(key):
            gx[key] = gy
        else:
            xp.add.at(gx, key, gy)
        return gx, None


def _is_mask_key(key):
    return any(isinstance(k, xp.ndarray) and k.dtype == xp.bool_ for k in key)


class IndexPut(Function):
    """x[key] = v, written into x's own array; the output is x."""

    @staticmethod
    def forward(ctx: Context, x, v, key, accumulate):
        ctx.key, ctx.accumulate = key, accumulate
        if accumulate:
            xp.add.at(x, key, v)
        else:
            x[key] = v
        return x

    @staticmethod
    def backward(ctx: Context, gy):
        gx = None
        if ctx.needs_input_grad[0]:
            gx = gy.copy()
            if not ctx.accumulate:
                gx[ctx.key] = 0
        gv = gy[ctx.key] if ctx.needs_input_grad[1] else None
        return gx, gv, None, None


class Gather(Function):
    """y[i][j] = x[i][index[i][j]] along ``axis`` (advanced-index tuple ``key``)."""

    @staticmethod
    def forward(ctx: Context, x, key):
        ctx.shape, ctx.dtype, ctx.key = x.shape, x.dtype, key
        return x[key]

    @staticmethod
    def backward(ctx: Context, gy):
        gx = xp.zeros(ctx.shape, ctx.dtype)
        xp.add.at(gx, ctx.key, gy)
        return gx, None


class Scatter(Function):
    """y = x with y[key] = src (``add``: y[key] += src)."""

    @staticmethod
    def forward(ctx: Context, x, src, key, add):
        ctx.key, ctx.add = key, add
        y = x.copy()
        if add:
            xp.add.at(y, key, src)
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
    """y = x taken at ``index`` along ``axis``."""

    @staticmethod
    def forward(ctx: Context, x, index, axis):
        ctx.shape, ctx.dtype, ctx.axis = x.shape, x.dtype, axis
        ctx.save_for_backward(index)
        return xp.take(x, index, axis=axis)

    @staticmethod
    def backward(ctx: Context, gy):
        (index,) = ctx.saved_tensors
        gx = xp.zeros(ctx.shape, ctx.dtype)
        a = ctx.axis
        xp.add.at(xp.moveaxis(gx, a, 0), index, xp.moveaxis(gy, a, 0))
        return gx, None, None


class MaskedFill(Function):
    """y = value where mask else x (scalar value)."""

    @staticmethod
    def forward(ctx: Context, x, mask, value):
        ctx.save_for_backward(mask)
        return xp.where(mask, xp.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx: Context, gy):
        (mask,) = ctx.saved_tensors
        return xp.where(mask, gy.dtype.type(0), gy), None, None


# ---- key normalisation ---------------------------------------------------------------------
def _norm_key(key, shape):
    """Convert a PyTorch index to a NumPy one; return (key tuple, is_basic)."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    basic = True
    for k in key:
        if isinstance(k, Tensor):
            a = k._data
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            if a.dtype == xp.uint8:
                a = a.astype(xp.bool_)
            out.append(a)
            basic = False
        elif isinstance(k, (list, xp.ndarray)):
            a = xp.asarray([int(v) if isinstance(v, Tensor) else v for v in k]
                           if isinstance(k, list) else k)
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            if a.size == 0:
                a = a.astype(xp.int64)
            out.append(a)
            basic = False
        elif k is None or k is Ellipsis or isinstance(k, slice):
            if isinstance(k, slice):
                k = slice(*(int(v) if isinstance(v, Tensor) else v
                            for v in (k.start, k.stop, k.step)))
                if k.step is not None and k.step <= 0:
                    raise ValueError("step must be greater than zero")
            out.append(k)
        elif isinstance(k, numbers.Integral) and not isinstance(k, bool):
            out.append(int(k))
        elif isinstance(k, bool):
            out.append(xp.asarray(k))
            basic = False
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(k).__name__})")
    _check_bounds(out, shape)
    return tuple(out), basic


def _check_bounds(key, shape):
    dim = 0
    n_ell = sum(1 for k in key if k is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(1 if not (k is None or k is Ellipsis) else 0 for k in key)
    consumed += sum(k.ndim - 1 for k in key if isinstance(k, xp.ndarray) and k.dtype == xp.bool_)
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    for k in key:
        if k is Ellipsis:
            dim += len(shape) - consumed
            continue
        if k is None:
            continue
        if isinstance(k, int):
            n = shape[dim]
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {n}")
        elif isinstance(k, xp.ndarray) and k.dtype != xp.bool_ and k.size:
            n = shape[dim]
            lo, hi = int(k.min()), int(k.max())
            if hi >= n or lo < -n:
                bad = hi if hi >= n else lo
                raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {n}")
        elif isinstance(k, xp.ndarray) and k.dtype == xp.bool_:
            want = shape[dim:dim + k.ndim]
            if k.ndim and tuple(k.shape) != tuple(want):
                raise IndexError(f"The shape of the mask {list(k.shape)} at index {dim} does not "
                                 f"match the shape of the indexed tensor {list(shape)}")
            dim += k.ndim
            continue
        dim += 1


def getitem(x, key):
    """x[key] as PyTorch indexes: basic keys give views, tensor/list keys give copies."""
    k, basic = _norm_key(key, x._data.shape)
    if basic:
        return Slice.apply(x, k)
    return Index.apply(x, k)


def setitem(x, key, value) -> None:
    """x[key] = value in place (value: number, list, or tensor broadcast to the selection)."""
    k, _ = _norm_key(key, x._data.shape)
    grad = _grad_state.enabled and (x._rg or (isinstance(value, Tensor) and value._rg))
    if grad and x._node is None and x._rg:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    if isinstance(value, Tensor):
        v = value if value._data.dtype == x._data.dtype else value.to(x.dtype)
    else:
        v = xp.asarray(value, dtype=x._data.dtype)
    if not grad:
        x._data[k] = v._data if isinstance(v, Tensor) else v
        x._vc[0] += 1
        return
    if not isinstance(v, Tensor):
        v = Tensor._make(v)
    out = IndexPut.apply(x, v, k, False)
    x._node, x._rg = out._node, True
    x._vc[0] += 1


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


def _check_gather(name, x, dim, index, src=None):
    if index._data.dtype != xp.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    nd = x._data.ndim
    d = wrap_dim(dim, nd)
    if index._data.ndim != max(nd, 1) and not (nd == 0 and index._data.ndim <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input tensor "
                           f"({name}: input {nd}-D, index {index._data.ndim}-D)")
    for k in range(nd):
        if k != d and index._data.shape[k] > x._data.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(index._data.shape)} to be no larger than self "
                               f"{list(x._data.shape)} apart from dimension {d}")
    idx = index._data
    n = x._data.shape[d] if nd else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {n}")
    return d


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[i][index[i][j]] along ``dim`` (index int64, same number of dims)."""
    d = _check_gather("gather", input, dim, index)
    if input._data.ndim == 0:
        return Gather.apply(input.reshape(1), (index._data.reshape(-1) % 1,)).reshape(
            index._data.shape)
    return Gather.apply(input, _along(index._data % input._data.shape[d], d,
                                      input._data.ndim))


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    return gather(input, dim, indices)


def _scatter(input, dim, index, src, add, name):
    d = _check_gather(name, input, dim, index)
    key = _along(index._data % input._data.shape[d], d, input._data.ndim)
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        sl = tuple(slice(0, s) for s in index._data.shape)
        src = src[sl] if src._data.shape != index._data.shape else src
    else:
        src = Tensor._make(xp.full(index._data.shape, src, input._data.dtype))
    return Scatter.apply(input, src, key, add)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of ``input`` with ``src`` (tensor or number) written at ``index`` along ``dim``."""
    if reduce is not None:
        if reduce != "add":
            raise NotImplementedError(f"scatter reduce={reduce!r} is not supported")
        return _scatter(input, dim, index, src if src is not None else value, True, "scatter")
    return _scatter(input, dim, index, src if src is not None else value, False, "scatter")


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (duplicates add up)."""
    return _scatter(input, dim, index, src, True, "scatter_add")


def index_select(input, dim, index):
    """Entries of ``input`` along ``dim`` at the 1-D int ``index``."""
    d = wrap_dim(dim, input._data.ndim)
    idx = index._data
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if idx.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32/int64 for index")
    n = input._data.shape[d] if input._data.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"index out of range in self (index {bad}, size {n})")
    if input._data.ndim == 0:
        return Index.apply(input.reshape(1), (idx.reshape(-1),)).reshape(idx.shape)
    return IndexSelect.apply(input, idx.reshape(-1), d)


def masked_fill(input, mask, value):
    """``input`` with ``value`` where the bool ``mask`` (broadcast) is True."""
    if mask._data.dtype != xp.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype}")
    try:
        xp.broadcast_shapes(mask._data.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({list(input._data.shape)}) must match the size "
                           f"of tensor b ({list(mask._data.shape)}) (mask shape)") from None
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        if value._rg:
            from .arith import where
            return where(mask, value.to(input.dtype), input)
        value = value.item()
    return MaskedFill.apply(input, mask._data, value)


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or a tuple of 1-D ones."""
    idx = xp.nonzero(input._data) if input._data.ndim else xp.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(Tensor._make(i.astype(xp.int64)) for i in idx)
    return Tensor._make(xp.stack(idx, axis=1).astype(xp.int64) if input._data.ndim else
                        xp.zeros((int(bool(input._data)), 0), xp.int64))


def argwhere(input):
    return nonzero(input)


def masked_select(input, mask):
    """The elements where ``mask`` (broadcast) is True, as a 1-D tensor."""
    shape = xp.broadcast_shapes(input._data.shape, mask._data.shape)
    from .shape import expand
    x = expand(input, shape) if input._data.shape != shape else input
    m = xp.broadcast_to(mask._data, shape)
    return Index.apply(x, (m,))


def take(input, index):
    """Elements of the flattened ``input`` at ``index`` (shape of index)."""
    flat = input.reshape(-1)
    n = flat._data.shape[0]
    idx = index._data
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"out of range: tried to access index {int(idx.max())} on a tensor of "
                         f"{n} elements.")
    return Index.apply(flat, (idx % max(n, 1),))


def index_add(input, dim, index, source, *, alpha=1):
    d = wrap_dim(dim, input._data.ndim)
    key = (slice(None),) * d + (index._data,)
    src = source if alpha == 1 else source * alpha
    out = input.clone()
    res = IndexPut.apply(out, src, key, True)
    return res


def index_fill(input, dim, index, value):
    d = wrap_dim(dim, input._data.ndim)
    mask = xp.zeros(input._data.shape[d], bool)
    mask[index._data] = True
    shape = [1] * input._data.ndim
    shape[d] = -1
    return MaskedFill.apply(input, mask.reshape(shape), value)
