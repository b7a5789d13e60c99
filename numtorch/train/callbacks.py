"""Callbacks for :class:`~numtorch.train.Trainer`: the hook base class, early stopping and the
progress display (tqdm bar per epoch plus a one-line summary)."""
from __future__ import annotations

import math
import sys
import time
import warnings

__all__ = ["Callback", "EarlyStopping", "ProgressBar"]


class Callback:
    """Base class of Trainer callbacks; override the hooks you need.

    Every hook gets the :class:`Trainer` (``trainer.model``, ``trainer.optimizer``,
    ``trainer.history``, ``trainer.epoch``, ``trainer.global_step``...); set
    ``trainer.should_stop = True`` to end training after the current epoch. A callback with
    state that must survive a resume returns it from ``state_dict`` (numbers, strings, lists,
    dicts, Tensors) and takes it back in ``load_state_dict``.
    """

    def on_fit_start(self, trainer) -> None:
        """Called once when ``fit`` starts (after a resume has restored the state)."""

    def on_epoch_start(self, trainer, epoch: int) -> None:
        """Called before the first batch of epoch ``epoch`` (0-based); on a resume mid-epoch,
        ``trainer.batch_in_epoch`` batches of it are already done."""

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None:
        """Called after each optimizer step. ``batch`` is the 1-based batch number in the
        epoch; ``logs`` has ``loss`` (this batch), ``size``, ``step`` (global, 1-based) and the
        running ``train_loss`` / ``train_acc`` of the epoch."""

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        """Called after validation, with the epoch's history entry as ``logs``; checkpoints
        are written after this hook, so state changed here is saved."""

    def on_fit_end(self, trainer, history: list) -> None:
        """Called once when ``fit`` finishes normally."""

    def state_dict(self) -> dict:
        """State saved in checkpoints (empty by default)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore the state returned by :meth:`state_dict`."""


class EarlyStopping(Callback):
    """Stop training when a monitored value has stopped improving.

    Args:
        monitor (str): a key of the epoch logs, e.g. ``"val_loss"``, ``"val_acc"``,
            ``"train_loss"``. Default: ``"val_loss"``
        patience (int): stop after this many epochs in a row without improvement (0: at
            the first one). Default: 5
        min_delta (float): smallest change that counts as an improvement. Default: 0.0
        mode (str): ``"min"``, ``"max"``, or ``"auto"`` (``"max"`` for names containing
            ``acc``, else ``"min"``). Default: ``"auto"``
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto") -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping mode must be 'auto', 'min' or 'max', got {mode!r}")
        if int(patience) != patience or patience < 0:
            raise ValueError(f"EarlyStopping patience must be a non-negative integer, got "
                             f"{patience!r}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping min_delta must be >= 0, got {min_delta!r}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        self.best = None
        self.wait = 0
        self.stopped_epoch = None
        self._warned = False

    def improved(self, value: float) -> bool:
        """True when ``value`` beats the best so far by more than ``min_delta``."""
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = logs.get(self.monitor)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if not self._warned:
                known = ", ".join(k for k, v in logs.items() if isinstance(v, (int, float)))
                warnings.warn(f"EarlyStopping: {self.monitor!r} is not in the epoch logs (no "
                              f"validation data?); available: {known}", stacklevel=2)
                self._warned = True
            return
        if self.improved(value):
            self.best, self.wait = float(value), 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch + 1
            trainer.should_stop = True
            trainer.log(f"early stopping after epoch {epoch + 1}: {self.monitor} has not "
                        f"improved on {self.best:.4g} for {self.wait} epochs")

    def state_dict(self) -> dict:
        return {"best": self.best, "wait": self.wait, "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.wait = state["best"], state["wait"]
        self.stopped_epoch = state["stopped_epoch"]


def _fmt_pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def summary_line(logs: dict, epochs: int) -> str:
    """``epoch 3/12  train loss 0.412 acc 85.1%  val loss 0.389 acc 86.0%  lr 0.02  41.2 s
    1450 samples/s`` (parts without a value are left out)."""
    parts = [f"epoch {logs['epoch']}/{epochs}", f"train loss {logs['train_loss']:.4f}"
             + (f" acc {_fmt_pct(logs['train_acc'])}" if logs.get("train_acc") is not None
                else "")]
    if logs.get("val_loss") is not None:
        parts.append(f"val loss {logs['val_loss']:.4f}" + (
            f" acc {_fmt_pct(logs['val_acc'])}" if logs.get("val_acc") is not None else ""))
    parts.append(f"lr {logs['lr']:.4g}")
    t = logs["time"]
    parts.append(f"{t:.1f} s" if t >= 10 else f"{t:.2f} s")
    parts.append(f"{logs['samples_per_s']:.0f} samples/s")
    return "  ".join(parts)


class ProgressBar(Callback):
    """A tqdm progress bar per epoch (loss, accuracy and samples/s in its postfix) and a
    one-line summary per epoch on stdout; silent when the trainer is ``quiet``.

    Args:
        bar (bool, optional): show the bar; ``None`` (default) shows it only when stderr is a
            terminal. Without tqdm installed there is no bar.
        summary (bool): print the per-epoch summary line. Default: True
        file: where the bar goes. Default: ``sys.stderr``
        **tqdm_kwargs: passed on to ``tqdm`` (e.g. ``mininterval``, ``ncols``).
    """

    def __init__(self, bar=None, summary: bool = True, file=None, **tqdm_kwargs) -> None:
        self.bar, self.summary, self.file = bar, summary, file
        self.tqdm_kwargs = tqdm_kwargs
        self._tqdm = None
        self._pbar = None
        self._next = 0.0

    def _want_bar(self) -> bool:
        if self.bar is False:
            return False
        if self.bar is None:
            f = self.file or sys.stderr
            if not (hasattr(f, "isatty") and f.isatty()):
                return False
        if self._tqdm is None:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                if self.bar:
                    warnings.warn("ProgressBar: tqdm is not installed (pip install tqdm or "
                                  "numtorch[progress]): no progress bar", stacklevel=3)
                self.bar = False
                return False
            self._tqdm = tqdm
        return True

    def on_epoch_start(self, trainer, epoch: int) -> None:
        if getattr(trainer, "quiet", False) or not self._want_bar():
            return
        self._pbar = self._tqdm(total=trainer.batches_per_epoch, initial=trainer.batch_in_epoch,
                                desc=f"epoch {epoch + 1}/{trainer.epochs}", unit="batch",
                                leave=False, file=self.file or sys.stderr,
                                **{"dynamic_ncols": True, **self.tqdm_kwargs})
        self._next = 0.0

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None:
        pbar = self._pbar
        if pbar is None:
            return
        pbar.update(1)
        now = time.perf_counter()
        if now >= self._next:                  # the postfix costs more than the bar: rate-limit
            self._next = now + 0.25
            post = {"loss": f"{logs['train_loss']:.4f}"}
            if logs.get("train_acc") is not None:
                post["acc"] = _fmt_pct(logs["train_acc"])
            rate = logs.get("samples_per_s")
            if rate:
                post["samples/s"] = f"{rate:.0f}"
            pbar.set_postfix(post, refresh=False)

    def close(self) -> None:
        """Close the current bar, if any (the Trainer calls this when fit ends or fails)."""
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        self.close()
        if self.summary and not getattr(trainer, "quiet", False):
            print(summary_line(logs, trainer.epochs), flush=True)

    def on_fit_end(self, trainer, history: list) -> None:
        self.close()
