"""Optimizer base behaviour against torch: construction errors, groups, zero_grad, hooks,
repr, state_dict layout and load_state_dict validation."""
from __future__ import annotations

import copy
import importlib
import warnings

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.optim.helpers import Problem, arrays, to_nt_state_dict


def _raise_same(make):
    """``make(lib)`` raises the same exception class with the same message in both libraries
    (up to the library's name)."""
    errors = []
    for lib in (nt, torch):
        with pytest.raises(Exception) as info:
            make(lib)
        errors.append(info.value)
    ours, ref = errors
    assert type(ours).__name__ == type(ref).__name__, (ours, ref)
    assert str(ours).replace("numtorch", "torch") == str(ref)


BAD_HYPER = [
    ("SGD", dict(lr=-0.1)), ("SGD", dict(momentum=-0.5)), ("SGD", dict(weight_decay=-1e-3)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1)),
    ("SGD", dict(fused=True, foreach=True)), ("SGD", dict(fused=True, differentiable=True)),
    ("Adam", dict(lr=-1.0)), ("Adam", dict(eps=-1e-8)), ("Adam", dict(betas=(1.0, 0.9))),
    ("Adam", dict(betas=(0.9, 1.5))), ("Adam", dict(betas=(0.9, 1))),
    ("Adam", dict(betas=(0, 0.9))),
    ("Adam", dict(weight_decay=-0.1)), ("Adam", dict(fused=True, foreach=True)),
    ("AdamW", dict(lr=-1e-3)), ("AdamW", dict(betas=(-0.1, 0.9))),
    ("AdamW", dict(weight_decay=-1)),
    ("RMSprop", dict(lr=-0.01)), ("RMSprop", dict(eps=-1.0)), ("RMSprop", dict(momentum=-0.1)),
    ("RMSprop", dict(weight_decay=-0.1)), ("RMSprop", dict(alpha=-0.5)),
    ("Adagrad", dict(lr=-0.1)), ("Adagrad", dict(lr_decay=-0.1)),
    ("Adagrad", dict(weight_decay=-1)),
    ("Adagrad", dict(initial_accumulator_value=-0.1)), ("Adagrad", dict(eps=-1e-10)),
    ("Adadelta", dict(lr=-1.0)), ("Adadelta", dict(rho=1.1)), ("Adadelta", dict(rho=-0.1)),
    ("Adadelta", dict(eps=-1.0)), ("Adadelta", dict(weight_decay=-0.1)),
]


@pytest.mark.parametrize("name,kw", BAD_HYPER, ids=lambda v: str(v))
def test_bad_hyperparameters(name, kw):
    _raise_same(lambda lib: getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], **kw))


@pytest.mark.parametrize("case", ["bare_tensor", "empty", "not_tensor", "non_leaf", "two_groups",
                                  "set_group", "names_missing", "group_not_dict",
                                  "group_names_mixed", "tensor_lr_2"])
def test_bad_params(case):
    def make(lib):
        p = lib.zeros(3, requires_grad=True)
        q = lib.ones(2, requires_grad=True)
        if case == "bare_tensor":
            return lib.optim.SGD(p, lr=0.1)
        if case == "empty":
            return lib.optim.Adam([])
        if case == "not_tensor":
            return lib.optim.SGD([p, 1.5], lr=0.1)
        if case == "non_leaf":
            return lib.optim.SGD([p * 2], lr=0.1)
        if case == "two_groups":
            return lib.optim.SGD([{"params": [p]}, {"params": [q, p]}], lr=0.1)
        if case == "set_group":
            return lib.optim.SGD([{"params": {p}}], lr=0.1)
        if case == "names_missing":
            return lib.optim.SGD([("a", p), q], lr=0.1)
        if case == "group_not_dict":
            lib.optim.SGD([p], lr=0.1).add_param_group([q])
        if case == "group_names_mixed":
            lib.optim.SGD([("a", p)], lr=0.1).add_param_group({"params": [q]})
        if case == "tensor_lr_2":
            return lib.optim.SGD([p], lr=lib.tensor([0.1, 0.2]))
    _raise_same(make)


def test_required_option_and_group_defaults():
    for lib in (nt, torch):
        from_lib = importlib.import_module(lib.__name__ + ".optim.optimizer")
        p = lib.zeros(2, requires_grad=True)

        class Opt(lib.optim.Optimizer):
            def __init__(self, params, lr=from_lib.required, beta=0.5):
                super().__init__(params, dict(lr=lr, beta=beta))

        with pytest.raises(ValueError, match="didn't specify a value of required optimization "
                                             "parameter lr"):
            Opt([p])
        opt = Opt([{"params": [p], "lr": 0.1}])
        assert opt.param_groups[0]["beta"] == 0.5 and opt.param_groups[0]["lr"] == 0.1


def test_duplicate_parameter_warns():
    for lib in (nt, torch):
        p = lib.zeros(2, requires_grad=True)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            lib.optim.SGD([p, p], lr=0.1)


def test_named_parameters_and_add_param_group():
    sds = []
    for lib in (nt, torch):
        w, b, c = (lib.ones(2, requires_grad=True) for _ in range(3))
        opt = lib.optim.Adam([("w", w), ("b", b)], lr=0.1)
        opt.add_param_group({"params": [("c", c)], "lr": 0.5})
        for p in (w, b, c):
            p.grad = lib.full((2,), 0.5)
        opt.step()
        sds.append(opt.state_dict())
    ours, ref = sds
    assert [g["param_names"] for g in ours["param_groups"]] == [["w", "b"], ["c"]]
    assert [{k: v for k, v in g.items()} for g in ours["param_groups"]] == \
        ref["param_groups"]
    assert ours["state"].keys() == ref["state"].keys() == {0, 1, 2}


def test_repr_matches_torch():
    reprs = []
    for lib in (nt, torch):
        p, q = lib.zeros(2, requires_grad=True), lib.zeros(2, requires_grad=True)
        opts = [lib.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1,
                              momentum=0.9),
                lib.optim.Adam([p], amsgrad=True), lib.optim.AdamW([p]),
                lib.optim.RMSprop([p]), lib.optim.Adagrad([p]), lib.optim.Adadelta([p])]
        reprs.append([repr(o) for o in opts])
    assert reprs[0] == reprs[1]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    p = nt.ones(3, requires_grad=True)
    opt = nt.optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert p.grad is None
    else:
        assert p.grad is g and not p.grad.requires_grad
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3, np.float32))
    opt.zero_grad()
    assert p.grad is None


def test_zero_grad_default_set_to_none_skips_step():
    """After zero_grad() a parameter without a new gradient is not updated (not even by
    momentum), as in torch."""
    results = []
    for lib in (nt, torch):
        p = lib.tensor([1.0, -2.0], requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
        (p * p).sum().backward()
        opt.step()
        opt.zero_grad()
        opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_array_equal(*results)


def test_closure_and_grad_mode():
    for lib in (nt, torch):
        prob = Problem(lib, arrays("float64"))
        opt = lib.optim.SGD(prob.params, lr=0.1)
        seen = []

        def closure():
            seen.append(lib.is_grad_enabled())
            opt.zero_grad()
            loss = prob.loss()
            loss.backward()
            return loss

        with lib.no_grad():
            loss = opt.step(closure)
        assert seen == [True] and isinstance(loss, lib.Tensor) and loss.requires_grad
        assert opt.step() is None


def test_step_hooks():
    logs = []
    for lib in (nt, torch):
        log = []
        p = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        p.grad = lib.ones(2)
        h1 = opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", len(a), dict(k))))
        h2 = opt.register_step_post_hook(lambda o, a, k: log.append(("post", len(a), dict(k))))
        mod = importlib.import_module(lib.__name__ + ".optim.optimizer")
        g = mod.register_optimizer_step_pre_hook(
            lambda o, a, k: log.append(("global", type(o).__name__)))
        opt.step()
        h1.remove()
        g.remove()
        opt.step(closure=None)
        h2.remove()
        opt.step()
        logs.append(log)
        with pytest.raises(RuntimeError, match="must return None or a tuple"):
            opt.register_step_pre_hook(lambda o, a, k: 1)
            opt.step()
    assert logs[0] == logs[1]


def test_state_dict_hooks():
    results = []
    for lib in (nt, torch):
        p = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        calls = []
        opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
        opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
        sd = opt.state_dict()
        opt.register_load_state_dict_pre_hook(lambda o, sd: calls.append("load_pre"))
        opt.register_load_state_dict_post_hook(lambda o: calls.append("load_post"), prepend=True)
        opt.load_state_dict(sd)
        results.append((calls, sorted(sd)))
    assert results[0] == results[1]


def test_load_state_dict_errors():
    def groups(lib):
        p = lib.zeros(2, requires_grad=True)
        q = lib.zeros(2, requires_grad=True)
        one = lib.optim.SGD([p, q], lr=0.1)
        two = lib.optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1)
        two.load_state_dict(one.state_dict())

    def sizes(lib):
        p = lib.zeros(2, requires_grad=True)
        q = lib.zeros(2, requires_grad=True)
        lib.optim.SGD([p], lr=0.1).load_state_dict(lib.optim.SGD([p, q], lr=0.1).state_dict())

    _raise_same(groups)
    _raise_same(sizes)


def test_load_state_dict_casts_to_param_dtype_and_keeps_step():
    p64 = nt.zeros(3, dtype=nt.float64, requires_grad=True)
    p32 = nt.zeros(3, requires_grad=True)
    src = nt.optim.Adam([p32], lr=0.1)
    p32.grad = nt.ones(3)
    src.step()
    sd = src.state_dict()
    dst = nt.optim.Adam([p64], lr=0.1)
    dst.load_state_dict(sd)
    st = dst.state[p64]
    assert st["exp_avg"].dtype == nt.float64 and st["exp_avg_sq"].dtype == nt.float64
    assert st["step"].dtype == nt.float32 and st["step"] is sd["state"][0]["step"]
    # the saved param_groups are deep-copied: editing the optimizer leaves the dict alone
    dst.param_groups[0]["lr"] = 7.0
    assert sd["param_groups"][0]["lr"] == 0.1
    assert dst.param_groups[0]["params"][0] is p64


def test_torch_state_dict_layout_for_each_optimizer():
    """A state_dict taken from torch loads into numtorch and the next step agrees."""
    for name, kw in [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(amsgrad=True)),
                     ("AdamW", {}), ("RMSprop", dict(centered=True, momentum=0.1)),
                     ("Adagrad", {}), ("Adadelta", {})]:
        arrs = arrays("float64")
        pt, pn = Problem(torch, arrs), Problem(nt, arrs)
        ot = getattr(torch.optim, name)(pt.params, **kw)
        for _ in range(3):
            pt.backward()
            ot.step()
        pn = Problem(nt, dict(arrs, **dict(zip(Problem.PARAMS, pt.values()))))
        on = getattr(nt.optim, name)(pn.params, **kw)
        on.load_state_dict(to_nt_state_dict(copy.deepcopy(ot.state_dict())))
        for pr, op in ((pt, ot), (pn, on)):
            pr.backward()
            op.step()
        for a, b in zip(pn.values(), pt.values()):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_old_style_integer_step_is_converted():
    p = nt.zeros(2, requires_grad=True)
    opt = nt.optim.Adam([p])
    p.grad = nt.ones(2)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["step"] = 1
    opt2 = nt.optim.Adam([p])
    opt2.load_state_dict(sd)
    step = opt2.state[p]["step"]
    assert isinstance(step, nt.Tensor) and step.dtype == nt.float32 and step.item() == 1.0


def test_step_bumps_version_and_deepcopy():
    p = nt.ones(2, requires_grad=True)
    y = (p * p).sum()
    opt = nt.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = nt.ones(2)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    clone = copy.deepcopy(opt)
    assert clone.state_dict()["state"][0]["momentum_buffer"] is not \
        opt.state_dict()["state"][0]["momentum_buffer"]
    clone.step()        # a deep copy works on its own parameters and state
    (q,) = clone.param_groups[0]["params"]
    assert q is not p and clone.state[q]["momentum_buffer"] is not opt.state[p]["momentum_buffer"]
    np.testing.assert_allclose(q.detach().numpy(), [0.71, 0.71], rtol=1e-6)
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 0.9], rtol=1e-6)


def test_tensor_lr_and_betas():
    out = []
    for lib in (nt, torch):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.Adam([p], lr=lib.tensor(0.1), betas=(lib.tensor([0.8]), lib.tensor(0.9)))
        for _ in range(3):
            p.grad = p.detach() * 2
            opt.step()
        out.append(p.detach().numpy().copy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


def test_no_warnings_on_plain_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prob = Problem(nt, arrays("float32"))
        opt = nt.optim.Adam(prob.params)
        prob.backward()
        opt.step()
        opt.zero_grad()
