"""The less common loss modules: Poisson and Gaussian NLL, the margin and embedding losses,
multi-label soft margin and triplet margin (re-exported by ``loss.py``)."""
from __future__ import annotations

from .. import _functional_loss as F
from .loss import _Loss, _WeightedLoss

__all__ = [
    "PoissonNLLLoss", "GaussianNLLLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
    "SoftMarginLoss", "HingeEmbeddingLoss", "MultiMarginLoss", "MultiLabelSoftMarginLoss",
    "TripletMarginLoss",
]


class PoissonNLLLoss(_Loss):
    """Negative log-likelihood loss with a Poisson-distributed target.

    Args:
        log_input (bool, optional): the input is the log of the rate (loss exp(input) - target *
            input); else the rate itself (input - target * log(input + eps)). Default: True
        full (bool, optional): add Stirling's approximation of log(target!). Default: False
        eps (float, optional): avoids log(0) when ``log_input`` is False. Default: 1e-8
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Input: (*). Target: (*), same shape as the input.
        - Output: scalar; with reduction 'none', (*).
    """

    __constants__ = ["log_input", "full", "eps", "reduction"]

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Negative log-likelihood loss of a Gaussian target with predicted mean and variance.

    Args:
        full (bool, optional): include the constant 0.5 log(2 pi). Default: False
        eps (float, optional): the variance is clamped to at least ``eps``. Default: 1e-6
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Input: (N, *) or (*). Target: same as the input. Var: the input's shape, or with one
          dimension of size 1, or with the last dimension dropped.
        - Output: scalar; with reduction 'none', the input's shape.
    """

    __constants__ = ["full", "eps", "reduction"]

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """``1 - cos(x1, x2)`` where the target is 1, ``max(0, cos(x1, x2) - margin)`` where -1.

    Args:
        margin (float, optional): in [-1, 1]; 0 to 0.5 is suggested. Default: 0
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Input1, Input2: (N, D) or (D). Target: (N) or (), values 1 or -1.
        - Output: scalar; with reduction 'none', (N) or ().
    """

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """``max(0, -target * (x1 - x2) + margin)``: ranks x1 above x2 where the target is 1.

    Args:
        margin (float, optional): Default: 0
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Input1, Input2, Target: (N) or (), all with the same number of dimensions.
        - Output: scalar; with reduction 'none', (N) or ().
    """

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss ``log(1 + exp(-target * input))`` (targets 1 or -1).

    Args:
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Input: (*). Target: (*), same shape as the input.
        - Output: scalar; with reduction 'none', (*).
    """

    __constants__ = ["reduction"]

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``x`` where the target is 1, ``max(0, margin - x)`` where it is -1.

    Args:
        margin (float, optional): Default: 1.0
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Input: (*). Target: (*), same shape as the input.
        - Output: scalar; with reduction 'none', (*).
    """

    __constants__ = ["margin", "reduction"]

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss ``sum_{j != y} max(0, margin - x[y] + x[j])^p / C``.

    Args:
        p (int, optional): 1 or 2. Default: 1
        margin (float, optional): Default: 1.0
        weight (Tensor, optional): a manual rescaling weight per class, of size C.
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Input: (N, C) or (C). Target: (N) or (), class indices in [0, C).
        - Output: scalar; with reduction 'none', (N) or the target's shape.
    """

    __constants__ = ["p", "margin", "reduction"]

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None,
                 reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p != 1 and p != 2:
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got "
                             f"{weight.dim()}D instead")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-versus-all logistic loss, averaged over the classes.

    Args:
        weight (Tensor, optional): a manual rescaling weight per class, of size C.
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Input: (N, C). Target: (N, C), labels 0 or 1.
        - Output: scalar; with reduction 'none', (N).
    """

    __constants__ = ["reduction"]

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``max(0, margin + d(a, p) - d(a, n))`` with the pairwise p-norm distance d.

    Args:
        margin (float, optional): positive. Default: 1.0
        p (float, optional): the norm degree of the pairwise distance. Default: 2.0
        eps (float, optional): added to the differences for numerical stability. Default: 1e-6
        swap (bool, optional): use min(d(a, n), d(p, n)) as the negative distance. Default: False
        reduction (str, optional): 'none' | 'mean' | 'sum'. Default: 'mean'

    Shape:
        - Anchor, Positive, Negative: (N, D) or (D).
        - Output: scalar; with reduction 'none', (N) or ().
    """

    __constants__ = ["margin", "p", "eps", "swap", "reduction"]

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)
