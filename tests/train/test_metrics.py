"""numtorch.train.metrics against torch and direct, loop-based computations."""
import math

import numpy as np
import pytest
import torch

import numtorch
from numtorch.train import metrics as M


def _scores(n=50, c=7, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    out = rng.standard_normal((n, c)).astype(np.float32)
    if ties:
        out = np.round(out)            # many equal scores
    return out, rng.integers(0, c, n)


@pytest.mark.parametrize("kind", ["tensor", "array", "list"])
def test_accuracy_matches_torch(kind):
    out, y = _scores()
    ref = (torch.from_numpy(out).argmax(1) == torch.from_numpy(y)).double().mean().item()
    conv = {"tensor": numtorch.from_numpy, "array": lambda a: a, "list": lambda a: a.tolist()}
    assert M.accuracy(conv[kind](out), conv[kind](y)) == pytest.approx(ref, abs=1e-12)


def test_accuracy_other_forms():
    out, y = _scores(n=20, c=4)
    pred = out.argmax(1)
    expected = np.mean(pred == y)
    assert M.accuracy(pred, y) == pytest.approx(expected)                      # indices
    assert M.accuracy(out, np.eye(4, dtype=np.float32)[y]) == pytest.approx(expected)  # one-hot
    logit = np.array([[-1.0], [2.0], [0.5], [-0.2]], dtype=np.float32)          # binary logits
    assert M.accuracy(logit, np.array([0, 1, 0, 0])) == pytest.approx(0.75)
    assert math.isnan(M.accuracy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64)))
    with pytest.raises(ValueError, match="output has 4 samples but target has 5"):
        M.accuracy(out[:4], y[:5])
    with pytest.raises(ValueError, match="shape"):
        M.accuracy(np.zeros((2, 3, 4)), y[:2])


def test_count_correct_tells_classification_from_regression():
    out = np.array([[1.0], [-1.0], [2.0]], dtype=np.float32)
    assert M.count_correct(out, np.array([[1.0], [0.0], [0.0]], dtype=np.float32)) == 2
    assert M.count_correct(out, np.array([[0.3], [0.1], [0.0]], dtype=np.float32)) is None
    assert M.count_correct(out[:, 0], np.array([1, 0, 0])) is None
    scores = np.array([[0.1, 0.9], [0.8, 0.2]], dtype=np.float32)
    assert M.count_correct(scores, np.array([1, 1])) == 1
    assert M.count_correct(scores, np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)) == 2
    assert M.count_correct(scores, np.array([1.0, 1.0], dtype=np.float32)) is None


@pytest.mark.parametrize("k", [1, 3, 5])
def test_topk_accuracy_matches_torch(k):
    out, y = _scores(n=60, c=8, seed=1)
    top = torch.from_numpy(out).topk(k, dim=1).indices
    ref = (top == torch.from_numpy(y)[:, None]).any(1).double().mean().item()
    assert M.topk_accuracy(numtorch.from_numpy(out), numtorch.from_numpy(y), k) == \
        pytest.approx(ref, abs=1e-12)


def test_topk_ties_count_for_the_target():
    out = np.array([[1.0, 1.0, 1.0, 0.0]], dtype=np.float32)
    # three classes share the top score: with k=1 each of them is a hit, class 3 is not
    assert [M.topk_accuracy(out, [t], 1) for t in range(4)] == [1.0, 1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="k=5 is out of range for scores with 4 classes"):
        M.topk_accuracy(out, [0], 5)


def _cm_loop(pred, target, c):
    cm = np.zeros((c, c), dtype=np.int64)
    for p, t in zip(pred, target):
        cm[t, p] += 1
    return cm


def test_confusion_matrix_matches_a_direct_count():
    out, y = _scores(n=200, c=6, seed=2)
    cm = M.confusion_matrix(numtorch.from_numpy(out), numtorch.from_numpy(y), 6)
    assert cm.dtype == np.int64 and cm.shape == (6, 6)
    np.testing.assert_array_equal(cm, _cm_loop(out.argmax(1), y, 6))
    np.testing.assert_array_equal(M.confusion_matrix(out.argmax(1), y, 6), cm)
    assert cm.sum() == 200
    with pytest.raises(ValueError, match="target class 6 is out of range for num_classes=6"):
        M.confusion_matrix(np.array([0, 1]), np.array([0, 6]), 6)
    with pytest.raises(ValueError, match="prediction class -1"):
        M.confusion_matrix(np.array([-1, 1]), np.array([0, 1]), 6)


def test_precision_recall_f1_by_hand():
    # rows = true class, columns = predicted class
    cm = np.array([[5, 1, 0],
                   [2, 3, 1],
                   [0, 0, 0]])
    r = M.precision_recall_f1(cm)
    p = [5 / 7, 3 / 4, 0.0]               # column sums 7, 4, 1; class 2 predicted once, wrongly
    rc = [5 / 6, 3 / 6, 0.0]              # row sums 6, 6, 0 (class 2 absent: recall 0)
    f = [2 * a * b / (a + b) if a + b else 0.0 for a, b in zip(p, rc)]
    assert r["precision"] == pytest.approx(p) and r["recall"] == pytest.approx(rc)
    assert r["f1"] == pytest.approx(f) and r["support"] == [6, 6, 0]
    assert r["macro_precision"] == pytest.approx(sum(p) / 3)
    assert r["macro_recall"] == pytest.approx(sum(rc) / 3)
    assert r["macro_f1"] == pytest.approx(sum(f) / 3)


def test_precision_recall_f1_against_direct_counts():
    out, y = _scores(n=300, c=5, seed=3)
    pred = out.argmax(1)
    r = M.precision_recall_f1(M.confusion_matrix(pred, y, 5))
    for c in range(5):
        tp = np.sum((pred == c) & (y == c))
        assert r["precision"][c] == pytest.approx(tp / np.sum(pred == c))
        assert r["recall"][c] == pytest.approx(tp / np.sum(y == c))
    with pytest.raises(ValueError, match="square"):
        M.precision_recall_f1(np.zeros((2, 3)))


def test_format_confusion_matrix():
    cm = np.array([[50, 2], [3, 1045]])
    text = M.format_confusion_matrix(cm, ["T-shirt/top", "Trouser"])
    lines = text.splitlines()
    assert lines[0].startswith("true \\ pred") and "T-shirt/~" in lines[0]
    assert "Trouser" in lines[2] and "1045" in lines[2] and "96.2%" in lines[1]
    assert lines[-1].startswith("precision")
    assert len({len(line) for line in lines[:3]}) == 1          # aligned columns
    with pytest.raises(ValueError, match="3 class names for a 2x2"):
        M.format_confusion_matrix(cm, ["a", "b", "c"])
