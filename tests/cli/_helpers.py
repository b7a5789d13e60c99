"""Helpers of the CLI tests: run the command in-process and check one-line errors."""
from __future__ import annotations

import hashlib
import os

from numtorch.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLOTS = ("curves.png", "confusion_matrix.png", "predictions.png", "filters.png",
         "feature_maps.png")


def digest(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run(capsys, *argv):
    """(exit status, stdout, stderr) of ``main(argv)`` in this process."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, *needles) -> str:
    """The error line, after checking it is the only line and holds every needle."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("numtorch") and "error:" in lines[0], err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]
