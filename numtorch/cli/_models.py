"""Building the CLI's models: the vision.models by name, or a user's ``module:factory``."""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import sys

from ..vision import models as _models
from ._common import CLIError, UsageError

NAMES = ("lenet", "mlp", "resnet", "fmnist_net")


def parse_kwargs(text: str | None) -> dict:
    """The ``--model-kwargs`` JSON object (``'{"hidden": [512, 256]}'``) as a dict."""
    if not text:
        return {}
    try:
        kw = json.loads(text)
    except ValueError as e:
        raise UsageError(f"--model-kwargs is not valid JSON ({e}): {text!r}") from None
    if not isinstance(kw, dict):
        raise UsageError(f"--model-kwargs must be a JSON object like '{{\"width\": 32}}', "
                         f"got {text!r}")
    return kw


def model_kwargs(name: str, input_shape, num_classes: int, extra: dict) -> dict:
    """The keyword arguments that build ``name`` for images of ``input_shape`` (C, H, W)."""
    c, h, w = input_shape
    if name == "mlp":
        kw = {"in_features": c * h * w, "num_classes": num_classes}
    elif name == "resnet":
        kw = {"in_channels": c, "num_classes": num_classes}
    elif name in ("lenet", "fmnist_net"):
        if h != w:
            raise CLIError(f"model {name!r} needs square images, got {h}x{w}")
        kw = {"in_channels": c, "num_classes": num_classes, "image_size": h}
    else:
        params = _factory_params(_load_factory(name))
        offer = {"in_channels": c, "num_classes": num_classes, "image_size": h,
                 "input_shape": [c, h, w]}
        kw = {k: v for k, v in offer.items() if params is None or k in params}
    kw.update(extra)
    return kw


def build(name: str, kwargs: dict):
    """Build model ``name`` (a vision.models name or ``module:factory``) with ``kwargs``."""
    if name in NAMES:
        factory = getattr(_models, name)
    else:
        factory = _load_factory(name)
    try:
        model = factory(**kwargs)
    except (TypeError, ValueError) as e:
        raise CLIError(f"can't build model {name!r} with {kwargs}: {e}") from None
    from ..nn import Module
    if not isinstance(model, Module):
        raise CLIError(f"model factory {name!r} returned a {type(model).__name__}, not an "
                       "nn.Module")
    return model


def check_name(name: str) -> None:
    """UsageError unless ``name`` is a known model or looks like ``module:factory``."""
    if name in NAMES:
        return
    if ":" not in name:
        raise UsageError(f"unknown model {name!r}; choose one of {', '.join(NAMES)} or give a "
                         "Python factory as module:function (e.g. mypkg.nets:build)")
    _load_factory(name)


def _load_factory(spec: str):
    """The callable named by ``module:attr`` or ``path/to/file.py:attr``."""
    mod_name, _, attr = spec.rpartition(":")
    if not mod_name or not attr:
        raise UsageError(f"model {spec!r} should be module:function (e.g. mypkg.nets:build)")
    try:
        if mod_name.endswith(".py") or os.sep in mod_name:
            if not os.path.isfile(mod_name):
                raise UsageError(f"model {spec!r}: file {mod_name!r} does not exist")
            key = "_numtorch_user_model_" + os.path.splitext(os.path.basename(mod_name))[0]
            module = sys.modules.get(key)
            if module is None:
                spec_ = importlib.util.spec_from_file_location(key, mod_name)
                module = importlib.util.module_from_spec(spec_)
                sys.modules[key] = module
                spec_.loader.exec_module(module)
        else:
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())  # as `python -m` does: the user's own modules
            module = importlib.import_module(mod_name)
    except ImportError as e:
        raise UsageError(f"model {spec!r}: can't import module {mod_name!r} ({e})") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise UsageError(f"model {spec!r}: module {mod_name!r} has no callable {attr!r}")
    return factory


def _factory_params(factory):
    """The factory's keyword parameter names, or None when it takes ``**kwargs``."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return {n for n, p in sig.parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
