"""A fork server for the crash tests: it imports numtorch once, then for each request forks a
child that runs the training of ``tests/train/_resume_script.py`` (with ``resume=True``) as a
real process the test can SIGKILL. Saves the ~0.5 s interpreter start of every segment.

Protocol (one line per request on stdin, tab-separated): ``OUT_DIR LOG_PATH SAVE_DELAY SNAP_DIR``
(``-`` for no delay / no snapshots). The server answers ``pid`` when the child has started and
its wait status (``0``, ``-9``, ...) when it has ended. With SNAP_DIR, every ``last.safetensors``
the run writes is also copied to ``SNAP_DIR/step<N>.safetensors`` (the reference states).
"""
import os
import shutil
import sys
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import numtorch  # noqa: E402,F401
from numtorch.train import _state  # noqa: E402
from tests.train import _resume_script  # noqa: E402


def _snapshotting(snap_dir):
    save = _state.StateMixin._save_last

    def save_last(self):
        save(self)
        shutil.copyfile(self._path("last.safetensors"),
                        os.path.join(snap_dir, f"step{self.global_step}.safetensors"))
    _state.StateMixin._save_last = save_last


def _child(out_dir, log, delay, snap):
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    code = 0
    try:
        os.environ.pop("NUMTORCH_TEST_SAVE_DELAY", None)
        if delay != "-":
            os.environ["NUMTORCH_TEST_SAVE_DELAY"] = delay
        if snap != "-":
            os.makedirs(snap, exist_ok=True)
            _snapshotting(snap)
        _resume_script.main(out_dir)
    except BaseException:                     # noqa: BLE001 - reported through the log
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main():
    for line in sys.stdin:
        out_dir, log, delay, snap = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            _child(out_dir, log, delay, snap)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    main()
