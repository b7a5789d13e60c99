"""In-place writes under autograd, as PyTorch does them.

An in-place method computes its result out of place, then ``commit`` writes it into the tensor's
own memory and moves the tensor onto the result's graph node. Writing into a view also changes
its base: the base's history becomes a ``CopySlices`` node (the base's old gradient with the
written region cut out, plus the written value's gradient) and the view is replayed from it.
Every write bumps the version counter that views share, so a backward that needs an overwritten
value raises PyTorch's "modified by an inplace operation" error.
"""
from __future__ import annotations

from ..autograd.function import Context, Function
from ..autograd.grad_mode import state as _grad_state
from ..tensor import Tensor
from ._common import can_cast, type_name
from .shape import MULTI, NO_GRAD, replay

xp = Context.xp

LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF = ("a view of a leaf Variable that requires grad is being used in an in-place "
                "operation.")


class CopySlices(Function):
    """y = base with ``v`` written into its view ``replay(base, steps)[key]``; y is base's array.

    The gradient of base is the incoming one with the written region zeroed; that region is the
    gradient of ``v``.
    """

    @staticmethod
    def forward(ctx: Context, b, v, steps, key):
        ctx.steps, ctx.key, ctx.vshape = steps, key, v.shape
        ctx.proto = b if steps else None
        t = replay(b, steps) if steps else b
        if key is None:
            t[...] = v
        else:
            t[key] = v
        return b

    @staticmethod
    def backward(ctx: Context, gy):
        steps, key = ctx.steps, ctx.key
        need = ctx.needs_input_grad
        if steps:
            g = xp.empty_like(ctx.proto)          # same strides as the base, so views replay
            g[...] = gy
            region = replay(g, steps)
        else:
            g = gy.copy() if need[0] else gy
            region = g
        gv = None
        if need[1]:
            gv = region if key is None else region[key]
            if need[0] and (gv.base is not None or gv is g):
                gv = gv.copy()
            n = len(ctx.vshape)
            if gv.ndim < n:                       # value had extra leading size-1 dimensions
                gv = gv.reshape((1,) * (n - gv.ndim) + gv.shape)
        if need[0]:
            if key is None:
                region[...] = 0
            else:
                region[key] = 0
        return (g if need[0] else None), gv, None, None


class Fill(Function):
    """y = ``value`` everywhere (x's shape and dtype): fill_, zero_, random fills. x gets a zero
    gradient; a tensor ``value`` gets the sum of the gradient."""

    @staticmethod
    def forward(ctx: Context, x, value):
        y = xp.empty(x.shape, x.dtype)
        y[...] = value
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        need = ctx.needs_input_grad
        return (xp.zeros_like(gy) if need[0] else None), (gy if need[1] else None)


class Copy(Function):
    """y = src broadcast to x's shape and converted to x's dtype (copy_); x gets a zero gradient."""

    @staticmethod
    def forward(ctx: Context, x, src):
        y = xp.empty(x.shape, x.dtype)
        y[...] = src
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        need = ctx.needs_input_grad
        return (xp.zeros_like(gy) if need[0] else None), (gy if need[1] else None)


# ---- checks -----------------------------------------------------------------------------------
def check_result(self: Tensor, arr) -> None:
    """PyTorch's errors for writing ``arr`` (an op's result) into ``self``."""
    a = self._data
    if arr.shape != a.shape:
        try:
            bs = xp.broadcast_shapes(arr.shape, a.shape)
        except ValueError:
            bs = None
        if bs != a.shape:
            raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast "
                               f"shape {list(bs if bs is not None else arr.shape)}")
    if arr.dtype != a.dtype and not can_cast(arr.dtype, a.dtype):
        raise RuntimeError(f"result type {type_name(Tensor._make(arr))} can't be cast to the "
                           f"desired output type {type_name(self)}")
    if not a.flags.writeable:
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor "
                           "refers to a single memory location. Please clone() the tensor before "
                           "performing the operation.")


def _target(self: Tensor, leaf_msg: str = LEAF):
    """(base, replay steps) that a recorded in-place write on ``self`` goes through."""
    view = self._view
    if view is None:
        if self._node is None and self._rg:
            raise RuntimeError(leaf_msg)
        return self, ()
    base, steps, flags = view
    if flags & MULTI:
        name, i = steps
        raise RuntimeError(
            f"Output {i} of {name} is a view and is being modified inplace. This view is the "
            f"output of a function that returns multiple views. Such functions do not allow the "
            f"output views to be modified inplace. You should replace the inplace operation by an "
            f"out-of-place one.")
    if flags & NO_GRAD:
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode "
            "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You "
            "can clarify your code by moving both the view and the inplace either both inside the "
            "no_grad block (if you don't want the inplace to be tracked) or both outside (if you "
            "want the inplace to be tracked).")
    if base._node is None and base._rg:
        raise RuntimeError(VIEW_OF_LEAF)
    return base, steps


def _own_saved(node, self: Tensor) -> None:
    """The op about to overwrite ``self`` saved ``self``'s array: give it a private copy (as
    PyTorch saves the original ``self`` of mul_, div_, pow_ ...)."""
    saved = getattr(node, "saved_tensors", None)
    if not saved:
        return
    a = self._data
    if not any(s is a for s in saved):
        return
    c = a.copy()
    node.saved_tensors = tuple(c if s is a else s for s in saved)
    if node._versions:
        vc = self._vc
        node._versions = [e for e in node._versions if e[0] is not vc or e[2] == "output"] or None


def _share_output(node, result: Tensor, self: Tensor) -> None:
    """A saved output now lives in ``self``: later writes to ``self`` must invalidate it."""
    if not node._versions:
        return
    r = result._data
    node.saved_tensors = tuple(self._data if s is r else s for s in node.saved_tensors)
    node._versions = [(self._vc, self._vc[0], "output") if e[2] == "output" else e
                      for e in node._versions]


def _adopt(base: Tensor, out: Tensor) -> None:
    base._node, base._rg = out._node, True


def _refresh(view: Tensor, base: Tensor, steps) -> None:
    """Re-derive ``view``'s graph node from its base's new history."""
    t = base
    for cls, arg in steps:
        t = cls.apply(t, arg)
    view._node, view._rg = t._node, t._rg


# ---- writes -----------------------------------------------------------------------------------
def tracked(t: Tensor) -> bool:
    """True when an in-place write on ``t`` concerns autograd: ``t`` or its view base requires
    grad."""
    return t._rg or (t._view is not None and t._view[0]._rg)


def commit(self: Tensor, result: Tensor) -> Tensor:
    """Write the out-of-place ``result`` of an in-place op into ``self``; record it for autograd
    when ``result`` is part of a graph."""
    arr = result._data
    check_result(self, arr)
    if not (_grad_state.enabled and (result._rg or (self._view is not None and
                                                    self._view[0]._rg))):
        self._data[...] = arr
        self._vc[0] += 1
        return self
    node = result._node
    base, steps = _target(self)
    _own_saved(node, self)
    if base is self:
        self._data[...] = arr
        self._vc[0] += 1
        _share_output(node, result, self)
        self._node, self._rg = node, True
        return self
    _adopt(base, CopySlices.apply(base, result, steps, None))
    self._vc[0] += 1
    _refresh(self, base, steps)
    return self


def write_graph(x: Tensor, v: Tensor, key, view_key: bool) -> None:
    """``x[key] = v`` recorded for autograd (``v`` already has x's dtype)."""
    base, steps = _target(x, VIEW_OF_LEAF if view_key else LEAF)
    try:
        out = CopySlices.apply(base, v, steps, key)
    except ValueError as e:
        from .index import value_shape_error
        raise value_shape_error(x, key, v, e) from None
    _adopt(base, out)
    x._vc[0] += 1
    if steps:
        _refresh(x, base, steps)


def fill(self: Tensor, value) -> Tensor:
    """``self.fill_(value)``: ``value`` a number, an array, or a 0-dim tensor."""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        if not (value._rg and _grad_state.enabled):
            value = value._data
    if _grad_state.enabled and (tracked(self) or isinstance(value, Tensor)):
        return commit(self, Fill.apply(self, value))
    if not self._data.flags.writeable:
        check_result(self, self._data)
    self._data[...] = value
    self._vc[0] += 1
    return self


def copy(self: Tensor, src) -> Tensor:
    """``self.copy_(src)``: ``src`` broadcast to self's shape and converted to its dtype."""
    arr = src._data if isinstance(src, Tensor) else xp.asarray(src)
    a = self._data
    if arr.shape != a.shape:
        try:
            bs = xp.broadcast_shapes(arr.shape, a.shape)
        except ValueError:
            from ._common import broadcast_error
            raise broadcast_error(self, Tensor._make(arr), None) from None
        if bs != a.shape:
            raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast "
                               f"shape {list(bs)}")
    if _grad_state.enabled and (tracked(self) or (isinstance(src, Tensor) and src._rg)):
        return commit(self, Copy.apply(self, src))
    if not a.flags.writeable:
        check_result(self, a)
    a[...] = arr
    self._vc[0] += 1
    return self
