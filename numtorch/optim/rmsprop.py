"""RMSprop, optionally centered and with momentum."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from ._common import (
    _check_tensor_lr, _closure_loss, _scalar, _step_tensor, _use_grad, l2_grad, scratch_fn,
)
from .optimizer import Optimizer

__all__ = ["RMSprop", "rmsprop_step"]

xp = backend.xp


class RMSprop(Optimizer):
    """Implements the RMSprop algorithm.

    ``v = alpha*v + (1-alpha)*g**2``; the denominator is ``sqrt(v) + eps``, or
    ``sqrt(v - mean_g**2) + eps`` when ``centered`` (``mean_g`` a running average of ``g``);
    then ``p -= lr * g / denom``, or with momentum ``b = momentum*b + g/denom; p -= lr*b``.

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or dicts of parameter groups
        lr (float, Tensor): learning rate. Default: ``1e-2``
        alpha (float): smoothing constant. Default: ``0.99``
        eps (float): term added to the denominator for numerical stability. Default: ``1e-8``
        weight_decay (float): weight decay (L2 penalty). Default: ``0``
        momentum (float): momentum factor. Default: ``0``
        centered (bool): normalise by an estimate of the gradient's variance. Default: ``False``
        capturable, foreach, differentiable: accepted and stored in the groups.
        maximize (bool): maximize the objective instead of minimizing. Default: ``False``

    Differs from torch: ``capturable`` and ``foreach`` select no other kernel, and
    ``differentiable=True`` does not record the step in the autograd graph.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False) -> None:
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
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
            momentum, centered = group["momentum"], group["centered"]
            params, grads, square_avgs, grad_avgs, bufs, steps = [], [], [], [], [], []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = _step_tensor(0.0)
                    st["square_avg"] = Tensor._make(xp.zeros_like(p._data))
                    if momentum > 0:
                        st["momentum_buffer"] = Tensor._make(xp.zeros_like(p._data))
                    if centered:
                        st["grad_avg"] = Tensor._make(xp.zeros_like(p._data))
                params.append(p._data)
                grads.append(g._data)
                p._vc[0] += 1
                square_avgs.append(st["square_avg"]._data)
                steps.append(st["step"]._data)
                if momentum > 0:
                    bufs.append(st["momentum_buffer"]._data)
                if centered:
                    grad_avgs.append(st["grad_avg"]._data)
            rmsprop_step(params, grads, square_avgs, grad_avgs, bufs, steps,
                         lr=_scalar(group["lr"]), alpha=group["alpha"], eps=group["eps"],
                         weight_decay=group["weight_decay"], momentum=momentum,
                         centered=centered, maximize=group["maximize"], ws=self._ws)
        return loss


def rmsprop_step(params, grads, square_avgs, grad_avgs, momentum_buffers, state_steps, *, lr,
                 alpha, eps, weight_decay, momentum, centered, maximize, ws=None) -> None:
    """RMSprop update of backend arrays in place, in torch's operation order."""
    scratch = scratch_fn(ws)
    for i, p in enumerate(params):
        g = grads[i]
        v = square_avgs[i]
        state_steps[i].fill(state_steps[i].item() + 1)
        g = l2_grad(p, g, weight_decay, maximize, scratch)
        v *= alpha
        t = xp.multiply(g, 1 - alpha, out=scratch(p, 0))
        t *= g
        v += t
        avg = scratch(p, 0)
        if centered:
            ga = grad_avgs[i]
            w = 1 - alpha                      # ga.lerp_(g, 1 - alpha)
            xp.subtract(g, ga, out=avg)
            if w < 0.5:
                avg *= w
                ga += avg
            else:
                avg *= 1 - w
                xp.subtract(g, avg, out=ga)
            # v.addcmul(ga, ga, value=-1): v - ga**2 cancels badly, and torch fuses it (FMA)
            # into one rounding; for narrow floats form it in float64, then round once.
            if avg.dtype.itemsize < 8:
                t = xp.multiply(ga, ga, out=scratch(p, 3, xp.float64), dtype=xp.float64)
                xp.subtract(v, t, out=avg, dtype=xp.float64, casting="same_kind")
            else:
                xp.multiply(ga, -1, out=avg)
                avg *= ga
                avg += v
            xp.sqrt(avg, out=avg)
        else:
            xp.sqrt(v, out=avg)
        avg += eps
        t = scratch(p, 1)
        if momentum > 0:
            buf = momentum_buffers[i]
            buf *= momentum
            buf += xp.divide(g, avg, out=t)
            p += xp.multiply(buf, -lr, out=t)
        else:
            xp.multiply(g, -lr, out=t)
            t /= avg
            p += t
