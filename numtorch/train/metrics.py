"""Classification metrics on host arrays: accuracy, top-k accuracy, confusion matrix,
precision / recall / F1, and a printable confusion-matrix table.

``output`` is a batch of scores ``(N, C)`` (logits or probabilities), ``(N, 1)`` binary logits
(class 1 when positive), or ``(N,)`` predicted class indices; ``target`` holds class indices
``(N,)`` or, like ``output``, one row per sample (one-hot or probabilities, whose argmax is the
class; a single column holds the probability of class 1). Both may be Tensors, arrays or lists.
"""
from __future__ import annotations

import math

from .. import backend
from ..tensor import Tensor

__all__ = ["accuracy", "topk_accuracy", "confusion_matrix", "precision_recall_f1",
           "format_confusion_matrix"]

xp = backend.xp


def _host(a):
    """``a`` as a host array (Tensors are unwrapped without copying)."""
    if isinstance(a, Tensor):
        a = a._data
    return backend.to_host(a) if backend.is_array(a) else xp.asarray(a)


def _labels(output):
    """Predicted classes of ``output``: argmax of (N, C) scores, a threshold at 0 for (N, 1)
    logits, the values themselves for (N,) integer predictions."""
    if output.ndim == 2:
        if output.shape[1] == 1:
            return (output[:, 0] > 0).astype(xp.int64)
        return output.argmax(1)
    if output.ndim == 1 and output.dtype.kind in "iub":
        return output
    raise ValueError(f"expected scores of shape (N, C) or class indices of shape (N,), got "
                     f"{output.dtype} values of shape {tuple(output.shape)}")


def _targets(target, n: int):
    """Class indices of ``target`` ((N,) integers, or (N, C) one-hot / probabilities)."""
    if target.ndim == 2 and target.dtype.kind == "f":
        target = target.argmax(1) if target.shape[1] > 1 else \
            (target[:, 0] >= 0.5).astype(xp.int64)
    if target.ndim != 1 or target.dtype.kind not in "iub":
        raise ValueError(f"expected class-index targets of shape (N,), got {target.dtype} "
                         f"values of shape {tuple(target.shape)}")
    if target.shape[0] != n:
        raise ValueError(f"output has {n} samples but target has {target.shape[0]}")
    return target


def count_correct(output, target):
    """The number of samples whose predicted class equals the target's, or None when the
    arrays do not describe a classification (e.g. regression targets).

    Classifications: ``(N, C)`` scores with ``(N,)`` class indices or ``(N, C)`` one-hot /
    probability rows, and ``(N, 1)`` logits with ``(N, 1)`` targets that are all 0 or 1.
    """
    if output.ndim != 2 or target.ndim not in (1, 2) or target.shape[0] != output.shape[0]:
        return None
    if target.ndim == 1:
        if target.dtype.kind not in "iu":
            return None
    elif target.shape != output.shape or target.dtype.kind != "f":
        return None
    elif output.shape[1] > 1:
        target = target.argmax(1)
    elif ((target == 0) | (target == 1)).all():
        target = target[:, 0].astype(xp.int64)
    else:
        return None
    return int(xp.count_nonzero(_labels(output) == target))


def count_topk(output, target, k: int):
    """The number of samples whose target's score is among the ``k`` highest (ties counted in
    the target's favour), or None when ``output`` has fewer than ``k`` classes."""
    if output.ndim != 2 or output.shape[1] < k or target.ndim != 1 \
            or target.dtype.kind not in "iu":
        return None
    own = xp.take_along_axis(output, target[:, None], 1)
    return int(xp.count_nonzero((output > own).sum(1) < k))


def accuracy(output, target) -> float:
    """Fraction of samples whose predicted class (argmax of ``output``) is the target class.

    Args:
        output: scores ``(N, C)`` or predicted class indices ``(N,)``.
        target: class indices ``(N,)``, or ``(N, C)`` one-hot / probabilities.

    Returns nan for an empty batch.
    """
    o, t = _host(output), _host(target)
    pred = _labels(o)
    t = _targets(t, pred.shape[0])
    n = t.shape[0]
    return float(xp.count_nonzero(pred == t)) / n if n else math.nan


def topk_accuracy(output, target, k: int = 5) -> float:
    """Fraction of samples whose target class is among the ``k`` highest scores of ``output``.

    Args:
        output: scores ``(N, C)`` with ``C >= k``.
        target: class indices ``(N,)``, or ``(N, C)`` one-hot / probabilities.
        k (int): how many top classes count as a hit. Default: 5

    Ties at the k-th score count in the target's favour (a target whose score is equalled by
    the k-th highest is a hit).
    """
    o, t = _host(output), _host(target)
    if o.ndim != 2:
        raise ValueError(f"topk_accuracy needs scores of shape (N, C), got shape "
                         f"{tuple(o.shape)}")
    if not 1 <= k <= o.shape[1]:
        raise ValueError(f"k={k} is out of range for scores with {o.shape[1]} classes")
    t = _targets(t, o.shape[0]).astype(xp.int64)
    n = t.shape[0]
    return count_topk(o, t, k) / n if n else math.nan


def confusion_matrix(pred, target, num_classes: int):
    """Counts of (true class, predicted class) pairs as an int64 array.

    Args:
        pred: predicted class indices ``(N,)`` or scores ``(N, C)`` (their argmax is taken).
        target: true class indices ``(N,)`` (or one-hot / probability rows).
        num_classes (int): the number of classes C.

    Returns:
        ``cm`` of shape ``(C, C)``: ``cm[i, j]`` is the number of samples of class ``i``
        predicted as class ``j`` (rows are true classes, columns predictions).
    """
    p = _labels(_host(pred)).astype(xp.int64, copy=False)
    t = _targets(_host(target), p.shape[0]).astype(xp.int64, copy=False)
    c = int(num_classes)
    for name, a in (("prediction", p), ("target", t)):
        bad = (a < 0) | (a >= c)
        if bad.any():
            raise ValueError(f"{name} class {int(a[bad][0])} is out of range for "
                             f"num_classes={c}")
    return xp.bincount(t * c + p, minlength=c * c).reshape(c, c).astype(xp.int64)


def precision_recall_f1(cm) -> dict:
    """Per-class and macro-averaged precision, recall and F1 from a confusion matrix.

    Args:
        cm: a ``(C, C)`` confusion matrix, rows true classes and columns predictions.

    Returns:
        ``{"precision", "recall", "f1", "support"}`` as per-class lists, plus
        ``"macro_precision"``, ``"macro_recall"``, ``"macro_f1"`` (unweighted means over all
        classes). A ratio with a zero denominator (a class never predicted, or absent) is 0.
    """
    cm = _host(cm).astype(xp.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"expected a square confusion matrix, got shape {tuple(cm.shape)}")
    tp = xp.diagonal(cm)
    predicted, support = cm.sum(0), cm.sum(1)

    def ratio(a, b):
        return xp.divide(a, b, out=xp.zeros_like(a), where=b > 0)

    precision, recall = ratio(tp, predicted), ratio(tp, support)
    f1 = ratio(2 * precision * recall, precision + recall)
    c = cm.shape[0]
    return {"precision": precision.tolist(), "recall": recall.tolist(), "f1": f1.tolist(),
            "support": [int(s) for s in support],
            "macro_precision": float(precision.sum() / c) if c else math.nan,
            "macro_recall": float(recall.sum() / c) if c else math.nan,
            "macro_f1": float(f1.sum() / c) if c else math.nan}


def format_confusion_matrix(cm, class_names=None, width: int = 9) -> str:
    """The confusion matrix as a printable table with per-class recall and precision.

    Args:
        cm: a ``(C, C)`` confusion matrix, rows true classes and columns predictions.
        class_names (list of str, optional): one name per class; ``0..C-1`` by default.
        width (int): names longer than this are shortened. Default: 9
    """
    cm = _host(cm)
    c = cm.shape[0]
    names = [str(n) for n in (class_names if class_names is not None else range(c))]
    if len(names) != c:
        raise ValueError(f"{len(names)} class names for a {c}x{c} confusion matrix")
    short = [n if len(n) <= width else n[:width - 1] + "~" for n in names]
    prf = precision_recall_f1(cm)
    cell = max([len(s) for s in short] + [len(str(int(cm.max()))) if cm.size else 1, 6])
    head = max([len(s) for s in short] + [len("true \\ pred")])
    lines = [" " * head + "  " + " ".join(s.rjust(cell) for s in short) + "  " +
             "recall".rjust(7)]
    lines[0] = "true \\ pred".ljust(head) + lines[0][head:]
    for i in range(c):
        row = " ".join(str(int(v)).rjust(cell) for v in cm[i])
        lines.append(f"{short[i].ljust(head)}  {row}  {100 * prf['recall'][i]:6.1f}%")
    prec = " ".join(f"{100 * p:5.1f}%".rjust(cell) for p in prf["precision"])
    lines.append(f"{'precision'.ljust(head)}  {prec}")
    return "\n".join(lines)
