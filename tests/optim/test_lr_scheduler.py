"""Learning-rate schedulers: the lrs (and cycled momenta) follow torch's at every step."""
from __future__ import annotations

import copy
import math
import warnings

import pytest
import torch

import numtorch as nt


def _opt(lib, kind="sgd"):
    p, q = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    groups = [{"params": [p]}, {"params": [q], "lr": 0.05}]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.1)
    if kind == "adagrad":
        return lib.optim.Adagrad(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def _S(lib):
    return lib.optim.lr_scheduler


SCHEDULES = {
    "StepLR": (lambda lib, o: _S(lib).StepLR(o, step_size=3, gamma=0.5)),
    "MultiStepLR": (lambda lib, o: _S(lib).MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3)),
    "ExponentialLR": (lambda lib, o: _S(lib).ExponentialLR(o, gamma=0.9)),
    "CosineAnnealingLR": (lambda lib, o: _S(lib).CosineAnnealingLR(o, T_max=7, eta_min=1e-3)),
    "LambdaLR": (lambda lib, o: _S(lib).LambdaLR(o, lambda e: 0.95 ** e)),
    "LambdaLR_list": (lambda lib, o: _S(lib).LambdaLR(o, [lambda e: 1 / (e + 1),
                                                          lambda e: 0.9 ** (e // 2)])),
    "MultiplicativeLR": (lambda lib, o: _S(lib).MultiplicativeLR(o, lambda e: 0.9 + 0.001 * e)),
    "LinearLR": (lambda lib, o: _S(lib).LinearLR(o, start_factor=0.25, total_iters=6)),
    "LinearLR_down": (lambda lib, o: _S(lib).LinearLR(o, start_factor=1.0, end_factor=0.1,
                                                      total_iters=9)),
    "ConstantLR": (lambda lib, o: _S(lib).ConstantLR(o, factor=0.5, total_iters=4)),
    "PolynomialLR": (lambda lib, o: _S(lib).PolynomialLR(o, total_iters=8, power=2.0)),
    "OneCycleLR_cos": (lambda lib, o: _S(lib).OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=25)),
    "OneCycleLR_linear": (lambda lib, o: _S(lib).OneCycleLR(
        o, max_lr=0.8, epochs=5, steps_per_epoch=5, anneal_strategy="linear", pct_start=0.4)),
    "OneCycleLR_three_phase": (lambda lib, o: _S(lib).OneCycleLR(
        o, max_lr=0.8, total_steps=25, three_phase=True, div_factor=10.0,
        final_div_factor=100.0, base_momentum=[0.8, 0.7], max_momentum=0.99)),
    "OneCycleLR_no_momentum": (lambda lib, o: _S(lib).OneCycleLR(
        o, max_lr=0.8, total_steps=25, cycle_momentum=False)),
    "WarmRestarts_mult2": (lambda lib, o: _S(lib).CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.01)),
    "WarmRestarts": (lambda lib, o: _S(lib).CosineAnnealingWarmRestarts(o, T_0=5)),
    "CyclicLR_triangular": (lambda lib, o: _S(lib).CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                            step_size_up=4)),
    "CyclicLR_triangular2": (lambda lib, o: _S(lib).CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, step_size_down=5,
        mode="triangular2")),
    "CyclicLR_exp_range": (lambda lib, o: _S(lib).CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=4, mode="exp_range", gamma=0.9)),
    "CyclicLR_scale_fn": (lambda lib, o: _S(lib).CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=2, scale_fn=lambda x: 0.5 ** x,
        scale_mode="iterations", cycle_momentum=False)),
    "SequentialLR": (lambda lib, o: _S(lib).SequentialLR(
        o, [_S(lib).LinearLR(o, start_factor=0.1, total_iters=5),
            _S(lib).ExponentialLR(o, gamma=0.8)], milestones=[5])),
    "SequentialLR_three": (lambda lib, o: _S(lib).SequentialLR(
        o, [_S(lib).ConstantLR(o, factor=0.2, total_iters=3),
            _S(lib).CosineAnnealingLR(o, T_max=6), _S(lib).StepLR(o, 2)], milestones=[4, 10])),
    "ChainedScheduler": (lambda lib, o: _S(lib).ChainedScheduler(
        [_S(lib).ConstantLR(o, factor=0.1, total_iters=4), _S(lib).ExponentialLR(o, 0.9)])),
}
KINDS = {"OneCycleLR_three_phase": ["sgd", "adam"], "CyclicLR_triangular": ["sgd", "adam"],
         "OneCycleLR_cos": ["sgd", "adam"]}
CASES = [(name, kind) for name in SCHEDULES for kind in KINDS.get(name, ["sgd"])]


def _drive(lib, name, kind, steps):
    opt = _opt(lib, kind)
    sched = SCHEDULES[name](lib, opt)
    rows = [_row(opt, sched)]
    for _ in range(steps):
        opt.step()
        sched.step()
        rows.append(_row(opt, sched))
    return opt, sched, rows


def _row(opt, sched):
    moms = [g.get("momentum", g.get("betas")) for g in opt.param_groups]
    return list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups], moms


def _plain(state):
    """A scheduler state_dict with the values torch and numtorch can share compared directly."""
    return {k: ([_plain(s) for s in v] if k == "_schedulers" else v) for k, v in state.items()}


@pytest.mark.parametrize("name,kind", CASES, ids=lambda v: str(v))
def test_schedule_matches_torch(name, kind):
    steps = 24 if name.startswith("OneCycle") else 30
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no spurious warnings in the normal order
        o_nt, s_nt, ours = _drive(nt, name, kind, steps)
    o_t, s_t, ref = _drive(torch, name, kind, steps)
    for i, (a, b) in enumerate(zip(ours, ref)):
        assert a == b, f"step {i}: {a} != {b}"
    assert _plain(s_nt.state_dict()) == _plain(s_t.state_dict())
    assert [{k: v for k, v in g.items() if k != "params"} for g in o_nt.param_groups] == \
        [{k: v for k, v in g.items() if k != "params"} for g in o_t.param_groups]


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "OneCycleLR_cos",
                                  "WarmRestarts_mult2", "CyclicLR_triangular2", "SequentialLR",
                                  "ChainedScheduler", "LambdaLR", "MultiStepLR"])
def test_scheduler_state_dict_round_trip(name):
    """Resume from a saved (optimizer, scheduler) pair: the schedule continues unchanged."""
    out = []
    for lib in (nt, torch):
        opt, sched, _ = _drive(lib, name, "sgd", 7)
        sd_o, sd_s = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
        opt2 = _opt(lib)
        sched2 = SCHEDULES[name](lib, opt2)
        opt2.load_state_dict(sd_o)
        sched2.load_state_dict(sd_s)
        rows = []
        for _ in range(10):
            for o, s in ((opt, sched), (opt2, sched2)):
                o.step()
                s.step()
            rows.append((_row(opt, sched), _row(opt2, sched2)))
        assert all(a == b for a, b in rows)
        out.append(rows)
    assert out[0] == out[1]


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "LinearLR", "ConstantLR", "PolynomialLR", "LambdaLR",
                                  "WarmRestarts_mult2", "WarmRestarts"])
def test_step_with_epoch_uses_closed_form(name):
    epochs = [1, 2, 5, 3, 9, 9, 14, 0, 7]
    if name.startswith("WarmRestarts"):
        epochs = [0.5, 1, 2.25, 3, 4.5, 7, 10, 21.5, 2]
    out = []
    for lib in (nt, torch):
        opt = _opt(lib)
        sched = SCHEDULES[name](lib, opt)
        rows = []
        for e in epochs:
            opt.step()
            if name.startswith("WarmRestarts"):
                sched.step(e)
            else:
                with pytest.warns(UserWarning, match="epoch parameter"):
                    sched.step(e)
            rows.append(_row(opt, sched))
        out.append(rows)
    assert out[0] == out[1]


METRICS = [1.0, 0.9, 0.95, 0.95, 0.94, 0.8999, 1.0, 1.0, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.9,
           0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.39, 0.3, 0.3, 0.3]


@pytest.mark.parametrize("kw", [dict(), dict(patience=2), dict(patience=1, cooldown=2),
                                dict(mode="max", patience=1, factor=0.5),
                                dict(threshold=0.05, threshold_mode="abs", patience=0),
                                dict(threshold=0.1, patience=1, min_lr=[0.02, 0.03]),
                                dict(patience=0, factor=0.3, min_lr=0.009, eps=1e-3),
                                dict(mode="max", threshold_mode="abs", patience=2, cooldown=1)],
                         ids=str)
def test_reduce_lr_on_plateau(kw):
    out, states = [], []
    for lib in (nt, torch):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        rows = []
        for m in METRICS:
            opt.step()
            sched.step(lib.tensor(m) if len(rows) % 2 else m)
            rows.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter,
                         sched.best, sched.last_epoch))
        out.append(rows)
        states.append(sched.state_dict())
    assert out[0] == out[1]
    assert states[0] == states[1]


def test_reduce_lr_on_plateau_resume():
    for lib in (nt, torch):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, mode="max")
        for m in METRICS[:9]:
            sched.step(m)
        opt2 = _opt(lib)
        opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
        sched2 = lib.optim.lr_scheduler.ReduceLROnPlateau(opt2)
        sched2.load_state_dict(copy.deepcopy(sched.state_dict()))
        for m in METRICS[9:]:
            sched.step(m)
            sched2.step(m)
            assert sched.get_last_lr() == sched2.get_last_lr()
            assert sched2._is_better(m + 1, m) and sched2.mode == "max"


def test_warnings_like_torch():
    for lib in (nt, torch):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            sched.step()
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            sched.get_lr()
        opt2 = _opt(lib)
        sched2 = lib.optim.lr_scheduler.ExponentialLR(opt2, 0.5)
        opt2.step = lambda closure=None: None
        with pytest.warns(UserWarning, match="has been overridden"):
            sched2.step()


def test_one_cycle_overstep_and_resume_with_last_epoch():
    for lib in (nt, torch):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            sched.step()
    lrs = []
    for lib in (nt, torch):
        opt = _opt(lib)
        for g in opt.param_groups:
            g["initial_lr"] = 0.3
        sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5, last_epoch=4)
        lrs.append((sched.base_lrs, sched.last_epoch, sched.get_last_lr()))
    assert lrs[0] == lrs[1]


def test_tensor_lr_is_filled_in_place():
    out = []
    for lib in (nt, torch):
        p = lib.zeros(2, requires_grad=True)
        lr = lib.tensor(0.1)
        opt = lib.optim.SGD([p], lr=lr)
        sched = lib.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
        for _ in range(3):
            opt.step()
            sched.step()
        assert opt.param_groups[0]["lr"] is lr
        last = sched.get_last_lr()[0]
        assert isinstance(last, lib.Tensor) and last is not lr
        out.append(float(lr))
    assert out[0] == out[1] == pytest.approx(0.0125)


BAD = [
    lambda S, o: S.ConstantLR(o, factor=1.5),
    lambda S, o: S.LinearLR(o, start_factor=0),
    lambda S, o: S.LinearLR(o, end_factor=1.5),
    lambda S, o: S.LambdaLR(o, [lambda e: 1.0]),
    lambda S, o: S.MultiplicativeLR(o, [lambda e: 1.0, 0.5]),
    lambda S, o: S.StepLR(object(), 2),
    lambda S, o: S.ExponentialLR(o, 0.5, last_epoch=3),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=0),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=-1),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1),
    lambda S, o: S.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"),
    lambda S, o: S.OneCycleLR(o, max_lr=[0.1, 0.2, 0.3], total_steps=10),
    lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5),
    lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"),
    lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=2).step(-1),
    lambda S, o: S.CyclicLR(o, 0.01, 0.1, mode="bad"),
    lambda S, o: S.ReduceLROnPlateau(o, factor=1.0),
    lambda S, o: S.ReduceLROnPlateau(o, mode="avg"),
    lambda S, o: S.ReduceLROnPlateau(o, threshold_mode="x"),
    lambda S, o: S.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda S, o: S.SequentialLR(o, [], milestones=[]),
    lambda S, o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], milestones=[]),
    lambda S, o: S.SequentialLR(o, [S.StepLR(o, 2), S.ReduceLROnPlateau(o)], milestones=[2]),
    lambda S, o: S.ChainedScheduler([]),
]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_bad_arguments(i):
    errors = []
    for lib in (nt, torch):
        with pytest.raises(Exception) as info:
            BAD[i](lib.optim.lr_scheduler, _opt(lib))
        errors.append(info.value)
    assert type(errors[0]).__name__ == type(errors[1]).__name__
    assert str(errors[0]).replace("numtorch", "torch") == str(errors[1])


def test_cycle_momentum_needs_momentum():
    for lib in (nt, torch):
        with pytest.raises(ValueError, match="optimizer must support momentum"):
            lib.optim.lr_scheduler.OneCycleLR(_opt(lib, "adagrad"), max_lr=0.1, total_steps=5)
        with pytest.raises(ValueError, match="optimizer must support momentum"):
            lib.optim.lr_scheduler.CyclicLR(_opt(lib, "adagrad"), 0.01, 0.1)


def test_names_exported():
    for name in ("LRScheduler", "_LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR",
                 "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "SequentialLR",
                 "CosineAnnealingLR", "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR",
                 "CosineAnnealingWarmRestarts", "OneCycleLR", "PolynomialLR"):
        assert hasattr(nt.optim.lr_scheduler, name), name
    assert math.isclose(nt.optim.lr_scheduler.OneCycleLR._annealing_cos(1.0, 0.0, 0.5), 0.5)
