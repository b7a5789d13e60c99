"""View ops: reshape/view, permute/transpose, expand, squeeze/unsqueeze, narrow. The
multi-output views split/chunk/unbind live in ``split.py``; joins, flips and tiling in
``join.py`` (all re-exported here).

A view shares memory and the version counter with its input, as in PyTorch, and records in
``_view`` how to replay it from its root base, so that an in-place write through it can be
routed into the base's graph (``inplace.CopySlices``).
"""
from __future__ import annotations

import numbers

from ..autograd.function import Context, Function
from ..autograd.grad_mode import state as _grad_state
from ..tensor import Tensor
from ._common import size_arg, wrap_dim

xp = Context.xp

# view flags (third entry of ``Tensor._view``)
MULTI = 1       # one of several views returned by one call (unbind/split/chunk)
NO_GRAD = 2     # created while grad mode was off

#: for views: (root base Tensor, replay steps ((Function, arg), ...), flags); else None.
#: Views with MULTI hold (function name, output number) in place of the steps.
Tensor._view = None


class _Scratch:
    """A throwaway context, for running a view's ``forward`` on plain arrays."""


_SCRATCH = _Scratch()


def replay(a, steps):
    """Apply the view steps recorded in ``_view`` to array ``a`` (no autograd)."""
    for cls, arg in steps:
        a = cls.forward(_SCRATCH, a, arg)
    return a


def _mark(out: Tensor, x: Tensor, step, multi=None) -> Tensor:
    """Record that ``out`` is a view of ``x`` made by ``step`` = (Function, arg); ``multi`` =
    (name, i) marks output i of a function that returns several views."""
    flags = 0 if _grad_state.enabled else NO_GRAD
    v = x._view
    if v is None:
        out._view = (x, (step,), flags) if multi is None else (x, multi, flags | MULTI)
    elif multi is None and not v[2] & MULTI:
        out._view = (v[0], v[1] + (step,), flags | v[2])
    else:
        out._view = (v[0], v[1] if v[2] & MULTI else multi, flags | v[2] | MULTI)
    return out


def view_apply(cls, x: Tensor, arg) -> Tensor:
    """``cls.apply(x, arg)`` for a view Function, skipping the graph when no gradient is needed."""
    if x._rg and _grad_state.enabled:
        out = cls.apply(x, arg)
    else:
        out = Tensor._make(cls.forward(_SCRATCH, x._data, arg))
        out._vc = x._vc
    return _mark(out, x, (cls, arg))


class Reshape(Function):
    """y = x with a new shape (a view)."""

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



# ---- reshaping --------------------------------------------------------------------------------
def _infer_shape(shape, numel):
    neg = -1
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if neg >= 0:
                raise RuntimeError(f"only one dimension can be inferred (shape {list(shape)})")
            neg = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if neg >= 0:
        if known == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                               "because the unspecified dimension size -1 can be any value and "
                               "is ambiguous")
        if numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:neg] + (numel // known,) + shape[neg + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _same(x: Tensor) -> Tensor:
    """A view of ``x`` with its own shape (torch returns such aliases, e.g. ``t()`` of 1-D)."""
    return view_apply(Reshape, x, x._data.shape)


def _viewable(a, shape) -> bool:
    probe = a.view()
    try:
        probe.shape = shape
    except AttributeError:
        return False
    return True


def reshape(input, *shape):
    """A tensor with the same data and ``shape`` (one dimension may be -1): a view when the
    strides allow, else a copy."""
    shape = _infer_shape(size_arg(shape), input._data.size)
    a = input._data
    if shape == a.shape or a.flags.c_contiguous or _viewable(a, shape):
        return view_apply(Reshape, input, shape)
    out = Reshape.apply(input, shape)           # a copy: not a view of ``input``
    out._vc = [0]
    return out


def view(input, *shape):
    """Like ``reshape`` but never copies: raises when the strides do not allow a view.
    ``view(dtype)`` reinterprets the bytes as another dtype."""
    if len(shape) == 1 and not isinstance(shape[0], (numbers.Integral, tuple, list, Tensor)):
        return _view_dtype(input, shape[0])
    shape = _infer_shape(size_arg(shape), input._data.size)
    a = input._data
    if not (a.flags.c_contiguous or _viewable(a, shape)):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return view_apply(Reshape, input, shape)


def _view_dtype(input, dtype):
    from ..backend.dtypes import to_np
    npd = to_np(dtype)
    if npd == input._data.dtype:
        return _same(input)
    a = input._data
    if a.ndim == 0 and npd.itemsize != a.itemsize:
        raise RuntimeError("self.dim() cannot be 0 to view a tensor as a dtype with a different "
                           "element size")
    try:
        out = Tensor._make(a.view(npd))
    except ValueError:
        raise RuntimeError(f"self.stride(-1) must be 1 and the size of the last dimension must "
                           f"be divisible to view {input.dtype} as {dtype} (shape "
                           f"{list(a.shape)})") from None
    out._vc = input._vc
    return out


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim``..``end_dim`` into one."""
    nd = input._data.ndim
    if nd == 0:
        wrap_dim(start_dim, 0), wrap_dim(end_dim, 0)
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return _same(input)
    shp = input._data.shape
    n = 1
    for v in shp[s:e + 1]:
        n *= v
    return reshape(input, shp[:s] + (n,) + shp[e + 1:])


def unflatten(input, dim, sizes):
    """Split dimension ``dim`` into ``sizes`` (one of which may be -1)."""
    d = wrap_dim(dim, input._data.ndim)
    sizes = size_arg((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    shp = input._data.shape
    try:
        inner = _infer_shape(sizes, shp[d])
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shp[d]}) in the input tensor") from None
    return reshape(input, shp[:d] + inner + shp[d + 1:])


def squeeze(input, dim=None):
    """Remove size-1 dimensions (all, or those in ``dim``; others are left alone)."""
    shp = input._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        if isinstance(dim, (tuple, list)):
            ds = [wrap_dim(d, len(shp)) for d in dim]
            if len(set(ds)) != len(ds):
                raise RuntimeError(f"dim {ds[0]} appears multiple times in the list of dims")
        else:
            ds = (wrap_dim(dim, len(shp)),)
        new = tuple(s for i, s in enumerate(shp) if not (i in ds and s == 1))
    return view_apply(Reshape, input, new)


def unsqueeze(input, dim):
    """Insert a size-1 dimension at ``dim`` (in [-ndim-1, ndim])."""
    d = wrap_dim(dim, input._data.ndim + 1)
    shp = input._data.shape
    return view_apply(Reshape, input, shp[:d] + (1,) + shp[d:])


# ---- reordering -------------------------------------------------------------------------------
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
    return view_apply(Permute, input, axes)


def transpose(input, dim0, dim1):
    """Swap two dimensions (a view)."""
    nd = input._data.ndim
    a, b = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    if nd < 2 or a == b:
        return _same(input)
    axes = list(range(nd))
    axes[a], axes[b] = b, a
    return view_apply(Permute, input, tuple(axes))


swapaxes = swapdims = transpose


def t(input):
    """Transpose a tensor of at most 2 dimensions (0-D and 1-D tensors are returned as is)."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else _same(input)


def T(input):
    """All dimensions reversed (``Tensor.T``)."""
    nd = input._data.ndim
    return view_apply(Permute, input, tuple(range(nd - 1, -1, -1))) if nd > 1 else _same(input)


def mT(input):
    """The last two dimensions swapped (``Tensor.mT``)."""
    if input._data.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{input._data.ndim}-D tensor.")
    return transpose(input, -2, -1)


def movedim(input, source, destination):
    """Move dimensions ``source`` to positions ``destination``; the rest keep their order."""
    nd = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    src = [wrap_dim(s, nd) for s in src]
    dst = [wrap_dim(s, nd) for s in dst]
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({ds})")
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(nd) if i not in src)
    order = tuple(next(rest) if o is None else o for o in order)
    return view_apply(Permute, input, order)


moveaxis = movedim


# ---- broadcasting -----------------------------------------------------------------------------
def expand(input, *sizes):
    """Broadcast to ``sizes`` without copying (-1 keeps a dimension)."""
    sizes = size_arg(sizes)
    nd = input._data.ndim
    if len(sizes) < nd:
        raise RuntimeError(f"expand({input.type()}{{{list(input._data.shape)}}}, size="
                           f"{list(sizes)}): the number of sizes provided ({len(sizes)}) must be "
                           f"greater or equal to the number of dimensions in the tensor ({nd})")
    lead = len(sizes) - nd
    shape = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
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
        return _same(input)
    return view_apply(Expand, input, shape)


def expand_as(input, other):
    return expand(input, other._data.shape)


def broadcast_to(input, shape):
    return expand(input, tuple(shape))


def broadcast_tensors(*tensors):
    """Expand all tensors to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    try:
        shape = xp.broadcast_shapes(*(t._data.shape for t in tensors))
    except ValueError:
        raise RuntimeError("shape mismatch: the tensors of shapes "
                           + ", ".join(str(list(t._data.shape)) for t in tensors)
                           + " cannot be broadcast together") from None
    return tuple(expand(t, shape) for t in tensors)


# ---- slicing ----------------------------------------------------------------------------------
def narrow(input, dim, start, length):
    """The slice [start, start + length) of dimension ``dim`` (a view)."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    n = input._data.shape[d]
    start = int(start)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return view_apply(Slice, input, (slice(None),) * d + (slice(start, start + length),))


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, that dimension removed (a view)."""
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    n = input._data.shape[d]
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input._data.shape)} at dimension {d}")
    return view_apply(Slice, input, (slice(None),) * d + (index % n,))


def atleast_1d(t):
    return t.reshape(1) if t._data.ndim == 0 else t


def atleast_2d(t):
    return t.reshape(1, -1) if t._data.ndim < 2 else t


from .join import (  # noqa: E402,F401  (re-exported: shape ops as one family)
    Cat, Flip, Repeat, Roll, Stack, Tril, cat, concat, concatenate, flip, fliplr, flipud,
    hstack, repeat, repeat_interleave, roll, stack, tile, tril, triu, vstack,
)
from .split import (  # noqa: E402,F401
    Pieces, Split, Unbind, chunk, split, tensor_split, unbind,
)
