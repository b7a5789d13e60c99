"""The less common loss functions of ``torch.nn.functional``, composed from Tensor ops:
Poisson and Gaussian NLL, the margin and embedding losses, multi-label soft margin, triplet.
"""
from __future__ import annotations

import math

from .. import backend
from ..autograd.grad_mode import no_grad
from ..ops.arith import minimum, where
from ..tensor import Tensor
from ._functional_loss import (
    _RED, _fits, _legacy_reduction, _no_grad_arg, _reduction, binary_cross_entropy_with_logits,
)

__all__ = [
    "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss",
    "soft_margin_loss", "hinge_embedding_loss", "multi_margin_loss", "multilabel_soft_margin_loss",
    "triplet_margin_loss",
]


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Negative log-likelihood of a Poisson target. See ``nn.PoissonNLLLoss``."""
    reduction = _reduction(reduction, size_average, reduce)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        # Stirling's approximation of log(target!), only where target > 1
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of a Gaussian target. See ``nn.GaussianNLLLoss``."""
    from ..creation import ones_like
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and
                  sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _RED:
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)     # NOTE: as in PyTorch, the gradient ignores this clamp
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---- margin losses --------------------------------------------------------------------------
def _zeros_like(t):
    return Tensor._make(backend.xp.zeros_like(t._data))


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(x1, x2)`` for target 1, ``max(0, cos(x1, x2) - margin)`` for target -1.

    See ``nn.CosineEmbeddingLoss``.
    """
    reduction = _reduction(reduction, size_average, reduce)
    d = target.ndim
    if d > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if (input1.ndim, input2.ndim) != ((2, 2) if d == 1 else (1, 1)):
        raise RuntimeError(f"{d}D target tensor expects {d + 1}D input tensors, but found inputs "
                           f"with sizes {list(input1.shape)} and {list(input2.shape)}.")
    prod = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + 1e-12
    mag2 = (input2 * input2).sum(d) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    zeros = _zeros_like(cos)
    loss = where(target == 1, 1 - cos, zeros) + \
        where(target == -1, (cos - margin).clamp(min=0), zeros)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """``max(0, -target * (x1 - x2) + margin)``. See ``nn.MarginRankingLoss``."""
    reduction = _reduction(reduction, size_average, reduce)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.size()}, input2: {input2.size()}, "
                           f"target: {target.size()} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-target * input))``. See ``nn.SoftMarginLoss``."""
    reduction = _reduction(reduction, size_average, reduce)
    _fits(target._data.shape, input._data.shape)
    _no_grad_arg(target, "soft_margin_loss", "target")
    return _reduce((-input * target).exp().log1p(), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """``x`` where the target is 1, ``max(0, margin - x)`` where it is -1.

    See ``nn.HingeEmbeddingLoss``.
    """
    reduction = _reduction(reduction, size_average, reduce)
    zeros = _zeros_like(input)
    loss = where(target != 1, (margin - input).clamp(min=0), zeros) + \
        where(target != -1, input, zeros)
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss ``sum_{j != y} max(0, margin - x[y] + x[j])^p / C``.

    See ``nn.MultiMarginLoss``.
    """
    reduction = _reduction(reduction, size_average, reduce)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    nd = input.ndim
    if nd > 2 or input.numel() == 0 and nd != 2:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(input.shape)}")
    x = input if nd == 2 else input.reshape(1, -1)
    n, c = x.shape
    if target.ndim > 1 or target.numel() != n:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the "
                           f"number of input samples (batch size). Expected target size [{n}], "
                           f"but got {list(target.shape)}. Input has shape {list(input.shape)}.")
    t = target._data.reshape(-1)
    if t.size and (t.min() < 0 or t.max() >= c):
        raise RuntimeError("target out of range")
    tt = Tensor._make(t.reshape(-1, 1))
    z = (margin - x.gather(1, tt) + x).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[tt]
    own = backend.xp.zeros((n, c), bool)
    own[backend.xp.arange(n), t] = True
    loss = z.masked_fill(Tensor._make(own), 0).sum(1) / c
    if reduction == "none":
        return loss if nd == 2 else loss.reshape(target.shape)
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Multi-label one-versus-all logistic loss, averaged over the C classes.

    See ``nn.MultiLabelSoftMarginLoss``.
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    # -(t log sigmoid(x) + (1 - t) log sigmoid(-x)) is the elementwise BCE with logits
    loss = binary_cross_entropy_with_logits(input, target, reduction="none")
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(dim=input.ndim - 1) / input.shape[-1]
    if reduction not in _RED:
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


def _pairwise_distance(x1, x2, p, eps):
    return (x1 - x2 + eps).norm(p, -1)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with the p-norm distance d.

    See ``nn.TripletMarginLoss``.
    """
    reduction = _reduction(reduction, size_average, reduce)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pd, nd = anchor.ndim, positive.ndim, negative.ndim
    if not a == pd == nd:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {pd}D, "
                           f"and negative {nd}D inputs")
    d_pos = _pairwise_distance(anchor, positive, p, eps)
    d_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, _pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)
