"""A small ResNet for 28-32 px images (He et al. 2016, the CIFAR variant)."""
from __future__ import annotations

from ... import nn
from ...nn import functional as F


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 conv-BN) shortcut."""

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride,
                                                    bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """conv3x3-BN-ReLU stem, three stages of BasicBlocks (widths w, 2w, 4w; strides 1, 2, 2),
    global average pooling and a linear classifier.

    Args:
        in_channels: image channels.
        num_classes: number of output logits.
        blocks: BasicBlocks per stage (ResNet-20 is (3, 3, 3)).
        width: channels of the first stage.
    Shape: (N, in_channels, H, W) -> (N, num_classes)
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, blocks=(2, 2, 2),
                 width: int = 16) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers, planes, in_planes = [], width, width
        for i, n in enumerate(blocks):
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                layers.append(BasicBlock(in_planes, planes, stride))
                in_planes = planes
            planes *= 2
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_planes, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        return self.fc(self.pool(x).flatten(1))


def resnet(in_channels: int = 1, num_classes: int = 10, blocks=(2, 2, 2), width: int = 16,
           **_) -> ResNet:
    """A small ResNet; defaults suit 1x28x28 images."""
    return ResNet(in_channels, num_classes, tuple(blocks), width)
