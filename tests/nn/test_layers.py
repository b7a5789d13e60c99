"""Layer parity: the same layer in numtorch and torch, weights copied through state_dict,
compared on outputs, input gradients and every parameter gradient (float32 and float64)."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import TOL


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(OrderedDict([("fc1", nn.Linear(4, 8)), ("act", nn.Tanh()),
                                      ("drop", nn.Dropout(0.5)), ("fc2", nn.Linear(8, 3)),
                                      ("out", nn.LogSoftmax(dim=1))]))


def _net(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])
            self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Bilinear(4, 4, 2)})
            self.scales = nn.ParameterList([nn.Parameter(lib.ones(4)), nn.Parameter(lib.ones(4))])
            self.gate = nn.PReLU(4)
            self.register_buffer("offset", lib.full((4,), 0.5))

        def forward(self, x):
            for blk, s in zip(self.blocks, self.scales):
                x = self.gate(blk(x) * s) + self.offset
            return self.heads["a"](x) * self.heads["b"](x, x)

    return Net()


LAYERS = [
    ("Linear", lambda lib: lib.nn.Linear(5, 3), [(4, 5)]),
    ("Linear_nobias_3d", lambda lib: lib.nn.Linear(5, 3, bias=False), [(2, 4, 5)]),
    ("Linear_1d", lambda lib: lib.nn.Linear(5, 2), [(5,)]),
    ("Bilinear", lambda lib: lib.nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    ("Identity", lambda lib: lib.nn.Identity(3, k=4), [(2, 3)]),
    ("Flatten", lambda lib: lib.nn.Flatten(), [(2, 3, 4)]),
    ("Flatten_0_1", lambda lib: lib.nn.Flatten(0, 1), [(2, 3, 4)]),
    ("Unflatten", lambda lib: lib.nn.Unflatten(1, (2, 3)), [(4, 6)]),
    ("ReLU", lambda lib: lib.nn.ReLU(), [(3, 4)]),
    ("ReLU6", lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 4), lib.nn.ReLU6(inplace=True)),
     [(3, 4)]),
    ("LeakyReLU", lambda lib: lib.nn.LeakyReLU(0.1), [(3, 4)]),
    ("ELU", lambda lib: lib.nn.ELU(0.5), [(3, 4)]),
    ("SELU", lambda lib: lib.nn.SELU(), [(3, 4)]),
    ("CELU", lambda lib: lib.nn.CELU(2.0), [(3, 4)]),
    ("GELU", lambda lib: lib.nn.GELU(), [(3, 4)]),
    ("GELU_tanh", lambda lib: lib.nn.GELU("tanh"), [(3, 4)]),
    ("SiLU", lambda lib: lib.nn.SiLU(), [(3, 4)]),
    ("Mish", lambda lib: lib.nn.Mish(), [(3, 4)]),
    ("Sigmoid", lambda lib: lib.nn.Sigmoid(), [(3, 4)]),
    ("Tanh", lambda lib: lib.nn.Tanh(), [(3, 4)]),
    ("Hardtanh", lambda lib: lib.nn.Hardtanh(-0.5, 0.5), [(3, 4)]),
    ("Hardsigmoid", lambda lib: lib.nn.Hardsigmoid(), [(3, 4)]),
    ("Hardswish", lambda lib: lib.nn.Hardswish(), [(3, 4)]),
    ("Softplus", lambda lib: lib.nn.Softplus(2.0, 1.0), [(3, 4)]),
    ("Softsign", lambda lib: lib.nn.Softsign(), [(3, 4)]),
    ("Softmax", lambda lib: lib.nn.Softmax(dim=1), [(3, 4)]),
    ("LogSoftmax", lambda lib: lib.nn.LogSoftmax(dim=0), [(3, 4)]),
    ("Softmin", lambda lib: lib.nn.Softmin(dim=-1), [(3, 4)]),
    ("Softmax2d", lambda lib: lib.nn.Softmax2d(), [(2, 3, 2, 2)]),
    ("PReLU", lambda lib: lib.nn.PReLU(), [(3, 4)]),
    ("PReLU_channels", lambda lib: lib.nn.PReLU(3, init=0.1), [(2, 3, 4)]),
    ("Threshold", lambda lib: lib.nn.Threshold(0.1, -2.0), [(3, 4)]),
    ("LogSigmoid", lambda lib: lib.nn.LogSigmoid(), [(3, 4)]),
    ("Tanhshrink", lambda lib: lib.nn.Tanhshrink(), [(3, 4)]),
    ("Hardshrink", lambda lib: lib.nn.Hardshrink(0.3), [(3, 4)]),
    ("Softshrink", lambda lib: lib.nn.Softshrink(0.3), [(3, 4)]),
    ("GLU", lambda lib: lib.nn.GLU(1), [(3, 4)]),
    ("RReLU_eval", lambda lib: lib.nn.RReLU().eval(), [(3, 4)]),
    ("Dropout_eval", lambda lib: lib.nn.Sequential(lib.nn.Dropout(0.3), lib.nn.Dropout2d(),
                                                   lib.nn.AlphaDropout()).eval(), [(2, 3, 4, 2)]),
    ("MLP_eval", lambda lib: _mlp(lib).eval(), [(6, 4)]),
    ("Net", _net, [(3, 4)]),
]


def _state_numpy(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def _build_pair(ctor, dtype, direction):
    nt_mod, t_mod = ctor(nt), ctor(torch)
    if dtype == "float64":
        nt_mod, t_mod = nt_mod.double(), t_mod.double()
    if direction == "torch_to_nt":
        nt_mod.load_state_dict({k: nt.tensor(v) for k, v in _state_numpy(t_mod).items()})
    else:
        t_mod.load_state_dict({k: torch.tensor(v) for k, v in _state_numpy(nt_mod).items()})
    return nt_mod, t_mod


def _run(lib, module, arrays, upstream_seed):
    xs = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
    y = module(*xs)
    g = np.random.default_rng(upstream_seed).standard_normal(tuple(y.shape)).astype(arrays[0].dtype)
    y.backward(lib.tensor(g))
    grads = {f"input{i}": x.grad.numpy() for i, x in enumerate(xs)}
    grads.update({n: p.grad.numpy() for n, p in module.named_parameters()})
    return y.detach().numpy(), grads


@pytest.mark.parametrize("direction", ["torch_to_nt", "nt_to_torch"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,ctor,shapes", LAYERS, ids=[entry[0] for entry in LAYERS])
def test_layer_matches_torch(name, ctor, shapes, dtype, direction):
    nt_mod, t_mod = _build_pair(ctor, dtype, direction)
    rng = np.random.default_rng(0)
    arrays = [(rng.standard_normal(s) * 2).astype(dtype) for s in shapes]
    y_nt, g_nt = _run(nt, nt_mod, arrays, 1)
    y_t, g_t = _run(torch, t_mod, arrays, 1)
    tol = TOL[dtype]
    assert y_nt.dtype == y_t.dtype and y_nt.shape == y_t.shape
    np.testing.assert_allclose(y_nt, y_t, err_msg=f"{name} output", **tol)
    assert sorted(g_nt) == sorted(g_t)
    for k in g_t:
        assert g_nt[k].dtype == g_t[k].dtype, k
        np.testing.assert_allclose(g_nt[k], g_t[k], err_msg=f"{name} grad {k}", **tol)


@pytest.mark.parametrize("name,ctor,shapes", LAYERS, ids=[entry[0] for entry in LAYERS])
def test_repr_and_state_dict_keys_match_torch(name, ctor, shapes):
    nt_mod, t_mod = ctor(nt), ctor(torch)
    assert repr(nt_mod) == repr(t_mod).replace("torch.", "numtorch.")
    assert list(nt_mod.state_dict()) == list(t_mod.state_dict())
    for (kn, vn), (kt, vt) in zip(nt_mod.state_dict().items(), t_mod.state_dict().items()):
        assert tuple(vn.shape) == tuple(vt.shape) and vn.dtype.name == str(vt.dtype)[6:], kn


def test_linear_shape_mismatch_error_matches_torch():
    msgs = []
    for lib in (torch, nt):
        with pytest.raises(RuntimeError) as info:
            lib.nn.Linear(3, 5)(lib.ones(4, 2))
        msgs.append(str(info.value))
    assert msgs[1] == msgs[0] == "mat1 and mat2 shapes cannot be multiplied (4x2 and 3x5)"


def test_layers_accept_dtype_argument():
    for lib in (nt, torch):
        m = lib.nn.Linear(3, 2, dtype=lib.float64)
        assert m.weight.dtype == lib.float64 and m.bias.dtype == lib.float64
        assert lib.nn.PReLU(dtype=lib.float64).weight.dtype == lib.float64


def test_inplace_relu_module_modifies_input_like_torch():
    for lib in (nt, torch):
        x = lib.tensor([-1.0, 2.0])
        y = lib.nn.ReLU(inplace=True)(x)
        assert y is x and x.tolist() == [0.0, 2.0]


def test_dropout_module_train_eval():
    m = nt.nn.Dropout(0.5)
    x = nt.ones(100, 100)
    y = m(x).numpy()
    assert 0.4 < (y == 0).mean() < 0.6 and set(np.unique(y)) <= {0.0, 2.0}
    m.eval()
    assert np.array_equal(m(x).numpy(), x.numpy())
    model = nt.nn.Sequential(nt.nn.Linear(2, 2), nt.nn.Dropout(0.9))
    model.eval()
    assert not model[1].training
    model.train()
    assert model[1].training
    with pytest.raises(ValueError):
        nt.nn.Dropout(1.5)
