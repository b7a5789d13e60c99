"""The numtorch command end to end on tiny generated datasets: train, evaluate, predict, info,
bench, and one-line errors (exit status, no traceback, earlier checkpoints intact)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from numtorch.cli import main
from tests.cli._helpers import PLOTS, ROOT, one_line_error, run

pytest.importorskip("PIL")


# ---- train ------------------------------------------------------------------------------------
def test_train_writes_checkpoints_history_and_plots(run_dir):
    for name in ("best.safetensors", "last.safetensors", "history.json", "history.csv",
                 "test_metrics.json", *PLOTS):
        path = os.path.join(run_dir, name)
        assert os.path.isfile(path) and os.path.getsize(path) > 0, name
    with open(os.path.join(run_dir, "test_metrics.json")) as f:
        m = json.load(f)
    assert m["samples"] == 64 and 0 <= m["accuracy"] <= 1
    assert len(m["confusion_matrix"]) == 10 and sum(map(sum, m["confusion_matrix"])) == 64
    from numtorch.train import load_checkpoint
    meta = load_checkpoint(os.path.join(run_dir, "last.safetensors"))["meta"]
    assert meta["model"] == "lenet" and meta["input_shape"] == [1, 28, 28]
    assert meta["class_names"][0] == "T-shirt/top" and len(meta["mean"]) == 1
    assert meta["model_kwargs"] == {"in_channels": 1, "num_classes": 10, "image_size": 28}


def test_train_prints_test_accuracy_and_paths(data, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "train", "--data-dir", data["idx"], "--epochs", "1",
                             "--limit-train", "96", "--limit-test", "32", "--out", out,
                             "--no-plots", "--model", "mlp", "--optimizer", "adam",
                             "--scheduler", "onecycle", "--val-fraction", "0")
    assert code == 0, err
    assert "test accuracy" in stdout and "best.safetensors" in stdout
    assert not any(p.endswith(".png") for p in os.listdir(out))


def test_same_seed_same_run(data, tmp_path):
    args = ["train", "--data-dir", data["idx"], "--epochs", "1", "--limit-train", "96",
            "--limit-test", "16", "--no-plots", "--quiet", "--augment", "flip+crop",
            "--seed", "3"]
    for name in ("a", "b"):
        assert main(args + ["--out", str(tmp_path / name)]) == 0
    from numtorch.train import load_checkpoint
    sa = load_checkpoint(str(tmp_path / "a" / "last.safetensors"))["model_state"]
    sb = load_checkpoint(str(tmp_path / "b" / "last.safetensors"))["model_state"]
    assert all((sa[k].numpy() == sb[k].numpy()).all() for k in sa)


def test_train_on_image_folder(data, tmp_path, capsys):
    out = tmp_path / "shapes"
    code, stdout, err = run(capsys, "train", "--dataset", f"folder:{data['folder']}",
                             "--image-size", "28", "--epochs", "1", "--batch-size", "4",
                             "--out", out, "--no-plots", "--val-fraction", "0")
    assert code == 0, err
    from numtorch.train import load_checkpoint
    meta = load_checkpoint(str(out / "best.safetensors"))["meta"]
    assert meta["class_names"] == ["circle", "square"]
    assert meta["input_shape"] == [3, 28, 28]          # some images are in colour
    with open(out / "test_metrics.json") as f:
        assert json.load(f)["samples"] == round(0.2 * 12)   # held out for test: no test/ folder


def test_train_on_cifar10_and_mnist_files(tmp_path, capsys):
    from tests.cli._make import write_idx_dataset
    from tests.vision._files import cifar10_files, write_dir
    write_dir(str(tmp_path / "c" / "cifar-10-batches-py"), cifar10_files(8))
    code, out, err = run(capsys, "train", "--dataset", "cifar10", "--data-dir", tmp_path / "c",
                         "--model", "lenet", "--epochs", "1", "--out", tmp_path / "r1",
                         "--no-plots", "--augment", "crop", "--quiet")
    assert code == 0, err
    assert "on 8 cifar10 test images" in out
    from numtorch.train import load_checkpoint
    meta = load_checkpoint(str(tmp_path / "r1" / "last.safetensors"))["meta"]
    assert meta["input_shape"] == [3, 32, 32] and len(meta["mean"]) == 3
    assert meta["class_names"][0] == "airplane"
    write_idx_dataset(str(tmp_path / "m" / "MNIST" / "raw"), 40, 10)
    code, out, err = run(capsys, "train", "--dataset", "mnist", "--data-dir", tmp_path / "m",
                         "--model", "fmnist_net", "--model-kwargs", '{"c1": 4, "c2": 4}',
                         "--epochs", "1", "--out", tmp_path / "r2", "--no-plots", "--quiet")
    assert code == 0, err
    meta = load_checkpoint(str(tmp_path / "r2" / "last.safetensors"))["meta"]
    assert meta["model_kwargs"]["c1"] == 4 and meta["class_names"][3] == "3 - three"


def test_image_folder_with_test_split_evaluate_and_predict(data, tmp_path, capsys):
    root = tmp_path / "split"
    for part in ("train", "test"):
        shutil.copytree(data["folder"], root / part)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--dataset", f"folder:{root}", "--model", "mlp",
                       "--epochs", "1", "--out", out, "--no-plots", "--quiet")
    assert code == 0, err
    ckpt = out / "best.safetensors"
    code, stdout, err = run(capsys, "evaluate", ckpt, "--no-plots", "--out", tmp_path)
    assert code == 0, err
    assert "circle" in stdout and "(12 images)" in stdout
    code, stdout, err = run(capsys, "predict", ckpt, root / "test" / "circle")
    assert code == 0, err
    assert len(stdout.strip().splitlines()) == 6 and "circle" in stdout
    other = tmp_path / "other"
    (other / "x").mkdir(parents=True)
    shutil.copy(data["images"]["gray"], other / "x")
    code, _, err = run(capsys, "evaluate", ckpt, "--dataset", f"folder:{other}")
    assert code == 1
    one_line_error(err, "classes", "circle, square")


def test_resume_continues_the_run(data, tmp_path, capsys):
    out = tmp_path / "r"
    base = ["train", "--data-dir", data["idx"], "--limit-train", "64", "--limit-test", "16",
            "--no-plots", "--quiet", "--out", str(out)]
    assert main(base + ["--epochs", "1", "--model", "mlp"]) == 0
    code, _, err = run(capsys, "train", "--out", out, "--resume", "--epochs", "2",
                        "--no-plots", "--quiet")      # the model etc. come from the run
    assert code == 0, err
    with open(out / "history.json") as f:
        history = json.load(f)
    history = history if isinstance(history, list) else history["history"]
    assert [h["epoch"] for h in history] == [1, 2]


# ---- evaluate and predict ---------------------------------------------------------------------
def test_evaluate_prints_and_saves(run_dir, data, tmp_path, capsys):
    code, out, err = run(capsys, "evaluate", os.path.join(run_dir, "best.safetensors"),
                          "--data-dir", data["idx"], "--out", tmp_path, "--limit", "40")
    assert code == 0, err
    for word in ("accuracy", "precision", "recall", "F1", "macro average", "confusion matrix",
                 "Ankle boot"):
        assert word in out
    with open(tmp_path / "evaluation_test.json") as f:
        doc = json.load(f)
    assert doc["samples"] == 40 and len(doc["precision"]) == 10
    assert sum(map(sum, doc["confusion_matrix"])) == 40
    assert (tmp_path / "confusion_matrix_test.png").stat().st_size > 0


def test_predict_any_image(run_dir, data, capsys):
    imgs = data["images"]
    ckpt = os.path.join(run_dir, "best.safetensors")
    code, out, err = run(capsys, "predict", ckpt, *imgs.values(), "--topk", "2")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 4 and all("%" in ln for ln in lines)
    assert err.count("note:") == 1 and "3 of 4 resized to 28x28 pixels" in err
    code, out, err = run(capsys, "predict", ckpt, os.path.dirname(imgs["gray"]), "--json")
    assert code == 0, err
    res = json.loads(out)
    assert len(res) == 4 and len(res[0]["predictions"]) == 3
    probs = [p["probability"] for p in res[0]["predictions"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6


def test_predict_matches_evaluate_preprocessing(run_dir, data, tmp_path, capsys):
    """A test image written as PNG gets the probabilities the model gives the test tensor."""
    import numpy as np
    from PIL import Image

    import numtorch
    from numtorch.cli import _ckpt, _data
    from tests.cli._make import pattern_images
    images, _ = pattern_images(3, seed=2)
    path = tmp_path / "t.png"
    Image.fromarray(images[0]).save(path)
    ckpt = os.path.join(run_dir, "best.safetensors")
    code, out, _ = run(capsys, "predict", ckpt, path, "--json", "--topk", "10")
    assert code == 0
    got = {p["index"]: p["probability"] for p in json.loads(out)[0]["predictions"]}
    c = _ckpt.read(ckpt)
    meta = _ckpt.meta_of(ckpt, c)
    model = _ckpt.restore(ckpt, c, meta)
    x = _data.normalise(images[:1, None], meta["mean"], meta["std"])
    with numtorch.no_grad():
        p = numtorch.softmax(model(numtorch.from_numpy(x)).double(), 1).numpy()[0]
    np.testing.assert_allclose([got[i] for i in range(10)], p, atol=1e-5)


# ---- info and bench ---------------------------------------------------------------------------
def test_info_reports_versions_and_datasets(data, capsys):
    code, out, _ = run(capsys, "info", "--data-dir", os.path.dirname(data["idx"]))
    assert code == 0
    for word in ("numtorch", "numpy", "python", "BLAS", "threads", "fashion-mnist", "cifar10"):
        assert word in out
    code, out, _ = run(capsys, "info", "--json", "--data-dir", data["idx"])
    doc = json.loads(out)
    assert doc["datasets"]["mnist"]["found"] == data["idx"]


def test_bench_without_benchmarks_folder(monkeypatch, capsys):
    from numtorch.cli import bench
    monkeypatch.setattr(bench, "benchmarks_root", lambda: None)
    code, _, err = run(capsys, "bench", "--workloads", "xor")
    assert code == 1
    one_line_error(err, "benchmarks/")


def test_bench_passes_arguments(monkeypatch, capsys):
    from numtorch.cli import bench
    calls = []
    monkeypatch.setattr(bench.subprocess, "call", lambda cmd, cwd: calls.append((cmd, cwd)) or 0)
    assert main(["bench", "--workloads", "xor", "--repeats", "1"]) == 0
    assert calls[0][0][1:] == ["-m", "benchmarks.run", "--workloads", "xor", "--repeats", "1"]
    assert calls[0][1] == ROOT


# ---- help -------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "info"])
def test_help_explains_every_option(command, capsys):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    from numtorch.cli import build_parser
    sub = build_parser()._subparsers._group_actions[0].choices[command]
    for action in sub._actions:
        assert action.help, action.dest
        for opt in action.option_strings:
            assert opt in out


def test_subprocess_help_and_console_script():
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-m", "numtorch", "--help"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0 and "train" in r.stdout and "predict" in r.stdout
    r = subprocess.run([sys.executable, "-m", "numtorch", "evaluate", "missing.safetensors"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1
    one_line_error(r.stderr, "'missing.safetensors' does not exist")
    script = shutil.which("numtorch")
    if script is None:
        pytest.skip("the numtorch console script is not installed (pip install -e .)")
    r = subprocess.run([script, "info"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "numpy" in r.stdout


def test_killed_run_resumes_to_the_same_weights(data, tmp_path):
    """SIGKILL a real `numtorch train` process mid-run (saves slowed down, so the kill may land
    mid-save too), resume it, and get the uninterrupted run's weights bit for bit."""
    import signal
    import time

    from numtorch.train import load_checkpoint
    args = ["train", "--data-dir", data["idx"], "--limit-train", "256", "--limit-test", "16",
            "--batch-size", "32", "--epochs", "2", "--augment", "flip+crop",
            "--checkpoint-every", "3", "--no-plots", "--quiet", "--seed", "7"]
    assert main(args + ["--out", str(tmp_path / "whole")]) == 0
    env = dict(os.environ, PYTHONPATH=ROOT, NUMTORCH_TEST_SAVE_DELAY="0.4", OMP_NUM_THREADS="1")
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "numtorch", *args, "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (out / "last.safetensors").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.9)                       # a few more steps and saves
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed_at = load_checkpoint(str(out / "last.safetensors"))["step"]
    assert 0 < killed_at < 16, killed_at      # it really was interrupted
    assert main(["train", "--out", str(out), "--resume", "--no-plots", "--quiet"]) == 0
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]
    a = load_checkpoint(str(tmp_path / "whole" / "last.safetensors"))["model_state"]
    b = load_checkpoint(str(out / "last.safetensors"))["model_state"]
    assert a.keys() == b.keys()
    assert all((a[k].numpy() == b[k].numpy()).all() for k in a)
