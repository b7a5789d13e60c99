"""CIFAR-10 and CIFAR-100 from the python-version archives, as ``torchvision.datasets``."""
from __future__ import annotations

import operator
import os
import tarfile
from typing import Any, Callable

import numpy as np

from .. import _pil
from .utils import download_url, extract_archive, restricted_loads
from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100"]


class CIFAR10(VisionDataset):
    """CIFAR-10: 60,000 32x32 colour images in 10 classes (50,000 train, 10,000 test).

    Reads the extracted ``root/cifar-10-batches-py/`` (``data_batch_1`` .. ``data_batch_5``,
    ``test_batch``, ``batches.meta``), or the batch files directly under ``root``, or else the
    packed ``root/cifar-10-python.tar.gz`` without extracting it. The batch files are pickles;
    they are read with a restricted unpickler that admits only dicts, lists, strings, numbers
    and numpy arrays, so a tampered file raises an ``UnpicklingError`` instead of running code.

    Args:
        root (str or os.PathLike): the dataset directory.
        train (bool): the training split if True, else the test split.
        transform (callable, optional): applied to the PIL image (mode ``'RGB'``).
        target_transform (callable, optional): applied to the int label.
        download (bool): fetch and extract the archive into ``root`` when not found (fails with
            a clear error, after a short timeout, offline).

    Attributes: ``data`` (uint8 numpy array N x 32 x 32 x 3), ``targets`` (list of int),
    ``classes``, ``class_to_idx``.

    Raises: ``pickle.UnpicklingError`` (``ForbiddenGlobalError`` for a global that is not
    numpy's) for a malformed or tampered batch file; ``ValueError`` for a batch of the wrong
    structure (shape, dtype, label count); ``RuntimeError`` when the files are missing or the
    archive is corrupt. Each names the file.

    Differs from torch: batch files are validated by structure, not MD5 (only the downloaded
    archive's MD5 is checked); ``data`` is C-contiguous.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [["data_batch_1", "c99cafc152244af753f735de768cd75f"],
                  ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
                  ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
                  ["data_batch_4", "634d18415352ddfa80567beed471001a"],
                  ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"]]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names",
            "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    _label_key = "labels"

    def __init__(self, root, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        files = [f for f, _ in (self.train_list if train else self.test_list)]
        with self._source() as read:
            chunks, self.targets = [], []
            for f in files:
                data, labels = self._parse_batch(read(f), f)
                chunks.append(data)
                self.targets.extend(labels)
            meta = self._parse_meta(read(self.meta["filename"]))
        data = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
        # (N, 3072) channel-planar rows -> (N, 32, 32, 3) HWC, contiguous for cheap indexing
        self.data = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        self.classes = meta
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    # ---- finding and reading the files -------------------------------------------------------
    def _dirs(self) -> list:
        root = os.fspath(self.root)
        return [os.path.join(root, self.base_folder), root]

    def _needed(self) -> list:
        return [f for f, _ in self.train_list + self.test_list] + [self.meta["filename"]]

    def _check_integrity(self) -> bool:
        """True when the extracted batch files or the archive are present."""
        return self._find_dir() is not None or os.path.isfile(self._archive())

    def _archive(self) -> str:
        return os.path.join(os.fspath(self.root), self.filename)

    def _find_dir(self):
        want = [f for f, _ in (self.train_list if self.train else self.test_list)]
        want.append(self.meta["filename"])
        for d in self._dirs():
            if all(os.path.isfile(os.path.join(d, f)) for f in want):
                return d
        return None

    def _source(self):
        d = self._find_dir()
        if d is not None:
            return _DirReader(d)
        if os.path.isfile(self._archive()):
            return _TarReader(self._archive(), self.base_folder)
        dirs = "\n  ".join(self._dirs() + [self._archive()])
        raise RuntimeError(
            "Dataset not found or corrupted. You can use download=True to download it.\n"
            f"Looked for the batch files ({', '.join(self._needed())}) in:\n  {dirs}\n"
            f"Put {self.filename} (from {self.url}) in {self.root}, or extract it there.")

    def _parse_batch(self, raw: bytes, name: str):
        entry = restricted_loads(raw, name=name, encoding="latin1")
        if not isinstance(entry, dict):
            raise ValueError(f"CIFAR batch {name!r} is not a dict but {type(entry).__name__}")
        entry = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}
        data = entry.get("data")
        labels = entry.get(self._label_key, entry.get("labels"))
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
                or data.shape[1] != 3072:
            desc = (f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
                    else type(data).__name__)
            raise ValueError(f"CIFAR batch {name!r}: 'data' must be a uint8 array of shape "
                             f"(N, 3072), got {desc}")
        if not isinstance(labels, (list, np.ndarray)):
            raise ValueError(f"CIFAR batch {name!r} has no {self._label_key!r} list")
        try:
            labels = [operator.index(v) for v in labels]
        except TypeError:
            raise ValueError(f"CIFAR batch {name!r}: labels must be integers") from None
        if len(labels) != len(data):
            raise ValueError(f"CIFAR batch {name!r} holds {len(data)} images but "
                             f"{len(labels)} labels; the counts must be equal")
        return data, labels

    def _parse_meta(self, raw: bytes) -> list:
        name, key = self.meta["filename"], self.meta["key"]
        meta = restricted_loads(raw, name=name, encoding="latin1")
        if isinstance(meta, dict):
            meta = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in meta.items()}
        if not isinstance(meta, dict) or key not in meta:
            raise ValueError(f"CIFAR meta file {name!r} has no {key!r} entry")
        return [c.decode("latin1") if isinstance(c, bytes) else str(c) for c in meta[key]]

    # ---- the dataset protocol ----------------------------------------------------------------
    def __getitem__(self, index) -> tuple[Any, Any]:
        """(PIL image of mode 'RGB', int label), after ``transform`` / ``target_transform``."""
        img, target = self.data[index], self.targets[index]
        img = _pil.require().fromarray(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"

    def download(self) -> None:
        """Fetch ``filename`` from ``url`` into ``root`` and extract it (safely)."""
        if self._find_dir() is not None:
            return
        root = os.fspath(self.root)
        try:
            path = download_url(self.url, root, self.filename, self.tgz_md5)
        except RuntimeError as e:
            raise RuntimeError(f"{e}\nWithout network access, get {self.filename} elsewhere and "
                               f"put it (or its extracted {self.base_folder}/) in {root}") from e
        extract_archive(path, root)


class CIFAR100(CIFAR10):
    """CIFAR-100: 60,000 32x32 colour images in 100 fine classes (``fine_labels``).

    Same arguments as :class:`CIFAR10`; files ``cifar-100-python/{train,test,meta}``.
    """

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names",
            "md5": "7973b15100ade9c7d40fb424638fde48"}
    _label_key = "fine_labels"


class _DirReader:
    def __init__(self, d: str) -> None:
        self.d = d

    def __enter__(self):
        return self.read

    def __exit__(self, *exc) -> None:
        pass

    def read(self, name: str) -> bytes:
        with open(os.path.join(self.d, name), "rb") as f:
            return f.read()


class _TarReader:
    """Reads members of the packed archive in place: nothing is written to disk."""

    def __init__(self, path: str, folder: str) -> None:
        self.path, self.folder = path, folder

    def __enter__(self):
        try:
            self.tf = tarfile.open(self.path, "r:*")
        except (tarfile.TarError, OSError, EOFError) as e:
            raise RuntimeError(f"Dataset archive {self.path!r} is corrupted: {e}") from e
        return self.read

    def __exit__(self, *exc) -> None:
        self.tf.close()

    def read(self, name: str) -> bytes:
        member = f"{self.folder}/{name}"
        try:
            info = self.tf.getmember(member)
        except KeyError:
            raise RuntimeError(f"Dataset archive {self.path!r} has no member {member!r}") from None
        if not info.isfile():
            raise RuntimeError(f"Dataset archive member {member!r} is not a regular file")
        try:
            return self.tf.extractfile(info).read()
        except (tarfile.TarError, OSError, EOFError) as e:
            raise RuntimeError(f"Dataset archive {self.path!r} is corrupted: {e}") from e
