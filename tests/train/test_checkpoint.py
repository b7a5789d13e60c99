"""save_checkpoint / load_checkpoint: round trip, atomic replacement, clear errors for missing,
empty, corrupt and other-architecture files, and stale temporary files."""
import os

import numpy as np
import pytest

import numtorch
from numtorch.serialization import CheckpointError
from numtorch.train import load_checkpoint, save_checkpoint
from numtorch.train import checkpoint as C

from ._helpers import mlp, same_params


def _trained():
    model = mlp()
    opt = numtorch.optim.Adam(model.parameters(), lr=0.01)
    sched = numtorch.optim.lr_scheduler.StepLR(opt, 1, 0.5)
    for _ in range(2):
        opt.zero_grad()
        model(numtorch.randn(4, 8)).sum().backward()
        opt.step()
        sched.step()
    return model, opt, sched


def test_round_trip(tmp_path):
    model, opt, sched = _trained()
    path = tmp_path / "c.safetensors"
    meta = {"model": "mlp", "kwargs": {"hidden": 16}, "classes": ["a", "b", "c"],
            "input_shape": [8], "mean": [0.5]}
    assert save_checkpoint(path, model, opt, sched, epoch=3, step=17, meta=meta,
                           extra={"note": "hi", "t": numtorch.arange(3)}) == str(path)
    m2 = mlp(seed=9)
    o2 = numtorch.optim.Adam(m2.parameters(), lr=0.5)
    s2 = numtorch.optim.lr_scheduler.StepLR(o2, 1, 0.5)
    info = load_checkpoint(path, m2, o2, s2)
    assert same_params(m2, model)
    assert (info["epoch"], info["step"], info["meta"]) == (3, 17, meta)
    assert info["extra"]["note"] == "hi" and info["extra"]["t"].tolist() == [0, 1, 2]
    assert info["model_class"] == "Sequential"
    assert o2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.0025
    a, b = o2.state_dict()["state"][0], opt.state_dict()["state"][0]
    assert np.array_equal(a["exp_avg"].numpy(), b["exp_avg"].numpy())
    assert s2.state_dict() == sched.state_dict()
    assert os.listdir(tmp_path) == ["c.safetensors"]           # no temporary file left


def test_plain_state_dict_is_a_model_checkpoint(tmp_path):
    model = mlp()
    numtorch.save(model.state_dict(), str(tmp_path / "w.safetensors"))
    m2 = mlp(seed=5)
    info = load_checkpoint(tmp_path / "w.safetensors", m2)
    assert same_params(m2, model) and info["meta"] == {} and info["epoch"] == 0
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        load_checkpoint(tmp_path / "w.safetensors", m2, numtorch.optim.SGD(m2.parameters(), 0.1))


def test_clear_errors(tmp_path):
    model = mlp()
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.safetensors", model)
    (tmp_path / "empty.safetensors").write_bytes(b"")
    with pytest.raises(CheckpointError, match="the file is empty"):
        load_checkpoint(tmp_path / "empty.safetensors", model)
    (tmp_path / "junk.safetensors").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(CheckpointError, match="junk.safetensors"):
        load_checkpoint(tmp_path / "junk.safetensors", model)
    numtorch.save([1, 2], str(tmp_path / "list.safetensors"))
    with pytest.raises(CheckpointError, match="not a numtorch training checkpoint"):
        load_checkpoint(tmp_path / "list.safetensors", model)
    save_checkpoint(tmp_path / "ok.safetensors", model)
    data = (tmp_path / "ok.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[:-5])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(tmp_path / "cut.safetensors", model)


def test_other_architecture_lists_the_mismatched_keys(tmp_path):
    save_checkpoint(tmp_path / "a.safetensors", mlp(hidden=16))
    other = numtorch.nn.Sequential(numtorch.nn.Linear(8, 32), numtorch.nn.ReLU(),
                                   numtorch.nn.Linear(32, 3), numtorch.nn.ReLU(),
                                   numtorch.nn.Linear(3, 2, bias=False))
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(RuntimeError) as err:
        load_checkpoint(tmp_path / "a.safetensors", other)
    msg = str(err.value)
    assert "does not match the model (Sequential)" in msg
    assert "missing keys: 4.weight" in msg
    assert "shape mismatch: 0.weight (checkpoint (16, 8), model (32, 8)), 0.bias " in msg
    assert "2.weight (checkpoint (3, 16), model (3, 32))" in msg
    assert all(np.array_equal(before[k].numpy(), v.numpy())          # nothing was loaded
               for k, v in other.state_dict().items())
    small = numtorch.nn.Sequential(numtorch.nn.Linear(8, 16))
    with pytest.raises(RuntimeError, match="unexpected keys: 2.weight, 2.bias"):
        load_checkpoint(tmp_path / "a.safetensors", small)


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    model = mlp()
    path = tmp_path / "last.safetensors"
    save_checkpoint(path, model, epoch=1)
    old = path.read_bytes()

    def broken(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(C.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, mlp(seed=3), epoch=2)
    monkeypatch.undo()
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["last.safetensors"]
    assert load_checkpoint(path)["epoch"] == 1


def test_save_delay_hook_and_stale_temps(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setenv("NUMTORCH_TEST_SAVE_DELAY", "0.01")
    monkeypatch.setattr(numtorch.serialization.time, "sleep",
                        lambda s: seen.append(sorted(os.listdir(tmp_path))))
    save_checkpoint(tmp_path / "last.safetensors", mlp())
    (pending,) = seen[0]                       # during the delay only the complete temp exists
    assert C._TEMP.match(pending) and pending.startswith(".last.safetensors.")
    assert os.listdir(tmp_path) == ["last.safetensors"]
    for name in (".last.safetensors.0123456789ab.tmp", "..x.tmp.abcdef012345.tmp"):
        (tmp_path / name).write_bytes(b"x")
    for name in ("keep.tmp", ".last.safetensors.xyz.tmp", "history.json"):
        (tmp_path / name).write_bytes(b"x")
    removed = C.remove_stale_temps(tmp_path)
    assert sorted(os.path.basename(p) for p in removed) == ["..x.tmp.abcdef012345.tmp",
                                                            ".last.safetensors.0123456789ab.tmp"]
    assert sorted(os.listdir(tmp_path)) == [".last.safetensors.xyz.tmp", "history.json",
                                            "keep.tmp", "last.safetensors"]
