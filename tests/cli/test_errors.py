"""Bad input to the numtorch command: one line on stderr naming the problem, a non-zero exit
status (2 for usage errors), no traceback, and earlier checkpoints left byte for byte intact."""
from __future__ import annotations

import os
import shutil

import pytest

import numtorch
from numtorch.cli import main
from tests.cli._helpers import digest, one_line_error, run

pytest.importorskip("PIL")


@pytest.fixture
def ckpt(run_dir, tmp_path):
    """A copy of the shared run's checkpoint, with its digest."""
    path = tmp_path / "best.safetensors"
    shutil.copy(os.path.join(run_dir, "best.safetensors"), path)
    return str(path), digest(path)


# ---- checkpoints ------------------------------------------------------------------------------
def test_missing_checkpoint(capsys, tmp_path):
    for cmd in (["evaluate"], ["predict"]):
        code, _, err = run(capsys, *cmd, tmp_path / "nope.safetensors", *(
            [tmp_path] if cmd == ["predict"] else []))
        assert code == 1
        one_line_error(err, "nope.safetensors", "does not exist")


def test_empty_checkpoint(capsys, tmp_path):
    path = tmp_path / "x.safetensors"
    path.write_bytes(b"")
    code, _, err = run(capsys, "evaluate", path)
    assert code == 1
    one_line_error(err, f"checkpoint '{path}' is empty (0 bytes)")
    assert path.read_bytes() == b""


def test_garbage_and_foreign_checkpoints(capsys, tmp_path, data):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x80\x04this is a pickle, not a checkpoint")
    code, _, err = run(capsys, "evaluate", junk)
    assert code == 1
    one_line_error(err, "junk.safetensors", "pickle")
    plain = tmp_path / "plain.safetensors"          # a state_dict saved by user code: no meta
    numtorch.save(numtorch.nn.Linear(2, 3).state_dict(), plain)
    code, _, err = run(capsys, "predict", plain, data["images"]["gray"])
    assert code == 1
    one_line_error(err, "not written by 'numtorch train'")


def test_checkpoint_of_another_architecture(ckpt, capsys, data):
    path, before = ckpt
    code, _, err = run(capsys, "evaluate", path, "--model", "resnet",
                       "--data-dir", data["idx"])
    assert code == 1
    line = one_line_error(err, path, "does not match the model (ResNet)", "missing keys",
                          "bn1.weight", "unexpected keys", "fc1.weight")
    assert "shape mismatch" in line                  # conv1.weight: 16x1x3x3 vs 6x1x5x5
    assert digest(path) == before


def test_resume_with_another_architecture(run_dir, data, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    before = digest(out / "last.safetensors")
    code, _, err = run(capsys, "train", "--out", out, "--resume", "--model", "mlp",
                       "--data-dir", data["idx"], "--no-plots")
    assert code == 1
    one_line_error(err, "can't resume", "missing keys", "net.1.weight", "conv1.weight")
    assert digest(out / "last.safetensors") == before


def test_resume_needs_a_run(capsys, tmp_path):
    code, _, err = run(capsys, "train", "--resume")
    assert code == 2
    one_line_error(err, "--resume needs --out")
    code, _, err = run(capsys, "train", "--resume", "--out", tmp_path)
    assert code == 1
    one_line_error(err, "nothing to resume", "last.safetensors")


NAN_MODEL = """
import os
import numtorch


class Net(numtorch.nn.Module):
    def __init__(self, in_channels, num_classes, image_size):
        super().__init__()
        self.fc = numtorch.nn.Linear(in_channels * image_size * image_size, num_classes)
        self.steps = 0

    def forward(self, x):
        y = self.fc(x.flatten(1))
        if self.training:
            self.steps += 1
            if self.steps > int(os.environ.get("NAN_AFTER", "1000000")):
                return y * float("nan")
        return y


def build(in_channels, num_classes, image_size):
    return Net(in_channels, num_classes, image_size)
"""


def test_non_finite_loss_keeps_the_last_checkpoint(data, tmp_path, capsys, monkeypatch):
    factory = tmp_path / "nanmodel.py"
    factory.write_text(NAN_MODEL)
    out = tmp_path / "run"
    args = ["train", "--model", f"{factory}:build", "--data-dir", data["idx"], "--out", out,
            "--limit-train", "64", "--limit-test", "16", "--batch-size", "32",
            "--val-fraction", "0", "--no-plots", "--quiet"]
    assert run(capsys, *args, "--epochs", "1")[0] == 0          # 2 steps, fine
    before = {n: digest(out / n) for n in ("last.safetensors", "best.safetensors")}
    monkeypatch.setenv("NAN_AFTER", "1")        # the resumed run's 2nd step (global 4) is nan
    code, _, err = run(capsys, "train", "--out", out, "--resume", "--epochs", "2")
    assert code == 1
    one_line_error(err, "step 4")
    assert {n: digest(out / n) for n in before} == before


def test_existing_run_is_not_overwritten(run_dir, data, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    before = digest(out / "last.safetensors")
    code, _, err = run(capsys, "train", "--out", out, "--data-dir", data["idx"])
    assert code == 1
    one_line_error(err, "already holds a run", "--resume")
    assert digest(out / "last.safetensors") == before


# ---- predict ----------------------------------------------------------------------------------
def test_predict_non_image_file(ckpt, capsys, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    for path in (text, fake):
        code, _, err = run(capsys, "predict", ckpt[0], path)
        assert code == 1
        one_line_error(err, str(path))
    code, _, err = run(capsys, "predict", ckpt[0], tmp_path / "missing.png")
    assert code == 1
    one_line_error(err, "missing.png", "does not exist")
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    code, _, err = run(capsys, "predict", ckpt[0], empty)
    assert code == 1
    one_line_error(err, "holds no image files")


# ---- names, options, directories, data ---------------------------------------------------------
@pytest.mark.parametrize("argv, needles", [
    (["train", "--model", "alexnet"], ["unknown model 'alexnet'", "lenet"]),
    (["train", "--model", "no_such_module_xyz:build"], ["can't import module"]),
    (["train", "--dataset", "imagenet"], ["unknown dataset 'imagenet'", "fashion-mnist"]),
    (["train", "--epochs", "zero"], ["--epochs", "invalid int value"]),
    (["train", "--epochs", "0"], ["--epochs", "positive"]),
    (["train", "--optimizer", "lamb"], ["--optimizer", "invalid choice"]),
    (["train", "--optimizer", "adam", "--momentum", "0.9"], ["--momentum applies to sgd"]),
    (["train", "--model-kwargs", "{bad"], ["--model-kwargs is not valid JSON"]),
    (["train", "--image-size", "32"], ["--image-size applies to folder datasets"]),
    (["evaluate"], ["the following arguments are required: CHECKPOINT"]),
    (["evaluate", "x.safetensors", "--dataset", "svhn"], ["unknown dataset 'svhn'"]),
    (["frobnicate"], ["invalid choice: 'frobnicate'"]),
])
def test_usage_errors(argv, needles, capsys):
    code, _, err = run(capsys, *argv)
    assert code == 2
    one_line_error(err, *needles)


def test_unwritable_output_directory(data, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a directory")
    code, _, err = run(capsys, "train", "--out", blocker / "run", "--data-dir", data["idx"])
    assert code == 1
    one_line_error(err, "can't write to output directory", str(blocker / "run"))
    if hasattr(os, "geteuid") and os.geteuid() != 0:   # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        code, _, err = run(capsys, "train", "--out", locked / "run", "--data-dir", data["idx"])
        assert code == 1
        one_line_error(err, "can't write to output directory")


def test_missing_dataset_says_where_and_how(tmp_path, capsys, monkeypatch):
    from numtorch.vision import datasets
    monkeypatch.setattr(datasets.FashionMNIST, "extra_dirs", (str(tmp_path / "debian"),))
    code, _, err = run(capsys, "train", "--data-dir", tmp_path, "--out", tmp_path / "o")
    assert code == 1
    one_line_error(err, "fashion-mnist train split not found", str(tmp_path),
                   str(tmp_path / "debian"), "apt-get install dataset-fashion-mnist",
                   "--data-dir")
    assert not (tmp_path / "o").exists()              # no empty run directory left behind
    code, _, err = run(capsys, "train", "--dataset", "cifar10", "--data-dir", tmp_path,
                       "--out", tmp_path / "o")
    assert code == 1
    one_line_error(err, "cifar10", "cifar-10-python.tar.gz")
    code, _, err = run(capsys, "train", "--dataset", f"folder:{tmp_path / 'none'}",
                       "--out", tmp_path / "o")
    assert code == 1
    one_line_error(err, "does not exist")


def test_unexpected_errors_are_one_line(monkeypatch, capsys):
    from numtorch.cli import info
    monkeypatch.setattr(info, "report", lambda d: 1 / 0)
    monkeypatch.delenv("NUMTORCH_TRACEBACK", raising=False)
    code, _, err = run(capsys, "info")
    assert code == 1
    one_line_error(err, "ZeroDivisionError", "NUMTORCH_TRACEBACK")
    assert main(["--version"]) == 0
