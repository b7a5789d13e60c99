"""Function (a differentiable primitive) and Context (its saved state and graph node)."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from .anomaly_mode import record_forward as _record_forward, state as _anomaly
from .grad_mode import state as _grad_state

_ndarray = backend.ndarray
_make = Tensor._make


class Context:
    """State a primitive saves in ``forward`` for ``backward``; it is also the graph node.

    Attributes set by ``Function.apply`` when the output requires grad:
      fn:        the Function class
      next:      per input, the input's node (a Context), the leaf Tensor that accumulates, or None
      meta:      per input, (shape, dtype) that the gradient must have, or None
      needs_input_grad: per input, whether a gradient is wanted; set before ``forward`` runs
                  (so forward may save only what those gradients need), ``()`` when no graph
                  is recorded
    """

    xp = backend.xp
    saved_tensors = ()
    needs_input_grad = ()
    fn = None
    hooks = None
    retained = None
    _versions = None
    freed = False

    def save_for_backward(self, *arrays) -> None:
        self.saved_tensors = arrays

    def name(self) -> str:
        return self.fn.__name__ + "Backward0"

    @property
    def next_functions(self):
        out = []
        for n in self.next:
            if n is None or isinstance(n, Context):
                out.append((n, 0))
            else:
                out.append((AccumulateGrad(n), 0))
        return tuple(out)

    def register_hook(self, hook):
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad:
    """The node that stands for a leaf in ``next_functions``."""

    def __init__(self, variable) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    next_functions = ()


class Function:
    """A differentiable primitive: subclass it with static ``forward`` and ``backward``.

    ``forward(ctx, *args)`` gets backend arrays in place of Tensors (other arguments pass as they
    are) and returns one array. ``backward(ctx, gy)`` returns one gradient per positional input
    (a tuple, or a bare array when there is one input), with None where there is none.
    """

    #: the output shares memory (and the version counter) with the first input
    is_view = False

    @staticmethod
    def forward(ctx: Context, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, gy):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        return _apply(cls, Context(), args)

    @classmethod
    def apply_ctx(cls, *args):
        """Run the primitive; return (output Tensor, its Context)."""
        ctx = Context()
        return _apply(cls, ctx, args), ctx


def _apply(cls, ctx, args):
    """Run ``cls.forward`` on ``args`` unwrapped and record ``ctx`` as the output's node."""
    record = False
    if _grad_state.enabled:
        raw = []
        nxt = []            # per input: its node, the leaf itself, or None (no gradient)
        meta = []           # per input: (shape, dtype) its gradient must have, or None
        for a in args:
            if isinstance(a, Tensor):
                d = a._data
                raw.append(d)
                if a._rg:
                    record = True
                    nxt.append(a._node or a)
                    meta.append((d.shape, d.dtype))
                    continue
            else:
                raw.append(a)
            nxt.append(None)
            meta.append(None)
        if record:
            ctx.needs_input_grad = tuple([m is not None for m in meta])
    else:
        raw = [a._data if isinstance(a, Tensor) else a for a in args]
    y = cls.forward(ctx, *raw)
    if type(y) is not _ndarray:
        y = backend.asarray(y)
    out = _make(y)
    if cls.is_view:
        out._vc = args[0]._vc
    if record:
        ctx.fn = cls
        ctx.next = tuple(nxt)
        ctx.meta = tuple(meta)
        saved = ctx.saved_tensors
        if saved:
            ctx._versions = _saved_versions(saved, args, raw, out)
        out._node = ctx
        out._rg = True
        if _anomaly.enabled:
            _record_forward(ctx, y)
    return out


def _saved_versions(saved, args, raw, out):
    """(version counter, value at save time, which) for each input or output whose array was
    saved, or None."""
    found = None
    for s in saved:
        if s is out._data:
            vc, which = out._vc, "output"
        else:
            for which, a in enumerate(raw):
                if s is a and isinstance(args[which], Tensor):
                    vc = args[which]._vc
                    break
            else:
                continue
        if found is None:
            found = [(vc, vc[0], which)]
        else:
            found.append((vc, vc[0], which))
    return found


def once_differentiable(fn):
    return fn

