"""Shared helpers for the numtorch.utils.data tests: run one body under numtorch and torch and
reduce the results to plain Python structures that can be compared with ==."""
from __future__ import annotations

import numpy as np
import torch

import numtorch as nt


def norm(x):
    """Tensors -> ("tensor", dtype name, shape, values); containers keep their type name."""
    if isinstance(x, (torch.Tensor, nt.Tensor)):
        return ("tensor", str(x.dtype).split(".")[-1], tuple(x.shape),
                np.asarray(x.detach().numpy()).tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: norm(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [norm(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [norm(v) for v in x])
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.str, x.tolist())
    return x


def both(body):
    """``body(lib)`` under numtorch and torch, normalised: (ours, theirs)."""
    return norm(body(nt)), norm(body(torch))


def error_of(body, lib):
    """The (class name, message) that ``body(lib)`` raises, or None."""
    try:
        body(lib)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    return None


def same_error(body):
    """Assert ``body`` raises the same exception class and message under both libraries."""
    ours, theirs = error_of(body, nt), error_of(body, torch)
    assert theirs is not None, "torch raised nothing"
    assert ours == theirs
