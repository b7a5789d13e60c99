"""The CNN examples run end to end on small generated files in the real formats."""
import os

import pytest

from tests.vision import _files

from tests._examples import load_example as _load


@pytest.mark.parametrize("packed", [True, False], ids=["tar.gz", "extracted"])
def test_cifar10_seed_script_runs_on_an_archive(tmp_path, capsys, packed):
    files = _files.cifar10_files(n_per_batch=8)
    if packed:
        _files.write_tar(str(tmp_path / "cifar-10-python.tar.gz"), "cifar-10-batches-py", files)
    else:
        _files.write_dir(str(tmp_path / "cifar-10-batches-py"), files)
    acc = _load("cifar10_cnn").main(["--root", str(tmp_path), "--epochs", "1",
                                     "--batch-size", "4", "--workers", "0", "--print-every", "5"])
    out = capsys.readouterr().out
    assert "[1,     5] loss:" in out and "Finished Training" in out
    assert "Accuracy of the network on the 8 test images" in out
    assert 0 <= acc <= 100


def test_fashion_mnist_cnn_runs_on_idx_files(tmp_path, capsys):
    raw = tmp_path / "FashionMNIST" / "raw"
    os.makedirs(raw)
    _files.write_mnist(str(raw), True, 96, gz=True, seed=1)
    _files.write_mnist(str(raw), False, 32, gz=False, seed=2)
    acc = _load("fashion_mnist_cnn").main(["--root", str(tmp_path), "--epochs", "2",
                                           "--batch-size", "32", "--out", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert "numtorch: final test accuracy" in out
    assert 0.0 <= acc <= 1.0
    assert (tmp_path / "run" / "history_numtorch.json").exists()
