"""Convolution primitives: Conv2d (also serving 1-D), ConvTranspose2d, Unfold (im2col) and Fold.

Arguments arrive normalised by ``nn/_functional_conv.py``: ``stride`` and ``dilation`` as
(h, w) pairs, ``padding`` as (top, bottom, left, right). A 1-D convolution is the 2-D one over an
(N, C, 1, L) view; an unbatched input gets a batch dimension of one. The array kernels are in
``_conv_impl.py`` (row-unfolding plus one batched matrix product per kernel row).
"""
from __future__ import annotations

from ..autograd.function import Context, Function
from . import _conv_impl as K

xp = Context.xp


def _as4d(x, w, batched: bool):
    """(N, C, H, W) and (O, C/G, KH, KW) views of a 1-D/2-D, batched/unbatched input."""
    if w.ndim == 3:                                    # conv1d: (.., L) -> (.., 1, L)
        x = x[..., None, :]
        w = w[:, :, None, :]
    if not batched:
        x = x[None]
    return x, w


class Conv2d(Function):
    """y = conv2d(x, w) + b (cross-correlation), for 1-D or 2-D, batched or unbatched input.

    Gradients: gx is the transposed convolution of gy; gw[o, c, i, j] = sum gy * shifted x;
    gb = gy summed over all but the channel dimension.
    """

    @staticmethod
    def forward(ctx: Context, x, w, b, stride, padding, dilation, groups):
        batched = x.ndim == w.ndim
        x4, w4 = _as4d(x, w, batched)
        g = K.geometry(x4.shape, w4.shape, stride, padding, dilation, groups)
        need = ctx.needs_input_grad
        y, X2 = K.conv_forward(x4, w4, b, g, keep=bool(need) and need[1])
        if need:
            ctx.g, ctx.shapes = g, (x.shape, w.shape)
            ctx.save_for_backward(X2 if need[1] else None, w if need[0] else None)
        if w.ndim == 3:
            y = y[:, :, 0]
        return y if batched else y[0]

    @staticmethod
    def backward(ctx: Context, gy):
        X2, w = ctx.saved_tensors
        g = ctx.g
        xs, ws = ctx.shapes
        need = ctx.needs_input_grad
        # a broadcast gy (from .sum().backward()) has zero strides, which BLAS cannot read
        gy4 = xp.ascontiguousarray(gy).reshape(g.N, g.O, g.OH, g.OW)
        gx = K.conv_transpose(gy4, w.reshape(w.shape[:2] + (g.KH, g.KW)), g).reshape(xs) \
            if need[0] else None
        gw = K.conv_weight_grad(X2, gy4, g).reshape(ws) if need[1] else None
        gb = gy4.sum((0, 2, 3)) if need[2] else None
        return gx, gw, gb, None, None, None, None


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w) + b: the adjoint in x of a convolution with weight w.

    w has shape (C_in, C_out / G, KH, KW); ``out_hw`` is the output's (H, W), which settles
    output_padding. Gradients: gx is the convolution of gy with w; gw pairs gy's unfolding with x.
    """

    @staticmethod
    def forward(ctx: Context, x, w, b, stride, padding, dilation, groups, out_hw):
        batched = x.ndim == w.ndim
        x4, w4 = _as4d(x, w, batched)
        N, Cin, H, W = x4.shape
        Cout = w4.shape[1] * groups
        # the convolution this is the adjoint of: input (N, Cout, *out_hw), output (N, Cin, H, W)
        g = K.geometry((N, Cout) + tuple(out_hw), w4.shape, stride, padding, dilation, groups,
                       (H, W))
        y = K.conv_transpose(x4, w4, g)
        if b is not None:
            y += b.reshape(-1, 1, 1)
        need = ctx.needs_input_grad
        if need:
            ctx.g, ctx.shapes = g, (x.shape, w.shape)
            ctx.save_for_backward(x if need[1] else None, w if need[0] else None)
        if w.ndim == 3:
            y = y[:, :, 0]
        return y if batched else y[0]

    @staticmethod
    def backward(ctx: Context, gy):
        x, w = ctx.saved_tensors
        g = ctx.g
        xs, ws = ctx.shapes
        need = ctx.needs_input_grad
        gy4 = xp.ascontiguousarray(gy).reshape(g.N, g.C, g.H, g.W)
        w4 = w.reshape(w.shape[:2] + (g.KH, g.KW)) if w is not None else None
        gx = gw = None
        if need[0]:
            gx, X2 = K.conv_forward(gy4, w4, None, g, keep=False)
            gx = gx.reshape(xs)
        if need[1]:
            if not need[0]:
                X2 = K.unfold_rows(gy4, g, "X2")
            gw = K.conv_weight_grad(X2, x.reshape(g.N, g.O, g.OH, g.OW), g).reshape(ws)
        gb = gy4.sum((0, 2, 3)) if need[2] else None
        return gx, gw, gb, None, None, None, None, None


class Unfold(Function):
    """im2col: (N, C, H, W) -> (N, C * KH * KW, L) sliding blocks; unbatched (C, H, W) too.

    The gradient is ``Fold`` of gy (each input element collects the entries that copied it).
    """

    @staticmethod
    def forward(ctx: Context, x, kernel_size, dilation, padding, stride):
        batched = x.ndim == 4
        x4 = x if batched else x[None]
        g = K.geometry(x4.shape, (1, 1) + tuple(kernel_size), tuple(stride),
                       (padding[0], padding[0], padding[1], padding[1]), tuple(dilation), 1)
        cols = K.im2col(x4, g)
        if ctx.needs_input_grad:
            ctx.g, ctx.xshape = g, x.shape
        return cols if batched else cols[0]

    @staticmethod
    def backward(ctx: Context, gy):
        g = ctx.g
        gx = K.col2im(gy.reshape(g.N, g.C * g.KH * g.KW, g.OH * g.OW), g)
        return gx.reshape(ctx.xshape), None, None, None, None


class Fold(Function):
    """col2im: (N, C * KH * KW, L) -> (N, C, H, W), summing overlapping blocks; unbatched too.

    The gradient is ``Unfold`` of gy.
    """

    @staticmethod
    def forward(ctx: Context, x, output_size, kernel_size, dilation, padding, stride):
        batched = x.ndim == 3
        x3 = x if batched else x[None]
        kh, kw = kernel_size
        C = x3.shape[1] // (kh * kw)
        g = K.geometry((x3.shape[0], C) + tuple(output_size), (1, 1, kh, kw), tuple(stride),
                       (padding[0], padding[0], padding[1], padding[1]), tuple(dilation), 1)
        y = K.col2im(x3, g)
        if ctx.needs_input_grad:
            ctx.g, ctx.xshape = g, x.shape
        return y if batched else y[0]

    @staticmethod
    def backward(ctx: Context, gy):
        g = ctx.g
        gx = K.im2col(gy.reshape(g.N, g.C, g.H, g.W), g)
        return gx.reshape(ctx.xshape), None, None, None, None, None
