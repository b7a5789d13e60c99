"""Normalisation primitives: batch norm (batch statistics and running statistics), layer norm and
group norm, each fused: the forward saves the centred input and the inverse standard deviation,
and the backward is the closed-form gradient, not a chain of composites.

Speed notes (NumPy, float32, measured on 2 cores): batch norm works on a (N, C, M) view of an
(N, C, *) input and reduces over axes (0, 2) with ``einsum`` / ``vecdot``, several times faster
than ``sum(axis=(0, 2))`` and as accurate. Per-channel factors multiply a large (N, C, M) array as
a contiguous (C, M) copy: NumPy broadcasts that along N at full speed, a (C, 1) one about twice as
slowly. ``gx -= x * k + c`` goes block by block through a small buffer (``_sub_affine``) rather
than through a full-size temporary. Layer norm normalises the rows of a (R, D) view; group norm
folds its per-group statistics and per-channel affine into per-(sample, channel) factors.
"""
from __future__ import annotations

from ..autograd.function import Context, Function

xp = Context.xp

_SUM = {2: "nc->c", 3: "ncm->c"}
_vecdot = getattr(xp, "vecdot", None)  # NumPy >= 2: a dot loop along the last axis


def _rowdot(a, b):
    """sum(a * b) along the last axis, without the product array."""
    if _vecdot is not None:
        return _vecdot(a, b)
    return xp.einsum("...i,...i->...", a, b)


def _chandot(a, b):
    """sum(a * b) over every axis but 1 of (N, C) or (N, C, M) arrays."""
    if a.ndim == 2:
        return xp.einsum("nc,nc->c", a, b)
    return _rowdot(a, b).sum(axis=0)


def _ncm(shape):
    """(N, C, M) of an (N, C, *) shape, M the product of *."""
    m = 1
    for d in shape[2:]:
        m *= d
    return shape[0], shape[1], m


def _channels(x):
    """(N, C) inputs as they are, (N, C, *) ones as a (N, C, M) view (a copy if not viewable)."""
    if x.ndim == 2:
        return x
    return x.reshape(_ncm(x.shape))


def _per_channel(v, x3):
    """Per-channel vector ``v`` (C,) shaped to multiply ``x3`` at full speed: (C,) for (N, C),
    a contiguous (C, M) copy for a large (N, C, M) (a (C, 1) view where that would not repay)."""
    if x3.ndim == 2:
        return v
    if x3.size < 32768 or x3.shape[0] < 4:
        return v[:, None]
    return v.repeat(x3.shape[2]).reshape(v.shape[0], -1)


_BLOCK = 65536  # elements per block of _sub_affine's buffer (256 KiB of float32)


def _sub_affine(gx, x, k, c=None, rows=False):
    """gx -= x * k + c without a full-size temporary: block by block along axis 0 through a
    small buffer (a large temporary costs a pass over memory and, freed and reallocated at
    every step, page faults). With ``rows``, ``k`` and ``c`` are sliced along axis 0 too."""
    n = x.shape[0]
    per = x.size // n if n else 1
    step = max(1, _BLOCK // max(per, 1))
    buf = xp.empty((min(step, n),) + x.shape[1:], x.dtype)
    for i in range(0, n, step):
        j = min(i + step, n)
        t = buf[:j - i]
        xp.multiply(x[i:j], k[i:j] if rows else k, out=t)
        if c is not None:
            t += c[i:j] if rows else c
        gx[i:j] -= t


class BatchNorm(Function):
    """Batch norm with batch statistics: y = (x - mean) / sqrt(var + eps) * w + b per channel.

    mean and the biased var are taken over every axis but 1. ``rm``/``rv`` (arrays or None) are
    updated in place: r = (1 - momentum) * r + momentum * stat, with the unbiased variance.
    Backward, with xhat = (x - mean) * inv_std, a = w * inv_std and n values per channel:
    dx = a * (gy - sum(gy) / n - xhat * sum(gy * xhat) / n), dw = sum(gy * xhat), db = sum(gy).
    """

    @staticmethod
    def forward(ctx: Context, x, w, b, rm, rv, momentum, eps):
        shape = x.shape
        x3 = _channels(x)
        c = shape[1]
        n = x3.size // c if c else 0
        if n == 0:  # NOTE: as in torch, an empty batch leaves the running statistics alone
            ctx.save_for_backward(x3, xp.zeros(c, x.dtype), w)
            return x.copy()
        mean = xp.einsum(_SUM[x3.ndim], x3)
        mean /= n
        xc = x3 - _per_channel(mean, x3)
        var = _chandot(xc, xc)
        var /= n
        if rm is not None:
            rm *= 1 - momentum
            rm += momentum * mean
            rv *= 1 - momentum
            rv += (momentum * n / max(n - 1, 1)) * var
        inv = var
        inv += eps
        xp.sqrt(inv, out=inv)
        xp.divide(1, inv, out=inv)
        y = xc * _per_channel(inv if w is None else inv * w, x3)
        if b is not None:
            y += _per_channel(b, x3)
        ctx.save_for_backward(xc, inv, w)
        return y.reshape(shape)

    @staticmethod
    def backward(ctx: Context, gy):
        xc, inv, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gy3 = gy.reshape(xc.shape)
        n = xc.size // xc.shape[1] if xc.shape[1] else 0
        if n == 0:
            gb = xp.zeros_like(inv)
            return gy.copy(), gb, gb, None, None, None, None
        sg = xp.einsum(_SUM[gy3.ndim], gy3)
        sgx = _chandot(gy3, xc)
        gx = None
        if need[0]:
            a = inv if w is None else inv * w
            k = a * inv * inv * sgx
            k /= n
            gx = gy3 * _per_channel(a, xc)
            _sub_affine(gx, xc, _per_channel(k, xc), _per_channel(a * sg / n, xc))
            gx = gx.reshape(gy.shape)
        gw = sgx * inv if need[1] else None
        return gx, gw, sg if need[2] else None, None, None, None, None


class BatchNormEval(Function):
    """Batch norm with given (running) statistics: the per-channel affine map
    y = x * scale + shift, scale = w / sqrt(rv + eps), shift = b - rm * scale.
    Backward: dx = gy * scale, dw = sum(gy * (x - rm)) / sqrt(rv + eps), db = sum(gy)."""

    @staticmethod
    def forward(ctx: Context, x, w, b, rm, rv, eps):
        x3 = _channels(x)
        inv = rv + eps
        xp.sqrt(inv, out=inv)
        xp.divide(1, inv, out=inv)
        scale = inv if w is None else inv * w
        shift = -rm * scale
        if b is not None:
            shift += b
        y = x3 * _per_channel(scale, x3)
        y += _per_channel(shift, x3)
        ctx.save_for_backward(x, scale, inv, rm.copy())  # x itself: in-place changes are caught
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx: Context, gy):
        x, scale, inv, rm = ctx.saved_tensors
        need = ctx.needs_input_grad
        x3 = _channels(x)
        gy3 = gy.reshape(x3.shape)
        gx = (gy3 * _per_channel(scale, x3)).reshape(gy.shape) if need[0] else None
        gw = gb = None
        if need[1]:
            xc = x3 - _per_channel(rm, x3)
            gw = _chandot(gy3, xc) * inv
        if need[2]:
            gb = xp.einsum(_SUM[x3.ndim], gy3)
        return gx, gw, gb, None, None, None


# ---- rows: layer norm and group norm -----------------------------------------------------------
def _rows_forward(x2, eps):
    """Normalise each row of a (R, D) array: returns (xhat, inv_std) with inv_std of shape (R,)."""
    d = x2.shape[1]
    mean = xp.einsum("rd->r", x2)
    mean /= d
    xhat = x2 - mean[:, None]
    var = _rowdot(xhat, xhat)
    var /= d
    inv = var
    inv += eps
    xp.sqrt(inv, out=inv)
    xp.divide(1, inv, out=inv)
    xhat *= inv[:, None]
    return xhat, inv


def _rows_backward(gxhat, xhat, inv):
    """dx of row normalisation from the gradient w.r.t. xhat (overwrites ``gxhat``):
    dx = inv * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)) along each row."""
    d = xhat.shape[1]
    m1 = xp.einsum("rd->r", gxhat)
    m1 /= d
    m2 = _rowdot(gxhat, xhat)
    m2 /= d
    _sub_affine(gxhat, xhat, m2[:, None], m1[:, None], rows=True)
    gxhat *= inv[:, None]
    return gxhat


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b over the trailing ``normalized_shape`` of each
    sample (``w``, ``b`` of that shape, or None). dx is row-normalisation backward of gy * w
    (see _rows_backward); dw = sum over rows of gy * xhat, db = sum over rows of gy."""

    @staticmethod
    def forward(ctx: Context, x, w, b, normalized_shape, eps):
        ctx.pshape = normalized_shape
        d = 1
        for s in normalized_shape:
            d *= s
        x2 = x.reshape(-1, d)
        xhat, inv = _rows_forward(x2, eps)
        if w is not None:
            y = xhat * w.reshape(d)
            if b is not None:
                y += b.reshape(d)
        elif b is not None:
            y = xhat + b.reshape(d)
        else:
            y = xhat.copy()  # xhat is saved: the output may be modified in place
        ctx.save_for_backward(xhat, inv, w)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx: Context, gy):
        xhat, inv, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gy2 = gy.reshape(xhat.shape)
        gw = gb = gx = None
        if need[1]:
            gw = xp.einsum("rd,rd->d", gy2, xhat).reshape(ctx.pshape)
        if need[2]:
            gb = xp.einsum("rd->d", gy2).reshape(ctx.pshape)
        if need[0]:
            gxhat = gy2 * w.reshape(-1) if w is not None else gy2.copy()
            gx = _rows_backward(gxhat, xhat, inv).reshape(gy.shape)
        return gx, gw, gb, None, None


class GroupNorm(Function):
    """Group norm: x (N, C, *) is normalised over each of ``g`` groups of C/g channels (and all
    of *), then scaled and shifted per channel by ``w``, ``b`` (C,) or None.

    With xc = x - mean, inv = 1/sqrt(var + eps) per (sample, group) and K values per group,
    everything folds into per-(sample, channel) factors: y = xc * (inv * w) + b, and with
    S1 = sum(gy), S2 = sum(gy * xc) over * per (sample, channel),
    m1 = sum_group(w * S1) / K, m2 = inv * sum_group(w * S2) / K:
    dx = gy * (inv * w) - xc * (inv^2 * m2) - inv * m1, dw = sum_N(inv * S2), db = sum_N(S1).
    """

    @staticmethod
    def forward(ctx: Context, x, w, b, g, eps):
        n, c, m = _ncm(x.shape)
        k = c // g * m
        x2 = x.reshape(n * g, k)
        mean = xp.einsum("rd->r", x2)
        mean /= k
        xc = x2 - mean[:, None]
        inv = _rowdot(xc, xc)
        inv /= k
        inv += eps
        xp.sqrt(inv, out=inv)
        xp.divide(1, inv, out=inv)
        inv_c = _group_to_channels(inv, n, c, g)
        xc3 = xc.reshape(n, c, m) if m > 1 else xc.reshape(n, c)
        y = xc3 * _nc(inv_c if w is None else inv_c * w, m)
        if b is not None:
            y += _per_channel(b, xc3) if m > 1 else b
        ctx.save_for_backward(xc3, inv, w)
        ctx.g = g
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx: Context, gy):
        xc3, inv, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        g = ctx.g
        gy3 = gy.reshape(xc3.shape)
        n, c = xc3.shape[0], xc3.shape[1]
        m = xc3.shape[2] if xc3.ndim == 3 else 1
        if m > 1:
            s1 = xp.einsum("ncm->nc", gy3)
            s2 = _rowdot(gy3, xc3)
        else:
            s1, s2 = gy3, gy3 * xc3
        inv_c = _group_to_channels(inv, n, c, g)
        gw = (s2 * inv_c).sum(axis=0) if need[1] else None
        gb = s1.sum(axis=0) if need[2] else None
        gx = None
        if need[0]:
            k = c // g * m
            if w is not None:
                s1 = s1 * w
                s2 = s2 * w
            m1 = s1.reshape(n, g, c // g).sum(axis=2).reshape(-1)
            m2 = s2.reshape(n, g, c // g).sum(axis=2).reshape(-1)
            m1 *= inv / k
            m2 *= inv * inv * inv / k
            a = inv_c if w is None else inv_c * w
            gx = gy3 * _nc(a, m)
            _sub_affine(gx, xc3, _nc(_group_to_channels(m2, n, c, g), m),
                        _nc(_group_to_channels(m1, n, c, g), m), rows=True)
            gx = gx.reshape(gy.shape)
        return gx, gw, gb, None, None


def _group_to_channels(v, n, c, g):
    """A per-(sample, group) vector (N * g,) as a per-(sample, channel) array (N, C)."""
    if g == c:
        return v.reshape(n, c)
    return v.reshape(n, g, 1).repeat(c // g, axis=2).reshape(n, c)


def _nc(f, m):
    """Per-(sample, channel) factors (N, C) shaped to multiply (N, C, M) or, for M = 1, (N, C)."""
    return f[:, :, None] if m > 1 else f
