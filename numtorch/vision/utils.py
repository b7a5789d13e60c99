"""Image utilities: make_grid and save_image, as ``torchvision.utils``."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from . import _pil

__all__ = ["make_grid", "save_image"]


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range=None, scale_each: bool = False, pad_value: float = 0.0,
              **kwargs) -> Tensor:
    """Tile a batch of images (B x C x H x W, or a list of C x H x W) into one C x H' x W' image.

    Args:
        tensor (Tensor or list of Tensor): the images; 1-channel images become 3-channel.
        nrow (int): images per row; the grid is ``min(nrow, B)`` wide and
            ``ceil(B / min(nrow, B))`` high.
        padding (int): pixels between (and around) the images.
        normalize (bool): shift to [0, 1] by ``value_range`` (default: the min and max).
        value_range (tuple, optional): (min, max) used by ``normalize``.
        scale_each (bool): normalize each image by its own min and max.
        pad_value (float): the value of the padding pixels.

    Shape: (B, C, H, W) -> (C, (H + padding) * rows + padding, (W + padding) * cols + padding).
    """
    if isinstance(tensor, list):
        for t in tensor:
            if not isinstance(t, Tensor):
                raise TypeError(f"tensor or list of tensors expected, got a list containing "
                                f"{type(t)}")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) > 1:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got images of "
                               f"shapes {sorted(shapes)}")
        arr = np.stack([t._data for t in tensor], axis=0)
    elif isinstance(tensor, Tensor):
        arr = tensor._data
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        if arr.shape[0] == 1:
            arr = np.concatenate((arr, arr, arr), 0)
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = np.concatenate((arr, arr, arr), 1)
    if normalize is True:
        arr = arr.copy()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max "
                            "are numbers")

        def norm_range(img):
            low, high = value_range if value_range is not None else \
                (float(img.min()), float(img.max()))
            np.clip(img, low, high, out=img)
            img -= img.dtype.type(low)
            img /= img.dtype.type(max(high - low, 1e-5))

        if scale_each is True:
            for img in arr:
                norm_range(img)
        else:
            norm_range(arr)
    if arr.shape[0] == 1:
        return Tensor._make(arr[0])
    nmaps = arr.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(arr.shape[2] + padding), int(arr.shape[3] + padding)
    grid = np.full((arr.shape[1], height * ymaps + padding, width * xmaps + padding), pad_value,
                   dtype=arr.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = arr[k]
    return Tensor._make(grid)


def save_image(tensor, fp, format: str | None = None, **kwargs) -> None:
    """Save a tensor (or a batch, tiled with :func:`make_grid` and ``kwargs``) as an image
    file; values in [0, 1] map to 0..255, rounded to nearest."""
    Image = _pil.require()
    grid = make_grid(tensor, **kwargs)._data
    ndarr = np.clip(grid * 255 + 0.5, 0, 255).transpose(1, 2, 0).astype(np.uint8)
    Image.fromarray(np.ascontiguousarray(ndarr)).save(fp, format=format)
