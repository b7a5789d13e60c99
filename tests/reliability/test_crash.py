"""Promise 5: a crash loses at most the work since the last checkpoint.

A real training process (``tests/train/_resume_script.py``: Trainer with dropout, BatchNorm, a
random transform, Adam, a per-step OneCycleLR and checkpoints every 3 steps) is killed with
SIGKILL at seeded random moments, mid-step and mid-save (``NUMTORCH_TEST_SAVE_DELAY`` widens the
save window), and resumed each time. After every kill the checkpoint on disk loads, holds every
expected key and equals, bit for bit, the state an uninterrupted run had at that step; the
resumed run removes the dead run's temporary files; the finished run equals the uninterrupted
one. A full disk (a real ``RLIMIT_FSIZE`` limit) and a read-only directory leave the previous
checkpoint's bytes unchanged and no temporary file, with an error naming the path.

Long version: ``python -m pytest -m slow tests/reliability/test_crash.py`` (200 kills).
"""
import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import numtorch
from numtorch.train import load_checkpoint
from numtorch.train.checkpoint import _TEMP
from tests.train._resume_script import EPOCHS, STEPS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVER = os.path.join(HERE, "_crash_server.py")
DELAY = 0.05                            # seconds each save waits before its rename
TRAINER_KEYS = {"global_step", "batch", "history", "best", "seed", "stopped", "rng", "running",
                "data", "callbacks"}
VOLATILE = {"time", "samples_per_s"}    # wall-clock figures, the only allowed differences
STARTED = re.compile(r"(resuming from .*|starting from scratch|training already finished.*)\n")

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(signal, "SIGKILL"),
                                reason="needs fork and SIGKILL")


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONUNBUFFERED="1")
    env.pop("NUMTORCH_TEST_SAVE_DELAY", None)
    return env


class Server:
    """Runs training segments as forked children of one pre-imported interpreter."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, SERVER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)

    def start(self, out_dir, log, delay=None, snap=None) -> int:
        fields = (out_dir, log, "-" if delay is None else str(delay), snap or "-")
        self.proc.stdin.write("\t".join(map(str, fields)) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def wait(self) -> int:
        return int(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture(scope="module")
def reference(server, tmp_path_factory):
    """An uninterrupted run, with a copy of last.safetensors at every step it was saved."""
    d = tmp_path_factory.mktemp("ref")
    server.start(d / "run", d / "run.log", snap=d / "snap")
    assert server.wait() == 0, (d / "run.log").read_text()
    snaps = {int(re.match(r"step(\d+)\.", n).group(1)): _state(d / "snap" / n)
             for n in os.listdir(d / "snap")}
    assert max(snaps) == STEPS and len(snaps) == 16
    return snaps


def _plain(obj):
    """Nested checkpoint contents with tensors as (dtype, shape, bytes), clocks dropped."""
    if isinstance(obj, numtorch.Tensor):
        a = obj.numpy()
        return (str(a.dtype), a.shape, a.tobytes())
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _state(path):
    """Everything a resume reads from the checkpoint at ``path``, checked for completeness."""
    numtorch.load(path)                                   # the raw file parses
    info = load_checkpoint(path)
    assert info["model_state"] and info["optimizer_state"]["state"], path
    assert info["scheduler_state"] is not None and info["meta"] == {"model": "resume-test"}
    assert TRAINER_KEYS <= set(info["extra"]["trainer"]), set(info["extra"]["trainer"])
    return _plain({k: info[k] for k in ("epoch", "step", "model_state", "optimizer_state",
                                         "scheduler_state", "extra")})


def _temps(d):
    return sorted(n for n in os.listdir(d) if _TEMP.match(n)) if os.path.isdir(d) else []


def _started(log, pid, timeout=60):
    """The segment's output once fit has started (it says where it starts from)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(log) as f:
                text = f.read()
        except FileNotFoundError:       # the child has not opened its log yet
            text = ""
        if STARTED.search(text):
            return text
        time.sleep(0.002)
    raise AssertionError(f"segment {pid} did not start fit in {timeout} s")


def _ino(path):
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def _kill_when(rng, run_dir, log, pid):
    """Kill ``pid`` at a seeded random moment after fit starts: at a random time, inside its
    k-th save (a new temporary file appeared), or in the steps after its k-th completed save
    (``last.safetensors`` was replaced); ``_crash_and_resume`` classifies where it landed."""
    _started(log, pid)
    mode, k, end = rng.choice(("time", "save", "step")), rng.randint(1, 3), time.monotonic() + 5
    if mode == "time":
        time.sleep(rng.uniform(0.0, 0.6))
    elif mode == "save":
        seen = set(_temps(run_dir))
        while k and time.monotonic() < end:
            new = set(_temps(run_dir)) - seen
            seen |= new
            k -= bool(new)
            time.sleep(0.0005)
        time.sleep(rng.uniform(0.0, 0.8 * DELAY))
    else:
        last = run_dir / "last.safetensors"
        ino = _ino(last)
        while k and time.monotonic() < end:
            now = _ino(last)
            if now != ino:
                ino, k = now, k - 1
            else:
                time.sleep(0.0002)
        time.sleep(rng.uniform(0.0, 0.003))
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _crash_and_resume(server, reference, base, kills_wanted, seed):
    rng = random.Random(seed)
    stats = {"kills": 0, "mid_save": 0, "mid_step": 0, "before_first_checkpoint": 0,
             "temps_cleaned": 0, "runs": 0, "segments": 0}
    while stats["kills"] < kills_wanted:
        run_dir = base / f"run{stats['runs']}"
        stats["runs"] += 1
        last_step, stale = -1, []
        while True:
            log = base / f"seg{stats['segments']}.log"
            stats["segments"] += 1
            pid = server.start(run_dir, log, delay=DELAY)
            line = _started(log, pid)
            for name in stale:          # the dead segment's temporaries are gone at fit start
                assert not (run_dir / name).exists(), (name, line)
            stats["temps_cleaned"] += len(stale)
            if last_step >= 0:          # it resumes from the last complete checkpoint
                assert re.search(rf"[( ]step {last_step}\)", line), (last_step, line)
            killing = stats["kills"] < kills_wanted
            if killing:
                _kill_when(rng, run_dir, log, pid)
            rc = server.wait()
            if rc == 0:
                break
            assert rc == -signal.SIGKILL, log.read_text()
            stats["kills"] += 1
            stale = _temps(run_dir)
            stats["mid_save" if stale else "mid_step"] += 1
            last = run_dir / "last.safetensors"
            if not last.exists():
                stats["before_first_checkpoint"] += 1
                continue
            got = _state(last)          # loads, verifies, and is the reference's state
            step = got["step"]
            assert step >= last_step and step in reference, (step, last_step)
            assert got == reference[step], f"checkpoint at step {step} differs from the reference"
            last_step = step
            for extra in ("best.safetensors",):
                if (run_dir / extra).exists():
                    numtorch.load(run_dir / extra)
            if (run_dir / "history.json").exists():
                json.loads((run_dir / "history.json").read_text())
        assert "DONE" in log.read_text()
        assert _temps(run_dir) == []
        final = _state(run_dir / "last.safetensors")
        assert (final["epoch"], final["step"]) == (EPOCHS, STEPS)
        assert final == reference[STEPS], "the resumed run ended with other weights or state"
    return stats


def _check_stats(stats, kills):
    print(f"\ncrash stats: {stats}")
    assert stats["kills"] >= kills
    assert stats["mid_save"] >= 4 and stats["mid_step"] >= 4, stats
    assert stats["temps_cleaned"] >= 1, stats


def test_20_sigkills_mid_step_and_mid_save_resume_bit_exact(server, reference, tmp_path):
    t0 = time.monotonic()
    stats = _crash_and_resume(server, reference, tmp_path, 20, seed=7)
    _check_stats(stats, 20)
    print(f"{time.monotonic() - t0:.1f} s")


@pytest.mark.slow
def test_200_sigkills(server, reference, tmp_path):
    t0 = time.monotonic()
    stats = _crash_and_resume(server, reference, tmp_path, 200, seed=11)
    _check_stats(stats, 200)
    assert stats["mid_save"] >= 40 and stats["mid_step"] >= 40, stats
    print(f"{time.monotonic() - t0:.1f} s")


# ---- a full disk and a read-only directory ----------------------------------------------------
def _snapshot(d):
    return {n: (d / n).read_bytes() for n in sorted(os.listdir(d))}


def _cli_args(data_dir, out, *more):
    return ["train", "--data-dir", data_dir, "--model", "mlp", "--epochs", "1",
            "--batch-size", "32", "--limit-train", "96", "--limit-test", "32", "--no-plots",
            "--quiet", "--out", str(out), *more]


@pytest.fixture(scope="module")
def idx_data(tmp_path_factory):
    from tests.cli._make import write_idx_dataset
    return write_idx_dataset(str(tmp_path_factory.mktemp("idx")), n_train=128, n_test=32)


def _trainer(out_dir):
    from numtorch.train import Trainer
    from tests.train._helpers import mlp
    model = mlp()
    opt = numtorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return Trainer(model, opt, out_dir=out_dir, batch_size=32, quiet=True)


FULL_DISK = textwrap.dedent("""
    import json, resource, signal, sys
    sys.path.insert(0, {root!r})
    from numtorch.cli import main
    from tests.reliability.test_crash import _trainer
    from tests.train._helpers import blobs
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)    # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.getrlimit(
        resource.RLIMIT_FSIZE)[1]))
    try:
        _trainer({out!r}).fit(blobs(), 2, resume=True)
        print(json.dumps(None))
    except Exception as e:
        print(json.dumps([type(e).__name__, getattr(e, "errno", None), str(e)]))
    sys.stdout.flush()
    sys.exit(main({argv!r}))
""")


def test_full_disk_keeps_the_previous_checkpoint(tmp_path, idx_data):
    """A real file-size limit (RLIMIT_FSIZE, as a full disk does) stops the epoch-2 saves of a
    Trainer and of ``numtorch train --resume``: each reports the file it could not write, and
    the epoch-1 checkpoint is byte for byte what it was, with no temporary file beside it."""
    from numtorch.cli import main
    from tests.train._helpers import blobs
    t_dir, c_dir = tmp_path / "trainer", tmp_path / "cli"
    _trainer(t_dir).fit(blobs(), 1)
    assert main(_cli_args(idx_data, c_dir)) == 0
    before = {d: _snapshot(d) for d in (t_dir, c_dir)}
    limit = min((d / "last.safetensors").stat().st_size for d in (t_dir, c_dir)) // 2
    argv = _cli_args(idx_data, c_dir, "--resume", "--epochs", "2")
    script = FULL_DISK.format(root=ROOT, limit=limit, out=str(t_dir), argv=argv)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       env=_env(), cwd=ROOT, timeout=120)
    name, code, msg = json.loads(r.stdout.splitlines()[0])
    assert (name, code) == ("OSError", errno.EFBIG), msg
    assert "File too large" in msg and str(t_dir) in msg and ".safetensors" in msg, msg
    assert r.returncode == 1, r.stderr
    err = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and "error:" in err[0] and "Traceback" not in r.stderr, r.stderr
    assert "File too large" in err[0] and str(c_dir) in err[0], err
    for d in (t_dir, c_dir):
        assert _temps(d) == []
        assert (d / "last.safetensors").read_bytes() == before[d]["last.safetensors"], d
        assert load_checkpoint(d / "last.safetensors")["epoch"] == 1
        load_checkpoint(d / "best.safetensors")     # the old one or a complete new one (smaller)


def _read_only(monkeypatch, directory, after=0):
    """Make ``directory`` behave as on a read-only file system: creating a file in it fails
    with EROFS (after ``after`` creations succeed), as does renaming into it."""
    real_open, real_replace, made = os.open, os.replace, [0]
    directory = os.path.realpath(directory)

    def inside(p):
        return os.path.dirname(os.path.realpath(os.fsdecode(p))) == directory

    def fake_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and (inside(path) or os.path.realpath(path) == directory):
            made[0] += 1
            if made[0] > after:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    def fake_replace(src, dst, *args, **kwargs):
        if inside(dst) and made[0] > after:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(src),
                          os.fsdecode(dst))
        return real_replace(src, dst, *args, **kwargs)
    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "replace", fake_replace)


def test_read_only_directory_keeps_the_previous_checkpoint(tmp_path, monkeypatch, idx_data,
                                                           capsys):
    from numtorch.cli import main
    from tests.train._helpers import blobs
    t_dir, c_dir = tmp_path / "trainer", tmp_path / "cli"
    _trainer(t_dir).fit(blobs(), 1)
    assert main(_cli_args(idx_data, c_dir)) == 0
    capsys.readouterr()
    before = {d: _snapshot(d) for d in (t_dir, c_dir)}
    path = t_dir / "last.safetensors"
    with monkeypatch.context() as m:                # numtorch.save itself
        _read_only(m, t_dir)
        with pytest.raises(OSError, match=re.escape(f"can't write {str(path)!r}: Read-only")):
            numtorch.save({"w": numtorch.ones(3)}, path)
    with monkeypatch.context() as m:                # a resumed fit is refused at once
        _read_only(m, t_dir)
        with pytest.raises(OSError, match=r"output directory .*Read-only file system"):
            _trainer(t_dir).fit(blobs(), 2, resume=True)
    for after in (1, 2, 3):                         # the file system turns read-only mid-run
        with monkeypatch.context() as m:
            _read_only(m, t_dir, after=after)
            with pytest.raises(OSError, match=rf"can't write '{re.escape(str(t_dir))}/\w+\.\w+'"
                                              r": Read-only file system"):
                _trainer(t_dir).fit(blobs(), 2, resume=True)
    with monkeypatch.context() as m:                # the CLI: one line naming the directory
        _read_only(m, c_dir)
        assert main(_cli_args(idx_data, c_dir, "--resume", "--epochs", "2")) == 1
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and str(c_dir) in err[0] and "Read-only file system" in err[0], err
    assert _snapshot(c_dir) == before[c_dir]
    for d in (t_dir, c_dir):                        # history/best may be complete new files
        assert (d / "last.safetensors").read_bytes() == before[d]["last.safetensors"], d
        assert _temps(d) == [] and load_checkpoint(d / "last.safetensors")["epoch"] == 1
        load_checkpoint(d / "best.safetensors")
