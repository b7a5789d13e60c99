"""The strong Fashion-MNIST recipe runs end to end on small generated IDX files."""
import json
import os

import numpy as np
import pytest

import numtorch
from numtorch.vision import models
from tests.vision import _files

from tests._examples import load_example as _load


@pytest.fixture(scope="module")
def script():
    return _load("fashion_mnist_strong")


def _data(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    os.makedirs(raw)
    _files.write_mnist(str(raw), True, 64, gz=True, seed=1)
    _files.write_mnist(str(raw), False, 24, gz=False, seed=2)


def test_strong_script_runs_on_idx_files(tmp_path, capsys, script):
    _data(tmp_path)
    out_dir = tmp_path / "run"
    acc = script.main(["--root", str(tmp_path), "--epochs", "2", "--batch-size", "16",
                       "--widths", "4,8", "--hidden", "16", "--out", str(out_dir)])
    out = capsys.readouterr().out
    assert "epoch  2" in out and "final test accuracy" in out and "training time" in out
    assert 0.0 <= acc <= 1.0
    hist = json.loads((out_dir / "history.json").read_text())
    assert [h["epoch"] for h in hist["history"]] == [1, 2]
    assert hist["final_test_acc"] == acc and hist["train_seconds"] > 0
    # the one-cycle schedule has decayed far below its peak by the last of the 8 steps
    assert hist["history"][-1]["lr_end"] < 0.1 * hist["args"]["lr"]


def test_one_cycle_shape(script):
    lrs = [script.one_cycle(s, 100, 0.2) for s in range(101)]
    assert lrs[0] == pytest.approx(0.2 / 25) and max(lrs) == pytest.approx(0.2)
    assert lrs.index(max(lrs)) == 20 and lrs[100] == pytest.approx(0.2 / 1e4)
    assert all(a <= b for a, b in zip(lrs[:20], lrs[1:21]))
    assert all(a >= b for a, b in zip(lrs[20:], lrs[21:]))


def test_time_budget_shortens_training(tmp_path, capsys, script):
    _data(tmp_path)
    script.main(["--root", str(tmp_path), "--epochs", "5", "--batch-size", "32",
                 "--widths", "4,8", "--hidden", "16", "--time-budget", "0",
                 "--out", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert "training shortened to 1 epochs" in out and "epoch  2" not in out


def test_augment_matches_a_per_sample_loop(script):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 2, 5, 7)).astype(np.float32)
    got = script.augment(x, np.random.default_rng(3), pad=2)
    # replay the same draws: offsets y, offsets x, flips
    r = np.random.default_rng(3)
    oy, ox, flip = r.integers(0, 5, 6), r.integers(0, 5, 6), r.random(6) < 0.5
    fill = -script.MEAN / script.STD
    for i in range(6):
        p = np.pad(x[i], ((0, 0), (2, 2), (2, 2)), constant_values=fill)
        want = p[:, oy[i]:oy[i] + 5, ox[i]:ox[i] + 7]
        np.testing.assert_array_equal(got[i], want[:, :, ::-1] if flip[i] else want)


def test_fmnist_net_matches_torch_layout():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    numtorch.manual_seed(0)
    net = models.get_model("fmnist_net", c1=8, c2=16, hidden=32)

    def blk(i, o):
        return [tnn.Conv2d(i, o, 3, padding=1, bias=False), tnn.BatchNorm2d(o), tnn.ReLU()]
    ref = tnn.Sequential(tnn.Sequential(*blk(1, 8), *blk(8, 8), tnn.MaxPool2d(2),
                                        *blk(8, 16), *blk(16, 16), tnn.MaxPool2d(2)),
                         tnn.Sequential(tnn.Flatten(), tnn.Dropout(0.25),
                                        tnn.Linear(16 * 49, 32, bias=False), tnn.BatchNorm1d(32),
                                        tnn.ReLU(), tnn.Dropout(0.25), tnn.Linear(32, 10)))
    sd = net.state_dict()
    ref_sd = ref.state_dict()
    assert [k for k in sd] == [k.replace("0.", "features.", 1) if k.startswith("0.")
                               else k.replace("1.", "classifier.", 1) for k in ref_sd]
    ref.load_state_dict({k2: torch.from_numpy(sd[k1].numpy().copy())
                         for k1, k2 in zip(sd, ref_sd)})
    net.eval(), ref.eval()
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    got = net(numtorch.from_numpy(x)).detach().numpy()
    want = ref(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="divisible by 4"):
        models.fmnist_net(image_size=30)
