"""Gradient clipping: clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_.

All of them work on ``.grad`` arrays in place, outside the autograd graph (as under no_grad).
"""
from __future__ import annotations

import math
import types
import warnings

from ... import backend
from ...tensor import Tensor

xp = backend.xp

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _vector_norm(a, p: float):
    if p == math.inf:
        return xp.abs(a).max() if a.size else a.dtype.type(0)
    if p == -math.inf:
        return xp.abs(a).min() if a.size else a.dtype.type(math.inf)
    if p == 0:
        return a.dtype.type(xp.count_nonzero(a))
    if p == 1:
        return xp.abs(a).sum()
    if p == 2:
        return xp.sqrt(xp.vdot(a.ravel(), a.ravel())) if a.size else a.dtype.type(0)
    return (xp.abs(a) ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` viewed as one vector (a 0-d tensor).

    Args:
        tensors (Iterable[Tensor] or Tensor): the tensors (typically gradients).
        norm_type (float): the p of the p-norm; ``inf`` for the max norm. Default: 2.0
        error_if_nonfinite (bool): raise RuntimeError if the norm is nan or inf. Default: False
        foreach: accepted for compatibility.
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._make(xp.asarray(0.0, dtype=xp.float32))
    norms = [_vector_norm(t._data, norm_type) for t in tensors]
    dtype = xp.result_type(*[t._data.dtype for t in tensors])
    total = _vector_norm(xp.asarray(norms, dtype=dtype), norm_type)
    total = xp.asarray(total, dtype=dtype)
    if error_if_nonfinite and not xp.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return Tensor._make(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale gradients by min(max_norm / (total_norm + 1e-6), 1) in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    tn = total_norm._data if isinstance(total_norm, Tensor) else xp.asarray(total_norm)
    t = tn.dtype.type
    coef = min(t(float(max_norm)) / (tn + t(1e-6)), t(1.0))
    with xp.errstate(invalid="ignore", over="ignore"):
        for g in grads:
            g._data *= coef
            g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Rescale the gradients so that their total ``norm_type``-norm is at most ``max_norm``.

    Args:
        parameters (Iterable[Tensor] or Tensor): tensors whose ``.grad`` is clipped.
        max_norm (float): the largest allowed norm.
        norm_type (float): the p of the p-norm; ``inf`` for the max norm. Default: 2.0
        error_if_nonfinite (bool): raise RuntimeError if the total norm is nan/inf.
        foreach: accepted for compatibility.

    Returns:
        The total norm of the gradients before clipping (a 0-d tensor).
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_``."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient to [-clip_value, clip_value] in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    for p in parameters:
        g = p.grad
        if g is not None:
            xp.clip(g._data, -clip_value, clip_value, out=g._data)
            g._vc[0] += 1
