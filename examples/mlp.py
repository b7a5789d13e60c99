"""A multilayer perceptron classifying a three-arm spiral: the workflow preprocess -> build ->
initialise -> train -> validate -> test, with DataLoader, Adam and cross-entropy.

Run: python examples/mlp.py
"""
import math
import time

import numtorch as torch
import numtorch.nn as nn
from numtorch.utils.data import DataLoader, TensorDataset, random_split


def spiral(n_per_class: int = 300, classes: int = 3, noise: float = 0.2):
    """Points on interleaved spiral arms; label = arm index."""
    xs, ys = [], []
    for c in range(classes):
        r = torch.linspace(0.05, 1.0, n_per_class)
        theta = r * 4.0 + c * 2 * math.pi / classes + noise * torch.randn(n_per_class)
        xs.append(torch.stack([r * torch.sin(theta), r * torch.cos(theta)], dim=1))
        ys.append(torch.full((n_per_class,), c, dtype=torch.int64))
    return torch.cat(xs), torch.cat(ys)


def accuracy(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for xb, yb in loader:
            correct += (model(xb).argmax(1) == yb).sum().item()
            total += yb.numel()
    model.train()
    return correct / total


def main(epochs: int = 60, seed: int = 0) -> float:
    torch.manual_seed(seed)
    X, y = spiral()
    X = (X - X.mean(0)) / X.std(0)                                    # preprocess
    data = TensorDataset(X, y)
    train, val, test = random_split(data, [0.7, 0.15, 0.15],
                                    generator=torch.Generator().manual_seed(seed))
    train_loader = DataLoader(train, batch_size=32, shuffle=True)
    val_loader, test_loader = DataLoader(val, batch_size=256), DataLoader(test, batch_size=256)

    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),  # build
                          nn.Linear(64, 3))                        # (torch's default init)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(epochs):                                       # train
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        scheduler.step()
        if epoch % 10 == 0 or epoch == epochs - 1:                    # validate
            val_acc = accuracy(model, val_loader)
            print(f"epoch {epoch:3d}  loss {loss.item():.4f}  val acc {val_acc:.3f}")
    elapsed = time.perf_counter() - start
    test_acc = accuracy(model, test_loader)                           # test
    print(f"final loss {loss.item():.4f}, test accuracy {test_acc:.3f} after {epochs} epochs in "
          f"{elapsed:.2f} s")
    return test_acc


if __name__ == "__main__":
    main()
