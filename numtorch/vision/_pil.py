"""Pillow, imported once; numtorch.vision needs it only for image files and PIL images."""
from __future__ import annotations

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is the optional extra ``numtorch[vision]``
    Image = None

_MISSING = ("numtorch.vision needs Pillow for images: pip install 'numtorch[vision]' "
            "(or pip install pillow)")


def require():
    """The ``PIL.Image`` module, or ImportError with the install hint."""
    if Image is None:
        raise ImportError(_MISSING)
    return Image


def is_pil_image(img) -> bool:
    return Image is not None and isinstance(img, Image.Image)
