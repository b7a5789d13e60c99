"""ImageFolder / DatasetFolder: class discovery, loading, non-images, decompression bombs."""
import os

import numpy as np
import pytest
from PIL import Image

import numtorch
from numtorch.vision import datasets, transforms
from numtorch.vision.datasets.folder import pil_loader


def _img(path, size=(5, 4), mode="RGB", seed=0):
    rng = np.random.default_rng(seed)
    c = {"RGB": 3, "L": 1, "RGBA": 4}[mode]
    arr = rng.integers(0, 256, (size[1], size[0], c), dtype=np.uint8)
    Image.fromarray(arr[..., 0] if c == 1 else arr, mode).save(path)
    return arr


@pytest.fixture
def tree(tmp_path):
    for cls, names in {"cat": ["b.png", "a.jpg"], "dog": ["x.bmp"], "emu": ["sub/y.PNG"]}.items():
        for i, n in enumerate(names):
            p = tmp_path / cls / n
            p.parent.mkdir(parents=True, exist_ok=True)
            _img(str(p), seed=i, mode="L" if n.endswith("bmp") else "RGB")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "stray.png").write_bytes(b"")  # files at the top level are not classes
    return tmp_path


def test_image_folder_discovers_sorted_classes(tree):
    ds = datasets.ImageFolder(str(tree))
    assert ds.classes == ["cat", "dog", "emu"]
    assert ds.class_to_idx == {"cat": 0, "dog": 1, "emu": 2}
    rel = [(os.path.relpath(p, tree), t) for p, t in ds.samples]
    assert rel == [("cat/a.jpg", 0), ("cat/b.png", 0), ("dog/x.bmp", 1),
                   (os.path.join("emu", "sub", "y.PNG"), 2)]
    assert ds.targets == [0, 0, 1, 2] and ds.imgs is ds.samples and len(ds) == 4
    img, t = ds[2]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and t == 1  # grey -> RGB


def test_image_folder_pixels_and_transform(tmp_path):
    (tmp_path / "a").mkdir()
    arr = _img(str(tmp_path / "a" / "0.png"), size=(6, 3))
    ds = datasets.ImageFolder(str(tmp_path), transform=transforms.ToTensor())
    x, t = ds[0]
    assert tuple(x.shape) == (3, 3, 6) and x.dtype == numtorch.float32 and t == 0
    np.testing.assert_array_equal(x.numpy(), arr.transpose(2, 0, 1).astype(np.float32) / 255)


def test_non_image_file_with_image_extension_names_path(tree):
    bad = tree / "dog" / "fake.png"
    bad.write_text("this is text, not a PNG")
    ds = datasets.ImageFolder(str(tree))
    idx = [p for p, _ in ds.samples].index(str(bad))
    with pytest.raises(Image.UnidentifiedImageError, match="fake.png"):
        ds[idx]


def test_truncated_image_names_path(tmp_path):
    (tmp_path / "a").mkdir()
    p = tmp_path / "a" / "t.png"
    _img(str(p), size=(64, 64))
    p.write_bytes(p.read_bytes()[:200])
    with pytest.raises(OSError, match="t.png"):
        datasets.ImageFolder(str(tmp_path))[0]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_guard(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    _img(str(tmp_path / "a" / "big.png"), size=(40, 30))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    ds = datasets.ImageFolder(str(tmp_path))
    with pytest.raises(Image.DecompressionBombError, match=r"big\.png.*1200 pixels"):
        ds[0]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # over twice the limit: PIL refuses
    with pytest.raises(Image.DecompressionBombError, match=r"big\.png"):
        ds[0]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1200)
    assert ds[0][0].size == (40, 30)


def test_is_valid_file_and_extensions_exclusive(tree):
    ds = datasets.ImageFolder(str(tree), is_valid_file=lambda p: p.endswith(".png"),
                              allow_empty=True)
    assert [os.path.basename(p) for p, _ in ds.samples] == ["b.png"]
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        datasets.DatasetFolder(str(tree), loader=pil_loader, extensions=(".png",),
                               is_valid_file=lambda p: True)


def test_empty_class_raises_unless_allowed(tree):
    (tree / "fox").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes fox"):
        datasets.ImageFolder(str(tree))
    ds = datasets.ImageFolder(str(tree), allow_empty=True)
    assert "fox" in ds.classes and 3 not in ds.targets


def test_dataset_folder_custom_loader(tmp_path):
    for c in ("x", "y"):
        (tmp_path / c).mkdir()
        np.save(tmp_path / c / "0.npy", np.full(3, ord(c)))
    ds = datasets.DatasetFolder(str(tmp_path), loader=np.load, extensions=(".npy",),
                                target_transform=lambda t: -t)
    s, t = ds[1]
    assert s.tolist() == [ord("y")] * 3 and t == -1


def test_missing_root_and_no_classes(tmp_path):
    with pytest.raises(FileNotFoundError, match="not-here"):
        datasets.ImageFolder(str(tmp_path / "not-here"))
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(str(tmp_path))
