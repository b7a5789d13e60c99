"""Oracle tests of reductions, scans and sorts: values, dtypes, shapes and gradients vs torch."""

import math

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import Case, check_case, gradcheck_case, register


def _shapes(name, fn, shape=(3, 4), zero_d=True, **kw):
    """One reduction on a matrix, a transposed view and (where the dims allow) a 0-d tensor."""
    out = [
        Case(name, fn, shapes=[shape], **kw),
        Case(f"{name}_T", lambda lib, x: fn(lib, x.mT), shapes=[shape[::-1]], **kw),
    ]
    if zero_d:
        out.append(Case(f"{name}_0d", fn, shapes=[()], **kw))
    return out


def _first(out):
    return out[0] if isinstance(out, tuple) else out


CASES = register(
    *_shapes("sum", lambda lib, x: x.sum()),
    Case("sum_0d_dim", lambda lib, x: x.sum(-1, keepdim=True), shapes=[()]),
    *_shapes("sum_dim", lambda lib, x: x.sum(-1)),
    *_shapes("sum_fn_keepdim", lambda lib, x: lib.sum(x, 0, keepdim=True)),
    Case("sum_dims", lambda lib, x: x.sum((0, 2)), shapes=[(2, 3, 4)]),
    Case("sum_dims_keepdim", lambda lib, x: x.sum(dim=[-1, 0], keepdim=True), shapes=[(2, 3, 4)]),
    Case("sum_dtype", lambda lib, x: x.sum(1, dtype=lib.float64), shapes=[(3, 4)]),
    Case("sum_empty", lambda lib, x: x.sum(), shapes=[(0, 3)]),
    Case("sum_empty_dim", lambda lib, x: x.sum(0), shapes=[(0, 3)]),
    *_shapes("mean", lambda lib, x: x.mean()),
    *_shapes("mean_dim", lambda lib, x: lib.mean(x, 1), zero_d=False),
    Case("mean_0d_dim", lambda lib, x: x.mean(0, keepdim=True), shapes=[()]),
    Case("mean_dims_keepdim", lambda lib, x: x.mean((0, 1), keepdim=True), shapes=[(2, 3, 4)]),
    Case("mean_empty_dim", lambda lib, x: x.mean(1), shapes=[(0, 3)]),
    *_shapes("prod", lambda lib, x: x.prod()),
    *_shapes("prod_dim", lambda lib, x: lib.prod(x, 1), zero_d=False),
    Case("prod_0d_dim", lambda lib, x: x.prod(-1), shapes=[()]),
    Case("prod_keepdim", lambda lib, x: x.prod(0, keepdim=True), shapes=[(3, 4)]),
    Case(
        "prod_zeros",
        lambda lib, x: x.prod(1),
        make=lambda rng, dt: [np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 2.0], [1.5, -2.0, 0.5]], dt)],
    ),
    Case(
        "prod_zeros_all",
        lambda lib, x: x.prod(),
        make=lambda rng, dt: [np.array([[0.5, 2.0, 3.0], [0.0, 1.5, 2.0]], dt)],
    ),
    *_shapes("amax", lambda lib, x: x.amax()),
    *_shapes("amax_dim", lambda lib, x: lib.amax(x, -1)),
    Case("amax_dims", lambda lib, x: x.amax((0, 2), keepdim=True), shapes=[(2, 3, 4)]),
    *_shapes("amin_dim", lambda lib, x: x.amin(0)),
    *_shapes("max", lambda lib, x: x.max()),
    *_shapes("min", lambda lib, x: lib.min(x)),
    *_shapes("max_dim", lambda lib, x: x.max(1), zero_d=False),
    Case("max_0d_dim", lambda lib, x: x.max(0), shapes=[()]),
    *_shapes("max_dim_keepdim", lambda lib, x: lib.max(x, 0, keepdim=True)),
    *_shapes("min_dim", lambda lib, x: x.min(dim=-1)),
    Case("max_values", lambda lib, x: x.max(1).values * 2, shapes=[(3, 4)]),
    Case(
        "min_indices_keepdim",
        lambda lib, x: x.min(0, True).indices,
        shapes=[(3, 4)],
        differentiable=False,
    ),
    Case("max_binary", lambda lib, x, y: lib.max(x, y), shapes=[(3, 4), (4,)]),
    Case("min_binary", lambda lib, x, y: x.min(y), shapes=[(3, 4), (3, 1)]),
    *_shapes("var", lambda lib, x: x.var(), zero_d=False),
    Case("var_0d", lambda lib, x: x.var(correction=0), shapes=[()]),
    *_shapes("var_dim", lambda lib, x: lib.var(x, 1), zero_d=False),
    Case("var_unbiased_false", lambda lib, x: x.var(0, unbiased=False), shapes=[(3, 4)]),
    Case(
        "var_correction",
        lambda lib, x: lib.var(x, dim=(0, 2), correction=2, keepdim=True),
        shapes=[(2, 3, 4)],
    ),
    Case("var_correction0", lambda lib, x: x.var(correction=0), shapes=[(3, 4)]),
    *_shapes("std", lambda lib, x: x.std(), zero_d=False),
    *_shapes("std_dim_keepdim", lambda lib, x: lib.std(x, -1, keepdim=True), zero_d=False),
    Case("std_unbiased_false", lambda lib, x: x.std(1, False), shapes=[(3, 4)]),
    Case("std_dims", lambda lib, x: lib.std(x, (0, 1), correction=0), shapes=[(2, 3, 4)]),
    Case("var_mean", lambda lib, x: lib.var_mean(x, 1), shapes=[(3, 4)]),
    Case("std_mean", lambda lib, x: lib.std_mean(x, 0, keepdim=True)[1] * 3, shapes=[(3, 4)]),
    *_shapes("logsumexp", lambda lib, x: x.logsumexp(1), zero_d=False),
    Case("logsumexp_0d", lambda lib, x: x.logsumexp(0), shapes=[()]),
    *_shapes("logsumexp_keepdim", lambda lib, x: lib.logsumexp(x, 0, keepdim=True)),
    Case("logsumexp_dims", lambda lib, x: x.logsumexp((0, 2)), shapes=[(2, 3, 4)]),
    Case("logsumexp_large", lambda lib, x: (x * 1000).logsumexp(1), shapes=[(3, 4)]),
    *_shapes("norm", lambda lib, x: x.norm()),
    *_shapes("norm_dim", lambda lib, x: lib.norm(x, dim=1), zero_d=False),
    Case("norm_p1", lambda lib, x: x.norm(1), shapes=[(3, 4)]),
    Case("norm_p3_keepdim", lambda lib, x: x.norm(3, dim=0, keepdim=True), shapes=[(3, 4)]),
    Case("norm_p0_5", lambda lib, x: lib.norm(x, 0.5, dim=-1), shapes=[(3, 4)]),
    Case("norm_inf", lambda lib, x: x.norm(float("inf"), dim=1), shapes=[(3, 4)]),
    Case("norm_neg_inf", lambda lib, x: x.norm(-math.inf), shapes=[(3, 4)]),
    Case("norm_fro_dims", lambda lib, x: x.norm("fro", dim=(0, 1)), shapes=[(2, 3, 4)]),
    *_shapes("cumsum", lambda lib, x: x.cumsum(1), zero_d=False),
    *_shapes("cumsum_fn", lambda lib, x: lib.cumsum(x, dim=0)),
    Case("cumsum_dtype", lambda lib, x: x.cumsum(-1, dtype=lib.float64), shapes=[(3, 4)]),
    *_shapes("cumprod", lambda lib, x: x.cumprod(1), zero_d=False),
    Case("cumprod_0d", lambda lib, x: x.cumprod(0), shapes=[()]),
    Case(
        "cumprod_zeros",
        lambda lib, x: lib.cumprod(x, 1),
        make=lambda rng, dt: [
            np.array([[0.0, 2.0, 3.0, 1.5], [1.5, 0.0, 0.0, 2.0], [1.5, -2.0, 0.5, 0.0]], dt)
        ],
    ),
    *_shapes("sort", lambda lib, x: x.sort()),
    *_shapes("sort_desc", lambda lib, x: lib.sort(x, 0, descending=True)),
    Case("sort_values", lambda lib, x: x.sort(dim=1).values * x, shapes=[(3, 4)]),
    *_shapes("topk", lambda lib, x: x.topk(2), zero_d=False),
    Case("topk_0d", lambda lib, x: x.topk(1), shapes=[()]),
    Case("topk_smallest", lambda lib, x: lib.topk(x, 3, dim=0, largest=False), shapes=[(4, 5)]),
    Case("topk_k0", lambda lib, x: x.topk(0, 1), shapes=[(3, 4)]),
    Case("topk_full", lambda lib, x: x.topk(4).values.sum(-1), shapes=[(3, 4)]),
    Case("median", lambda lib, x: x.median(), shapes=[(3, 5)]),
    Case("median_dim", lambda lib, x: x.median(1), shapes=[(3, 5)]),
    Case("nansum", lambda lib, x: lib.nansum(x, 1), shapes=[(3, 4)]),
)


def _ties(rng, dt):
    return [np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 0.0, -1.0, 0.5]], dt)]


# Ties and kinks, exactly at them: torch's gradient conventions (no gradcheck here).
KINKS = register(
    Case("max_all_ties", lambda lib, x: x.max(), make=_ties),
    Case("min_all_ties", lambda lib, x: x.min(), make=_ties),
    Case("amax_ties", lambda lib, x: x.amax(1), make=_ties),
    Case("amin_ties_dims", lambda lib, x: x.amin((0, 1)), make=_ties),
    Case("max_dim_ties", lambda lib, x: x.max(1), make=_ties),
    Case("min_dim_ties", lambda lib, x: x.min(0), make=_ties),
    Case("argmax_ties", lambda lib, x: x.argmax(1), make=_ties, differentiable=False),
    Case("argmin_ties_flat", lambda lib, x: lib.argmin(x), make=_ties, differentiable=False),
    Case("sort_ties_stable", lambda lib, x: x.sort(dim=1, stable=True), make=_ties),
    Case(
        "sort_desc_ties_stable",
        lambda lib, x: x.sort(dim=1, descending=True, stable=True),
        make=_ties,
    ),
    Case(
        "norm_at_zero",
        lambda lib, x: x.norm(dim=1),
        make=lambda rng, dt: [np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 4.0]], dt)],
    ),
    Case(
        "norm_p1_at_zero",
        lambda lib, x: x.norm(1),
        make=lambda rng, dt: [np.array([[0.0, 1.0, -2.0]], dt)],
    ),
    Case(
        "norm_inf_ties",
        lambda lib, x: x.norm(float("inf")),
        make=lambda rng, dt: [np.array([[1.0, -3.0, 3.0]], dt)],
    ),
    Case(
        "std_constant",
        lambda lib, x: x.std(1),
        make=lambda rng, dt: [np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]], dt)],
    ),
    Case("var_single", lambda lib, x: x.var(1), make=lambda rng, dt: [np.ones((2, 1), dt)]),
    Case(
        "logsumexp_neg_inf",
        lambda lib, x: x.logsumexp(1),
        make=lambda rng, dt: [np.array([[-np.inf, -np.inf], [0.0, -np.inf]], dt)],
    ),
    Case(
        "logsumexp_inf",
        lambda lib, x: x.logsumexp(1),
        make=lambda rng, dt: [np.array([[np.inf, 1.0], [np.inf, np.inf]], dt)],
    ),
    Case("mean_empty", lambda lib, x: x.mean(), shapes=[(0,)]),
    Case("prod_empty", lambda lib, x: x.prod(), shapes=[(0, 2)]),
    Case(
        "max_nan",
        lambda lib, x: x.max(1),
        make=lambda rng, dt: [np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 0.0]], dt)],
    ),
    Case(
        "amax_nan",
        lambda lib, x: x.amax(1),
        make=lambda rng, dt: [np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 0.0]], dt)],
    ),
    Case(
        "sort_nan",
        lambda lib, x: x.sort(1),
        make=lambda rng, dt: [np.array([[1.0, np.nan, -3.0], [1.0, 2.0, 0.0]], dt)],
    ),
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES + KINKS, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


# ---- integer and bool inputs -------------------------------------------------------------------
INT_OPS = [
    ("sum", lambda lib, x: x.sum()),
    ("sum_dim", lambda lib, x: x.sum(0)),
    ("sum_float", lambda lib, x: x.sum(dtype=lib.float32)),
    ("prod", lambda lib, x: x.prod(1)),
    ("cumsum", lambda lib, x: x.cumsum(1)),
    ("cumprod", lambda lib, x: x.cumprod(0)),
    ("amax", lambda lib, x: x.amax(1)),
    ("max", lambda lib, x: x.max()),
    ("max_dim", lambda lib, x: x.max(1)[0]),
    ("max_dim_idx", lambda lib, x: x.max(1)[1]),
    ("min_dim", lambda lib, x: x.min(0).values),
    ("argmax", lambda lib, x: x.argmax()),
    ("argmin_dim", lambda lib, x: x.argmin(1, keepdim=True)),
    ("all", lambda lib, x: x.all()),
    ("any_dim", lambda lib, x: x.any(1)),
    ("all_dim_keepdim", lambda lib, x: lib.all(x, 0, True)),
    ("sort", lambda lib, x: x.sort(dim=1, stable=True)[0]),
    ("argsort", lambda lib, x: x.argsort(dim=1, stable=True)),
    ("sort_desc", lambda lib, x: x.sort(dim=0, descending=True, stable=True)[1]),
    ("topk", lambda lib, x: x.topk(2)[0]),
    ("mean", lambda lib, x: x.mean()),
    ("mean_dtype", lambda lib, x: x.mean(dtype=lib.float64)),
    ("var", lambda lib, x: x.var()),
    ("logsumexp", lambda lib, x: x.logsumexp(1)),
    ("norm", lambda lib, x: x.norm()),
    ("count_nonzero", lambda lib, x: lib.count_nonzero(x, 1)),
]


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name,fn", INT_OPS, ids=[n for n, _ in INT_OPS])
def test_integer_inputs(name, fn, dtype):
    a = np.array([[3, 0, 2, 2], [5, 1, 0, 7], [1, 1, 4, 0]]).astype(dtype)
    outs = []
    for lib in (nt, torch):
        try:
            r = fn(lib, lib.tensor(a))
            outs.append((str(r.dtype).split(".")[-1], r.numpy()))
        except Exception as e:  # the exception class is part of the contract
            outs.append((type(e).__name__, None))
    (d1, v1), (d2, v2) = outs
    assert d1 == d2, f"{name} on {dtype}: numtorch {d1} vs torch {d2}"
    if v1 is not None:
        np.testing.assert_allclose(v1, v2, rtol=1e-6)


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.all(),
        lambda lib, x: x.any(1),
        lambda lib, x: lib.any(x, 0, keepdim=True),
        lambda lib, x: x.all(dim=(0, 1)),
        lambda lib, x: x.argmax(0),
        lambda lib, x: lib.argmin(x, 1),
        lambda lib, x: x.argmax(),
    ],
)
def test_float_logical_and_arg_reductions(fn):
    a = np.array([[0.0, 1.5, np.nan], [0.0, 0.0, -2.0]])
    ours, ref = fn(nt, nt.tensor(a)), fn(torch, torch.tensor(a))
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    assert ours.shape == tuple(ref.shape)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_sum_and_mean_of_empty_and_0d():
    for lib in (nt, torch):
        assert lib.zeros(0).sum().item() == 0.0
        assert math.isnan(lib.zeros(0, 3).mean().item())
        assert lib.tensor(2.5).sum(0).item() == 2.5
        assert lib.tensor(2.5).max(0)[1].item() == 0
        assert lib.zeros(0, 3).sum(0).shape == (3,)


def _raises_like_torch(fn):
    """Run ``fn(lib)`` in both libraries; both must raise the same exception class."""
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(type(ref.value)) as ours:
        fn(nt)
    return str(ours.value)


def test_bad_inputs():
    msg = _raises_like_torch(lambda lib: lib.ones(2, 3).sum(2))
    assert msg == "Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    assert "[-2, 1]" in _raises_like_torch(lambda lib: lib.ones(2, 3).mean(-3))
    assert "[-1, 0]" in _raises_like_torch(lambda lib: lib.tensor(1.0).sum(1))
    assert "Long" in _raises_like_torch(lambda lib: lib.tensor([1, 2]).mean())
    assert "multiple times" in _raises_like_torch(lambda lib: lib.ones(2, 3).sum((1, 1)))
    assert "multiple times" in _raises_like_torch(lambda lib: lib.ones(2, 3).sum((1, -1)))
    _raises_like_torch(lambda lib: lib.ones(2, 3).max(2))
    _raises_like_torch(lambda lib: lib.ones(2, 3).amax(5))
    assert "numel() == 0" in _raises_like_torch(lambda lib: lib.zeros(0).max())
    _raises_like_torch(lambda lib: lib.zeros(0).amax())
    _raises_like_torch(lambda lib: lib.zeros(2, 0).max(1))
    _raises_like_torch(lambda lib: lib.zeros(0).argmax())
    assert "k" in _raises_like_torch(lambda lib: lib.ones(2, 3).topk(4))
    _raises_like_torch(lambda lib: lib.ones(2, 3).cumsum(2))
    _raises_like_torch(lambda lib: lib.ones(2, 3).sort(3))
    _raises_like_torch(lambda lib: lib.ones(2, 3).prod((0, 1)))
    _raises_like_torch(lambda lib: lib.ones(2, 3).logsumexp(2))
    _raises_like_torch(lambda lib: lib.ones(2, 3).var(2))
