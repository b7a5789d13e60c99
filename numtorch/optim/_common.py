"""Helpers shared by the optimizers: step counters, hyperparameter checks, the scratch
Workspace that keeps updates free of temporaries, and the grad-mode wrappers of ``step``."""
from __future__ import annotations

import functools

from .. import backend
from ..autograd import grad_mode
from ..backend import dtypes as _dt
from ..tensor import Tensor

_grad_state = grad_mode.state


def _scalar_dtype(is_fused=None):
    """dtype of the ``step`` counters: float32, or float64 when that is the default dtype."""
    if is_fused:
        return _dt.float32
    return _dt.float64 if _dt.get_default_dtype() is _dt.float64 else _dt.float32


def _step_tensor(value=0.0, is_fused=None) -> Tensor:
    """A 0-d ``step`` counter tensor, as torch keeps it in optimizer state."""
    return Tensor._make(backend.xp.full((), value, dtype=_scalar_dtype(is_fused).np))


def l2_grad(p, g, weight_decay, maximize, scratch):
    """The gradient to use: negated for ``maximize``, plus ``weight_decay * p`` (L2), written
    into scratch buffers 1 and 2 so that ``g`` itself is never modified."""
    xp = backend.xp
    if maximize:
        g = xp.negative(g, out=scratch(p, 2))
    if weight_decay != 0:
        t = xp.multiply(p, weight_decay, out=scratch(p, 1))
        g = xp.add(g, t, out=scratch(p, 2))
    return g


def _scalar(x) -> float:
    """A hyperparameter as a Python float (a one-element Tensor is read out)."""
    return x.item() if isinstance(x, Tensor) else x


def _check_tensor_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def _check_fused(fused, foreach, differentiable) -> None:
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


class Workspace:
    """Reusable scratch buffers, so that updates allocate no temporaries.

    ``get(like, slot, dtype=None)`` returns an uninitialised array shaped like ``like`` (and
    typed like it unless ``dtype`` is given), carved out of one flat buffer per (dtype, slot)
    that grows to the largest parameter seen. Parameters above ``MAX_CACHED`` elements get
    fresh arrays instead: for them allocation is cheap next to the arithmetic, and the cache
    then never holds more than a few such buffers' worth of memory.
    """

    MAX_CACHED = 1 << 22

    __slots__ = ("_flat",)

    def __init__(self) -> None:
        self._flat = {}

    def get(self, like, slot: int = 0, dtype=None):
        """Scratch array shaped like ``like`` from buffer ``slot`` (contents undefined)."""
        dt = like.dtype if dtype is None else dtype
        n = like.size
        if n > self.MAX_CACHED:
            return backend.xp.empty(like.shape, dtype=dt)
        key = (dt, slot)
        flat = self._flat.get(key)
        if flat is None or flat.size < n:
            flat = backend.xp.empty(n, dtype=dt)
            self._flat[key] = flat
        return flat[:n].reshape(like.shape)


def _empty_like(like, slot: int = 0, dtype=None):
    return backend.xp.empty_like(like, dtype=dtype)


def scratch_fn(ws):
    """``ws.get`` for a Workspace, else a function that allocates fresh arrays."""
    return ws.get if ws is not None else _empty_like


def _use_grad(step):
    """Run ``step`` with gradient recording off (the closure re-enables it)."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        prev = _grad_state.enabled
        _grad_state.enabled = False
        try:
            return step(self, *args, **kwargs)
        finally:
            _grad_state.enabled = prev
    return wrapper


def _closure_loss(closure):
    """Evaluate ``closure`` with gradients enabled (None when no closure)."""
    if closure is None:
        return None
    prev = _grad_state.enabled
    _grad_state.enabled = True
    try:
        return closure()
    finally:
        _grad_state.enabled = prev
