"""Promise 6: same seed, same result.

Two training runs with the same seed end with bit-identical weights, with ``num_workers`` 0 and
2, through ``Trainer.fit`` on a Dataset and on a shuffling DataLoader (random flips and crops,
dropout: worker seeding matters) and through ``numtorch train --augment flip+crop``, in the same
process and in separate processes with different ``PYTHONHASHSEED``. A different seed gives
different weights, so the comparisons can fail.

What is (and is not) promised between worker counts, as docs/training.md describes the
implementation: with ``num_workers > 0`` the Trainer seeds each batch's loading from
``(seed, epoch, batch)``, so 1 and 2 workers give identical weights; with ``num_workers=0``
random transforms draw from the main process's generator instead, so 0 and 2 workers give
different (equally reproducible) runs when the data has random transforms, and identical runs
when it has none.

Long version: ``python -m pytest -m slow tests/reliability/test_determinism.py`` (more seeds,
worker counts and epochs).
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import numtorch
from numtorch.cli import main
from numtorch.train import Trainer, load_checkpoint
from numtorch.utils.data import DataLoader, Dataset
from numtorch.vision import transforms as T

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Augmented(Dataset):
    """8x8 one-channel images (a bright square whose corner is the class) with a random flip and
    a random crop after padding: every sample draws from the default generator."""

    def __init__(self, n=96, augment=True):
        rng = np.random.default_rng(0)
        self.y = np.arange(n) % 4
        x = rng.uniform(0, 0.2, (n, 1, 8, 8)).astype(np.float32)
        for i, k in enumerate(self.y):
            r, c = divmod(int(k), 2)
            x[i, 0, 4 * r:4 * r + 4, 4 * c:4 * c + 4] += 0.8
        self.x = x
        self.t = T.Compose([T.RandomHorizontalFlip(), T.RandomCrop(8, padding=1)]) if augment \
            else (lambda img: img)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.t(numtorch.from_numpy(self.x[i])), int(self.y[i])


def _model():
    nn = numtorch.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Dropout(0.25),
                         nn.Linear(4 * 6 * 6, 4))


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _fit(seed, workers, loader=False, augment=True, epochs=2):
    """Weights after ``epochs`` epochs of a Trainer run with this seed and worker count."""
    numtorch.manual_seed(seed)
    model = _model()
    opt = numtorch.optim.Adam(model.parameters(), lr=0.01)
    trainer = Trainer(model, opt, seed=seed, batch_size=16, num_workers=workers, quiet=True)
    data = Augmented(augment=augment)
    if loader:                                  # the user's own shuffling DataLoader
        data = DataLoader(data, batch_size=16, shuffle=True, num_workers=workers)
    trainer.fit(data, epochs)
    return _weights(model)


def _same(a, b):
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("loader", [False, True], ids=["dataset", "dataloader"])
@pytest.mark.parametrize("workers", [0, 2])
def test_trainer_same_seed_same_weights(workers, loader):
    first = _fit(3, workers, loader)
    assert _same(first, _fit(3, workers, loader)), f"num_workers={workers}: runs differ"
    assert not _same(first, _fit(4, workers, loader)), "another seed gave the same weights"


def test_worker_counts():
    """As documented: 1 and 2 workers agree (per-batch seeding); 0 workers agrees with them
    without random transforms, and differs from them with random transforms."""
    assert _same(_fit(3, 1), _fit(3, 2))
    assert _same(_fit(3, 0, augment=False), _fit(3, 2, augment=False))
    assert not _same(_fit(3, 0), _fit(3, 2))


@pytest.fixture(scope="module")
def idx_data(tmp_path_factory):
    from tests.cli._make import write_idx_dataset
    return write_idx_dataset(str(tmp_path_factory.mktemp("idx")), n_train=128, n_test=32)


def _cli(data_dir, out, seed, workers):
    return ["train", "--data-dir", data_dir, "--model", "lenet", "--epochs", "1",
            "--batch-size", "32", "--limit-train", "96", "--limit-test", "32", "--no-plots",
            "--quiet", "--augment", "flip+crop", "--seed", str(seed), "--workers",
            str(workers), "--out", str(out)]


def _cli_weights(out):
    return {k: v.numpy() for k, v in load_checkpoint(out / "last.safetensors")
            ["model_state"].items()}


@pytest.mark.parametrize("workers", [0, 2])
def test_cli_same_seed_same_weights(workers, idx_data, tmp_path, capsys):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        assert main(_cli(idx_data, tmp_path / name, seed, workers)) == 0
    a, b, c = (_cli_weights(tmp_path / n) for n in "abc")
    assert _same(a, b), f"--workers {workers}: same seed, different weights"
    assert not _same(a, c), "another seed gave the same weights"


def test_cli_separate_processes(idx_data, tmp_path):
    """Two interpreters with different hash seeds (set and dict orders) train identically."""
    procs = [subprocess.Popen([sys.executable, "-m", "numtorch",
                               *_cli(idx_data, tmp_path / f"p{h}", 5, 2)], cwd=ROOT,
                              env=dict(os.environ, PYTHONHASHSEED=str(h), OMP_NUM_THREADS="1"),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for h in (1, 2)]
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0, out
    assert _same(_cli_weights(tmp_path / "p1"), _cli_weights(tmp_path / "p2"))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:This DataLoader will create")
@pytest.mark.parametrize("workers", [0, 1, 2, 3])
@pytest.mark.parametrize("loader", [False, True], ids=["dataset", "dataloader"])
def test_many_seeds_long(workers, loader):
    for seed in range(8):
        assert _same(_fit(seed, workers, loader, epochs=4), _fit(seed, workers, loader, epochs=4))
