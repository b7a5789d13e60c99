"""The seed article's 2-3-1 regression network (TensorFlow 1), rewritten with numtorch.

The original builds W1 (2x3), b1, W2 (3x1), b2 with N(0, 0.01) weights, computes
layer2 = (X W1 + b1) W2 + b2, minimises mean((layer2 - Y)^2) with gradient descent at lr 0.01
for 1000 steps, and feeds ``x_train``/``y_train`` that it never defines. We generate them from a
known linear target (the network has no activation, so it is a linear model), and keep the rest.

Run: python examples/regression_231.py
"""
import time

import numtorch as torch


def main(steps: int = 1000, lr: float = 0.01, seed: int = 0) -> float:
    torch.manual_seed(seed)
    x_train = torch.randn(256, 2)
    true_w, true_b = torch.tensor([[2.0], [-3.0]]), 0.5
    y_train = x_train @ true_w + true_b + 0.01 * torch.randn(256, 1)

    W1 = (0.01 * torch.randn(2, 3)).requires_grad_()
    b1 = torch.zeros(3, requires_grad=True)
    W2 = (0.01 * torch.randn(3, 1)).requires_grad_()
    b2 = torch.zeros(1, requires_grad=True)
    params = [W1, b1, W2, b2]
    optimizer = torch.optim.SGD(params, lr=lr)
    start = time.perf_counter()
    for step in range(steps):
        layer1 = torch.add(torch.matmul(x_train, W1), b1)
        layer2 = torch.add(torch.matmul(layer1, W2), b2)
        loss = torch.mean(torch.square(layer2 - y_train))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 200 == 0:
            print(f"step {step:4d}  loss {loss.item():.6f}")
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        w_eff = W1 @ W2
        b_eff = b1 @ W2 + b2
    print(f"effective weights {w_eff.flatten().tolist()} (true [2.0, -3.0]), "
          f"bias {b_eff.item():.3f} (true 0.5)")
    print(f"final loss {loss.item():.6f} after {steps} steps in {elapsed:.2f} s")
    return loss.item()


if __name__ == "__main__":
    main()
