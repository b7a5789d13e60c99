"""numtorch.vision: torchvision's part — datasets, transforms and image utilities.

``from numtorch.vision import datasets, transforms, utils`` stands in for
``from torchvision import datasets, transforms, utils``. Images are handled with Pillow
(the optional extra ``numtorch[vision]``).
"""
from . import datasets, models, transforms, utils

__all__ = ["datasets", "models", "transforms", "utils", "get_image_backend", "set_image_backend"]

_image_backend = "PIL"


def set_image_backend(backend: str) -> None:
    """Choose the package that loads images; only ``'PIL'`` is available."""
    if backend != "PIL":
        raise ValueError(f"Invalid backend '{backend}'. Options are 'PIL' (accimage is not "
                         "supported)")


def get_image_backend() -> str:
    """The package that loads images: ``'PIL'``."""
    return _image_backend
