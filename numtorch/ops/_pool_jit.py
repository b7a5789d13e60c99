"""numba kernels for 2-D max pooling without padding or dilation (MaxPool2d's common case),
loaded through ``backend.jit.load``; ``ops/pool.py`` keeps its NumPy path for every other case.

The NumPy path reduces one axis at a time with a running maximum over strided views: about ten
passes over the input, forward, and as many to scatter the gradient back. A kernel reads each
window once and records the winner's position in the window; the backward adds each gradient
at that position. Same rule as torch's CPU kernel: windows are scanned in row-major order and a
value wins when it is greater than the maximum so far or NaN, so ties go to the first maximum
and NaN to the last NaN.

Kernels are compiled per window geometry (kernel size and stride are compile-time constants:
the window loops unroll, ~6x faster than with run-time bounds), a fraction of a second each.
"""
from __future__ import annotations

from functools import lru_cache

from numba import njit

_KW = dict(nogil=True, boundscheck=False, error_model="numpy")


@lru_cache(maxsize=32)
def max_pool2d_forward(kh: int, kw: int, sh: int, sw: int):
    """``f(x, y, pos)``: x (P, H, W) pooled by kh x kw windows at strides (sh, sw) into y
    (P, OH, OW); pos (P, OH, OW) int8 gets the winner's offset in its window, i * kw + j."""
    @njit(**_KW)
    def forward(x, y, pos):
        P, OH, OW = y.shape
        for p in range(P):
            for oh in range(OH):
                for ow in range(OW):
                    r0, c0 = oh * sh, ow * sw
                    best, at = x[p, r0, c0], 0      # (scanned again below: NaN stays)
                    for i in range(kh):
                        for j in range(kw):
                            v = x[p, r0 + i, c0 + j]
                            if v > best or v != v:
                                best, at = v, i * kw + j
                    y[p, oh, ow] = best
                    pos[p, oh, ow] = at
    return forward


@lru_cache(maxsize=32)
def max_pool2d_backward(kh: int, kw: int, sh: int, sw: int):
    """``f(gy, pos, gx)``: gx (P, H, W) gets each gy (P, OH, OW) at the position ``pos`` that
    ``max_pool2d_forward`` recorded for its window, and zeros elsewhere."""
    if (kh, kw) == (sh, sw):
        @njit(**_KW)
        def tiles(gy, pos, gx):                     # windows tile the input: write each once
            P, OH, OW = gy.shape
            zero = gx.dtype.type(0)
            for p in range(P):
                for oh in range(OH):
                    for ow in range(OW):
                        q, g = pos[p, oh, ow], gy[p, oh, ow]
                        for i in range(kh):
                            for j in range(kw):
                                gx[p, oh * sh + i, ow * sw + j] = g if q == i * kw + j else zero
                gx[p, OH * sh:] = 0                 # what no window covers (floor mode)
                gx[p, :OH * sh, OW * sw:] = 0
        return tiles

    @njit(**_KW)
    def scatter(gy, pos, gx):
        P, OH, OW = gy.shape
        gx[...] = 0
        for p in range(P):
            for oh in range(OH):
                for ow in range(OW):
                    q = pos[p, oh, ow]
                    gx[p, oh * sh + q // kw, ow * sw + q % kw] += gy[p, oh, ow]
    return scatter
