"""MNIST / FashionMNIST: IDX decoding, where files are looked for, bad files, download."""
import os
import time
import tracemalloc

import numpy as np
import pytest
import torch
from PIL import Image

import numtorch
from numtorch.utils.data import DataLoader
from numtorch.vision import datasets, transforms
from numtorch.vision.datasets import mnist as mnist_mod

from ._files import idx_bytes, write, write_mnist


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("layout", ["torchvision", "flat"])
def test_loads_both_layouts(tmp_path, gz, layout):
    d = tmp_path / "MNIST" / "raw" if layout == "torchvision" else tmp_path
    images, labels = write_mnist(str(d), True, 7, gz, seed=1)
    ds = datasets.MNIST(str(tmp_path), train=True)
    assert len(ds) == 7
    assert isinstance(ds.data, numtorch.Tensor) and ds.data.dtype == numtorch.uint8
    assert tuple(ds.data.shape) == (7, 28, 28)
    assert ds.targets.dtype == numtorch.int64 and tuple(ds.targets.shape) == (7,)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels.astype(np.int64))
    img, target = ds[3]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(img), images[3])
    assert type(target) is int and target == labels[3]


def test_test_split_classes_and_transforms(tmp_path):
    raw = str(tmp_path / "MNIST" / "raw")
    write_mnist(raw, True, 3, True, seed=1)
    images, labels = write_mnist(raw, False, 5, True, seed=2)
    ds = datasets.MNIST(tmp_path, train=False, transform=transforms.ToTensor(),
                        target_transform=lambda t: t + 100)
    assert len(ds) == 5 and ds.train is False
    x, t = ds[4]
    assert t == labels[4] + 100
    assert x.dtype == numtorch.float32 and tuple(x.shape) == (1, 28, 28)
    ref = torch.from_numpy(images[4]).to(torch.float32).div(255).unsqueeze(0)
    np.testing.assert_array_equal(x.numpy(), ref.numpy())
    assert ds.classes[0] == "0 - zero" and len(ds.classes) == 10
    assert ds.class_to_idx["9 - nine"] == 9
    r = repr(ds)
    assert r.startswith("Dataset MNIST\n    Number of datapoints: 5") and "Split: Test" in r
    assert "Transform: ToTensor()" in r


def test_fashion_mnist_classes_and_folder(tmp_path):
    write_mnist(str(tmp_path / "FashionMNIST" / "raw"), True, 4, False)
    ds = datasets.FashionMNIST(str(tmp_path))
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    assert ds.raw_folder == os.path.join(str(tmp_path), "FashionMNIST", "raw")


def test_fashion_mnist_falls_back_to_debian_dir(tmp_path, monkeypatch):
    pkg = tmp_path / "usr-share-datasets-fashion-mnist"
    images, _ = write_mnist(str(pkg), False, 6, True, seed=5)
    monkeypatch.setattr(datasets.FashionMNIST, "extra_dirs", (str(pkg),))
    ds = datasets.FashionMNIST(str(tmp_path / "empty-root"), train=False)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    # root wins over the package directory when it has the files
    own, _ = write_mnist(str(tmp_path / "own"), False, 2, False, seed=6)
    assert len(datasets.FashionMNIST(str(tmp_path / "own"), train=False)) == 2


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_real_debian_fashion_mnist(tmp_path):
    ds = datasets.FashionMNIST(str(tmp_path), train=False, transform=transforms.ToTensor())
    assert len(ds) == 10000 and tuple(ds.data.shape) == (10000, 28, 28)
    assert set(np.unique(ds.targets.numpy())) == set(range(10))
    x, _ = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and 0 <= float(x.min()) <= float(x.max()) <= 1


def test_missing_dataset_lists_paths(tmp_path):
    root = str(tmp_path / "nowhere")
    with pytest.raises(RuntimeError, match="Dataset not found") as e:
        datasets.MNIST(root)
    msg = str(e.value)
    assert os.path.join(root, "MNIST", "raw") in msg and "train-images-idx3-ubyte" in msg
    assert "download=True" in msg


def test_missing_labels_file_is_not_found(tmp_path):
    write(str(tmp_path / "train-images-idx3-ubyte"), idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    with pytest.raises(RuntimeError, match="train-labels-idx1-ubyte"):
        datasets.MNIST(str(tmp_path))


def _bad(tmp_path, images: bytes, labels: bytes, gz: bool = False):
    write(str(tmp_path / "train-images-idx3-ubyte"), images, gz)
    write(str(tmp_path / "train-labels-idx1-ubyte"), labels, gz)
    return datasets.MNIST(str(tmp_path))


IMGS = idx_bytes(np.zeros((3, 28, 28), np.uint8))
LABS = idx_bytes(np.zeros(3, np.uint8))


BAD = [
    ("magic", b"\x01\x02" + IMGS[2:], LABS, "bad magic number"),
    ("typecode", IMGS[:2] + b"\x07" + IMGS[3:], LABS, "unknown data type code 0x07"),
    ("dtype", IMGS, LABS[:2] + b"\x0c" + LABS[3:], "data type code 0x0c"),
    ("ndim", idx_bytes(np.zeros((3, 784), np.uint8)), LABS, "2 dimensions; expected 3"),
    ("truncated", IMGS[:-10], LABS, "truncated"),
    ("header", IMGS[:9], LABS, "truncated inside its header"),
    ("empty", b"", LABS, "truncated"),
    ("trailing", IMGS + b"\x00", LABS, "trailing bytes"),
    ("counts", IMGS, idx_bytes(np.zeros(4, np.uint8)), "3 images but .* 4 labels"),
]


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("name,images,labels,pattern", BAD, ids=[b[0] for b in BAD])
def test_bad_idx_files(tmp_path, gz, name, images, labels, pattern):
    with pytest.raises(ValueError, match=pattern) as e:
        _bad(tmp_path, images, labels, gz)
    assert "-idx" in str(e.value)  # names the file


def test_truncated_gzip_stream(tmp_path):
    p = write(str(tmp_path / "train-images-idx3-ubyte"), IMGS, gz=True)
    with open(p, "rb") as f:
        data = f.read()
    with open(p, "wb") as f:
        f.write(data[:-12])
    write(str(tmp_path / "train-labels-idx1-ubyte"), LABS)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        datasets.MNIST(str(tmp_path))


def test_gzip_bomb_is_bounded(tmp_path):
    # header says 3 images; the stream inflates to far more: reading stops at the promise
    write(str(tmp_path / "train-images-idx3-ubyte"), IMGS + bytes(50_000_000), gz=True)
    write(str(tmp_path / "train-labels-idx1-ubyte"), LABS)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="trailing bytes"):
            datasets.MNIST(str(tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # the stream inflates to 50 MB; we never hold it


def test_download_offline_fails_fast_with_instructions(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/", "http://[::1]:9/"])
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="Error downloading train-images-idx3-ubyte.gz") as e:
        datasets.MNIST(str(tmp_path), download=True)
    assert time.monotonic() - t0 < 10
    assert os.path.join(str(tmp_path), "MNIST", "raw") in str(e.value)
    assert not [f for f in os.listdir(tmp_path / "MNIST" / "raw") if f.endswith(".gz")]


def test_download_skipped_when_files_exist(tmp_path, monkeypatch):
    for train in (True, False):
        write_mnist(str(tmp_path), train, 2, True)

    def boom(*a, **k):
        raise AssertionError("no download expected")

    monkeypatch.setattr(mnist_mod, "download_url", boom)
    assert len(datasets.MNIST(str(tmp_path), download=True)) == 2


def test_download_unpacks(tmp_path, monkeypatch):
    src = tmp_path / "mirror"
    for train in (True, False):
        write_mnist(str(src), train, 3, True)

    def fake(url, root, filename, md5):
        os.makedirs(root, exist_ok=True)
        dst = os.path.join(root, filename)
        with open(src / filename, "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
        return dst

    monkeypatch.setattr(mnist_mod, "download_url", fake)
    ds = datasets.MNIST(str(tmp_path / "root"), download=True)
    assert len(ds) == 3
    assert os.path.isfile(tmp_path / "root" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte")


def test_dataloader_batches(tmp_path):
    images, labels = write_mnist(str(tmp_path), True, 10, True)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    ds = datasets.MNIST(str(tmp_path), transform=tf)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(x.shape) == (4, 1, 28, 28) and x.dtype == numtorch.float32
    assert y.dtype == numtorch.int64 and y.tolist() == [int(v) for v in labels[:4]]
    ref = (torch.from_numpy(images[:4]).float().div(255).unsqueeze(1) - 0.1307) / 0.3081
    np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)


def test_batched_fetch_equals_per_item(tmp_path):
    """__getitems__ (the DataLoader's batched fetch) gives bit for bit what __getitem__ gives,
    with ToTensor (the vectorised path), with target_transform, and with other transforms."""
    images, labels = write_mnist(str(tmp_path), True, 12, False)
    idx = [3, 0, 11, -1, 3]
    for tf, ttf in ((transforms.ToTensor(), None), (transforms.ToTensor(), lambda t: t + 100),
                    (transforms.Compose([transforms.ToTensor()]), None)):
        ds = datasets.FashionMNIST(str(tmp_path), transform=tf, target_transform=ttf)
        batch, single = ds.__getitems__(idx), [ds[i] for i in idx]
        assert len(batch) == len(single)
        for (xb, yb), (xs, ys) in zip(batch, single):
            assert xb.dtype == xs.dtype and tuple(xb.shape) == tuple(xs.shape) == (1, 28, 28)
            assert np.array_equal(xb.numpy(), xs.numpy()) and type(yb) is type(ys) and yb == ys
    ds = datasets.FashionMNIST(str(tmp_path), transform=transforms.ToTensor())
    x, y = next(iter(DataLoader(ds, batch_size=12)))
    np.testing.assert_array_equal(x.numpy(), images[:, None].astype(np.float32) / np.float32(255))
    assert y.tolist() == [int(v) for v in labels]
    with pytest.raises(IndexError, match="out of bounds"):
        ds.__getitems__([0, 12])
