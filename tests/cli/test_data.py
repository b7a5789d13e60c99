"""The CLI's data helpers: image conversion, normalisation, splits and augmentation."""
from __future__ import annotations

import numpy as np
import pytest

import numtorch
from numtorch.backend import random as _random
from numtorch.cli import _data

Image = pytest.importorskip("PIL.Image")


def test_to_array_converts_modes_and_sizes():
    rgba = Image.new("RGBA", (10, 6), (0, 0, 0, 0))          # fully transparent black
    a, converted, resized = _data.to_array(rgba, 1, (6, 10))
    assert a.shape == (1, 6, 10) and a.dtype == np.uint8
    assert (a == 255).all() and converted and not resized     # flattened onto white
    rgb = Image.new("RGB", (7, 9), (255, 0, 0))
    a, converted, resized = _data.to_array(rgb, 1, (28, 28))
    assert a.shape == (1, 28, 28) and converted and resized
    assert abs(int(a[0, 10, 10]) - round(0.299 * 255)) <= 1   # ITU-R 601 luma of red
    grey = Image.fromarray(np.full((5, 5), 77, np.uint8))
    a, converted, resized = _data.to_array(grey, 3, (5, 5))
    assert a.shape == (3, 5, 5) and (a == 77).all() and converted and not resized
    deep = Image.fromarray(np.full((4, 4), 257 * 200, np.uint16))
    assert (_data.to_array(deep, 1, (4, 4))[0] == 200).all()  # 16-bit grey scaled to 8 bits


def test_is_gray():
    assert _data.is_gray(Image.new("L", (3, 3)))
    assert _data.is_gray(Image.new("RGB", (3, 3), (9, 9, 9)))
    assert not _data.is_gray(Image.new("RGB", (3, 3), (9, 9, 10)))


def test_channel_stats_and_normalise():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20, 3, 5, 4)).astype(np.uint8)
    mean, std = _data.channel_stats(x)
    f = x.astype(np.float64) / 255
    np.testing.assert_allclose(mean, f.mean(axis=(0, 2, 3)), atol=1e-6)
    np.testing.assert_allclose(std, f.std(axis=(0, 2, 3)), atol=1e-6)
    y = _data.normalise(x, mean, std)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), 1, atol=1e-4)
    assert _data.channel_stats(np.zeros((2, 1, 3, 3), np.uint8))[1] == [1.0]   # no 0 std


def test_val_split():
    tr, va = _data.val_split(100, 0.1, seed=3)
    assert len(va) == 10 and len(tr) == 90 and not set(tr) & set(va)
    assert (va == _data.val_split(100, 0.1, seed=3)[1]).all()
    assert not (va == _data.val_split(100, 0.1, seed=4)[1]).all()
    assert len(_data.val_split(5, 0.0, 0)[1]) == 0
    assert len(_data.val_split(5, 0.01, 0)[1]) == 1


def _dataset(augment, n=6):
    rng = np.random.default_rng(1)
    return _data.ImageArrays(rng.integers(0, 256, (n, 2, 12, 12)).astype(np.uint8),
                             np.arange(n), [0.3, 0.5], [0.2, 0.25], augment)


def test_crop_is_a_window_of_the_padded_image():
    ds = _dataset("crop")
    numtorch.manual_seed(1)
    got = ds._augment(ds.data)
    numtorch.manual_seed(1)
    rng = _random.gen()
    p = ds.pad
    oy, ox = rng.integers(0, 2 * p + 1, 6), rng.integers(0, 2 * p + 1, 6)
    for i in range(6):
        padded = np.broadcast_to(ds.fill, (2, 12 + 2 * p, 12 + 2 * p)).copy()
        padded[:, p:p + 12, p:p + 12] = ds.data[i]
        np.testing.assert_array_equal(got[i], padded[:, oy[i]:oy[i] + 12, ox[i]:ox[i] + 12])
    # black pixels (0 before normalisation) fill the border
    np.testing.assert_allclose(ds.fill[:, 0, 0], [-0.3 / 0.2, -0.5 / 0.25], rtol=1e-6)


def test_flip_and_batched_getitems():
    ds = _dataset("flip")
    before = ds.data.copy()
    numtorch.manual_seed(2)
    batch = ds.__getitems__([5, 0, 3])
    numtorch.manual_seed(2)
    flips = _random.gen().random(3) < 0.5
    for (x, t), i, f in zip(batch, [5, 0, 3], flips):
        assert t == i and isinstance(t, int)
        np.testing.assert_array_equal(x.numpy(), before[i][:, :, ::-1] if f else before[i])
    np.testing.assert_array_equal(ds.data, before)           # the stored images are untouched
    x, t = _dataset("none")[4]
    assert x.shape == (2, 12, 12) and x.dtype == numtorch.float32 and t == 4
