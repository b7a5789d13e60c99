"""The one place that picks the array library for tensor math.

ops/, autograd/, nn/, optim/ and tensor.py reach NumPy (CuPy later) only through this package:
``xp`` is the array namespace, ``xp_of(*arrays)`` the namespace that owns some arrays.
"""
from __future__ import annotations

import ctypes
import os
import sys

import numpy as _np

from .dtypes import (  # noqa: F401
    bool_, dtype, float16, float32, float64, from_np, get_default_dtype, int8, int16, int32,
    int64, promote_types, set_default_dtype, to_np, uint8,
)
from . import random, threads  # noqa: F401

xp = _np
Array = _np.ndarray
ndarray = _np.ndarray


def xp_of(*arrays):
    """The array namespace that owns ``arrays`` (NumPy for host arrays)."""
    return _np


def is_array(a) -> bool:
    """True when ``a`` is an array of the backend."""
    return isinstance(a, _np.ndarray)


def asarray(data, dtype=None):  # noqa: F811  (the argument shadows the dtype class)
    """Convert ``data`` (array, nested lists, scalar) to a backend array."""
    return _np.asarray(data, dtype=dtype)


def to_host(a):
    """A host (NumPy) view or copy of a backend array."""
    return _np.asarray(a)


def num_threads() -> int:
    """Threads an op may use (``set_num_threads``, else OMP_NUM_THREADS, else the core count)."""
    return threads.get_num_threads()


def _tune_malloc() -> None:
    """Keep large freed blocks in the process heap (glibc only).

    A training loop frees and reallocates the same large arrays every step. glibc's defaults
    serve blocks over 128 KiB with mmap and return freed memory to the OS, so every step pays
    the page faults of fresh memory again (measured: BatchNorm2d on (100, 6, 28, 28) 6.1 ms ->
    1.6 ms per step with this). The cost: up to 256 MiB of freed memory stays with the process.
    Set NUMTORCH_MALLOPT=0 to keep glibc's defaults.
    """
    if sys.platform != "linux" or os.environ.get("NUMTORCH_MALLOPT", "1") == "0":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)      # M_MMAP_THRESHOLD: mmap only blocks over 32 MiB
        libc.mallopt(-1, 256 << 20)     # M_TRIM_THRESHOLD: keep up to 256 MiB of free heap
    except (OSError, AttributeError):   # not glibc
        pass


_tune_malloc()
