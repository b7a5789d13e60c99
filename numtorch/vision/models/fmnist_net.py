"""A small VGG-style CNN with batch norm for 28x28 grey images (Fashion-MNIST, MNIST)."""
from __future__ import annotations

from ... import nn


def _block(cin: int, cout: int) -> list:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True)]


class FMNISTNet(nn.Module):
    """conv-BN-ReLU x2 -> pool 2 -> conv-BN-ReLU x2 -> pool 2 -> dropout -> FC -> classes.

    Widths ``c1`` (two 3x3 convolutions at full resolution) and ``c2`` (two at half
    resolution), then a hidden fully connected layer of ``hidden`` units with batch norm.

    Args:
        in_channels: 1 for grey images.
        num_classes: number of output logits.
        c1: channels of the first two convolutions.
        c2: channels of the last two convolutions.
        hidden: units of the hidden fully connected layer.
        dropout: dropout probability before each fully connected layer.
        image_size: side of the square input (divisible by 4).
    Shape: (N, in_channels, image_size, image_size) -> (N, num_classes)
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, c1: int = 32, c2: int = 64,
                 hidden: int = 256, dropout: float = 0.25, image_size: int = 28) -> None:
        super().__init__()
        if image_size % 4:
            raise ValueError(f"FMNISTNet expects an image_size divisible by 4, got {image_size}")
        self.features = nn.Sequential(
            *_block(in_channels, c1), *_block(c1, c1), nn.MaxPool2d(2),
            *_block(c1, c2), *_block(c2, c2), nn.MaxPool2d(2))
        side = image_size // 4
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(c2 * side * side, hidden, bias=False),
            nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def fmnist_net(in_channels: int = 1, num_classes: int = 10, c1: int = 32, c2: int = 64,
               hidden: int = 256, dropout: float = 0.25, image_size: int = 28) -> FMNISTNet:
    """The strong Fashion-MNIST CNN; defaults suit 1x28x28 images."""
    return FMNISTNet(in_channels, num_classes, c1, c2, hidden, dropout, image_size)
