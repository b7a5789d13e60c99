"""Writers of small dataset files in the real formats (IDX, CIFAR python batches, images)."""
from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import tarfile
import warnings

import numpy as np


def idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    """IDX encoding: 0x00 0x00 <type code> <ndim>, big-endian uint32 sizes, big-endian data."""
    dt = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    head = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + np.ascontiguousarray(arr, dtype=dt).tobytes()


def write(path: str, data: bytes, gz: bool = False) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if gz:
        path += ".gz"
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)
    return path


def mnist_arrays(n: int, seed: int):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n, dtype=np.uint8))


def write_mnist(d: str, train: bool, n: int, gz: bool, seed: int = 0):
    """Write one split into directory ``d``; returns (images, labels)."""
    images, labels = mnist_arrays(n, seed)
    p = "train" if train else "t10k"
    write(os.path.join(d, f"{p}-images-idx3-ubyte"), idx_bytes(images), gz)
    write(os.path.join(d, f"{p}-labels-idx1-ubyte"), idx_bytes(labels), gz)
    return images, labels


class _Py2Pickler(pickle._Pickler):
    """Writes pickles as Python 2's cPickle wrote the CIFAR files: protocol 2, byte strings as
    (SHORT_)BINSTRING (Python 3 would call ``_codecs.encode``), numpy's ``_reconstruct`` under
    its old module name ``numpy.core.multiarray``."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, f):
        super().__init__(f, protocol=2)

    def _save_binstring(self, raw: bytes, obj) -> None:
        n = len(raw)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + raw)
        self.memoize(obj)

    def save_bytes(self, obj):
        self._save_binstring(obj, obj)

    def save_str(self, obj):
        self._save_binstring(obj.encode("latin1"), obj)

    dispatch[bytes] = save_bytes
    dispatch[str] = save_str

    def save_global(self, obj, name=None):
        if getattr(obj, "__name__", None) == "_reconstruct":
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


def py2_dumps(obj) -> bytes:
    buf = io.BytesIO()
    _Py2Pickler(buf).dump(obj)
    return buf.getvalue()


def cifar_batch(n: int, seed: int, label_key: str = "labels", extra=None) -> bytes:
    """A CIFAR python batch as the official files hold it: a dict pickled by Python 2."""
    rng = np.random.default_rng(seed)
    d = {"batch_label": f"batch {seed}", label_key: [int(v) for v in rng.integers(0, 10, n)],
         "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
         "filenames": [f"img_{i}.png" for i in range(n)]}
    if label_key == "fine_labels":
        d["coarse_labels"] = [int(v) for v in rng.integers(0, 20, n)]
    d.update(extra or {})
    return py2_dumps(d)


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck"]


def cifar10_files(n_per_batch: int = 4) -> dict:
    files = {f"data_batch_{i}": cifar_batch(n_per_batch, i) for i in range(1, 6)}
    files["test_batch"] = cifar_batch(n_per_batch, 99)
    files["batches.meta"] = py2_dumps({"label_names": CIFAR10_CLASSES,
                                       "num_cases_per_batch": n_per_batch, "num_vis": 3072})
    return files


def cifar100_files(n: int = 6) -> dict:
    return {"train": cifar_batch(n, 1, "fine_labels"), "test": cifar_batch(n, 2, "fine_labels"),
            "meta": py2_dumps({"fine_label_names": [f"c{i}" for i in range(100)],
                               "coarse_label_names": [f"s{i}" for i in range(20)]})}


def write_dir(d: str, files: dict) -> None:
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def write_tar(path: str, folder: str, files: dict) -> None:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def batch_images(raw: bytes) -> tuple:
    """(N x 32 x 32 x 3 uint8, labels) of a batch written above, decoded independently."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy.core is numpy._core now
        d = pickle.loads(raw, encoding="latin1")
    labels = d.get("labels", d.get("fine_labels"))
    return d["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels
