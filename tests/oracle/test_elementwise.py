"""Oracle tests of the elementwise unary ops: values, dtypes, shapes and gradients vs PyTorch."""

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import Case, check_case, gradcheck_case, register

POS = (0.5, 2.0)


def _variants(name, fn, domain="normal"):
    """One op on a matrix, a 0-d tensor, an empty tensor and a transposed (non-contiguous) view."""
    return [
        Case(f"{name}", fn, shapes=[(3, 4)], domain=domain),
        Case(f"{name}_0d", fn, shapes=[()], domain=domain),
        Case(f"{name}_empty", fn, shapes=[(0, 3)], domain=domain),
        Case(f"{name}_T", lambda lib, x: fn(lib, x.t()), shapes=[(4, 3)], domain=domain),
    ]


UNARY = [
    ("neg", lambda lib, x: -x, "normal"),
    ("neg_fn", lambda lib, x: lib.neg(x), "normal"),
    ("abs", lambda lib, x: x.abs(), "normal"),
    ("abs_fn", lambda lib, x: lib.abs(x), "normal"),
    ("exp", lambda lib, x: x.exp(), "normal"),
    ("expm1", lambda lib, x: lib.expm1(x), "normal"),
    ("log", lambda lib, x: x.log(), POS),
    ("log2", lambda lib, x: lib.log2(x), POS),
    ("log10", lambda lib, x: x.log10(), POS),
    ("log1p", lambda lib, x: lib.log1p(x), (-0.5, 2.0)),
    ("sqrt", lambda lib, x: x.sqrt(), POS),
    ("rsqrt", lambda lib, x: lib.rsqrt(x), POS),
    ("reciprocal", lambda lib, x: x.reciprocal(), POS),
    ("sin", lambda lib, x: lib.sin(x), "normal"),
    ("cos", lambda lib, x: x.cos(), "normal"),
    ("tanh", lambda lib, x: lib.tanh(x), "normal"),
    ("sigmoid", lambda lib, x: x.sigmoid(), "normal"),
    ("sigmoid_wide", lambda lib, x: lib.sigmoid(x * 30), "normal"),
    ("relu", lambda lib, x: x.relu(), "normal"),
    ("relu_fn", lambda lib, x: lib.relu(x), "normal"),
    ("square", lambda lib, x: x.square(), "normal"),
    ("frac", lambda lib, x: (x * 3).frac(), "normal"),
    ("floor", lambda lib, x: (x * 3).floor() + x, "normal"),
    ("ceil", lambda lib, x: lib.ceil(x * 3) * x, "normal"),
    ("round", lambda lib, x: (x * 3).round() * x, "normal"),
    ("round_decimals", lambda lib, x: lib.round(x * 3, decimals=1), "normal"),
    ("trunc", lambda lib, x: lib.trunc(x * 3) + x, "normal"),
    ("sign", lambda lib, x: x.sign() * x, "normal"),
    ("clamp", lambda lib, x: x.clamp(-0.5, 0.7), "normal"),
    ("clamp_min", lambda lib, x: lib.clamp(x, min=-0.3), "normal"),
    ("clamp_max", lambda lib, x: x.clamp(max=0.4), "normal"),
    ("clip", lambda lib, x: lib.clip(x, -0.5, 0.5), "normal"),
    ("to_double", lambda lib, x: x.double() * 2, "normal"),
    ("to_dtype", lambda lib, x: x.to(lib.float64).sin(), "normal"),
    ("clone", lambda lib, x: x.clone() * x, "normal"),
]

CASES = register(
    *[c for name, fn, dom in UNARY for c in _variants(name, fn, dom)],
    Case("contiguous_T", lambda lib, x: x.t().contiguous() * x.t(), shapes=[(3, 4)]),
    Case("contiguous_T_empty", lambda lib, x: x.t().contiguous(), shapes=[(0, 3)]),
)

# Casting down to float32 loses precision, so these are not gradchecked in float64.
LOSSY = register(*_variants("to_float", lambda lib, x: x.float().exp()))

CLAMP_TENSOR = register(
    Case("clamp_tensor_min", lambda lib, x, lo: lib.clamp(x, min=lo), shapes=[(3, 4), (3, 4)]),
    Case("clamp_tensor_max_bcast", lambda lib, x, hi: x.clamp(max=hi), shapes=[(3, 4), (4,)]),
    Case(
        "clamp_tensor_both",
        lambda lib, x, lo, hi: x.clamp(lo, hi),
        make=lambda rng, dt: [
            rng.standard_normal((3, 4)).astype(dt),
            rng.uniform(-1, -0.3, (3, 1)).astype(dt),
            rng.uniform(0.3, 1, (1, 4)).astype(dt),
        ],
    ),
    Case("clip_tensor_0d", lambda lib, x, lo: lib.clip(x, lo), shapes=[(3, 4), ()]),
)


def _kinks(rng, dt):
    return [np.array([[-1.0, 0.0, 0.5], [1.0, 2.0, -0.0]], dtype=dt)]


# Points exactly at kinks: gradients must follow torch's conventions (no gradcheck there).
KINKS = register(
    Case("abs_at_0", lambda lib, x: x.abs(), make=_kinks),
    Case("relu_at_0", lambda lib, x: x.relu(), make=_kinks),
    Case("clamp_at_bounds", lambda lib, x: x.clamp(0.0, 1.0), make=_kinks),
    Case(
        "clamp_tensor_at_bounds",
        lambda lib, x, lo: x.clamp(min=lo),
        make=lambda rng, dt: [_kinks(rng, dt)[0], np.zeros((2, 3), dt)],
    ),
    Case(
        "clamp_tensor_both_at_bounds",
        lambda lib, x, lo, hi: x.clamp(lo, hi),
        make=lambda rng, dt: [_kinks(rng, dt)[0], np.zeros((2, 3), dt), np.ones((2, 3), dt)],
    ),
    Case("sign_at_0", lambda lib, x: x.sign() + x, make=_kinks),
    Case("sqrt_at_0", lambda lib, x: x.sqrt(), make=lambda rng, dt: [np.array([0.0, 1.0], dt)]),
    Case("log_at_0", lambda lib, x: x.log(), make=lambda rng, dt: [np.array([0.0, 1.0], dt)]),
    Case(
        "sigmoid_extreme",
        lambda lib, x: x.sigmoid(),
        make=lambda rng, dt: [np.array([-100.0, -30.0, 0.0, 30.0, 100.0], dt)],
    ),
    Case(
        "exp_overflow",
        lambda lib, x: x.exp(),
        make=lambda rng, dt: [np.array([-1000.0, 0.0, 1000.0], dt)],
    ),
    Case(
        "round_half_even",
        lambda lib, x: x.round() + x,
        make=lambda rng, dt: [np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], dt)],
    ),
)

_INTS = [np.array([[-3, 0, 2], [5, 1, -1]], dtype=np.int64)]

# Integer and bool inputs: float ops compute in the default dtype; others keep the dtype.
INT_INPUT = [
    ("exp", lambda lib, x: x.exp()),
    ("log_abs", lambda lib, x: (x.abs() + 1).log()),
    ("sqrt", lambda lib, x: x.abs().sqrt()),
    ("sin", lambda lib, x: lib.sin(x)),
    ("sigmoid", lambda lib, x: x.sigmoid()),
    ("tanh", lambda lib, x: x.tanh()),
    ("reciprocal", lambda lib, x: (x.abs() + 1).reciprocal()),
    ("rsqrt", lambda lib, x: (x.abs() + 1).rsqrt()),
    ("expm1", lambda lib, x: lib.expm1(x)),
    ("log2", lambda lib, x: (x.abs() + 1).log2()),
    ("log1p", lambda lib, x: x.abs().log1p()),
    ("cos", lambda lib, x: x.cos()),
    ("neg", lambda lib, x: -x),
    ("abs", lambda lib, x: x.abs()),
    ("relu", lambda lib, x: x.relu()),
    ("square", lambda lib, x: x.square()),
    ("sign", lambda lib, x: x.sign()),
    ("floor", lambda lib, x: x.floor()),
    ("ceil", lambda lib, x: x.ceil()),
    ("round", lambda lib, x: x.round()),
    ("trunc", lambda lib, x: x.trunc()),
    ("clamp", lambda lib, x: x.clamp(-1, 2)),
    ("clamp_float_bounds", lambda lib, x: x.clamp(-0.5, 2.5)),
    ("clamp_float_tensor", lambda lib, x: x.clamp(lib.tensor([0.5, 1.5, 2.5]))),
    ("frac", lambda lib, x: (x * 0.5).frac()),
]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name,fn", INT_INPUT, ids=[n for n, _ in INT_INPUT])
def test_integer_inputs(name, fn, dtype):
    a = _INTS[0].astype(dtype) if dtype != "uint8" else np.abs(_INTS[0]).astype(dtype)
    outs = []
    for lib in (nt, torch):
        try:
            r = fn(lib, lib.tensor(a))
            outs.append((str(r.dtype).split(".")[-1], r.numpy()))
        except Exception as e:  # the same exception class as torch is part of the contract
            outs.append((type(e).__name__, None))
    (d1, v1), (d2, v2) = outs
    assert d1 == d2, f"{name} on {dtype}: numtorch {d1} vs torch {d2}"
    if v1 is not None:
        np.testing.assert_allclose(v1, v2, rtol=1e-6, atol=1e-6)


# float16 is storage-first: NumPy computes half ops in half precision (rounding each result), so
# values are compared with a half-precision tolerance.
F16 = [
    ("exp", lambda lib, x: x.exp()),
    ("log", lambda lib, x: x.abs().log()),
    ("sqrt", lambda lib, x: x.abs().sqrt()),
    ("tanh", lambda lib, x: x.tanh()),
    ("sigmoid", lambda lib, x: x.sigmoid()),
    ("relu", lambda lib, x: x.relu()),
    ("add", lambda lib, x: x + x.t()),
    ("mul_scalar", lambda lib, x: x * 2.5),
    ("div", lambda lib, x: x / (x.abs() + 1)),
    ("pow", lambda lib, x: x**2),
    ("sum", lambda lib, x: x.sum(0)),
    ("mean", lambda lib, x: x.mean(1)),
    ("clamp", lambda lib, x: x.clamp(-0.5, 0.5)),
    ("max", lambda lib, x: x.max(1).values),
    ("to_float", lambda lib, x: x.float() + 1),
    ("from_float", lambda lib, x: x.float().half()),
]


@pytest.mark.parametrize("name,fn", F16, ids=[n for n, _ in F16])
def test_float16(name, fn):
    a = np.random.default_rng(0).standard_normal((4, 4)).astype(np.float16)
    ours, ref = fn(nt, nt.tensor(a)), fn(torch, torch.tensor(a))
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_allclose(
        ours.numpy().astype(np.float64), ref.numpy().astype(np.float64), rtol=2e-3, atol=2e-3
    )


def test_float16_backward():
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float16)
    grads = []
    for lib in (nt, torch):
        x = lib.tensor(a, requires_grad=True)
        (x.tanh() * x).sum().backward()
        grads.append(x.grad)
    assert grads[0].dtype == nt.float16
    np.testing.assert_allclose(
        grads[0].numpy().astype(np.float64),
        grads[1].numpy().astype(np.float64),
        rtol=5e-3,
        atol=5e-3,
    )


def _raises_like_torch(fn):
    """Run ``fn(lib)`` in both libraries; both must raise the same exception class."""
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(type(ref.value)) as ours:
        fn(nt)
    return str(ours.value)


def test_bad_inputs():
    msg = _raises_like_torch(lambda lib: -lib.tensor([True, False]))
    assert "bool" in msg
    msg = _raises_like_torch(lambda lib: lib.clamp(lib.ones(2)))
    assert "min" in msg and "max" in msg
    _raises_like_torch(lambda lib: lib.ones(2).exp(3))
    _raises_like_torch(lambda lib: lib.exp([1.0, 2.0]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES + CLAMP_TENSOR + KINKS + LOSSY, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize(
    "case", [c for c in CASES + CLAMP_TENSOR if c.differentiable], ids=lambda c: c.name
)
def test_gradcheck(case):
    gradcheck_case(case)
