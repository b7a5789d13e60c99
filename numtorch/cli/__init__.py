"""The ``numtorch`` command: train, evaluate, predict, bench, info.

``numtorch train`` with no options trains the seed articles' CNN on Fashion-MNIST and reports
its test accuracy. Every subcommand explains its options with ``--help``. Errors are one line on
stderr (``numtorch: error: ...``); the exit status is 2 for usage errors (bad options, unknown
model or dataset names), 1 for other failures (missing or bad files, missing data, a diverged
run) and 130 when interrupted. ``NUMTORCH_TRACEBACK=1`` adds the traceback of unexpected errors.
"""
from __future__ import annotations

import os
import sys

from ._common import PROG, CLIError, HelpFormatter, Parser, error

__all__ = ["main"]

_COMMANDS = ("train", "evaluate", "predict", "bench", "info")


def build_parser() -> Parser:
    """The argument parser with one sub-parser per command."""
    from . import bench, evaluate, info, predict, train
    p = Parser(prog=PROG, formatter_class=HelpFormatter,
               description="Train, evaluate and use image classifiers with numtorch.",
               epilog="Run 'numtorch COMMAND --help' for a command's options. Examples:\n"
                      "  numtorch train                       # the seed CNN on Fashion-MNIST\n"
                      "  numtorch evaluate runs/x/best.safetensors\n"
                      "  numtorch predict runs/x/best.safetensors shirt.png photos/\n")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for mod in (train, evaluate, predict, bench, info):
        mod.add_parser(sub)
    return p


def _version() -> str:
    from .. import __version__
    return __version__


def main(argv=None) -> int:
    """Run the ``numtorch`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit
    status instead of exiting."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "bench":
            from . import bench
            return bench.main(argv[1:])
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:          # --help / --version
            return int(e.code or 0)
        if args.command is None:
            parser.print_help()
            return 0
        return int(args.run(args, argv) or 0)
    except CLIError as e:
        error(e)
        return e.code
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:              # e.g. `numtorch predict ... | head`
        _quiet_stdout()
        return 1
    except Exception as e:               # noqa: BLE001 - one line, never a traceback
        if os.environ.get("NUMTORCH_TRACEBACK"):
            import traceback
            traceback.print_exc()
        error(_describe(e))
        return 1


def _describe(e: BaseException) -> str:
    from ..serialization import CheckpointError
    text = str(e) or type(e).__name__
    if isinstance(e, (CheckpointError, OSError)) or type(e).__name__ == "NonFiniteError":
        return text
    return f"{type(e).__name__}: {text} (set NUMTORCH_TRACEBACK=1 to see where)"


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
