"""Module API: registration, traversal, state_dict round trips and errors, modes, conversion,
hooks and printing, each checked against torch's behaviour."""
import copy
import pickle
import re
from collections import OrderedDict

import numpy as np
import pytest
import torch

import numtorch as nt


def _model(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.fc = nn.Linear(n, n)
            self.act = nn.ReLU()
            self.register_buffer("running", lib.zeros(n))
            self.register_buffer("scratch", lib.ones(2), persistent=False)
            self.register_parameter("unused", None)

        def forward(self, x):
            return self.act(self.fc(x)) + self.running

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
            self.blocks = nn.ModuleList([Block(4), Block(4)])
            self.heads = nn.ModuleDict({"cls": nn.Linear(4, 2), "reg": nn.Linear(4, 1,
                                                                                 bias=False)})
            self.extra = nn.ParameterList([nn.Parameter(lib.ones(2, 2))])
            self.table = nn.ParameterDict({"w": nn.Parameter(lib.zeros(3))})
            self.scale = nn.Parameter(lib.ones(1))
            self.shared = self.stem[0]  # the same module twice
            self.drop = nn.Dropout(0.1)

        def forward(self, x):
            x = self.stem(x)
            for b in self.blocks:
                x = b(x)
            return self.heads["cls"](self.drop(x)) * self.scale

    return Model()


def test_key_paths_match_torch():
    a, b = _model(nt), _model(torch)
    assert list(a.state_dict()) == list(b.state_dict())
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]
    assert [n for n, _ in a.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in b.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in a.named_buffers()] == [n for n, _ in b.named_buffers()]
    assert [n for n, _ in a.named_modules()] == [n for n, _ in b.named_modules()]
    assert [n for n, _ in a.named_children()] == [n for n, _ in b.named_children()]
    assert [n for n, _ in a.blocks[0].named_parameters(prefix="p", recurse=False)] == \
        [n for n, _ in b.blocks[0].named_parameters(prefix="p", recurse=False)]
    assert len(list(a.parameters())) == len(list(b.parameters()))
    assert len(list(a.modules())) == len(list(b.modules()))
    assert len(list(a.children())) == len(list(b.children()))
    assert list(a.state_dict(prefix="m.")) == list(b.state_dict(prefix="m."))


def test_repr_matches_torch():
    assert repr(_model(nt)) == repr(_model(torch)).replace("torch.", "numtorch.")
    seq = [lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)] + [lib.nn.ReLU()])
           for lib in (nt, torch)]
    assert repr(seq[0]) == repr(seq[1])
    assert repr(nt.nn.ModuleList()) == repr(torch.nn.ModuleList())


def test_parameter_repr_and_type():
    p = nt.nn.Parameter(nt.ones(2))
    assert repr(p) == repr(torch.nn.Parameter(torch.ones(2)))
    assert isinstance(p, nt.Tensor) and p.requires_grad and p.is_leaf
    assert not nt.nn.Parameter(nt.ones(2), requires_grad=False).requires_grad
    assert tuple(nt.nn.Parameter().shape) == (0,)
    t = nt.ones(3)
    q = nt.nn.Parameter(t)
    q.data[0] = 5.0
    assert t[0].item() == 5.0  # shares memory, as torch
    assert type(p.detach()) is nt.Tensor and type(p * 2) is nt.Tensor


def test_state_dict_round_trip_with_torch():
    a, b = _model(nt), _model(torch)
    b.load_state_dict({k: torch.tensor(v.numpy()) for k, v in a.state_dict().items()})
    a2 = _model(nt)
    res = a2.load_state_dict({k: nt.tensor(v.numpy()) for k, v in b.state_dict().items()})
    assert repr(res) == "<All keys matched successfully>"
    assert res.missing_keys == [] and res.unexpected_keys == []
    for (k, v), (_, w) in zip(a.state_dict().items(), a2.state_dict().items()):
        np.testing.assert_array_equal(v.numpy(), w.numpy(), err_msg=k)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    a2.eval(), b.eval()
    np.testing.assert_allclose(a2(nt.tensor(x)).detach().numpy(),
                               b(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_state_dict_values_are_detached_views():
    m = nt.nn.Linear(2, 3)
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict) and not sd["weight"].requires_grad
    sd["weight"][0, 0] = 42.0
    assert m.weight[0, 0].item() == 42.0
    kv = m.state_dict(keep_vars=True)
    assert kv["weight"] is m.weight
    assert m.state_dict()._metadata[""] == {"version": 1}


def _load_error(lib, mutate, strict=True):
    model, src = _model(lib), _model(lib)
    sd = OrderedDict((k, v.clone()) for k, v in src.state_dict().items())
    mutate(lib, sd)
    try:
        return model.load_state_dict(sd, strict=strict)
    except Exception as e:  # noqa: BLE001 - compared with torch's below
        return e


MUTATIONS = {
    "missing": lambda lib, sd: sd.pop("blocks.1.fc.bias"),
    "unexpected": lambda lib, sd: sd.update({"blocks.0.zzz": lib.ones(1), "foo.bar": lib.ones(1),
                                             "top": lib.ones(1)}),
    "both": lambda lib, sd: (sd.pop("scale"), sd.update({"heads.cls.extra": lib.ones(1)})),
    "size": lambda lib, sd: sd.update({"stem.0.weight": lib.ones(5, 3),
                                       "blocks.0.running": lib.ones(3)}),
    "size_and_missing": lambda lib, sd: (sd.update({"heads.reg.weight": lib.ones(2, 4)}),
                                         sd.pop("table.w")),
    "not_tensor": lambda lib, sd: sd.update({"scale": [1.0]}),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_errors_match_torch(name, strict):
    ours = _load_error(nt, MUTATIONS[name], strict)
    ref = _load_error(torch, MUTATIONS[name], strict)
    assert type(ours).__name__ == type(ref).__name__
    if isinstance(ref, Exception):
        msg = str(ref).replace("torch.Size", "numtorch.Size").replace("torch.Tensor",
                                                                      "numtorch.Tensor")
        assert str(ours).replace("torch.Tensor", "numtorch.Tensor") == msg
    else:
        assert ours.missing_keys == ref.missing_keys
        assert ours.unexpected_keys == ref.unexpected_keys
        assert repr(ours) == repr(ref)


def test_load_state_dict_assign_and_type_errors():
    m = nt.nn.Linear(2, 2)
    w = nt.ones(2, 2)
    m.load_state_dict({"weight": w, "bias": nt.zeros(2)}, assign=True)
    assert isinstance(m.weight, nt.nn.Parameter) and m.weight.requires_grad
    assert np.shares_memory(m.weight.numpy(force=True), w.numpy())
    for lib in (nt, torch):
        with pytest.raises(TypeError):
            lib.nn.Linear(2, 2).load_state_dict([("weight", lib.ones(2, 2))])


def _registration(lib, action):
    m = lib.nn.Linear(2, 2)
    try:
        action(lib, m)
    except Exception as e:  # noqa: BLE001
        return type(e), re.sub(r"(?<!num)torch\.", "numtorch.", str(e))
    return None


REGISTRATION = {
    "tensor_to_param": lambda lib, m: setattr(m, "weight", lib.ones(2, 2)),
    "param_bad_type": lambda lib, m: m.register_parameter("p", lib.ones(2)),
    "param_dot": lambda lib, m: m.register_parameter("a.b", None),
    "param_empty": lambda lib, m: m.register_parameter("", None),
    "param_exists": lambda lib, m: m.register_parameter("in_features", None),
    "buffer_bad": lambda lib, m: m.register_buffer("b", 3),
    "buffer_dot": lambda lib, m: m.register_buffer("a.b", None),
    "buffer_exists": lambda lib, m: m.register_buffer("weight", lib.ones(1)),
    "module_bad": lambda lib, m: m.add_module("x", 3),
    "module_dot": lambda lib, m: m.add_module("a.b", lib.nn.ReLU()),
    "module_exists": lambda lib, m: m.add_module("weight", lib.nn.ReLU()),
    "child_bad": lambda lib, m: (m.add_module("c", lib.nn.ReLU()), setattr(m, "c", 3)),
    "buffer_assign_bad": lambda lib, m: (m.register_buffer("b", lib.ones(1)), setattr(m, "b", 3)),
    "getattr_missing": lambda lib, m: m.nothing,
    "delattr_missing": lambda lib, m: delattr(m, "nothing"),
    "submodule_missing": lambda lib, m: m.get_submodule("a.b"),
    "submodule_not_module": lambda lib, m: m.get_submodule("weight"),
    "get_parameter_missing": lambda lib, m: m.get_parameter("zz"),
    "get_parameter_not_param": lambda lib, m: m.get_parameter("in_features"),
    "get_buffer_not_buffer": lambda lib, m: m.get_buffer("weight"),
    "train_not_bool": lambda lib, m: m.train(1),
    "to_int_dtype": lambda lib, m: m.to(lib.int64),
    "forward_missing": lambda lib, m: lib.nn.Module()(lib.ones(1)),
}


@pytest.mark.parametrize("name", sorted(REGISTRATION))
def test_registration_errors_match_torch(name):
    assert _registration(nt, REGISTRATION[name]) == _registration(torch, REGISTRATION[name])


def test_register_before_init_raises_like_torch():
    for lib in (nt, torch):
        class Bad(lib.nn.Module):
            def __init__(self):
                self.w = lib.nn.Parameter(lib.ones(1))

        with pytest.raises(AttributeError, match="before Module.__init__"):
            Bad()


def test_attribute_reassignment_moves_between_kinds():
    for lib in (nt, torch):
        m = lib.nn.Module()
        m.x = lib.nn.Parameter(lib.ones(1))
        with pytest.raises(TypeError, match="as parameter 'x'"):
            m.x = lib.nn.ReLU()
        m.x = None
        assert "x" in m._parameters and m.x is None and "x" not in m.state_dict()
        m.y = lib.nn.ReLU()
        m.y = lib.nn.Parameter(lib.ones(1))  # a parameter replaces a module
        assert "y" not in m._modules and "y" in m._parameters
        m.register_buffer("b", lib.ones(1))
        m.b = lib.zeros(2)  # plain tensors replace buffers
        assert tuple(m._buffers["b"].shape) == (2,)
        m.b = None
        assert m._buffers["b"] is None
        m.buf = lib.nn.Buffer(lib.ones(3), persistent=False)
        assert "buf" in m._buffers and "buf" not in m.state_dict()
        m.plain = lib.ones(2)  # not registered
        assert "plain" not in m._buffers and "plain" in m.__dict__
        del m.x, m.b, m.plain
        assert "x" not in m._parameters and "b" not in m._buffers


def test_dir_lists_members():
    m = nt.nn.Linear(2, 2)
    assert {"weight", "bias", "forward", "in_features"} <= set(dir(m))
    assert "0" not in dir(nt.nn.Sequential(nt.nn.ReLU()))


def test_train_eval_propagate():
    for lib in (nt, torch):
        m = _model(lib)
        assert m.training and all(x.training for x in m.modules())
        assert m.eval() is m and not any(x.training for x in m.modules())
        m.train()
        assert all(x.training for x in m.modules())


def test_zero_grad_and_requires_grad():
    m = nt.nn.Linear(3, 2)
    m(nt.ones(4, 3)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert not m.weight.grad.numpy().any()
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_and_dtype_conversion():
    m = _model(nt)
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    ref = []
    _model(torch).apply(lambda mod: ref.append(type(mod).__name__))
    assert seen == ref
    w = m.stem[0].weight
    m(nt.ones(2, 3)).sum().backward()
    assert m.double() is m and m.stem[0].weight is w and w.dtype == nt.float64
    assert w.grad.dtype == nt.float64 and m.blocks[0].running.dtype == nt.float64
    assert m.to(nt.float32).stem[0].weight.dtype == nt.float32
    assert m.half().scale.dtype == nt.float16 and m.float().scale.dtype == nt.float32
    assert m.to("cpu") is m and m.cpu() is m
    t = nt.ones(1, dtype=nt.float64)
    assert m.to(t).scale.dtype == nt.float64
    assert m.to("cpu", nt.float32).scale.dtype == nt.float32


def test_get_submodule_parameter_buffer():
    m = _model(nt)
    assert m.get_submodule("blocks.1.fc") is m.blocks[1].fc
    assert m.get_submodule("") is m
    assert m.get_parameter("heads.cls.weight") is m.heads["cls"].weight
    assert m.get_buffer("blocks.0.running") is m.blocks[0].running
    m.set_submodule("blocks.0.act", nt.nn.GELU())
    assert isinstance(m.blocks[0].act, nt.nn.GELU)


def test_forward_hooks_like_torch():
    outs = []
    for lib in (nt, torch):
        m = lib.nn.Linear(2, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
            m.bias.zero_()
        log = []
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
        h3 = m.register_forward_hook(lambda mod, args, kwargs, out: log.append(sorted(kwargs)),
                                     with_kwargs=True)
        h4 = m.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] + 1,), kwargs),
                                         with_kwargs=True, prepend=True)
        y1 = m(lib.ones(1, 2)).tolist()
        for h in (h1, h2, h3, h4):
            h.remove()
        y2 = m(lib.ones(1, 2)).tolist()
        outs.append((y1, y2, log))
    assert outs[0] == outs[1]


def _backward_hook_trace(lib, input_requires_grad):
    seq = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    seq.load_state_dict({k: lib.tensor(v) for k, v in _fixed_weights().items()})
    trace = []

    def hook(name):
        def fn(mod, gin, gout):
            trace.append((name, [None if g is None else g.detach().numpy().copy() for g in gin],
                          [g.detach().numpy().copy() for g in gout]))
        return fn

    def pre(mod, gout):
        trace.append(("pre", [g.detach().numpy().copy() for g in gout]))
        return (gout[0] * 2,)

    for i, sub in enumerate(seq):
        sub.register_full_backward_hook(hook(str(i)))
    seq[2].register_full_backward_pre_hook(pre)
    doubled = seq[0].register_full_backward_hook(lambda mod, gin, gout: tuple(
        None if g is None else g * 3 for g in gin))
    x = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]], requires_grad=input_requires_grad)
    if input_requires_grad:
        seq(x).sum().backward()
    else:  # both libraries warn that the hooks fire with grad_input = (None,)
        with pytest.warns(UserWarning, match="Full backward hook is firing"):
            seq(x).sum().backward()
    doubled.remove()
    return trace, None if x.grad is None else x.grad.numpy()


def _fixed_weights():
    rng = np.random.default_rng(3)
    shapes = {"0.weight": (4, 3), "0.bias": (4,), "2.weight": (2, 4), "2.bias": (2,)}
    return {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}


@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hooks_like_torch(input_requires_grad):
    (ours, gx), (ref, gx_ref) = (_backward_hook_trace(lib, input_requires_grad)
                                 for lib in (nt, torch))
    assert [e[0] for e in ours] == [e[0] for e in ref]
    for a, b in zip(ours, ref):
        for ga, gb in zip(a[1:], b[1:]):
            assert len(ga) == len(gb)
            for u, v in zip(ga, gb):
                assert (u is None) == (v is None), a[0]
                if v is not None:
                    np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6, err_msg=a[0])
    assert (gx is None) == (gx_ref is None)
    if gx_ref is not None:
        np.testing.assert_allclose(gx, gx_ref, rtol=1e-5, atol=1e-6)


def test_deepcopy_and_pickle():
    m = _model(nt)
    c = copy.deepcopy(m)
    assert c.stem[0].weight is not m.stem[0].weight
    assert isinstance(c.stem[0].weight, nt.nn.Parameter) and c.stem[0].weight.requires_grad
    assert c.shared is c.stem[0]  # sharing survives
    np.testing.assert_array_equal(c.stem[0].weight.detach().numpy(),
                                  m.stem[0].weight.detach().numpy())
    s = nt.nn.Sequential(nt.nn.Linear(2, 3), nt.nn.PReLU())
    p = pickle.loads(pickle.dumps(s))
    assert list(p.state_dict()) == list(s.state_dict())
    assert isinstance(p[0].weight, nt.nn.Parameter) and p[0].weight.requires_grad
    np.testing.assert_array_equal(p[0].weight.detach().numpy(), s[0].weight.detach().numpy())


def test_sequential_api_like_torch():
    results = []
    for lib in (nt, torch):
        nn = lib.nn
        s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        r = [len(s), type(s[0]).__name__, type(s[-1]).__name__, len(s[1:]),
             type(s[1:]).__name__, list(s[1:]._modules)]
        s.append(nn.Sigmoid())
        s.insert(1, nn.Tanh())
        s.extend([nn.Identity()])
        r.append([type(x).__name__ for x in s])
        del s[0]
        r.append(list(s._modules))
        s[0] = nn.GELU()
        r.append(repr(s))
        r.append(repr(s + nn.Sequential(nn.ReLU())))
        r.append(type(s.pop(1)).__name__)
        r.append(len(s * 2))
        od = nn.Sequential(OrderedDict([("a", nn.Linear(1, 1)), ("b", nn.ReLU())]))
        r.append((list(od._modules), repr(od)))
        for bad in (lambda: s[10], lambda: s.insert(20, nn.ReLU())):
            with pytest.raises(IndexError):
                bad()
        results.append(r)
    assert results[0] == results[1]


def test_module_list_dict_param_containers_like_torch():
    results = []
    for lib in (nt, torch):
        nn = lib.nn
        ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
        ml.append(nn.Sigmoid())
        ml.insert(0, nn.GELU())
        ml.extend([nn.Identity()])
        ml += [nn.ReLU()]
        del ml[1]
        r = [len(ml), [type(m).__name__ for m in ml], list(ml._modules), repr(ml[1:3]),
             type(ml[-1]).__name__]
        md = nn.ModuleDict([("b", nn.ReLU()), ("a", nn.Tanh())])
        md["c"] = nn.Linear(1, 1)
        md.update({"d": nn.ReLU()})
        r += [list(md.keys()), "a" in md, len(md), type(md.pop("b")).__name__, repr(md)]
        pl = nn.ParameterList([nn.Parameter(lib.ones(2)), lib.zeros(3)])
        pl.append(lib.ones(1, 2))
        r += [len(pl), [type(p).__name__ for p in pl], [n for n, _ in pl.named_parameters()],
              re.sub(r"(?<!num)torch\.", "numtorch.", repr(pl))]
        pd = nn.ParameterDict({"z": nn.Parameter(lib.ones(1)), "y": lib.zeros(2)})
        pd["x"] = lib.ones(3)
        r += [list(pd.keys()), [n for n, _ in pd.named_parameters()],
              re.sub(r"(?<!num)torch\.", "numtorch.", repr(pd)), "y" in pd, len(pd)]
        with pytest.raises(RuntimeError):
            pl()
        results.append(r)
    assert results[0] == results[1]


def test_call_passes_kwargs_and_custom_forward():
    class Two(nt.nn.Module):
        def forward(self, a, b=1):
            return a * b

    assert Two()(nt.tensor(2.0), b=3).item() == 6.0
