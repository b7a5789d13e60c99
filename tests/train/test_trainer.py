"""Trainer: learning, history files, equality with a hand-written loop (schedulers per step and
per epoch, gradient clipping), torch parity of the logged losses, determinism, callbacks,
early stopping, evaluation and progress output."""
import csv
import io
import json
import os

import numpy as np
import pytest
import torch

import numtorch
from numtorch.train import Callback, EarlyStopping, ProgressBar, Trainer
from numtorch.train._data import EpochBatches
from numtorch.utils.data import DataLoader

from ._helpers import blobs, mlp, same_params


def _sgd(model, lr=0.1, momentum=0.9):
    return numtorch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def test_fit_learns_and_writes_history(tmp_path):
    model = mlp()
    t = Trainer(model, _sgd(model), out_dir=tmp_path, batch_size=32, quiet=True)
    hist = t.fit(blobs(), 6, val_fraction=0.25)
    assert [h["epoch"] for h in hist] == list(range(1, 7))
    assert hist[-1]["train_acc"] > hist[0]["train_acc"] + 0.2
    assert hist[-1]["val_acc"] >= 0.9 and hist[-1]["val_loss"] < hist[0]["val_loss"]
    assert set(hist[0]) == {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr",
                            "time", "samples_per_s"}
    assert json.loads((tmp_path / "history.json").read_text()) == hist
    with open(tmp_path / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["train_loss"]) for r in rows] == [h["train_loss"] for h in hist]
    assert [float(r["val_acc"]) for r in rows] == [h["val_acc"] for h in hist]
    assert {"last.safetensors", "best.safetensors"} <= set(os.listdir(tmp_path))
    assert t.best == min(h["val_loss"] for h in hist)


def _manual_run(ds, epochs, seed, interval, clip):
    """What Trainer.fit must do, written out: the same seeding, order and step sequence."""
    model = mlp(dropout=0.2)
    opt = _sgd(model)
    sched = numtorch.optim.lr_scheduler.StepLR(opt, 2 if interval == "epoch" else 5, 0.5)
    loss_fn = numtorch.nn.CrossEntropyLoss()
    numtorch.manual_seed(seed)
    x_all, y_all = ds.tensors
    lrs = []
    for e in range(epochs):
        order = EpochBatches(ds, 32, 0, seed).order(e)
        for i in range(0, len(order), 32):
            idx = numtorch.tensor(order[i:i + 32])
            opt.zero_grad()
            loss = loss_fn(model(x_all[idx]), y_all[idx])
            loss.backward()
            if clip:
                numtorch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            if interval == "step":
                sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        if interval == "epoch":
            sched.step()
    return model, lrs


@pytest.mark.parametrize("interval,clip", [("epoch", None), ("step", None), ("epoch", 0.5)])
def test_fit_equals_a_hand_written_loop(interval, clip):
    ds = blobs()
    ref, lrs = _manual_run(ds, 4, 7, interval, clip)
    model = mlp(dropout=0.2)
    opt = _sgd(model)
    sched = numtorch.optim.lr_scheduler.StepLR(opt, 2 if interval == "epoch" else 5, 0.5)
    hist = Trainer(model, opt, scheduler=sched, scheduler_interval=interval, grad_clip=clip,
                   seed=7, batch_size=32, quiet=True).fit(ds, 4)
    assert same_params(model, ref)
    assert [h["lr"] for h in hist] == lrs
    if interval == "epoch":
        assert lrs == [0.1, 0.1, 0.05, 0.05]
    else:                                  # 8 steps per epoch, halved every 5 steps
        assert lrs == [0.1 * 0.5 ** (8 * (e + 1) // 5) for e in range(4)]


def test_logged_losses_match_torch():
    ds = blobs(n=96)
    model = mlp()
    tmodel = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    tmodel.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in model.state_dict().items()})
    hist = Trainer(model, _sgd(model), seed=3, batch_size=32, quiet=True).fit(ds, 3)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    x_all, y_all = (torch.from_numpy(t.numpy()) for t in ds.tensors)
    for e in range(3):
        order = EpochBatches(ds, 32, 0, 3).order(e)
        loss_sum = correct = 0.0
        for i in range(0, len(order), 32):
            idx = torch.tensor(order[i:i + 32])
            out = tmodel(x_all[idx])
            loss = torch.nn.functional.cross_entropy(out, y_all[idx])
            topt.zero_grad()
            loss.backward()
            topt.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == y_all[idx]).sum().item()
        assert hist[e]["train_loss"] == pytest.approx(loss_sum / 96, rel=1e-5)
        assert hist[e]["train_acc"] == pytest.approx(correct / 96, abs=1.5 / 96)


def test_same_seed_same_run_and_another_seed_differs():
    runs = []
    for seed in (0, 0, 1):
        model = mlp(dropout=0.3)
        hist = Trainer(model, _sgd(model), seed=seed, quiet=True).fit(blobs(), 3,
                                                                       val_fraction=0.2)
        runs.append((model, [h["train_loss"] for h in hist]))
    assert same_params(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]
    assert not same_params(runs[0][0], runs[2][0])


def _frozen(lr=0.1):
    """A model whose optimizer updates only an unused parameter: every epoch's loss is equal."""
    model = mlp()
    dummy = numtorch.nn.Parameter(numtorch.zeros(1))
    return model, numtorch.optim.SGD([dummy], lr=lr)


def test_early_stopping_stops_and_resume_keeps_it_stopped(tmp_path):
    model, opt = _frozen()
    stop = EarlyStopping(monitor="val_loss", patience=2, min_delta=1e-6)
    t = Trainer(model, opt, callbacks=[stop], out_dir=tmp_path, quiet=True)
    ds = blobs()
    hist = t.fit(ds, 10, val_data=ds)
    assert len(hist) == 3 and t.should_stop and stop.stopped_epoch == 3 and stop.wait == 2
    stop2 = EarlyStopping(monitor="val_loss", patience=2, min_delta=1e-6)
    t2 = Trainer(model, opt, callbacks=[stop2], out_dir=tmp_path, quiet=True)
    assert len(t2.fit(ds, 10, val_data=ds, resume=True)) == 3
    assert stop2.state_dict() == stop.state_dict()


def test_early_stopping_rules():
    class T:
        should_stop = False

        def log(self, msg):
            self.msg = msg

    acc = EarlyStopping(monitor="val_acc", patience=1)
    assert acc.mode == "max"
    t = T()
    for e, v in enumerate([0.5, 0.6, 0.6]):
        acc.on_epoch_end(t, e, {"val_acc": v})
    assert t.should_stop and "val_acc has not improved on 0.6 for 1 epochs" in t.msg
    with pytest.warns(UserWarning, match="'val_loss' is not in the epoch logs"):
        EarlyStopping().on_epoch_end(T(), 0, {"train_loss": 1.0, "val_loss": None})
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)


def test_reduce_lr_on_plateau_gets_the_validation_loss():
    model, opt = _frozen()
    sched = numtorch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5,
                                                          threshold=1e-3)
    ds = blobs()
    hist = Trainer(model, opt, scheduler=sched, quiet=True).fit(ds, 4, val_data=blobs(seed=5))
    assert [h["lr"] for h in hist] == [0.1, 0.1, 0.05, 0.025]
    assert sched.best == hist[0]["val_loss"] != hist[0]["train_loss"]
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        Trainer(model, opt, scheduler=sched, scheduler_interval="step")


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_fit_start(self, trainer):
        self.calls.append("fit_start")

    def on_epoch_start(self, trainer, epoch):
        self.calls.append(f"epoch_start {epoch}")

    def on_batch_end(self, trainer, batch, logs):
        self.calls.append(f"batch {batch} step {logs['step']}")
        assert set(logs) >= {"loss", "size", "train_loss", "train_acc"}

    def on_epoch_end(self, trainer, epoch, logs):
        self.calls.append(f"epoch_end {epoch} {logs['epoch']}")

    def on_fit_end(self, trainer, history):
        self.calls.append(f"fit_end {len(history)}")


def test_callback_hooks_in_order():
    rec = Recorder()
    model = mlp()
    Trainer(model, _sgd(model), callbacks=[rec], batch_size=100, quiet=True).fit(blobs(n=150),
                                                                                 2)
    assert rec.calls == ["fit_start", "epoch_start 0", "batch 1 step 1", "batch 2 step 2",
                         "epoch_end 0 1", "epoch_start 1", "batch 1 step 3", "batch 2 step 4",
                         "epoch_end 1 2", "fit_end 2"]


def test_evaluate_predict_validate(capsys):
    ds = blobs(n=200, classes=6, seed=4)
    model = mlp(classes=6)
    t = Trainer(model, _sgd(model), batch_size=64, metrics=("accuracy", "top5"), quiet=True)
    hist = t.fit(ds, 3)
    assert hist[-1]["train_top5"] is not None and "val_top5" not in hist[-1]
    r = t.evaluate(ds)
    logits = t.predict(ds)
    assert logits.shape == (200, 6)
    model.eval()
    with numtorch.no_grad():
        np.testing.assert_array_equal(logits.numpy(), model(ds.tensors[0]).numpy())
    y = ds.tensors[1].numpy()
    pred = logits.numpy().argmax(1)
    cm = np.zeros((6, 6), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    np.testing.assert_array_equal(r["confusion_matrix"], cm)
    assert r["accuracy"] == pytest.approx(np.mean(pred == y))
    tl = torch.from_numpy(logits.numpy())
    assert r["loss"] == pytest.approx(torch.nn.functional.cross_entropy(
        tl, torch.from_numpy(y)).item(), rel=1e-5)
    assert r["top5"] == pytest.approx((tl.topk(5, 1).indices == torch.from_numpy(y)[:, None])
                                      .any(1).double().mean().item())
    assert len(r["f1"]) == 6 and 0 < r["macro_f1"] <= 1 and r["num_samples"] == 200
    assert t.evaluate((ds.tensors[0], ds.tensors[1]))["loss"] == r["loss"]
    t.quiet = False
    assert t.test(DataLoader(ds, batch_size=50))["accuracy"] == r["accuracy"]
    assert capsys.readouterr().out.startswith("test: loss ")
    small = blobs(n=40, classes=3)
    m3 = mlp()
    assert "top5" not in Trainer(m3, _sgd(m3), quiet=True).evaluate(small)


def test_regression_has_no_accuracy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = (x @ rng.standard_normal((8, 1))).astype(np.float32)
    ds = numtorch.utils.data.TensorDataset(numtorch.from_numpy(x), numtorch.from_numpy(y))
    model = numtorch.nn.Linear(8, 1)
    t = Trainer(model, _sgd(model, lr=0.1, momentum=0), numtorch.nn.MSELoss(), batch_size=16,
                quiet=True)
    hist = t.fit(ds, 5, val_data=ds)
    assert hist[-1]["train_acc"] is None and hist[-1]["val_acc"] is None
    assert hist[-1]["val_loss"] < hist[0]["val_loss"] / 2
    r = t.evaluate(ds)
    assert r["accuracy"] is None and "confusion_matrix" not in r
    assert r["loss"] == pytest.approx(float(((model(ds.tensors[0]) - ds.tensors[1]) ** 2)
                                            .mean()), rel=1e-5)


def test_progress_bar_summary_and_quiet(capsys):
    ds = blobs(n=64)
    model = mlp()
    buf = io.StringIO()
    Trainer(model, _sgd(model), callbacks=[ProgressBar(bar=True, file=buf, mininterval=0)],
            batch_size=16).fit(ds, 2, val_data=ds)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("epoch 2/2  train loss ")
    assert " acc " in out[1] and "val loss" in out[1] and out[1].endswith("samples/s")
    bar = buf.getvalue()
    assert "epoch 1/2" in bar and "4/4" in bar and "loss=" in bar and "samples/s=" in bar
    Trainer(model, _sgd(model), batch_size=16).fit(ds, 1)      # stderr is not a terminal
    cap = capsys.readouterr()
    assert cap.err == "" and cap.out.startswith("epoch 1/1")
    Trainer(model, _sgd(model), quiet=True).fit(ds, 1)
    Trainer(model, _sgd(model), quiet=True, callbacks=[ProgressBar(bar=True)]).fit(ds, 1)
    assert capsys.readouterr() == ("", "")


def test_bad_arguments(tmp_path):
    model = mlp()
    opt = _sgd(model)
    with pytest.raises(ValueError, match="scheduler_interval must be 'epoch' or 'step'"):
        Trainer(model, opt, scheduler_interval="batch")
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        Trainer(model, opt, metrics=("f1",))
    with pytest.raises(TypeError, match="meta must be a JSON-serialisable"):
        Trainer(model, opt, meta={"x": object()})
    with pytest.raises(ValueError, match="grad_clip"):
        Trainer(model, opt, grad_clip=0)
    with pytest.raises(ValueError, match="checkpoint_every"):
        Trainer(model, opt, checkpoint_every=0)
    t = Trainer(model, opt, quiet=True)
    ds = blobs()
    with pytest.raises(ValueError, match="val_data or val_fraction, not both"):
        t.fit(ds, 1, val_data=ds, val_fraction=0.1)
    with pytest.raises(ValueError, match="val_fraction"):
        t.fit(DataLoader(ds), 1, val_fraction=0.1)
    with pytest.raises(ValueError, match="resume=True needs out_dir"):
        t.fit(ds, 1, resume=True)
    with pytest.raises(ValueError, match="epochs"):
        t.fit(ds, -1)
    (tmp_path / "file").write_text("")
    bad = Trainer(model, opt, out_dir=tmp_path / "file" / "run", quiet=True)
    with pytest.raises(NotADirectoryError, match="can't write to the output directory .*run"):
        bad.fit(ds, 1)
    assert bad.global_step == 0                 # failed before training, not at a checkpoint
