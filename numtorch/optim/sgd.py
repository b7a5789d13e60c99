"""Stochastic gradient descent, optionally with momentum, dampening and Nesterov momentum."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from ._common import _check_fused, _check_tensor_lr, _closure_loss, _scalar, _use_grad, scratch_fn
from .optimizer import Optimizer

__all__ = ["SGD", "sgd_step"]

xp = backend.xp


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum).

    With gradient ``g`` (negated when ``maximize``) and ``g += weight_decay * p``, the momentum
    buffer is ``b = g`` on the first step and ``b = momentum * b + (1 - dampening) * g`` after;
    the update is ``p -= lr * (g + momentum * b if nesterov else b)``.

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or dicts of parameter groups
        lr (float, Tensor): learning rate. Default: ``1e-3``
        momentum (float): momentum factor. Default: ``0``
        dampening (float): dampening for momentum. Default: ``0``
        weight_decay (float): weight decay (L2 penalty). Default: ``0``
        nesterov (bool): enables Nesterov momentum (needs momentum and zero dampening).
            Default: ``False``
        maximize (bool): maximize the objective instead of minimizing. Default: ``False``
        foreach, differentiable, fused: accepted and stored in the groups.

    Differs from torch: ``foreach`` and ``fused`` select no other kernel (one NumPy
    implementation serves all), and ``differentiable=True`` does not record the step in the
    autograd graph.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None) -> None:
        _check_tensor_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    @_use_grad
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            momentum = group["momentum"]
            lr = group["lr"]
            if (momentum == 0 and type(lr) is float and group["weight_decay"] == 0
                    and not group["maximize"]):
                _plain_step(group["params"], -lr, self._ws.get)
                continue
            params, grads, bufs, states = [], [], [], []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                params.append(p._data)
                grads.append(g._data)
                p._vc[0] += 1
                if momentum != 0:
                    st = self.state[p]
                    buf = st.get("momentum_buffer")
                    bufs.append(None if buf is None else buf._data)
                    states.append(st)
            sgd_step(params, grads, bufs, weight_decay=_scalar(group["weight_decay"]),
                     momentum=momentum, lr=_scalar(group["lr"]), dampening=group["dampening"],
                     nesterov=group["nesterov"], maximize=group["maximize"], ws=self._ws)
            for st, buf in zip(states, bufs):
                if "momentum_buffer" not in st or st["momentum_buffer"]._data is not buf:
                    st["momentum_buffer"] = Tensor._make(buf)
        return loss


def _plain_step(params, neg_lr, scratch) -> None:
    """``p += -lr * g`` for each parameter with a gradient (no momentum, decay or maximize)."""
    lrs: dict = {}   # dtype -> -lr as a 0-d array: half a Python float's cost per product
    for p in params:
        g = p.grad
        if g is None:
            continue
        p._vc[0] += 1
        d = p._data
        g = g._data
        a = lrs.get(g.dtype)
        if a is None:
            a = lrs[g.dtype] = xp.array(neg_lr, g.dtype)
        # small arrays: a fresh product is cheaper than carving out a scratch array
        d += g * a if g.size <= 4096 else xp.multiply(g, a, out=scratch(d, 0))


def sgd_step(params, grads, momentum_buffers, *, weight_decay, momentum, lr, dampening,
             nesterov, maximize, ws=None) -> None:
    """SGD update of backend arrays in place, in torch's operation order.

    ``momentum_buffers`` holds one array or None per parameter (only read when momentum is
    non-zero); None entries are replaced by new buffers. ``ws`` is an optional Workspace.
    """
    scratch = scratch_fn(ws)
    for i, p in enumerate(params):
        g = grads[i]
        own = False                          # True once g is a scratch array we may overwrite
        if weight_decay != 0:
            t = scratch(p, 0)
            xp.multiply(p, weight_decay, out=t)
            if maximize:
                xp.subtract(t, g, out=t)     # -g + wd * p
            else:
                t += g                       # g + wd * p
            g, own = t, True
        elif maximize:
            g, own = xp.negative(g, out=scratch(p, 0)), True
        if momentum != 0:
            buf = momentum_buffers[i]
            if buf is None:
                buf = momentum_buffers[i] = g.copy()
            else:
                buf *= momentum
                if dampening != 0:
                    buf += xp.multiply(g, 1 - dampening, out=scratch(p, 1))
                else:
                    buf += g
            if nesterov:
                t = xp.multiply(buf, momentum, out=scratch(p, 1))
                t += g
                g, own = t, True
            else:
                g, own = buf, False
        if own:
            g *= -lr
        else:
            g = xp.multiply(g, -lr, out=scratch(p, 0))
        p += g
