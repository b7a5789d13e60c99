"""Elementwise loss primitives: MSE, L1, smooth L1, Huber and KL divergence, each reduced in place.

``reduction`` is "mean", "sum" or "none" ("batchmean" too for KL); nn.functional validates it.
Inputs broadcast; gradients are returned in the broadcast shape and the engine sums them down.
"""
from __future__ import annotations

from ..autograd.function import Context, Function
from .loss import _NAN, _reduce, _scale


class KlDiv(Function):
    """loss = t (log t - x) (0 where t = 0), or e^t (t - x) for log-space targets.

    d/dx = -t (or -e^t);  d/dt = log t + 1 - x (or e^t (t - x + 1)); NaN at t = 0, as PyTorch.
    'batchmean' divides the sum by the batch size x.shape[0].
    """

    @staticmethod
    def forward(ctx: Context, x, t, reduction, log_target):
        xp_ = ctx.xp
        if log_target:
            et = xp_.exp(t)
            l = et * (t - x)
        else:
            et = None
            with xp_.errstate(divide="ignore", invalid="ignore"):
                l = xp_.where(t == 0, 0, t * xp_.log(t)) - t * x
        ctx.save_for_backward(x, t, et)
        ctx.reduction = reduction
        if reduction == "batchmean":
            ctx.n = x.shape[0]
            return l.sum() / ctx.n
        ctx.n = l.size
        return _reduce(l, reduction)

    @staticmethod
    def backward(ctx: Context, gy):
        x, t, et = ctx.saved_tensors
        xp_ = ctx.xp
        g = gy / ctx.n if ctx.reduction in ("mean", "batchmean") and ctx.n else gy
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = -(t if et is None else et) * g
        if ctx.needs_input_grad[1]:
            if et is not None:
                gt = et * (t - x + 1) * g
            else:
                with xp_.errstate(divide="ignore", invalid="ignore"):
                    gt = xp_.where(t == 0, _NAN, xp_.log(t) + 1 - x) * g
        return gx, gt, None, None


class MseLoss(Function):
    """loss = (x - t)^2; d/dx = 2 (x - t) = -d/dt, computed as torch does: (x - t) * norm * gy
    with norm = 2 / n (mean) or 2, rounded to the input's dtype (bit-exact)."""

    @staticmethod
    def forward(ctx: Context, x, t, reduction):
        d = x - t
        ctx.save_for_backward(d)
        ctx.reduction = reduction
        return _reduce(d * d, reduction)

    @staticmethod
    def backward(ctx: Context, gy):
        (d,) = ctx.saved_tensors
        n = d.size
        g = d * d.dtype.type(2.0 / n if ctx.reduction == "mean" and n else 2.0)
        g *= gy
        return g, (-g if ctx.needs_input_grad[1] else None), None


class L1Loss(Function):
    """loss = |x - t|; d/dx = sign(x - t) = -d/dt (0 at x = t, as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x, t, reduction):
        d = x - t
        ctx.save_for_backward(d)
        ctx.reduction = reduction
        return _reduce(ctx.xp.abs(d), reduction)

    @staticmethod
    def backward(ctx: Context, gy):
        (d,) = ctx.saved_tensors
        g = ctx.xp.sign(d) * _scale(gy, ctx.reduction, d.size)
        return g, (-g if ctx.needs_input_grad[1] else None), None


class SmoothL1Loss(Function):
    """loss = 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = x - t, beta > 0);
    d/dx = clip(d / beta, -1, 1) = -d/dt."""

    @staticmethod
    def forward(ctx: Context, x, t, reduction, beta):
        xp_ = ctx.xp
        d = x - t
        ad = xp_.abs(d)
        l = xp_.where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta)
        ctx.save_for_backward(d)
        ctx.reduction, ctx.beta = reduction, beta
        return _reduce(l, reduction)

    @staticmethod
    def backward(ctx: Context, gy):
        (d,) = ctx.saved_tensors
        g = ctx.xp.clip(d / ctx.beta, -1, 1) * _scale(gy, ctx.reduction, d.size)
        return g, (-g if ctx.needs_input_grad[1] else None), None, None


class HuberLoss(Function):
    """loss = 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = x - t);
    d/dx = clip(d, -delta, delta) = -d/dt. The output has the input's dtype (as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x, t, reduction, delta):
        xp_ = ctx.xp
        d = x - t
        ad = xp_.abs(d)
        l = xp_.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
        ctx.save_for_backward(d)
        ctx.reduction, ctx.delta = reduction, delta
        return _reduce(l, reduction).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, gy):
        (d,) = ctx.saved_tensors
        g = ctx.xp.clip(d, -ctx.delta, ctx.delta) * _scale(gy, ctx.reduction, d.size)
        return g, (-g if ctx.needs_input_grad[1] else None), None, None
