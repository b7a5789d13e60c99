"""Array kernels for 2-D convolution: gather (conv), scatter (transposed conv), weight gradient.

All three work on one intermediate, the *row-unfolded* input

    X2[n, c, j, r, hh, ow] = xpad[n, c, hh * sh + r, ow * sw + j * dw]

(``xpad`` is the zero-padded input). Unfolding only along the kernel's width costs KW copies of
the input (not KH * KW as a full im2col would), and for each kernel row ``i`` the rows that
output row ``oh`` reads, ``oh * sh + i * dh = (oh + q) * sh + r`` with ``(q, r) = divmod(i * dh,
sh)``, form one contiguous block ``X2[n, :, :, r, q:q + OH, :]`` of OH * OW columns. Its rows
(c, j) have a uniform stride, so it is a plain strided matrix that BLAS reads in place:

    y[n, o] = sum_i  W_i (O, C * KW)  @  X2[n, :, :, r_i, q_i:q_i + OH, :]  (C * KW, OH * OW)

— KH matrix products batched over the samples (and groups), each writing NCHW output directly.
(Per-sample products beat one flat product over all samples here: with few output channels
OpenBLAS runs skinny matrices slowly unless each operand fits in cache.)
The transposed convolution runs the same products backwards (W_i^T @ gy added into X2's blocks)
and folds X2 back onto the input with KW strided adds, or, for stride 1, is the convolution of
gy with the flipped kernel; the weight gradient is ``gy @ block^T`` summed over the samples.

Large work arrays come from ``scratch`` (temporaries) and ``pooled`` (results and saved X2,
reused once unreferenced), which keeps a training step free of page faults.
"""
from __future__ import annotations

import sys
import threading

from .. import backend
from ..backend import threads

xp = backend.xp

_local = threading.local()


_POOL_SIZE = 8                  # buffers per slot and thread
_POOL_MAX = 1 << 24             # bytes: larger arrays come straight from the allocator


def scratch(slot: str, shape, dtype):
    """A reusable work array for a temporary that never leaves the kernel (uninitialised).

    Fresh multi-megabyte arrays cost a page fault per 4 KiB page each time the allocator hands
    freed memory back to the OS (glibc does for large blocks), which on some machines costs more
    than the convolution itself; so each ``slot`` keeps one growing buffer per thread (up to
    ``_POOL_MAX`` bytes: larger arrays are compute-bound anyway and are not kept).
    """
    n = 1
    for d in shape:
        n *= d
    dtype = xp.dtype(dtype)
    if n * dtype.itemsize > _POOL_MAX:
        return xp.empty(shape, dtype)
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = {}
    buf = bufs.get(slot)
    if buf is None or buf.dtype != dtype or buf.size < n:
        buf = bufs[slot] = xp.empty(n, dtype)
    return buf[:n].reshape(shape)


def pooled(slot: str, shape, dtype):
    """A work array that may outlive the call (saved for backward), from a small pool.

    A pooled buffer is handed out again only once nothing references it any more: the views
    made of it keep it alive, so its reference count tells (the pool, the loop variable and
    ``getrefcount``'s argument hold the only three references of a free one). For the reason
    to pool at all, see ``scratch``.
    """
    n = 1
    for d in shape:
        n *= d
    dtype = xp.dtype(dtype)
    if n * dtype.itemsize > _POOL_MAX:
        return xp.empty(shape, dtype)
    pools = getattr(_local, "pools", None)
    if pools is None:
        pools = _local.pools = {}
    pool = pools.setdefault(slot, [])
    for k in range(len(pool)):          # (enumerate's reused tuple would add a reference)
        buf = pool[k]
        if sys.getrefcount(buf) == 3:
            if buf.dtype != dtype or buf.size < n:
                buf = pool[k] = xp.empty(n, dtype)
            return buf[:n].reshape(shape)
    buf = xp.empty(n, dtype)
    if len(pool) < _POOL_SIZE:
        pool.append(buf)
    return buf[:n].reshape(shape)


def out_size(size: int, k: int, s: int, p0: int, p1: int, d: int) -> int:
    """Output length of a convolution along one dimension."""
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def _spans(H, W, KW, sh, sw, pt, pl, dw, Hq, OW):
    """For each (j, r): X2 slices (hh0, hh1, ow0, ow1) and the input slices they copy."""
    out = []
    for j in range(KW):
        c0 = j * dw - pl                              # input column of ow = 0
        w0 = max(0, (-c0 + sw - 1) // sw) if c0 < 0 else 0
        w1 = min(OW, (W - 1 - c0) // sw + 1) if W - 1 - c0 >= 0 else 0
        for r in range(sh):
            r0 = r - pt                               # input row of hh = 0
            h0 = max(0, (-r0 + sh - 1) // sh) if r0 < 0 else 0
            h1 = min(Hq, (H - 1 - r0) // sh + 1) if H - 1 - r0 >= 0 else 0
            if h1 > h0 and w1 > w0:
                xs = (slice(h0 * sh + r0, (h1 - 1) * sh + r0 + 1, sh),
                      slice(w0 * sw + c0, (w1 - 1) * sw + c0 + 1, sw))
                out.append((j, r, slice(h0, h1), slice(w0, w1), xs))
    return out


class Geometry:
    """Shapes and offsets of one convolution (input (N, C, H, W), weight (O, C/G, KH, KW))."""

    __slots__ = ("N", "C", "H", "W", "O", "G", "KH", "KW", "sh", "sw", "pt", "pb", "pl", "pr",
                 "dh", "dw", "OH", "OW", "Hq", "spans", "offsets", "pads")

    def __init__(self, xshape, wshape, stride, pad, dil, groups, out=None):
        self.N, self.C, self.H, self.W = xshape
        self.O, _, self.KH, self.KW = wshape
        self.G = groups
        self.sh, self.sw = stride
        self.pt, self.pb, self.pl, self.pr = pad
        self.dh, self.dw = dil
        if out is None:
            self.OH = out_size(self.H, self.KH, self.sh, self.pt, self.pb, self.dh)
            self.OW = out_size(self.W, self.KW, self.sw, self.pl, self.pr, self.dw)
        else:                                          # transposed conv: the size is given
            self.OH, self.OW = out
        self.Hq = (self.KH - 1) * self.dh // self.sh + self.OH
        self.spans = _spans(self.H, self.W, self.KW, self.sh, self.sw, self.pt, self.pl, self.dw,
                            self.Hq, self.OW)
        # the X2 regions that no span writes (the zero padding), as index tuples
        self.pads = []
        covered = {(sp[0], sp[1]): sp for sp in self.spans}
        for j in range(self.KW):
            for r in range(self.sh):
                sp = covered.get((j, r))
                if sp is None:
                    self.pads.append((slice(None), slice(None), j, r))
                    continue
                hs, ws = sp[2], sp[3]
                for extra in ((slice(0, hs.start),), (slice(hs.stop, self.Hq),),
                              (hs, slice(0, ws.start)), (hs, slice(ws.stop, self.OW))):
                    if all(e.stop > e.start for e in extra):
                        self.pads.append((slice(None), slice(None), j, r) + extra)
        # per kernel row i: the column offset of its block in X2 flattened to (.., sh*Hq*OW)
        self.offsets = []
        for i in range(self.KH):
            q, r = divmod(i * self.dh, self.sh)
            self.offsets.append((r * self.Hq + q) * self.OW)


_GEOMETRIES: dict = {}


def geometry(xshape, wshape, stride, pad, dil, groups, out=None) -> Geometry:
    """``Geometry(...)``, memoised: a network asks for the same few again and again."""
    key = (xshape, wshape, stride, pad, dil, groups, out)
    g = _GEOMETRIES.get(key)
    if g is None:
        if len(_GEOMETRIES) > 256:
            _GEOMETRIES.clear()
        g = _GEOMETRIES[key] = Geometry(xshape, wshape, stride, pad, dil, groups, out)
    return g


def _unfold_into(x, X2, g: Geometry):
    """Fill X2 (n, C, KW, sh, Hq, OW) from x (n, C, H, W): zero padding, then the spans."""
    for idx in g.pads:
        X2[idx] = 0
    for j, r, hs, ws, xs in g.spans:
        X2[:, :, j, r, hs, ws] = x[:, :, xs[0], xs[1]]


def _fold_into(gX2, gx, g: Geometry):
    """gx (n, C, H, W) = the adjoint of ``_unfold_into`` applied to gX2."""
    gx.fill(0)
    for j, r, hs, ws, xs in g.spans:
        gx[:, :, xs[0], xs[1]] += gX2[:, :, j, r, hs, ws]


def _x2_shape(g: Geometry):
    return (g.N, g.C, g.KW, g.sh, g.Hq, g.OW)


def unfold_rows(x, g: Geometry, slot=None):
    """X2 (N, C, KW, sh, Hq, OW) from x (N, C, H, W); see the module docstring. With ``slot``
    the result lives in a scratch buffer (for a caller that does not keep it)."""
    shape = _x2_shape(g)
    X2 = pooled("X2", shape, x.dtype) if slot is None else scratch(slot, shape, x.dtype)
    _unfold_into(x, X2, g)
    return X2


def fold_rows(gX2, g: Geometry, dtype):
    """The adjoint of ``unfold_rows``: add X2's entries back onto an (N, C, H, W) array."""
    gx = pooled("gx", (g.N, g.C, g.H, g.W), dtype)
    _fold_into(gX2, gx, g)
    return gx


def _w_rows(w, g: Geometry):
    """Weight as (KH, G, O/G, C/G * KW): the matrix W_i of each kernel row."""
    O, Cg, KH, KW = w.shape
    G = g.G
    # contiguous: BLAS cannot read the negative strides of a flipped kernel
    return xp.ascontiguousarray(w.reshape(G, O // G, Cg, KH, KW).transpose(3, 0, 1, 2, 4)).reshape(
        KH, G, O // G, Cg * KW)


def _parts(g: Geometry):
    """The batch blocks the kernels below run in parallel (``threads.split``)."""
    return threads.split(g.N, g.N * g.C * g.KW * g.Hq * g.OW)


def conv_forward(x, w, b, g: Geometry, keep: bool = True):
    """y (N, O, OH, OW) = conv2d(x, w) + b; also returns X2 for the weight gradient (only
    valid until the next call when ``keep`` is false: it is a scratch buffer then)."""
    shape = _x2_shape(g)
    X2 = pooled("X2", shape, x.dtype) if keep else scratch("X2", shape, x.dtype)
    L = g.OH * g.OW
    wr = _w_rows(w, g)
    y = pooled("y", (g.N, g.G, g.O // g.G, L), xp.result_type(w, x))
    bias = None if b is None else b.reshape(-1, 1)

    def work(s):
        _unfold_into(x[s], X2[s], g)
        Xr = X2[s].reshape(-1, g.G, (g.C // g.G) * g.KW, g.sh * g.Hq * g.OW)
        ys = y[s]
        t = None
        for i, off in enumerate(g.offsets):
            if i == 0:
                xp.matmul(wr[0], Xr[..., off:off + L], out=ys)
            else:
                if t is None:
                    t = scratch("t", ys.shape, ys.dtype)
                ys += xp.matmul(wr[i], Xr[..., off:off + L], out=t)
        if bias is not None:
            ys.reshape(-1, g.O, L)[...] += bias

    threads.run(work, _parts(g))
    return y.reshape(g.N, g.O, g.OH, g.OW), X2


def conv_transpose(gy, w, g: Geometry):
    """The adjoint of ``conv_forward`` in x: gy (N, O, OH, OW) -> gx (N, C, H, W)."""
    # NOTE: for stride 1 the gather path (one unfolding of gy, no fold) is faster, unless gy's
    # unfolding dwarfs the scatter's (gy has many more channels than x, as in LeNet's 6 -> 16)
    if g.sh == g.sw == 1 and g.pt <= (g.KH - 1) * g.dh and g.pl <= (g.KW - 1) * g.dw and \
            g.O * ((g.KH - 1) * g.dh + g.H) * g.W <= 2 * g.C * g.Hq * g.OW:
        return _transpose_as_conv(gy, w, g)
    L = g.OH * g.OW
    CgKW = (g.C // g.G) * g.KW
    gX2 = scratch("gX2", _x2_shape(g), gy.dtype)
    gx = pooled("gx", (g.N, g.C, g.H, g.W), gy.dtype)
    wr = _w_rows(w, g).transpose(0, 1, 3, 2)
    gyr = gy.reshape(g.N, g.G, g.O // g.G, L)

    def work(s):
        gX2s = gX2[s]
        gX2s.fill(0)
        gXr = gX2s.reshape(-1, g.G, CgKW, g.sh * g.Hq * g.OW)
        t = scratch("t", (gXr.shape[0], g.G, CgKW, L), gy.dtype)
        for i, off in enumerate(g.offsets):
            gXr[..., off:off + L] += xp.matmul(wr[i], gyr[s], out=t)
        _fold_into(gX2s, gx[s], g)

    threads.run(work, _parts(g))
    return gx


def _transpose_as_conv(gy, w, g: Geometry):
    """Stride 1: gx is the convolution of gy with the flipped, transposed kernel, padded by
    ``d * (k - 1) - p`` (the 'full' correlation), which reuses the fast gather path."""
    G, (O, Cg, KH, KW) = g.G, w.shape
    wt = w[:, :, ::-1, ::-1].reshape(G, O // G, Cg, KH, KW).transpose(0, 2, 1, 3, 4).reshape(
        G * Cg, O // G, KH, KW)
    # with the output size given, only the top/left padding matters
    gt = geometry(gy.shape, wt.shape, (1, 1), ((KH - 1) * g.dh - g.pt, 0,
                                              (KW - 1) * g.dw - g.pl, 0), (g.dh, g.dw), G,
                  out=(g.H, g.W))
    return conv_forward(gy, wt, None, gt, keep=False)[0]


def conv_weight_grad(X2, gy, g: Geometry):
    """gw (O, C/G, KH, KW) of ``conv_forward`` from its X2 and the output gradient gy.

    The per-sample products are summed over the batch in one reduction after the threads
    finish, so the result does not depend on how many threads ran."""
    L = g.OH * g.OW
    G, Og, Cg = g.G, g.O // g.G, g.C // g.G
    Xr = X2.reshape(g.N, G, Cg * g.KW, g.sh * g.Hq * g.OW)
    gyr = gy.reshape(g.N, G, Og, L)
    per = scratch("gw_per", (g.KH, g.N, G, Og, Cg * g.KW), gy.dtype)

    def work(s):
        for i, off in enumerate(g.offsets):
            blk = Xr[s, ..., off:off + L].swapaxes(-1, -2)     # (n, G, L, Cg*KW)
            xp.matmul(gyr[s], blk, out=per[i, s])

    threads.run(work, _parts(g))
    gw = per.sum(1)                                             # (KH, G, Og, Cg*KW)
    return gw.reshape(g.KH, G, Og, Cg, g.KW).transpose(1, 2, 3, 0, 4).reshape(
        g.O, Cg, g.KH, g.KW)


def im2col(x, g: Geometry):
    """Full unfolding (N, C * KH * KW, OH * OW) of x (N, C, H, W), as ``F.unfold``."""
    X2 = unfold_rows(x, g, "X2")
    cols = xp.empty((g.N, g.C, g.KH, g.KW, g.OH, g.OW), x.dtype)
    for i in range(g.KH):
        q, r = divmod(i * g.dh, g.sh)
        cols[:, :, i] = X2[:, :, :, r, q:q + g.OH, :]
    return cols.reshape(g.N, g.C * g.KH * g.KW, g.OH * g.OW)


def col2im(cols, g: Geometry):
    """The adjoint of ``im2col``: sum (N, C * KH * KW, OH * OW) blocks into (N, C, H, W)."""
    c6 = cols.reshape(g.N, g.C, g.KH, g.KW, g.OH, g.OW)
    gX2 = xp.zeros((g.N, g.C, g.KW, g.sh, g.Hq, g.OW), cols.dtype)
    for i in range(g.KH):
        q, r = divmod(i * g.dh, g.sh)
        gX2[:, :, :, r, q:q + g.OH, :] += c6[:, :, i]
    return fold_rows(gX2, g, cols.dtype)
