"""Shared pieces of the ``numtorch`` command: its error type, one-line messages, output folders
and the argparse parser that prints usage errors on one line."""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile

PROG = "numtorch"
USAGE_ERROR = 2          # argparse's exit status for bad usage; also unknown model/dataset names
RUNTIME_ERROR = 1        # files, data and training problems


class CLIError(Exception):
    """An error the command reports as one line on stderr, exiting with ``code``."""

    def __init__(self, message: str, code: int = RUNTIME_ERROR) -> None:
        super().__init__(message)
        self.code = code


class UsageError(CLIError):
    """Bad options or names (exit status 2, as argparse uses)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, USAGE_ERROR)


def one_line(text) -> str:
    """``text`` with every run of whitespace that holds a line break turned into one space."""
    return re.sub(r"\s*\n\s*", " ", str(text)).strip()


def error(message, prog: str = PROG) -> None:
    """Print ``prog: error: message`` as one line on stderr."""
    print(f"{prog}: error: {one_line(message)}", file=sys.stderr, flush=True)


def note(message) -> None:
    """Print ``numtorch: note: message`` on stderr (information, not an error)."""
    print(f"{PROG}: note: {one_line(message)}", file=sys.stderr, flush=True)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (with a pointer to ``--help``)."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the descriptions' line breaks and shows each option's default."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=30, width=100)

    def _get_help_string(self, action):
        text = action.help or ""
        if ("%(default)" not in text and action.default not in (None, False, argparse.SUPPRESS)
                and action.option_strings and action.nargs != 0):
            text += " (default: %(default)s)"
        return text


def positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {v}")
    return v


def nonneg_float(text: str) -> float:
    """argparse type: a finite float >= 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return v


def fraction(text: str) -> float:
    """argparse type: a float in [0, 1)."""
    v = nonneg_float(text)
    if v >= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return v


def writable_dir(path: str) -> str:
    """Create ``path`` if needed and check that files can be written in it.

    Raises CLIError naming the directory and the reason (a file in the way, no permission, a
    read-only file system). Checked by writing a probe file, since ``os.access`` says yes to
    root for every directory.
    """
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise CLIError(f"can't write to output directory {path!r}: {reason}") from None
    return path


def check_checkpoint_file(path: str) -> None:
    """CLIError unless ``path`` is a non-empty regular file."""
    if not os.path.exists(path):
        raise CLIError(f"checkpoint {path!r} does not exist")
    if os.path.isdir(path):
        raise CLIError(f"checkpoint {path!r} is a directory, not a file (did you mean "
                       f"{os.path.join(path, 'best.safetensors')!r}?)")
    size = os.path.getsize(path)
    if size == 0:
        raise CLIError(f"checkpoint {path!r} is empty (0 bytes)")
