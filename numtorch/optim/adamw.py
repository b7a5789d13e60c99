"""AdamW: Adam with decoupled weight decay."""
from __future__ import annotations

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """Implements AdamW: Adam whose weight decay shrinks the weights directly,
    ``p *= 1 - lr * weight_decay``, instead of entering the moment estimates.

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or dicts of parameter groups
        lr (float, Tensor): learning rate. Default: ``1e-3``
        betas (Tuple[float, float]): coefficients of the running averages of the gradient and
            its square. Default: ``(0.9, 0.999)``
        eps (float): term added to the denominator for numerical stability. Default: ``1e-8``
        weight_decay (float): weight decay coefficient. Default: ``1e-2``
        amsgrad (bool): use the AMSGrad variant. Default: ``False``
        maximize (bool): maximize the objective instead of minimizing. Default: ``False``
        foreach, capturable, differentiable, fused: accepted and stored in the groups.

    Differs from torch: as for :class:`Adam`, the implementation flags select no other kernel.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
