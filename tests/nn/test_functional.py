"""Oracle cases for nn.functional and the primitives in numtorch/ops/activation.py."""
import math

import numpy as np
import pytest
import torch

import numtorch as nt
from numtorch.ops.activation import erf_array
from tests.oracle.harness import Case, check_case, gradcheck_case, register


def F(lib):
    return lib.nn.functional


def _away_from(points, scale=3.0, gap=1e-3):
    """Inputs ~ N(0, scale) nudged off kinks (for piecewise functions)."""
    def make(rng, dtype, shape=(4, 5)):
        a = rng.standard_normal(shape) * scale
        for p in points:
            near = np.abs(a - p) < gap
            a[near] += 10 * gap
        return [a.astype(dtype)]
    return make


CASES = register(
    Case("F.softmax_last", lambda lib, x: F(lib).softmax(x, dim=-1), shapes=[(3, 5)]),
    Case("F.softmax_dim0", lambda lib, x: F(lib).softmax(x * 30, dim=0), shapes=[(4, 3)]),
    Case("F.softmax_3d_dtype", lambda lib, x: F(lib).softmax(x, 1, dtype=lib.float64),
         shapes=[(2, 3, 4)]),
    Case("F.softmax_0d", lambda lib, x: F(lib).softmax(x, 0), shapes=[()]),
    Case("F.softmin", lambda lib, x: F(lib).softmin(x, dim=1), shapes=[(3, 4)]),
    Case("F.log_softmax", lambda lib, x: F(lib).log_softmax(x * 50, dim=1), shapes=[(3, 6)]),
    Case("F.log_softmax_3d", lambda lib, x: F(lib).log_softmax(x, dim=-2), shapes=[(2, 3, 4)]),
    Case("tensor.softmax", lambda lib, x: x.softmax(-1) + lib.softmax(x, 0), shapes=[(3, 4)]),
    Case("F.leaky_relu", lambda lib, x: F(lib).leaky_relu(x, 0.2), make=_away_from([0])),
    Case("F.leaky_relu_default", lambda lib, x: F(lib).leaky_relu(x), make=_away_from([0])),
    Case("F.elu", lambda lib, x: F(lib).elu(x, alpha=0.7), make=_away_from([0])),
    Case("F.selu", lambda lib, x: F(lib).selu(x), make=_away_from([0])),
    Case("F.celu", lambda lib, x: F(lib).celu(x, alpha=1.5), make=_away_from([0])),
    Case("F.gelu", lambda lib, x: F(lib).gelu(x), make=_away_from([], scale=4)),
    Case("F.gelu_tanh", lambda lib, x: F(lib).gelu(x, approximate="tanh"), shapes=[(4, 5)]),
    Case("F.silu", lambda lib, x: F(lib).silu(x * 4), shapes=[(4, 5)]),
    Case("F.mish", lambda lib, x: F(lib).mish(x * 4), shapes=[(4, 5)]),
    Case("F.softplus", lambda lib, x: F(lib).softplus(x * 5), shapes=[(4, 5)]),
    Case("F.softplus_beta_thr", lambda lib, x: F(lib).softplus(x, beta=2.0, threshold=1.0),
         make=_away_from([0.5])),
    Case("F.hardtanh", lambda lib, x: F(lib).hardtanh(x, -0.5, 0.7),
         make=_away_from([-0.5, 0.7], scale=1)),
    Case("F.relu6", lambda lib, x: F(lib).relu6(x), make=_away_from([0, 6], scale=5)),
    Case("F.relu", lambda lib, x: F(lib).relu(x), make=_away_from([0])),
    Case("F.hardsigmoid", lambda lib, x: F(lib).hardsigmoid(x), make=_away_from([-3, 3])),
    Case("F.hardswish", lambda lib, x: F(lib).hardswish(x), make=_away_from([-3, 3])),
    Case("F.softsign", lambda lib, x: F(lib).softsign(x), shapes=[(3, 4)]),
    Case("F.logsigmoid", lambda lib, x: F(lib).logsigmoid(x * 20), shapes=[(3, 4)]),
    Case("F.tanhshrink", lambda lib, x: F(lib).tanhshrink(x), shapes=[(3, 4)]),
    Case("F.hardshrink", lambda lib, x: F(lib).hardshrink(x, 0.4), make=_away_from([-.4, .4], 1)),
    Case("F.softshrink", lambda lib, x: F(lib).softshrink(x, 0.4), make=_away_from([-.4, .4], 1)),
    Case("F.threshold", lambda lib, x: F(lib).threshold(x, 0.1, 20.0), make=_away_from([0.1])),
    Case("F.sigmoid_tanh", lambda lib, x: F(lib).sigmoid(x) * F(lib).tanh(x), shapes=[(3, 4)]),
    Case("F.glu", lambda lib, x: F(lib).glu(x), shapes=[(3, 6)]),
    Case("F.glu_dim0", lambda lib, x: F(lib).glu(x, 0), shapes=[(4, 3)]),
    Case("F.prelu_channels", lambda lib, x, w: F(lib).prelu(x, w), shapes=[(2, 3, 4), (3,)]),
    Case("F.prelu_single", lambda lib, x, w: F(lib).prelu(x, w), shapes=[(5, 2), (1,)]),
    Case("F.rrelu_eval", lambda lib, x: F(lib).rrelu(x), make=_away_from([0])),
    Case("F.linear", lambda lib, x, w, b: F(lib).linear(x, w, b), shapes=[(2, 3, 4), (5, 4), (5,)]),
    Case("F.linear_nobias_1d", lambda lib, x, w: F(lib).linear(x, w), shapes=[(4,), (3, 4)]),
    Case("F.bilinear", lambda lib, a, b, w, c: F(lib).bilinear(a, b, w, c),
         shapes=[(4, 3), (4, 2), (5, 3, 2), (5,)]),
    Case("F.bilinear_batch", lambda lib, a, b, w: F(lib).bilinear(a, b, w),
         shapes=[(2, 4, 3), (2, 4, 2), (5, 3, 2)]),
    Case("F.normalize", lambda lib, x: F(lib).normalize(x), shapes=[(3, 4)]),
    Case("F.normalize_p1_dim0", lambda lib, x: F(lib).normalize(x, p=1, dim=0),
         shapes=[(3, 4)]),
    Case("F.cosine_similarity", lambda lib, a, b: F(lib).cosine_similarity(a, b),
         shapes=[(3, 4), (3, 4)]),
    Case("F.cosine_similarity_bcast", lambda lib, a, b: F(lib).cosine_similarity(a, b, dim=-1),
         shapes=[(3, 4), (4,)]),
    Case("F.pairwise_distance", lambda lib, a, b: F(lib).pairwise_distance(a, b),
         shapes=[(3, 4), (3, 4)]),
    Case("F.pairwise_distance_p1", lambda lib, a, b: F(lib).pairwise_distance(a, b, 3.0, 1e-6,
                                                                               True),
         shapes=[(3, 4), (4,)]),
    Case("F.pad_constant", lambda lib, x: F(lib).pad(x, (1, 2, 0, 1), value=0.5),
         shapes=[(2, 3, 4)]),
    Case("F.pad_crop", lambda lib, x: F(lib).pad(x, (-1, 2, 1, -1)), shapes=[(3, 4)]),
    Case("F.pad_reflect", lambda lib, x: F(lib).pad(x, (2, 1), mode="reflect"),
         shapes=[(2, 3, 4)]),
    Case("F.pad_reflect2d", lambda lib, x: F(lib).pad(x, (1, 2, 2, 1), mode="reflect"),
         shapes=[(1, 2, 3, 4)]),
    Case("F.pad_replicate", lambda lib, x: F(lib).pad(x, (3, 1, 1, 2), mode="replicate"),
         shapes=[(2, 3, 4)]),
    Case("F.pad_circular", lambda lib, x: F(lib).pad(x, (2, 3), mode="circular"),
         shapes=[(2, 2, 4)]),
    Case("F.dropout_eval", lambda lib, x: F(lib).dropout(x, 0.3, training=False)
         * F(lib).dropout(x, 0.0), shapes=[(3, 4)]),
    Case("F.relu_inplace", lambda lib, x: F(lib).relu((x * 2), inplace=True),
         make=_away_from([0])),
    Case("F.elu_inplace", lambda lib, x: F(lib).elu(x + 1, inplace=True), make=_away_from([-1])),
    Case("F.inplace_elus", lambda lib, x: F(lib).leaky_relu(F(lib).selu(x * 1, inplace=True) * 1,
                                                            0.1, inplace=True)
         + F(lib).celu(x * 1, inplace=True), make=_away_from([0])),
    Case("F.inplace_smooth", lambda lib, x: F(lib).mish(F(lib).silu(
        F(lib).hardswish(x * 1, inplace=True), inplace=True), inplace=True),
        make=_away_from([-3, 3])),
    Case("F.inplace_clamps", lambda lib, x: F(lib).hardsigmoid(F(lib).relu6(
        F(lib).hardtanh(x * 3, -2.0, 2.5, inplace=True), inplace=True), inplace=True),
        make=_away_from([-2 / 3, 2.5 / 3, 0], scale=1)),
    Case("F.inplace_threshold_dropout_eval", lambda lib, x: F(lib).dropout(F(lib).threshold(
        x * 1, 0.2, -1.0, inplace=True), 0.4, training=False, inplace=True),
        make=_away_from([0.2])),
    Case("F.one_hot", lambda lib, i: F(lib).one_hot(i, 5),
         make=lambda rng, dt: [rng.integers(0, 5, (3, 4))], differentiable=False),
    Case("F.one_hot_infer", lambda lib, i: F(lib).one_hot(i),
         make=lambda rng, dt: [rng.integers(0, 4, (6,))], differentiable=False),
    Case("F.relu6_int", lambda lib, i: F(lib).relu6(i),
         make=lambda rng, dt: [rng.integers(-9, 9, (6,))], differentiable=False),
    Case("F.threshold_int", lambda lib, i: F(lib).threshold(i, 1, 7),
         make=lambda rng, dt: [rng.integers(-9, 9, (6,))], differentiable=False),
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


def test_erf_matches_torch_to_rounding():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-7, 7, 20001), rng.standard_normal(5000) * 3,
                        [0.0, 1e-300, 0.84375, 1.25, 1 / 0.35, 6.0, np.inf, -np.inf]])
    ref = torch.erf(torch.tensor(x)).numpy()
    np.testing.assert_allclose(erf_array(x), ref, rtol=4.5e-16, atol=1.2e-16)
    assert np.isnan(erf_array(np.array([np.nan]))).all()
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(erf_array(x32), torch.erf(torch.tensor(x32)).numpy(), atol=1.2e-7)
    assert erf_array(x32).dtype == np.float32


def test_gelu_extreme_values_match_torch():
    x = np.array([-40.0, -10.0, -5.5, -1e-8, 0.0, 3.0, 12.0, 50.0])
    ours = nt.nn.functional.gelu(nt.tensor(x)).numpy()
    np.testing.assert_allclose(ours, torch.nn.functional.gelu(torch.tensor(x)).numpy(),
                               rtol=1e-12, atol=1e-300)


def _raises_like_torch(fn):
    """fn(lib) raises the same exception class in both libraries; return both messages."""
    msgs = []
    for lib in (torch, nt):
        with pytest.raises(Exception) as info:
            fn(lib)
        msgs.append((type(info.value), str(info.value)))
    assert msgs[0][0] is msgs[1][0], msgs
    return msgs


ERRORS = {
    "one_hot_float": lambda lib: F(lib).one_hot(lib.tensor([1.0, 2.0])),
    "one_hot_negative": lambda lib: F(lib).one_hot(lib.tensor([1, -2])),
    "one_hot_too_big": lambda lib: F(lib).one_hot(lib.tensor([1, 5]), 3),
    "one_hot_empty": lambda lib: F(lib).one_hot(lib.tensor([], dtype=lib.int64)),
    "glu_odd": lambda lib: F(lib).glu(lib.ones(3, 5)),
    "glu_scalar": lambda lib: F(lib).glu(lib.tensor(1.0)),
    "dropout_p": lambda lib: F(lib).dropout(lib.ones(3), 1.5),
    "pad_odd": lambda lib: F(lib).pad(lib.ones(3, 4), (1, 2, 3)),
    "pad_too_long": lambda lib: F(lib).pad(lib.ones(3, 4), (1, 2, 3, 4, 5, 6)),
    "pad_reflect_big": lambda lib: F(lib).pad(lib.ones(3, 4), (4, 4), mode="reflect"),
    "pad_mode": lambda lib: F(lib).pad(lib.ones(3, 4), (1, 2), mode="foo"),
    "pad_replicate_dims": lambda lib: F(lib).pad(lib.ones(4), (1, 1), mode="replicate"),
    "pad_circular_wrap": lambda lib: F(lib).pad(lib.ones(2, 3, 4), (5, 1), mode="circular"),
    "pad_reflect_value": lambda lib: F(lib).pad(lib.ones(2, 3, 4), (1, 1), "reflect", 2.0),
    "softmax_int": lambda lib: F(lib).softmax(lib.tensor([1, 2]), 0),
    "softmax_dim": lambda lib: F(lib).softmax(lib.ones(2, 3), 2),
    "gelu_mode": lambda lib: F(lib).gelu(lib.ones(2), approximate="foo"),
    "leaky_relu_int": lambda lib: F(lib).leaky_relu(lib.tensor([1, -2])),
    "elu_int": lambda lib: F(lib).elu(lib.tensor([1, -2])),
    "hardtanh_bounds": lambda lib: F(lib).hardtanh(lib.ones(2), 2.0, 1.0),
    "normalize_int": lambda lib: F(lib).normalize(lib.tensor([1, -2])),
    "linear_shapes": lambda lib: F(lib).linear(lib.ones(4, 3), lib.ones(5, 2)),
    "bilinear_shapes": lambda lib: F(lib).bilinear(lib.ones(4, 3), lib.ones(4, 2),
                                                   lib.ones(5, 3, 3)),
    "prelu_channels": lambda lib: F(lib).prelu(lib.ones(4, 3), lib.ones(2)),
    "relu_inplace_leaf": lambda lib: F(lib).relu(lib.ones(3, requires_grad=True), inplace=True),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    (_, ref), (_, ours) = _raises_like_torch(ERRORS[name])
    if name in ("linear_shapes", "one_hot_negative", "one_hot_too_big", "glu_odd", "pad_odd",
                "pad_reflect_big", "bilinear_shapes", "prelu_channels", "gelu_mode"):
        assert ours == ref


def test_one_hot_values_and_dtype():
    i = nt.tensor([[0, 2], [1, 0]])
    y = nt.nn.functional.one_hot(i, 3)
    assert y.dtype == nt.int64 and tuple(y.shape) == (2, 2, 3)
    ref = torch.nn.functional.one_hot(torch.tensor([[0, 2], [1, 0]]), 3)
    np.testing.assert_array_equal(y.numpy(), ref.numpy())
    assert tuple(nt.nn.functional.one_hot(nt.tensor([], dtype=nt.int64), 3).shape) == (0, 3)


def test_softmax_implicit_dim_warns_like_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    with pytest.warns(UserWarning):
        ours = nt.nn.functional.softmax(nt.tensor(x))
    with pytest.warns(UserWarning):
        ref = torch.nn.functional.softmax(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


def test_softmax_is_stable_for_huge_inputs():
    x = nt.tensor([[1e4, 0.0, -1e4]], dtype=nt.float64)
    y = nt.nn.functional.softmax(x, 1)
    assert np.isfinite(y.numpy()).all()
    z = nt.nn.functional.log_softmax(x, 1)
    np.testing.assert_allclose(z.numpy(), torch.log_softmax(torch.tensor(x.numpy()), 1).numpy())


def _dropout_stats(lib, p, shape=(200, 500)):
    x = lib.ones(*shape, requires_grad=True)
    y = F(lib).dropout(x, p, training=True)
    y.backward(lib.ones(*shape))
    yv = y.detach().numpy()
    return (yv == 0).mean(), np.unique(np.round(yv, 5)), x.grad.numpy()


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_statistics_match_torch(p):
    zero_nt, vals_nt, grad_nt = _dropout_stats(nt, p)
    zero_t, vals_t, _ = _dropout_stats(torch, p)
    assert abs(zero_nt - p) < 5 * math.sqrt(p * (1 - p) / 1e5)
    assert abs(zero_nt - zero_t) < 10 * math.sqrt(p * (1 - p) / 1e5)
    np.testing.assert_allclose(vals_nt, vals_t, rtol=1e-5)
    np.testing.assert_allclose(np.unique(np.round(grad_nt, 5)), vals_t, rtol=1e-5)


def test_dropout_extremes_and_dtype():
    x = nt.randn(4, 5, dtype=nt.float64)
    assert nt.nn.functional.dropout(x, 0.0) is x or np.array_equal(
        nt.nn.functional.dropout(x, 0.0).numpy(), x.numpy())
    z = nt.nn.functional.dropout(x, 1.0)
    assert z.dtype == nt.float64 and not z.numpy().any()
    assert np.array_equal(nt.nn.functional.dropout(x, 0.5, training=False).numpy(), x.numpy())


@pytest.mark.parametrize("fn,shape", [("dropout1d", (8, 40, 6)), ("dropout2d", (8, 40, 3, 3)),
                                       ("dropout3d", (8, 40, 2, 2, 2))])
def test_channel_dropout_zeroes_whole_channels(fn, shape):
    x = nt.ones(*shape)
    y = getattr(nt.nn.functional, fn)(x, 0.5).numpy()
    per_channel = y.reshape(shape[0], shape[1], -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.35 < (per_channel[..., 0] == 0).mean() < 0.65


def test_dropout2d_on_3d_input_is_batched_like_torch():
    for lib in (nt, torch):
        with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
            y = F(lib).dropout2d(lib.ones(50, 40, 6), 0.5).numpy()
        assert ((y == 0).all(-1) | (y == 2).all(-1)).all()  # mask over (N, C)
        assert 0.4 < (y[..., 0] == 0).mean() < 0.6


def test_alpha_dropout_keeps_moments_like_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 500)).astype(np.float32)
    ours = nt.nn.functional.alpha_dropout(nt.tensor(x), 0.3, training=True).numpy()
    ref = torch.nn.functional.alpha_dropout(torch.tensor(x), 0.3, training=True).numpy()
    assert abs(ours.mean() - ref.mean()) < 0.02 and abs(ours.std() - ref.std()) < 0.02
    def mode(a):
        vals, counts = np.unique(a, return_counts=True)
        return vals[counts.argmax()]
    np.testing.assert_allclose(mode(ours), mode(ref), rtol=1e-6)  # where dropped units land


def test_rrelu_training_slopes_in_range():
    x = -nt.ones(1000)
    y = nt.nn.functional.rrelu(x, 0.1, 0.3, training=True).numpy()
    assert (-y >= 0.1 - 1e-6).all() and (-y <= 0.3 + 1e-6).all() and y.std() > 0.03
