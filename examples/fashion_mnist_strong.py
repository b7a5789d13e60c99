"""A stronger Fashion-MNIST recipe: a batch-normed VGG-style CNN, augmentation and a one-cycle lr.

Recipe: ``models.fmnist_net`` (conv 24-24-pool-48-48-pool, BN, dropout, FC 256), random crop
with padding 2 and horizontal flips done vectorised on whole numpy batches, SGD with Nesterov
momentum and weight decay, a one-cycle schedule (linear warm-up to ``--lr`` then cosine decay
to ~0), label smoothing 0.1. ``--time-budget`` bounds the training time: after the first epoch
the number of epochs is cut so that the measured epoch time fits, and the schedule is stretched
or shrunk to the new number of steps (re-checked after every epoch).

Run: OMP_NUM_THREADS=2 python examples/fashion_mnist_strong.py [--epochs 12] [--time-budget 1150]
Data: Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist) or --root DIR.
"""
from __future__ import annotations

import argparse
import json
import math
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


def augment(x: np.ndarray, rng: np.random.Generator, pad: int = 2, flip: bool = True):
    """Random crop after zero-padding by ``pad`` and random horizontal flip, as one gather."""
    n, c, h, w = x.shape
    padded = np.full((n, c, h + 2 * pad, w + 2 * pad), -MEAN / STD, dtype=x.dtype)
    padded[:, :, pad:pad + h, pad:pad + w] = x
    oy = rng.integers(0, 2 * pad + 1, n)
    ox = rng.integers(0, 2 * pad + 1, n)
    rows = oy[:, None] + np.arange(h)
    cols = ox[:, None] + np.arange(w)
    if flip:
        cols = np.where(rng.random(n)[:, None] < 0.5, cols[:, ::-1], cols)
    out = padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                 rows[:, None, :, None], cols[:, None, None, :]]
    return np.ascontiguousarray(out)


def one_cycle(step: int, total: int, peak: float, warmup: float = 0.2) -> float:
    """Linear warm-up from peak/25 to ``peak`` over ``warmup`` of the steps, then cosine to ~0."""
    w = max(1, int(warmup * total))
    if step < w:
        return peak / 25 + (peak - peak / 25) * step / w
    t = min(1.0, (step - w) / max(1, total - w))
    return peak / 1e4 + 0.5 * (peak - peak / 1e4) * (1 + math.cos(math.pi * t))


def evaluate(model, x, y, batch_size=1000):
    model.eval()
    correct, loss_sum = 0, 0.0
    with numtorch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = numtorch.from_numpy(x[i:i + batch_size])
            yb = numtorch.from_numpy(y[i:i + batch_size])
            out = model(xb)
            loss_sum += numtorch.nn.functional.cross_entropy(out, yb, reduction="sum").item()
            correct += (out.argmax(1) == yb).sum().item()
    model.train()
    return loss_sum / len(x), correct / len(x)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", default=os.environ.get("FASHION_MNIST_ROOT", "data"),
                   help="directory with the IDX files (Debian's package is searched too)")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--time-budget", type=float, default=1150.0,
                   help="seconds of training (evaluation excluded); fewer epochs if needed")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.15, help="peak learning rate of the cycle")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--widths", default="24,48", help="c1,c2 conv widths of fmnist_net")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--dropout", type=float, default=0.25)
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    p.add_argument("--out", default="runs/fashion_mnist_strong", help="where results go")
    a = p.parse_args(argv)
    x_train, y_train, x_test, y_test = load_arrays(a.root)
    if a.limit:
        x_train, y_train = x_train[:a.limit], y_train[:a.limit]
    numtorch.manual_seed(a.seed)
    c1, c2 = (int(v) for v in a.widths.split(","))
    model = models.fmnist_net(c1=c1, c2=c2, hidden=a.hidden, dropout=a.dropout)
    optimizer = numtorch.optim.SGD(model.parameters(), lr=a.lr / 25, momentum=a.momentum,
                                   nesterov=True, weight_decay=a.weight_decay)
    loss_fn = numtorch.nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
    rng = np.random.default_rng(a.seed)
    steps_per_epoch = math.ceil(len(x_train) / a.batch_size)
    epochs, step, history, train_time, eval_time = a.epochs, 0, [], 0.0, 0.0
    epoch = 0
    while epoch < epochs:
        epoch += 1
        t0 = time.perf_counter()
        perm = rng.permutation(len(x_train))
        running, seen = 0.0, 0
        total = epochs * steps_per_epoch
        for i in range(0, len(perm), a.batch_size):
            idx = perm[i:i + a.batch_size]
            xb = x_train[idx] if a.no_augment else augment(x_train[idx], rng)
            xb, yb = numtorch.from_numpy(xb), numtorch.from_numpy(y_train[idx])
            for g in optimizer.param_groups:
                g["lr"] = one_cycle(step, total, a.lr)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            step += 1
            running += loss.item() * len(idx)
            seen += len(idx)
        seconds = time.perf_counter() - t0
        train_time += seconds
        # Wall-time guard: keep the remaining epochs within the budget at the measured pace.
        pace = train_time / epoch
        fits = epoch + int((a.time_budget - train_time) // pace)
        if fits < epochs:
            epochs = max(epoch, fits)
            print(f"  (time budget: training shortened to {epochs} epochs at {pace:.0f} s/epoch)")
        t1 = time.perf_counter()
        test_loss, test_acc = evaluate(model, x_test, y_test)
        eval_time += time.perf_counter() - t1
        history.append({"epoch": epoch, "train_loss": running / seen, "test_loss": test_loss,
                        "test_acc": test_acc, "seconds": seconds,
                        "lr_end": optimizer.param_groups[0]["lr"]})
        print(f"epoch {epoch:2d}  train loss {running / seen:.4f}  test loss {test_loss:.4f}  "
              f"test acc {100 * test_acc:.2f}%  ({seconds:.1f} s train, "
              f"{time.perf_counter() - t1:.1f} s eval)", flush=True)
    print(f"final test accuracy {100 * history[-1]['test_acc']:.2f}% after {epochs} epochs; "
          f"training time {train_time:.0f} s ({train_time / epochs:.1f} s/epoch), "
          f"evaluation {eval_time:.0f} s")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "history.json"), "w") as f:
        json.dump({"args": vars(a), "history": history, "train_seconds": train_time,
                   "eval_seconds": eval_time, "final_test_acc": history[-1]["test_acc"]},
                  f, indent=1)
    _plot(history, os.path.join(a.out, "curves.png"))
    return history[-1]["test_acc"]


def _plot(history, path):
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
    fig.suptitle("Strong CNN on Fashion-MNIST (numtorch)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
