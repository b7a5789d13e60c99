"""XOR with a small sigmoid network trained by plain gradient descent.

The seed article's NumPy version cannot learn XOR: it has no hidden layer (XOR is not linearly
separable), its weight matrix gives two outputs for one target, it unpacks six return values
into three, and it uses ``A`` before assigning it. Here: 2 inputs -> 4 sigmoid hidden units ->
1 sigmoid output, mean-squared error, full-batch gradient descent.

Run: python examples/xor.py
"""
import time

import numtorch as torch
import numtorch.nn as nn


def main(epochs: int = 5000, lr: float = 2.0, seed: int = 0) -> float:
    torch.manual_seed(seed)
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    start = time.perf_counter()
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        optimizer.step()
        if epoch % 1000 == 0:
            print(f"epoch {epoch:5d}  loss {loss.item():.6f}")
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        out = model(X)
    for x, y, o in zip(X.tolist(), Y.tolist(), out.flatten().tolist()):
        verdict = "ok" if (o > 0.5) == (y[0] > 0.5) else "WRONG"
        print(f"{x} -> {o:.4f} (target {y[0]:.0f}) {verdict}")
    print(f"final loss {loss.item():.6f} after {epochs} epochs in {elapsed:.2f} s "
          f"({elapsed / epochs * 1e6:.0f} us per step)")
    correct = sum((o > 0.5) == (y[0] > 0.5) for y, o in zip(Y.tolist(), out.flatten().tolist()))
    print(f"correct: {correct}/4")
    return loss.item()


if __name__ == "__main__":
    main()
