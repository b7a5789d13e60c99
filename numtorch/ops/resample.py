"""Resampling primitive: separable interpolation (nearest, linear, cubic) of the trailing axes."""
from __future__ import annotations

from ..autograd.function import Context, Function

xp = Context.xp


class Resample(Function):
    """Interpolate the trailing ``len(taps)`` axes, one axis at a time (the last first).

    ``taps[i]`` is ``(indices, weights)`` for spatial axis i: lists of arrays over that axis'
    output positions; output ``o`` is ``sum_t weights[t][o] * x[indices[t][o]]``, or
    ``x[indices[0][o]]`` when ``weights`` is None (nearest). The backward applies the transposed
    (output x input) weight matrix of each axis.
    """

    @staticmethod
    def forward(ctx: Context, x, taps):
        a = x
        nd = len(taps)
        for i in range(nd - 1, -1, -1):
            idxs, ws = taps[i]
            ax = i - nd
            if ws is None:
                a = xp.take(a, idxs[0], axis=ax)
                continue
            shape = (-1,) + (1,) * (-ax - 1)
            acc = None
            for ii, ww in zip(idxs, ws):
                t = xp.take(a, ii, axis=ax)
                t *= ww.reshape(shape)
                if acc is None:
                    acc = t
                else:
                    acc += t
            a = acc
        ctx.taps, ctx.shape = taps, x.shape
        return a

    @staticmethod
    def backward(ctx: Context, gy):
        g = gy
        nd = len(ctx.taps)
        for i, (idxs, ws) in enumerate(ctx.taps):
            ax = i - nd
            n = ctx.shape[ax]
            o = len(idxs[0])
            m = xp.zeros((o, n), g.dtype)
            rows = xp.arange(o)
            for t, ii in enumerate(idxs):
                xp.add.at(m, (rows, ii), 1 if ws is None else ws[t])
            g = xp.moveaxis(xp.matmul(xp.moveaxis(g, ax, -1), m), -1, ax)
        return g
