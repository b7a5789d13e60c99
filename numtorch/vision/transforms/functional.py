"""Functional image transforms on PIL images and numtorch tensors, as
``torchvision.transforms.functional``.

Tensor images are shaped (..., C, H, W). Tensor kernels run on the arrays and return new
tensors without autograd history, except :func:`normalize`, which is composed of tensor ops.
"""
from __future__ import annotations

import functools
import numbers
import warnings
from enum import Enum

import numpy as np

from ...backend import dtypes as _dt
from ...tensor import Tensor
from .. import _pil
from . import _functional_pil as F_pil
from . import _functional_tensor as F_t
from . import _resample

__all__ = ["InterpolationMode", "adjust_brightness", "adjust_contrast", "adjust_hue",
           "adjust_saturation", "affine", "center_crop", "convert_image_dtype", "crop", "erase",
           "get_dimensions", "get_image_num_channels", "get_image_size", "hflip", "normalize",
           "pad", "pil_to_tensor", "resize", "resized_crop", "rgb_to_grayscale", "rotate",
           "to_grayscale", "to_pil_image", "to_tensor", "vflip"]


class InterpolationMode(Enum):
    """Interpolation modes; PIL supports all, tensors nearest(-exact), bilinear and bicubic."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_FROM_INT = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
             3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX,
             5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}
pil_modes_mapping = {InterpolationMode.NEAREST: 0, InterpolationMode.BILINEAR: 2,
                     InterpolationMode.BICUBIC: 3, InterpolationMode.NEAREST_EXACT: 0,
                     InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5,
                     InterpolationMode.LANCZOS: 1}


def _interpolation_modes_from_int(i: int) -> InterpolationMode:
    return _FROM_INT[i]


def _interp(interpolation) -> InterpolationMode:
    if isinstance(interpolation, int):
        return _interpolation_modes_from_int(interpolation)
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding "
                        "Pillow integer constant")
    return interpolation


def _apply(fn, img: Tensor, *args):
    """Run an array kernel on a tensor image; the input comes back when nothing changed."""
    out = fn(img._data, *args)
    return img if out is img._data else Tensor._make(out)


# ---- conversions -----------------------------------------------------------------------------
def to_tensor(pic) -> Tensor:
    """PIL image or HWC ndarray -> CHW tensor; uint8 data becomes float in [0, 1] (divided by
    255), other dtypes keep their type."""
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    elif _pil.is_pil_image(pic):
        mode = pic.mode
        if mode in ("L", "RGB", "RGBA", "LA", "P", "CMYK", "YCbCr", "HSV", "LAB", "RGBX"):
            arr = np.asarray(pic)
        else:
            nptype = {"I": np.int32, "I;16": np.int16, "F": np.float32}.get(mode, np.uint8)
            arr = np.array(pic, dtype=nptype)
            if mode == "1":
                arr = arr * np.uint8(255)
        arr = arr.reshape(pic.size[1], pic.size[0], F_pil.get_image_num_channels(pic))
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    chw = arr.transpose(2, 0, 1)
    if arr.dtype == np.uint8:
        f = _dt.get_default_dtype().np
        out = np.empty(chw.shape, dtype=f)
        np.divide(chw, f.type(255), out=out, dtype=f)
        return Tensor._make(out)
    return Tensor._make(np.ascontiguousarray(chw).copy() if chw.base is pic else
                        np.ascontiguousarray(chw))


def pil_to_tensor(pic) -> Tensor:
    """PIL image -> CHW tensor of the image's own dtype (no scaling)."""
    if not _pil.is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    arr = arr.reshape(pic.size[1], pic.size[0], F_pil.get_image_num_channels(pic))
    return Tensor._make(arr.transpose(2, 0, 1))


def to_pil_image(pic, mode: str | None = None):
    """CHW tensor or HWC ndarray -> PIL image; floats are scaled by 255 (truncated) unless
    ``mode='F'``."""
    Image = _pil.require()
    if isinstance(pic, Tensor):
        npimg = pic._data.transpose(1, 2, 0) if pic.ndim == 3 else pic._data
    elif isinstance(pic, np.ndarray):
        npimg = pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if npimg.ndim == 2:
        npimg = npimg[:, :, None]
    if npimg.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {npimg.ndim} dimensions.")
    if npimg.shape[-1] > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {npimg.shape[-1]} channels.")
    if npimg.dtype.kind == "f" and mode != "F":
        npimg = (npimg * 255).astype(np.uint8)
    c = npimg.shape[2]
    if c == 1:
        npimg = npimg[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {npimg.dtype}. "
                             f"Should be {expected}")
        mode = expected
        if mode == "I;16":  # raw 16-bit data, as PIL stores it
            npimg = npimg.view(np.uint16)
    else:
        permitted = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}[c]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {c}D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    npimg = np.ascontiguousarray(npimg)
    natural = {"L", "I", "F", "I;16", "LA", "RGB", "RGBA"}
    return Image.fromarray(npimg) if mode in natural else Image.fromarray(npimg, mode=mode)


def convert_image_dtype(image: Tensor, dtype=_dt.float32) -> Tensor:
    """Convert a tensor image to ``dtype``, rescaling intensities (floats span [0, 1])."""
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    return _apply(F_t.convert_image_dtype, image, _dt.to_np(dtype))


def normalize(tensor: Tensor, mean, std, inplace: bool = False) -> Tensor:
    """(tensor - mean) / std per channel of a float (..., C, H, W) tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if tensor.ndim < 2:
        raise TypeError("Tensor is not a torch image.")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")
    x = tensor._data
    m, s = _norm_stats(mean, std, x.dtype)
    if s is None:
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to "
                         "division by zero.")
    try:
        if tensor.requires_grad:  # keep the graph: compose tensor ops
            mt, st = Tensor._make(m), Tensor._make(s)
            return tensor.sub_(mt).div_(st) if inplace else (tensor - mt) / st
        if inplace:
            np.subtract(x, m, out=x)
            np.divide(x, s, out=x)
            tensor._vc[0] += 1
            return tensor
        out = x - m
        np.divide(out, s, out=out)
    except ValueError:
        raise RuntimeError(f"mean {list(m.shape)} and std {list(s.shape)} do not broadcast to "
                           f"the image size {list(x.shape)}: expected one value per channel "
                           f"({x.shape[-3]})") from None
    return Tensor._make(out)


def _is_numbers(v) -> bool:
    return isinstance(v, (list, tuple)) and all(isinstance(e, numbers.Number) for e in v)


def _norm_stats(mean, std, dtype):
    """(mean, std) as arrays of ``dtype`` shaped for (C, H, W); std is None when it has a zero.
    Plain sequences of numbers (the usual case) are cached."""
    if _is_numbers(mean) and _is_numbers(std):
        return _cached_stats(tuple(mean), tuple(std), dtype)
    return _cached_stats.__wrapped__(mean, std, dtype)


@functools.lru_cache(maxsize=64)
def _cached_stats(mean, std, dtype):
    def arr(v):
        a = np.array(v._data if isinstance(v, Tensor) else v, dtype=dtype)
        a.flags.writeable = False  # shared by the cache
        return a.reshape(-1, 1, 1) if a.ndim == 1 else a
    m, s = arr(mean), arr(std)
    return m, (None if (s == 0).any() else s)


# ---- geometry --------------------------------------------------------------------------------
def get_dimensions(img) -> list:
    """[channels, height, width] of a PIL image or a tensor image."""
    if isinstance(img, Tensor):
        return F_t.get_dimensions(img._data)
    return F_pil.get_dimensions(img)


def get_image_size(img) -> list:
    """[width, height] of a PIL image or a tensor image."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img) -> int:
    """The number of channels of a PIL image or a tensor image."""
    return get_dimensions(img)[0]


def _compute_resized_output_size(image_size, size, max_size=None) -> list:
    h, w = image_size
    short, long = (w, h) if w <= h else (h, w)
    if len(size) == 1:
        requested_short = size if isinstance(size, int) else size[0]
        new_short, new_long = requested_short, int(requested_short * long / short)
    else:
        return [size[0], size[1]]
    if max_size is not None:
        if max_size <= requested_short:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested "
                             f"size for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return [new_h, new_w]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
           antialias=True):
    """Resize to ``size``: (h, w), or an int / [int] for the smaller edge (aspect kept)."""
    interpolation = _interp(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError("Size must be an int or a 1 or 2 element tuple/list, not a "
                             f"{len(size)} element tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of the "
                             "smaller edge, i.e. size should be an int or a sequence of length 1 "
                             "in torchscript mode.")
    elif not isinstance(size, int):
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    _, h, w = get_dimensions(img)
    out = _compute_resized_output_size((h, w), [size] if isinstance(size, int) else size,
                                       max_size)
    if [h, w] == out:
        return img
    if not isinstance(img, Tensor):
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument "
                          "antialias is ignored.")
        return F_pil.resize(img, out, pil_modes_mapping[interpolation])
    return _apply(_resample.resize, img, out, interpolation.value,
                  bool(antialias) and interpolation.value in ("bilinear", "bicubic"))


def crop(img, top: int, left: int, height: int, width: int):
    """The region [top, top + height) x [left, left + width), zero-padded where outside."""
    if not isinstance(img, Tensor):
        return F_pil.crop(img, top, left, height, width)
    return _apply(F_t.crop, img, top, left, height, width)


def center_crop(img, output_size):
    """The central ``output_size`` (int or (h, w)) region, zero-padded if the image is
    smaller."""
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, h, w = get_dimensions(img)
    ch, cw = output_size
    if cw > w or ch > h:
        ltrb = [(cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
                (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0]
        img = pad(img, ltrb, fill=0)
        _, h, w = get_dimensions(img)
        if cw == w and ch == h:
            return img
    return crop(img, int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0)), ch, cw)


def resized_crop(img, top: int, left: int, height: int, width: int, size,
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
    """Crop, then resize to ``size``."""
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad by ``padding`` (int, (lr, tb) or (l, t, r, b)) with ``padding_mode`` constant
    (``fill``), edge, reflect or symmetric."""
    if not isinstance(img, Tensor):
        return F_pil.pad(img, padding, fill, padding_mode)
    return _apply(F_t.pad, img, padding, 0 if fill is None else fill, padding_mode)


def hflip(img):
    """Mirror left-right."""
    return F_pil.hflip(img) if not isinstance(img, Tensor) else _apply(F_t.hflip, img)


def vflip(img):
    """Mirror top-bottom."""
    return F_pil.vflip(img) if not isinstance(img, Tensor) else _apply(F_t.vflip, img)


from ._functional_more import (  # noqa: E402,F401  (split only to keep files short)
    adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation, affine, erase,
    rgb_to_grayscale, rotate, to_grayscale, _get_inverse_affine_matrix,
)
