"""nn.functional: interpolate and the deprecated upsample aliases.

Source positions follow PyTorch's CPU kernels exactly, in the kernels' own precision (float32
arithmetic for float32 inputs): nearest reads floor(o * scale), nearest-exact
floor((o + 0.5) * scale), and the linear/cubic modes read around
scale * (o + 0.5) - 0.5 (``align_corners=False``) or o * (in - 1) / (out - 1) (``True``), where
scale is 1 / scale_factor when a scale factor is given (and not recomputed), else in / out.
"""
from __future__ import annotations

import functools
import math
import warnings

from .. import backend
from ..ops._common import not_implemented
from ..ops.resample import Resample

xp = backend.xp

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4}


def _scale(n, o, align_corners, scale, f):
    """torch's area_pixel_compute_scale in the kernel's precision ``f``."""
    if align_corners:
        return f(n - 1) / f(o - 1) if o > 1 else f(0)
    if scale is not None and scale > 0:
        return f(1.0 / scale)
    return f(n) / f(o)


@functools.lru_cache(maxsize=256)
def _nearest(n, o, scale, exact):
    s = _scale(n, o, False, scale, xp.float32)
    if exact:
        real = ((xp.arange(o) + 0.5) * xp.float64(s)).astype(xp.float32)
    else:
        real = xp.arange(o, dtype=xp.float32) * s
    return xp.minimum(xp.floor(real).astype(xp.int64), n - 1)


def _source(n, o, align_corners, scale, f, cubic):
    """Real source positions, their floors (clipped to n - 1) and fractions (clipped to [0, 1])."""
    r = _scale(n, o, align_corners, scale, f)
    i = xp.arange(o).astype(f)
    if align_corners:
        real = r * i
    else:
        # NOTE: torch's vectorised kernel fuses this multiply-add (one rounding): emulate it
        real = (xp.float64(r) * (i + f(0.5)).astype(xp.float64) - 0.5).astype(f)
        if not cubic:
            real = xp.maximum(real, f(0))
    i0 = xp.minimum(xp.floor(real.astype(xp.float32)).astype(xp.int64), n - 1)
    lam = xp.clip(real - i0.astype(f), f(0), f(1))
    return i0, lam


@functools.lru_cache(maxsize=256)
def _linear(n, o, align_corners, scale, dtype):
    f = xp.dtype(dtype).type
    if o == n:
        i = xp.arange(o)
        return (i, i), (xp.ones(o, f), xp.zeros(o, f))
    i0, l1 = _source(n, o, align_corners, scale, f, False)
    i1 = i0 + (i0 < n - 1)
    return (i0, i1), (f(1) - l1, l1)


@functools.lru_cache(maxsize=256)
def _cubic(n, o, align_corners, scale, dtype):
    f = xp.dtype(dtype).type
    i0, t = _source(n, o, align_corners, scale, f, True)
    a = f(-0.75)

    def conv1(x):
        return ((a + f(2)) * x - (a + f(3))) * x * x + f(1)

    def conv2(x):
        return ((a * x - f(5) * a) * x + f(8) * a) * x - f(4) * a
    ws = (conv2(t + f(1)), conv1(t), conv1(f(1) - t), conv2(f(2) - t))
    idxs = tuple(xp.clip(i0 - 1 + j, 0, n - 1) for j in range(4))
    return idxs, ws


def _check_dtype(x, mode, nd):
    dt = x._data.dtype
    if dt.kind == "f" or (dt.name == "uint8" and mode in ("nearest", "nearest-exact")):
        return
    if mode == "bicubic":
        kernel = "compute_indices_weights_cubic"
    elif nd == 1:
        kernel = "compute_indices_weights_" + ("linear" if mode == "linear" else "nearest")
    else:
        kind = "nearest" if mode.startswith("nearest") else mode
        kernel = f"upsample_{kind}{nd}d_channels_last"
    raise not_implemented(kernel, x)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample the spatial axes of (N, C, *spatial) ``input`` to ``size`` or by
    ``scale_factor``.

    Args:
        size: output spatial size (int or tuple). scale_factor: multiplier for the spatial size
        (float or tuple); exactly one of the two. mode: 'nearest' | 'nearest-exact' | 'linear'
        (3-D) | 'bilinear' | 'bicubic' (4-D) | 'trilinear' (5-D) | 'area'. align_corners: for
        the linear and cubic modes, map the corner pixels' centres onto each other.
        recompute_scale_factor: compute the output size from scale_factor, then let the kernel
        use in/out as the scale instead of 1/scale_factor.

    Differs from torch: ``antialias=True`` is not supported (NotImplementedError), nor are
    the linear and cubic modes on uint8 input.
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    shape = input._data.shape
    dim = len(shape) - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(shape[2:])} and output size of "
                    f"{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.")
            if not all(isinstance(v, int) or hasattr(v, "__index__") for v in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] "
                                "or Tuple[int, int, int], but got size with types "
                                f"{[type(v) for v in size]}")
            output_size = [int(v) for v in size]
        else:
            output_size = [int(size)] * dim
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(shape[2:])} and scale_factor of "
                    f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                    "format and scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor)] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [math.floor(shape[i + 2] * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias:
        if not (mode in ("bilinear", "bicubic", "lanczos") and len(shape) == 4):
            raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                             "modes and requires a 4-D tensor as input")
        raise NotImplementedError("interpolate: antialias=True is not supported by numtorch")
    if mode == "area" and dim in (1, 2, 3):
        from . import _functional_adaptive as _ad
        fn = (_ad.adaptive_avg_pool1d, _ad.adaptive_avg_pool2d, _ad.adaptive_avg_pool3d)[dim - 1]
        return fn(input, output_size if dim > 1 else output_size[0])
    ok = (mode in ("nearest", "nearest-exact") and dim in (1, 2, 3)) or \
        _LINEAR.get(mode) == len(shape)
    if not ok:
        _mode_error(input, mode, len(shape))
    if output_size is None:
        output_size = [int(shape[i + 2] * scale_factors[i]) for i in range(dim)]
    scales = scale_factors or [None] * dim
    if min(output_size) <= 0 or min(shape[2:]) <= 0:
        def fmt(sizes):
            return ", ".join(f"{a}: {b}" for a, b in zip("DHW"[-dim:], sizes))
        sep = " and" if dim == 1 else ""
        raise RuntimeError("Input and output sizes should be greater than 0, but got input "
                           f"({fmt(shape[2:])}){sep} output ({fmt(output_size)})")
    _check_dtype(input, mode, dim)
    dt = input._data.dtype
    taps = []
    for n, o, s in zip(shape[2:], output_size, scales):
        if mode in ("nearest", "nearest-exact"):
            taps.append(((_nearest(n, o, s, mode == "nearest-exact"),), None))
        elif mode == "bicubic":
            taps.append(_cubic(n, o, bool(align_corners), s, dt.str))
        else:
            taps.append(_linear(n, o, bool(align_corners), s, dt.str))
    return Resample.apply(input, tuple(taps))


def _mode_error(input, mode, nd):
    for got, need, nd_need in (("3D", "bilinear", "4D"), ("3D", "trilinear", "5D"),
                               ("4D", "linear", "3D"), ("4D", "trilinear", "5D"),
                               ("5D", "linear", "3D"), ("5D", "bilinear", "4D")):
        if f"{nd}D" == got and mode == need:
            raise NotImplementedError(f"Got {got} input, but {mode} mode needs {nd_need} input")
    raise NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {nd}D) for the modes: "
        "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact "
        f"(got {mode})")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (warns, as torch does)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
