"""DatasetFolder and ImageFolder: one sub-directory per class, as ``torchvision.datasets``."""
from __future__ import annotations

import os
import struct
from typing import Any, Callable

from .. import _pil
from .vision import VisionDataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "default_loader", "pil_loader",
           "find_classes", "make_dataset", "has_file_allowed_extension", "is_image_file"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename: str, extensions) -> bool:
    """True when ``filename`` ends with one of ``extensions`` (case-insensitive)."""
    return filename.lower().endswith(extensions if isinstance(extensions, str)
                                     else tuple(extensions))


def is_image_file(filename: str) -> bool:
    """True when ``filename`` has an image extension (``IMG_EXTENSIONS``)."""
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory) -> tuple[list, dict]:
    """The sorted class folder names of ``directory`` and their indices."""
    classes = sorted(e.name for e in os.scandir(directory) if e.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {c: i for i, c in enumerate(classes)}


def make_dataset(directory, class_to_idx: dict | None = None, extensions=None,
                 is_valid_file: Callable | None = None, allow_empty: bool = False) -> list:
    """The ``(path, class_index)`` samples under ``directory/<class>/`` (walked, sorted)."""
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the "
                         "same time")
    if extensions is not None:
        def is_valid_file(x: str) -> bool:
            return has_file_allowed_extension(x, extensions)
    instances, available = [], set()
    for target_class in sorted(class_to_idx.keys()):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    available.add(target_class)
    empty = set(class_to_idx.keys()) - available
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            msg += ("Supported extensions are: "
                    f"{extensions if isinstance(extensions, str) else ', '.join(extensions)}")
        raise FileNotFoundError(msg)
    return instances


# What Pillow's plugins raise on malformed files besides OSError (found by fuzzing:
# tests/reliability/test_fuzz.py); Pillow's own ``Image.open`` converts only some of them.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError,
                  ZeroDivisionError, OverflowError, struct.error)


def pil_loader(path: str):
    """Open ``path`` with Pillow and convert it to RGB.

    A file Pillow cannot identify raises ``PIL.UnidentifiedImageError`` naming the path; an
    image of more than ``PIL.Image.MAX_IMAGE_PIXELS`` pixels raises
    ``PIL.Image.DecompressionBombError`` before it is decoded; a truncated or corrupt image
    raises ``OSError`` naming the path.

    Differs from torch: torchvision (through Pillow) only warns between ``MAX_IMAGE_PIXELS``
    and twice that; here any image over the limit is refused.
    """
    Image = _pil.require()
    with open(path, "rb") as f:
        try:
            img = Image.open(f)
        except Image.DecompressionBombError as e:
            raise Image.DecompressionBombError(f"{path!r}: {e}") from None
        except Image.UnidentifiedImageError:
            raise Image.UnidentifiedImageError(
                f"cannot identify image file {path!r}: not an image, or a format Pillow cannot "
                "read") from None
        except _DECODE_ERRORS as e:        # a plugin that chokes on a malformed header
            raise Image.UnidentifiedImageError(
                f"cannot identify image file {path!r}: malformed header "
                f"({type(e).__name__}: {e})") from e
        limit = Image.MAX_IMAGE_PIXELS
        w, h = img.size
        if limit is not None and w * h > limit:
            raise Image.DecompressionBombError(
                f"{path!r}: image size {w}x{h} ({w * h} pixels) exceeds PIL.Image.MAX_IMAGE_PIXELS"
                f" ({limit}); a possible decompression bomb. Raise the limit if the file is "
                "trusted.")
        try:
            return img.convert("RGB")
        except _DECODE_ERRORS as e:
            raise OSError(f"cannot decode image file {path!r}: {e}") from e


def default_loader(path: str):
    """The default image loader (Pillow, RGB)."""
    return pil_loader(path)


class DatasetFolder(VisionDataset):
    """A generic dataset laid out as ``root/<class>/**/<file>``; classes are the sorted folder
    names.

    Args:
        root (str or os.PathLike): the root directory.
        loader (callable): loads a sample from its path.
        extensions (tuple of str, optional): allowed extensions (exclusive with
            ``is_valid_file``).
        transform, target_transform (callable, optional): applied to the sample / the target.
        is_valid_file (callable, optional): a function of the path deciding whether to keep a
            file.
        allow_empty (bool): allow class folders without valid files.

    Attributes: ``classes``, ``class_to_idx``, ``samples`` (list of (path, class_index)),
    ``targets``.
    """

    def __init__(self, root, loader: Callable, extensions=None,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 is_valid_file: Callable | None = None, allow_empty: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"Dataset folder not found: {self.root}")
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx=class_to_idx, extensions=extensions,
                                    is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]

    @staticmethod
    def make_dataset(directory, class_to_idx: dict, extensions=None,
                     is_valid_file: Callable | None = None, allow_empty: bool = False) -> list:
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions,
                            is_valid_file=is_valid_file, allow_empty=allow_empty)

    def find_classes(self, directory) -> tuple[list, dict]:
        return find_classes(directory)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self) -> int:
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """An image dataset laid out as ``root/<class>/**/<image>``, loaded as RGB with Pillow.

    Args:
        root (str or os.PathLike): the root directory.
        transform, target_transform (callable, optional): applied to the image / the target.
        loader (callable): loads an image from its path (default: Pillow, RGB).
        is_valid_file (callable, optional): decides which files to keep (default: files with
            an image extension, ``IMG_EXTENSIONS``).
        allow_empty (bool): allow class folders without valid files.

    Attributes: ``classes``, ``class_to_idx``, ``samples``/``imgs``, ``targets``.
    """

    def __init__(self, root, transform: Callable | None = None,
                 target_transform: Callable | None = None, loader: Callable = default_loader,
                 is_valid_file: Callable | None = None, allow_empty: bool = False) -> None:
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
