"""nn.functional: conv1d, conv2d, conv_transpose1d, conv_transpose2d, unfold, fold.

These parse and check arguments the way PyTorch does (same exception classes and messages) and
end in the primitives of ``ops/conv.py``.
"""
from __future__ import annotations

import warnings

from ..ops.conv import Conv2d, ConvTranspose2d, Fold, Unfold
from ..tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "fold", "unfold"]

_TORCH_TYPES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool"}
_C_TYPES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}


def _tuple(v, n: int, name: str, nd: int):
    """``v`` (int or sequence of n ints) as an n-tuple; torch's error for a wrong length."""
    if type(v) is tuple and len(v) == n:
        return v
    if isinstance(v, int):
        return (v,) * n
    try:
        t = tuple(int(e) for e in v)
    except TypeError:
        raise TypeError(f"argument '{name}' must be tuple of ints, not {type(v).__name__}") \
            from None
    if len(t) == 1:
        return t * n
    if len(t) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} "
                           f"values to match the convolution dimensions, but got {name}="
                           f"{list(t)}")
    return t


def _shape(s) -> str:
    return "[" + ", ".join(str(d) for d in s) + "]"


def _check_types(x, w, b, fname):
    if not isinstance(x, Tensor) or not isinstance(w, Tensor) or \
            (b is not None and not isinstance(b, Tensor)):
        bad = x if not isinstance(x, Tensor) else w if not isinstance(w, Tensor) else b
        raise TypeError(f"{fname}() received an invalid combination of arguments - got "
                        f"{type(bad).__name__} where a Tensor was expected")
    dx, dw = x._data.dtype, w._data.dtype
    if dx != dw:
        # NOTE: torch's float32 conv2d goes through MKLDNN, which words the error differently
        if fname != "conv2d" or dx.name != "float32" or dw.name != "float64":
            raise RuntimeError(f"expected scalar type {_TORCH_TYPES.get(dx.name, dx.name)} but "
                               f"found {_TORCH_TYPES.get(dw.name, dw.name)}")
        raise RuntimeError(f"Input type (torch.{_TORCH_TYPES.get(dx.name, dx.name)}Tensor) and "
                           f"weight type (torch.{_TORCH_TYPES.get(dw.name, dw.name)}Tensor) "
                           "should be the same or input should be a MKLDNN tensor and weight is "
                           "a dense tensor")
    if b is not None and b._data.dtype != dx:
        raise RuntimeError(f"Input type ({_C_TYPES.get(dx.name, dx.name)}) and bias type "
                           f"({_C_TYPES.get(b._data.dtype.name, b._data.dtype.name)}) should be "
                           "the same")
    if dx.kind == "b":
        raise NotImplementedError(f'"slow_conv{"_transpose" if "transpose" in fname else ""}'
                                  f'2d_cpu" not implemented for \'Bool\'')


def _check_common(x, w, b, stride, dilation, groups, nd, fname, transposed=False):
    """Dimension, channel, bias and hyper-parameter checks shared by conv and conv_transpose."""
    _check_types(x, w, b, fname)
    xs, ws = x._data.shape, w._data.shape
    if len(ws) < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if len(ws) != nd + 2:
        raise RuntimeError(f"expected stride to be a single integer value or a list of "
                           f"{len(ws) - 2} values to match the convolution dimensions, but got "
                           f"stride={list(stride)}")
    if len(xs) not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{fname}, but got input of size: {_shape(xs)}")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{_shape(ws)}] instead")
    if ws[0] == 0 and not transposed:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least 1 at "
                           f"dimension 0, but got weight of size {_shape(ws)} instead")
    full = xs if len(xs) == nd + 2 else (1,) + tuple(xs)
    want = ws[0] if transposed else ws[1] * groups
    if full[1] != want:
        head = f"Given transposed=1, weight of size {_shape(ws)}" if transposed else \
            f"Given groups={groups}, weight of size {_shape(ws)}"
        raise RuntimeError(f"{head}, expected input{_shape(full)} to have {want} channels, but "
                           f"got {full[1]} channels instead")
    nout = ws[1] * groups if transposed else ws[0]
    if b is not None and b._data.shape != (nout,):
        raise RuntimeError(f"Given weight of size {_shape(ws)}, expected bias to be "
                           f"1-dimensional with {nout} elements, but got bias of size "
                           f"{_shape(b._data.shape)} instead")
    return full


def _conv(input, weight, bias, stride, padding, dilation, groups, nd, fname):
    stride = _tuple(stride, nd, "stride", nd)
    dilation = _tuple(dilation, nd, "dilation", nd)
    full = _check_common(input, weight, bias, stride, dilation, groups, nd, fname)
    ks = weight._data.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0,) * (2 * nd)
        elif padding == "same":
            if max(stride) != 1:
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = ()
            for d, k in zip(dilation, ks):
                total = d * (k - 1)
                pads += (total // 2, total - total // 2)
            if any(d % 2 and k % 2 == 0 for d, k in zip(dilation, ks)):
                warnings.warn("Using padding='same' with even kernel lengths and odd dilation may"
                              " require a zero-padded copy of the input be created", stacklevel=3)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        p = _tuple(padding, nd, "padding", nd)
        if min(p) < 0:
            raise RuntimeError("negative padding is not supported")
        pads = (p[0], p[0], p[1], p[1]) if nd == 2 else (p[0], p[0])
    sizes = [full[2 + i] + pads[2 * i] + pads[2 * i + 1] for i in range(nd)]
    kd = [dilation[i] * (ks[i] - 1) + 1 for i in range(nd)]
    if any(s < k for s, k in zip(sizes, kd)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, sizes))}). Kernel size: "
                           f"({' x '.join(map(str, kd))}). Kernel size can't be greater than "
                           "actual input size")
    if nd == 1:
        stride, dilation, pads = (1,) + stride, (1,) + dilation, (0, 0) + pads
    return Conv2d.apply(input, weight, bias, stride, pads, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over an input of several planes.

    Args:
        input: (N, C_in, L) or unbatched (C_in, L).
        weight: (C_out, C_in / groups, kW).  bias: (C_out,) or None.
        stride, dilation: int or (int,).  padding: int, (int,), 'valid' or 'same'.
        groups: split the input channels into this many groups.

    Shape: (N, C_in, L_in) -> (N, C_out, L_out), L_out = floor((L_in + 2 * padding -
    dilation * (kW - 1) - 1) / stride + 1).
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over an input of several planes.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).  bias: (C_out,) or None.
        stride, dilation: int or (int, int).  padding: int, (int, int), 'valid' or 'same'
            ('same' pads total ``dilation * (k - 1)``, the odd one at the end, as torch does).
        groups: split the input channels into this many groups (``groups == C_in``: depthwise).

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out), H_out = floor((H + 2 * padding[0] -
    dilation[0] * (kH - 1) - 1) / stride[0] + 1), likewise W_out.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _conv_t(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, fname):
    stride = _tuple(stride, nd, "stride", nd)
    dilation = _tuple(dilation, nd, "dilation", nd)
    if isinstance(padding, str):
        raise TypeError(f"{fname}(): argument 'padding' must be tuple of ints, not str")
    padding = _tuple(padding, nd, "padding", nd)
    output_padding = _tuple(output_padding, nd, "output_padding", nd)
    full = _check_common(input, weight, bias, stride, dilation, groups, nd, fname, True)
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(output_padding) < 0:
        raise RuntimeError("negative output_padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        if nd == 2:
            raise RuntimeError(
                f"output padding must be smaller than either stride or dilation, but got "
                f"output_padding_height: {output_padding[0]} output_padding_width: "
                f"{output_padding[1]} stride_height: {stride[0]} stride_width: {stride[1]} "
                f"dilation_height: {dilation[0]} dilation_width: {dilation[1]}")
        raise RuntimeError(
            f"output padding must be smaller than either stride or dilation, but got "
            f"output_padding: {output_padding[0]} stride: {stride[0]} dilation: {dilation[0]}")
    ks = weight._data.shape[2:]
    out = tuple((full[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (ks[i] - 1) +
                output_padding[i] + 1 for i in range(nd))
    if min(out) <= 0:
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, full[2:]))}). "
                           f"Calculated output size per channel: "
                           f"({' x '.join(map(str, out))}). Output size is too small")
    if nd == 1:
        stride, dilation, out, padding = (1,) + stride, (1,) + dilation, (1,) + out, (0,) + padding
    pads = (padding[0], padding[0], padding[1], padding[1])
    return ConvTranspose2d.apply(input, weight, bias, stride, pads, dilation, groups, out)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution ("deconvolution"), the gradient of conv1d in its input.

    Args:
        input: (N, C_in, L) or unbatched (C_in, L).
        weight: (C_in, C_out / groups, kW).  bias: (C_out,) or None.
        stride, padding, output_padding, dilation: int or (int,).  groups: channel groups.

    Shape: L_out = (L_in - 1) * stride - 2 * padding + dilation * (kW - 1) + output_padding + 1.
    """
    return _conv_t(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                   "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution ("deconvolution"), the gradient of conv2d in its input.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW).  bias: (C_out,) or None.
        stride, padding, output_padding, dilation: int or (int, int).  groups: channel groups.

    Shape: H_out = (H_in - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kH - 1) +
    output_padding[0] + 1, likewise W_out.
    """
    return _conv_t(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                   "conv_transpose2d")


def _block_args(kernel_size, dilation, padding, stride):
    ks = _tuple_blk(kernel_size, "kernel_size")
    d, p, s = (_tuple_blk(v, n) for v, n in ((dilation, "dilation"), (padding, "padding"),
                                                (stride, "stride")))
    if min(ks) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{ks[0]} kernel_width: {ks[1]}")
    if min(s) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} "
                           f"stride_width: {s[1]}")
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: "
                           f"{d[0]} dilation_width: {d[1]}")
    if min(p) < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} "
                           f"pad_width: {p[1]}")
    return ks, d, p, s


def _tuple_blk(v, name):
    if isinstance(v, int):
        return (v, v)
    t = tuple(int(e) for e in v)
    if len(t) != 2:
        raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(t)}")
    return t


def _float_blocks(input, kernel):
    if input._data.dtype.kind not in "f":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_TORCH_TYPES.get(input._data.dtype.name)}'")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks from a batched input (im2col).

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        kernel_size, dilation, padding, stride: int or (int, int).

    Shape: (N, C, H, W) -> (N, C * prod(kernel_size), L), L the number of block positions.
    """
    ks, d, p, s = _block_args(kernel_size, dilation, padding, stride)
    xs = input._data.shape
    if len(xs) not in (3, 4) or 0 in xs[-3:]:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and"
                           f" other non-zero dimensions for input, but got: {_shape(xs)}")
    _float_blocks(input, "im2col_out_cpu")
    n = [(xs[-2 + i] + 2 * p[i] - d[i] * (ks[i] - 1) - 1) // s[i] + 1 for i in range(2)]
    if min(n) < 1:
        raise RuntimeError(f"Given input with spatial size ({xs[-2]}, {xs[-1]}), kernel_size="
                           f"({ks[0]}, {ks[1]}), dilation=({d[0]}, {d[1]}), padding=({p[0]}, "
                           f"{p[1]}), calculated shape of the array of sliding blocks as "
                           f"({n[0]}, {n[1]}), but its components must be at least one.")
    return Unfold.apply(input, ks, d, p, s)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine an array of sliding local blocks into a tensor, summing overlaps (col2im).

    Args:
        input: (N, C * prod(kernel_size), L) or unbatched (C * prod(kernel_size), L).
        output_size: (H, W) of the result.  kernel_size, dilation, padding, stride: as unfold.

    Shape: (N, C * prod(kernel_size), L) -> (N, C, H, W).
    """
    os_ = _tuple_blk(output_size, "output_size")
    ks, d, p, s = _block_args(kernel_size, dilation, padding, stride)
    xs = input._data.shape
    if len(xs) not in (2, 3) or 0 in xs[-2:]:
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{_shape(xs)}")
    _float_blocks(input, "col2im_out_cpu")
    if xs[-2] % (ks[0] * ks[1]):
        raise RuntimeError(f"Expected size of input's dimension {len(xs) - 2} to be divisible by "
                           f"the product of kernel_size, but got input.size({len(xs) - 2})="
                           f"{xs[-2]} and kernel_size=({ks[0]}, {ks[1]}).")
    n = [(os_[i] + 2 * p[i] - d[i] * (ks[i] - 1) - 1) // s[i] + 1 for i in range(2)]
    if min(n) < 1 or n[0] * n[1] != xs[-1]:
        raise RuntimeError(f"Given output_size=({os_[0]}, {os_[1]}), kernel_size=({ks[0]}, "
                           f"{ks[1]}), dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), "
                           f"stride=({s[0]}, {s[1]}), expected size of input's dimension "
                           f"{len(xs) - 1} to match the calculated number of sliding blocks "
                           f"{n[0]} * {n[1]} = {n[0] * n[1]}, but got input.size({len(xs) - 1})"
                           f"={xs[-1]}.")
    return Fold.apply(input, os_, ks, d, p, s)
