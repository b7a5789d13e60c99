"""Benchmark workloads, each written once against a library namespace (numtorch or torch).

A workload is ``setup(lib) -> step`` where ``step()`` runs one timed unit of work.
"""
from __future__ import annotations


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
}
