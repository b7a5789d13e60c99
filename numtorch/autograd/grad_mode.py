"""Gradient-recording switches: no_grad, enable_grad, set_grad_enabled, inference_mode."""
from __future__ import annotations

import functools


class _State:
    enabled = True


state = _State()


def is_grad_enabled() -> bool:
    """True when operations record a graph for autograd."""
    return state.enabled


class _GradMode:
    """Base of the context managers; each is also usable as a decorator."""

    _target = True

    def __init__(self) -> None:
        self._prev = []

    def __enter__(self) -> None:
        self._prev.append(state.enabled)
        state.enabled = self._target

    def __exit__(self, *exc) -> None:
        state.enabled = self._prev.pop()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_GradMode):
    """Context manager and decorator that disables gradient recording."""

    _target = False


class enable_grad(_GradMode):
    """Context manager and decorator that enables gradient recording."""

    _target = True


class set_grad_enabled(_GradMode):
    """Enable or disable gradient recording; works as a function, context manager or decorator."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self._target = bool(mode)
        self._prev.append(state.enabled)
        state.enabled = self._target

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        state.enabled = self._prev.pop()

    def __call__(self, fn):
        target = self._target
        state.enabled = self._prev.pop()

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(target):
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return set_grad_enabled(self._target)


class inference_mode(_GradMode):
    """Like ``no_grad`` (numtorch has no separate inference tensors); ``inference_mode(False)``
    leaves recording as it is."""

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        self._mode = mode
        self._target = False

    def __enter__(self) -> None:
        self._prev.append(state.enabled)
        if self._mode:
            state.enabled = False

    def __call__(self, fn):
        if not callable(fn) or isinstance(fn, bool):
            return inference_mode(fn)
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper


def is_inference_mode_enabled() -> bool:
    return False
