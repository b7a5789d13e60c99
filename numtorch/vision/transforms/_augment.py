"""Random augmentations, as in ``torchvision.transforms`` (v1).

Every draw comes from numtorch's default generator (``backend.random.gen(None)``), so
``numtorch.manual_seed(s)`` fixes the augmentation sequence.

Differs from torch: the random stream is NumPy's, so a seed gives other draws than in
PyTorch; RandomChoice and RandomOrder draw from it too (torchvision uses Python's ``random``).
"""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from ... import nn
from ...backend import random as _random
from ...tensor import Tensor
from . import functional as F
from .functional import InterpolationMode, _interpolation_modes_from_int
from .transforms import _check_sequence_input, _setup_angle, _setup_size


def _rng() -> np.random.Generator:
    return _random.gen(None)


def _fill_for(img, fill):
    if isinstance(img, Tensor):
        c = F.get_dimensions(img)[0]
        return [float(fill)] * c if isinstance(fill, (int, float)) else [float(f) for f in fill]
    return fill


class RandomHorizontalFlip(nn.Module):
    """Mirror left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, img):
        return F.hflip(img) if _rng().random() < self.p else img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability ``p``."""

    def forward(self, img):
        return F.vflip(img) if _rng().random() < self.p else img


class RandomApply(nn.Module):
    """Apply the list of ``transforms`` with probability ``p``."""

    def __init__(self, transforms, p: float = 0.5) -> None:
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if self.p < _rng().random():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}(\n    p={self.p}{body}\n)"


class RandomOrder:
    """Apply ``transforms`` in a random order."""

    def __init__(self, transforms) -> None:
        self.transforms = transforms

    def __call__(self, img):
        for i in _rng().permutation(len(self.transforms)):
            img = self.transforms[i](img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}({body}\n)"


class RandomChoice(RandomOrder):
    """Apply one of ``transforms``, picked with probabilities proportional to ``p``."""

    def __init__(self, transforms, p=None) -> None:
        if p is not None and not isinstance(p, Sequence):
            raise TypeError("Argument p should be a sequence")
        super().__init__(transforms)
        self.p = p

    def __call__(self, *args):
        n = len(self.transforms)
        w = np.asarray(self.p if self.p is not None else [1.0] * n, dtype=np.float64)
        idx = int(np.searchsorted(np.cumsum(w), _rng().random() * w.sum(), side="right"))
        return self.transforms[min(idx, n - 1)](*args)

    def __repr__(self) -> str:
        return f"{super().__repr__()}(p={self.p})"


class RandomGrayscale(nn.Module):
    """Convert to grayscale (keeping the channel count) with probability ``p``."""

    def __init__(self, p: float = 0.1) -> None:
        super().__init__()
        self.p = p

    def forward(self, img):
        c = F.get_dimensions(img)[0]
        return F.rgb_to_grayscale(img, num_output_channels=c) if _rng().random() < self.p \
            else img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(p={self.p})"


class RandomCrop(nn.Module):
    """Crop a random ``size`` (int or (h, w)) region, after optional padding.

    Args:
        size (int or sequence): the crop size.
        padding (int or sequence, optional): padding applied first (as :class:`Pad`).
        pad_if_needed (bool): pad images smaller than ``size``.
        fill (number or tuple): constant padding value.
        padding_mode (str): constant, edge, reflect or symmetric.
    """

    @staticmethod
    def get_params(img, output_size):
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        i = int(_rng().integers(0, h - th + 1))
        j = int(_rng().integers(0, w - tw + 1))
        return i, j, th, tw

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant") -> None:
        super().__init__()
        self.size = tuple(_setup_size(size, "Please provide only two dimensions (h, w) for "
                                            "size."))
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"


class RandomResizedCrop(nn.Module):
    """Crop a random area (``scale`` of the image) of random aspect ``ratio``, then resize it
    to ``size``."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True) -> None:
        super().__init__()
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)")
        if isinstance(interpolation, int):
            interpolation = _interpolation_modes_from_int(interpolation)
        self.interpolation = interpolation
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(img, scale, ratio):
        _, height, width = F.get_dimensions(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        rng = _rng()
        for _ in range(10):
            target_area = area * rng.uniform(scale[0], scale[1])
            aspect_ratio = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                i = int(rng.integers(0, height - h + 1))
                j = int(rng.integers(0, width - w + 1))
                return i, j, h, w
        in_ratio = float(width) / float(height)  # fallback: a central crop
        if in_ratio < min(ratio):
            w = width
            h = int(round(w / min(ratio)))
        elif in_ratio > max(ratio):
            h = height
            w = int(round(h * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation,
                              antialias=self.antialias)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(size={self.size}, "
                f"scale={tuple(round(s, 4) for s in self.scale)}, "
                f"ratio={tuple(round(r, 4) for r in self.ratio)}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


def _check_fill(fill):
    if fill is None:
        return 0
    if not isinstance(fill, (Sequence, numbers.Number)):
        raise TypeError("Fill should be either a sequence or a number.")
    return fill


class RandomRotation(nn.Module):
    """Rotate by an angle drawn uniformly from ``degrees`` (d means (-d, d))."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand: bool = False,
                 center=None, fill=0) -> None:
        super().__init__()
        if isinstance(interpolation, int):
            interpolation = _interpolation_modes_from_int(interpolation)
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,))
        if center is not None:
            _check_sequence_input(center, "center", req_sizes=(2,))
        self.center = center
        self.interpolation = interpolation
        self.expand = expand
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(degrees) -> float:
        return float(_rng().uniform(float(degrees[0]), float(degrees[1])))

    def forward(self, img):
        fill = _fill_for(img, self.fill)
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, fill)

    def __repr__(self) -> str:
        s = (f"{self.__class__.__name__}(degrees={self.degrees}, interpolation="
             f"{self.interpolation.value}, expand={self.expand}")
        s += f", center={self.center}" if self.center is not None else ""
        s += f", fill={self.fill}" if self.fill is not None else ""
        return s + ")"


class RandomAffine(nn.Module):
    """A random affine map keeping the image centre.

    Args:
        degrees (number or sequence): rotation range; d means (-d, d).
        translate (tuple, optional): maximal fractions (a, b) of the width and height to shift.
        scale (tuple, optional): range of the scale factor.
        shear (number or sequence, optional): x shear range in degrees (d means (-d, d)), or
            4 numbers for x and y ranges.
        interpolation (InterpolationMode): nearest (default) or bilinear.
        fill (number or sequence): value for the area outside the input.
        center (sequence, optional): the rotation centre in pixels.
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None) -> None:
        super().__init__()
        if isinstance(interpolation, int):
            interpolation = _interpolation_modes_from_int(interpolation)
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,))
        if translate is not None:
            _check_sequence_input(translate, "translate", req_sizes=(2,))
            for t in translate:
                if not 0.0 <= t <= 1.0:
                    raise ValueError("translation values should be between 0 and 1")
        self.translate = translate
        if scale is not None:
            _check_sequence_input(scale, "scale", req_sizes=(2,))
            for s in scale:
                if s <= 0:
                    raise ValueError("scale values should be positive")
        self.scale = scale
        self.shear = _setup_angle(shear, name="shear", req_sizes=(2, 4)) if shear is not None \
            else None
        self.interpolation = interpolation
        self.fill = _check_fill(fill)
        if center is not None:
            _check_sequence_input(center, "center", req_sizes=(2,))
        self.center = center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        rng = _rng()
        angle = float(rng.uniform(float(degrees[0]), float(degrees[1])))
        if translate is not None:
            max_dx = float(translate[0] * img_size[0])
            max_dy = float(translate[1] * img_size[1])
            translations = (int(round(rng.uniform(-max_dx, max_dx))),
                            int(round(rng.uniform(-max_dy, max_dy))))
        else:
            translations = (0, 0)
        scale = float(rng.uniform(scale_ranges[0], scale_ranges[1])) if scale_ranges is not None \
            else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = float(rng.uniform(shears[0], shears[1]))
            if len(shears) == 4:
                shear_y = float(rng.uniform(shears[2], shears[3]))
        return angle, translations, scale, (shear_x, shear_y)

    def forward(self, img):
        fill = _fill_for(img, self.fill)
        _, height, width = F.get_dimensions(img)
        ret = self.get_params(self.degrees, self.translate, self.scale, self.shear,
                              [width, height])
        return F.affine(img, *ret, interpolation=self.interpolation, fill=fill,
                        center=self.center)

    def __repr__(self) -> str:
        s = f"{self.__class__.__name__}(degrees={self.degrees}"
        s += f", translate={self.translate}" if self.translate is not None else ""
        s += f", scale={self.scale}" if self.scale is not None else ""
        s += f", shear={self.shear}" if self.shear is not None else ""
        s += f", interpolation={self.interpolation.value}" \
            if self.interpolation != InterpolationMode.NEAREST else ""
        s += f", fill={self.fill}" if self.fill != 0 else ""
        s += f", center={self.center}" if self.center is not None else ""
        return s + ")"


from ._augment_color import ColorJitter, RandomErasing  # noqa: E402,F401
