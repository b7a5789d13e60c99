"""Each optimizer, over a grid of its options, follows torch's trajectory step by step."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.optim.helpers import (
    TOL, Problem, arrays, assert_close, assert_state_dicts_match, to_nt_state_dict,
)

STEPS = 20


# The (weight_decay, maximize) pairs take different scratch-buffer paths in every update
# function, so each optimizer crosses them with its own options; the rest is a covering set.
WD_MAX = [(0, False), (0.1, False), (0, True), (0.1, True)]
CONFIGS = [("SGD", {})]
for i, (wd, mx) in enumerate(WD_MAX):
    for mom in (dict(), dict(momentum=0.9), dict(momentum=0.9, dampening=0.5),
                dict(momentum=0.9, nesterov=True)):
        CONFIGS.append(("SGD", dict(lr=0.05, weight_decay=wd, maximize=mx, **mom)))
CONFIGS += [("Adam", {}), ("Adam", dict(lr=0.05, eps=1e-3)),
            ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True))]
for i, betas in enumerate([(0.9, 0.999), (0.5, 0.9), (0.2, 0.99)]):    # lerp's two forms
    for j, (wd, mx) in enumerate(WD_MAX):
        CONFIGS.append(("Adam", dict(lr=0.05, betas=betas, weight_decay=wd, maximize=mx,
                                     amsgrad=(i + j) % 2 == 1)))
CONFIGS += [("AdamW", {}), ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
            ("AdamW", dict(lr=0.05, maximize=True)),
            ("AdamW", dict(lr=0.05, betas=(0.3, 0.9), amsgrad=True, maximize=True))]
CONFIGS.append(("RMSprop", {}))
MOM_CENTERED = [(0, False), (0.5, True), (0.5, False), (0, True)]
for j, (wd, mx) in enumerate(WD_MAX):
    for k, alpha in ((0, 0.99), (1, 0.3), (2, 0.3)):                       # lerp's two forms
        mom, centered = MOM_CENTERED[(j + k) % 4]
        CONFIGS.append(("RMSprop", dict(lr=0.01, alpha=alpha, momentum=mom, centered=centered,
                                        weight_decay=wd, maximize=mx)))
CONFIGS += [("Adagrad", {}), ("Adagrad", dict(eps=1e-3))]
for j, (wd, mx) in enumerate(WD_MAX):
    CONFIGS.append(("Adagrad", dict(lr=0.1, lr_decay=0.1 * (j % 2), weight_decay=wd,
                                    initial_accumulator_value=0.5 * (j // 2), maximize=mx)))
    CONFIGS.append(("Adagrad", dict(lr=0.1, lr_decay=0.1 * (j // 2), weight_decay=wd,
                                    initial_accumulator_value=0.5 * (1 - j // 2), maximize=mx)))
CONFIGS.append(("Adadelta", {}))
for j, (wd, mx) in enumerate(WD_MAX):
    CONFIGS.append(("Adadelta", dict(lr=0.5, rho=0.9 if j % 2 else 0.5, weight_decay=wd,
                                     maximize=mx)))


def _id(cfg):
    name, kw = cfg
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def _run(lib, name, kw, arrs, steps=STEPS):
    prob = Problem(lib, arrs, sign=-1.0 if kw.get("maximize") else 1.0)
    opt = getattr(lib.optim, name)(prob.params, **kw)
    traj, losses = [], []
    for _ in range(steps):
        losses.append(float(prob.backward()))
        opt.step()
        traj.append(prob.values())
    return prob, opt, traj, losses


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_trajectory_matches_torch(cfg, dtype):
    name, kw = cfg
    arrs = arrays(dtype)
    _, o_nt, traj_nt, loss_nt = _run(nt, name, kw, arrs)
    _, o_t, traj_t, loss_t = _run(torch, name, kw, arrs)
    o64 = traj64 = None
    if dtype == "float32":
        _, o64, traj64, _ = _run(torch, name, kw, arrays("float64"))
    for step, (ours, ref) in enumerate(zip(traj_nt, traj_t)):
        for i, (a, b) in enumerate(zip(ours, ref)):
            r64 = None if traj64 is None else traj64[step][i]
            assert_close(a, b, dtype, r64, f"step {step + 1}, param {i}")
    np.testing.assert_allclose(loss_nt, loss_t, **TOL[dtype])
    assert_state_dicts_match(o_nt.state_dict(), o_t.state_dict(), dtype,
                             None if o64 is None else o64.state_dict())


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", {}),
                                     ("RMSprop", dict(momentum=0.5, centered=True)),
                                     ("Adagrad", dict(lr_decay=0.1)), ("Adadelta", {})])
def test_updates_in_place(name, kw):
    """The parameter's array object stays the same object; grads are not modified."""
    prob = Problem(nt, arrays("float32"))
    before = [p._data for p in prob.params]
    opt = getattr(nt.optim, name)(prob.params, **kw)
    for _ in range(3):
        prob.backward()
        grads = [p.grad.numpy().copy() for p in prob.params]
        opt.step()
        assert all(p._data is a for p, a in zip(prob.params, before))
        for p, g in zip(prob.params, grads):
            np.testing.assert_array_equal(p.grad.numpy(), g)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", {}),
                                     ("AdamW", {}), ("RMSprop", dict(momentum=0.5)),
                                     ("Adagrad", {}), ("Adadelta", {})])
def test_param_groups_and_skipped_grads(name, kw):
    """Two groups with their own options; a parameter whose grad is None is skipped."""
    arrs = arrays("float64")
    extra = {"SGD": dict(lr=0.01, momentum=0.5, nesterov=True), "Adam": dict(lr=0.1, amsgrad=True),
             "AdamW": dict(weight_decay=0.5), "RMSprop": dict(centered=True, alpha=0.9),
             "Adagrad": dict(lr=0.5, weight_decay=0.1), "Adadelta": dict(rho=0.5)}[name]
    results = []
    for lib in (nt, torch):
        prob = Problem(lib, arrs)
        w1, b1, w2, b2 = prob.params
        opt = getattr(lib.optim, name)([{"params": [w1, b1]}, {"params": [w2, b2], **extra}],
                                       **kw)
        traj = []
        for i in range(12):
            prob.backward()
            if i % 3 == 0:
                b2.grad = None          # skipped this step: its state must not advance
            opt.step()
            traj.append(prob.values())
        results.append((traj, opt.state_dict()))
    (traj_nt, sd_nt), (traj_t, sd_t) = results
    for ours, ref in zip(traj_nt, traj_t):
        for a, b in zip(ours, ref):
            np.testing.assert_allclose(a, b, **TOL["float64"])
    assert_state_dicts_match(sd_nt, sd_t)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(amsgrad=True, lr=0.05)),
                                     ("AdamW", dict(lr=0.05)),
                                     ("RMSprop", dict(momentum=0.5, centered=True)),
                                     ("Adagrad", dict(lr_decay=0.1)), ("Adadelta", {})])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_state_dict_round_trip(name, kw, dtype):
    """Save after 8 steps, load into a fresh optimizer on copied parameters, continue: the
    continuation equals uninterrupted training, and torch's state_dict loads as well."""
    arrs = arrays(dtype)
    prob, opt, _, _ = _run(nt, name, kw, arrs, steps=8)
    p_t, o_t, _, _ = _run(torch, name, kw, arrs, steps=8)
    sd = opt.state_dict()
    resumed = {}
    for label, source in (("ours", sd), ("torch", to_nt_state_dict(o_t.state_dict()))):
        copy_arrs = dict(arrs, **{k: v for k, v in zip(Problem.PARAMS, prob.values())})
        prob2 = Problem(nt, copy_arrs)
        opt2 = getattr(nt.optim, name)(prob2.params, **kw)
        opt2.load_state_dict(copy.deepcopy(source))
        resumed[label] = (prob2, opt2)
    for _ in range(8):
        for pr, op in [(prob, opt), (p_t, o_t)] + list(resumed.values()):
            pr.backward()
            op.step()
        ref = prob.values()
        for a, b in zip(resumed["ours"][0].values(), ref):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(resumed["torch"][0].values(), p_t.values()):
            np.testing.assert_allclose(a, b, **TOL[dtype])
    assert_state_dicts_match(resumed["ours"][1].state_dict(), o_t.state_dict(), dtype)


def test_default_float64_step_dtype():
    """The ``step`` counter is float64 when that is the default dtype, as in torch."""
    out = []
    for lib in (nt, torch):
        lib.set_default_dtype(lib.float64)
        try:
            p = lib.zeros(3, requires_grad=True)
            opt = lib.optim.Adam([p])
            p.grad = lib.ones(3)
            opt.step()
            out.append(str(opt.state_dict()["state"][0]["step"].dtype).split(".")[-1])
            fused = lib.optim.Adam([lib.zeros(2, requires_grad=True)], fused=True)
            fused.param_groups[0]["params"][0].grad = lib.ones(2)
            fused.step()
            out.append(str(fused.state_dict()["state"][0]["step"].dtype).split(".")[-1])
        finally:
            lib.set_default_dtype(lib.float32)
    assert out[:2] == out[2:] == ["float64", "float32"]


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1,
                                                  maximize=True)),
                                     ("Adam", dict(weight_decay=0.1, amsgrad=True)),
                                     ("RMSprop", dict(momentum=0.5, centered=True)),
                                     ("Adagrad", dict(weight_decay=0.1)),
                                     ("Adadelta", dict(weight_decay=0.1))])
def test_workspace_and_functional_paths_agree(name, kw, monkeypatch):
    """The update functions give the same result with the cached Workspace, with fresh
    temporaries (ws=None), and for parameters too large to cache."""
    from numtorch.optim._common import Workspace

    runs = []
    for mode in ("cached", "fresh", "uncached"):
        prob = Problem(nt, arrays("float32"))
        opt = getattr(nt.optim, name)(prob.params, **kw)
        if mode == "fresh":
            opt._ws = None
        monkeypatch.setattr(Workspace, "MAX_CACHED", 1 if mode == "uncached" else 1 << 22)
        for _ in range(5):
            prob.backward()
            opt.step()
        runs.append(prob.values())
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)
