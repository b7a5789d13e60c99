"""Vision datasets read from the files a user has, as ``torchvision.datasets``.

MNIST / FashionMNIST (IDX files), CIFAR10 / CIFAR100 (python-version pickled batches, read
through a restricted unpickler), and DatasetFolder / ImageFolder (one folder per class).
"""
from .cifar import CIFAR10, CIFAR100
from .folder import DatasetFolder, ImageFolder
from .mnist import MNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "DatasetFolder", "FashionMNIST", "ImageFolder", "MNIST",
           "StandardTransform", "VisionDataset"]
