"""The seed article's small MLP, with backpropagation written out by hand on raw tensors.

Forward:   z1 = X W1 + b1,  h = sigmoid(z1),  y_hat = h W2 + b2,  L = mean((y_hat - y)^2)
Backward (chain rule):
           dL/dy_hat = 2 (y_hat - y) / N
           dL/dW2 = h^T dL/dy_hat            dL/db2 = sum_rows(dL/dy_hat)
           dL/dh  = dL/dy_hat W2^T
           dL/dz1 = dL/dh * h (1 - h)        (sigmoid' = h (1 - h); the article omits this factor)
           dL/dW1 = X^T dL/dz1               dL/db1 = sum_rows(dL/dz1)
Update:    w <- w - lr * dL/dw

Every 100 epochs the hand-written gradients are checked against numtorch's autograd. The
article's y has shape (3,) against a (3, 1) prediction, which broadcasts to 3x3; here y is (3, 1).

Run: python examples/manual_backprop.py
"""
import time

import numtorch as torch


def forward(X, W1, b1, W2, b2):
    z1 = X @ W1 + b1
    h = torch.sigmoid(z1)
    y_hat = h @ W2 + b2
    return h, y_hat


def manual_gradients(X, y, W1, b1, W2, b2):
    n = X.shape[0]
    h, y_hat = forward(X, W1, b1, W2, b2)
    loss = ((y_hat - y) ** 2).mean()
    d_yhat = 2 * (y_hat - y) / n
    dW2 = h.T @ d_yhat
    db2 = d_yhat.sum(0)
    dh = d_yhat @ W2.T
    dz1 = dh * h * (1 - h)
    dW1 = X.T @ dz1
    db1 = dz1.sum(0)
    return loss, (dW1, db1, dW2, db2)


def autograd_gradients(X, y, params):
    leaves = [p.clone().requires_grad_() for p in params]
    _, y_hat = forward(X, *leaves)
    loss = ((y_hat - y) ** 2).mean()
    loss.backward()
    return [p.grad for p in leaves]


def main(epochs: int = 2000, lr: float = 0.5, hidden: int = 4, seed: int = 0) -> float:
    torch.manual_seed(seed)
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=torch.float64)
    y = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
    X = (X - X.mean(0)) / X.std(0)          # standardise inputs so the sigmoid is not saturated
    params = [torch.randn(2, hidden, dtype=torch.float64), torch.zeros(hidden, dtype=torch.float64),
              torch.randn(hidden, 1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)]
    start = time.perf_counter()
    worst = 0.0
    for epoch in range(epochs):
        loss, grads = manual_gradients(X, y, *params)
        if epoch % 100 == 0:
            auto = autograd_gradients(X, y, params)
            diff = max((g - a).abs().max().item() for g, a in zip(grads, auto))
            worst = max(worst, diff)
            assert diff < 1e-10, f"hand-written gradient differs from autograd by {diff}"
            print(f"epoch {epoch:5d}  loss {loss.item():.6f}  |manual - autograd| = {diff:.1e}")
        params = [p - lr * g for p, g in zip(params, grads)]
    elapsed = time.perf_counter() - start
    _, y_hat = forward(X, *params)
    print("predictions", [round(v, 4) for v in y_hat.flatten().tolist()], "targets [1.0, 2.0, 3.0]")
    print(f"largest difference between manual and autograd gradients: {worst:.1e}")
    print(f"final loss {loss.item():.6f} after {epochs} epochs in {elapsed:.2f} s")
    return loss.item()


if __name__ == "__main__":
    main()
