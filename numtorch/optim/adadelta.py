"""Adadelta: step sizes from running averages of squared gradients and squared updates."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from ._common import (
    _check_tensor_lr, _closure_loss, _scalar, _step_tensor, _use_grad, l2_grad, scratch_fn,
)
from .optimizer import Optimizer

__all__ = ["Adadelta", "adadelta_step"]

xp = backend.xp


class Adadelta(Optimizer):
    """Implements the Adadelta algorithm.

    ``v = rho*v + (1-rho)*g**2``, ``d = sqrt(u + eps) / sqrt(v + eps) * g``,
    ``u = rho*u + (1-rho)*d**2`` and ``p -= lr * d``; ``g`` is negated when ``maximize`` and
    gets ``weight_decay * p`` added.

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or dicts of parameter groups
        lr (float, Tensor): coefficient that scales delta before it is applied. Default: ``1.0``
        rho (float): coefficient of the running averages. Default: ``0.9``
        eps (float): term added to the denominator for numerical stability. Default: ``1e-6``
        weight_decay (float): weight decay (L2 penalty). Default: ``0``
        foreach, capturable, differentiable: accepted and stored in the groups.
        maximize (bool): maximize the objective instead of minimizing. Default: ``False``

    Differs from torch: ``foreach`` and ``capturable`` select no other kernel, and
    ``differentiable=True`` does not record the step in the autograd graph.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False) -> None:
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        self._steps_to_tensors()

    @_use_grad
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, grads, square_avgs, acc_deltas, steps = [], [], [], [], []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = _step_tensor(0.0)
                    st["square_avg"] = Tensor._make(xp.zeros_like(p._data))
                    st["acc_delta"] = Tensor._make(xp.zeros_like(p._data))
                params.append(p._data)
                grads.append(g._data)
                p._vc[0] += 1
                square_avgs.append(st["square_avg"]._data)
                acc_deltas.append(st["acc_delta"]._data)
                steps.append(st["step"]._data)
            adadelta_step(params, grads, square_avgs, acc_deltas, steps, lr=_scalar(group["lr"]),
                          rho=group["rho"], eps=group["eps"], weight_decay=group["weight_decay"],
                          maximize=group["maximize"], ws=self._ws)
        return loss


def adadelta_step(params, grads, square_avgs, acc_deltas, state_steps, *, lr, rho, eps,
                  weight_decay, maximize, ws=None) -> None:
    """Adadelta update of backend arrays in place, in torch's operation order."""
    scratch = scratch_fn(ws)
    for i, p in enumerate(params):
        g = grads[i]
        v = square_avgs[i]
        u = acc_deltas[i]
        state_steps[i].fill(state_steps[i].item() + 1)
        g = l2_grad(p, g, weight_decay, maximize, scratch)
        v *= rho
        t = xp.multiply(g, 1 - rho, out=scratch(p, 0))
        t *= g
        v += t
        std = xp.add(v, eps, out=scratch(p, 0))
        xp.sqrt(std, out=std)
        delta = xp.add(u, eps, out=scratch(p, 1))
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        u *= rho
        t = xp.multiply(delta, 1 - rho, out=scratch(p, 0))
        t *= delta
        u += t
        delta *= -lr
        p += delta
