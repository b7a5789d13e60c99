"""Benchmark workloads, each written once against a library namespace (numtorch or torch).

A workload is ``setup(lib) -> step`` where ``step()`` runs one timed unit of work.
"""
from __future__ import annotations


def xor_step(lib):
    """XOR 2-3-1 sigmoid network: forward, MSE loss, backward, SGD step (full batch of 4)."""
    nn = lib.nn
    lib.manual_seed(0)
    X = lib.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = lib.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1), nn.Sigmoid())
    opt = lib.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.MSELoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        opt.step()
    return step


def mlp_step(lib):
    """MLP 784-256-128-10 with ReLU, cross-entropy and Adam, batch 128."""
    nn = lib.nn
    lib.manual_seed(0)
    X = lib.randn(128, 784)
    Y = lib.randint(0, 10, (128,))
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        opt.step()
    return step


WORKLOADS = {
    "xor": (xor_step, "XOR 2-3-1 training step (full batch)"),
    "mlp": (mlp_step, "MLP 784-256-128-10, Adam, batch 128, training step"),
}
