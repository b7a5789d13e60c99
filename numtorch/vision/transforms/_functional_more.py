"""The rest of ``functional``: colour adjustments, grayscale, rotate/affine and erase."""
from __future__ import annotations

import math
import numbers

from ...tensor import Tensor
from . import _functional_pil as F_pil
from . import _functional_tensor as F_t
from . import _resample
from .functional import InterpolationMode, _apply, _interp, get_dimensions, pil_modes_mapping


def to_grayscale(img, num_output_channels: int = 1):
    """Grayscale version of a PIL image (or tensor) with 1 or 3 identical channels."""
    if isinstance(img, Tensor):
        return rgb_to_grayscale(img, num_output_channels)
    return F_pil.to_grayscale(img, num_output_channels)


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """Grayscale: L = 0.2989 R + 0.587 G + 0.114 B for tensors; PIL's ``convert('L')`` for
    PIL images."""
    if not isinstance(img, Tensor):
        return F_pil.to_grayscale(img, num_output_channels)
    return _apply(F_t.rgb_to_grayscale, img, num_output_channels)


def adjust_brightness(img, brightness_factor: float):
    """Scale intensities by ``brightness_factor`` (0 gives black, 1 the original)."""
    if not isinstance(img, Tensor):
        return F_pil.adjust_brightness(img, brightness_factor)
    return _apply(F_t.adjust_brightness, img, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    """Blend with the mean grey level (0 gives solid grey, 1 the original)."""
    if not isinstance(img, Tensor):
        return F_pil.adjust_contrast(img, contrast_factor)
    return _apply(F_t.adjust_contrast, img, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    """Blend with the grayscale image (0 gives grey, 1 the original)."""
    if not isinstance(img, Tensor):
        return F_pil.adjust_saturation(img, saturation_factor)
    return _apply(F_t.adjust_saturation, img, saturation_factor)


def adjust_hue(img, hue_factor: float):
    """Rotate the hue by ``hue_factor`` turns, in [-0.5, 0.5]."""
    if not isinstance(img, Tensor):
        return F_pil.adjust_hue(img, hue_factor)
    return _apply(F_t.adjust_hue, img, hue_factor)


def _get_inverse_affine_matrix(center, angle: float, translate, scale: float, shear,
                               inverted: bool = True) -> list:
    """The 2x3 matrix (row-major, 6 numbers) of the inverse of
    T * C * R * S * Sh * C^-1 (translate, centre, rotate, scale, shear)."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        m = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
        m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
        m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
        m[2] += cx
        m[5] += cy
    else:
        m = [a * scale, b * scale, 0.0, c * scale, d * scale, 0.0]
        m[2] += m[0] * (-cx) + m[1] * (-cy)
        m[5] += m[3] * (-cx) + m[4] * (-cy)
        m[2] += cx + tx
        m[5] += cy + ty
    return m


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False,
           center=None, fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default: the image
    centre); ``expand`` grows the output to hold the whole rotated image."""
    interpolation = _interp(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if not isinstance(img, Tensor):
        return F_pil.rotate(img, angle, pil_modes_mapping[interpolation], expand, center, fill)
    center_f = [0.0, 0.0]
    if center is not None:
        _, h, w = get_dimensions(img)
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [w, h])]
    # NOTE: -angle: torchvision's rotate and affine turn in opposite directions
    matrix = _get_inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    return _apply(_resample.warp_affine, img, matrix, interpolation.value, fill, expand)


def affine(img, angle: float, translate, scale: float, shear,
           interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotate by ``angle`` degrees, translate by ``translate`` pixels, scale and shear
    (degrees, one value for x or (x, y)), keeping the image size."""
    interpolation = _interp(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    angle = float(angle)
    translate = list(translate)
    shear = [shear, 0.0] if isinstance(shear, numbers.Number) else list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    _, h, w = get_dimensions(img)
    if not isinstance(img, Tensor):
        # NOTE: the centre without a 0.5 offset, so 90 degrees agrees with tensors (torchvision)
        center = [w * 0.5, h * 0.5] if center is None else center
        matrix = _get_inverse_affine_matrix(center, angle, translate, scale, shear)
        return F_pil.affine(img, matrix, pil_modes_mapping[interpolation], fill)
    center_f = [0.0, 0.0] if center is None else \
        [1.0 * (c - s * 0.5) for c, s in zip(center, [w, h])]
    matrix = _get_inverse_affine_matrix(center_f, angle, [1.0 * t for t in translate], scale,
                                        shear)
    return _apply(_resample.warp_affine, img, matrix, interpolation.value, fill, False)


def erase(img: Tensor, i: int, j: int, h: int, w: int, v, inplace: bool = False) -> Tensor:
    """Set the region [i, i + h) x [j, j + w) of a tensor image to ``v``."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    out = img if inplace else Tensor._make(img._data.copy())
    out._data[..., i:i + h, j:j + w] = v._data if isinstance(v, Tensor) else v
    if inplace:
        out._vc[0] += 1
    return out
