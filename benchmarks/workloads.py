"""Benchmark workloads, each written once against a library namespace (numtorch or torch).

A workload is ``setup(lib) -> step`` where ``step()`` runs one timed unit of work. Workloads in
``EPOCH_WORKLOADS`` are long (one step is a whole epoch): they are timed without warm-up, one
step per repeat. A workload whose data is missing raises :class:`SkipWorkload`.
"""
from __future__ import annotations

import gzip
import os
import struct

#: Fashion-MNIST's IDX files (Debian's ``dataset-fashion-mnist`` package); override with the
#: environment variable ``NUMTORCH_FMNIST_DIR``.
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
#: images per epoch in ``fmnist_epoch`` (None: all 60,000); ``benchmarks.run --quick`` sets it
FMNIST_LIMIT = None
QUICK_LIMIT = 10_000


class SkipWorkload(Exception):
    """The workload cannot run here (e.g. its data set is not installed); the message says why."""


def _train_step(opt, model, loss_fn, X, Y):
    """One training step: zero the gradients, forward, loss, backward, optimizer step."""
    def step():
        opt.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        opt.step()
    return step


def xor_step(lib):
    """XOR 2-3-1 sigmoid network: forward, MSE loss, backward, SGD step (full batch of 4)."""
    nn = lib.nn
    lib.manual_seed(0)
    X = lib.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = lib.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1), nn.Sigmoid())
    return _train_step(lib.optim.SGD(model.parameters(), lr=0.5), model, nn.MSELoss(), X, Y)


def mlp_step(lib):
    """MLP 784-256-128-10 with ReLU, cross-entropy and Adam, batch 128."""
    nn = lib.nn
    lib.manual_seed(0)
    X = lib.randn(128, 784)
    Y = lib.randint(0, 10, (128,))
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    return _train_step(lib.optim.Adam(model.parameters(), lr=1e-3), model,
                       nn.CrossEntropyLoss(), X, Y)


def _lenet(lib, in_channels, image_size):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=2 if image_size == 28 else 0)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2 = nn.Linear(400, 120), nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x))).flatten(1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
    return Net()


def _cnn_train(lib, in_channels, image_size, batch):
    lib.manual_seed(0)
    X = lib.randn(batch, in_channels, image_size, image_size)
    Y = lib.randint(0, 10, (batch,))
    model = _lenet(lib, in_channels, image_size)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _train_step(opt, model, lib.nn.CrossEntropyLoss(), X, Y)


def cnn_cifar_train(lib):
    """Seed CNN, 3x32x32, batch 100, SGD momentum: training step."""
    return _cnn_train(lib, 3, 32, 100)


def cnn_cifar_infer(lib):
    """Seed CNN, 3x32x32, batch 100: inference under no_grad."""
    lib.manual_seed(0)
    X = lib.randn(100, 3, 32, 32)
    model = _lenet(lib, 3, 32).eval()

    def step():
        with lib.no_grad():
            model(X)
    return step


def cnn_fmnist_train(lib):
    """Seed CNN, 1x28x28, batch 64, SGD momentum: training step."""
    return _cnn_train(lib, 1, 28, 64)


def _fmnist_files():
    d = os.environ.get("NUMTORCH_FMNIST_DIR", FMNIST_DIR)
    files = [os.path.join(d, f"train-{k}-idx{n}-ubyte.gz") for k, n in (("images", 3),
                                                                          ("labels", 1))]
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise SkipWorkload(f"Fashion-MNIST not found ({', '.join(missing)} missing): install "
                           f"Debian's dataset-fashion-mnist or set NUMTORCH_FMNIST_DIR")
    return d, files


def _read_idx_gz(path):
    """Plain IDX reader (for torch): the same decoded uint8 array numtorch's reader returns."""
    import numpy as np
    with gzip.open(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        shape = struct.unpack(f">{magic & 0xFF}I", f.read(4 * (magic & 0xFF)))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(shape).copy()


def _torch_fmnist(lib, files):
    """A Dataset equivalent to torchvision's FashionMNIST + ToTensor (PIL image per item)."""
    import numpy as np
    from PIL import Image
    images, labels = (_read_idx_gz(f) for f in files)

    class FMNIST(lib.utils.data.Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            img = Image.fromarray(images[i], mode="L")  # what torchvision's MNIST does
            x = lib.from_numpy(np.array(img, copy=True)).view(28, 28, 1).permute(2, 0, 1)
            return x.contiguous().float().div(255), int(labels[i])  # ToTensor
    return FMNIST()


def fmnist_epoch(lib):
    """One epoch of the 1x28x28 seed CNN on Fashion-MNIST's training split, data loading
    included: read the IDX files, DataLoader (batch 64, shuffle) of PIL images through
    ToTensor, SGD momentum. numtorch uses ``numtorch.vision.datasets.FashionMNIST``; torch an
    equivalent plain reader (torchvision is not needed)."""
    root, files = _fmnist_files()
    lib.manual_seed(0)
    model = _lenet(lib, 1, 28)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    data = lib.utils.data

    def step():
        if lib.__name__ == "torch":
            ds = _torch_fmnist(lib, files)
        else:
            from numtorch.vision import datasets, transforms
            ds = datasets.FashionMNIST(root, train=True, transform=transforms.ToTensor())
        if FMNIST_LIMIT is not None:
            ds = data.Subset(ds, range(min(FMNIST_LIMIT, len(ds))))
        step.images = len(ds)
        for x, y in data.DataLoader(ds, batch_size=64, shuffle=True):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
    return step


def lstm_train(lib):
    """LSTM(32->128), sequence 64, batch 32, a Linear head on every step, MSE, Adam."""
    nn = lib.nn
    lib.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.head = nn.LSTM(32, 128), nn.Linear(128, 1)

        def forward(self, x):
            return self.head(self.lstm(x)[0])
    X, Y = lib.randn(64, 32, 32), lib.randn(64, 32, 1)
    model = Net()
    return _train_step(lib.optim.Adam(model.parameters(), lr=1e-3), model, nn.MSELoss(), X, Y)


def transformer_train(lib):
    """TransformerEncoderLayer(d=128, heads=4, ff=256), sequence 64, batch 32, MSE, Adam."""
    nn = lib.nn
    lib.manual_seed(0)
    layer = nn.TransformerEncoderLayer(128, 4, dim_feedforward=256)
    X, Y = lib.randn(64, 32, 128), lib.randn(64, 32, 128)
    return _train_step(lib.optim.Adam(layer.parameters(), lr=1e-3), layer, nn.MSELoss(), X, Y)


WORKLOADS = {
    "xor": (xor_step, "XOR 2-3-1 training step (full batch)"),
    "mlp": (mlp_step, "MLP 784-256-128-10, Adam, batch 128, training step"),
    "cnn_train": (cnn_cifar_train, "seed CNN 3x32x32, batch 100, training step"),
    "cnn_infer": (cnn_cifar_infer, "seed CNN 3x32x32, batch 100, inference"),
    "cnn_fmnist": (cnn_fmnist_train, "seed CNN 1x28x28, batch 64, training step"),
    "lstm": (lstm_train, "LSTM(32->128), seq 64, batch 32, Adam, training step"),
    "transformer": (transformer_train,
                    "TransformerEncoderLayer(128, 4 heads, ff 256), seq 64, batch 32, Adam step"),
    "fmnist_epoch": (fmnist_epoch, "seed CNN 1x28x28, one Fashion-MNIST epoch with data "
                                   "loading"),
}
#: workloads whose step is a whole epoch: no warm-up, one step per repeat, 1 repeat by default
EPOCH_WORKLOADS = frozenset({"fmnist_epoch"})
