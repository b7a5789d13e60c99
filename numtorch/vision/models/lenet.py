"""The seed articles' LeNet-style CNN."""
from __future__ import annotations

from ... import nn
from ...nn import functional as F


class LeNet(nn.Module):
    """conv 6@5x5 -> ReLU -> pool 2 -> conv 16@5x5 -> ReLU -> pool 2 -> 120 -> 84 -> classes.

    This is the network of the seed articles (PyTorch's CIFAR-10 tutorial net). For 1x28x28
    images (MNIST, Fashion-MNIST) the first convolution pads by 2 so that both sizes reach the
    same 16x5x5 feature map.

    Args:
        in_channels: 1 for grey images, 3 for colour.
        num_classes: number of output logits.
        image_size: 28 or 32 (28 pads the first convolution by 2).
    Shape: (N, in_channels, image_size, image_size) -> (N, num_classes)
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, image_size: int = 32) -> None:
        super().__init__()
        if image_size not in (28, 32):
            raise ValueError(f"LeNet expects 28x28 or 32x32 images, got image_size={image_size}")
        self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=2 if image_size == 28 else 0)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def lenet(in_channels: int = 1, num_classes: int = 10, image_size: int = 28) -> LeNet:
    """The seed CNN; defaults suit Fashion-MNIST (1x28x28)."""
    return LeNet(in_channels, num_classes, image_size)
