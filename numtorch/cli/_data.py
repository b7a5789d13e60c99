"""The CLI's datasets: decoding them once into uint8 arrays, normalising, splitting, augmenting,
and turning any image file into the model's input (channels, size)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..backend import random as _random
from ..tensor import Tensor
from ..utils.data import Dataset
from ..vision import datasets as _vd
from ._common import CLIError, UsageError

NAMES = ("fashion-mnist", "mnist", "cifar10")
HOLDOUT = 0.2            # test share of an image folder that has no test/ (or val/) folder
_IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte")
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


def default_data_dir() -> str:
    """``$NUMTORCH_DATA_DIR``, else ``./data``."""
    return os.environ.get("NUMTORCH_DATA_DIR", "data")


def check_name(name: str) -> None:
    """UsageError unless ``name`` is a known dataset or ``folder:PATH``."""
    if name in NAMES:
        return
    if name.startswith("folder:"):
        if not name[7:]:
            raise UsageError("dataset 'folder:' needs a path, e.g. folder:images/")
        return
    raise UsageError(f"unknown dataset {name!r}; choose one of {', '.join(NAMES)} or "
                     "folder:PATH (one sub-folder of images per class)")


@dataclass
class Split:
    """One split of a dataset, decoded: images (N, C, H, W) uint8, targets (N,) int64."""

    images: np.ndarray
    targets: np.ndarray
    classes: list
    source: str

    def limit(self, n: int | None) -> "Split":
        if not n or n >= len(self.targets):
            return self
        return Split(self.images[:n], self.targets[:n], self.classes, self.source)


# ---- finding and decoding ----------------------------------------------------------------------
def _mnist_class(name: str):
    return _vd.FashionMNIST if name == "fashion-mnist" else _vd.MNIST


def search_dirs(name: str, data_dir: str) -> list:
    """The directories searched for dataset ``name`` under ``data_dir``, in order."""
    if name in ("fashion-mnist", "mnist"):
        cls = _mnist_class(name)
        return [os.path.join(data_dir, cls.__name__, "raw"), data_dir, *cls.extra_dirs]
    if name == "cifar10":
        return [os.path.join(data_dir, _vd.CIFAR10.base_folder), data_dir]
    return [name[7:]]


def locate(name: str, data_dir: str):
    """The directory where dataset ``name`` was found (None if not) and the searched ones."""
    dirs = search_dirs(name, data_dir)
    for d in dirs:
        if name in ("fashion-mnist", "mnist"):
            if all(os.path.isfile(os.path.join(d, f)) or os.path.isfile(os.path.join(d, f + ".gz"))
                   for f in _IDX):
                return d, dirs
        elif name == "cifar10":
            if os.path.isfile(os.path.join(d, "data_batch_1")) or os.path.isfile(
                    os.path.join(d, _vd.CIFAR10.filename)):
                return d, dirs
        elif os.path.isdir(d):
            return d, dirs
    return None, dirs


def _not_found(name: str, data_dir: str, split: str) -> CLIError:
    dirs = ", ".join(search_dirs(name, data_dir))
    if name == "fashion-mnist":
        how = ("install Debian's package (apt-get install dataset-fashion-mnist) or put the four "
               "IDX files (train-images-idx3-ubyte.gz, ...) in a directory and pass --data-dir DIR")
    elif name == "mnist":
        how = "put the four MNIST IDX files (train-images-idx3-ubyte.gz, ...) in a directory " \
              "and pass --data-dir DIR"
    else:
        how = "put cifar-10-python.tar.gz (or its extracted cifar-10-batches-py/) in a " \
              "directory and pass --data-dir DIR"
    return CLIError(f"{name} {split} split not found (looked in {dirs}); {how}")


def load_split(name: str, data_dir: str, train: bool, image_size: int | None = None,
               channels: int | None = None) -> Split:
    """Decode one split of dataset ``name`` (``folder:PATH`` images are converted to
    ``channels`` and resized to ``image_size``; the other datasets keep their own format)."""
    split = "train" if train else "test"
    if name in ("fashion-mnist", "mnist"):
        try:
            ds = _mnist_class(name)(data_dir, train=train)
        except RuntimeError as e:
            if "not found" in str(e):
                raise _not_found(name, data_dir, split) from None
            raise CLIError(f"can't read {name}: {e}") from None
        except (ValueError, OSError) as e:
            raise CLIError(f"can't read {name} {split} split: {e}") from None
        images = ds.data.numpy()[:, None]
        return Split(images, ds.targets.numpy().astype(np.int64), list(ds.classes),
                     os.path.dirname(_found_file(ds)))
    if name == "cifar10":
        try:
            ds = _vd.CIFAR10(data_dir, train=train)
        except RuntimeError as e:
            if "not found" in str(e):
                raise _not_found(name, data_dir, split) from None
            raise CLIError(f"can't read cifar10: {e}") from None
        except (ValueError, OSError, EOFError) as e:
            raise CLIError(f"can't read cifar10 {split} split: {e}") from None
        images = np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2))
        return Split(images, np.asarray(ds.targets, dtype=np.int64), list(ds.classes),
                     data_dir)
    return _load_folder(name[7:], train, image_size or 32, channels)


def _found_file(ds) -> str:
    found = ds._find_split()
    return found[0] if found else ds.root


def _load_folder(root: str, train: bool, size: int, channels: int | None) -> Split:
    """An image folder: ``root/<class>/*`` (or ``root/train/<class>/*`` and
    ``root/test/<class>/*``); without a test folder a fixed 20% of the images is the test split."""
    if not os.path.isdir(root):
        raise CLIError(f"image folder {root!r} does not exist" if not os.path.exists(root)
                       else f"image folder {root!r} is not a directory")
    train_dir = os.path.join(root, "train")
    train_dir = train_dir if os.path.isdir(train_dir) else root
    test_dir = next((os.path.join(root, d) for d in ("test", "val")
                     if os.path.isdir(os.path.join(root, d))), None)
    try:
        classes, class_to_idx = _vd.folder.find_classes(train_dir)
        if test_dir is not None and not train:
            samples = _vd.folder.make_dataset(test_dir, class_to_idx, _vd.folder.IMG_EXTENSIONS,
                                              allow_empty=True)
        else:
            samples = _vd.folder.make_dataset(train_dir, class_to_idx,
                                              _vd.folder.IMG_EXTENSIONS)
    except FileNotFoundError as e:
        raise CLIError(f"image folder {train_dir!r}: {e}") from None
    if test_dir is None:
        perm = np.random.default_rng(0).permutation(len(samples))
        n_test = max(1, int(round(HOLDOUT * len(samples))))
        keep = np.sort(perm[:n_test] if not train else perm[n_test:])
        samples = [samples[i] for i in keep]
    if not samples:
        raise CLIError(f"image folder {test_dir or train_dir!r} holds no images")
    pil = [open_image(p) for p, _ in samples]
    if channels is None:
        channels = 1 if all(is_gray(im) for im in pil) else 3
    images = np.stack([to_array(im, channels, (size, size))[0] for im in pil])
    targets = np.array([t for _, t in samples], dtype=np.int64)
    return Split(images, targets, classes, test_dir if test_dir and not train else train_dir)


# ---- single images -----------------------------------------------------------------------------
def open_image(path: str):
    """A decoded PIL image, or CLIError naming the file when Pillow can't read it."""
    from ..vision import _pil
    Image = _pil.require()
    try:
        with open(path, "rb") as f:
            img = Image.open(f)
            img.load()
    except (Image.UnidentifiedImageError, Image.DecompressionBombError):
        raise CLIError(f"{path!r} is not an image file Pillow can read (PNG, JPEG, ...)") from None
    except OSError as e:
        raise CLIError(f"can't read image {path!r}: {e.strerror or e}") from None
    except (SyntaxError, ValueError) as e:
        raise CLIError(f"can't decode image {path!r}: {e}") from None
    return img


def is_gray(img) -> bool:
    """True for grey images (grey modes, or colour images whose channels are all equal)."""
    if img.mode in _GRAY_MODES:
        return True
    a = np.asarray(img.convert("RGB"))
    return bool((a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all())


def to_array(img, channels: int, size) -> tuple:
    """(uint8 array (channels, H, W), converted, resized): ``img`` flattened onto white where
    it has transparency, converted to grey (ITU-R 601 luma) or RGB, and resized (bilinear,
    stretched) to ``size`` = (H, W); the flags say whether the mode or the size changed."""
    from ..vision import _pil
    Image = _pil.require()
    h, w = size
    resized = img.size != (w, h)
    converted = img.mode != ("L" if channels == 1 else "RGB")
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        a = a / 257.0 if img.mode.startswith("I;16") else a
        img = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), mode="L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    img = img.convert("L" if channels == 1 else "RGB")
    if img.size != (w, h):
        img = img.resize((w, h), Image.BILINEAR)
    a = np.asarray(img, dtype=np.uint8)
    a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
    return np.ascontiguousarray(a), converted, resized


# ---- normalisation, splitting, augmentation -------------------------------------------------
def channel_stats(images: np.ndarray) -> tuple:
    """Per-channel mean and std of uint8 images (N, C, H, W) on the [0, 1] scale, as lists."""
    x = images.reshape(images.shape[0], images.shape[1], -1)
    mean = x.mean(axis=(0, 2)) / 255.0
    std = np.sqrt(np.maximum((x.astype(np.float64) ** 2).mean(axis=(0, 2)) / 255.0 ** 2
                             - mean ** 2, 0.0))
    std = np.where(std > 1e-6, std, 1.0)
    return [round(float(m), 6) for m in mean], [round(float(s), 6) for s in std]


def normalise(images: np.ndarray, mean, std) -> np.ndarray:
    """uint8 (N, C, H, W) -> float32 ((x / 255) - mean) / std, per channel."""
    m = np.asarray(mean, dtype=np.float32)[:, None, None]
    s = np.asarray(std, dtype=np.float32)[:, None, None]
    x = images.astype(np.float32)
    x *= np.float32(1 / 255)
    x -= m
    x /= s
    return x


def val_split(n: int, fraction: float, seed: int) -> tuple:
    """(train indices, validation indices): a permutation seeded by ``seed``."""
    n_val = int(round(n * fraction))
    if fraction and n_val == 0:
        n_val = 1
    if n_val >= n:
        raise CLIError(f"--val-fraction {fraction} leaves no training samples out of {n}")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


class ImageArrays(Dataset):
    """Images held in memory as normalised float32 arrays, with optional random augmentation.

    Args:
        images: uint8 array (N, C, H, W).
        targets: int array (N,).
        mean, std: per-channel normalisation on the [0, 1] scale.
        augment: ``'none'``, ``'flip'`` (horizontal, p = 0.5), ``'crop'`` (random crop after
            padding by H // 8 with black) or ``'flip+crop'``; drawn from numtorch's default
            generator, so ``numtorch.manual_seed`` and the Trainer's RNG state cover them.

    Returns ``(Tensor (C, H, W) float32, int)`` per item.
    """

    def __init__(self, images, targets, mean, std, augment: str = "none", classes=None) -> None:
        self.data = normalise(images, mean, std)
        self.targets = np.asarray(targets, dtype=np.int64)
        self.classes = list(classes or [])
        self.flip = "flip" in augment
        self.crop = "crop" in augment
        self.pad = max(1, images.shape[2] // 8)
        self.fill = (-np.asarray(mean, np.float32) / np.asarray(std, np.float32))[:, None, None]

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index):
        x = self.data[index]
        if self.crop or self.flip:
            x = self._augment(x[None])[0]
        return Tensor._make(x), int(self.targets[index])

    def __getitems__(self, indices):
        """A batch of samples at once: one gather and one vectorised augmentation."""
        idx = np.asarray(indices, dtype=np.intp)
        x = self.data[idx]
        if self.crop or self.flip:
            x = self._augment(x)
        return [(Tensor._make(xi), t) for xi, t in zip(x, self.targets[idx].tolist())]

    def _augment(self, x):
        """Random crops (after padding) and flips of a batch (N, C, H, W), drawn in one go."""
        rng = _random.gen()
        n, c, h, w = x.shape
        if self.crop:
            p = self.pad
            padded = np.empty((n, c, h + 2 * p, w + 2 * p), dtype=x.dtype)
            padded[...] = self.fill
            padded[:, :, p:p + h, p:p + w] = x
            oy = rng.integers(0, 2 * p + 1, n)
            ox = rng.integers(0, 2 * p + 1, n)
            rows = (oy[:, None] + np.arange(h))[:, None, :, None]
            cols = (ox[:, None] + np.arange(w))[:, None, None, :]
            x = padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                       rows, cols]
        if self.flip:
            flip = rng.random(n) < 0.5
            x = x.copy() if not self.crop else x
            x[flip] = x[flip][:, :, :, ::-1]
        return x
