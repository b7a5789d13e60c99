"""Models for small images: the seed articles' LeNet-style CNN, an MLP, and a small ResNet."""
from .lenet import LeNet, lenet
from .mlp import MLP, mlp
from .resnet import BasicBlock, ResNet, resnet

__all__ = ["LeNet", "lenet", "MLP", "mlp", "BasicBlock", "ResNet", "resnet", "get_model",
           "list_models"]

_FACTORIES = {"lenet": lenet, "mlp": mlp, "resnet": resnet}


def list_models() -> list:
    """Names accepted by ``get_model``."""
    return sorted(_FACTORIES)


def get_model(name: str, **kwargs):
    """Build a model by name (``'lenet'``, ``'mlp'``, ``'resnet'``) with keyword options."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; choose one of {list_models()}") from None
    return factory(**kwargs)
