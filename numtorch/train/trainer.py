"""Trainer: the fit / validate / test loop with metrics, callbacks, LR schedules, gradient
clipping, a non-finite guard, history files and crash-safe, bit-exact resumable checkpoints."""
from __future__ import annotations

import json
import math
import numbers
import os
import time

from .. import creation, nn
from ..autograd.anomaly_mode import first_nonfinite, set_detect_anomaly
from ..backend import xp
from ..nn.utils import clip_grad_norm_
from ..optim.lr_scheduler import ReduceLROnPlateau
from ..utils.data import DataLoader, random_split
from . import metrics as M
from ._data import _generator, eval_loader, make_batches, split_batch
from ._evaluate import EvaluateMixin
from ._state import StateMixin
from .callbacks import Callback, ProgressBar
from .checkpoint import check_writable_dir, remove_stale_temps, save_checkpoint

__all__ = ["Trainer", "NonFiniteError"]

_METRICS = ("accuracy", "top5")


class NonFiniteError(RuntimeError):
    """A loss or gradient became nan/inf; training stopped before that step's update.

    Attributes: ``epoch``, ``step`` (global optimizer step) and ``batch`` (in the epoch), all
    1-based; ``what`` (``"loss"`` or ``"gradient"``); ``op``, the op that produced the first
    non-finite value when anomaly detection found it, else None.
    """

    def __init__(self, message: str, *, epoch: int, step: int, batch: int, what: str,
                 op=None) -> None:
        super().__init__(message)
        self.epoch, self.step, self.batch, self.what, self.op = epoch, step, batch, what, op


class Trainer(EvaluateMixin, StateMixin):
    """Trains ``model`` with ``optimizer`` on a dataset, epoch by epoch.

    Args:
        model (Module): the network.
        optimizer (Optimizer): updates ``model``'s parameters.
        loss_fn (callable, optional): ``loss_fn(output, target)`` -> scalar Tensor.
            Default: ``nn.CrossEntropyLoss()``
        scheduler (LRScheduler, optional): stepped after each epoch, or after each optimizer
            step with ``scheduler_interval="step"``; ``ReduceLROnPlateau`` gets the validation
            loss (the training loss without validation).
        scheduler_interval (str): ``"epoch"`` or ``"step"``. Default: ``"epoch"``
        grad_clip (float, optional): clip the gradients' total 2-norm to this value.
        metrics (tuple of str): ``"accuracy"`` and/or ``"top5"``. Default: ``("accuracy",)``
        callbacks (list of Callback): hooks called during ``fit``.
        out_dir (str, optional): where ``last.safetensors``, ``best.safetensors``,
            ``history.json`` and ``history.csv`` go; no files without it.
        checkpoint_every (int, optional): also save ``last.safetensors`` every N optimizer
            steps, mid-epoch.
        seed (int, optional): seeds numtorch's default generator when ``fit`` starts afresh
            (dropout, random transforms), the order of the samples in each epoch and the
            validation split. None draws a seed. Default: 0
        batch_size (int): samples per batch for Datasets. Default: 64
        num_workers (int): DataLoader worker processes for Datasets. Default: 0
        progress (bool, optional): a tqdm bar per epoch; None shows it only when stderr is a
            terminal. Default: None
        quiet (bool): print nothing (no bar, no summaries). Default: False
        detect_anomaly (bool): run with autograd anomaly detection, so a non-finite value is
            traced to the op that produced it (slow). Default: False
        meta (dict, optional): JSON-able description of the run stored in every checkpoint.

    Attributes: ``epoch`` (completed epochs), ``epochs``, ``global_step``,
    ``batch_in_epoch``, ``batches_per_epoch``, ``history``, ``best``, ``should_stop``.
    """

    def __init__(self, model, optimizer, loss_fn=None, *, scheduler=None,
                 scheduler_interval: str = "epoch", grad_clip=None, metrics=("accuracy",),
                 callbacks=(), out_dir=None, checkpoint_every=None, seed=0, batch_size: int = 64,
                 num_workers: int = 0, progress=None, quiet: bool = False,
                 detect_anomaly: bool = False, meta=None) -> None:
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got "
                             f"{scheduler_interval!r}")
        if scheduler_interval == "step" and isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError("ReduceLROnPlateau needs an epoch's loss: use "
                             "scheduler_interval='epoch'")
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"grad_clip must be a positive max norm, got {grad_clip!r}")
        for name, v in (("checkpoint_every", checkpoint_every), ("batch_size", batch_size)):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers must be a non-negative integer, got {num_workers!r}")
        metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
        for m in metrics:
            if m not in _METRICS:
                raise ValueError(f"unknown metric {m!r} (known: {', '.join(_METRICS)})")
        try:
            json.dumps(meta or {})
        except (TypeError, ValueError) as e:
            raise TypeError(f"meta must be a JSON-serialisable dict: {e}") from None
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
        self.scheduler_interval, self.grad_clip, self.metrics = (scheduler_interval, grad_clip,
                                                                 metrics)
        self.out_dir = None if out_dir is None else os.fspath(out_dir)
        self.checkpoint_every, self.seed, self.batch_size = checkpoint_every, seed, batch_size
        self.num_workers, self.quiet, self.detect_anomaly = num_workers, quiet, detect_anomaly
        self.meta = dict(meta or {})
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
        if not quiet and not any(isinstance(cb, ProgressBar) for cb in self.callbacks):
            self.callbacks.insert(0, ProgressBar(bar=progress))
        self.history: list = []
        self.epoch = self.global_step = self.batch_in_epoch = self.batches_per_epoch = 0
        self.epochs = 0
        self.best = None
        self.should_stop = False
        self._run = self._fresh_run()
        self._last_saved = None

    # ---- small helpers ---------------------------------------------------------------------
    def log(self, message: str) -> None:
        """Print ``message`` unless the trainer is quiet."""
        if not self.quiet:
            print(message, flush=True)

    @staticmethod
    def _fresh_run() -> dict:
        return {"loss": 0.0, "correct": 0, "top5": 0, "seen": 0, "time": 0.0}

    def _path(self, name: str):
        return None if self.out_dir is None else os.path.join(self.out_dir, name)

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    # ---- fit ---------------------------------------------------------------------------------
    def fit(self, train_data, epochs: int, val_data=None, val_fraction=None,
            resume: bool = False) -> list:
        """Train for ``epochs`` epochs (in all, counting those of a resumed run).

        Args:
            train_data: a map-style Dataset (the Trainer batches it in a per-epoch order drawn
                from ``(seed, epoch)``) or a DataLoader.
            epochs (int): the number of epochs to reach.
            val_data: a Dataset, DataLoader or ``(inputs, targets)`` pair for validation after
                every epoch.
            val_fraction (float, optional): hold out this fraction of ``train_data`` (a Dataset)
                for validation, split with the seed.
            resume (bool): continue from ``out_dir/last.safetensors`` (start afresh, saying so,
                when there is none).

        Returns:
            The history: one dict per epoch with ``epoch``, ``train_loss``, ``train_acc``,
            ``val_loss``, ``val_acc``, ``lr`` (of the first param group, at the epoch's last
            step), ``time`` (seconds, training and validation) and ``samples_per_s``.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
        epochs = int(epochs)
        if val_fraction is not None:
            if val_data is not None:
                raise ValueError("pass val_data or val_fraction, not both")
            if isinstance(train_data, DataLoader):
                raise ValueError("val_fraction splits a Dataset; with a DataLoader pass val_data")
            if not 0 < val_fraction < 1:
                raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction!r}")
        if resume and self.out_dir is None:
            raise ValueError("resume=True needs out_dir (where last.safetensors is)")
        if self.out_dir is not None:
            check_writable_dir(self.out_dir)
            for p in remove_stale_temps(self.out_dir):
                self.log(f"removed a temporary file left by an interrupted save: {p}")
        self.epochs = epochs
        state = self._load_last() if resume else None
        if state is None:
            self._start_fresh()
        if val_fraction is not None:
            n = len(train_data)
            n_val = min(max(1, round(n * val_fraction)), n - 1)
            train_data, val_data = random_split(train_data, [n - n_val, n_val],
                                                generator=_generator(self.seed, "split"))
        self._train = make_batches(train_data, self.batch_size, self.num_workers, self.seed)
        self.batches_per_epoch = self._train.num_batches
        val_loader = None if val_data is None else eval_loader(val_data, self.batch_size,
                                                               self.num_workers)
        if state is not None:
            self._restore(state)
        self._params = [p for g in self.optimizer.param_groups for p in g["params"]
                        if p.requires_grad]
        anomaly = set_detect_anomaly(True) if self.detect_anomaly else None
        try:
            self._call("on_fit_start")
            while self.epoch < epochs and not self.should_stop:
                self._run_epoch(val_loader)
            self._call("on_fit_end", self.history)
        finally:
            if anomaly is not None:
                anomaly.__exit__()
            for cb in self.callbacks:
                if isinstance(cb, ProgressBar):
                    cb.close()
        return self.history

    def _start_fresh(self) -> None:
        if self.seed is None:
            self.seed = int(creation.seed())
        creation.manual_seed(self.seed)
        self.history, self.best, self.should_stop = [], None, False
        self.epoch = self.global_step = self.batch_in_epoch = 0
        self._run = self._fresh_run()
        self._last_saved = None

    def _run_epoch(self, val_loader) -> None:
        e, start = self.epoch, self.batch_in_epoch
        run = self._run
        self._call("on_epoch_start", e)
        batches = self._train.iterate(e, start)
        self.model.train()
        t0 = time.perf_counter() - run["time"]
        every = self.checkpoint_every
        want_top5 = "top5" in self.metrics
        for batch in batches:
            x, y = split_batch(batch)
            if y is None:
                raise TypeError("training batches must be (input, target) pairs")
            out, lv = self._step(x, y)
            n = y.shape[0] if y.ndim else x.shape[0]
            run["loss"] += lv * n
            run["seen"] += n
            od, yd = out._data, y._data
            if run["correct"] is not None:
                c = M.count_correct(od, yd)
                run["correct"] = None if c is None else run["correct"] + c
            if want_top5 and run["top5"] is not None:
                c = M.count_topk(od, yd, 5)
                run["top5"] = None if c is None else run["top5"] + c
            self.batch_in_epoch += 1
            self.global_step += 1
            seen = run["seen"]
            elapsed = time.perf_counter() - t0
            logs = {"loss": lv, "size": n, "step": self.global_step,
                    "train_loss": run["loss"] / seen,
                    "train_acc": None if run["correct"] is None else run["correct"] / seen,
                    "samples_per_s": seen / elapsed if elapsed > 0 else None}
            self._call("on_batch_end", self.batch_in_epoch, logs)
            if every and self.global_step % every == 0 and self.out_dir is not None \
                    and self.batch_in_epoch < self.batches_per_epoch:
                run["time"] = time.perf_counter() - t0
                self._save_last()
        self._end_epoch(e, t0, val_loader)

    def _step(self, x, y):
        """One optimizer step on a batch; returns (output, loss value)."""
        opt = self.optimizer
        opt.zero_grad()
        out = self.model(x)
        loss = self.loss_fn(out, y)
        lv = loss.item()
        if not math.isfinite(lv):
            raise self._nonfinite("loss", lv, loss, x=x)
        try:
            loss.backward()
        except RuntimeError as err:
            if self.detect_anomaly and "returned nan values" in str(err):
                raise self._nonfinite("gradient", math.nan, detail=str(err)) from err
            raise
        if self.grad_clip is not None:
            norm = float(clip_grad_norm_(self._params, self.grad_clip))
        else:
            norm = 0.0
            for p in self._params:
                g = p.grad
                if g is not None:
                    norm += g._data.sum()   # nan/inf anywhere makes the sum non-finite
        if not math.isfinite(norm):
            raise self._nonfinite("gradient", float(norm))
        opt.step()
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()
        return out, lv

    def _end_epoch(self, e: int, t0: float, val_loader) -> None:
        run = self._run
        train_time = time.perf_counter() - t0
        seen = run["seen"]
        lr = float(self.optimizer.param_groups[0]["lr"])
        logs = {"epoch": e + 1, "train_loss": run["loss"] / seen if seen else math.nan,
                "train_acc": run["correct"] / seen if seen and run["correct"] is not None
                else None, "val_loss": None, "val_acc": None}
        if "top5" in self.metrics:
            logs["train_top5"] = run["top5"] / seen if seen and run["top5"] is not None \
                else None
        if val_loader is not None:
            r = self._eval_pass(val_loader)
            logs["val_loss"], logs["val_acc"] = r["loss"], r["accuracy"]
            if "top5" in self.metrics:
                logs["val_top5"] = r["top5"]
        logs.update(lr=lr, time=time.perf_counter() - t0,
                    samples_per_s=seen / train_time if train_time > 0 else 0.0)
        monitor = logs["val_loss"] if logs["val_loss"] is not None else logs["train_loss"]
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            if isinstance(self.scheduler, ReduceLROnPlateau):
                self.scheduler.step(monitor)
            else:
                self.scheduler.step()
        self.history.append(logs)
        self.epoch, self.batch_in_epoch, self._run = e + 1, 0, self._fresh_run()
        improved = self.best is None or monitor < self.best
        if improved:
            self.best = monitor
        self._call("on_epoch_end", e, logs)
        if self.out_dir is not None:
            self._write_history()
            if improved:
                save_checkpoint(self._path("best.safetensors"), self.model, epoch=self.epoch,
                                step=self.global_step, meta=self.meta,
                                extra={"metrics": {k: v for k, v in logs.items()
                                                   if v is not None}})
            self._save_last()

    # ---- the non-finite guard ----------------------------------------------------------------
    def _nonfinite(self, what: str, value: float, loss=None, detail=None,
                   x=None) -> NonFiniteError:
        where = (f"epoch {self.epoch + 1}/{self.epochs}, step {self.global_step + 1} (batch "
                 f"{self.batch_in_epoch + 1}/{self.batches_per_epoch} of the epoch)")
        msg = f"non-finite {what} ({value}) at {where}"
        op = None
        bad_params = [n for n, p in self.model.named_parameters()
                      if not xp.isfinite(p._data).all()]
        if bad_params:
            msg += f"; parameters already non-finite: {', '.join(bad_params[:8])}"
        xd = getattr(x, "_data", None)
        if xd is not None and xd.dtype.kind == "f" and not xp.isfinite(xd).all():
            msg += "; the input batch holds non-finite values"
        if detail is not None:
            op = detail.split("'")[1] if "'" in detail else None
            msg += f": {detail.rstrip('.')}"
        elif what == "loss" and loss is not None and loss._node is not None:
            found = first_nonfinite(loss._node)
            if found:
                node = found[0]
                op = node.name()
                trace = getattr(node, "_anomaly_trace", "").strip().splitlines()
                at = f", created at {trace[-2].strip()}" if len(trace) >= 2 else ""
                msg += f"; the first non-finite value came from {node.fn.__name__} ({op}){at}"
            elif not self.detect_anomaly:
                msg += "; run with detect_anomaly=True to find the op that produced it"
        elif what == "gradient":
            grads = [n for n, p in self.model.named_parameters()
                     if p.grad is not None and not xp.isfinite(p.grad._data).all()]
            if grads:
                msg += f"; non-finite gradients in {', '.join(grads[:8])}" + (
                    f" and {len(grads) - 8} more" if len(grads) > 8 else "")
        msg += "; stopped before the optimizer step"
        if self._last_saved is not None:
            msg += (f"; {self._last_saved[0]} (epoch {self._last_saved[1]}, step "
                    f"{self._last_saved[2]}) is untouched")
        return NonFiniteError(msg, epoch=self.epoch + 1, step=self.global_step + 1,
                              batch=self.batch_in_epoch + 1, what=what, op=op)
