"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from ._common import (
    l2_grad,
    _check_fused, _check_tensor_lr, _closure_loss, _scalar, _step_tensor, _use_grad, scratch_fn,
)
from .optimizer import Optimizer

__all__ = ["Adagrad", "adagrad_step"]

xp = backend.xp


class Adagrad(Optimizer):
    """Implements the Adagrad algorithm.

    ``s += g**2`` and ``p -= clr * g / (sqrt(s) + eps)`` with ``clr = lr / (1 + (t-1)*lr_decay)``;
    ``g`` is negated when ``maximize`` and gets ``weight_decay * p`` added.

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or dicts of parameter groups
        lr (float, Tensor): learning rate. Default: ``1e-2``
        lr_decay (float): learning rate decay. Default: ``0``
        weight_decay (float): weight decay (L2 penalty). Default: ``0``
        initial_accumulator_value (float): initial value of the sums of squares. Default: ``0``
        eps (float): term added to the denominator for numerical stability. Default: ``1e-10``
        foreach, differentiable, fused: accepted and stored in the groups.
        maximize (bool): maximize the objective instead of minimizing. Default: ``False``

    NOTE: as in torch, the state (``step`` and ``sum``) is created in ``__init__`` for every
    parameter, and ``initial_accumulator_value`` is taken from the defaults, not the group.

    Differs from torch: ``foreach`` and ``fused`` select no other kernel (sparse gradients do
    not exist here), and ``differentiable=True`` does not record the step in the autograd graph.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False,
                 fused=None) -> None:
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group) -> dict:
        st = self.state[p]
        st["step"] = _step_tensor(0.0, group["fused"])
        st["sum"] = Tensor._make(xp.full_like(p._data, self.defaults["initial_accumulator_value"]))
        return st

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        self._steps_to_tensors("fused")

    def share_memory(self) -> None:
        """Accepted for compatibility: state lives in this process's memory."""

    @_use_grad
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params, grads, sums, steps = [], [], [], []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                st = self.state[p]
                if len(st) == 0:
                    st = self._init_state(p, group)
                params.append(p._data)
                grads.append(g._data)
                p._vc[0] += 1
                sums.append(st["sum"]._data)
                steps.append(st["step"]._data)
            adagrad_step(params, grads, sums, steps, lr=_scalar(group["lr"]),
                         weight_decay=group["weight_decay"], lr_decay=group["lr_decay"],
                         eps=group["eps"], maximize=group["maximize"], ws=self._ws)
        return loss


def adagrad_step(params, grads, state_sums, state_steps, *, lr, weight_decay, lr_decay, eps,
                 maximize, ws=None) -> None:
    """Adagrad update of backend arrays in place, in torch's operation order."""
    scratch = scratch_fn(ws)
    for i, p in enumerate(params):
        g = grads[i]
        s = state_sums[i]
        step_t = state_steps[i]
        step = step_t.item() + 1         # step_t += 1, without a 0-d ufunc call
        step_t.fill(step)
        g = l2_grad(p, g, weight_decay, maximize, scratch)
        clr = lr / (1 + (step - 1) * lr_decay)
        s += xp.multiply(g, g, out=scratch(p, 0))
        std = xp.sqrt(s, out=scratch(p, 0))
        std += eps
        t = xp.multiply(g, -clr, out=scratch(p, 1))
        t /= std
        p += t
