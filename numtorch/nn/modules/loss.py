"""Loss modules: thin stateful wrappers over the functional losses, with torch's constructors.

``reduction`` is 'mean' (default), 'sum' or 'none'; the deprecated ``size_average``/``reduce``
arguments are mapped to it with PyTorch's warning. Class weights are registered as buffers, as
in torch's ``_WeightedLoss``, so they appear in ``state_dict`` and follow ``.to()``/``.double()``.
The less common losses are in ``loss_extra.py`` and re-exported here.
"""
from __future__ import annotations

from .. import _functional_loss as F
from .module import Module

__all__ = [
    "L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "KLDivLoss",
]


class _Loss(Module):
    reduction: str

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = F._legacy_reduction(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """Mean absolute error between each element of the input and the target.

    Args:
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Input: (*), any number of dimensions. Target: (*), same shape as the input.
        - Output: scalar; with reduction 'none', (*), the same shape as the input.
    """

    __constants__ = ["reduction"]

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error between each element of the input and the target.

    Args:
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Input: (*). Target: (*), same shape as the input.
        - Output: scalar; with reduction 'none', (*).
    """

    __constants__ = ["reduction"]

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Squared error where the absolute error is below ``beta``, L1 error above it.

    Args:
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'
        beta (float, optional): where to change between L1 and L2 loss; non-negative. Default: 1.0

    Shape:
        - Input: (*). Target: (*), same shape as the input.
        - Output: scalar; with reduction 'none', (*).
    """

    __constants__ = ["reduction"]

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error where the absolute error is below ``delta``, delta-scaled L1 error above.

    Args:
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'
        delta (float, optional): where to change between delta-scaled L1 and L2 loss; positive.
            Default: 1.0

    Shape:
        - Input: (*). Target: (*), same shape as the input.
        - Output: scalar; with reduction 'none', (*).
    """

    __constants__ = ["reduction", "delta"]

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        if not isinstance(delta, (float, int)):
            raise TypeError(f"delta must be a float or int, got: {type(delta)}")
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy between unnormalised logits and class indices or class probabilities.

    Args:
        weight (Tensor, optional): a manual rescaling weight per class, of size C.
        ignore_index (int, optional): a class-index target value that is ignored and does not
            count in the 'mean' denominator. Default: -100
        reduction (str, optional): 'none' | 'mean' | 'sum'. With class indices, 'mean' divides
            by the total weight of the targets not ignored. Default: 'mean'
        label_smoothing (float, optional): in [0.0, 1.0]; the targets become a mix of the
            original targets and the uniform distribution. Default: 0.0

    Shape:
        - Input: (C), (N, C) or (N, C, d_1, ..., d_K).
        - Target: class indices (int64) of shape (), (N) or (N, d_1, ..., d_K), each in [0, C);
          or class probabilities (floating) of the input's shape.
        - Output: scalar; with reduction 'none', (), (N) or (N, d_1, ..., d_K).
    """

    __constants__ = ["ignore_index", "reduction", "label_smoothing"]

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices, given log-probabilities (e.g. log_softmax).

    Args:
        weight (Tensor, optional): a manual rescaling weight per class, of size C.
        ignore_index (int, optional): a target value that is ignored. Default: -100
        reduction (str, optional): 'none' | 'mean' | 'sum'; 'mean' divides by the total weight
            of the targets not ignored. Default: 'mean'

    Shape:
        - Input: (C), (N, C) or (N, C, d_1, ..., d_K). Target: (), (N) or (N, d_1, ..., d_K),
          int64 class indices in [0, C).
        - Output: scalar; with reduction 'none', the target's shape (() for a (C) input).
    """

    __constants__ = ["ignore_index", "reduction"]

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy between probabilities and targets; each log is clamped at -100.

    Args:
        weight (Tensor, optional): a manual rescaling weight, broadcast to the input's shape.
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Input: (*), values in [0, 1]. Target: (*), same shape as the input.
        - Output: scalar; with reduction 'none', (*).
    """

    __constants__ = ["reduction"]

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one numerically stable loss.

    Args:
        weight (Tensor, optional): a manual rescaling weight, broadcast to the input's shape.
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'
        pos_weight (Tensor, optional): a weight of positive examples, broadcast along the last
            dimension (one per class). Registered as a buffer.

    Shape:
        - Input: (*), logits. Target: (*), same shape as the input.
        - Output: scalar; with reduction 'none', (*).
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence loss; the input holds log-probabilities.

    Args:
        reduction (str, optional): 'none' | 'batchmean' | 'sum' | 'mean'. 'batchmean' divides
            the sum by the batch size (the KL divergence); 'mean' divides by every element and
            warns, as in torch. Default: 'mean'
        log_target (bool, optional): whether the target is given in log-space. Default: False

    Shape:
        - Input: (*). Target: (*), same shape as the input.
        - Output: scalar; with reduction 'none', (*).
    """

    __constants__ = ["reduction"]

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


from .loss_extra import *  # noqa: E402,F401,F403
from .loss_extra import __all__ as _extra_all  # noqa: E402

__all__ += _extra_all
