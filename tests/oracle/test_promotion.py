"""PyTorch's type promotion for every binary op and in-place op, over every pair of dtypes and
operand kinds (dimensioned tensor, 0-d tensor, Python scalar), compared value by value."""

import itertools
import operator

import numpy as np
import pytest
import torch

import numtorch as nt

# ---- type promotion: every binary op over every pair of operand kinds --------------------------
DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]
OPERANDS = (
    [("dim", d) for d in DTYPES]
    + [("0d", d) for d in DTYPES]
    + [("scalar", s) for s in ("bool", "int", "float")]
)
PAIRS = [
    (a, b)
    for a, b in itertools.product(OPERANDS, OPERANDS)
    if not (a[0] == "scalar" and b[0] == "scalar")
]


def _operand(lib, kind, dt, which):
    if kind == "scalar":
        return {"bool": True, "int": -3 if which else 3, "float": 2.5}[dt]
    base = np.array([1, 2, 3]) if which == 0 else np.array([2, 1, 3])
    if dt in ("int32", "int64", "float16", "float32", "float64") and which:
        base = np.array([-2, 1, 3])
    a = base.astype(dt) if kind == "dim" else np.array(2 if which == 0 else -3).astype(dt)
    return lib.tensor(a)


BINOPS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "and": operator.and_,
    "or": operator.or_,
    "xor": operator.xor,
    "maximum": lambda a, b: _lib(a, b).maximum(a, b),
    "minimum": lambda a, b: _lib(a, b).minimum(a, b),
    "where": lambda a, b: _lib(a, b).where(_lib(a, b).tensor([True, False, True]), a, b),
    "result_type": lambda a, b: _lib(a, b).result_type(a, b),
}


def _lib(a, b):
    return torch if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor) else nt


def _outcome(op, lib, pair):
    (ka, da), (kb, db) = pair
    try:
        r = op(_operand(lib, ka, da, 0), _operand(lib, kb, db, 1))
    except Exception as e:  # the exception class is part of the contract
        return type(e).__name__, None
    if not hasattr(r, "dtype"):  # result_type returns a dtype
        return str(r).split(".")[-1], None
    return str(r.dtype).split(".")[-1], np.asarray(r.tolist(), dtype=np.float64)


@pytest.mark.parametrize("opname", list(BINOPS))
def test_promotion(opname):
    """Result dtype (and value) of ``op`` for all dtype/operand-kind pairs matches torch."""
    if opname in ("maximum", "minimum"):
        pairs = [p for p in PAIRS if p[0][0] != "scalar" and p[1][0] != "scalar"]
    else:
        pairs = PAIRS
    bad = []
    for pair in pairs:
        (dt_ref, v_ref), (dt_our, v_our) = (
            _outcome(BINOPS[opname], lib, pair) for lib in (torch, nt)
        )
        if dt_ref != dt_our or (
            v_ref is not None and not np.allclose(v_our, v_ref, rtol=1e-3, equal_nan=True)
        ):
            bad.append(f"{pair}: torch {dt_ref} {v_ref}, numtorch {dt_our} {v_our}")
    assert not bad, f"{len(bad)} mismatches, e.g.\n" + "\n".join(bad[:10])


# ---- in-place ops ----------------------------------------------------------------------------
INPLACE_OPS = {
    "add_": lambda t, o: t.add_(o),
    "sub_": lambda t, o: t.sub_(o),
    "mul_": lambda t, o: t.mul_(o),
    "div_": lambda t, o: t.div_(o),
    "pow_": lambda t, o: t.pow_(o),
    "iadd": operator.iadd,
    "isub": operator.isub,
    "imul": operator.imul,
    "itruediv": operator.itruediv,
    "ipow": operator.ipow,
    "imod": operator.imod,
    "ifloordiv": operator.ifloordiv,
    "iand": operator.iand,
    "ior": operator.ior,
}
IN_DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
IN_OTHERS = [("dim", d) for d in IN_DTYPES] + [("scalar", s) for s in ("bool", "int", "float")]


@pytest.mark.parametrize(
    "opname",
    [
        n for n in INPLACE_OPS
    ],
)
def test_inplace_promotion(opname):
    """In-place ops keep self's dtype, or raise torch's error when the result can't be cast."""
    bad = []
    for self_dt, other in itertools.product(IN_DTYPES, IN_OTHERS):
        res = []
        for lib in (torch, nt):
            t = _operand(lib, "dim", self_dt, 0)
            o = _operand(lib, other[0], other[1], 1)
            ptr = t.data_ptr()
            try:
                r = INPLACE_OPS[opname](t, o)
                assert r is t and t.data_ptr() == ptr
                res.append((str(t.dtype).split(".")[-1], np.asarray(t.tolist(), np.float64)))
            except AssertionError:
                raise
            except Exception as e:
                res.append((type(e).__name__, None))
        (d1, v1), (d2, v2) = res
        if d1 != d2 or (v1 is not None and not np.allclose(v1, v2, rtol=1e-6, equal_nan=True)):
            bad.append(f"{self_dt} {opname} {other}: torch {d1} {v1}, numtorch {d2} {v2}")
    assert not bad, f"{len(bad)} mismatches, e.g.\n" + "\n".join(bad[:10])


def test_inplace_version_and_grad_errors():
    x = nt.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x *= 2
    with nt.no_grad():
        x.mul_(3)  # allowed under no_grad
    assert x.requires_grad and x.is_leaf and float(x.sum()) == 18.0
    y = x * 1
    v = y._version
    y += 1
    assert y._version == v + 1
    s = x.exp()  # saves its output; changing it must break backward as in torch
    s.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()
