"""Fused scaled dot-product attention: softmax(q k^T * scale + bias) (dropout) v in one primitive.

One primitive instead of six (matmul, scale, add, softmax, dropout, matmul) keeps one (..., L, S)
score buffer that is scaled, biased, exponentiated and normalised in place, sums rows with BLAS,
and gives fully masked rows zeros (torch's "safe softmax") at no extra pass. Forward + backward on
(32, 4, 64, 32) heads: 5-18% less single-thread CPU time than the composite (6.8-7.9 ms against
7.5-8.9 ms); the batched matmuls are most of the rest.
"""
from __future__ import annotations

import math

from ..autograd.function import Context, Function
from ..backend.threads import matmul as _mm
from ..backend import random as _random

xp = Context.xp


def softmax_rows_(s, masked: bool):
    """Softmax over the last axis of ``s``, in place; rows that are entirely -inf give zeros
    (torch's "safe softmax" of SDPA) when ``masked`` says -inf entries may occur."""
    m = s.max(axis=-1, keepdims=True)
    dead = None
    if masked:
        dead = xp.isneginf(m)
        if dead.any():
            m[dead] = 0  # exp(-inf - 0) = 0: the row's numerators vanish
        else:
            dead = None
    s -= m
    xp.exp(s, out=s)
    n = s.shape[-1]
    # NOTE: row sums as one matrix-vector product: BLAS is ~5x faster than sum(-1) on short rows
    d = (s.reshape(-1, n) @ xp.ones(n, s.dtype)).reshape(m.shape)
    if dead is not None:
        d[dead] = 1
    s /= d
    return s


class ScaledDotProductAttention(Function):
    """y = dropout(softmax(q @ k^T * scale + bias)) @ v over the last two axes, batch axes
    broadcast; ``keep`` is the dropout multiplier (0 or 1/(1-p)) or None, ``bias`` an additive
    float mask (-inf where masked) or None.

    With p = softmax(.), d = p * keep and gs the gradient of the scores:
    gv = d^T gy, gd = gy v^T, gp = gd * keep, gs = p * (gp - sum(gp * p, -1)),
    gq = gs k * scale, gk = gs^T q * scale, gbias = gs.
    """

    @staticmethod
    def forward(ctx: Context, q, k, v, bias, keep, scale):
        s = _mm(q, xp.swapaxes(k, -1, -2))
        s *= s.dtype.type(scale)
        if bias is not None:
            try:
                s += bias
            except ValueError:  # the mask has more batch dimensions than q k^T
                s = s + bias
        if s.shape[-1]:
            softmax_rows_(s, bias is not None)
        y = _mm(s if keep is None else s * keep, v)
        ctx.scale = scale
        ctx.save_for_backward(q, k, v, s, keep)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        q, k, v, p, keep = ctx.saved_tensors
        need = ctx.needs_input_grad
        t = p.dtype.type
        gv = None
        if need[2]:
            d = p if keep is None else p * keep
            gv = _mm(xp.swapaxes(d, -1, -2), gy)
        if not (need[0] or need[1] or need[3]):
            return None, None, gv, None, None, None
        gs = _mm(gy, xp.swapaxes(v, -1, -2))
        if keep is not None:
            gs *= keep
        gs -= xp.einsum("...i,...i->...", gs, p)[..., None]
        gs *= p
        gq = gk = None
        if need[0]:
            gq = _mm(gs, k)
            gq *= t(ctx.scale)
        if need[1]:
            gk = _mm(xp.swapaxes(gs, -1, -2), q)
            gk *= t(ctx.scale)
        return gq, gk, gv, (gs if need[3] else None), None, None


def keep_mask(shape, p, dtype):
    """Dropout multiplier of ``shape``: 0 with probability ``p``, else 1/(1-p).

    NOTE: drawn as raw 32-bit words (two per 64-bit output of the bit generator), twice as
    fast as uniform floats and finer (p resolved to 2**-32 rather than float32's 2**-24).
    """
    if p >= 1.0:
        return xp.zeros(shape, dtype)
    n = math.prod(shape)
    bits = _random.gen(None).bit_generator.random_raw((n + 1) // 2).view(xp.uint32)[:n]
    keep = bits >= xp.uint32(min(round(p * 2.0 ** 32), 2 ** 32 - 1))
    return xp.multiply(keep, dtype.type(1.0 / (1.0 - p)), dtype=dtype).reshape(shape)


def causal_bias(L, S, dtype):
    """-inf above the diagonal of an (L, S) matrix (upper-left aligned, as torch)."""
    return xp.triu(xp.full((L, S), -math.inf, dtype), 1)


def attend(q, k, v, bias, dropout_p, scale):
    """``ScaledDotProductAttention`` on Tensors (``bias`` a float Tensor or None), with the
    dropout mask drawn from numtorch's generator when ``dropout_p`` > 0."""
    keep = None
    if dropout_p > 0.0:
        qa, ka = q._data, k._data
        batch = xp.broadcast_shapes(qa.shape[:-2], ka.shape[:-2])
        if bias is not None:
            batch = xp.broadcast_shapes(batch, bias._data.shape[:-2])
        keep = keep_mask(batch + (qa.shape[-2], ka.shape[-2]), dropout_p, qa.dtype)
    return ScaledDotProductAttention.apply(q, k, v, bias, keep, scale)
