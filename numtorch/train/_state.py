"""The Trainer's checkpoint side: what ``last.safetensors`` holds, saving it, resuming from it,
and the history files."""
from __future__ import annotations

import json
import os

from .. import creation
from .checkpoint import CheckpointError, atomic_write_text, load_checkpoint, save_checkpoint

_HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "time",
                 "samples_per_s")


class StateMixin:
    """Checkpointing and resume for :class:`Trainer`."""

    def _trainer_state(self) -> dict:
        return {"global_step": self.global_step, "batch": self.batch_in_epoch,
                "history": self.history, "best": self.best, "seed": self.seed,
                "stopped": self.should_stop, "rng": creation.get_rng_state(),
                "running": dict(self._run), "data": self._train.state(),
                "callbacks": [[type(cb).__name__, cb.state_dict()] for cb in self.callbacks]}

    def _save_last(self) -> None:
        path = self._path("last.safetensors")
        save_checkpoint(path, self.model, self.optimizer, self.scheduler, epoch=self.epoch,
                        step=self.global_step, meta=self.meta,
                        extra={"trainer": self._trainer_state()})
        self._last_saved = (path, self.epoch, self.global_step)

    def _load_last(self):
        path = self._path("last.safetensors")
        if not os.path.exists(path):
            self.log(f"no checkpoint at {path}: starting from scratch")
            return None
        info = load_checkpoint(path, self.model, self.optimizer, self.scheduler)
        state = info["extra"].get("trainer")
        if not isinstance(state, dict):
            raise CheckpointError(f"can't resume from {path!r}: it holds no Trainer state")
        state["epoch"] = info["epoch"]
        if self.seed is not None and state["seed"] != self.seed:
            self.log(f"resuming with the checkpoint's seed {state['seed']} (not {self.seed})")
        self.seed = state["seed"]
        self._last_saved = (path, info["epoch"], info["step"])
        return state

    def _restore(self, state: dict) -> None:
        data = state["data"]
        if state["batch"] and (data["kind"] != self._train.kind or data["n"] != self._train.n
                               or data["batch_size"] != self._train.batch_size):
            raise ValueError(
                f"can't resume mid-epoch: the checkpoint was written for a {data['kind']} of "
                f"{data['n']} samples in batches of {data['batch_size']}, but this run has a "
                f"{self._train.kind} of {self._train.n} samples in batches of "
                f"{self._train.batch_size}")
        self._train.load_state(data)
        self.epoch, self.batch_in_epoch = state["epoch"], state["batch"]
        self.global_step, self.best = state["global_step"], state["best"]
        self.history, self.should_stop = list(state["history"]), state["stopped"]
        self._run = dict(state["running"])
        saved = state["callbacks"]
        for i, cb in enumerate(self.callbacks):
            if i < len(saved) and saved[i][0] == type(cb).__name__:
                cb.load_state_dict(saved[i][1])
            elif cb.state_dict():
                self.log(f"warning: no saved state for callback {type(cb).__name__} #{i}")
        creation.set_rng_state(state["rng"])
        if self.should_stop or self.epoch >= self.epochs:
            self.log(f"{self._last_saved[0]}: training already finished ({self.epoch} epochs, "
                     f"step {self.global_step}{', stopped early' if self.should_stop else ''})")
        else:
            self.log(f"resuming from {self._last_saved[0]} at epoch {self.epoch + 1}, batch "
                     f"{self.batch_in_epoch + 1} of {self.batches_per_epoch} (step "
                     f"{self.global_step})")

    def _write_history(self) -> None:
        atomic_write_text(json.dumps(self.history, indent=1, allow_nan=True),
                          self._path("history.json"))
        keys = list(_HISTORY_KEYS) + sorted({k for h in self.history for k in h}
                                            - set(_HISTORY_KEYS))
        rows = [",".join(keys)]
        for h in self.history:
            rows.append(",".join("" if h.get(k) is None else repr(h[k]) for k in keys))
        atomic_write_text("\n".join(rows) + "\n", self._path("history.csv"))
