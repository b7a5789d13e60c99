"""A multilayer perceptron for flattened images."""
from __future__ import annotations

from ... import nn


class MLP(nn.Module):
    """Flatten -> [Linear -> ReLU -> Dropout] per hidden size -> Linear.

    Args:
        in_features: input size after flattening (784 for 1x28x28).
        hidden: sizes of the hidden layers.
        num_classes: number of output logits.
        dropout: dropout probability after each hidden layer (0 disables it).
    Shape: (N, *) with prod(*) == in_features -> (N, num_classes)
    """

    def __init__(self, in_features: int = 784, hidden=(256, 128), num_classes: int = 10,
                 dropout: float = 0.0) -> None:
        super().__init__()
        layers = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def mlp(in_features: int = 784, hidden=(256, 128), num_classes: int = 10,
        dropout: float = 0.0, **_) -> MLP:
    """An MLP; defaults suit 1x28x28 images."""
    return MLP(in_features, tuple(hidden), num_classes, dropout)
