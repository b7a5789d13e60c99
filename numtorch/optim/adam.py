"""Adam (and, with decoupled weight decay, AdamW), optionally with AMSGrad."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from ._common import (
    _check_fused, _check_tensor_lr, _closure_loss, _scalar, _step_tensor, _use_grad, scratch_fn,
)
from .optimizer import Optimizer

__all__ = ["Adam", "adam_step"]

xp = backend.xp


class Adam(Optimizer):
    """Implements the Adam algorithm.

    ``m = beta1*m + (1-beta1)*g``, ``v = beta2*v + (1-beta2)*g**2`` and
    ``p -= lr/(1-beta1**t) * m / (sqrt(v)/sqrt(1-beta2**t) + eps)``, with ``g`` negated when
    ``maximize``, ``g += weight_decay*p`` (or ``p *= 1 - lr*weight_decay`` when
    ``decoupled_weight_decay``), and ``v`` replaced by its running maximum with ``amsgrad``.

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or dicts of parameter groups
        lr (float, Tensor): learning rate. Default: ``1e-3``
        betas (Tuple[float, float]): coefficients of the running averages of the gradient and
            its square. Default: ``(0.9, 0.999)``
        eps (float): term added to the denominator for numerical stability. Default: ``1e-8``
        weight_decay (float): weight decay (L2 penalty). Default: ``0``
        amsgrad (bool): use the AMSGrad variant. Default: ``False``
        foreach, capturable, differentiable, fused: accepted and stored in the groups.
        maximize (bool): maximize the objective instead of minimizing. Default: ``False``
        decoupled_weight_decay (bool): decay the weights directly, as AdamW. Default: ``False``

    Differs from torch: ``foreach``, ``fused`` and ``capturable`` select no other kernel (the
    state's ``step`` is float32 when fused, as in torch), and ``differentiable=True`` does not
    record the step in the autograd graph.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False) -> None:
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and "
                                 "foreach=True")
            _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                     "capturable=False and foreach=True")
                if betas[i].numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(b.reshape(()) if isinstance(b, Tensor) and b.dim() else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)
        self._steps_to_tensors("fused")

    @_use_grad
    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the loss."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            amsgrad = group["amsgrad"]
            params, grads, exp_avgs, exp_avg_sqs, max_sqs, steps = [], [], [], [], [], []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = _step_tensor(0.0, group["fused"])
                    st["exp_avg"] = Tensor._make(xp.zeros_like(p._data))
                    st["exp_avg_sq"] = Tensor._make(xp.zeros_like(p._data))
                    if amsgrad:
                        st["max_exp_avg_sq"] = Tensor._make(xp.zeros_like(p._data))
                params.append(p._data)
                grads.append(g._data)
                p._vc[0] += 1
                exp_avgs.append(st["exp_avg"]._data)
                exp_avg_sqs.append(st["exp_avg_sq"]._data)
                if amsgrad:
                    max_sqs.append(st["max_exp_avg_sq"]._data)
                steps.append(st["step"]._data)
            beta1, beta2 = group["betas"]
            adam_step(params, grads, exp_avgs, exp_avg_sqs, max_sqs, steps, amsgrad=amsgrad,
                      beta1=_scalar(beta1), beta2=_scalar(beta2), lr=_scalar(group["lr"]),
                      weight_decay=group["weight_decay"], eps=group["eps"],
                      maximize=group["maximize"],
                      decoupled_weight_decay=group["decoupled_weight_decay"], ws=self._ws)
        return loss


def adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, *, amsgrad,
              beta1, beta2, lr, weight_decay, eps, maximize, decoupled_weight_decay,
              ws=None) -> None:
    """Adam update of backend arrays in place, in torch's operation order.

    ``state_steps`` are 0-d arrays, incremented here. ``ws`` is an optional Workspace.
    """
    scratch = scratch_fn(ws)
    w1 = 1 - beta1
    for i, p in enumerate(params):
        g = grads[i]
        m = exp_avgs[i]
        v = exp_avg_sqs[i]
        step_t = state_steps[i]
        step = step_t.item() + 1         # step_t += 1, without a 0-d ufunc call
        step_t.fill(step)
        if maximize:
            g = xp.negative(g, out=scratch(p, 2))
        if weight_decay != 0:
            if decoupled_weight_decay:
                p *= 1 - lr * weight_decay
            else:
                t = xp.multiply(p, weight_decay, out=scratch(p, 1))
                g = xp.add(g, t, out=scratch(p, 2))
        # m.lerp_(g, 1 - beta1); torch's lerp switches form at weight 0.5
        t = xp.subtract(g, m, out=scratch(p, 0))
        if w1 < 0.5:
            t *= w1
            m += t
        else:
            t *= 1 - w1
            xp.subtract(g, t, out=m)
        # v = beta2 * v + (1 - beta2) * g * g
        v *= beta2
        t = xp.multiply(g, 1 - beta2, out=scratch(p, 0))
        t *= g
        v += t
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        if amsgrad:
            xp.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
            v = max_exp_avg_sqs[i]
        denom = xp.sqrt(v, out=scratch(p, 0))
        denom /= bias_correction2_sqrt
        denom += eps
        # p.addcdiv_(m, denom, value=-step_size) computes p + (-step_size * m) / denom
        t = xp.multiply(m, -step_size, out=scratch(p, 1))
        t /= denom
        p += t
