"""Image transforms on arrays shaped (..., C, H, W), as torchvision's ``_functional_tensor``.

Everything here takes and returns host NumPy arrays; ``functional`` wraps numtorch Tensors.
Formulas, rounding and dtypes follow torchvision's tensor kernels (which call PyTorch's
``interpolate`` and ``grid_sample``), so results agree with torchvision up to float rounding.
"""
from __future__ import annotations

import numpy as np

_INT_KINDS = "uib"


def max_value(dtype: np.dtype):
    """The value of full intensity for ``dtype``: 1.0 for floats, the top integer else."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return 1.0
    if dtype.kind == "b":
        return 1
    return int(np.iinfo(dtype).max)


def assert_image(img: np.ndarray) -> None:
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def get_dimensions(img: np.ndarray) -> list:
    assert_image(img)
    c = 1 if img.ndim == 2 else img.shape[-3]
    return [c, img.shape[-2], img.shape[-1]]


def assert_channels(img: np.ndarray, permitted) -> None:
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {list(permitted)}, "
                        f"but found {c}")


# ---- geometry: crop, pad, flip ---------------------------------------------------------------
def crop(img, top: int, left: int, height: int, width: int):
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                max(right - w, 0), max(bottom - h, 0)]
        return pad(img[..., max(top, 0):bottom, max(left, 0):right], ltrb, fill=0)
    return img[..., top:bottom, left:right]


def _parse_pad(padding) -> list:
    if isinstance(padding, int):
        return [padding] * 4
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    return list(padding)


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad the last two dimensions by ``padding`` (int, (lr, tb) or (l, t, r, b)); a
    negative amount crops."""
    if not isinstance(padding, (int, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if not isinstance(fill, (int, float)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _parse_pad(padding)
    h, w = img.shape[-2:]
    if min(left, top, right, bottom) < 0:
        img = img[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, top, right, bottom = (max(v, 0) for v in (left, top, right, bottom))
    if padding_mode == "reflect" and (max(left, right) >= img.shape[-1]
                                      or max(top, bottom) >= img.shape[-2]):
        raise RuntimeError(f"Padding size should be less than the corresponding input dimension, "
                           f"but got: padding ({left}, {right}, {top}, {bottom}) at dimension "
                           f"of input {list(img.shape)}")
    widths = [(0, 0)] * (img.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        return np.pad(img, widths, mode="constant", constant_values=fill)
    return np.pad(img, widths, mode=padding_mode)


def hflip(img):
    assert_image(img)
    return np.ascontiguousarray(img[..., ::-1])


def vflip(img):
    assert_image(img)
    return np.ascontiguousarray(img[..., ::-1, :])


# ---- colour --------------------------------------------------------------------------------
def _float_dtype(img):
    return img.dtype if img.dtype.kind == "f" else np.dtype(np.float32)


def rgb_to_grayscale(img, num_output_channels: int = 1):
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{img.ndim}")
    assert_channels(img, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if img.shape[-3] == 3:
        f = _float_dtype(img).type
        r, g, b = (img[..., i, :, :].astype(f, copy=False) for i in range(3))
        l_img = (f(0.2989) * r + f(0.587) * g + f(0.114) * b).astype(img.dtype)[..., None, :, :]
    else:
        l_img = img.copy()
    if num_output_channels == 3:
        return np.repeat(l_img, 3, axis=-3)
    return l_img


def _blend(img1, img2, ratio: float):
    f = _float_dtype(img1).type
    bound = max_value(img1.dtype)
    out = f(ratio) * img1.astype(f, copy=False) + f(1.0 - ratio) * np.asarray(img2, dtype=f)
    return np.clip(out, 0, bound).astype(img1.dtype)


def adjust_brightness(img, brightness_factor: float):
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    assert_image(img)
    assert_channels(img, [1, 3])
    return _blend(img, np.zeros_like(img), brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    assert_image(img)
    assert_channels(img, [3, 1])
    f = _float_dtype(img)
    src = rgb_to_grayscale(img) if get_dimensions(img)[0] == 3 else img
    mean = src.astype(f).mean(axis=(-3, -2, -1), keepdims=True, dtype=f) if img.ndim >= 3 \
        else src.astype(f).mean(dtype=f)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    assert_image(img)
    assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def _rgb2hsv(img):
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    one = np.ones_like(maxc)
    s = cr / np.where(eqc, one, maxc)
    crd = np.where(eqc, one, cr)
    rc, gc, bc = (maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = np.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return h.astype(img.dtype), s, maxc


def _hsv2rgb(h, s, v):
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    r = np.choose(i, (v, q, p, p, t, v))
    g = np.choose(i, (t, v, v, q, p, p))
    b = np.choose(i, (p, p, t, v, v, q))
    return np.stack((r, g, b), axis=-3)


def adjust_hue(img, hue_factor: float):
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    assert_image(img)
    assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:  # match PIL: nothing to rotate
        return img
    orig = img.dtype
    x = convert_image_dtype(img, np.float32)
    h, s, v = _rgb2hsv(x)
    h = np.mod(h + np.float32(hue_factor), np.float32(1.0))
    return convert_image_dtype(_hsv2rgb(h, s, v).astype(np.float32), orig)


def convert_image_dtype(img, dtype):
    """Convert intensities between dtypes: floats span [0, 1], integers [0, max]."""
    dtype = np.dtype(dtype)
    if img.dtype == dtype:
        return img
    if img.dtype.kind == "f":
        if dtype.kind == "f":
            return img.astype(dtype)
        if (img.dtype == np.float32 and dtype in (np.int32, np.int64)) or \
                (img.dtype == np.float64 and dtype == np.int64):
            raise RuntimeError(f"The cast from {_tname(img.dtype)} to {_tname(dtype)} cannot be "
                               "performed safely.")
        # NOTE: max + 1 - eps maps [0, 1] evenly onto the integers (torchvision PR 2078)
        return (img * img.dtype.type(float(max_value(dtype)) + 1.0 - 1e-3)).astype(dtype)
    input_max = float(max_value(img.dtype))
    if dtype.kind == "f":
        return img.astype(dtype) / dtype.type(input_max)
    output_max = float(max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return (img // factor).astype(dtype)
    factor = int((output_max + 1) // (input_max + 1))
    return img.astype(dtype) * dtype.type(factor)


def _tname(dt) -> str:
    return f"numtorch.{np.dtype(dt).name}"
