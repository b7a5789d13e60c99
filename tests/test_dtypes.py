"""dtype objects, aliases, promotion tables, default dtype and casts, compared with PyTorch."""

import itertools
import pickle

import numpy as np
import pytest
import torch

import numtorch as nt

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _name(d):
    return str(d).split(".")[-1]


@pytest.mark.parametrize("name", NAMES)
def test_dtype_attributes(name):
    ours, ref = getattr(nt, name), getattr(torch, name)
    assert repr(ours) == repr(ref).replace("torch.", "numtorch.")
    assert str(ours) == str(ref).replace("torch.", "numtorch.")
    for attr in ("is_floating_point", "is_signed", "is_complex", "itemsize"):
        assert getattr(ours, attr) == getattr(ref, attr), attr
    assert pickle.loads(pickle.dumps(ours)) is ours
    assert {ours: 1}[getattr(nt, name)] == 1


@pytest.mark.parametrize(
    "alias,target",
    [
        ("float", "float32"),
        ("double", "float64"),
        ("half", "float16"),
        ("long", "int64"),
        ("int", "int32"),
        ("short", "int16"),
        ("bool", "bool"),
    ],
)
def test_aliases(alias, target):
    assert getattr(nt, alias) is getattr(nt, target)
    assert getattr(torch, alias) is getattr(torch, target)


def test_promote_types_table():
    for a, b in itertools.product(NAMES, NAMES):
        ours = nt.promote_types(getattr(nt, a), getattr(nt, b))
        assert _name(ours) == _name(torch.promote_types(getattr(torch, a), getattr(torch, b))), (
            a,
            b,
        )


def _operand(lib, kind, name):
    if kind == "scalar":
        return {"bool": True, "int": 2, "float": 1.5}[name]
    a = np.ones(3 if kind == "dim" else ()).astype(name)
    return lib.tensor(a)


def test_result_type_table():
    kinds = (
        [("dim", n) for n in NAMES]
        + [("0d", n) for n in NAMES]
        + [("scalar", s) for s in ("bool", "int", "float")]
    )
    bad = []
    for x, y in itertools.product(kinds, kinds):
        if x[0] == "scalar" and y[0] == "scalar":
            continue
        ours = nt.result_type(_operand(nt, *x), _operand(nt, *y))
        ref = torch.result_type(_operand(torch, *x), _operand(torch, *y))
        if _name(ours) != _name(ref):
            bad.append((x, y, _name(ours), _name(ref)))
    assert not bad, bad[:10]


def test_default_dtype():
    assert nt.get_default_dtype() is nt.float32
    try:
        for lib in (nt, torch):
            lib.set_default_dtype(lib.float64)
        for fn in (
            lambda lib: lib.tensor([1.5]),
            lambda lib: lib.zeros(2),
            lambda lib: lib.arange(0.5, 2),
            lambda lib: lib.tensor([1, 2]) / 2,
            lambda lib: lib.tensor([1, 2]).exp(),
            lambda lib: lib.tensor([1]) * 1.5,
            lambda lib: lib.rand(2),
            lambda lib: lib.linspace(0, 1, 3),
            lambda lib: lib.full((2,), 1.5),
            lambda lib: lib.tensor([True]).sigmoid(),
        ):
            assert _name(fn(nt).dtype) == _name(fn(torch).dtype)
        assert repr(nt.tensor([1.5])) == "tensor([1.5000])"
        assert (
            repr(nt.tensor([1.5], dtype=nt.float32)) == "tensor([1.5000], dtype=numtorch.float32)"
        )
    finally:
        nt.set_default_dtype(nt.float32)
        torch.set_default_dtype(torch.float32)
    for lib in (nt, torch):
        with pytest.raises(TypeError):
            lib.set_default_dtype(lib.int64)


CAST_VALUES = [-2.7, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5, 3.7, 100.0]


@pytest.mark.parametrize("src", NAMES)
@pytest.mark.parametrize("dst", NAMES)
def test_casts(src, dst):
    vals = np.array(CAST_VALUES)
    if src in ("uint8", "bool"):
        vals = np.abs(vals)  # negative float -> unsigned is undefined behaviour in C
    a = vals.astype(src)
    if dst == "uint8" or (src == "float16" and dst == "int8"):
        a = a[a >= 0]
    ours = nt.tensor(a).to(getattr(nt, dst))
    ref = torch.tensor(a).to(getattr(torch, dst))
    assert _name(ours.dtype) == dst and ours.tolist() == ref.tolist()
    method = {
        "float32": "float",
        "float64": "double",
        "float16": "half",
        "int64": "long",
        "int32": "int",
        "int16": "short",
        "int8": "char",
        "uint8": "byte",
        "bool": "bool",
    }[dst]
    assert getattr(nt.tensor(a), method)().tolist() == getattr(torch.tensor(a), method)().tolist()


def test_as_dtype_spellings():
    from numtorch.backend.dtypes import as_dtype

    assert as_dtype(float) is nt.float64 and as_dtype(int) is nt.int64 and as_dtype(bool) is nt.bool
    assert as_dtype(np.float32) is nt.float32 and as_dtype("float64") is nt.float64
    assert as_dtype(np.dtype("int16")) is nt.int16
    with pytest.raises(TypeError):
        as_dtype("complex128")
    with pytest.raises(TypeError):
        nt.tensor(np.array([1 + 2j]))


def test_can_cast_table():
    """The rule in-place ops and ``out=`` follow is torch.can_cast's, not NumPy's "same_kind"."""
    from numtorch.ops._common import can_cast

    for a, b in itertools.product(NAMES, NAMES):
        ours = can_cast(getattr(nt, a).np, getattr(nt, b).np)
        assert ours == torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)
