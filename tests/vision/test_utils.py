"""make_grid and save_image: torchvision's layout, normalisation and file output."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

import numtorch
from numtorch.vision import utils


def batch(b=5, c=3, h=4, w=6, seed=0):
    return np.random.default_rng(seed).random((b, c, h, w)).astype(np.float32)


@pytest.mark.parametrize("b,nrow,padding", [(5, 8, 2), (5, 2, 2), (7, 3, 0), (4, 4, 1),
                                            (9, 1, 3)])
def test_grid_layout(b, nrow, padding):
    a = batch(b)
    g = utils.make_grid(numtorch.from_numpy(a), nrow=nrow, padding=padding, pad_value=0.25)
    cols = min(nrow, b)
    rows = math.ceil(b / cols)
    h, w = 4 + padding, 6 + padding
    assert tuple(g.shape) == (3, h * rows + padding, w * cols + padding)
    expect = np.full(g.shape, 0.25, np.float32)
    for k in range(b):
        y, x = divmod(k, cols)
        expect[:, y * h + padding:y * h + padding + 4, x * w + padding:x * w + padding + 6] = a[k]
    np.testing.assert_array_equal(g.numpy(), expect)


def test_grid_channels_and_single_images():
    a = batch(3, c=1)
    g = utils.make_grid(numtorch.from_numpy(a), nrow=3, padding=0)
    assert tuple(g.shape) == (3, 4, 18) and np.array_equal(g.numpy()[0], g.numpy()[2])
    one = utils.make_grid(numtorch.from_numpy(a[0]))  # one 1-channel image: 3 channels
    assert tuple(one.shape) == (3, 4, 6)
    assert tuple(utils.make_grid(numtorch.from_numpy(a[0, 0])).shape) == (3, 4, 6)
    lst = utils.make_grid([numtorch.from_numpy(x) for x in batch(2)], padding=1)
    assert tuple(lst.shape) == (3, 6, 15)
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        utils.make_grid(batch(2))
    with pytest.raises(RuntimeError, match="equal size"):
        utils.make_grid([numtorch.zeros(3, 4, 4), numtorch.zeros(3, 4, 5)])
    with pytest.raises(TypeError, match="a list containing"):
        utils.make_grid([batch(1)[0]])


def test_grid_normalize():
    a = batch(2) * 4 - 1
    t = torch.from_numpy(a.copy())
    g = utils.make_grid(numtorch.from_numpy(a), normalize=True, padding=0)
    expect = (t - t.min()) / (t.max() - t.min())
    np.testing.assert_allclose(g.numpy(), torch.cat(list(expect), dim=2).numpy(), atol=1e-6)
    assert np.array_equal(a, batch(2) * 4 - 1)  # input untouched
    ge = utils.make_grid(numtorch.from_numpy(a), normalize=True, scale_each=True, padding=0)
    for k in range(2):
        part = ge.numpy()[:, :, 6 * k:6 * (k + 1)]
        assert part.min() == 0.0 and abs(part.max() - 1.0) < 1e-6
    gr = utils.make_grid(numtorch.from_numpy(a), normalize=True, value_range=(0.0, 1.0),
                         padding=0)
    np.testing.assert_allclose(gr.numpy(), torch.cat(list(t.clamp(0, 1)), dim=2).numpy())
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(numtorch.from_numpy(a), normalize=True, value_range=[0, 1])


def test_save_image_roundtrip(tmp_path):
    a = batch(4)
    p = tmp_path / "grid.png"
    utils.save_image(numtorch.from_numpy(a), str(p), nrow=2, padding=1)
    out = np.asarray(Image.open(p))
    grid = utils.make_grid(numtorch.from_numpy(a), nrow=2, padding=1)
    t = torch.from_numpy(grid.numpy())
    expect = t.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    assert out.shape == (11, 15, 3)
    np.testing.assert_array_equal(out, expect)
    utils.save_image(numtorch.from_numpy(a[0]), str(tmp_path / "one.jpg"), format="JPEG")
    assert Image.open(tmp_path / "one.jpg").format == "JPEG"
