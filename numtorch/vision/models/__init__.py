"""Models for small images: the seed articles' LeNet-style CNN, an MLP, a small ResNet and a
batch-normed VGG-style CNN for Fashion-MNIST."""
from .fmnist_net import FMNISTNet, fmnist_net
from .lenet import LeNet, lenet
from .mlp import MLP, mlp
from .resnet import BasicBlock, ResNet, resnet

__all__ = ["FMNISTNet", "fmnist_net", "LeNet", "lenet", "MLP", "mlp", "BasicBlock", "ResNet",
           "resnet", "get_model", "list_models"]

_FACTORIES = {"fmnist_net": fmnist_net, "lenet": lenet, "mlp": mlp, "resnet": resnet}


def list_models() -> list:
    """Names accepted by ``get_model``."""
    return sorted(_FACTORIES)


def get_model(name: str, **kwargs):
    """Build a model by name (``'fmnist_net'``, ``'lenet'``, ``'mlp'``, ``'resnet'``) with keyword
    options."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; choose one of {list_models()}") from None
    return factory(**kwargs)
