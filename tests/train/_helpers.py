"""Tiny synthetic datasets and models for the Trainer tests."""
import numpy as np

import numtorch
from numtorch.utils.data import Dataset, TensorDataset


def blobs(n=240, features=8, classes=3, seed=0):
    """A linearly separable classification set: labels are the argmax of a random projection."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = (x @ rng.standard_normal((features, classes))).argmax(1).astype(np.int64)
    return TensorDataset(numtorch.from_numpy(x), numtorch.from_numpy(y))


def mlp(features=8, classes=3, hidden=16, dropout=0.0, seed=1):
    numtorch.manual_seed(seed)
    layers = [numtorch.nn.Linear(features, hidden), numtorch.nn.ReLU()]
    if dropout:
        layers.append(numtorch.nn.Dropout(dropout))
    return numtorch.nn.Sequential(*layers, numtorch.nn.Linear(hidden, classes))


class NoisyDataset(Dataset):
    """Adds noise drawn from numtorch's default generator to every sample (a random
    transform)."""

    def __init__(self, base, scale=0.1):
        self.base, self.scale = base, scale

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        x, y = self.base[i]
        return x + self.scale * numtorch.randn(*x.shape), y


def same_params(a, b):
    return all(np.array_equal(p.detach().numpy(), q.detach().numpy())
               for p, q in zip(a.state_dict().values(), b.state_dict().values()))
