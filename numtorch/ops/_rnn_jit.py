"""numba kernels for the LSTM's per-step element-wise work (float32), loaded through
``backend.jit.load``; ``ops/rnn.py`` keeps the NumPy path for every other case.

One LSTM step costs one matrix product and ~10 small ufunc calls (forward) or ~7 (backward),
each a pass over the step's (n, H) rows plus ~1 us of call overhead. A kernel does a step's
element-wise work in one pass: ~12 us instead of ~29 us forward at n=32, H=128 (measured in
docs/performance.md). Arrays use ops/rnn.py's layout: gates gate-major (4, S, H) in torch's
order i, f, g, o, with the sigmoid gates' pre-activations halved (sigmoid(z) = (1 + tanh(z/2))/2).

tanh is a rational approximation (the one Eigen and XLA use for float32): within 7 ulp of the
exact value (NumPy's is within 2), and plain arithmetic, so the loops vectorise.
"""
from __future__ import annotations

from numba import njit

from ..backend import xp

_f32 = xp.float32
_KW = dict(nogil=True, boundscheck=False, error_model="numpy")


@njit(inline="always")
def _tanh(x):
    hi = _f32(7.90531110763549805)                  # tanh is +-1 beyond, to 5 ulp
    x = hi if x > hi else (-hi if x < -hi else x)   # (NaN stays NaN)
    x2 = x * x
    p = x2 * _f32(-2.76076847742355e-16) + _f32(2.00018790482477e-13)
    p = x2 * p + _f32(-8.60467152213735e-11)
    p = x2 * p + _f32(5.12229709037114e-08)
    p = x2 * p + _f32(1.48572235717979e-05)
    p = x2 * p + _f32(6.37261928875436e-04)
    p = x2 * p + _f32(4.89352455891786e-03)
    q = x2 * _f32(1.19825839466702e-06) + _f32(1.18534705686654e-04)
    q = x2 * q + _f32(2.26843463243900e-03)
    q = x2 * q + _f32(4.89352518554385e-03)
    return x * p / q


@njit(**_KW)
def lstm_forward_step(act, a, hw, c, cs, tc, y):
    """One forward step over rows a:a+n (n = len(c)): act[:, a+r] += hw[:, r] and becomes the
    gates' activations (in place); c' = f c + i g into cs[r], tanh(c') into tc[r], h = o tanh(c')
    into y[r]. act (4, S, H); hw (4, >= n, H) the step's h W_hh^T; c (n, H) the entering cell
    state; cs, tc, y (n, H) the step's rows."""
    half = _f32(0.5)
    n, H = c.shape
    for r in range(n):
        ai, af, ag, ao = act[0, a + r], act[1, a + r], act[2, a + r], act[3, a + r]
        pi, pf, pg, po = hw[0, r], hw[1, r], hw[2, r], hw[3, r]
        cr, csr, tcr, yr = c[r], cs[r], tc[r], y[r]
        for j in range(H):
            i = _tanh(ai[j] + pi[j]) * half + half
            f = _tanh(af[j] + pf[j]) * half + half
            g = _tanh(ag[j] + pg[j])
            o = _tanh(ao[j] + po[j]) * half + half
            ai[j], af[j], ag[j], ao[j] = i, f, g, o
            cc = f * cr[j] + i * g
            csr[j] = cc
            t = _tanh(cc)
            tcr[j] = t
            yr[j] = o * t


@njit(**_KW)
def lstm_backward_step(act, a, tc, cp, hw, pn, dh, gy, dc, d):
    """One backward step over rows a:a+n (n = len(cp)): the gradient w.r.t. the step's output h
    is hw[0] + hw[1] + hw[2] + hw[3] (the later step's d W_hh, summed in that order) for rows
    below ``pn``, dh's row otherwise, plus gy[a+r]; writes the gates' pre-activation gradients
    into d[:, a+r] and turns dc's first n rows (the gradient w.r.t. the step's c) into the
    gradient w.r.t. the entering c. act (4, S, H) activations; tc (S, H) tanh(c); cp (n, H) the
    entering c; hw (4, >= pn, H); dh, dc (>= n, H); gy (S, H); d (4, S, H)."""
    one = _f32(1)
    n, H = cp.shape
    for r in range(n):
        ai, af, ag, ao = act[0, a + r], act[1, a + r], act[2, a + r], act[3, a + r]
        di, df, dg, do = d[0, a + r], d[1, a + r], d[2, a + r], d[3, a + r]
        tcr, cpr, gyr, dcr, dhr = tc[a + r], cp[r], gy[a + r], dc[r], dh[r]
        p0, p1, p2, p3 = hw[0, r], hw[1, r], hw[2, r], hw[3, r]
        below = r < pn
        for j in range(H):
            g_h = ((p0[j] + p1[j]) + p2[j]) + p3[j] if below else dhr[j]
            g_h = g_h + gyr[j]
            i, f, g, o, t = ai[j], af[j], ag[j], ao[j], tcr[j]
            do[j] = g_h * ((one - o) * o * t)
            g_c = dcr[j] + g_h * ((one - t * t) * o)
            di[j] = g_c * ((one - i) * i * g)
            df[j] = g_c * ((one - f) * f * cpr[j])
            dg[j] = g_c * ((one - g * g) * i)
            dcr[j] = g_c * f
