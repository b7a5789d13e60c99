"""Oracle cases for pooling, unpooling and interpolation (numtorch/ops/pool.py,
numtorch/ops/resample.py) and their layers."""
import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import Case, check_case, gradcheck_case, register


def F(lib):
    return lib.nn.functional


def ties(*shape, levels=3):
    """Small integer-valued inputs: windows full of ties (and of equal maxima)."""
    def make(rng, dtype):
        return [rng.integers(0, levels, shape).astype(dtype)]
    return make


def distinct(*shape):
    """Inputs with distinct values 0.1 apart (max pooling is smooth there: gradcheck)."""
    def make(rng, dtype):
        n = int(np.prod(shape))
        return [(rng.permutation(n).reshape(shape) * 0.1 - n * 0.05).astype(dtype)]
    return make


def normal(*shape):
    def make(rng, dtype):
        return [rng.standard_normal(shape).astype(dtype)]
    return make


def _grid(name, fn, kwargs_list, make_list):
    cases = []
    for i, kw in enumerate(kwargs_list):
        for tag, make in make_list:
            cases.append(Case(f"{name}_{i}_{tag}", (lambda kw: lambda lib, x: fn(lib, x, **kw))(kw),
                              make=make))
    return cases


# ---- max pooling ------------------------------------------------------------------------------
MAX2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=1, padding=1, dilation=2),
    dict(kernel_size=3, stride=3, ceil_mode=True, return_indices=True),
    dict(kernel_size=(2, 3), stride=1, padding=(1, 1), return_indices=True),
    dict(kernel_size=2, return_indices=True),
]
MAX1D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=1, padding=1, dilation=2, return_indices=True),
    dict(kernel_size=4, stride=3, ceil_mode=True, return_indices=True),
]
CASES = register(
    *_grid("F.max_pool2d", lambda lib, x, **kw: F(lib).max_pool2d(x, **kw), MAX2D,
           [("ties", ties(2, 3, 7, 6)), ("distinct", distinct(2, 3, 7, 6))]),
    *_grid("F.max_pool2d_unbatched", lambda lib, x, **kw: F(lib).max_pool2d(x, **kw),
           MAX2D[1::3], [("ties", ties(3, 5, 6)), ("distinct", distinct(3, 5, 6))]),
    *_grid("F.max_pool1d", lambda lib, x, **kw: F(lib).max_pool1d(x, **kw), MAX1D,
           [("ties", ties(2, 3, 9)), ("distinct", distinct(2, 3, 9))]),
    *_grid("F.max_pool1d_unbatched", lambda lib, x, **kw: F(lib).max_pool1d(x, **kw),
           MAX1D[1:3], [("distinct", distinct(3, 8))]),
    *_grid("F.max_pool3d", lambda lib, x, **kw: F(lib).max_pool3d(x, **kw),
           [dict(kernel_size=2), dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=(1, 0, 1),
                                      dilation=(1, 2, 1), ceil_mode=True, return_indices=True)],
           [("ties", ties(1, 2, 5, 4, 5)), ("distinct", distinct(1, 2, 5, 4, 5))]),
    Case("F.max_pool2d_lenet", lambda lib, x: F(lib).max_pool2d(x.relu(), 2),
         shapes=[(3, 2, 10, 10)]),
)

# ---- average pooling --------------------------------------------------------------------------
AVG2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=3, stride=3, ceil_mode=True),
    dict(kernel_size=2, stride=1, padding=1, divisor_override=3),
    dict(kernel_size=(1, 3), stride=(2, 3), ceil_mode=True, divisor_override=2),
]
CASES += register(
    *_grid("F.avg_pool2d", lambda lib, x, **kw: F(lib).avg_pool2d(x, **kw), AVG2D,
           [("r", normal(2, 3, 7, 6))]),
    *_grid("F.avg_pool2d_unbatched", lambda lib, x, **kw: F(lib).avg_pool2d(x, **kw),
           AVG2D[1::3], [("r", distinct(3, 5, 6))]),
    *_grid("F.avg_pool1d", lambda lib, x, **kw: F(lib).avg_pool1d(x, **kw),
           [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
            dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
            dict(kernel_size=4, stride=3, ceil_mode=True)], [("r", distinct(2, 3, 9))]),
    *_grid("F.avg_pool3d", lambda lib, x, **kw: F(lib).avg_pool3d(x, **kw),
           [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                      count_include_pad=False)], [("r", distinct(1, 2, 5, 4, 5))]),
)

# ---- adaptive pooling -------------------------------------------------------------------------
ADAPT2D = [(3, 4), 1, (7, 3), (None, 4), (9, 5), (2, None)]
CASES += register(
    *_grid("F.adaptive_avg_pool2d", lambda lib, x, o: F(lib).adaptive_avg_pool2d(x, o),
           [dict(o=o) for o in ADAPT2D], [("r", distinct(2, 3, 7, 6))]),
    *_grid("F.adaptive_max_pool2d", lambda lib, x, o: F(lib).adaptive_max_pool2d(x, o, True),
           [dict(o=o) for o in ADAPT2D], [("ties", ties(2, 3, 7, 6)),
                                           ("distinct", distinct(2, 3, 7, 6))]),
    *_grid("F.adaptive_avg_pool2d_unbatched", lambda lib, x, o: F(lib).adaptive_avg_pool2d(x, o),
           [dict(o=(2, 4))], [("r", distinct(3, 5, 6))]),
    *_grid("F.adaptive_max_pool2d_unbatched",
           lambda lib, x, o: F(lib).adaptive_max_pool2d(x, o, True), [dict(o=(2, 4))],
           [("distinct", distinct(3, 5, 6))]),
    *_grid("F.adaptive_avg_pool1d", lambda lib, x, o: F(lib).adaptive_avg_pool1d(x, o),
           [dict(o=o) for o in (4, 1, 3, 11)], [("r", distinct(2, 3, 9))]),
    *_grid("F.adaptive_max_pool1d", lambda lib, x, o: F(lib).adaptive_max_pool1d(x, o, True),
           [dict(o=o) for o in (4, 1, 3, 11)], [("ties", ties(2, 3, 9)),
                                                 ("distinct", distinct(2, 3, 9))]),
    *_grid("F.adaptive_avg_pool3d", lambda lib, x, o: F(lib).adaptive_avg_pool3d(x, o),
           [dict(o=(2, 3, 4)), dict(o=1)], [("r", distinct(1, 2, 5, 4, 6))]),
    *_grid("F.adaptive_max_pool3d", lambda lib, x, o: F(lib).adaptive_max_pool3d(x, o, True),
           [dict(o=(2, 3, 4)), dict(o=(5, None, 3))], [("ties", ties(1, 2, 5, 4, 6)),
                                                       ("distinct", distinct(1, 2, 5, 4, 6))]),
)


# ---- unpooling and Lp pooling ----------------------------------------------------------------
def _unpool2d(lib, x):
    y, idx = F(lib).max_pool2d(x, 2, 2, 1, return_indices=True)
    return F(lib).max_unpool2d(y * 2, idx, 2, 2, 1, output_size=x.shape)


def _unpool2d_overlap(lib, x):
    # overlapping windows share maxima: the unpooling's backward gathers one gradient per copy
    # (torch's rule), which is not the derivative of the composite: oracle only, no gradcheck
    y, idx = F(lib).max_pool2d(x, 3, 2, 1, return_indices=True)
    return F(lib).max_unpool2d(y * 2, idx, 3, 2, 1, output_size=x.shape)


def _unpool1d(lib, x):
    y, idx = F(lib).max_pool1d(x, 2, return_indices=True)
    return F(lib).max_unpool1d(y, idx, 2)


def _unpool3d(lib, x):
    y, idx = F(lib).max_pool3d(x, 2, return_indices=True)
    return F(lib).max_unpool3d(y, idx, 2)


CASES += register(
    Case("F.max_unpool2d", _unpool2d, make=distinct(2, 3, 7, 6)),
    Case("F.max_unpool2d_overlap", _unpool2d_overlap, make=distinct(2, 3, 7, 6)),
    Case("F.max_unpool1d", _unpool1d, make=distinct(2, 3, 9)),
    Case("F.max_unpool3d", _unpool3d, make=distinct(1, 2, 4, 4, 4)),
    Case("F.lp_pool2d", lambda lib, x: F(lib).lp_pool2d(x, 2, 3, 2), shapes=[(2, 3, 7, 6)],
         domain=(0.5, 2)),
    Case("F.lp_pool1d", lambda lib, x: F(lib).lp_pool1d(x, 3, 2, ceil_mode=True),
         shapes=[(2, 3, 7)], domain=(0.5, 2)),
)


# ---- NaN, -inf and integer inputs ------------------------------------------------------------
def with_nan(*shape):
    """Ties plus NaNs (several per window): torch keeps the last NaN of a window."""
    def make(rng, dtype):
        a = rng.integers(0, 3, shape).astype(dtype)
        a[rng.random(shape) < 0.25] = np.nan
        return [a]
    return make


def neg_inf(*shape):
    """Windows of -inf only: the index is the first in-bounds position, also under padding."""
    def make(rng, dtype):
        a = rng.standard_normal(shape).astype(dtype)
        a[..., :3, :] = -np.inf
        return [a]
    return make


def integers(*shape):
    def make(rng, dtype):
        return [rng.integers(-20, 20, shape)]
    return make


CASES += register(
    Case("F.max_pool2d_nan_ties", lambda lib, x: F(lib).max_pool2d(x, 3, 2, 1, return_indices=True),
         make=with_nan(2, 3, 7, 6)),
    Case("F.max_pool2d_k2_nan_ties", lambda lib, x: F(lib).max_pool2d(x, 2, return_indices=True),
         make=with_nan(2, 3, 6, 6)),
    Case("F.adaptive_max_pool2d_nan_ties",
         lambda lib, x: F(lib).adaptive_max_pool2d(x, (3, 4), return_indices=True),
         make=with_nan(2, 3, 7, 6)),
    Case("F.max_pool2d_neginf_ties",
         lambda lib, x: F(lib).max_pool2d(x, 3, 2, 1, dilation=2, return_indices=True),
         make=neg_inf(2, 3, 7, 6)),
    Case("F.max_pool2d_int64", lambda lib, x: F(lib).max_pool2d(x, 3, 2, 1, return_indices=True),
         make=integers(2, 3, 7, 6), differentiable=False),
    Case("F.avg_pool2d_int64", lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1, ceil_mode=True),
         make=integers(2, 3, 7, 6), differentiable=False),
    Case("F.avg_pool2d_int64_divisor", lambda lib, x: F(lib).avg_pool2d(x, 2, divisor_override=3),
         make=integers(2, 3, 7, 6), differentiable=False),
)


# ---- interpolate ------------------------------------------------------------------------------
def _interp(lib, x, **kw):
    return F(lib).interpolate(x, **kw)


SIZES = [dict(size=(9, 4)), dict(scale_factor=2), dict(scale_factor=(0.5, 1.7)),
         dict(scale_factor=(2.3, 0.6), recompute_scale_factor=True), dict(size=(5, 6))]
INTERP = [dict(mode=m, **kw) for m in ("nearest", "nearest-exact") for kw in SIZES] + \
    [dict(mode=m, align_corners=ac, **kw) for m in ("bilinear", "bicubic") for ac in (False, True)
     for kw in SIZES[:4]]
CASES += register(
    *_grid("F.interpolate", _interp, INTERP, [("r", normal(2, 3, 5, 6))]),
    *_grid("F.interpolate_1d", _interp,
           [dict(mode="linear", size=11), dict(mode="linear", scale_factor=0.7, align_corners=True),
            dict(mode="nearest", scale_factor=1.5), dict(mode="nearest-exact", size=4),
            dict(mode="area", size=4)], [("r", normal(2, 3, 7))]),
    *_grid("F.interpolate_3d", _interp,
           [dict(mode="trilinear", scale_factor=(1.5, 0.7, 2)),
            dict(mode="trilinear", size=(2, 5, 3), align_corners=True),
            dict(mode="nearest", scale_factor=(1.5, 0.7, 2)), dict(mode="area", size=(2, 3, 2))],
           [("r", normal(1, 2, 3, 4, 5))]),
    *_grid("F.interpolate_area", _interp,
           [dict(mode="area", size=(3, 4)), dict(mode="area", scale_factor=0.6)],
           [("r", normal(2, 3, 7, 6))]),
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable
                                  and not c.name.endswith(("_ties", "_overlap"))],
                         ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


# ---- layers -----------------------------------------------------------------------------------
MODULES = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 9)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 1), padding=1, dilation=(1, 2), return_indices=True),
     (2, 3, 7, 6)),
    ("MaxPool3d", (2,), dict(return_indices=True), (1, 2, 4, 4, 4)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 9)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (3, 7, 6)),
    ("AvgPool2d", ((2, 3),), dict(divisor_override=4), (2, 3, 7, 6)),
    ("AvgPool3d", (2,), dict(stride=1), (1, 2, 4, 4, 4)),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 9)),
    ("LPPool2d", (1.5, 2), {}, (2, 3, 6, 6)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveAvgPool2d", ((None, 4),), {}, (2, 3, 7, 6)),
    ("AdaptiveAvgPool2d", (1,), {}, (3, 7, 6)),
    ("AdaptiveAvgPool3d", ((2, 3, None),), {}, (1, 2, 4, 5, 6)),
    ("AdaptiveMaxPool1d", (4,), dict(return_indices=True), (2, 3, 9)),
    ("AdaptiveMaxPool2d", ((3, None),), dict(return_indices=True), (2, 3, 7, 6)),
    ("AdaptiveMaxPool3d", (2,), {}, (1, 2, 4, 5, 6)),
    ("Upsample", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample", (), dict(size=(7, 3), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", (), dict(scale_factor=(1.5, 2), mode="bicubic", align_corners=True),
     (2, 3, 4, 5)),
    ("Upsample", (), dict(scale_factor=0.5, mode="linear", recompute_scale_factor=True),
     (2, 3, 9)),
    ("UpsamplingNearest2d", (), dict(size=8), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", (), dict(scale_factor=2), (2, 3, 4, 5)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", MODULES,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_module_matches_torch(name, args, kwargs, shape):
    ours, ref = getattr(nt.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict()) == []
    x = np.random.default_rng(0).permutation(int(np.prod(shape))).reshape(shape) * 0.1
    a, b = ours(nt.tensor(x)), ref(torch.tensor(x))
    a, b = (a if isinstance(a, tuple) else (a,)), (b if isinstance(b, tuple) else (b,))
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert u.shape == v.shape
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-12, atol=1e-12)
        assert str(u.dtype).split(".")[-1] == str(v.dtype).split(".")[-1]


def test_max_unpool_module_roundtrip():
    x = np.random.default_rng(1).permutation(2 * 3 * 36).reshape(2, 3, 6, 6) * 0.1
    outs = []
    for lib in (nt, torch):
        pool, unpool = lib.nn.MaxPool2d(2, return_indices=True), lib.nn.MaxUnpool2d(2)
        y, idx = pool(lib.tensor(x))
        outs.append(unpool(y, idx, output_size=(2, 3, 7, 7)).numpy())
        assert repr(unpool) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    np.testing.assert_array_equal(*outs)


# ---- bad input: torch's exception class and message -------------------------------------------
BAD = [
    "F.max_pool2d(x, 0, 1)", "F.max_pool2d(x, 2, -1)", "F.max_pool2d(x, 2, (1, 2, 3))",
    "F.max_pool2d(x, 2, 1, (1, 2, 3))", "F.max_pool2d(x, 2, 1, 0, (1, 2, 3))",
    "F.max_pool2d(x, 2, padding=3)", "F.max_pool2d(x, 3, dilation=2, padding=2)",
    "F.max_pool2d(x, 3, dilation=2, padding=3)", "F.max_pool2d(x, 6)",
    "F.max_pool2d(t(2, 16, 1, 1), 2)", "F.max_pool2d(t(16, 1, 1), 2)", "F.max_pool2d(t(3, 3), 2)",
    "F.max_pool2d(t(1, 2, 3, 3, 3), 2)", "F.max_pool2d(x, 0)", "F.max_pool2d(x, 2, dilation=0)",
    "F.max_pool2d(x, 2, padding=-1)", "F.max_pool2d(x, (2, 2, 2))",
    "F.max_pool2d(t(2, 0, 4, 4), 2)",
    "F.max_pool2d(t(0, 4, 4), 2)", "F.max_pool2d(x.bool(), 2)",
    "F.max_pool1d(t(2, 3, 4), 0)", "F.max_pool1d(t(2, 3, 4), 2, -1)",
    "F.max_pool1d(t(2, 3, 4), 2, 1, -1)", "F.max_pool1d(t(2, 3, 4), 2, 1, 0, 0)",
    "F.max_pool1d(t(2, 3, 4), (2, 2))", "F.max_pool1d(t(2, 3, 4), 5)",
    "F.max_pool1d(t(2, 3, 4), 2, padding=2)", "F.max_pool1d(t(2, 3, 4, 5), 2)",
    "F.max_pool1d(t(4), 2)", "F.max_pool1d(t(2, 3, 4), 5, return_indices=True)",
    "F.max_pool1d(t(2, 3, 4), 2, padding=2, return_indices=True)",
    "F.max_pool1d(t(4), 2, return_indices=True)", "F.max_pool1d(t(2, 3, 4).int(), 2)",
    "F.max_pool3d(t(2, 3, 4, 4), 5)", "F.max_pool3d(t(2, 3, 4, 4, 4), 2, padding=2)",
    "F.avg_pool1d(t(2, 3, 4), (2, 2))", "F.avg_pool1d(t(2, 3, 4), 2, 0)",
    "F.avg_pool1d(t(2, 3, 4), 5)", "F.avg_pool1d(t(4), 2)", "F.avg_pool1d(t(2, 3, 4, 5), 2)",
    "F.avg_pool2d(x, 0, 1)", "F.avg_pool2d(x, 2, padding=3)", "F.avg_pool2d(x, 6)",
    "F.avg_pool2d(t(3, 3), 2)", "F.avg_pool2d(x, 2, divisor_override=0)",
    "F.avg_pool2d(t(2, 3, 4, 4, 4), 2)", "F.avg_pool2d(t(2, 0, 4, 4), 2)",
    "F.avg_pool2d(x, (1, 2, 3))", "F.avg_pool2d(x.bool(), 2)", "F.avg_pool2d(x.int(), 2)",
    "F.avg_pool3d(t(2, 3, 4, 4), 5)",
    "F.adaptive_avg_pool2d(t(3, 3), 2)", "F.adaptive_avg_pool2d(x, (2, 2, 2))",
    "F.adaptive_avg_pool2d(t(2, 3, 0, 3), 2)", "F.adaptive_max_pool2d(t(2, 3, 0, 3), 2)",
    "F.adaptive_max_pool2d(t(2, 0, 3, 3), 2)", "F.adaptive_max_pool2d(t(3, 3), 2)",
    "F.adaptive_avg_pool1d(t(3), 2)", "F.adaptive_max_pool1d(t(3), 2)",
    "F.adaptive_avg_pool1d(t(2, 3, 0), 2)", "F.adaptive_max_pool1d(t(2, 3, 0), 2)",
    "F.adaptive_avg_pool1d(t(2, 3, 4), (2, 2))", "F.adaptive_avg_pool2d(x, -1)",
    "F.adaptive_max_pool2d(x, -1)", "F.adaptive_avg_pool2d(t(5), (2, 3))",
    "F.adaptive_avg_pool2d(x.long(), 2)", "F.adaptive_max_pool2d(x.long(), 2)",
    "F.max_unpool2d(x, z + 100, 2)", "F.max_unpool2d(x, z - 1, 2)",
    "F.max_unpool2d(x, z, 2, output_size=(3, 3))",
    "F.max_unpool2d(x, z, 2, output_size=(1, 1, 1))", "F.max_unpool2d(x, z[0], 2)",
    "F.max_unpool2d(x, z.int(), 2)", "F.max_unpool2d(x[0, 0], z[0, 0], 2)",
    "F.interpolate(x, size=(0, 3))", "F.interpolate(t(2, 3, 4), size=0, mode='linear')",
    "F.interpolate(t(2, 3, 0, 5), size=(2, 3))", "F.interpolate(x, scale_factor=0.1)",
    "F.interpolate(t(1, 2, 3, 4, 5), size=(2, 0, 3))",
    "F.interpolate(x, size=(2, 3), scale_factor=2)", "F.interpolate(x)",
    "F.interpolate(x, size=(2, 3, 4))", "F.interpolate(x, scale_factor=(2, 3, 4))",
    "F.interpolate(x, size=(2, 3), align_corners=True)",
    "F.interpolate(x, size=(2, 3), recompute_scale_factor=True)",
    "F.interpolate(x, size=3, mode='linear')", "F.interpolate(x, size=3, mode='trilinear')",
    "F.interpolate(t(2, 3, 4), size=3, mode='bilinear')", "F.interpolate(t(2, 3), size=3)",
    "F.interpolate(x, size=3, mode='bogus')", "F.interpolate(x, size=(2.5, 3))",
    "F.interpolate(x.long(), size=3)", "F.interpolate(x, size=3, mode='bicubic', antialias=False, "
    "align_corners=None) + F.interpolate(x, size=3, mode='nearest', antialias=True)",
]


BAD += [
    "F.max_pool3d(t(2, 0, 4, 4, 4), 2)", "F.avg_pool3d(t(2, 0, 4, 4, 4), 2)",
    "F.max_pool3d(t(2, 3, 4, 4, 4), 3, padding=(1, 2, 1))",
    "F.max_pool3d(t(2, 3, 4, 4, 4), 3, dilation=2, padding=2)", "F.max_pool3d(t(4, 4, 4), 2)",
    "F.avg_pool3d(t(4, 4, 4), 2)", "F.avg_pool3d(t(4, 4), 2)",
    "F.max_pool3d(t(2, 3, 4, 4, 4), 0, 1)",
    "F.avg_pool3d(t(2, 3, 4, 4, 4), 2, 0)", "F.max_pool3d(t(2, 3, 4, 4, 4), 2, 1, 0, 0)",
    "F.max_pool3d(t(2, 3, 4, 4, 4), (2, 2))", "F.avg_pool3d(t(2, 3, 4, 4, 4), (2, 2))",
    "F.adaptive_avg_pool3d(t(2, 3, 4, 4), (2, 2))", "F.adaptive_avg_pool3d(t(2, 3), 2)",
    "F.adaptive_max_pool3d(t(2, 3), 2)", "F.adaptive_avg_pool3d(t(2, 3, 0, 4, 4), 2)",
    "F.adaptive_max_pool3d(t(2, 3, 0, 4, 4), 2)", "F.adaptive_avg_pool3d(t(2, 3, 3, 4, 4), -1)",
    "F.max_unpool3d(t(2, 3, 2, 2, 2), z[:, :3, :2, :2, None, 0].expand(2, 3, 2, 2, 2) + 100, 2)",
    "F.max_unpool3d(t(2, 2, 2), z[0, 0, :2, :2, None].expand(2, 2, 2), 2)",
    "F.avg_pool3d(t(2, 3, 4, 4, 4).int(), 2)",
]


@pytest.mark.parametrize("expr", BAD)
def test_bad_input_raises_like_torch(expr):
    errors = []
    for lib in (nt, torch):
        lib.manual_seed(0)
        env = dict(F=lib.nn.functional, x=lib.randn(2, 16, 5, 5), z=lib.zeros(2, 16, 5, 5).long(),
                   t=lambda *s, lib=lib: lib.randn(*s))
        with pytest.raises(Exception) as info:
            eval(expr, env)
        errors.append(info.value)
    ours, ref = errors
    assert type(ours) is type(ref), (ours, ref)
    assert str(ours) == str(ref)


# ---- the compiled 2-D max pooling (ops/_pool_jit.py) and the NumPy path it stands in for -------
def _transposed(*shape):
    """A non-contiguous input: (N, C, W, H) values seen as (N, C, H, W)."""
    def make(rng, dtype):
        return [np.swapaxes(rng.standard_normal(shape).astype(dtype), -1, -2)]
    return make


KERNEL_CASES = register(
    *_grid("F.max_pool2d_windows", lambda lib, x, **kw: F(lib).max_pool2d(x, **kw),
           [dict(kernel_size=3, stride=1), dict(kernel_size=2, stride=3),
            dict(kernel_size=(3, 2), stride=(2, 3)), dict(kernel_size=(1, 4), stride=(2, 1))],
           [("ties", ties(2, 3, 8, 9)), ("distinct", distinct(2, 3, 8, 9))]),
    Case("F.max_pool2d_k2_nan_noindex", lambda lib, x: F(lib).max_pool2d(x, 2),
         make=with_nan(2, 3, 6, 8)),
    Case("F.max_pool2d_k3s1_nan_noindex", lambda lib, x: F(lib).max_pool2d(x, 3, 1),
         make=with_nan(2, 3, 6, 7)),
    Case("F.max_pool2d_neginf_noindex", lambda lib, x: F(lib).max_pool2d(x, 2),
         make=neg_inf(2, 3, 6, 6)),
    Case("F.max_pool2d_noncontiguous", lambda lib, x: F(lib).max_pool2d(x, 2),
         make=_transposed(2, 3, 8, 6)),
    Case("nn.MaxPool2d_5d_lead", lambda lib, x: lib.nn.MaxPool2d(2)(x.reshape(6, 8, 6)),
         shapes=[(2, 3, 8, 6)]),
)
MAX2D_PATHS = KERNEL_CASES + [c for c in CASES if c.name.startswith(("F.max_pool2d_0",
                                                                     "F.max_pool2d_lenet"))]


@pytest.fixture(params=["compiled", "numpy"])
def pool_path(request):
    """Run with the compiled kernels on (skipped without numba), then off. On: the calls of
    the forward kernel's factory (one per pooling), to check that the kernel was used."""
    if request.param == "numpy":
        request.getfixturevalue("kernels_off")
        return None
    return request.getfixturevalue("kernel_calls")("numtorch.ops._pool_jit",
                                                   "max_pool2d_forward")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", MAX2D_PATHS, ids=lambda c: c.name)
def test_max_pool2d_paths_match_torch(case, dtype, pool_path):
    check_case(case, dtype)
    if pool_path is not None:
        assert pool_path["max_pool2d_forward"], "the compiled kernel was not used"


@pytest.mark.parametrize("case", [c for c in KERNEL_CASES if c.name.endswith("_distinct")],
                         ids=lambda c: c.name)
def test_max_pool2d_kernel_gradcheck(case, pool_path):
    gradcheck_case(case)


def test_max_pool2d_kernel_not_used_where_it_does_not_apply(pool_path):
    if pool_path is None:
        pytest.skip("kernels off")
    for kw in (dict(kernel_size=2, padding=1), dict(kernel_size=2, dilation=2),
               dict(kernel_size=3, stride=2, ceil_mode=True), dict(kernel_size=12),
               dict(kernel_size=2, return_indices=True)):
        F(nt).max_pool2d(nt.randn(2, 3, 12, 12), **kw)
    F(nt).max_pool2d(nt.randn(2, 3, 8, 8).to(nt.float16), 2)
    F(nt).max_pool2d(nt.randint(0, 9, (2, 3, 8, 8)), 2)
    F(nt).max_pool1d(nt.randn(2, 3, 8), 2)
    F(nt).max_pool3d(nt.randn(1, 2, 4, 4, 4), 2)
    F(nt).adaptive_max_pool2d(nt.randn(1, 2, 8, 8), 3)        # (8 -> 4 pools 2 x 2: kernel)
    assert pool_path == {"max_pool2d_forward": 0}
