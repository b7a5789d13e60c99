"""Differentiable primitives, one module per family, each forward beside its backward.

``PRIMITIVES`` lists every Function subclass; tests require an oracle case and a gradcheck case
for each one.
"""
from __future__ import annotations

import importlib
import pkgutil

from ..autograd.function import Function

_FAMILIES = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
for _name in _FAMILIES:
    importlib.import_module(f"{__name__}.{_name}")


def _all_primitives():
    out, todo = {}, list(Function.__subclasses__())
    while todo:
        c = todo.pop()
        if c.__module__.startswith(__name__ + "."):
            out[c.__name__] = c
        todo.extend(c.__subclasses__())
    return out


PRIMITIVES = _all_primitives()
