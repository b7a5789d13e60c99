"""Differential testing against PyTorch: one test body, two libraries, the same NumPy inputs.

A ``Case`` is a function of a library namespace (``numtorch`` or ``torch``) and input tensors.
``run_both`` builds the inputs in each library from the same arrays, runs the case forward,
backpropagates a fixed random upstream gradient, and returns outputs and input gradients as
NumPy arrays; ``assert_same`` compares values, shapes and dtypes.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np
import torch

import numtorch as nt

# float32: assert_close-like tolerances; float64: tight.
TOL = {"float32": dict(rtol=1.3e-5 * 10, atol=1e-5 * 10), "float64": dict(rtol=1e-7, atol=1e-7)}


@dataclasses.dataclass
class Case:
    """One op case. ``fn(lib, *tensors)`` returns a tensor (or tuple; the first is differentiated).

    shapes: input shapes; ``domain``: (low, high) for uniform inputs or "normal"; ``grad``: which
    inputs require grad (default: all floating inputs); ``dtypes``: per-input dtype override
    (e.g. "int64" for an index); ``make``: optional custom input maker ``(rng, dtype) -> arrays``.
    """

    name: str
    fn: Callable
    shapes: Sequence[tuple] = ((3, 4),)
    domain: object = "normal"
    grad: Sequence[bool] | None = None
    make: Callable | None = None
    tol: dict | None = None
    differentiable: bool = True
    noncontig: bool = False

    def inputs(self, dtype: str, seed: int = 0):
        rng = np.random.default_rng(seed)
        if self.make is not None:
            arrays = list(self.make(rng, dtype))
        else:
            arrays = []
            for s in self.shapes:
                if self.domain == "normal":
                    a = rng.standard_normal(s)
                else:
                    lo, hi = self.domain
                    a = rng.uniform(lo, hi, s)
                arrays.append(np.asarray(a, dtype=dtype))
        if self.noncontig:
            arrays = [np.asfortranarray(a) if a.ndim >= 2 else a for a in arrays]
        return arrays


def _to_lib(lib, a, requires_grad):
    """A leaf tensor of ``lib`` holding a copy of ``a`` with ``a``'s memory layout (so
    ``noncontig`` cases really are non-contiguous in both libraries)."""
    t = lib.from_numpy(a.copy(order="K"))
    if requires_grad:
        t.requires_grad_(True)
    return t


def run(lib, case: Case, arrays, upstream_seed: int = 1):
    """Forward + backward in one library; returns (outputs, grads) as NumPy arrays."""
    grad_flags = case.grad if case.grad is not None else \
        [a.dtype.kind == "f" and case.differentiable for a in arrays]
    ts = [_to_lib(lib, a, g) for a, g in zip(arrays, grad_flags)]
    out = case.fn(lib, *ts)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    outs = [o for o in outs if o is not None]
    values = [o.detach().numpy().copy() for o in outs]
    grads = []
    first = outs[0]
    if case.differentiable and any(grad_flags) and first.requires_grad:
        rng = np.random.default_rng(upstream_seed)
        g = np.asarray(rng.standard_normal(first.shape), dtype=values[0].dtype)
        first.backward(lib.tensor(g) if lib is torch else nt.tensor(g))
        for t, flag in zip(ts, grad_flags):
            if flag:
                grads.append(None if t.grad is None else t.grad.numpy().copy())
    return values, grads


def assert_same(ours, ref, rtol, atol, what=""):
    vo, go = ours
    vr, gr = ref
    assert len(vo) == len(vr), f"{what}: {len(vo)} outputs vs torch's {len(vr)}"
    for i, (a, b) in enumerate(zip(vo, vr)):
        assert a.shape == b.shape, f"{what} output {i}: shape {a.shape} vs torch {b.shape}"
        assert a.dtype == b.dtype, f"{what} output {i}: dtype {a.dtype} vs torch {b.dtype}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=f"{what} output {i}")
    assert len(go) == len(gr), f"{what}: {len(go)} grads vs torch's {len(gr)}"
    for i, (a, b) in enumerate(zip(go, gr)):
        if b is None:
            assert a is None or not np.any(a), f"{what} grad {i}: torch has none"
            continue
        assert a is not None, f"{what} grad {i}: numtorch gave none, torch gave one"
        assert a.shape == b.shape, f"{what} grad {i}: shape {a.shape} vs torch {b.shape}"
        assert a.dtype == b.dtype, f"{what} grad {i}: dtype {a.dtype} vs torch {b.dtype}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{what} grad {i}")


def check_case(case: Case, dtype: str, seed: int = 0):
    arrays = case.inputs(dtype, seed)
    tol = dict(TOL[dtype])
    if case.tol and dtype in case.tol:
        tol.update(case.tol[dtype])
    ours = run(nt, case, [a.copy() for a in arrays])
    ref = run(torch, case, [a.copy() for a in arrays])
    assert_same(ours, ref, what=case.name, **tol)


def gradcheck_case(case: Case, seed: int = 0):
    """float64 central-difference gradcheck of the numtorch side of a case."""
    arrays = case.inputs("float64", seed)
    grad_flags = case.grad if case.grad is not None else \
        [a.dtype.kind == "f" and case.differentiable for a in arrays]
    ts = [_to_lib(nt, a, g) for a, g in zip(arrays, grad_flags)]

    def f(*xs):
        out = case.fn(nt, *xs)
        return out[0] if isinstance(out, (tuple, list)) else out
    big = sum(a.size for a in arrays) > 200
    assert nt.autograd.gradcheck(f, ts, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=big)


# ---- the registry of cases: every primitive must be exercised by some case -------------------
ALL_CASES: dict = {}


def register(*cases: Case) -> list:
    """Record cases so that tests/oracle/test_registry.py can check primitive coverage."""
    for c in cases:
        if c.name in ALL_CASES and ALL_CASES[c.name] is not c:
            raise ValueError(f"duplicate case name {c.name!r}")
        ALL_CASES[c.name] = c
    return list(cases)


def primitives_used(case: Case) -> set:
    """Names of the numtorch primitives that one forward+backward of ``case`` applies."""
    from numtorch.autograd import function as _function
    used = set()
    original = _function._apply         # Function.apply and apply_ctx both run through it

    def tracing(cls, ctx, args):
        used.add(cls.__name__)
        return original(cls, ctx, args)

    _function._apply = tracing
    try:
        run(nt, case, case.inputs("float64"))
    finally:
        _function._apply = original
    return used
