"""Reference implementations of torchvision's tensor kernels, written with PyTorch ops.

torchvision cannot be installed here, so these mirror its v1 ``_functional_tensor`` code on
top of PyTorch's own ``interpolate`` and ``grid_sample``: the kernels (the part that does the
arithmetic) are PyTorch's, the glue is torchvision's published algorithm.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as TF


def inverse_affine_matrix(center, angle, translate, scale, shear):
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [x / scale for x in [d, -b, 0.0, -c, a, 0.0]]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
    m[2] += cx
    m[5] += cy
    return m


def resize(img: torch.Tensor, size, mode: str, antialias: bool) -> torch.Tensor:
    squeeze = img.ndim < 4
    x = img.unsqueeze(0) if squeeze else img
    out_dtype = x.dtype
    if x.dtype not in (torch.float32, torch.float64):
        x = x.to(torch.float32)
    aa = antialias and mode in ("bilinear", "bicubic")
    ac = False if mode in ("bilinear", "bicubic") else None
    y = TF.interpolate(x, size=size, mode=mode, align_corners=ac, antialias=aa)
    if mode == "bicubic" and out_dtype == torch.uint8:
        y = y.clamp(0, 255)
    if y.dtype != out_dtype:
        y = torch.round(y).to(out_dtype)
    return y.squeeze(0) if squeeze else y


def _grid(theta, w, h, ow, oh):
    base = torch.empty(1, oh, ow, 3, dtype=theta.dtype)
    base[..., 0].copy_(torch.linspace(-ow * 0.5 + 0.5, ow * 0.5 + 0.5 - 1, steps=ow))
    base[..., 1].copy_(torch.linspace(-oh * 0.5 + 0.5, oh * 0.5 + 0.5 - 1, steps=oh)
                       .unsqueeze_(-1))
    base[..., 2].fill_(1)
    rescaled = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], dtype=theta.dtype)
    return base.view(1, oh * ow, 3).bmm(rescaled).view(1, oh, ow, 2)


def _output_size(matrix, w, h):
    pts = torch.tensor([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                        [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]])
    theta = torch.tensor(matrix, dtype=torch.float).view(2, 3)
    new = torch.matmul(pts, theta.T)
    lo, hi = new.min(dim=0).values, new.max(dim=0).values
    lo += torch.tensor((w * 0.5, h * 0.5))
    hi += torch.tensor((w * 0.5, h * 0.5))
    tol = 1e-4
    size = torch.ceil((hi / tol).trunc_() * tol) - torch.floor((lo / tol).trunc_() * tol)
    return int(size[0]), int(size[1])


def warp(img: torch.Tensor, matrix, mode: str, fill, expand: bool = False) -> torch.Tensor:
    w, h = img.shape[-1], img.shape[-2]
    ow, oh = _output_size(matrix, w, h) if expand else (w, h)
    dtype = img.dtype if torch.is_floating_point(img) else torch.float32
    theta = torch.tensor(matrix, dtype=dtype).reshape(1, 2, 3)
    grid = _grid(theta, w, h, ow, oh)
    squeeze = img.ndim < 4
    x = img.unsqueeze(0) if squeeze else img
    out_dtype = x.dtype
    x = x.to(grid.dtype)
    if x.shape[0] > 1:
        grid = grid.expand(x.shape[0], *grid.shape[1:])
    if fill is not None:
        x = torch.cat((x, torch.ones((x.shape[0], 1, x.shape[2], x.shape[3]), dtype=x.dtype)), 1)
    y = TF.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        mask, y = y[:, -1:], y[:, :-1]
        mask = mask.expand_as(y)
        fl = fill if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_img = torch.tensor(fl, dtype=y.dtype).view(1, len(fl), 1, 1).expand_as(y)
        if mode == "nearest":
            y = y.clone()
            m = mask < 0.5
            y[m] = fill_img[m]
        else:
            y = y * mask + (1.0 - mask) * fill_img
    if y.dtype != out_dtype:
        y = torch.round(y).to(out_dtype) if not out_dtype.is_floating_point else y.to(out_dtype)
    return y.squeeze(0) if squeeze else y


def grayscale(img: torch.Tensor) -> torch.Tensor:
    r, g, b = img.unbind(dim=-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)


def blend(img1, img2, ratio):
    bound = 1.0 if img1.is_floating_point() else 255.0
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


def contrast(img, factor):
    dtype = img.dtype if torch.is_floating_point(img) else torch.float32
    src = grayscale(img) if img.shape[-3] == 3 else img
    mean = torch.mean(src.to(dtype), dim=(-3, -2, -1), keepdim=True)
    return blend(img, mean, factor)
