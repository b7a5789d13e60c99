"""Resume in process: a run interrupted at several steps (mid-epoch and at epoch ends) and
resumed each time ends bit for bit where an uninterrupted run ends, for the Trainer's own
loader, a user's shuffling DataLoader, and worker processes with random transforms."""
import numpy as np
import pytest

import numtorch
from numtorch.train import Callback, CheckpointError, Trainer
from numtorch.utils.data import DataLoader

from ._helpers import NoisyDataset, blobs, mlp, same_params


class Interrupt(Exception):
    pass


class StopAt(Callback):
    """Raise at a global step, like a crash (no checkpoint is written for that step)."""

    def __init__(self, step):
        self.step = step

    def on_batch_end(self, trainer, batch, logs):
        if trainer.global_step == self.step:
            raise Interrupt


def _setup(out_dir, callbacks=(), num_workers=0):
    model = mlp(dropout=0.3)
    opt = numtorch.optim.Adam(model.parameters(), lr=0.01)
    sched = numtorch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=60)
    t = Trainer(model, opt, scheduler=sched, scheduler_interval="step", out_dir=out_dir,
                batch_size=16, checkpoint_every=3, callbacks=callbacks, quiet=True,
                num_workers=num_workers, seed=11)
    return model, t


def _interrupted(out_dir, data, stops, num_workers=0, **fit):
    for s in stops:
        model, t = _setup(out_dir, [StopAt(s)], num_workers)
        with pytest.raises(Interrupt):
            t.fit(data(), 4, resume=True, **fit)
    model, t = _setup(out_dir, (), num_workers)
    return model, t.fit(data(), 4, resume=True, **fit)


@pytest.mark.parametrize("kind", ["dataset", "dataloader"])
def test_interrupted_runs_resume_bit_for_bit(tmp_path, kind):
    base = NoisyDataset(blobs(n=240))
    if kind == "dataset":
        data, fit = (lambda: base), {"val_fraction": 0.25}
    else:
        data, fit = (lambda: DataLoader(base, batch_size=16, shuffle=True)), {"val_data": base}
    ref, t = _setup(tmp_path / "ref")
    ref_hist = t.fit(data(), 4, **fit)
    # steps 2, 7 and 13 are mid-epoch between checkpoints; 12 is an epoch's last batch (the
    # dataset run has 12 batches per epoch); 25 lands just after a mid-epoch checkpoint (24)
    model, hist = _interrupted(tmp_path / "run", data, [2, 7, 12, 13, 25], **fit)
    assert same_params(model, ref)
    drop = ("time", "samples_per_s")
    assert [{k: v for k, v in h.items() if k not in drop} for h in hist] == \
        [{k: v for k, v in h.items() if k not in drop} for h in ref_hist]


def test_workers_resume_bit_for_bit_and_do_not_change_results(tmp_path):
    data = lambda: NoisyDataset(blobs(n=96))     # noqa: E731
    ref, t = _setup(tmp_path / "ref", num_workers=1)
    t.fit(data(), 4)
    two, t = _setup(tmp_path / "two", num_workers=2)
    t.fit(data(), 4)
    assert same_params(two, ref)                # per-batch seeds: the worker count is invisible
    model, _ = _interrupted(tmp_path / "run", data, [5, 14], num_workers=2)
    assert same_params(model, ref)


def test_resume_without_checkpoint_starts_fresh(tmp_path, capsys):
    model, t = _setup(tmp_path)
    t.quiet = False
    t.fit(blobs(n=32), 1, resume=True)
    assert f"no checkpoint at {tmp_path / 'last.safetensors'}: starting from scratch" in \
        capsys.readouterr().out


def test_resume_refuses_a_broken_or_foreign_checkpoint(tmp_path):
    (tmp_path / "last.safetensors").write_bytes(b"")
    _, t = _setup(tmp_path)
    with pytest.raises(CheckpointError, match="the file is empty"):
        t.fit(blobs(n=32), 1, resume=True)
    model = mlp(hidden=5)
    numtorch.save(model.state_dict(), str(tmp_path / "last.safetensors"))
    with pytest.raises(RuntimeError, match=r"shape mismatch: 0\.weight \(checkpoint \(5, 8\), "
                       r"model \(16, 8\)\)"):
        t.fit(blobs(n=32), 1, resume=True)


def test_resume_mid_epoch_refuses_another_dataset(tmp_path):
    _, t = _setup(tmp_path, [StopAt(4)])
    with pytest.raises(Interrupt):
        t.fit(blobs(n=64), 2)
    _, t = _setup(tmp_path)
    with pytest.raises(ValueError, match="checkpoint was written for a dataset of 64 samples"):
        t.fit(blobs(n=80), 2, resume=True)


def test_stale_temporary_files_are_removed(tmp_path, capsys):
    stale = tmp_path / ".last.safetensors.0123456789ab.tmp"
    stale.write_bytes(b"partial")
    keep = tmp_path / "notes.tmp"
    keep.write_text("mine")
    _, t = _setup(tmp_path)
    t.quiet = False
    t.fit(blobs(n=32), 1)
    assert not stale.exists() and keep.exists()
    assert "removed a temporary file left by an interrupted save" in capsys.readouterr().out
    assert np.isfinite(t.history[0]["train_loss"])
