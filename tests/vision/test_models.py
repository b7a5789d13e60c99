"""numtorch.vision.models: shapes, training step, and LeNet against the same network in torch."""
import numpy as np
import pytest
import torch

import numtorch as nt
from numtorch.vision import models


@pytest.mark.parametrize("name,kwargs,shape", [
    ("lenet", {}, (2, 1, 28, 28)),
    ("lenet", {"in_channels": 3, "image_size": 32}, (2, 3, 32, 32)),
    ("mlp", {}, (2, 1, 28, 28)),
    ("mlp", {"in_features": 3072, "hidden": (64,), "dropout": 0.2}, (2, 3, 32, 32)),
    ("resnet", {}, (2, 1, 28, 28)),
    ("resnet", {"in_channels": 3, "blocks": (1, 1, 1), "width": 8}, (2, 3, 32, 32)),
])
def test_models_forward_backward(name, kwargs, shape):
    model = models.get_model(name, **kwargs)
    x = nt.randn(*shape)
    out = model(x)
    assert out.shape == (shape[0], 10)
    out.sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())


def test_lenet_rejects_other_sizes_and_unknown_names():
    with pytest.raises(ValueError, match="28x28 or 32x32"):
        models.lenet(image_size=64)
    with pytest.raises(ValueError, match="Unknown model 'vgg'"):
        models.get_model("vgg")


def test_lenet_matches_the_same_network_in_torch():
    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(3, 6, 5)
            self.pool = torch.nn.MaxPool2d(2, 2)
            self.conv2 = torch.nn.Conv2d(6, 16, 5)
            self.fc1 = torch.nn.Linear(400, 120)
            self.fc2 = torch.nn.Linear(120, 84)
            self.fc3 = torch.nn.Linear(84, 10)

        def forward(self, x):
            F = torch.nn.functional
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x))).flatten(1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    ours = models.LeNet(3, 10, 32).double()
    ref = TorchNet().double()
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                         for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3, 32, 32))
    a = ours(nt.tensor(x))
    b = ref(torch.tensor(x))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    a.sum().backward()
    b.sum().backward()
    for (name, p), q in zip(ours.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_resnet_state_dict_keys_and_eval_mode():
    model = models.resnet(blocks=(1, 1, 1), width=8)
    keys = list(model.state_dict())
    assert "bn1.running_mean" in keys and "layers.1.shortcut.0.weight" in keys
    model.eval()
    x = nt.randn(3, 1, 28, 28)
    with nt.no_grad():
        assert nt.allclose(model(x), model(x))
