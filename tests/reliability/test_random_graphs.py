"""Promise 4 (second half): randomly generated op graphs match PyTorch in values and gradients.

Hypothesis draws a *program*: 1-3 float64 leaves with small shapes (size-1 and 0-d dims included)
that broadcast against each other, then a chain of 1-7 steps, each a view (transpose, permute,
slicing, expand, reshape/view, unsqueeze/squeeze, select, flip), a unary op, a binary op with
broadcasting, or a reduction. Every choice is an integer resolved against the current shapes, so
the same program runs identically on numtorch and on torch. The result is reduced by a weighted
sum and backpropagated; every intermediate value and every leaf's gradient is compared.

Default suite: exactly 500 derandomized examples. Long run:
``NUMTORCH_GRAPH_EXAMPLES=20000 python -m pytest -m slow tests/reliability/test_random_graphs.py``.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import numtorch as nt

MAX_NUMEL = 96  # keeps every example small and fast

UNARY = [
    ("tanh", lambda lib, x: x.tanh()),
    ("sigmoid", lambda lib, x: x.sigmoid()),
    ("sin", lambda lib, x: x.sin()),
    ("cos", lambda lib, x: x.cos()),
    ("exp", lambda lib, x: x.clamp(-5, 5).exp()),
    ("log_abs1", lambda lib, x: (x.abs() + 1).log()),
    ("sqrt_abs1", lambda lib, x: (x.abs() + 1).sqrt()),
    ("square", lambda lib, x: x * x),
    ("neg", lambda lib, x: -x),
    ("recip", lambda lib, x: (x * x + 1).reciprocal()),
    ("pow", lambda lib, x: (x * x + 1) ** 1.5),
    ("relu", lambda lib, x: x.relu()),
    ("softplus", lambda lib, x: lib.nn.functional.softplus(x)),
    ("scalar_affine", lambda lib, x: 2.5 * x - 0.5),
    ("rsub", lambda lib, x: 1 - x),
    ("expm1", lambda lib, x: x.clamp(-5, 5).expm1()),
    ("log1p_sq", lambda lib, x: (x * x).log1p()),
    ("rsqrt", lambda lib, x: (x * x + 1).rsqrt()),
    ("softmax", lambda lib, x: x.softmax(-1)),
    ("log_softmax", lambda lib, x: x.log_softmax(0)),
    ("cumsum", lambda lib, x: x.cumsum(-1)),
]
BINARY = [
    ("add", lambda x, y: x + y),
    ("sub", lambda x, y: x - y),
    ("mul", lambda x, y: x * y),
    ("div", lambda x, y: x / (y * y + 1)),
    ("maximum", lambda x, y: x.maximum(y)),
    ("where", lambda x, y: x.where(x > y, y)),
    ("pow", lambda x, y: (x.abs() + 1) ** y.tanh()),
    ("minimum", lambda x, y: x.minimum(y)),
    ("hypot1", lambda x, y: (x * x + y * y + 1).sqrt()),
]
# (name, fn(x, dim, keepdim)); dim None means a full reduction.
REDUCE = [
    ("sum", lambda x, d, k: x.sum() if d is None else x.sum(d, keepdim=k)),
    ("mean", lambda x, d, k: x.mean() if d is None else x.mean(d, keepdim=k)),
    ("amax", lambda x, d, k: x.amax() if d is None else x.amax(d, keepdim=k)),
    ("logsumexp", lambda x, d, k: x.logsumexp(d if d is not None else tuple(range(x.dim())),
                                              keepdim=k)),
    ("prod", lambda x, d, k: x.prod() if d is None else x.prod(d, keepdim=k)),
    ("norm", lambda x, d, k: x.norm() if d is None else x.norm(dim=d, keepdim=k)),
]
VIEWS = ["transpose", "permute", "slice", "expand", "reshape", "view", "unsqueeze", "squeeze",
         "select", "flip"]
KINDS = ["view", "unary", "binary", "reduce"]


def _view(x, which, p, q):
    """Apply view number ``which`` with integer parameters p, q (resolved against x's shape)."""
    shape, nd = tuple(x.shape), x.dim()
    name = VIEWS[which % len(VIEWS)]
    big = [d for d in range(nd) if shape[d] > 1]
    if name == "transpose" and nd >= 2:
        return x.transpose(p % nd, q % nd)
    if name == "permute" and nd >= 2:
        order = list(range(nd))
        order = order[p % nd:] + order[:p % nd]
        return x.permute(*(order[::-1] if q % 2 else order))
    if name == "slice" and big:
        d = big[p % len(big)]
        start, step = q % 2, 1 + (p // 7) % 2
        return x[(slice(None),) * d + (slice(start, None, step),)]
    if name == "expand":
        ones = [d for d in range(nd) if shape[d] == 1]
        if ones and q % 2:
            new = list(shape)
            new[ones[p % len(ones)]] = 2 + p % 2
            return x.expand(*new)
        if x.numel() * 2 <= MAX_NUMEL:
            return x.expand(2, *shape)
    if name == "reshape":
        return x.reshape([(-1,), shape[::-1], (1, x.numel())][p % 3])
    if name == "view":
        return x.contiguous().view(*shape[::-1]) if nd else x.view(1, 1)
    if name == "unsqueeze":
        return x.unsqueeze(p % (nd + 1) - (nd + 1) * (q % 2))
    if name == "squeeze":
        return x.squeeze(p % nd) if nd and q % 2 else x.squeeze()
    if name == "select" and nd:
        d = p % nd
        return x.select(d, q % shape[d]) if shape[d] else x
    if name == "flip" and nd:
        return x.flip(p % nd)
    return x.unsqueeze(0)  # the chosen view does not apply to this shape


def run_program(lib, leaves_np, steps, weight_seed):
    """Interpret the program in ``lib``; returns (intermediate values, leaf grads)."""
    leaves = [lib.from_numpy(a.copy()).requires_grad_(True) for a in leaves_np]
    vals = list(leaves)
    for kind, op, a, b, p, q in steps:
        x = vals[a % len(vals)]
        kind = KINDS[kind % len(KINDS)]
        if kind == "view":
            y = _view(x, op, p, q)
        elif kind == "unary":
            y = UNARY[op % len(UNARY)][1](lib, x)
        elif kind == "binary":
            other = vals[b % len(vals)]
            try:
                out = np.broadcast_shapes(tuple(x.shape), tuple(other.shape))
            except ValueError:
                out = None
            if out is None or math.prod(out) > MAX_NUMEL:
                other = other.sum()  # 0-d: always broadcasts
            y = BINARY[op % len(BINARY)][1](x, other)
        else:
            nd = x.dim()
            d = None if p % 4 == 0 else (p % max(nd, 1)) - max(nd, 1) * (q % 2)
            y = REDUCE[op % len(REDUCE)][1](x, d, bool(q // 2 % 2))
        vals.append(y)
    last = vals[-1]
    w = np.random.default_rng(weight_seed).uniform(0.5, 1.5, tuple(last.shape))
    (last * lib.from_numpy(w)).sum().backward()
    values = [v.detach().numpy().copy() for v in vals[len(leaves):]]
    grads = [None if t.grad is None else t.grad.numpy().copy() for t in leaves]
    return values, grads


@st.composite
def programs(draw):
    base = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))
    n_leaves = draw(st.integers(1, 3))
    shapes = []
    for _ in range(n_leaves):
        k = len(base) if draw(st.booleans()) else draw(st.integers(0, len(base)))
        suffix = base[len(base) - k:]
        shapes.append(tuple(1 if draw(st.booleans()) and draw(st.booleans()) else s
                            for s in suffix))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    leaves = [rng.uniform(-2, 2, s) for s in shapes]
    step = st.tuples(*[st.integers(0, 63)] * 6)
    steps = draw(st.lists(step, min_size=1, max_size=7))
    return leaves, steps, seed


def check_program(prog):
    leaves, steps, seed = prog
    for kind in sorted({KINDS[s[0] % len(KINDS)] for s in steps}):
        event(f"has a {kind} step")       # shown by --hypothesis-show-statistics
    if any(a.ndim == 0 for a in leaves):
        event("has a 0-d leaf")
    if any(1 in a.shape for a in leaves):
        event("has a size-1 dim")
    tv, tg = run_program(torch, leaves, steps, seed)
    nv, ng = run_program(nt, leaves, steps, seed)
    for i, (a, b) in enumerate(zip(nv, tv)):
        assert a.shape == b.shape, f"step {i}: shape {a.shape} != torch {b.shape}"
        assert a.dtype == b.dtype, f"step {i}: dtype {a.dtype} != torch {b.dtype}"
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=f"value of step {i}")
    for i, (a, b) in enumerate(zip(ng, tg)):
        assert (a is None) == (b is None), f"leaf {i}: grad None-ness differs"
        if a is not None:
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9, err_msg=f"grad of leaf {i}")


_COMMON = dict(derandomize=True, deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=500, **_COMMON)
@given(programs())
def test_random_graphs_match_torch(prog):
    check_program(prog)


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("NUMTORCH_GRAPH_EXAMPLES", "20000")), **_COMMON)
@given(programs())
def test_random_graphs_match_torch_long(prog):
    check_program(prog)
