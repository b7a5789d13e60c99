"""Recurrent primitives: one fused Function per layer and direction (RNN tanh/relu, LSTM, GRU)
that runs a whole sequence, forward and backpropagation through time, in raw arrays.

Layout shared by the three (S rows, N sequences, I inputs, H hidden, P = proj_size or H):
  x       (S, I)  input rows in packed order: step t owns rows off[t]:off[t] + bs[t], which belong
                  to the first bs[t] sequences (a padded (T, N, I) input is T steps of N rows;
                  ``bs`` never increases, as PackedSequence guarantees)
  h0, c0  (N, P), (N, H) initial states, or None for zeros
  output  one flat array: y (S, P) in x's row order, then h_n (N, P), then c_n (N, H) for LSTM
          (a Function returns one array); ``rnn_layer`` hands back views of the parts.

Gate arrays are gate-major, (G, S, H), so that every gate of a step is one contiguous block. The
input projection of all steps is one (batched) matrix product per block of rows; each step then
costs one (n, P) x (G, P, H) product and a handful of in-place ufuncs. Backward precomputes
every step's local derivative factors, runs the recurrence collecting the pre-activation
gradients of all steps in one (G, S, H) array, and turns them into dx, dW_ih, dW_hh and the
biases block by block (``_GateGrads``).

Overlap: what is not on the recurrence's critical path runs on a worker thread
(``threads.submit``) while the recurrence goes on: the projection rows and backward factors
after the first block of steps, and each finished block's share of the weight gradients. The
blocks (``_blocks``) depend on the shapes alone and every share is the same NumPy calls on any
thread, so the bits do not depend on the thread count.

NOTE: gate-major beats a step-major (S, 4H) layout here: with OpenBLAS, four (n, P) x (P, H)
products per step were faster than one (n, P) x (P, 4H) (about 40 us vs 50 us at n=32, P=H=128,
float32, one thread), and the same held for the backward's (n, 4H) x (4H, P). Per-step products
write into preallocated buffers (``out=``).

Compiled kernels: with numba (backend/jit.py), a float32 LSTM without projection does each
step's element-wise work in one kernel call (ops/_rnn_jit.py) instead of ~10 ufuncs; the
backward kernel derives the local factors itself, so they are not precomputed. Everything else
here is the same on both paths.

NOTE: the gates use tanh only: sigmoid(z) = (1 + tanh(z / 2)) / 2. Halving the sigmoid gates'
weight rows up front makes a step's activations one tanh call and one affine fix-up.
"""
from __future__ import annotations

from functools import lru_cache

from ..autograd.function import Context, Function
from ..backend import jit, threads
from ..backend.threads import matmul as _mm

xp = Context.xp
_add_reduce = xp.add.reduce


@lru_cache(maxsize=256)
def _steps(bs: tuple, reverse: bool) -> tuple:
    """(first row, end row, active sequences) of each step, in the order the recurrence runs."""
    out, a = [], 0
    for n in bs:
        out.append((a, a + n, n))
        a += n
    return tuple(reversed(out)) if reverse else tuple(out)


@lru_cache(maxsize=16)
def _gate_affine(kinds: str, dtype):
    """Per-gate (scale, shift), shaped (G, 1, 1), for gates named by ``kinds`` ('s' sigmoid,
    't' tanh): sigmoid(z) = tanh(z * scale) * scale + shift with scale 1/2 and shift 1/2."""
    scale = xp.asarray([0.5 if k == "s" else 1.0 for k in kinds], dtype).reshape(-1, 1, 1)
    shift = xp.asarray([0.5 if k == "s" else 0.0 for k in kinds], dtype).reshape(-1, 1, 1)
    scale.flags.writeable = shift.flags.writeable = False
    return scale, shift


def _project(x, w, b, scale, steps):
    """x W^T + b for all rows, gate-major: (G, S, H), each gate's rows scaled by ``scale``; the
    bias rides along as a column of ones in x. Returns (array, pending): the rows of the first
    block of ``steps`` (see ``_blocks``) are computed here, the others on a worker thread
    meanwhile, so the recurrence must ``pending.result()`` before it goes past that block (the
    loop index of its last step, the third value returned). Each row is one product, whoever
    computes it."""
    G = scale.shape[0]
    H, I = w.shape[0] // G, w.shape[1]
    w3 = w.reshape(G, H, I) * scale
    if b is not None:
        xa = xp.empty((x.shape[0], I + 1), x.dtype)
        xa[:, :I] = x
        xa[:, I] = 1
        x = xa
        w3 = xp.concatenate([w3, b.reshape(G, H, 1) * scale], 2)
    wt = w3.transpose(0, 2, 1)
    out = xp.empty((G, x.shape[0], H), xp.result_type(x, wt))

    def rows(r):
        xp.matmul(x[r], wt, out=out[:, r])
    return (out,) + _ahead(rows, steps, x.shape[0], G * H * wt.shape[1])


def _ahead(fn, steps, S, work):
    """Run ``fn(rows)`` for every row a recurrence over ``steps`` will need: the rows of its
    first block (see ``_blocks``) here, the rest on a worker thread meanwhile (here too when
    they are fewer than ``_SHARE_MIN_WORK`` / ``work`` rows). Returns (pending, j): the loop
    must ``pending.result()`` (which re-raises the worker's error) before it runs the steps
    after loop index j."""
    ends = sorted(_blocks(steps))
    first = steps[:ends[0] + 1] if ends else ()
    a = min((r[0] for r in first), default=0)
    b = max((r[1] for r in first), default=S)
    rest = slice(b, S) if a == 0 else slice(0, a)       # the rows after the first block
    pending = threads.submit(fn, rest, here=(rest.stop - rest.start) * work < _SHARE_MIN_WORK)
    try:
        fn(slice(a, b))
    except BaseException:
        pending.wait()
        raise
    return pending, (ends[0] if ends else 0)


def _recurrent(w_hh, scale):
    """W_hh as a contiguous (G, P, H) stack for h @ w: one product per gate, gate-major."""
    G = scale.shape[0]
    H, P = w_hh.shape[0] // G, w_hh.shape[1]
    return xp.ascontiguousarray((w_hh.reshape(G, H, P) * scale).transpose(0, 2, 1))


def _const(bs) -> bool:
    return not bs or bs[0] == bs[-1]


def _prev(seq, init, bs, reverse):
    """For every row, the state entering its step: the same sequence's row of the step that ran
    before (``seq`` holds every step's state in row order), or its row of ``init``."""
    S, N = seq.shape[0], init.shape[0]
    if _const(bs):
        return xp.concatenate([seq[N:], init] if reverse else [init, seq[:S - N]])
    b = xp.asarray(bs)
    T = b.size
    off = xp.concatenate([xp.zeros(1, b.dtype), xp.cumsum(b)[:-1]])
    step = xp.repeat(xp.arange(T), b)
    j = xp.arange(S) - off[step]
    if reverse:
        nxt = xp.minimum(step + 1, T - 1)
        idx = xp.where((step + 1 < T) & (j < b[nxt]), off[nxt] + j, S + j)
    else:
        idx = xp.where(step > 0, off[step - 1] + j, S + j)
    return xp.concatenate([seq, init])[idx]


def _prev_rows(seq, init, bs, reverse, r):
    """``_prev(seq, init, bs, reverse)[r]`` for a slice of rows ``r``, without building the
    whole shifted copy when every step has the same batch size."""
    if not _const(bs):
        return _prev(seq, init, bs, reverse)[r]
    S, N = seq.shape[0], init.shape[0]
    a, b = r.start, r.stop
    if reverse:                             # row j enters from row j + N, or from init
        if b + N <= S:
            return seq[a + N:b + N]
        return xp.concatenate([seq[a + N:S], init[max(a, S - N) - (S - N):b - (S - N)]])
    if a >= N:                              # row j enters from row j - N, or from init
        return seq[a - N:b - N]
    return xp.concatenate([init[a:min(b, N)], seq[:max(b - N, 0)]])


def _last(bs, reverse, S):
    """Rows holding each sequence's final state: a slice, or an index for packed input."""
    N = bs[0] if bs else 0
    if reverse:
        return slice(0, N)                                  # step 0 runs last and holds all
    if _const(bs):
        return slice(S - N, S)
    b = xp.asarray(bs)
    off = xp.concatenate([xp.zeros(1, b.dtype), xp.cumsum(b)[:-1]])
    lens = (b[:, None] > xp.arange(N)).sum(0)
    return off[lens - 1] + xp.arange(N)


def _start(out, S, N, P, H, h0, c0, dt):
    """Views y (S, P), h_n (N, P), c_n (N, H) of the output buffer (c_n None without H), and
    the initial states as arrays."""
    y = out[:S * P].reshape(S, P)
    hn = out[S * P:(S + N) * P].reshape(N, P)
    h0 = xp.zeros((N, P), dt) if h0 is None else h0
    if not H:
        return y, hn, None, h0, None
    cn = out[(S + N) * P:].reshape(N, H)
    return y, hn, cn, h0, xp.zeros((N, H), dt) if c0 is None else c0


def _entering(prev, init, n, pn):
    """The state entering a step of ``n`` rows when the step before had ``pn``: a prefix of
    that step's rows, plus initial rows for sequences that start here (packed, reversed)."""
    if n <= pn:
        return prev[:n]
    return xp.concatenate([prev, init[pn:n]])


def _grads_in(gout, S, N, P, H):
    """The upstream gradient split like the output: gy (S, P), and copies of gh (N, P) and gc
    (N, H) to accumulate into."""
    gy = gout[:S * P].reshape(S, P)
    gh = gout[S * P:(S + N) * P].reshape(N, P).copy()
    gc = gout[(S + N) * P:].reshape(N, H).copy() if H else None
    return gy, gh, gc


class RnnLayer(Function):
    """One Elman RNN layer over a sequence: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act
    tanh or relu (``relu``). Returns flat [y, h_n]."""

    @staticmethod
    def forward(ctx: Context, x, h0, w_ih, w_hh, b_ih, b_hh, bs, reverse, relu):
        S, H = x.shape[0], w_hh.shape[0]
        N = bs[0] if bs else 0
        xw = x @ w_ih.T
        if b_ih is not None:
            xw += b_ih + b_hh
        whh = xp.ascontiguousarray(w_hh.T)
        out = xp.empty((S + N) * H, x.dtype)
        y, hn, _, h0, _ = _start(out, S, N, H, 0, h0, None, x.dtype)
        prev, pn = h0, N
        for a, b, n in _steps(bs, reverse):
            h, g, yr = _entering(prev, h0, n, pn), xw[a:b], y[a:b]
            g += h @ whh
            if relu:
                xp.maximum(g, 0, out=yr)
            else:
                xp.tanh(g, out=yr)
            prev, pn = yr, n
        hn[...] = y[_last(bs, reverse, S)]
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, w_ih, w_hh, out, h0)
            ctx.bs, ctx.reverse, ctx.relu = bs, reverse, relu
        return out

    @staticmethod
    def backward(ctx: Context, gout):
        x, w_ih, w_hh, out, h0 = ctx.saved_tensors
        S, H = x.shape[0], w_hh.shape[0]
        bs = ctx.bs
        N = bs[0] if bs else 0
        gy, dhs, _ = _grads_in(gout, S, N, H, 0)
        y = out[:S * H].reshape(S, H)
        fac = (y > 0) if ctx.relu else 1 - y * y            # act'(z) from act(z)
        d = xp.empty((S, H), x.dtype)
        need = ctx.needs_input_grad
        d3 = d.reshape(1, S, H)
        hp = _prev(y, h0, bs, ctx.reverse) if need[3] else None
        grads = _GateGrads(need, 1, d3, d3, x, w_ih, hp, (d3, d3))
        steps = _steps(bs, not ctx.reverse)
        ends = _blocks(steps)
        try:
            for j, (a, b, n) in enumerate(steps):
                dh, dr = dhs[:n], d[a:b]
                dh += gy[a:b]
                xp.multiply(dh, fac[a:b], out=dr)
                xp.matmul(dr, w_hh, out=dh)
                if j in ends:
                    grads.add(ends[j])
        except BaseException:
            grads.wait()
            raise
        return grads.result((dhs,)) + (None, None, None)


class LstmLayer(Function):
    """One LSTM layer over a sequence (gates i, f, g, o as torch orders them; with ``w_hr``,
    h = (o * tanh(c)) W_hr^T). Returns flat [y, h_n, c_n]."""

    @staticmethod
    def forward(ctx: Context, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, bs, reverse):
        S, P = x.shape[0], w_hh.shape[1]
        H = w_hh.shape[0] // 4
        N = bs[0] if bs else 0
        dt = x.dtype
        train = bool(ctx.needs_input_grad)
        scale, shift = _gate_affine("ssts", dt)
        steps = _steps(bs, reverse)
        act, rest, first = _project(x, w_ih, None if b_ih is None else b_ih + b_hh, scale,
                                    steps)
        whh = _recurrent(w_hh, scale)
        whr = None if w_hr is None else xp.ascontiguousarray(w_hr.T)
        out = xp.empty((S + N) * P + N * H, dt)
        y, hn, cn, h0, c0 = _start(out, S, N, P, H, h0, c0, dt)
        cs = xp.empty((S, H), dt)                           # c of every step
        tc = xp.empty((S if train else N, H), dt)           # tanh(c)
        hf = None if whr is None else xp.empty((S if train else N, H), dt)  # o tanh(c)
        tmp, hw = xp.empty((N, H), dt), xp.empty((4, N, H), dt)
        kern = _lstm_kernels(dt, w_hr)
        if kern is not None:
            c0 = xp.ascontiguousarray(c0)
        ph, pc, pn = h0, c0, N
        for j, (a, b, n) in enumerate(steps):
            if j > first:                                   # act's rows from a worker
                rest.result()
            h, c, g, p = _entering(ph, h0, n, pn), _entering(pc, c0, n, pn), act[:, a:b], hw[:, :n]
            xp.matmul(h, whh, out=p)
            if kern is not None:                            # the rest in one compiled pass
                ph, pc, pn = y[a:b], cs[a:b], n
                kern.lstm_forward_step(act, a, hw, c, pc, tc[a:b] if train else tc[:n], ph)
                continue
            g += p
            xp.tanh(g, out=g)
            g *= scale
            g += shift
            cr, t = cs[a:b], tmp[:n]
            xp.multiply(g[1], c, out=cr)
            xp.multiply(g[0], g[2], out=t)
            cr += t
            tcr = tc[a:b] if train else tc[:n]
            xp.tanh(cr, out=tcr)
            yr = y[a:b]
            if whr is None:
                xp.multiply(g[3], tcr, out=yr)
            else:
                hfr = hf[a:b] if train else hf[:n]
                xp.multiply(g[3], tcr, out=hfr)
                xp.matmul(hfr, whr, out=yr)
            ph, pc, pn = yr, cr, n
        last = _last(bs, reverse, S)
        hn[...] = y[last]
        cn[...] = cs[last]
        if train:
            ctx.save_for_backward(x, w_ih, w_hh, w_hr, out, act, cs, tc, hf, h0, c0)
            ctx.bs, ctx.reverse = bs, reverse
        return out

    @staticmethod
    def backward(ctx: Context, gout):
        x, w_ih, w_hh, w_hr, out, act, cs, tc, hf, h0, c0 = ctx.saved_tensors
        S, P = x.shape[0], w_hh.shape[1]
        H = w_hh.shape[0] // 4
        bs, rev = ctx.bs, ctx.reverse
        N = bs[0] if bs else 0
        dt = x.dtype
        gy, dhs, dcs = _grads_in(gout, S, N, P, H)
        kern = _lstm_kernels(dt, w_hr)
        if kern is not None:
            return _lstm_backward_compiled(ctx, kern, gy, dhs, dcs)
        f = act[1]
        # every step's factors: d(i, f, g) = dc k, (do, dc += ) = dh m; the later steps' on a
        # worker while the recurrence starts
        k = xp.empty((3, S, H), dt)
        m = xp.empty((2, S, H), dt)

        def factors(r):
            i, f, g, o = act[:, r]
            k0, k1, k2, m0, m1 = k[0, r], k[1, r], k[2, r], m[0, r], m[1, r]
            for sg, other, d in ((i, g, k0), (f, None, k1), (o, tc[r], m0)):
                xp.subtract(1, sg, out=d)                   # sigmoid' = s (1 - s)
                d *= sg
                if other is not None:
                    d *= other
            k1 *= _prev_rows(cs, c0, bs, rev, r)
            xp.multiply(g, g, out=k2)                       # tanh' = 1 - t^2
            xp.subtract(1, k2, out=k2)
            k2 *= i
            xp.multiply(tc[r], tc[r], out=m1)
            xp.subtract(1, m1, out=m1)
            m1 *= o
        steps = _steps(bs, not rev)
        later, first = _ahead(factors, steps, S, 12 * H)
        buf = xp.empty((5, S, H), dt)                       # d(i, f, g, o), then dc from dh
        d = buf[:4]
        whh = w_hh.reshape(4, H, P)
        dhy = xp.empty((S, P), dt) if w_hr is not None else None
        hw = xp.empty((4, N, P), dt)
        need = ctx.needs_input_grad
        hp = _prev(out[:S * P].reshape(S, P), h0, bs, rev) if need[4] else None
        grads = _GateGrads(need, 2, d, d, x, w_ih, hp, (d, d))
        ends = _blocks(steps)
        try:
            for j, (a, b, n) in enumerate(steps):
                if j > first:                               # factors from a worker
                    later.result()
                dh, dc, bv = dhs[:n], dcs[:n], buf[:, a:b]
                dh += gy[a:b]
                if w_hr is None:
                    dhf = dh
                else:
                    dhy[a:b] = dh
                    dhf = dh @ w_hr
                xp.multiply(dhf, m[:, a:b], out=bv[3:])
                dc += bv[4]
                xp.multiply(dc, k[:, a:b], out=bv[:3])
                dc *= f[a:b]
                _add_reduce(xp.matmul(bv[:4], whh, out=hw[:, :n]), 0, out=dh)
                if j in ends:
                    grads.add(ends[j])
        except BaseException:
            later.wait()
            grads.wait()
            raise
        return grads.result((dhs, dcs)) + (_mm(dhy.T, hf) if need[7] else None, None, None)


def _lstm_kernels(dt, w_hr):
    """The compiled step kernels (ops/_rnn_jit.py) when they apply to this layer: float32, no
    projection, kernels enabled (backend/jit.py); else None and the NumPy path runs."""
    if dt != xp.float32 or w_hr is not None:
        return None
    return jit.load("numtorch.ops._rnn_jit")


def _lstm_backward_compiled(ctx, kern, gy, dhs, dcs):
    """LstmLayer.backward with the compiled step kernel: one product and one kernel call per
    step (the kernel computes the local derivatives itself, so no factors are precomputed)."""
    x, w_ih, w_hh, _, out, act, cs, tc, _, h0, c0 = ctx.saved_tensors
    S, P = x.shape[0], w_hh.shape[1]
    H = w_hh.shape[0] // 4
    bs, rev = ctx.bs, ctx.reverse
    N = bs[0] if bs else 0
    d = xp.empty((4, S, H), x.dtype)                    # d(i, f, g, o) pre-activation
    whh = w_hh.reshape(4, H, P)
    hw = xp.empty((4, N, P), x.dtype)
    need = ctx.needs_input_grad
    hp = _prev(out[:S * P].reshape(S, P), h0, bs, rev) if need[4] else None
    grads = _GateGrads(need, 2, d, d, x, w_ih, hp, (d, d))
    steps = _steps(bs, not rev)
    ends = _blocks(steps)
    pn = 0
    try:
        for j, (a, b, n) in enumerate(steps):
            cp = _prev_rows(cs, c0, bs, rev, slice(a, b))
            kern.lstm_backward_step(act, a, tc, cp, hw, pn, dhs, gy, dcs, d)
            xp.matmul(d[:, a:b], whh, out=hw[:, :n])
            pn = n
            if j in ends:
                grads.add(ends[j])
        if steps:       # each row of hw last holds its sequence's first step's d W_hh: h0's grad
            _add_reduce(hw, 0, out=dhs)
    except BaseException:
        grads.wait()
        raise
    return grads.result((dhs, dcs)) + (None, None, None)


class GruLayer(Function):
    """One GRU layer over a sequence: r, z = sigmoid(.), n = tanh(x W_in^T + b_in + r (h W_hn^T
    + b_hn)), h' = (1 - z) n + z h. Returns flat [y, h_n]."""

    @staticmethod
    def forward(ctx: Context, x, h0, w_ih, w_hh, b_ih, b_hh, bs, reverse):
        S, H = x.shape[0], w_hh.shape[1]
        N = bs[0] if bs else 0
        dt = x.dtype
        train = bool(ctx.needs_input_grad)
        scale, _ = _gate_affine("sst", dt)
        bhn = b = None
        if b_ih is not None:
            b = b_ih + b_hh
            b[2 * H:] = b_ih[2 * H:]                         # b_hn stays inside r * (.)
            bhn = b_hh[2 * H:]
        steps = _steps(bs, reverse)
        act, rest, first = _project(x, w_ih, b, scale, steps)  # (3, S, H): becomes r, z, n
        whh = _recurrent(w_hh, scale)
        out = xp.empty((S + N) * H, dt)
        y, hn, _, h0, _ = _start(out, S, N, H, 0, h0, None, dt)
        gh = xp.empty((3, S if train else N, H), dt)        # h W_hh^T (+ b_hn)
        tmp = xp.empty((N, H), dt)
        prev, pn = h0, N
        for j, (a, b, n) in enumerate(steps):
            if j > first:                                   # act's rows from a worker
                rest.result()
            h, g, yr = _entering(prev, h0, n, pn), act[:, a:b], y[a:b]
            ghr = gh[:, a:b] if train else gh[:, :n]
            xp.matmul(h, whh, out=ghr)
            rz, hw, ng = g[:2], ghr[2], g[2]
            rz += ghr[:2]
            xp.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            if bhn is not None:
                hw += bhn
            t = tmp[:n]
            xp.multiply(g[0], hw, out=t)
            ng += t
            xp.tanh(ng, out=ng)
            xp.subtract(h, ng, out=yr)
            yr *= g[1]
            yr += ng
            prev, pn = yr, n
        hn[...] = y[_last(bs, reverse, S)]
        if train:
            ctx.save_for_backward(x, w_ih, w_hh, out, act, gh, h0)
            ctx.bs, ctx.reverse = bs, reverse
        return out

    @staticmethod
    def backward(ctx: Context, gout):
        x, w_ih, w_hh, out, act, gh, h0 = ctx.saved_tensors
        S, H = x.shape[0], w_hh.shape[1]
        bs, rev = ctx.bs, ctx.reverse
        N = bs[0] if bs else 0
        dt = x.dtype
        gy, dhs, _ = _grads_in(gout, S, N, H, 0)
        r, z, n_ = act
        y = out[:S * H].reshape(S, H)
        # every step's factors at once: (dr, dz, dhn, dn) = dh k, pre-activation gradients
        k = xp.empty((4, S, H), dt)
        fn = k[3]
        xp.multiply(1 - z, 1 - n_ * n_, out=fn)
        xp.multiply(fn, gh[2] * r * (1 - r), out=k[0])
        hp = _prev(y, h0, bs, rev)
        xp.multiply(hp - n_, z * (1 - z), out=k[1])
        xp.multiply(fn, r, out=k[2])
        e = xp.empty((4, S, H), dt)
        whh = w_hh.reshape(3, H, H)
        for a, b, n in _steps(bs, not rev):
            dh, ev = dhs[:n], e[:, a:b]
            dh += gy[a:b]
            xp.multiply(dh, k[:, a:b], out=ev)
            dh *= z[a:b]
            dh += _add_reduce(xp.matmul(ev[:3], whh), 0)
        dgx = xp.concatenate([e[:2], e[3:]])                # w.r.t. x W_ih^T + b_ih
        grads = _GateGrads(ctx.needs_input_grad, 1, dgx, e[:3], x, w_ih, hp, (dgx, e[:3]))
        grads.add(_halves(slice(0, S)))
        return grads.result((dhs,)) + (None, None)


#: the backward recurrence hands its finished rows to ``_GateGrads`` in up to this many blocks,
#: of at least ``_BLOCK_MIN_STEPS`` steps each
_BLOCKS = 8
_BLOCK_MIN_STEPS = 8
#: a share of fewer multiply-adds is computed by the caller (handing it off costs ~50 us)
_SHARE_MIN_WORK = 1 << 20


@lru_cache(maxsize=256)
def _blocks(steps) -> dict:
    """Cut a recurrence's steps (in the order it runs them) into runs of consecutive steps:
    {loop index of a run's last step: [(rows, here), ...]}. The last run is cut in two halves
    of rows, one to be computed by the caller (``here``), the other by a worker. Depends on
    the shapes alone (cached: callers only read it)."""
    T = len(steps)
    if not T:
        return {}
    k = min(_BLOCKS, max(1, T // _BLOCK_MIN_STEPS))
    out, start = {}, 0
    for j in range(k):
        end = round(T * (j + 1) / k)
        run = steps[start:end]
        a, b = min(r[0] for r in run), max(r[1] for r in run)
        out[end - 1] = [(slice(a, b), False)]
        start = end
    out[T - 1] = _halves(slice(a, b))
    return out


def _halves(rows) -> list:
    """[(first half, on a worker), (second half, here)]: the last share of a backward pass."""
    mid = (rows.start + rows.stop) // 2
    return [(slice(rows.start, mid), False), (slice(mid, rows.stop), True)]


class _GateGrads:
    """Gradients of (x, W_ih, W_hh, b_ih, b_hh) from the gate-major pre-activation gradients
    ``dx`` (G, S, H) w.r.t. x W_ih^T + b_ih and ``dh`` w.r.t. h W_hh^T + b_hh (``dbias``: the
    arrays that give b_ih's and b_hh's); ``hp`` (S, P) holds the state entering each row's step
    (None when W_hh needs no gradient); ``k`` states precede W_ih among the op's inputs.

    ``add(rows)`` takes a block of rows whose gradients are final and computes its share with
    ``threads.submit``: on a worker thread while the backward recurrence goes on over the next
    rows (the shares are a third of an LSTM's backward). ``result(states)`` sums the shares in
    the order the blocks came, so the bits do not depend on the thread count; x's gradient rows
    are each one product, as in a single call.
    """

    def __init__(self, need, k, dx, dh, x, w_ih, hp, dbias) -> None:
        G, S, H = dx.shape
        self.need, self.k = need, k
        self.dx, self.dh, self.x, self.hp, self.dbias = dx, dh, x, hp, dbias
        self.w = w_ih.reshape(G, H, -1)
        self.work = G * H * (x.shape[1] + (hp.shape[1] if hp is not None else 0))  # per row
        self.gx = xp.empty(x.shape, dx.dtype) if need[0] else None
        self.ones = xp.ones(S, dx.dtype)
        self.jobs: list = []

    def _share(self, r):
        need, k, mm = self.need, self.k, xp.matmul
        dx = self.dx[:, r]
        if self.gx is not None:
            _add_reduce(mm(dx, self.w), 0, out=self.gx[r])
        gwi = mm(dx.transpose(0, 2, 1), self.x[r]) if need[1 + k] else None
        gwh = mm(self.dh[:, r].transpose(0, 2, 1), self.hp[r]) if need[2 + k] else None
        ones, (b0, b1) = self.ones[r], self.dbias
        gb0 = mm(ones, b0[:, r]) if need[3 + k] else None
        reuse = b1 is b0 and gb0 is not None            # then result() gives b_hh b_ih's array
        gb1 = mm(ones, b1[:, r]) if need[4 + k] and not reuse else None
        return gwi, gwh, (gb0, gb1)

    def add(self, blocks) -> None:
        """Compute the shares of ``[(rows, here), ...]`` (see ``_blocks``), on a worker unless
        ``here``."""
        for rows, here in blocks:
            small = (rows.stop - rows.start) * self.work < _SHARE_MIN_WORK
            self.jobs.append(threads.submit(self._share, rows, here=here or small))

    def wait(self) -> None:
        """Wait for every share (call before raising: the workers write ``gx``)."""
        for j in self.jobs:
            j.wait()

    def result(self, states) -> tuple:
        """(gx, *states, gW_ih, gW_hh, gb_ih, gb_hh), None where no gradient is wanted."""
        if not self.jobs:                   # no rows at all: zeros of the right shapes
            self.add([(slice(0, 0), True)])
        for job in reversed([j for j in self.jobs if j.handed_off]):
            if not job.steal():             # shares no worker has started are computed here
                break
        self.wait()
        shares = [j.result() for j in self.jobs]
        need, k = self.need, self.k
        G, _, H = self.dx.shape

        def total(i, j=None):
            parts = [sh[i] if j is None else sh[i][j] for sh in shares]
            if parts[0] is None:
                return None
            acc = parts[0]                  # a fresh array of ours: summed into in place
            for p in parts[1:]:
                acc += p
            return acc.reshape(G * H, -1) if j is None else acc.reshape(G * H)

        out = [self.gx] + [st if need[1 + j] else None for j, st in enumerate(states)]
        out += [total(0), total(1)]
        gbi, gbh = total(2, 0), total(2, 1)
        if need[4 + k] and gbh is None:     # b_hh's gradient is b_ih's (one array for both)
            gbh = gbi
        return tuple(out + [gbi, gbh])


def rnn_layer(mode: str, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, bs, reverse=False):
    """Run one layer in one direction: ``mode`` is 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'.

    ``x`` is (S, I) in packed row order with per-step batch sizes ``bs`` (a tuple of ints, never
    increasing); h0/c0 Tensors or None. Returns Tensors (y (S, P), h_n (N, P), c_n (N, H) or
    None).
    """
    S, N = x._data.shape[0], (bs[0] if bs else 0)
    P = w_hh._data.shape[1]
    if mode == "LSTM":
        out = LstmLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, bs, reverse)
        H = w_hh._data.shape[0] // 4
        k = (S + N) * P
        return (out[:S * P].view(S, P), out[S * P:k].view(N, P), out[k:].view(N, H))
    if mode == "GRU":
        out = GruLayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, bs, reverse)
    else:
        out = RnnLayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, bs, reverse, mode == "RNN_RELU")
    return out[:S * P].view(S, P), out[S * P:].view(N, P), None
