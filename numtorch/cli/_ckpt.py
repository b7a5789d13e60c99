"""Reading ``numtorch train`` checkpoints back: the model description and the weights."""
from __future__ import annotations

from ..serialization import CheckpointError
from . import _models
from ._common import CLIError, check_checkpoint_file

META_KEYS = ("model", "model_kwargs", "class_names", "input_shape", "mean", "std")


def read(path: str) -> dict:
    """The checkpoint's contents (``load_checkpoint`` without objects to fill), or CLIError."""
    from ..train import load_checkpoint
    check_checkpoint_file(path)
    try:
        return load_checkpoint(path)
    except CheckpointError as e:
        raise CLIError(str(e)) from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CLIError(f"can't read checkpoint {path!r}: {e}") from None


def meta_of(path: str, ckpt: dict, model: str | None = None,
            model_kwargs: dict | None = None) -> dict:
    """The CLI's model description in the checkpoint, with ``--model``/``--model-kwargs``
    overrides applied; CLIError when a needed entry is missing."""
    meta = dict(ckpt.get("meta") or {})
    if model and model != meta.get("model"):
        _models.check_name(model)
        if "input_shape" in meta and "class_names" in meta:   # the new model, same inputs
            meta["model_kwargs"] = _models.model_kwargs(
                model, tuple(meta["input_shape"]), len(meta["class_names"]), {})
        meta["model"] = model
    if model_kwargs:
        meta["model_kwargs"] = {**meta.get("model_kwargs", {}), **model_kwargs}
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise CLIError(f"checkpoint {path!r} does not say how to rebuild its model (no "
                       f"{', '.join(missing)} in its meta): it was not written by 'numtorch "
                       "train'")
    return meta


def restore(path: str, ckpt: dict, meta: dict):
    """The model described by ``meta`` with the checkpoint's weights loaded (eval mode)."""
    from ..train import load_checkpoint
    model = _models.build(meta["model"], dict(meta["model_kwargs"]))
    try:
        load_checkpoint(path, model)
    except CheckpointError as e:
        raise CLIError(str(e)) from None
    except RuntimeError as e:          # names the file, the model and every mismatched key
        raise CLIError(str(e)) from None
    except (KeyError, ValueError) as e:
        raise CLIError(f"checkpoint {path!r} does not fit model {meta['model']!r}: {e}") \
            from None
    model.eval()
    return model
