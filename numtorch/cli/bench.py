"""``numtorch bench``: run the repository's benchmarks (numtorch against PyTorch)."""
from __future__ import annotations

import os
import subprocess
import sys

from ._common import CLIError, HelpFormatter

HELP = """Run numtorch's benchmarks: numtorch and PyTorch side by side, each in a fresh process
pinned to 2 threads, reporting time per step, peak memory and the speed ratio as a Markdown
table. Every argument is passed on to `python -m benchmarks.run` (e.g. --workloads xor,mlp
--repeats 7 --json out.json); PyTorch must be installed for its column.

This needs the benchmarks/ folder of a numtorch source checkout (it is not part of an
installed wheel)."""


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="run the benchmarks (numtorch vs PyTorch)",
                       description=HELP, formatter_class=HelpFormatter, add_help=False)
    p.add_argument("args", nargs="*", help="arguments for benchmarks.run")


def benchmarks_root():
    """The source checkout that holds ``benchmarks/run.py`` next to the package, or None."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return here if os.path.isfile(os.path.join(here, "benchmarks", "run.py")) else None


def main(argv) -> int:
    """Run ``python -m benchmarks.run ARGS`` from the checkout; its exit status."""
    root = benchmarks_root()
    if argv[:1] in (["-h"], ["--help"]):
        print("usage: numtorch bench [ARGS for benchmarks.run ...]\n\n" + HELP)
        if root is None:
            return 0
        print("\nThe options of benchmarks.run:\n", flush=True)
    if root is None:
        raise CLIError("the benchmarks/ folder is not here: 'numtorch bench' runs from a "
                       "numtorch source checkout (git clone the repository, then run it there)")
    return subprocess.call([sys.executable, "-m", "benchmarks.run", *argv], cwd=root)
