"""The seed articles' LeNet-style CNN trained on Fashion-MNIST, then tested.

The articles train conv 6@5x5 -> pool -> conv 16@5x5 -> pool -> 120 -> 84 -> 10 with SGD and
momentum 0.9 on CIFAR-10; here the same network (first convolution padded by 2 for 28x28 images)
learns Fashion-MNIST. ``--framework torch`` runs the identical recipe in PyTorch (same data
decoding, same batches, same initial weights copied through state_dict) for comparison.

Run: python examples/fashion_mnist_cnn.py [--epochs 12] [--lr 0.02] [--framework numtorch|torch]
Data: Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist) or --root DIR.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import numtorch
from numtorch.vision import datasets, models

MEAN, STD = 0.2860, 0.3530          # Fashion-MNIST training-set pixel statistics


def load_arrays(root: str):
    """Images as normalised float32 (N, 1, 28, 28) arrays and int64 labels."""
    out = []
    for train in (True, False):
        ds = datasets.FashionMNIST(root, train=train)
        x = (ds.data.numpy().astype(np.float32) / 255.0 - MEAN) / STD
        out += [x[:, None], ds.targets.numpy().astype(np.int64)]
    return out


def build(lib, seed: int):
    """The seed CNN in ``lib``, with numtorch's initial weights (copied for torch)."""
    numtorch.manual_seed(seed)
    ref = models.lenet(in_channels=1, num_classes=10, image_size=28)
    if lib is numtorch:
        return ref
    import torch
    import torch.nn as tnn
    import torch.nn.functional as TF

    class TorchLeNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(1, 6, 5, padding=2)
            self.pool = tnn.MaxPool2d(2, 2)
            self.conv2 = tnn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = (tnn.Linear(400, 120), tnn.Linear(120, 84),
                                            tnn.Linear(84, 10))

        def forward(self, x):
            x = self.pool(TF.relu(self.conv1(x)))
            x = self.pool(TF.relu(self.conv2(x))).flatten(1)
            return self.fc3(TF.relu(self.fc2(TF.relu(self.fc1(x)))))

    net = TorchLeNet()
    net.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                         for k, v in ref.state_dict().items()})
    return net


def evaluate(lib, model, x, y, batch_size=1000):
    model.eval()
    correct, loss_sum = 0, 0.0
    with lib.no_grad():
        for i in range(0, len(x), batch_size):
            xb, yb = lib.from_numpy(x[i:i + batch_size]), lib.from_numpy(y[i:i + batch_size])
            out = model(xb)
            loss_sum += lib.nn.functional.cross_entropy(out, yb, reduction="sum").item()
            correct += (out.argmax(1) == yb).sum().item()
    model.train()
    return loss_sum / len(x), correct / len(x)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", default=os.environ.get("FASHION_MNIST_ROOT", "data"),
                   help="directory with the IDX files (Debian's package is searched too)")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--milestones", default="9", help="epochs after which lr is multiplied by 0.1, "
                   "e.g. '9,11' (MultiStepLR); '' keeps lr constant")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--framework", choices=["numtorch", "torch"], default="numtorch")
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    p.add_argument("--out", default="runs/fashion_mnist_cnn", help="where results and plots go")
    a = p.parse_args(argv)
    if a.framework == "torch":
        import torch as lib
        lib.set_num_threads(2)
    else:
        lib = numtorch
    x_train, y_train, x_test, y_test = load_arrays(a.root)
    if a.limit:
        x_train, y_train = x_train[:a.limit], y_train[:a.limit]
    model = build(lib, a.seed)
    optimizer = lib.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum,
                              weight_decay=a.weight_decay)
    milestones = [int(m) for m in a.milestones.split(",") if m]
    scheduler = lib.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=0.1)
    loss_fn = lib.nn.CrossEntropyLoss()
    order_rng = np.random.default_rng(a.seed)
    history = []
    start = time.perf_counter()
    for epoch in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        perm = order_rng.permutation(len(x_train))
        running, seen = 0.0, 0
        for i in range(0, len(perm), a.batch_size):
            idx = perm[i:i + a.batch_size]
            xb, yb = lib.from_numpy(x_train[idx]), lib.from_numpy(y_train[idx])
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(idx)
            seen += len(idx)
        scheduler.step()
        test_loss, test_acc = evaluate(lib, model, x_test, y_test)
        history.append({"epoch": epoch, "train_loss": running / seen, "test_loss": test_loss,
                        "test_acc": test_acc, "seconds": time.perf_counter() - t0})
        print(f"epoch {epoch:2d}  train loss {running / seen:.4f}  test loss {test_loss:.4f}  "
              f"test acc {100 * test_acc:.2f}%  ({time.perf_counter() - t0:.1f} s)", flush=True)
    total = time.perf_counter() - start
    print(f"{a.framework}: final test accuracy {100 * history[-1]['test_acc']:.2f}% after "
          f"{a.epochs} epochs in {total:.0f} s")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, f"history_{a.framework}.json"), "w") as f:
        json.dump({"args": vars(a), "history": history, "seconds": total}, f, indent=1)
    _plot(history, os.path.join(a.out, f"curves_{a.framework}.png"), a.framework)
    return history[-1]["test_acc"]


def _plot(history, path, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no plot)")
        return
    ep = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(ep, [h["train_loss"] for h in history], label="train")
    ax1.plot(ep, [h["test_loss"] for h in history], label="test")
    ax1.set_xlabel("epoch"), ax1.set_ylabel("cross-entropy"), ax1.legend()
    ax2.plot(ep, [100 * h["test_acc"] for h in history])
    ax2.set_xlabel("epoch"), ax2.set_ylabel("test accuracy (%)")
    fig.suptitle(f"Seed CNN on Fashion-MNIST ({title})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
