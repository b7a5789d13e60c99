"""Optional compiled kernels (numba), for the few places where NumPy alone cannot get there.

A kernel module (say ``numtorch.ops._rnn_jit``) is ordinary Python written for ``numba.njit``
that imports numba at its top. Ops ask for it with :func:`load`, which imports and returns the
module, or None when numba is not installed, when ``NUMTORCH_JIT=0`` is set in the environment
or when :func:`set_enabled` turned kernels off; every op that uses a kernel keeps its pure-NumPy
path for that case, and the tests run both. numba is imported only on the first ``load`` (it
takes ~0.3 s), so ``import numtorch`` stays as fast without the kernels as with them. A kernel is
compiled on its first call for each dtype signature (a second or two; nothing is cached on disk).

Install the kernels with ``pip install numtorch[jit]`` (``numba``).

Profiling decided where kernels go (docs/performance.md): so far the LSTM's per-step
element-wise work (~10 small ufunc calls per step that a fused loop does in one) and 2-D max
pooling (one pass per direction instead of ~10 strided ones).
"""
from __future__ import annotations

import importlib
import os

_enabled: bool | None = None
_modules: dict = {}


def available() -> bool:
    """True when numba can be imported (whether or not kernels are enabled)."""
    try:
        importlib.import_module("numba")
    except ImportError:
        return False
    return True


def enabled() -> bool:
    """True when ops may use compiled kernels: numba is installed, the environment does not set
    ``NUMTORCH_JIT=0`` and :func:`set_enabled` did not turn them off."""
    global _enabled
    if _enabled is None:
        _enabled = os.environ.get("NUMTORCH_JIT", "1") != "0" and available()
    return _enabled


def set_enabled(flag: bool) -> bool:
    """Turn compiled kernels on or off for this process; returns the previous setting. Turning
    them on without numba installed raises ImportError."""
    global _enabled
    prev = enabled()
    if flag and not available():
        raise ImportError("numtorch's compiled kernels need numba: pip install numtorch[jit]")
    _enabled = bool(flag)
    return prev


def load(name: str):
    """The kernel module ``name`` (imported once), or None when kernels are not enabled."""
    if not enabled():
        return None
    mod = _modules.get(name)
    if mod is None:
        mod = _modules[name] = importlib.import_module(name)
    return mod
