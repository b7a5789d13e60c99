"""The loss functions of ``torch.nn.functional``; ``nn.functional`` re-exports them.

Each one validates its arguments as PyTorch does and ends in a primitive of ``ops/loss.py`` or
``ops/pointwise_loss.py``; the less common losses, composites of Tensor ops, are in
``_functional_loss_extra.py``. The legacy ``size_average``/``reduce`` arguments are accepted
and mapped to ``reduction`` with PyTorch's deprecation warning.
"""
from __future__ import annotations

import warnings

from .. import backend
from ..autograd.grad_mode import state as _grad_state
from ..ops import loss as _L, pointwise_loss as _P
from ..ops._common import binary_args

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
]

_RED = ("mean", "sum", "none")


def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` flags, with its warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' "
                  "instead.", stacklevel=3)
    return ret


def _reduction(reduction, size_average=None, reduce=None) -> str:
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    if reduction in _RED:
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _no_grad_arg(t, fn: str, arg: str) -> None:
    if t is not None and t._rg and _grad_state.enabled:
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                           f"'{arg}'. This input cannot have requires_grad True.")


def _broadcast_shape(*shapes) -> tuple:
    """``broadcast_shapes`` with PyTorch's error for mismatched sizes."""
    try:
        return tuple(backend.xp.broadcast_shapes(*shapes))
    except ValueError:
        a, b = shapes[0], shapes[-1]
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        i = next(i for i in range(n) if a[i] != b[i] and 1 not in (a[i], b[i]))
        raise RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b "
                           f"({b[i]}) at non-singleton dimension {i}") from None


def _fits(shape, into, what="") -> None:
    """Raise PyTorch's error when ``shape`` broadcast with ``into`` is larger than ``into``."""
    out = _broadcast_shape(into, shape)
    if out != tuple(into):
        raise RuntimeError(f"output with shape {list(into)} doesn't match the broadcast shape "
                           f"{list(out)}")


def _check_size(input, target) -> None:
    """PyTorch broadcasts a target of another shape, with a warning."""
    if target._data.shape != input._data.shape:
        _broadcast_shape(input._data.shape, target._data.shape)
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input size "
                      f"({input.size()}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weighted(loss, weight, input, reduction, mean_by_weight=True):
    """PyTorch's optional per-element ``weight`` of the regression losses (a composite)."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / weight.sum() if mean_by_weight else loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


# ---- regression losses ------------------------------------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target)^2``, optionally weighted. See ``nn.MSELoss``."""
    _check_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    x, t = binary_args(input, target)
    if weight is not None:
        return _weighted(_P.MseLoss.apply(x, t, "none"), weight, input, reduction)
    return _P.MseLoss.apply(x, t, reduction if reduction in _RED else _reduction(reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|``, optionally weighted. See ``nn.L1Loss``."""
    _check_size(input, target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    x, t = binary_args(input, target)
    if weight is not None:
        return _weighted(_P.L1Loss.apply(x, t, "none"), weight, input, reduction)
    return _P.L1Loss.apply(x, t, reduction if reduction in _RED else _reduction(reduction))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Squared error below ``beta``, absolute error above it. See ``nn.SmoothL1Loss``."""
    _check_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    x, t = binary_args(input, target)
    if beta == 0:
        return _P.L1Loss.apply(x, t, reduction)
    return _P.SmoothL1Loss.apply(x, t, reduction, float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Squared error below ``delta``, delta-scaled absolute error above it. See ``nn.HuberLoss``.

    Differs from torch: with input and target of different float dtypes, backward works (torch's
    forward returns the input's dtype, as here, but its backward raises).
    """
    _check_size(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    x, t = binary_args(input, target)
    if weight is not None:
        loss = _P.HuberLoss.apply(x, t, "none", float(delta))
        return _weighted(loss, weight, input, reduction, mean_by_weight=False)
    return _P.HuberLoss.apply(x, t, _reduction(reduction), float(delta))


# ---- classification losses --------------------------------------------------------------------
def _check_floating(input, kernel: str) -> None:
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{_L.tname(input._data.dtype)}'")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits and class indices or class probabilities.

    See ``nn.CrossEntropyLoss``. Class-index targets run one fused log-softmax + NLL primitive.

    Differs from torch: an out-of-range target's IndexError also names the class count; a (C,)
    input with a (1,) target, label smoothing and reduction='none' gives a 0-d loss (torch raises
    an internal shape error).
    """
    if reduction not in _RED or size_average is not None or reduce is not None:
        reduction = _reduction(reduction, size_average, reduce)
    x = input._data
    if x.dtype.kind != "f":
        _check_floating(input, "log_softmax_lastdim_kernel_impl")
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if x.shape == target._data.shape:
        return _cross_entropy_prob(input, target, weight, reduction, ignore_index,
                                   label_smoothing)
    if weight is not None:
        _no_grad_arg(weight, "nll_loss_forward", "weight")
    return _L.CrossEntropy.apply(input, target, weight, reduction, ignore_index,
                                 label_smoothing if label_smoothing > 0 else 0.0)


def _cross_entropy_prob(input, target, weight, reduction, ignore_index, label_smoothing):
    x, t = input._data, target._data
    if t.dtype.kind != "f":
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {_L.tname(t.dtype)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if x.ndim == 0:
        raise IndexError("Dimension specified as 1 but tensor has no dimensions")
    c = x.shape[1] if x.ndim > 1 else x.shape[0]
    if weight is not None and (weight.dim() != 1 or weight.numel() != c):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {c} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    return _L.CrossEntropyProb.apply(input, target, weight, reduction,
                                     label_smoothing if label_smoothing > 0 else 0.0)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class indices, given log-probabilities. See ``nn.NLLLoss``."""
    if reduction not in _RED or size_average is not None or reduce is not None:
        reduction = _reduction(reduction, size_average, reduce)
    if input._data.dtype.kind != "f":
        _check_floating(input, "nll_loss_out_frame")
    if weight is not None:
        _no_grad_arg(weight, "nll_loss_forward", "weight")
    return _L.NllLoss.apply(input, target, weight, reduction, ignore_index)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross-entropy between probabilities and targets. See ``nn.BCELoss``."""
    reduction = _reduction(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input "
                         f"size ({input.size()}) is deprecated. Please ensure they have the same "
                         "size.")
    if weight is not None:
        _fits(weight._data.shape, input._data.shape)
        _no_grad_arg(weight, "binary_cross_entropy", "weight")
    return _L.BinaryCrossEntropy.apply(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one numerically stable step.

    See ``nn.BCEWithLogitsLoss``.
    """
    reduction = _reduction(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    if pos_weight is not None:
        _fits(pos_weight._data.shape, input._data.shape)
        _no_grad_arg(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    if weight is not None:
        _fits(weight._data.shape, input._data.shape)
        _no_grad_arg(weight, "binary_cross_entropy_with_logits", "weight")
    return _L.BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence of ``target`` from ``input`` (log-probabilities).

    See ``nn.KLDivLoss``; ``reduction='batchmean'`` divides the sum by the batch size.
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    elif reduction != "batchmean":
        reduction = _reduction(reduction)
    if input._data.dtype.kind != "f" or target._data.dtype.kind != "f":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if reduction == "batchmean" and input._data.ndim == 0:
        reduction = "sum"
    return _P.KlDiv.apply(input, target, reduction, bool(log_target))


from ._functional_loss_extra import *  # noqa: E402,F401,F403
from ._functional_loss_extra import __all__ as _extra_all  # noqa: E402

__all__ += _extra_all
