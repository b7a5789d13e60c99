"""Training checkpoints: model, optimizer and scheduler states plus epoch/step, a JSON-able
``meta`` dict and trainer ``extra`` state, in one safetensors file written atomically.

A checkpoint is written with ``numtorch.save``, which writes a temporary file in the target's
directory, flushes and fsyncs it, renames it over the target and fsyncs the directory: a
reader (or a run resumed after SIGKILL) sees the old file or the new one, never a mix. A
killed save leaves only a hidden ``.NAME.<12 hex>.tmp`` file, which :func:`remove_stale_temps`
deletes.

Testing hook: ``NUMTORCH_TEST_SAVE_DELAY`` (seconds; read by ``numtorch.save``) sleeps between
writing the complete temporary file and renaming it, so tests can kill a process mid-save.
"""
from __future__ import annotations

import contextlib
import os
import re

from ..serialization import CheckpointError, _fsync_dir, _make_temp, load, save
from ..tensor import Tensor

__all__ = ["save_checkpoint", "load_checkpoint", "remove_stale_temps", "atomic_write_text",
           "check_writable_dir", "CheckpointError"]

FORMAT = "numtorch.train.checkpoint"
_TEMP = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")
_SHOW = 8                       # mismatched keys listed by name before "... and N more"


def atomic_write_text(text: str, path: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file, flush, fsync, rename)."""
    path = os.fspath(path)
    try:
        tmp = _make_temp(os.path.dirname(path) or ".", os.path.basename(path))
        try:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as e:                       # full disk, read-only file system: name the file
        raise OSError(e.errno, f"can't write {path!r}: {e.strerror or e}") from e
    _fsync_dir(os.path.dirname(path))


def check_writable_dir(directory) -> None:
    """Create ``directory`` if needed and check that files can be written in it, so that a run
    fails at once rather than at its first checkpoint.

    Raises:
        PermissionError / NotADirectoryError / OSError: naming the directory and the cause.
    """
    directory = os.fspath(directory)
    try:
        os.makedirs(directory, exist_ok=True)
        os.unlink(_make_temp(directory, "write-test"))
    except OSError as e:
        raise type(e)(e.errno, f"can't write to the output directory {directory!r}: "
                      f"{e.strerror}") from None


def remove_stale_temps(directory) -> list:
    """Delete temporary files left in ``directory`` by killed saves; return their paths.

    Only hidden files named like this module's (and ``numtorch.save``'s) temporaries,
    ``.NAME.<12 hex digits>.tmp``, are touched. Do not call it while another process is saving
    into the same directory.
    """
    removed = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return removed
    for name in sorted(names):
        path = os.path.join(directory, name)
        if _TEMP.match(name) and os.path.isfile(path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                removed.append(path)
    return removed


def save_checkpoint(path, model, optimizer=None, scheduler=None, *, epoch: int = 0,
                    step: int = 0, meta=None, extra=None) -> str:
    """Save a training checkpoint to ``path`` atomically; return the path.

    Args:
        path: the file to write (conventionally ``*.safetensors``).
        model (Module): its ``state_dict()`` is saved.
        optimizer (Optimizer, optional): its ``state_dict()`` is saved.
        scheduler (LRScheduler, optional): its ``state_dict()`` is saved.
        epoch (int): completed epochs.
        step (int): optimizer steps taken in all.
        meta (dict, optional): JSON-able description of the run (model name and arguments,
            dataset, class names, input shape, normalisation) for rebuilding the model.
        extra (dict, optional): any further state (tensors, numbers, strings, lists, dicts).
    """
    obj = {"format": FORMAT, "version": 1, "model_class": type(model).__name__,
           "model": model.state_dict(),
           "optimizer": None if optimizer is None else optimizer.state_dict(),
           "scheduler": None if scheduler is None else scheduler.state_dict(),
           "epoch": int(epoch), "step": int(step), "meta": dict(meta or {}),
           "extra": dict(extra or {})}
    save(obj, path)
    return os.fspath(path)


def _names(keys) -> str:
    keys = list(keys)
    shown = ", ".join(keys[:_SHOW])
    return shown + (f", ... and {len(keys) - _SHOW} more" if len(keys) > _SHOW else "")


def check_model_state(state: dict, model, src: str = "the checkpoint") -> None:
    """Raise RuntimeError listing missing, unexpected and wrongly shaped keys when ``state``
    does not fit ``model``."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k} (checkpoint {tuple(v.shape)}, model {tuple(own[k].shape)})"
              for k, v in state.items()
              if k in own and isinstance(v, Tensor) and tuple(v.shape) != tuple(own[k].shape)]
    if not (missing or unexpected or shapes):
        return
    parts = []
    if missing:
        parts.append(f"missing keys: {_names(missing)}")
    if unexpected:
        parts.append(f"unexpected keys: {_names(unexpected)}")
    if shapes:
        parts.append(f"shape mismatch: {_names(shapes)}")
    raise RuntimeError(f"{src} does not match the model ({type(model).__name__}): "
                       + "; ".join(parts))


def load_checkpoint(path, model=None, optimizer=None, scheduler=None) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` into the given objects.

    A plain ``numtorch.save(model.state_dict(), path)`` file is accepted as a model-only
    checkpoint.

    Args:
        path: the checkpoint file.
        model (Module, optional): receives the model state.
        optimizer (Optimizer, optional): receives the optimizer state.
        scheduler (LRScheduler, optional): receives the scheduler state.

    Returns:
        ``{"epoch", "step", "meta", "extra", "model_class", "path", "model_state",
        "optimizer_state", "scheduler_state"}``.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: the file is empty, truncated, not a safetensors file, not a numtorch
            checkpoint, or lacks the optimizer / scheduler state asked for.
        RuntimeError: the model's keys or shapes differ from the checkpoint's (all mismatched
            keys are listed).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a directory, not a checkpoint file")
    obj = load(path)
    src = f"checkpoint {path!r}"
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        ckpt = obj
    elif isinstance(obj, dict) and obj and all(isinstance(v, Tensor) for v in obj.values()):
        ckpt = {"model": obj, "optimizer": None, "scheduler": None, "epoch": 0, "step": 0,
                "meta": {}, "extra": {}, "model_class": None}
    else:
        raise CheckpointError(f"can't load {path!r}: not a numtorch training checkpoint (no "
                              "model state in it)")
    state = ckpt.get("model")
    if not isinstance(state, dict):
        raise CheckpointError(f"can't load {path!r}: the model state is missing")
    if model is not None:
        check_model_state(state, model, src)
        model.load_state_dict(state)
    for obj_, key in ((optimizer, "optimizer"), (scheduler, "scheduler")):
        if obj_ is None:
            continue
        sd = ckpt.get(key)
        if sd is None:
            raise CheckpointError(f"can't load {path!r}: it holds no {key} state")
        try:
            obj_.load_state_dict(sd)
        except (KeyError, ValueError, TypeError) as e:
            raise type(e)(f"{src}: the {key} state does not fit the {key} "
                          f"({type(obj_).__name__}): {e}") from e
    return {"epoch": int(ckpt.get("epoch", 0)), "step": int(ckpt.get("step", 0)),
            "meta": ckpt.get("meta") or {}, "extra": ckpt.get("extra") or {},
            "model_class": ckpt.get("model_class"), "path": path, "model_state": state,
            "optimizer_state": ckpt.get("optimizer"), "scheduler_state": ckpt.get("scheduler")}
