"""The non-finite guard (loss and gradients; checkpoints untouched) and autograd anomaly
detection (torch's messages and switches)."""
import os
import warnings

import pytest
import torch

import numtorch
from numtorch.train import Callback, NonFiniteError, Trainer

from ._helpers import blobs, mlp

# ---- anomaly detection against torch ------------------------------------------------------


def _nan_message(lib, fn):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    y = lib.tensor([0.0, 0.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with lib.autograd.detect_anomaly():
            with pytest.raises(RuntimeError) as err:
                fn(x, y).sum().backward()
    texts = [str(m.message) for m in w if m.category is UserWarning]
    return str(err.value), texts


@pytest.mark.parametrize("fn", [lambda x, y: x.sqrt() * 0, lambda x, y: x / y,
                                lambda x, y: (x * y).log() * 0],
                         ids=["sqrt", "div_second_input", "log_of_zero_times_zero"])
def test_anomaly_error_matches_torch(fn):
    ours, our_warnings = _nan_message(numtorch, fn)
    ref, ref_warnings = _nan_message(torch, fn)
    assert ours == ref                                   # e.g. "... in its 1th output."
    assert our_warnings[0] == ref_warnings[0]            # "Anomaly Detection has been enabled..."
    head = ref_warnings[1].split(".")[0]                 # "Error detected in SqrtBackward0"
    assert our_warnings[1].startswith(head + ". Traceback of forward call that caused the error")
    assert "test_nonfinite.py" in our_warnings[1]


def test_anomaly_switches_like_torch():
    for lib in (numtorch, torch):
        assert not lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
            x = lib.tensor([0.0], requires_grad=True)
            (x.sqrt() * 0).sum().backward()              # nan, but check_nan is off
            assert x.grad.isnan().all()
        assert not lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
        lib.autograd.set_detect_anomaly(True)
        assert lib.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(False)
        assert not lib.is_anomaly_enabled()


def test_anomaly_mode_off_records_nothing():
    x = numtorch.tensor([1.0], requires_grad=True)
    y = x.exp()
    assert not hasattr(y.grad_fn, "_anomaly_trace")
    with numtorch.autograd.set_detect_anomaly(True):
        y = x.exp()
    assert "test_nonfinite.py" in y.grad_fn._anomaly_trace


# ---- the Trainer's guard -------------------------------------------------------------------
class BadAt:
    """Cross-entropy that turns non-finite at call ``at``: the loss itself (log of a negative
    number) or only its gradient (sqrt at 0 times 0)."""

    def __init__(self, kind, at):
        self.kind, self.at, self.calls = kind, at, 0
        self.ce = numtorch.nn.CrossEntropyLoss()

    def __call__(self, out, y):
        self.calls += 1
        loss = self.ce(out, y)
        if self.calls == self.at:
            if self.kind == "loss":
                loss = loss + (out.sum() * 0 - 1).log()
            else:
                loss = loss + ((out - out.detach()).abs().sqrt() * 0).sum()
        return loss


class Snapshot(Callback):
    """Copies the checkpoint files' bytes after the step before the bad one."""

    def __init__(self, out_dir, step):
        self.out_dir, self.step, self.files = out_dir, step, None

    def on_batch_end(self, trainer, batch, logs):
        if trainer.global_step == self.step:
            self.files = {n: (self.out_dir / n).read_bytes() for n in os.listdir(self.out_dir)}


@pytest.mark.parametrize("kind", ["loss", "gradient"])
@pytest.mark.parametrize("anomaly", [False, True])
@pytest.mark.parametrize("clip", [None, 1.0])
def test_nonfinite_stops_at_the_step_and_leaves_checkpoints_alone(tmp_path, kind, anomaly,
                                                                   clip):
    model = mlp()
    snap = Snapshot(tmp_path, 10)
    # 64 samples in batches of 8: step 11 is batch 3 of epoch 2; checkpoints at steps 4 and 8
    # (and epoch 1's end), none between step 10 and the failure
    t = Trainer(model, numtorch.optim.SGD(model.parameters(), lr=0.1), BadAt(kind, 11),
                out_dir=tmp_path, checkpoint_every=4, batch_size=8, grad_clip=clip,
                detect_anomaly=anomaly, callbacks=[snap], quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # anomaly mode's forward-traceback warning
        with pytest.raises(NonFiniteError) as err:
            t.fit(blobs(n=64), 3)
    e = err.value
    assert isinstance(e, RuntimeError)
    assert (e.epoch, e.step, e.batch, e.what) == (2, 11, 3, kind)
    msg = str(e)
    assert f"non-finite {kind} (nan) at epoch 2/3, step 11 (batch 3/8 of the epoch)" in msg
    assert "stopped before the optimizer step" in msg
    assert f"{tmp_path / 'last.safetensors'} (epoch 1, step 8) is untouched" in msg
    if anomaly:
        op = "LogBackward0" if kind == "loss" else "SqrtBackward0"
        assert e.op == op and op in msg
    else:
        assert e.op is None
        if kind == "loss":
            assert "detect_anomaly=True" in msg
        else:
            assert "non-finite gradients in 0.weight, 0.bias, 2.weight, 2.bias" in msg
    assert {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)} == snap.files
    assert not numtorch.is_anomaly_enabled()               # restored after the failure
    assert t.global_step == 10 and len(t.history) == 1
    assert {"last.safetensors", "best.safetensors"} <= set(snap.files)


def test_nonfinite_input_is_reported():
    ds = blobs(n=16)
    ds.tensors[0][3, 1] = float("nan")
    model = mlp()
    t = Trainer(model, numtorch.optim.SGD(model.parameters(), lr=0.1), quiet=True)
    with pytest.raises(NonFiniteError, match="the input batch holds non-finite values"):
        t.fit(ds, 1)


def test_nonfinite_parameters_are_reported():
    model = mlp()
    with numtorch.no_grad():
        model[0].weight[0, 0] = float("inf")
    t = Trainer(model, numtorch.optim.SGD(model.parameters(), lr=0.1), quiet=True)
    with pytest.raises(NonFiniteError, match="parameters already non-finite: 0.weight"):
        t.fit(blobs(n=16), 1)
