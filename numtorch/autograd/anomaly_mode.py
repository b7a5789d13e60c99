"""Anomaly detection for the autograd engine: detect_anomaly, set_detect_anomaly.

When enabled, ops record the Python traceback of their forward call and whether their output
holds nan/inf, and the engine checks every gradient a node returns: a nan raises
``RuntimeError("Function 'LogBackward0' returned nan values in its 0th output.")`` and any error
in a backward warns with the forward traceback of the op that failed, as torch does. When
disabled, the engine and ``Function.apply`` pay one flag test.
"""
from __future__ import annotations

import os
import traceback
import warnings

from .. import backend

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "set_anomaly_enabled"]


class _State:
    enabled = False
    check_nan = True


state = _State()


def is_anomaly_enabled() -> bool:
    """True when autograd anomaly detection is on."""
    return state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True when anomaly detection also raises on nan gradients."""
    return state.check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly detection on or off (``torch.set_anomaly_enabled``)."""
    state.enabled = bool(enabled)
    state.check_nan = bool(check_nan)


class detect_anomaly:
    """Context manager that enables anomaly detection for the autograd engine.

    Running the forward pass inside it lets an error in backward report the traceback of the
    forward call that created the failing node; with ``check_nan`` (default True) any backward
    computation that produces nan raises RuntimeError naming the node.

    Args:
        check_nan (bool): raise when a backward returns nan values. Default: ``True``
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = state.enabled
        self.check_nan = check_nan
        self.prev_check_nan = state.check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *args) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)


class set_detect_anomaly:
    """Set anomaly detection on or off; works as a function or a context manager.

    Args:
        mode (bool): enable (``True``) or disable (``False``) anomaly detection.
        check_nan (bool): raise when a backward returns nan values. Default: ``True``
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = state.enabled
        self.prev_check_nan = state.check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)


# ---- hooks called by Function.apply and the engine (only while enabled) -----------------------
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INTERNAL = tuple(os.path.join(_PKG, d) for d in ("autograd", "ops", "_tensor_methods.py",
                                                  "tensor.py"))


def record_forward(ctx, y) -> None:
    """Keep the forward traceback of ``ctx``'s op and whether its output ``y`` is non-finite."""
    stack = traceback.extract_stack()
    while stack and stack[-1].filename.startswith(_INTERNAL):
        stack.pop()
    ctx._anomaly_trace = "".join(traceback.format_list(stack)).rstrip()
    ctx._nonfinite = bool(y.dtype.kind in "fc" and not backend.xp.isfinite(y).all())


def checked_backward(node, gy):
    """``node.fn.backward(node, gy)``, checked for nan outputs; on any error, warn with the
    traceback of the forward call that created ``node``."""
    try:
        gin = node.fn.backward(node, gy)
        if state.check_nan:
            for i, gx in enumerate(gin if gin.__class__ is tuple else (gin,)):
                if gx is not None and gx.dtype.kind in "fc" and backend.xp.isnan(gx).any():
                    raise RuntimeError(f"Function '{node.name()}' returned nan values in its "
                                       f"{i}th output.")
    except Exception:
        trace = getattr(node, "_anomaly_trace", None)
        if trace is None:
            warnings.warn(f"Error detected in {node.name()}. No forward pass information "
                          "available. Enable detect anomaly during forward pass for more "
                          "information.", stacklevel=2)
        else:
            warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that "
                          f"caused the error:\n{trace}", stacklevel=2)
        raise
    return gin


def first_nonfinite(node):
    """The earliest ops (Contexts) under ``node`` whose forward output was non-finite while all
    of their recorded inputs were finite, as recorded under anomaly detection (a list; empty when
    the forward ran with detection off or everything was finite)."""
    from .function import Context
    seen, todo, found = {id(node)}, [node], []
    while todo:
        n = todo.pop()
        if not getattr(n, "_nonfinite", False):
            continue
        bad_input = False
        for m in n.next:
            if m is None:
                continue
            if m.__class__ is Context:
                if getattr(m, "_nonfinite", False):
                    bad_input = True
                    if id(m) not in seen:
                        seen.add(id(m))
                        todo.append(m)
            elif m._data.dtype.kind in "fc" and not backend.xp.isfinite(m._data).all():
                bad_input = True                   # a non-finite leaf (parameter) fed the op
        if not bad_input:
            found.append(n)
    return found
