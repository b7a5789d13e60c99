"""Linear regression y = W x + b, recovering W and b by gradient descent.

The seed article's NumPy version subtracts a (5,) target from a (5, 1) prediction, which
broadcasts to a 5x5 matrix, and sums the gradient without dividing by the sample count, so its
updates are wrong. Here targets keep their (N, 1) shape and the loss is a mean.

Run: python examples/linear_regression.py
"""
import time

import numtorch as torch
import numtorch.nn as nn


def main(epochs: int = 500, lr: float = 0.1, seed: int = 0):
    torch.manual_seed(seed)
    true_W = torch.tensor([[1.5, -2.0, 0.7]])
    true_b = torch.tensor([0.3])
    X = torch.rand(200, 3) * 4 - 2
    y = X @ true_W.T + true_b + 0.05 * torch.randn(200, 1)

    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    start = time.perf_counter()
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        if epoch % 100 == 0:
            print(f"epoch {epoch:4d}  loss {loss.item():.6f}")
    elapsed = time.perf_counter() - start
    W, b = model.weight.detach(), model.bias.detach()
    print(f"recovered W = {[round(v, 3) for v in W.flatten().tolist()]} (true "
          f"{[round(v, 3) for v in true_W.flatten().tolist()]})")
    print(f"recovered b = {b.item():.3f} (true {true_b.item():.3f})")
    print(f"final loss {loss.item():.6f} after {epochs} epochs in {elapsed:.2f} s")
    return W, b, loss.item()


if __name__ == "__main__":
    main()
