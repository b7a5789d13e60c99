"""Pooling primitives: max and average over sliding or adaptive windows, and max-unpooling.

Every pooling window here is a product of one window per spatial axis, so each primitive reduces
one axis at a time (the last first), looping over the few kernel offsets of that axis with
strided views: no loop over pixels. Max pooling keeps, per axis, the offset of the winner; the
backward scatters the gradient back one axis at a time through those offsets.

Compiled kernels: with numba (backend/jit.py), 2-D max pooling without padding, dilation or
ceil-mode overhang runs one kernel per direction (ops/_pool_jit.py) instead of the per-axis
passes; same winners, by the rule below.

NOTE: torch's CPU kernels scan a window in row-major order and take a value when
``v > max or isnan(v)``: ties go to the first maximum, NaN to the last NaN, and a window with
nothing above -inf keeps its first in-bounds position. The same rule applied axis by axis (last
axis first) picks the same element, which is what the per-axis running maximum below does.
"""
from __future__ import annotations

import functools

from ..autograd.function import Context, Function
from ..backend import jit, threads

xp = Context.xp


class Windows:
    """The windows along one axis: output ``o`` reads positions ``o * s + j * d`` (``j < k``)
    of the input padded by ``p`` on the left and ``right`` on the right (sliding windows), or
    positions ``min(start[o] + j, end[o] - 1)`` (adaptive windows, ``start`` not None)."""

    __slots__ = ("n", "o", "k", "s", "d", "p", "right", "start", "end", "overlap", "tiles",
                 "_first")

    def __init__(self, n, o, k, s=1, d=1, p=0, start=None, end=None):
        self.n, self.o, self.k, self.s, self.d, self.p = n, o, k, s, d, p
        self.start, self.end = start, end
        self.right = max(0, (o - 1) * s + (k - 1) * d + 1 - p - n) if start is None else 0
        self.overlap = start is not None or s < (k - 1) * d + 1
        self.tiles = start is None and d == 1 and s == k and o * k == n + p + self.right
        self._first = None

    @property
    def padded(self) -> int:
        return self.p + self.n + self.right

    def view(self, a, ax, j):
        """The input values at offset ``j`` of every window (shape: the axis becomes ``o``)."""
        if self.start is not None:
            return xp.take(a, xp.minimum(self.start + j, self.end - 1), axis=ax)
        b = j * self.d
        return a[(Ellipsis, slice(b, b + (self.o - 1) * self.s + 1, self.s))
                 + (slice(None),) * (-ax - 1)]

    def valid(self, j, ax):
        """Mask (broadcastable along axis ``ax``) of the windows that have an offset ``j``;
        None when all of them do."""
        if self.start is None or j == 0:
            return None
        m = self.start + j < self.end
        return None if m.all() else m.reshape((-1,) + (1,) * (-ax - 1))

    def first(self):
        """Offset of each window's first in-bounds position (non-zero only under padding)."""
        if self._first is None:
            lead = xp.maximum(self.p - xp.arange(self.o) * self.s, 0)
            self._first = (-(-lead // self.d)).astype(xp.int8 if self.k < 128 else xp.int32)
        return self._first

    def pos(self, sel, ax):
        """Input coordinate (unpadded) of offset ``sel`` (broadcast along axis ``ax``)."""
        o = xp.arange(self.o).reshape((-1,) + (1,) * (-ax - 1))
        if self.start is not None:
            st = self.start.reshape(o.shape)
            return xp.minimum(st + sel, self.end.reshape(o.shape) - 1)
        return o * self.s + sel.astype(xp.int64) * self.d - self.p

    def scatter(self, g, idx, ax, shape, out=None):
        """Send ``g`` (shaped like the output along axis ``ax``) back to the window positions
        along that axis: to offset ``idx`` of each window (max), or to all of them (``idx`` is
        None: sum); returns an array of ``shape`` (the padded input length along ``ax``), or
        fills ``out`` (of that shape) with it."""
        if self.start is not None:
            total = 0
            for j in range(self.k):
                m = xp.zeros((self.o, self.n), g.dtype)
                rows = xp.arange(self.o)
                if idx is None:  # only the windows that have an offset j
                    rows = rows[self.start + j < self.end]
                    src = g
                else:
                    src = g * (idx == j)
                m[rows, xp.minimum(self.start[rows] + j, self.end[rows] - 1)] = 1
                total = total + xp.matmul(xp.moveaxis(src, ax, -1), m)
            if out is None:
                return xp.moveaxis(total, -1, ax)
            out[...] = xp.moveaxis(total, -1, ax)
            return out
        if out is None:
            gx = (xp.empty if self.tiles else xp.zeros)(shape, g.dtype)
        else:
            gx = out
            if not self.tiles:
                gx.fill(0)
        if idx is not None and idx.dtype == bool and not self.overlap:
            # two offsets: the winner gets g, the other g - g * 1 = 0 (exact for finite g)
            d1 = self.view(gx, ax, 1)
            xp.multiply(g, idx, out=d1)
            xp.subtract(g, d1, out=self.view(gx, ax, 0))
            return gx
        for j in range(self.k):
            dst = self.view(gx, ax, j)
            if idx is None:
                val = g
            elif self.overlap:
                val = g * (idx == j)
            else:
                xp.multiply(g, idx == j, out=dst)
                continue
            if self.overlap:
                dst += val
            else:
                dst[...] = val
        return gx


@functools.lru_cache(maxsize=256)
def adaptive_windows(n, o):
    """Windows of adaptive pooling from length ``n`` to ``o`` (o, n > 0): output i reads
    [floor(i n / o), ceil((i + 1) n / o))."""
    if n % o == 0:
        return Windows(n, o, n // o, n // o)
    i = xp.arange(o)
    start, end = i * n // o, ((i + 1) * n + o - 1) // o
    return Windows(n, o, int((end - start).max()), start=start, end=end)


def avg_divisor(wins, count_include_pad=True):
    """The window sizes that average pooling divides by: a number when all are equal, else an
    array over the output's spatial axes (torch's rule: windows are clipped to the padded input,
    and to the input itself unless ``count_include_pad``)."""
    counts = []
    for w in wins:
        if w.start is not None:
            c = w.end - w.start
        elif w.p == 0 and (w.o - 1) * w.s + w.k <= w.n:
            counts.append(w.k)
            continue
        else:
            lo = xp.arange(w.o) * w.s - w.p
            hi = xp.minimum(lo + w.k, w.n + w.p)
            c = hi - lo if count_include_pad else xp.minimum(hi, w.n) - xp.maximum(lo, 0)
        counts.append(int(c[0]) if (c == c[0]).all() else c)
    div = 1
    for i, c in enumerate(counts):
        if isinstance(c, int):
            div = div * c
        else:
            div = div * c.reshape((-1,) + (1,) * (len(counts) - i - 1))
    return div


def _pad(x, wins, value):
    """``x`` padded as the sliding windows need (or ``x`` itself)."""
    if all(w.start is not None or (w.p == 0 and w.right == 0) for w in wins):
        return x
    widths = [(0, 0)] * (x.ndim - len(wins)) + [(w.p, w.right) for w in wins]
    return xp.pad(x, widths, constant_values=value)


def _crop(gx, wins):
    if all(w.start is not None or (w.p == 0 and w.right == 0) for w in wins):
        return gx
    nd = len(wins)
    sl = (Ellipsis,) + tuple(slice(w.p, w.p + w.n) for w in wins)
    return xp.ascontiguousarray(gx[sl]) if nd else gx


def _max_axis(a, w, ax, nan):
    """Running maximum over the window offsets along axis ``ax``: (values, offsets)."""
    v0 = w.view(a, ax, 0)
    if w.k == 1:
        return v0, xp.zeros(v0.shape, xp.int8)
    v1 = w.view(a, ax, 1)
    m = xp.maximum(v0, v1)
    idx = v1 > v0
    if nan:
        idx |= v1 != v1
    if w.k == 2 and not w.p:
        return m, idx
    idx = idx.view(xp.int8)
    if w.k > 127:
        idx = idx.astype(xp.int32)
    for j in range(2, w.k):
        v = w.view(a, ax, j)
        upd = v > m
        if nan:
            upd |= v != v
        xp.maximum(m, v, out=m)
        idx = xp.where(upd, idx.dtype.type(j), idx)
    if w.p:
        idx = xp.maximum(idx, w.first().reshape((-1,) + (1,) * (-ax - 1)))
    return m, idx


def _flat_indices(offsets, wins, lead):
    """Flat positions (into the product of the input's spatial axes) of the chosen elements.

    ``offsets[i]`` holds axis i's winning offsets on a grid whose earlier axes are full (padded)
    and whose later axes are reduced; follow the chosen coordinates from the outermost axis in.
    """
    nd = len(wins)
    out_shape = tuple(w.o for w in wins)
    coords = []
    for i, (sel, w) in enumerate(zip(offsets, wins)):
        if i:
            grid = [c + (wins[j].p if wins[j].start is None else 0) for j, c in enumerate(coords)]
            grid += [xp.arange(wins[j].o).reshape((-1,) + (1,) * (nd - j - 1))
                     for j in range(i, nd)]
            dims = sel.shape[len(lead):]
            lin = xp.ravel_multi_index(tuple(xp.broadcast_arrays(*grid)), dims)
            lin = xp.broadcast_to(lin, lead + out_shape).reshape(lead + (-1,))
            sel = xp.take_along_axis(sel.reshape(lead + (-1,)), lin, -1).reshape(lead + out_shape)
        coords.append(w.pos(sel, i - nd))
    flat = coords[0]
    for c, w in zip(coords[1:], wins[1:]):
        flat = flat * w.n + c
    return flat.astype(xp.int64)


def _max_all(a, wins, nan):
    """Reduce the trailing axes, the last first: (maxima, per-axis winning offsets)."""
    offsets = []
    nd = len(wins)
    for i in range(nd - 1, -1, -1):
        a, idx = _max_axis(a, wins[i], i - nd, nan)
        offsets.append(idx)
    offsets.reverse()
    return a, offsets


class MaxPool(Function):
    """y = max over each window of the trailing ``len(wins)`` axes; ``ctx.indices`` holds the
    flat positions of the maxima when ``with_indices``.

    Differs from torch: an infinite or NaN upstream gradient also puts NaN on the other
    positions of its window (the backward multiplies by a 0/1 mask instead of scattering).
    """

    @staticmethod
    def forward(ctx: Context, x, wins, with_indices=False):
        kern = None if with_indices else _pool_kernels(x, wins)
        if kern is not None:
            return _max_pool2d_compiled(ctx, kern, x, wins)
        kind = x.dtype.kind
        low = -xp.inf if kind == "f" else xp.iinfo(x.dtype).min
        a = _pad(x, wins, low)
        nd = len(wins)
        # the batch (any leading axis) is split across threads when it is worth it
        parts = threads.split(a.shape[0], a.size) if a.ndim > nd else [slice(None)]
        if not (with_indices or ctx.needs_input_grad):
            if len(parts) == 1:
                return _max_values(a, wins)
            y = xp.empty(a.shape[:1] + _pooled_shape(a.shape[1:], wins), x.dtype)
            threads.run(lambda s: y.__setitem__(s, _max_values(a[s], wins)), parts)
            return y

        def work(s):
            y, offsets = _max_all(a[s], wins, False)
            if kind == "f" and y.size and y.min() != y.min():
                # NaN present (max propagates it): redo with torch's rule for where NaNs win
                y, offsets = _max_all(a[s], wins, True)
            return y, offsets

        res = threads.run(work, parts)
        if len(res) == 1:
            y, offsets = res[0]
        else:
            y = xp.concatenate([r[0] for r in res])
            offsets = [xp.concatenate([r[1][i] for r in res]) for i in range(nd)]
        if with_indices:
            ctx.indices = _flat_indices(offsets, wins, x.shape[:x.ndim - nd])
        ctx.wins, ctx.offsets, ctx.shape, ctx.parts = wins, offsets, x.shape, parts
        ctx.kern = None
        return y if y.base is None else xp.ascontiguousarray(y)

    @staticmethod
    def backward(ctx: Context, gy):
        if ctx.kern is not None:
            return _max_unpool2d_compiled(ctx, gy)
        wins, offsets, parts = ctx.wins, ctx.offsets, ctx.parts
        nd = len(wins)
        shape = list(ctx.shape[:len(ctx.shape) - nd]) + [w.o for w in wins]
        for i in range(nd):
            w = wins[i]
            shape[i - nd] = w.padded if w.start is None else w.n
        if len(parts) == 1:
            return _crop(_max_scatter(gy, offsets, wins, None), wins)
        gx = xp.empty(shape, gy.dtype)
        threads.run(lambda s: _max_scatter(gy[s], [o[s] for o in offsets], wins, gx[s]), parts)
        return _crop(gx, wins)


def _pool_kernels(x, wins):
    """The compiled 2-D max-pooling kernels (ops/_pool_jit.py) when they apply: float32 or
    float64, two pooled axes with at least one leading axis, sliding windows of at most 11 x 11
    with no padding, dilation or ceil-mode overhang, and kernels enabled; else None."""
    if len(wins) != 2 or x.ndim < 3 or x.dtype.kind != "f" or x.dtype.itemsize < 4:
        return None
    for w in wins:
        if w.start is not None or w.p or w.right or w.d != 1 or w.k > 11 or not w.o:
            return None
    return jit.load("numtorch.ops._pool_jit")


def _max_pool2d_compiled(ctx, kern, x, wins):
    """MaxPool.forward through the kernel; the planes are split across the threads."""
    lead, (wh, ww) = x.shape[:-2], wins
    xs = xp.ascontiguousarray(x).reshape(-1, wh.n, ww.n)
    P = xs.shape[0]
    y = xp.empty((P, wh.o, ww.o), x.dtype)
    pos = xp.empty(y.shape, xp.int8)
    geo = (wh.k, ww.k, wh.s, ww.s)
    f = kern.max_pool2d_forward(*geo)
    parts = threads.split(P, xs.size)
    threads.run(lambda r: f(xs[r], y[r], pos[r]), parts)
    if ctx.needs_input_grad:
        ctx.kern, ctx.pos, ctx.shape, ctx.parts, ctx.geo = kern, pos, x.shape, parts, geo
    return y.reshape(lead + y.shape[1:])


def _max_unpool2d_compiled(ctx, gy):
    """MaxPool.backward through the kernel: gy added at each window's winner."""
    pos, f = ctx.pos, ctx.kern.max_pool2d_backward(*ctx.geo)
    gx = xp.empty((pos.shape[0],) + ctx.shape[-2:], gy.dtype)
    g = xp.ascontiguousarray(gy).reshape(pos.shape)
    threads.run(lambda r: f(g[r], pos[r], gx[r]), ctx.parts)
    return gx.reshape(ctx.shape)


def _pooled_shape(shape, wins):
    """``shape`` with its trailing ``len(wins)`` axes reduced to the windows' output sizes."""
    return tuple(shape[:len(shape) - len(wins)]) + tuple(w.o for w in wins)


def _max_values(a, wins):
    """The maxima only (no offsets): the path without autograd."""
    for i in range(len(wins) - 1, -1, -1):
        w, ax = wins[i], i - len(wins)
        v = w.view(a, ax, 0)
        for j in range(1, w.k):
            v = xp.maximum(v, w.view(a, ax, j), out=None if j == 1 else v)
        a = v
    return a if a.base is None else xp.ascontiguousarray(a)


def _max_scatter(gy, offsets, wins, out):
    """Send gy back to the winners, one axis at a time, the outermost first; the last scatter
    writes into ``out`` when given."""
    nd = len(wins)
    g = gy
    shape = list(gy.shape)
    for i in range(nd):
        w, idx, ax = wins[i], offsets[i], i - nd
        shape[ax] = w.padded if w.start is None else w.n
        g = w.scatter(g, idx, ax, tuple(shape), out if i == nd - 1 else None)
    return g


def _sum_axis(a, w, ax):
    acc = w.view(a, ax, 0)
    if w.k == 1:
        return acc
    if w.start is None and w.o == 1 and w.k == a.shape[ax] and w.d == 1:
        return a.sum(axis=ax, keepdims=True)
    for j in range(1, w.k):
        v = w.view(a, ax, j)
        m = w.valid(j, ax)
        if m is not None:
            v = xp.where(m, v, 0)
        acc = acc + v if j == 1 else xp.add(acc, v, out=acc)
    return acc


class AvgPool(Function):
    """y = (sum over each window of the trailing ``len(wins)`` axes) / ``divisor`` (a number,
    or an array over the output's spatial axes); integers divide with truncation."""

    @staticmethod
    def forward(ctx: Context, x, wins, divisor):
        a = _pad(x, wins, 0)
        nd = len(wins)
        for i in range(nd - 1, -1, -1):
            a = _sum_axis(a, wins[i], i - nd)
        if x.dtype.kind == "f":
            y = a / xp.asarray(divisor, x.dtype)
        else:
            y = (xp.abs(a) // divisor * xp.sign(a)).astype(x.dtype)
        ctx.wins, ctx.divisor, ctx.shape = wins, divisor, x.shape
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        wins = ctx.wins
        nd = len(wins)
        g = gy / xp.asarray(ctx.divisor, gy.dtype)
        shape = list(ctx.shape[:len(ctx.shape) - nd]) + [w.o for w in wins]
        for i in range(nd):
            w, ax = wins[i], i - nd
            shape[ax] = w.padded if w.start is None else w.n
            g = w.scatter(g, None, ax, tuple(shape))
        return _crop(g, wins)


class MaxUnpool(Function):
    """y = zeros of the trailing spatial ``size``, with ``x`` placed at the flat ``indices``."""

    @staticmethod
    def forward(ctx: Context, x, indices, size):
        nd = len(size)
        lead = x.shape[:x.ndim - nd]
        n = 1
        for s in size:
            n *= s
        y = xp.zeros(lead + (n,), x.dtype)
        idx = indices.reshape(lead + (-1,))
        xp.put_along_axis(y, idx, x.reshape(lead + (-1,)), -1)
        ctx.idx, ctx.shape = idx, x.shape
        return y.reshape(lead + tuple(size))

    @staticmethod
    def backward(ctx: Context, gy):
        idx = ctx.idx
        g = gy.reshape(idx.shape[:-1] + (-1,))
        return xp.take_along_axis(g, idx, -1).reshape(ctx.shape), None
