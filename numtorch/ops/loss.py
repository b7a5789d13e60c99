"""Classification loss primitives: fused cross-entropy (log-softmax + NLL) over class indices or
class probabilities, NLL, and binary cross-entropy with and without logits. The elementwise losses
(MSE, L1, smooth L1, Huber, KL divergence) are in ``pointwise_loss.py``.

``reduction`` is "mean", "sum" or "none" (nn.functional validates it). The class losses take
(N, C), (N, C, d1, ...) or unbatched (C,) inputs and work on a 2-D layout of the M = N * d1 * ...
samples (see ``_layout``).
"""
from __future__ import annotations

from .. import backend
from ..autograd.function import Context, Function

xp = backend.xp
_NAN = float("nan")
_INT64, _UINT8, _UINT64 = xp.dtype("int64"), xp.dtype("uint8"), xp.dtype("uint64")
_TNAME = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
          "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_aranges: dict = {}


def tname(npd) -> str:
    """PyTorch's scalar-type name of a NumPy dtype ("Float", "Long", ...)."""
    return _TNAME.get(xp.dtype(npd).name, str(npd))


def _arange(n: int):
    a = _aranges.get(n)
    if a is None:
        if len(_aranges) > 32:
            _aranges.clear()
        a = _aranges[n] = xp.arange(n)
    return a


_SUM_MEAN = (xp.dtype(xp.float32), xp.dtype(xp.float64))
_add_reduce = xp.add.reduce


def _reduce(l, reduction: str):
    if reduction == "mean":
        n = l.size
        if n and l.dtype in _SUM_MEAN:   # what mean() computes, without NumPy's Python wrapper
            return _add_reduce(l, axis=None) / n
        return l.mean() if n else xp.full((), _NAN, l.dtype)
    if reduction == "sum":
        return l.sum()
    return l


def _scale(gy, reduction: str, n: int):
    """The upstream gradient of each loss element."""
    return gy / n if reduction == "mean" and n else gy


def _layout(x, small: int = 32):
    """The input as a 2-D array of logits and its class axis.

    Few classes or extra dims: class-major (C, M), since NumPy reduces fast across a leading axis
    but pays per row along a short last one; otherwise sample-major (M, C), as (N, C) is stored.
    """
    nd = x.ndim
    if nd == 2:
        return (x, 1) if x.shape[1] > small else (xp.ascontiguousarray(x.T), 0)
    if nd == 1:
        return x.reshape(-1, 1), 0
    return xp.moveaxis(x, 1, 0).reshape(x.shape[1], -1), 0


def _unlayout(g, ca: int, shape):
    """Inverse of ``_layout``: a gradient back to the input's shape."""
    if ca == 1:
        return g
    nd = len(shape)
    if nd == 2:
        return g.T
    if nd == 1:
        return g.reshape(shape)
    return xp.moveaxis(g.reshape((shape[1], shape[0]) + shape[2:]), 0, 1)


def _per_sample(v, ca: int):
    """A per-sample vector (or 0-d factor) shaped to broadcast against the 2-D layout."""
    return v.reshape(-1, 1) if ca and v.ndim else v


def _per_class(w, ca: int):
    return w if ca else w.reshape(-1, 1)


def _pick(a, T, ca: int):
    """a[sample, T[sample]] for every sample."""
    return a[_arange(T.shape[0]), T] if ca else a[T, _arange(T.shape[0])]


def check_class_target(x, t, w) -> None:
    """PyTorch's checks of a class-index target (nll_loss_nd), in PyTorch's order."""
    nd = x.ndim
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd != 1 and (t.ndim == 0 or x.shape[0] != t.shape[0]):
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
                         f"({t.shape[0] if t.ndim else 0}).")
    if nd <= 2:
        if t.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd == 1 and t.ndim == 1 and t.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: "
                             f"{t.shape[0]}")
    elif t.shape != (x.shape[0],) + x.shape[2:]:
        raise RuntimeError(f"Expected target size {list((x.shape[0],) + x.shape[2:])}, got "
                           f"{list(t.shape)}")
    if w is not None:
        c = x.shape[1] if nd > 1 else x.shape[0]
        if w.ndim != 1 or w.shape[0] != c:
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                               f"classes but got weight tensor of shape: {list(w.shape)}")
        if w.dtype != x.dtype:
            raise RuntimeError(f"expected scalar type {tname(x.dtype)} but found "
                               f"{tname(w.dtype)}")
    if t.dtype != _INT64:
        if t.dtype != _UINT8:
            raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                               f"{tname(t.dtype)}")
        if nd > 2:
            raise RuntimeError("expected scalar type Long but found Byte")


def _class_targets(t, c: int, w, ignore_index: int, dtype):
    """Flat targets safe to index with, per-sample weights (0 where ignored; None when all are 1)
    and the ignore mask (None when nothing is ignored). Raises IndexError for a bad target."""
    T = t.reshape(-1)
    oob = (T.view(_UINT64) if T.dtype == _INT64 else T) >= c   # negatives wrap to huge
    ign = None
    if xp.count_nonzero(oob):
        ign = T == ignore_index
        bad = oob & ~ign
        if xp.count_nonzero(bad):
            raise IndexError(f"Target {int(T[bad][0])} is out of bounds for {c} classes.")
    elif 0 <= ignore_index < c:
        ign = T == ignore_index
    if ign is not None and not xp.count_nonzero(ign):
        ign = None
    if ign is None:
        return T, (None if w is None else w[T]), None
    T = xp.where(ign, 0, T)
    wt = (~ign).astype(dtype) if w is None else xp.where(ign, 0, w[T])
    return T, wt, ign


def _class_reduce(ctx, l, wt, reduction, shape):
    """Reduce per-sample losses; 'mean' divides by the total weight of the targets not ignored."""
    if reduction == "none":
        return l.reshape(shape)
    total = l.sum()
    if reduction == "sum":
        return total
    denom = l.shape[0] if wt is None else wt.sum()
    ctx.denom = denom
    return total / denom if denom else xp.full((), _NAN, l.dtype)


def _sample_coef(ctx, gy):
    """The per-sample (or shared 0-d) upstream factor; NaN after a 'mean' over zero weight
    (as in PyTorch, samples that are ignored still get a zero gradient)."""
    if ctx.reduction == "none":
        return gy.reshape(-1)
    if ctx.reduction == "sum":
        return gy
    return gy / ctx.denom if ctx.denom else gy * _NAN


class CrossEntropy(Function):
    """Fused log-softmax + negative log-likelihood over class indices.

    loss_i = (1 - eps) w[t_i] (lse_i - x_i[t_i]) + (eps / C) sum_c w_c (lse_i - x_ic), with
    lse_i = log sum_c exp(x_ic); d loss_i / d x_i = (1 - eps) w[t_i] (p_i - onehot(t_i))
    + (eps / C) (W p_i - w), p = softmax(x), W = sum(w). Ignored targets contribute nothing.
    """

    @staticmethod
    def forward(ctx: Context, x, t, w, reduction, ignore_index, label_smoothing):
        check_class_target(x, t, w)
        X, ca = _layout(x)
        c = X.shape[ca]
        T, wt, ign = _class_targets(t, c, w, ignore_index, x.dtype)
        z = X - X.max(axis=ca, keepdims=True)
        p = ctx.xp.exp(z)
        s = p.sum(axis=ca, keepdims=True)
        p /= s
        lse = ctx.xp.log(s).reshape(-1)
        l = lse - _pick(z, T, ca)
        if wt is not None:
            l *= wt
        eps = label_smoothing
        if eps > 0:
            if w is None:
                sm = c * lse - z.sum(axis=ca)
            else:
                sm = w.sum() * lse - (z @ w if ca else w @ z)
            if ign is not None:
                sm[ign] = 0
            l = (1 - eps) * l + (eps / c) * sm
        ctx.save_for_backward(p, T, wt, ign, w)
        ctx.reduction, ctx.eps, ctx.ca, ctx.shape = reduction, eps, ca, x.shape
        return _class_reduce(ctx, l, wt, reduction, t.shape if x.ndim > 1 else ())

    @staticmethod
    def backward(ctx: Context, gy):
        p, T, wt, ign, w = ctx.saved_tensors
        a = _sample_coef(ctx, gy)
        eps, ca = ctx.eps, ctx.ca
        cn = a if wt is None else a * wt
        if ign is not None:
            cn[ign] = 0
        if eps > 0:
            c = p.shape[ca]
            cn = (1 - eps) * cn
            cs = a
            if ign is not None:
                cs = a * ~ign
                cs[ign] = 0
            if w is None:
                gx = p * _per_sample(cn + eps * cs, ca) - _per_sample((eps / c) * cs, ca)
            else:
                gx = p * _per_sample(cn + (eps / c) * w.sum() * cs, ca) - \
                    _per_sample((eps / c) * cs, ca) * _per_class(w, ca)
        else:
            gx = p * _per_sample(cn, ca)
        n = T.shape[0]
        if ca:
            gx[_arange(n), T] -= cn
        else:
            gx[T, _arange(n)] -= cn
        return _unlayout(gx, ca, ctx.shape), None, None, None, None, None


class CrossEntropyProb(Function):
    """Cross-entropy against class probabilities: loss_i = -sum_c w_c q_ic log_softmax(x_i)_c,
    with q = (1 - eps) t + eps / C; 'mean' divides by the number of samples.

    d/dx_i = (sum_c a_ic) p_i - a_i with a = w q;  d/dt = -(1 - eps) w log p;
    d/dw = -sum_i q_i log p_i.
    """

    @staticmethod
    def forward(ctx: Context, x, t, w, reduction, label_smoothing):
        xp_ = ctx.xp
        dt = x.dtype if t.dtype == x.dtype and (w is None or w.dtype == x.dtype) else \
            xp_.result_type(x, t, *(() if w is None else (w,)))
        X, ca = _layout(x)
        T, _ = _layout(t)
        X, T = X.astype(dt, copy=False), T.astype(dt, copy=False)
        c, m = X.shape[ca], X.shape[1 - ca]
        z = X - X.max(axis=ca, keepdims=True)
        e = xp_.exp(z)
        s = e.sum(axis=ca, keepdims=True)
        logp = z - xp_.log(s)
        eps = label_smoothing
        q = T * (1 - eps) + eps / c if eps > 0 else T
        if w is not None:
            w = _per_class(w.astype(dt, copy=False), ca)
        a = q if w is None else q * w
        l = -(logp * a).sum(axis=ca)
        ctx.save_for_backward(e / s, logp, q, a, w)
        ctx.reduction, ctx.eps, ctx.ca, ctx.shape = reduction, eps, ca, x.shape
        if reduction == "none":
            return l.reshape(x.shape[:1] + x.shape[2:] if x.ndim > 1 else ())
        total = l.sum()
        if reduction == "sum":
            return total
        ctx.denom = m
        return total / m if m else xp_.full((), _NAN, dt)

    @staticmethod
    def backward(ctx: Context, gy):
        p, logp, q, a, w = ctx.saved_tensors
        ca = ctx.ca
        coef = _per_sample(_sample_coef(ctx, gy), ca)
        need = ctx.needs_input_grad
        gx = gt = gw = None
        if need[0]:
            gx = _unlayout((p * a.sum(axis=ca, keepdims=True) - a) * coef, ca, ctx.shape)
        if need[1]:
            g = logp * coef
            if w is not None:
                g = g * w
            gt = _unlayout(g * -(1 - ctx.eps), ca, ctx.shape)
        if need[2]:
            gw = -(q * logp * coef).sum(axis=1 - ca)
        return gx, gt, gw, None, None


class NllLoss(Function):
    """Negative log-likelihood of class indices: loss_i = -w[t_i] x_i[t_i]."""

    @staticmethod
    def forward(ctx: Context, x, t, w, reduction, ignore_index):
        check_class_target(x, t, w)
        X, ca = _layout(x, small=-1)      # no reductions here: keep (N, C) as it is
        T, wt, ign = _class_targets(t, X.shape[ca], w, ignore_index, x.dtype)
        l = -_pick(X, T, ca)
        if wt is not None:
            l *= wt
        ctx.save_for_backward(T, wt, ign)
        ctx.reduction, ctx.ca, ctx.shape, ctx.dtype = reduction, ca, x.shape, x.dtype
        ctx.lshape = X.shape
        return _class_reduce(ctx, l, wt, reduction, t.shape if x.ndim > 1 else ())

    @staticmethod
    def backward(ctx: Context, gy):
        T, wt, ign = ctx.saved_tensors
        a = _sample_coef(ctx, gy)
        cn = a if wt is None else a * wt
        if ign is not None:
            cn[ign] = 0
        gx = ctx.xp.zeros(ctx.lshape, ctx.dtype)
        n = T.shape[0]
        if ctx.ca:
            gx[_arange(n), T] = -cn
        else:
            gx[T, _arange(n)] = -cn
        return _unlayout(gx, ctx.ca, ctx.shape), None, None, None, None


class BinaryCrossEntropy(Function):
    """loss = -w (t log x + (1 - t) log(1 - x)), each log clamped at -100 as PyTorch does.

    d/dx = w (x - t) / max(x (1 - x), 1e-12);  d/dt = w (log(1 - x) - log x) (unclamped).
    """

    @staticmethod
    def forward(ctx: Context, x, t, w, reduction):
        xp_ = ctx.xp
        if t.dtype != x.dtype:
            raise RuntimeError(f"Found dtype {tname(t.dtype)} but expected {tname(x.dtype)}")
        if not ((x >= 0) & (x <= 1)).all():
            raise RuntimeError("all elements of input should be between 0 and 1")
        with xp_.errstate(divide="ignore"):
            lx = xp_.maximum(xp_.log(x), -100)
            l1x = xp_.maximum(xp_.log1p(-x), -100)
        l = (t - 1) * l1x - t * lx
        if w is not None:
            w = w.astype(x.dtype, copy=False)
            l *= w
        ctx.save_for_backward(x, t, w)
        ctx.reduction = reduction
        return _reduce(l, reduction)

    @staticmethod
    def backward(ctx: Context, gy):
        x, t, w = ctx.saved_tensors
        xp_ = ctx.xp
        g = _scale(gy, ctx.reduction, x.size)
        if w is not None:
            g = g * w
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - t) / xp_.maximum(x * (1 - x), 1e-12)
        if ctx.needs_input_grad[1]:
            with xp_.errstate(divide="ignore"):
                gt = g * (xp_.log1p(-x) - xp_.log(x))
        return gx, gt, None, None


class BinaryCrossEntropyWithLogits(Function):
    """loss = w ((1 - t) x + (1 + (pw - 1) t) softplus(-x)), stable for any x.

    d/dx = w ((1 + (pw - 1) t) sigmoid(x) - pw t);  d/dt = w ((pw - 1) softplus(-x) - x).
    """

    @staticmethod
    def forward(ctx: Context, x, t, w, pw, reduction):
        xp_ = ctx.xp
        if t.dtype != x.dtype:
            dt = xp_.result_type(x, t)
            if dt.kind != "f":
                raise RuntimeError(f"result type Float can't be cast to the desired output type "
                                   f"{tname(t.dtype)}")
            x, t = x.astype(dt, copy=False), t.astype(dt, copy=False)
        dt = x.dtype
        sp = xp_.log1p(xp_.exp(-xp_.abs(x)))    # softplus(-x) = max(-x, 0) + log1p(e^-|x|)
        sp += xp_.maximum(-x, 0)
        if pw is None:
            l = (1 - t) * x + sp
            lw = None
        else:
            pw = pw.astype(dt, copy=False)
            lw = (pw - 1) * t + 1
            l = (1 - t) * x + lw * sp
        if w is not None:
            w = w.astype(dt, copy=False)
            l = l * w
        ctx.save_for_backward(x, t, w, pw, sp, lw)
        ctx.reduction = reduction
        return _reduce(l, reduction)

    @staticmethod
    def backward(ctx: Context, gy):
        x, t, w, pw, sp, lw = ctx.saved_tensors
        g = _scale(gy, ctx.reduction, x.size)
        if w is not None:
            g = g * w
        gx = gt = None
        if ctx.needs_input_grad[0]:
            sig = ctx.xp.exp(-sp)
            gx = g * (sig - t if pw is None else lw * sig - pw * t)
        if ctx.needs_input_grad[1]:
            gt = g * (-x if pw is None else (pw - 1) * sp - x)
        return gx, gt, None, None, None
