"""numtorch.train.plots: each plot writes a PNG that shows what it should; bad input raises."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import numtorch
from numtorch import nn
from numtorch.vision import models

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")
from numtorch.train import plots  # noqa: E402

NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
         "Bag", "Ankle boot"]
RED = np.array([214, 39, 40])       # matplotlib's tab:red, the mistake colour


def _png(path) -> np.ndarray:
    """The written file decoded as an RGB array (after checking it is a PNG)."""
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(path).convert("RGB"))


def _red_pixels(a: np.ndarray) -> int:
    return int((np.abs(a.astype(int) - RED).sum(axis=2) < 30).sum())


def test_loss_accuracy_curves(tmp_path):
    history = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.1 / e, "train_acc": 0.5 + e / 20,
                "val_acc": 0.45 + e / 20} for e in range(1, 6)]
    history[2]["val_loss"] = None                    # a missing value is skipped
    path = str(tmp_path / "c.png")
    assert plots.loss_accuracy_curves(history, path, title="run") == path
    a = _png(path)
    assert a.shape[0] > 200 and a.shape[1] > 400
    one = [{"epoch": 1, "train_loss": 0.5, "train_acc": 0.8, "val_loss": None, "val_acc": None}]
    _png(plots.loss_accuracy_curves(one, str(tmp_path / "one.png")))


def test_confusion_matrix_plot_accepts_tensors_and_no_names(tmp_path):
    cm = np.diag(np.arange(10, 20)) + 1
    _png(plots.confusion_matrix_plot(cm, NAMES, str(tmp_path / "a.png")))
    _png(plots.confusion_matrix_plot(numtorch.tensor(cm[:3, :3]), None, str(tmp_path / "b.png")))
    _png(plots.confusion_matrix_plot(np.zeros((2, 2), int), ["a", "b"], str(tmp_path / "z.png")))


def test_prediction_grid_marks_mistakes_in_red(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 1, 28, 28)).astype(np.uint8)
    targets = np.arange(12) % 10
    right = _png(plots.prediction_grid(images, targets, targets, NAMES,
                                       str(tmp_path / "right.png")))
    wrong = targets.copy()
    wrong[[1, 5]] = (wrong[[1, 5]] + 1) % 10
    marked = _png(plots.prediction_grid(images, wrong, targets, NAMES,
                                        str(tmp_path / "wrong.png")))
    assert _red_pixels(right) == 0
    assert _red_pixels(marked) > 200                 # two thick red frames and red titles


def test_prediction_grid_inputs(tmp_path):
    x = numtorch.randn(40, 3, 16, 16)
    preds, targets = numtorch.zeros(40, dtype=numtorch.int64), numtorch.ones(40,
                                                                             dtype=numtorch.int64)
    _png(plots.prediction_grid(x, preds, targets, None, str(tmp_path / "a.png"), n=7,
                               mean=[0.5] * 3, std=[0.25] * 3))
    with pytest.raises(ValueError, match="3 images, 2 predictions"):
        plots.prediction_grid(x[:3], preds[:2], targets[:3], None, str(tmp_path / "b.png"))
    with pytest.raises(ValueError, match="at least one image"):
        plots.prediction_grid(x[:0], preds[:0], targets[:0], None, str(tmp_path / "c.png"))


@pytest.mark.parametrize("model", [models.lenet(), models.lenet(in_channels=3, image_size=32),
                                   models.mlp(), models.resnet(in_channels=2)],
                         ids=["lenet", "lenet_rgb", "mlp_linear", "resnet_2ch"])
def test_first_layer_filters(model, tmp_path):
    path = str(tmp_path / "f.png")
    assert plots.first_layer_filters(model, path) == path
    _png(path)


def test_first_layer_filters_without_an_image_layer(tmp_path):
    with pytest.raises(ValueError, match="no Conv2d or Linear"):
        plots.first_layer_filters(nn.Sequential(nn.ReLU()), str(tmp_path / "a.png"))
    with pytest.raises(ValueError, match="not a square image"):
        plots.first_layer_filters(nn.Linear(10, 3), str(tmp_path / "b.png"))
    assert not os.listdir(tmp_path)


def test_feature_maps_restores_the_model(tmp_path):
    model = models.lenet()
    model.train()
    out_before = model(numtorch.ones(2, 1, 28, 28))
    path = str(tmp_path / "fm.png")
    assert plots.feature_maps(model, numtorch.randn(1, 28, 28), path, title="t") == path
    a = _png(path)
    assert a.shape[0] > 4 * 100                      # input + conv1, pool, conv2, pool rows
    assert model.training
    assert all(not m._forward_hooks for m in model.modules())
    assert numtorch.equal(model(numtorch.ones(2, 1, 28, 28)), out_before)
    rgb = np.zeros((1, 3, 20, 20), np.float32)
    plots.feature_maps(models.resnet(in_channels=3, blocks=(1, 1)), rgb, str(tmp_path / "r.png"))


def test_feature_maps_bad_input(tmp_path):
    with pytest.raises(ValueError, match="no Conv2d or pooling"):
        plots.feature_maps(models.mlp(), numtorch.randn(1, 28, 28), str(tmp_path / "a.png"))
    with pytest.raises(ValueError, match="one image"):
        plots.feature_maps(models.lenet(), numtorch.randn(2, 1, 28, 28), str(tmp_path / "b.png"))


def test_module_imports_without_matplotlib():
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from numtorch.train import plots\n"
            "try:\n    plots.confusion_matrix_plot([[1]], None, 'x.png')\n"
            "except ImportError as e:\n    print('hint:', e)\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=root), timeout=60)
    assert r.returncode == 0, r.stderr
    assert "pip install 'numtorch[plots]'" in r.stdout
