"""The seed examples run end to end and reach their goals."""

import pytest

from tests._examples import load_example as _load


def test_xor_learns_all_four_cases(capsys):
    loss = _load("xor").main()
    assert "correct: 4/4" in capsys.readouterr().out
    assert loss < 0.05


def test_regression_231_fits_linear_target(capsys):
    loss = _load("regression_231").main()
    assert loss < 1e-3


def test_linear_regression_recovers_w_and_b():
    W, b, loss = _load("linear_regression").main()
    assert W.flatten().tolist() == pytest.approx([1.5, -2.0, 0.7], abs=0.02)
    assert b.item() == pytest.approx(0.3, abs=0.02)


def test_manual_backprop_matches_autograd():
    assert _load("manual_backprop").main() < 1e-4


def test_mlp_classifies_spiral():
    assert _load("mlp").main(epochs=40) > 0.9
