"""The Trainer's evaluation side: evaluate / validate / test / predict."""
from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..tensor import Tensor
from . import metrics as M
from ._data import eval_loader, split_batch


class EvaluateMixin:
    """evaluate, validate, test and predict for :class:`Trainer` (which supplies ``model``,
    ``loss_fn``, ``batch_size``, ``num_workers``, ``metrics`` and ``log``)."""

    def _eval_pass(self, loader, keep: bool = False) -> dict:
        """Loss and correct counts over ``loader`` in eval mode, without gradients; with
        ``keep`` also the outputs and targets as arrays."""
        model = self.model
        was_training = model.training
        model.eval()
        loss_sum, n, correct, top5 = 0.0, 0, 0, 0
        outs, targets = [], []
        try:
            with no_grad():
                for batch in loader:
                    x, y = split_batch(batch)
                    out = model(x)
                    if keep:
                        outs.append(out._data)
                    if y is None:
                        continue
                    m = y.shape[0] if y.ndim else 1
                    loss_sum += float(self.loss_fn(out, y).item()) * m
                    n += m
                    if correct is not None:
                        c = M.count_correct(out._data, y._data)
                        correct = None if c is None else correct + c
                    if top5 is not None:
                        c = M.count_topk(out._data, y._data, 5)
                        top5 = None if c is None else top5 + c
                    if keep:
                        targets.append(y._data)
        finally:
            model.train(was_training)
        res = {"loss": loss_sum / n if n else math.nan, "num_samples": n,
               "accuracy": correct / n if n and correct is not None else None,
               "top5": top5 / n if n and top5 is not None else None}
        if keep:
            res["outputs"] = xp.concatenate(outs) if outs else None
            res["targets"] = xp.concatenate(targets) if targets else None
        return res

    def _loader(self, data):
        return eval_loader(data, self.batch_size, self.num_workers)

    def evaluate(self, data) -> dict:
        """Loss and classification metrics of the model on ``data``, in eval mode.

        Args:
            data: a Dataset, a DataLoader, or an ``(inputs, targets)`` pair of Tensors.

        Returns:
            ``{"loss", "num_samples", "accuracy", "top5"}`` (``top5`` only with 5 or more
            classes) and, for class-index targets, ``"confusion_matrix"`` (an int64 array,
            rows true classes, columns predictions) with the per-class ``"precision"``,
            ``"recall"``, ``"f1"``, ``"support"`` lists and their ``"macro_*"`` means.

        The loss is the per-batch loss weighted by batch size (exact for mean reductions).
        """
        r = self._eval_pass(self._loader(data), keep=True)
        out = {"loss": r["loss"], "num_samples": r["num_samples"], "accuracy": r["accuracy"]}
        logits, targets = r["outputs"], r["targets"]
        if r["accuracy"] is None or logits is None or targets is None or logits.ndim != 2:
            return out
        classes = logits.shape[1] if logits.shape[1] > 1 else 2
        if classes >= 5:
            out["top5"] = r["top5"]
        if targets.ndim == 2:
            targets = targets.argmax(1)
        cm = M.confusion_matrix(logits, targets, classes)
        out["confusion_matrix"] = cm
        out.update(M.precision_recall_f1(cm))
        return out

    def _report(self, what: str, r: dict) -> None:
        parts = [f"{what}: loss {r['loss']:.4f}"]
        if r.get("accuracy") is not None:
            parts.append(f"acc {100 * r['accuracy']:.2f}%")
        if r.get("top5") is not None:
            parts.append(f"top5 {100 * r['top5']:.2f}%")
        if "macro_f1" in r:
            parts.append(f"macro F1 {r['macro_f1']:.4f}")
        parts.append(f"({r['num_samples']} samples)")
        self.log("  ".join(parts))

    def validate(self, data) -> dict:
        """:meth:`evaluate` on validation data, printing a one-line summary."""
        r = self.evaluate(data)
        self._report("validation", r)
        return r

    def test(self, data) -> dict:
        """:meth:`evaluate` on test data, printing a one-line summary."""
        r = self.evaluate(data)
        self._report("test", r)
        return r

    def predict(self, data) -> Tensor:
        """The model's outputs (logits) for every sample of ``data``, in order, in eval mode.

        Args:
            data: a Tensor of inputs, a Dataset (samples ``x`` or ``(x, y, ...)``), or a
                DataLoader.
        """
        r = self._eval_pass(self._loader(data), keep=True)
        if r["outputs"] is None:
            raise ValueError("predict: the data is empty")
        return Tensor._make(r["outputs"])
