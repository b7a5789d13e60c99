"""Promise 4 (numerics are stable): float32 logits of +-1e4 and inputs of +-1e30 give finite
losses and finite gradients, equal to PyTorch's, with NumPy floating-point errors *raised*.

Every numtorch call (forward and backward) runs under ``np.errstate(over/invalid/divide='raise')``
so an overflowing ``exp`` or a ``0 * inf`` inside our implementation raises FloatingPointError
instead of being hidden by pyproject's RuntimeWarning filter. Underflow (exp of a huge negative
number rounding to 0) is the intended behaviour of the stable formulas and is ignored.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import numtorch as nt

# Logits mixing extreme and ordinary values; rows where the extreme value wins, loses, or ties.
_BASE = np.array([[1.0, -1.0, 0.0, 0.5],
                  [1.0, 1.0, -1.0, -1.0],
                  [-1.0, -1.0, -1.0, 1.0],
                  [1.0, 0.0, 0.0, 0.0]], dtype=np.float64)
_MIX = np.array([[1.0, 0.0, 0.0, 0.0],
                 [1.0, 1.0, 0.0, 0.0],
                 [1.0, 1.0, 1.0, 0.0],
                 [0.0, 0.0, 0.0, 0.0]])


def _inputs(scale):
    """(4, 4) float32 logits: +-scale at the extreme slots, small ordinary values elsewhere."""
    x = np.where(_MIX > 0, _BASE * scale, np.array([[0.3, -0.2, 0.1, 0.7]] * 4))
    return x.astype(np.float32)


_TARGET = np.array([0, 3, 1, 2], dtype=np.int64)
_BIN = np.array([[1, 0, 1, 0], [0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1]], dtype=np.float32)

# (name, fn(lib, F, x) -> tensor). Targets are chosen to hit both the winning and losing logits.
CASES = [
    ("softmax", lambda lib, F, x: F.softmax(x, dim=1)),
    ("softmax_dim0", lambda lib, F, x: F.softmax(x, dim=0)),
    ("log_softmax", lambda lib, F, x: F.log_softmax(x, dim=1)),
    ("cross_entropy", lambda lib, F, x: F.cross_entropy(x, lib.from_numpy(_TARGET))),
    ("cross_entropy_none", lambda lib, F, x: F.cross_entropy(x, lib.from_numpy(_TARGET),
                                                              reduction="none")),
    ("cross_entropy_smooth", lambda lib, F, x: F.cross_entropy(x, lib.from_numpy(_TARGET),
                                                                label_smoothing=0.1)),
    ("cross_entropy_probs", lambda lib, F, x: F.cross_entropy(
        x, lib.from_numpy(_BIN / _BIN.sum(1, keepdims=True)))),
    ("nll_log_softmax", lambda lib, F, x: F.nll_loss(F.log_softmax(x, dim=1),
                                                     lib.from_numpy(_TARGET))),
    ("sigmoid", lambda lib, F, x: lib.sigmoid(x)),
    ("tensor_sigmoid", lambda lib, F, x: x.sigmoid()),
    ("F_sigmoid", lambda lib, F, x: F.sigmoid(x)),
    ("logsigmoid", lambda lib, F, x: F.logsigmoid(x)),
    ("bce_with_logits", lambda lib, F, x: F.binary_cross_entropy_with_logits(
        x, lib.from_numpy(_BIN))),
    ("bce_with_logits_none", lambda lib, F, x: F.binary_cross_entropy_with_logits(
        x, lib.from_numpy(_BIN), reduction="none")),
    ("bce_with_logits_pos_weight", lambda lib, F, x: F.binary_cross_entropy_with_logits(
        x, lib.from_numpy(_BIN), pos_weight=lib.from_numpy(np.full(4, 3.0, np.float32)))),
    ("softplus", lambda lib, F, x: F.softplus(x)),
    ("softplus_beta", lambda lib, F, x: F.softplus(x, beta=2.0, threshold=50.0)),
    ("logsumexp", lambda lib, F, x: lib.logsumexp(x, dim=1)),
    ("logsumexp_all", lambda lib, F, x: x.logsumexp(dim=(0, 1))),
    ("module_ce", lambda lib, F, x: lib.nn.CrossEntropyLoss()(x, lib.from_numpy(_TARGET))),
    ("module_bce_logits", lambda lib, F, x: lib.nn.BCEWithLogitsLoss()(x, lib.from_numpy(_BIN))),
]
SCALES = [1e4, 1e30]


def _run(lib, fn, x_np, upstream):
    F = lib.nn.functional
    x = lib.from_numpy(x_np.copy()).requires_grad_(True)
    y = fn(lib, F, x)
    gy = lib.from_numpy(upstream[: y.numel()].reshape(tuple(y.shape)).astype(np.float32))
    y.backward(gy)
    return y.detach().numpy().copy(), x.grad.numpy().copy()


@pytest.mark.parametrize("scale", SCALES, ids=lambda s: f"{s:g}")
@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_extreme_inputs_finite_and_match_torch(name, fn, scale):
    """Loss/output and input gradient are finite, raise no FP error in numtorch, equal torch's."""
    x = _inputs(scale)
    upstream = np.random.default_rng(1).uniform(0.5, 1.5, 16)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        y, g = _run(nt, fn, x, upstream)
    ty, tg = _run(torch, fn, x, upstream)
    assert np.isfinite(ty).all() and np.isfinite(tg).all(), "torch itself is not finite here"
    assert np.isfinite(y).all(), f"{name}: non-finite output {y}"
    assert np.isfinite(g).all(), f"{name}: non-finite gradient {g}"
    assert y.dtype == ty.dtype == np.float32 and y.shape == ty.shape
    np.testing.assert_allclose(y, ty, rtol=1e-5, atol=1e-5, err_msg=f"{name} values")
    np.testing.assert_allclose(g, tg, rtol=1e-5, atol=1e-5, err_msg=f"{name} grads")


def test_errstate_really_raises():
    """The guard works: an overflow in plain NumPy under the same errstate raises."""
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        with pytest.raises(FloatingPointError):
            np.exp(np.float32(1e30))
