"""CIFAR-10/100: python batches (extracted or packed), the restricted unpickler, bad files."""
import io
import os
import pickle
import tarfile
import time

import numpy as np
import pytest
import torch
from PIL import Image

import numtorch
from numtorch.vision import datasets, transforms
from numtorch.vision.datasets import cifar as cifar_mod
from numtorch.vision.datasets.utils import ForbiddenGlobalError, restricted_loads

from ._files import (
    CIFAR10_CLASSES, batch_images, cifar100_files, cifar10_files, cifar_batch, py2_dumps,
    write_dir, write_tar,
)


def _expected(files, names):
    parts = [batch_images(files[n]) for n in names]
    return np.concatenate([p[0] for p in parts]), sum((list(p[1]) for p in parts), [])


@pytest.mark.parametrize("train", [True, False])
def test_cifar10_extracted(tmp_path, train):
    files = cifar10_files(4)
    write_dir(str(tmp_path / "cifar-10-batches-py"), files)
    ds = datasets.CIFAR10(str(tmp_path), train=train)
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    data, targets = _expected(files, names)
    assert isinstance(ds.data, np.ndarray) and ds.data.dtype == np.uint8
    assert ds.data.shape == (len(names) * 4, 32, 32, 3) and len(ds) == len(names) * 4
    np.testing.assert_array_equal(ds.data, data)
    assert ds.targets == targets and all(type(t) is int for t in ds.targets)
    assert ds.classes == CIFAR10_CLASSES and ds.class_to_idx["truck"] == 9
    img, t = ds[1]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
    np.testing.assert_array_equal(np.asarray(img), data[1])
    assert t == targets[1]


def test_cifar10_packed_archive_read_in_place(tmp_path):
    files = cifar10_files(3)
    write_tar(str(tmp_path / "cifar-10-python.tar.gz"), "cifar-10-batches-py", files)
    tf = transforms.Compose([transforms.ToTensor(),
                             transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    ds = datasets.CIFAR10(str(tmp_path), train=False, transform=tf)
    assert os.listdir(tmp_path) == ["cifar-10-python.tar.gz"]  # nothing extracted
    x, t = ds[2]
    data, targets = _expected(files, ["test_batch"])
    assert tuple(x.shape) == (3, 32, 32) and x.dtype == numtorch.float32 and t == targets[2]
    ref = (torch.from_numpy(data[2]).permute(2, 0, 1).float().div(255) - 0.5) / 0.5
    np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=0, atol=1e-6)


def test_cifar10_batches_directly_under_root(tmp_path):
    write_dir(str(tmp_path), cifar10_files(2))
    assert len(datasets.CIFAR10(str(tmp_path), train=True)) == 10


def test_cifar100_fine_labels(tmp_path):
    files = cifar100_files(6)
    write_dir(str(tmp_path / "cifar-100-python"), files)
    ds = datasets.CIFAR100(str(tmp_path), train=True)
    data, fine = _expected(files, ["train"])
    np.testing.assert_array_equal(ds.data, data)
    assert ds.targets == fine and len(ds.classes) == 100 and ds.classes[3] == "c3"


def test_python3_pickles_without_codecs_load(tmp_path):
    # a batch re-saved by Python 3 (protocol 4: bytes as BINBYTES, numpy._core names) loads too
    files = cifar10_files(2)
    d = pickle.loads(files["test_batch"], encoding="latin1")
    files["test_batch"] = pickle.dumps(d, protocol=4)
    write_dir(str(tmp_path), files)
    ds = datasets.CIFAR10(str(tmp_path), train=False)
    np.testing.assert_array_equal(ds.data, d["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def test_missing_dataset_lists_paths(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found") as e:
        datasets.CIFAR10(str(tmp_path / "none"))
    msg = str(e.value)
    for p in ("cifar-10-batches-py", "cifar-10-python.tar.gz", "data_batch_1", "download=True"):
        assert p in msg


class _Payload:
    """Unpickling this calls ``func(*args)``: the classic pickle code-execution payload."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _payloads(canary: str):
    import builtins
    import subprocess
    return {
        "os.system": _Payload(os.system, f"touch {canary}"),
        "builtins.eval": _Payload(builtins.eval, f"open({canary!r}, 'w').close()"),
        "builtins.exec": _Payload(builtins.exec, f"open({canary!r}, 'w').close()"),
        "subprocess.call": _Payload(subprocess.call, ["touch", canary]),
        "builtins.open": _Payload(builtins.open, canary, "w"),
    }


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "builtins.exec",
                                  "subprocess.call", "builtins.open"])
@pytest.mark.parametrize("where", ["top", "nested", "tar"])
def test_malicious_pickle_never_runs(tmp_path, name, where):
    canary = str(tmp_path / "canary")
    payload = _payloads(canary)[name]
    # the payload is real: plain pickle would run it
    pickle.loads(pickle.dumps(payload, protocol=2))
    assert os.path.exists(canary)
    os.remove(canary)
    files = cifar10_files(2)
    evil = pickle.dumps(payload, protocol=2) if where != "nested" else \
        py2_dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [1, payload]})
    files["test_batch"] = evil
    if where == "tar":
        write_tar(str(tmp_path / "cifar-10-python.tar.gz"), "cifar-10-batches-py", files)
    else:
        write_dir(str(tmp_path / "cifar-10-batches-py"), files)
    # named as the file names it: os.system is posix.system, builtins is __builtin__ (py2 name)
    forbidden = rf"forbidden global '(\w+\.)+{payload.func.__name__}'"
    with pytest.raises(pickle.UnpicklingError, match=forbidden) as e:
        datasets.CIFAR10(str(tmp_path), train=False)
    assert isinstance(e.value, ForbiddenGlobalError) and "test_batch" in str(e.value)
    assert not os.path.exists(canary)


def test_restricted_loads_rejects_other_globals():
    for obj in (io.BytesIO(b"x"), {1, 2}, complex(1, 2), np.float64(1.5)):
        with pytest.raises(ForbiddenGlobalError, match="forbidden global"):
            restricted_loads(pickle.dumps(obj, protocol=2))
    assert restricted_loads(pickle.dumps({"a": [1, 2.5, "s", b"b", (3,)]}, protocol=4)) == \
        {"a": [1, 2.5, "s", b"b", (3,)]}


@pytest.mark.parametrize("batch,pattern", [
    (py2_dumps([1, 2]), "not a dict"),
    (py2_dumps({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}), r"shape \(N, 3072\)"),
    (py2_dumps({"data": np.zeros((2, 3072), np.float32), "labels": [0, 1]}), "uint8"),
    (py2_dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1, 2]}),
     "2 images but 3 labels"),
    (py2_dumps({"data": np.zeros((2, 3072), np.uint8)}), "no 'labels'"),
    (py2_dumps({"data": np.zeros((2, 3072), np.uint8), "labels": ["a", "b"]}), "integers"),
], ids=["list", "shape", "dtype", "counts", "nolabels", "strlabels"])
def test_bad_batches(tmp_path, batch, pattern):
    files = cifar10_files(2)
    files["test_batch"] = batch
    write_dir(str(tmp_path), files)
    with pytest.raises(ValueError, match=pattern) as e:
        datasets.CIFAR10(str(tmp_path), train=False)
    assert "test_batch" in str(e.value)


def test_truncated_pickle(tmp_path):
    files = cifar10_files(2)
    files["test_batch"] = files["test_batch"][:-50]
    write_dir(str(tmp_path), files)
    with pytest.raises((pickle.UnpicklingError, EOFError, ValueError)):
        datasets.CIFAR10(str(tmp_path), train=False)


def test_corrupt_archive(tmp_path):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(RuntimeError, match="corrupted"):
        datasets.CIFAR10(str(tmp_path))


def test_download_offline_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.CIFAR10, "url", "http://127.0.0.1:9/cifar-10-python.tar.gz")
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="could not download") as e:
        datasets.CIFAR10(str(tmp_path), download=True)
    assert time.monotonic() - t0 < 10
    assert str(tmp_path) in str(e.value) and "cifar-10-python.tar.gz" in str(e.value)
    assert not os.path.exists(tmp_path / "cifar-10-python.tar.gz")


def _fake_download(src):
    def fake(url, root, filename, md5):
        os.makedirs(root, exist_ok=True)
        dst = os.path.join(root, filename)
        with open(src, "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
        return dst
    return fake


def test_download_extracts(tmp_path, monkeypatch):
    src = tmp_path / "src.tar.gz"
    write_tar(str(src), "cifar-10-batches-py", cifar10_files(2))
    monkeypatch.setattr(cifar_mod, "download_url", _fake_download(src))
    ds = datasets.CIFAR10(str(tmp_path / "root"), train=True, download=True)
    assert len(ds) == 10
    assert os.path.isfile(tmp_path / "root" / "cifar-10-batches-py" / "batches.meta")


def test_download_refuses_path_traversal(tmp_path, monkeypatch):
    src = tmp_path / "src.tar.gz"
    with tarfile.open(src, "w:gz") as tf:
        info = tarfile.TarInfo("cifar-10-batches-py/../../escaped")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"bad"))
    monkeypatch.setattr(cifar_mod, "download_url", _fake_download(src))
    (tmp_path / "root").mkdir()
    with pytest.raises(RuntimeError, match="outside"):
        datasets.CIFAR10(str(tmp_path / "root"), download=True)
    assert not os.path.exists(tmp_path / "escaped")


def test_cifar_batch_helper_labels_match():
    data, labels = batch_images(cifar_batch(3, 7))
    assert data.shape == (3, 32, 32, 3) and len(labels) == 3
