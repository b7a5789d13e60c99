"""numtorch.train: a Trainer (fit / validate / test / predict) with metrics, callbacks,
progress display, LR schedules, gradient clipping, a non-finite guard, and crash-safe
checkpoints that resume bit for bit.

``plots`` (matplotlib) is imported on first access, so this package works without matplotlib.
"""
from . import metrics
from .callbacks import Callback, EarlyStopping, ProgressBar
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .trainer import NonFiniteError, Trainer

__all__ = ["Trainer", "Callback", "EarlyStopping", "ProgressBar", "NonFiniteError",
           "CheckpointError", "save_checkpoint", "load_checkpoint", "metrics", "plots"]


def __getattr__(name):
    if name == "plots":                       # optional: needs matplotlib
        import importlib
        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
