"""The kill-and-resume test: a real training process is killed with SIGKILL at random moments
(seeded), some of them in the middle of writing a checkpoint, and resumed each time; its final
weights, optimizer state and history equal those of an uninterrupted run bit for bit."""
import os
import random
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from numtorch.train import load_checkpoint
from numtorch.train.checkpoint import _TEMP

from ._resume_script import EPOCHS, STEPS

SCRIPT = os.path.join(os.path.dirname(__file__), "_resume_script.py")
MAX_KILLS = 12

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _env(save_delay=None):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONUNBUFFERED="1")
    env.pop("NUMTORCH_TEST_SAVE_DELAY", None)
    if save_delay:
        env["NUMTORCH_TEST_SAVE_DELAY"] = str(save_delay)
    return env


def _start(out_dir, log, env):
    return subprocess.Popen([sys.executable, SCRIPT, str(out_dir)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def _temps(out_dir):
    return [n for n in os.listdir(out_dir) if _TEMP.match(n)] if os.path.isdir(out_dir) else []


def _wait_for_training(log_path, proc, timeout=60):
    """Block until the process has printed its first line (fit has started)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        with open(log_path) as f:
            if f.readline().endswith("\n"):
                return
        time.sleep(0.01)


def _final_state(out_dir):
    info = load_checkpoint(os.path.join(out_dir, "last.safetensors"))
    hist = [{k: v for k, v in h.items() if k not in ("time", "samples_per_s")}
            for h in info["extra"]["trainer"]["history"]]
    opt = info["optimizer_state"]["state"]
    return info, hist, opt


def test_sigkill_at_random_moments_then_resume_equals_an_uninterrupted_run(tmp_path):
    ref_dir = tmp_path / "ref"
    with open(tmp_path / "ref.log", "w") as log:
        assert subprocess.run([sys.executable, SCRIPT, str(ref_dir)], env=_env(), stdout=log,
                              stderr=subprocess.STDOUT, timeout=300).returncode == 0

    run_dir = tmp_path / "run"
    rng = random.Random(20240611)
    kills = mid_save = 0
    logs = []
    while True:
        log_path = tmp_path / f"run{len(logs)}.log"
        logs.append(log_path)
        with open(log_path, "w") as log:
            proc = _start(run_dir, log, _env(save_delay=0.1))
            want_kill = kills < 3 or (mid_save == 0 and kills < MAX_KILLS)
            if want_kill:
                _wait_for_training(log_path, proc)
                time.sleep(rng.uniform(0.05, 1.0))
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
            rc = proc.wait(timeout=300)
        if rc == 0:
            break
        assert rc == -signal.SIGKILL, log_path.read_text()
        kills += 1
        if _temps(run_dir):
            mid_save += 1
        assert kills <= MAX_KILLS + 1

    outputs = [p.read_text() for p in logs]
    assert "DONE" in outputs[-1]
    assert kills >= 3, "the process finished before it could be killed three times"
    assert mid_save >= 1, f"none of {kills} kills landed mid-save"
    assert any("removed a temporary file left by an interrupted save" in o for o in outputs)
    resumed_at = [int(m) for o in outputs
                  for m in re.findall(r"at epoch \d+, batch (\d+) of", o)]
    assert any(b > 1 for b in resumed_at), f"no resume started mid-epoch: {resumed_at}"
    assert _temps(run_dir) == []

    ref_info, ref_hist, ref_opt = _final_state(ref_dir)
    info, hist, opt = _final_state(run_dir)
    assert (info["epoch"], info["step"]) == (ref_info["epoch"], ref_info["step"]) == (EPOCHS, STEPS)
    for k, v in ref_info["model_state"].items():
        assert np.array_equal(v.numpy(), info["model_state"][k].numpy()), k
    for i, st in ref_opt.items():
        for k, v in st.items():
            assert np.array_equal(v.numpy(), opt[i][k].numpy()), (i, k)
    assert hist == ref_hist
    assert info["scheduler_state"] == ref_info["scheduler_state"]
