"""MNIST and Fashion-MNIST from their IDX files, as ``torchvision.datasets.MNIST``."""
from __future__ import annotations

import gzip
import os
import shutil
import warnings
from typing import Any, Callable

import numpy as np

from ...backend import dtypes as _dt
from ...tensor import Tensor
from .. import _pil
from .utils import download_url, read_idx
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST"]


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels.

    The IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-...``),
    gzipped or not, are looked for where torchvision puts them (``root/MNIST/raw/``) and then
    directly under ``root``.

    Args:
        root (str or os.PathLike): the dataset directory.
        train (bool): the training split if True, else the test split.
        transform (callable, optional): applied to the PIL image (mode ``'L'``).
        target_transform (callable, optional): applied to the int label.
        download (bool): fetch the files from the official mirrors into ``root/MNIST/raw`` when
            they are not found (fails with a clear error, after a short timeout, offline).

    Attributes: ``data`` (uint8 tensor N x 28 x 28), ``targets`` (int64 tensor N),
    ``classes``, ``class_to_idx``.

    Differs from torch: the files' MD5 sums are checked only on download, so subsets or
    re-encoded files load as long as they are valid IDX files.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]
    #: further directories searched after ``root`` (FashionMNIST: Debian's package directory)
    extra_dirs: tuple = ()

    def __init__(self, root, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        found = self._find_split()
        if found is None:
            raise RuntimeError(self._not_found_message())
        self.data, self.targets = self._load_data(*found)

    # ---- where the files are ---------------------------------------------------------------
    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    def _search_dirs(self) -> list:
        return [self.raw_folder, os.fspath(self.root), *self.extra_dirs]

    def _split_names(self) -> tuple:
        p = "train" if self.train else "t10k"
        return f"{p}-images-idx3-ubyte", f"{p}-labels-idx1-ubyte"

    @staticmethod
    def _find(d: str, name: str) -> str | None:
        for cand in (os.path.join(d, name), os.path.join(d, name + ".gz")):
            if os.path.isfile(cand):
                return cand
        return None

    def _find_split(self):
        """(images path, labels path) from the first directory holding both, else None."""
        for d in self._search_dirs():
            pair = tuple(self._find(d, n) for n in self._split_names())
            if None not in pair:
                return pair
        return None

    def _check_exists(self) -> bool:
        names = [os.path.splitext(f)[0] for f, _ in self.resources]
        return all(any(self._find(d, n) for d in self._search_dirs()) for n in names)

    def _not_found_message(self) -> str:
        img, lab = self._split_names()
        dirs = "\n  ".join(self._search_dirs())
        return (f"Dataset not found. You can use download=True to download it.\n"
                f"Looked for {img}[.gz] and {lab}[.gz] in:\n  {dirs}\n"
                f"Put the IDX files (gzipped or not) in {self.raw_folder}.")

    # ---- loading -----------------------------------------------------------------------------
    def _load_data(self, image_file: str, label_file: str):
        images = read_idx(image_file, ndim=3)
        labels = read_idx(label_file, ndim=1)
        if len(images) != len(labels):
            raise ValueError(f"{image_file!r} holds {len(images)} images but {label_file!r} "
                             f"holds {len(labels)} labels; the counts must be equal")
        return Tensor._make(images), Tensor._make(labels.astype(np.int64))

    def __getitem__(self, index) -> tuple[Any, Any]:
        """(PIL image of mode 'L', int label), after ``transform`` / ``target_transform``."""
        data, targets = self.data, self.targets
        index = int(index)
        img = data._data[index] if isinstance(data, Tensor) else np.asarray(data[index])
        target = int(targets._data[index] if isinstance(targets, Tensor) else targets[index])
        img = _pil.require().fromarray(img, mode="L")
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices) -> list:
        """The samples at ``indices`` (the DataLoader's batched fetch). When ``transform`` is a
        plain ``ToTensor`` the images are converted in one array operation instead of one PIL
        image each: the same values, ~30x faster."""
        from ..transforms.transforms import ToTensor
        if type(self.transform) is not ToTensor or not isinstance(self.data, Tensor):
            return [self[i] for i in indices]
        idx = [int(i) for i in indices]
        imgs = self.data._data[idx]
        f = _dt.get_default_dtype().np
        out = np.empty((len(idx), 1) + imgs.shape[1:], dtype=f)
        np.divide(imgs[:, None], f.type(255), out=out, dtype=f)     # as to_tensor does
        labels = self.targets._data[idx] if isinstance(self.targets, Tensor) else \
            [self.targets[i] for i in idx]
        tt = self.target_transform
        return [(Tensor._make(out[k]), int(t) if tt is None else tt(int(t)))
                for k, t in enumerate(labels)]

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"

    # ---- download ----------------------------------------------------------------------------
    def download(self) -> None:
        """Fetch the four gzipped IDX files into ``raw_folder`` (and unpack them there)."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            errors = []
            for mirror in self.mirrors:
                url = f"{mirror}{filename}"
                try:
                    path = download_url(url, self.raw_folder, filename, md5)
                    break
                except RuntimeError as e:
                    errors.append(str(e))
            else:
                tried = "\n  ".join(errors)
                names = ", ".join(f for f, _ in self.resources)
                raise RuntimeError(
                    f"Error downloading {filename}; tried:\n  {tried}\n"
                    f"Without network access, get the files ({names}) elsewhere and put them, "
                    f"gzipped or not, in {self.raw_folder}")
            with gzip.open(path, "rb") as src, open(path[:-3] + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(path[:-3] + ".part", path[:-3])

    # ---- deprecated aliases, as torchvision keeps them -----------------------------------------
    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets")
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets")
        return self.targets

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data")
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data")
        return self.data


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 70,000 28x28 grey images of 10 kinds of clothing.

    Same files and arguments as :class:`MNIST` (``root/FashionMNIST/raw/`` or ``root``); when
    ``root`` has none, Debian's ``dataset-fashion-mnist`` package directory
    ``/usr/share/datasets/fashion-mnist/`` is used.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    extra_dirs = ("/usr/share/datasets/fashion-mnist",)
