"""Resampling kernels for (..., C, H, W) arrays: PyTorch's ``interpolate`` (resize) and
``grid_sample`` (affine warps), as torchvision's tensor transforms call them."""
from __future__ import annotations

import functools
import math

import numpy as np

from ._functional_tensor import _float_dtype, assert_image, get_dimensions


# ---- resize --------------------------------------------------------------------------------
def _cubic(x, a):
    x = np.abs(x)
    return np.where(x < 1.0, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2.0, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))


@functools.lru_cache(maxsize=128)
def _resize_matrix(in_size: int, out_size: int, mode: str, antialias: bool, dtype: str):
    """The (out_size, in_size) matrix of one separable resampling pass (PyTorch's kernels)."""
    f = np.dtype(dtype).type
    scale = f(in_size) / f(out_size)
    dst = np.arange(out_size, dtype=f)
    mat = np.zeros((out_size, in_size), dtype=f)
    rows = np.arange(out_size)
    if antialias:  # PIL-style: a filter widened by the scale when shrinking
        size = 2 if mode == "bilinear" else 4
        support = size * 0.5 * scale if scale >= 1.0 else size * 0.5
        invscale = 1.0 / scale if scale >= 1.0 else 1.0
        center = scale * (dst + f(0.5))
        xmin = np.maximum((center - support + 0.5).astype(np.int64), 0)
        xmax = np.minimum((center + support + 0.5).astype(np.int64), in_size)
        k = int(math.ceil(support)) * 2 + 1
        j = xmin[:, None] + np.arange(k)
        valid = j < xmax[:, None]
        x = (j - center[:, None] + f(0.5)) * f(invscale)
        w = np.maximum(0.0, 1.0 - np.abs(x)) if mode == "bilinear" else _cubic(x, -0.5)
        w = np.where(valid, w, 0.0).astype(f)
        total = w.sum(axis=1, keepdims=True)
        w = np.where(total != 0, w / np.where(total != 0, total, 1), w)
        np.add.at(mat, (np.repeat(rows, k), np.minimum(j, in_size - 1).ravel()), w.ravel())
        return mat
    src = scale * (dst + f(0.5)) - f(0.5)
    if mode == "bilinear":
        src = np.maximum(src, f(0))
        i0 = src.astype(np.int64)
        i1 = np.minimum(i0 + 1, in_size - 1)
        l1 = src - i0.astype(f)
        np.add.at(mat, (rows, i0), f(1) - l1)
        np.add.at(mat, (rows, i1), l1)
        return mat
    i0 = np.floor(src)
    t = src - i0
    coeffs = (_cubic(t + 1.0, -0.75), _cubic(t, -0.75), _cubic(1.0 - t, -0.75),
              _cubic(2.0 - t, -0.75))
    for off, c in zip(range(-1, 3), coeffs):
        np.add.at(mat, (rows, np.clip(i0.astype(np.int64) + off, 0, in_size - 1)), c.astype(f))
    return mat


@functools.lru_cache(maxsize=128)
def _nearest_index(in_size: int, out_size: int, exact: bool):
    scale = np.float32(in_size) / np.float32(out_size)
    dst = np.arange(out_size, dtype=np.float32)
    if exact:
        dst = dst + np.float32(0.5)
    elif out_size == in_size:
        return np.arange(out_size)
    elif out_size == 2 * in_size:
        return np.arange(out_size) >> 1
    return np.minimum(np.floor(dst * scale).astype(np.int64), in_size - 1)


def resize(img, size, interpolation: str = "bilinear", antialias: bool = True):
    """Resize the last two dimensions to ``size = [h, w]`` with PyTorch's ``interpolate``
    kernels (``align_corners=False``); integer images are computed in float32 and rounded."""
    assert_image(img)
    if interpolation not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")
    oh, ow = size
    h, w = img.shape[-2:]
    if interpolation.startswith("nearest"):
        exact = interpolation == "nearest-exact"
        iy, ix = _nearest_index(h, oh, exact), _nearest_index(w, ow, exact)
        return img[..., iy[:, None], ix[None, :]]
    f = img.dtype if img.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    aa = bool(antialias)
    x = img.astype(f, copy=False)
    if oh != h:  # one pass per axis; a pass at scale 1 is the identity, so it is skipped
        x = _resize_matrix(h, oh, interpolation, aa, f.name) @ x
    if ow != w:
        x = x @ _resize_matrix(w, ow, interpolation, aa, f.name).T
    if img.dtype == f:
        return x
    if interpolation == "bicubic" and img.dtype == np.uint8:
        x = np.clip(x, 0, 255)
    if img.dtype.kind in "iu":
        x = np.round(x)
    return x.astype(img.dtype)


# ---- affine warps (rotate, affine) via grid sampling -----------------------------------------
def _affine_grid(theta, w: int, h: int, ow: int, oh: int):
    """torchvision's ``_gen_affine_grid``: output pixel centres mapped by ``theta`` and
    normalised to [-1, 1] by the input size (so ``expand`` can use a larger output)."""
    f = theta.dtype.type
    xs = np.linspace(-ow * 0.5 + 0.5, ow * 0.5 + 0.5 - 1, ow).astype(f)
    ys = np.linspace(-oh * 0.5 + 0.5, oh * 0.5 + 0.5 - 1, oh).astype(f)
    base = np.empty((oh, ow, 3), dtype=f)
    base[..., 0] = xs
    base[..., 1] = ys[:, None]
    base[..., 2] = 1
    rescaled = theta.T / np.array([0.5 * w, 0.5 * h], dtype=f)
    return base.reshape(-1, 3) @ rescaled  # (oh*ow, 2)


def _grid_sample(img, grid, h: int, w: int, oh: int, ow: int, mode: str):
    """PyTorch's ``grid_sample`` (zeros padding, ``align_corners=False``) for (..., C, H, W)."""
    f = grid.dtype.type
    ix = ((grid[:, 0] + f(1)) * f(w) - f(1)) / f(2)
    iy = ((grid[:, 1] + f(1)) * f(h) - f(1)) / f(2)
    flat = img.reshape(img.shape[:-2] + (h * w,))
    if mode == "nearest":
        x, y = np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64)
        ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        out = np.where(ok, flat[..., np.where(ok, y * w + x, 0)], f(0))
        return out.reshape(img.shape[:-2] + (oh, ow))
    x0, y0 = np.floor(ix), np.floor(iy)
    out = 0
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        x, y = x0 + dx, y0 + dy
        wt = (f(1) - np.abs(ix - x)) * (f(1) - np.abs(iy - y))
        xi, yi = x.astype(np.int64), y.astype(np.int64)
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        out = out + np.where(ok, flat[..., np.where(ok, yi * w + xi, 0)], f(0)) * wt
    return out.reshape(img.shape[:-2] + (oh, ow)).astype(img.dtype, copy=False)


def _check_fill(img, fill) -> None:
    if isinstance(fill, (tuple, list)):
        c = get_dimensions(img)[0]
        if len(fill) > 1 and len(fill) != c:
            raise ValueError("The number of elements in 'fill' cannot broadcast to match the "
                             f"number of channels of the image ({len(fill)} != {c})")
    elif fill is not None and not isinstance(fill, (int, float)):
        raise TypeError("Argument fill should be either int, float, tuple or list")


def affine_output_size(matrix, w: int, h: int):
    """The (w, h) that holds the whole warped image (``expand=True``), as PIL computes it."""
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.asarray(matrix, dtype=np.float32).reshape(2, 3)
    new = pts @ theta.T
    half = np.array([w * 0.5, h * 0.5], dtype=np.float32)
    lo, hi = new.min(axis=0) + half, new.max(axis=0) + half
    tol = np.float32(1e-4)  # truncate to 1e-4 so that 1e-15 does not ceil to 1
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


def warp_affine(img, matrix, interpolation: str = "nearest", fill=None, expand: bool = False):
    """Sample ``img`` at the inverse-affine ``matrix`` (6 numbers, centre-origin pixels)."""
    assert_image(img)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")
    _check_fill(img, fill)
    h, w = img.shape[-2:]
    ow, oh = affine_output_size(matrix, w, h) if expand else (w, h)
    f = _float_dtype(img)
    theta = np.asarray(matrix, dtype=f).reshape(2, 3)
    grid = _affine_grid(theta, w, h, ow, oh)
    x = img.astype(f, copy=False)
    if fill is not None:  # a ones channel, sampled alongside, tells where the input reached
        x = np.concatenate([x, np.ones(x.shape[:-3] + (1, h, w), dtype=f)], axis=-3)
    out = _grid_sample(x, grid, h, w, oh, ow, interpolation)
    if fill is not None:
        mask, out = out[..., -1:, :, :], out[..., :-1, :, :]
        vals = np.asarray(fill if isinstance(fill, (tuple, list)) else [fill], dtype=f)
        fill_img = np.broadcast_to(vals.reshape(-1, 1, 1), out.shape)
        if interpolation == "nearest":
            out = np.where(np.broadcast_to(mask < 0.5, out.shape), fill_img, out)
        else:
            out = out * mask + (f.type(1) - mask) * fill_img
    if img.dtype == f:
        return out
    return np.round(out).astype(img.dtype) if img.dtype.kind in "iu" else out.astype(img.dtype)
