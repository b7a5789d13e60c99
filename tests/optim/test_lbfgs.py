"""optim.LBFGS follows torch's L-BFGS step by step: losses, parameters, closure calls, state.

Each problem is built identically in numtorch and torch from the same NumPy arrays. In float64
the trajectories agree to ~1e-10 relative (the libraries round dot products, fused
multiply-adds and the closures' own gradients differently in the last bit, and each problem
and horizon is chosen where L-BFGS does not amplify that past 1e-10 -- Rosenbrock at lr=1
without a line search is chaotic, and there torch's float64 run and ours part after a few
dozen iterations). In float32 the runs are shorter and compared against torch's float32 run
with a slack of twice torch's own float32 error (its distance to its float64 run): near
convergence float32 noise decides the stopping tests and the line search's branches, so
longer float32 runs differ in closure calls even between torch's float32 and float64 runs.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.optim.helpers import to_nt_state_dict, to_numpy

TOL64 = dict(rtol=1e-10, atol=1e-12)
TOL32 = dict(rtol=1e-4, atol=1e-6)
# the history holds differences of nearly equal gradients near the optimum (and ro, their
# inverse products), whose relative error is far above the parameters'
STATE_TOL = dict(rtol=1e-6, atol=1e-9)


# ---- problems: (params, loss function) of lib from NumPy arrays ----------------------------
def _rosenbrock(lib, a):
    x = lib.tensor(a["x"].copy(), requires_grad=True)
    return [x], lambda: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _least_squares(lib, a):
    X, y = lib.tensor(a["X"]), lib.tensor(a["y"])
    w = lib.tensor(a["w"].copy(), requires_grad=True)
    b = lib.tensor(a["b"].copy(), requires_grad=True)
    unused = lib.tensor(a["b"].copy(), requires_grad=True)    # never gets a gradient

    def loss():
        r = X @ w + b - y
        return (r * r).mean()
    return [w, unused, b], loss


def _mlp(lib, a):
    X, y = lib.tensor(a["X"]), lib.tensor(a["y"])
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2))
    model.to(getattr(lib, a["X"].dtype.name))
    model.load_state_dict({k: lib.tensor(v.copy()) for k, v in a["state_dict"].items()})
    return list(model.parameters()), lambda: lib.nn.functional.mse_loss(model(X), y)


def _arrays(name: str, dtype: str) -> dict:
    rng = np.random.default_rng(0)
    if name == "rosen2":
        a = {"x": np.array([-1.5, 2.0])}
    elif name == "rosen10":
        a = {"x": rng.uniform(-1.5, 1.5, 10)}
    elif name == "lsq":
        X = rng.standard_normal((32, 5))
        y = X @ rng.standard_normal((5, 1)) + 0.5 + 0.1 * rng.standard_normal((32, 1))
        a = {"X": X, "y": y, "w": 0.1 * rng.standard_normal((5, 1)), "b": np.zeros(1)}
    else:                                   # torch's default initialisation, copied across
        torch.manual_seed(0)
        ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
        a = {"X": rng.standard_normal((24, 4)), "y": rng.standard_normal((24, 2)),
             "state_dict": {k: v.detach().double().numpy() for k, v in
                            ref.state_dict().items()}}
    cast = lambda v: ({k: cast(x) for k, x in v.items()} if isinstance(v, dict)
                      else v.astype(dtype))
    return cast(a)


PROBLEMS = {"rosen2": _rosenbrock, "rosen10": _rosenbrock, "lsq": _least_squares, "mlp": _mlp}


class Run:
    """An LBFGS optimizer of ``lib`` on a problem, recording what every ``step`` did."""

    def __init__(self, lib, problem: str, dtype: str, **kw) -> None:
        self.lib = lib
        self.params, self.loss_fn = PROBLEMS[problem](lib, _arrays(problem, dtype))
        self.opt = lib.optim.LBFGS(self.params, **kw)
        self.calls = 0
        self.record = []            # per step: (returned loss, closure calls, parameters)

    def closure(self):
        self.calls += 1
        self.opt.zero_grad()
        loss = self.loss_fn()
        loss.backward()
        return loss

    def step(self, n: int = 1) -> "Run":
        for _ in range(n):
            loss = self.opt.step(self.closure)
            self.record.append((loss.item(), self.calls, self.values()))
        return self

    def values(self) -> list:
        return [p.detach().numpy().copy() for p in self.params]


def assert_runs_match(ours: Run, ref: Run, tol: dict, ref64: Run | None = None) -> None:
    """Same closure calls after every step; losses and parameters within ``tol`` (widened by
    twice torch's float32 error against ``ref64``, its float64 run, when given)."""
    assert len(ours.record) == len(ref.record)
    for i, ((l1, c1, p1), (l2, c2, p2)) in enumerate(zip(ours.record, ref.record)):
        assert c1 == c2, f"step {i}: {c1} closure calls, torch made {c2}"
        slack = 0.0 if ref64 is None else 2 * abs(l2 - ref64.record[i][0])
        assert abs(l1 - l2) <= tol["atol"] + tol["rtol"] * abs(l2) + slack, (i, l1, l2)
        for j, (a, b) in enumerate(zip(p1, p2)):
            assert a.dtype == b.dtype and a.shape == b.shape
            slack = 0.0 if ref64 is None else 2 * np.abs(b - ref64.record[i][2][j]).max()
            np.testing.assert_allclose(a, b, rtol=tol["rtol"], atol=tol["atol"] + slack,
                                       err_msg=f"step {i}, parameter {j}")
    st, st_ref = _state(ours), _state(ref)
    assert (st["func_evals"], st["n_iter"]) == (st_ref["func_evals"], st_ref["n_iter"])


def _state(run: Run) -> dict:
    return run.opt.state[run.params[0]]


def assert_states_match(ours: dict, ref: dict, tol: dict = STATE_TOL) -> None:
    """An optimizer state (or state_dict) of ours against torch's (or ours): the same keys in
    the same order, the same value types (Tensor, list, float, int, None) and close values."""
    def same(a, b, where):
        if isinstance(b, (torch.Tensor, nt.Tensor)):
            assert isinstance(a, nt.Tensor), (where, type(a))
            a, b = a.detach().numpy(), b.detach().numpy()
            assert a.dtype == b.dtype and a.shape == b.shape, (where, a.dtype, b.dtype)
            np.testing.assert_allclose(a, b, **tol, err_msg=where)
        elif isinstance(b, (list, tuple, dict)):
            assert type(a) is type(b) and len(a) == len(b), (where, a, b)
            if isinstance(b, dict):
                assert list(a) == list(b), (where, list(a), list(b))
                for k in b:
                    same(a[k], b[k], f"{where}.{k}")
            else:
                for i, (x, y) in enumerate(zip(a, b)):
                    same(x, y, f"{where}[{i}]")
        else:
            assert type(a) is type(b), (where, type(a), type(b))
            if isinstance(b, float):
                assert abs(a - b) <= tol["atol"] + tol["rtol"] * abs(b), (where, a, b)
            else:
                assert a == b, (where, a, b)
    same(ours, ref, "state")


# ---- trajectories --------------------------------------------------------------------------
CONFIGS = [   # (problem, steps, options)
    ("rosen2", 6, dict(line_search_fn="strong_wolfe")),       # converges; then early returns
    ("rosen2", 4, dict(lr=0.1, max_iter=15)),
    ("rosen2", 3, dict(line_search_fn="strong_wolfe", tolerance_change=1e-3)),
    ("rosen2", 4, dict(max_iter=8, max_eval=5, lr=0.5)),
    ("rosen10", 2, dict(lr=0.5)),
    ("rosen10", 2, dict(line_search_fn="strong_wolfe", history_size=3, max_iter=12)),
    ("rosen10", 4, dict(line_search_fn="strong_wolfe", max_iter=7, max_eval=9)),
    ("lsq", 3, dict()),
    ("lsq", 3, dict(line_search_fn="strong_wolfe", lr=0.3)),
    ("lsq", 3, dict(tolerance_grad=1e-3, history_size=2)),
    ("lsq", 2, dict(lr=1e-6, tolerance_change=1e-5)),        # lack of progress in parameters
    ("lsq", 3, dict(lr=0.5, tolerance_change=1e-4)),          # small loss change
    ("mlp", 3, dict(lr=0.1)),
    ("mlp", 2, dict(line_search_fn="strong_wolfe", max_iter=10, history_size=3)),
    ("mlp", 2, dict(lr=0.2, tolerance_change=1e-2, history_size=4)),
]
# NOTE: lr=0.1 with the line search on a quadratic is avoided on purpose: once the direction
# is the exact Newton step, the curvature test |g(t) d| <= 0.9 |g(0) d| holds with equality at
# t=0.1, and the last bit of rounding decides it.


def _id(cfg):
    problem, steps, kw = cfg
    return f"{problem}-{steps}-" + ",".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_float64_matches_torch(cfg):
    problem, steps, kw = cfg
    ours = Run(nt, problem, "float64", **kw).step(steps)
    ref = Run(torch, problem, "float64", **kw).step(steps)
    assert_runs_match(ours, ref, TOL64)
    assert_states_match(ours.opt.state_dict(), ref.opt.state_dict())


CONFIGS32 = [
    ("rosen2", 2, dict(max_iter=5)),
    ("rosen10", 2, dict(line_search_fn="strong_wolfe", max_iter=10, history_size=3)),
    ("lsq", 3, dict()),
    ("lsq", 3, dict(line_search_fn="strong_wolfe")),
    ("mlp", 2, dict(max_iter=5)),
    ("mlp", 2, dict(line_search_fn="strong_wolfe", max_iter=10, history_size=3)),
]


@pytest.mark.parametrize("cfg", CONFIGS32, ids=_id)
def test_float32_matches_torch(cfg):
    problem, steps, kw = cfg
    ours = Run(nt, problem, "float32", **kw).step(steps)
    ref = Run(torch, problem, "float32", **kw).step(steps)
    ref64 = Run(torch, problem, "float64", **kw).step(steps)
    assert_runs_match(ours, ref, TOL32, ref64)
    for v in _state(ours).values():
        if isinstance(v, nt.Tensor):
            assert v.dtype == nt.float32


def test_step_count_edge_cases_match_torch():
    """max_iter=1, an already-optimal point (one closure call and an early return), and an
    optimizer whose state holds no direction yet (max_iter=0)."""
    for kw in (dict(max_iter=1), dict(max_iter=1, line_search_fn="strong_wolfe"),
               dict(max_iter=0), dict(tolerance_grad=1e3)):
        ours = Run(nt, "rosen2", "float64", **kw).step(3)
        ref = Run(torch, "rosen2", "float64", **kw).step(3)
        assert_runs_match(ours, ref, TOL64)
        assert_states_match(ours.opt.state_dict(), ref.opt.state_dict())


def test_tensor_lr_matches_torch():
    ours = Run(nt, "lsq", "float64", lr=nt.tensor(0.5)).step(2)
    ref = Run(torch, "lsq", "float64", lr=torch.tensor(0.5)).step(2)
    assert_runs_match(ours, ref, TOL64)


# ---- the line search on its own ------------------------------------------------------------
def test_cubic_interpolate_matches_torch():
    """Random points and slopes, with and without bounds, minimum or not (midpoint)."""
    from torch.optim.lbfgs import _cubic_interpolate as ref_fn

    from numtorch.optim.lbfgs import _cubic_interpolate
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(300):
        x1, x2 = rng.uniform(-2, 2, 2).tolist()
        f1, f2 = rng.standard_normal(2).tolist()
        g1, g2 = (rng.standard_normal(2) * 3).tolist()
        bounds = None if rng.random() < 0.5 else tuple(sorted(rng.uniform(-3, 3, 2).tolist()))
        ours = _cubic_interpolate(x1, f1, np.float64(g1), x2, f2, np.float64(g2), bounds)
        ref = ref_fn(x1, f1, torch.tensor(g1, dtype=torch.float64), x2, f2,
                     torch.tensor(g2, dtype=torch.float64), bounds)
        assert float(ours) == pytest.approx(float(ref), rel=1e-12, abs=1e-12)
        # a bound (a Python float) where torch returns one, else a NumPy scalar for its tensor
        assert isinstance(ref, torch.Tensor) == isinstance(ours, np.generic)
        kinds.add(isinstance(ref, torch.Tensor))
    assert kinds == {True, False}


def _wiggly(a, b):
    """f(x) = sum(a cos(b x) + x^2 / 2 + x^4 / 8) and its gradient, on NumPy arrays."""
    def f(x):
        return float(np.sum(a * np.cos(b * x) + x * x / 2 + x ** 4 / 8))

    def g(x):
        return -a * b * np.sin(b * x) + x + x ** 3 / 2
    return f, g


def test_strong_wolfe_matches_torch():
    """Wiggly 1-d slices of a 4-d function, from steps far too short to far too long (zooms
    that stall near a bracket's end), with searches cut short by max_ls and brackets closed by
    a large tolerance_change: the same step, loss, gradient and number of evaluations as
    torch's search."""
    from torch.optim.lbfgs import _strong_wolfe as ref_fn

    from numtorch.optim.lbfgs import _strong_wolfe
    rng = np.random.default_rng(1)
    evals = set()
    for trial in range(400):
        f, g = _wiggly(rng.uniform(0.5, 3, 4), rng.uniform(1, 40, 4))
        x = rng.uniform(-2, 2, 4)
        g0 = g(x)
        d = -g0 if trial % 3 else -g0 + rng.standard_normal(4) * np.abs(g0).max() * 0.3
        if g0 @ d >= 0:
            continue
        t0 = float(10.0 ** rng.uniform(-3, 1.5))
        kw = dict(max_ls=int(rng.integers(1, 26)),
                  tolerance_change=1e-9 if trial % 5 else 1.0)

        def ours_obj(x, t, d):
            y = x + t * d
            return f(y), g(y)

        def ref_obj(x, t, d):
            y = x.numpy() + float(t) * d.numpy()
            return f(y), torch.from_numpy(g(y))
        fo, go, to, no = _strong_wolfe(ours_obj, x, t0, d, f(x), g0, g0 @ d, **kw)
        fr, gr, tr, nr = ref_fn(ref_obj, torch.from_numpy(x), t0, torch.from_numpy(d), f(x),
                                torch.from_numpy(g0), torch.from_numpy(g0).dot(
                                    torch.from_numpy(d)), **kw)
        assert no == nr, (trial, no, nr)
        # the steps agree to 1e-9; the losses and gradients are then the function's at them
        # (compared to torch's through the step: on slopes of ~1e4 a step's last bits matter)
        assert float(to) == pytest.approx(float(tr), rel=1e-9, abs=1e-12), trial
        y = x + to * d
        assert fo == f(y) and np.array_equal(go, g(y)), trial
        assert fr == pytest.approx(f(y), rel=1e-9, abs=1e-9 * abs(g0 @ d) * float(to)), trial
        evals.add(no)
    assert len(evals) > 5             # searches of many lengths were compared


# ---- state_dict ----------------------------------------------------------------------------
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_round_trip_resumes_identically(line_search_fn):
    kw = dict(line_search_fn=line_search_fn, history_size=3, max_iter=6)
    full = Run(nt, "mlp", "float64", **kw).step(4)
    first = Run(nt, "mlp", "float64", **kw).step(2)
    saved = copy.deepcopy(first.opt.state_dict())
    resumed = Run(nt, "mlp", "float64", **kw)
    for p, v in zip(resumed.params, first.values()):
        p.data.copy_(nt.tensor(v))
    resumed.opt.load_state_dict(saved)
    resumed.calls = first.calls
    resumed.record = list(first.record)
    resumed.step(2)
    for (l1, c1, p1), (l2, c2, p2) in zip(resumed.record, full.record):
        assert (l1, c1) == (l2, c2)
        for a, b in zip(p1, p2):
            np.testing.assert_array_equal(a, b)
    assert_states_match(resumed.opt.state_dict(), full.opt.state_dict(), dict(rtol=0, atol=0))


def test_torch_state_dict_loads_and_continues_like_torch():
    """torch's state after two steps, loaded into ours, continues as torch does."""
    kw = dict(line_search_fn="strong_wolfe", history_size=3, max_iter=5)
    ref = Run(torch, "rosen10", "float64", **kw).step(2)
    ours = Run(nt, "rosen10", "float64", **kw)
    for p, v in zip(ours.params, ref.values()):
        p.data.copy_(nt.tensor(v))
    ours.opt.load_state_dict(to_nt_state_dict(copy.deepcopy(ref.opt.state_dict())))
    ours.calls, ours.record = ref.calls, list(ref.record)
    ref.step(3)
    ours.step(3)
    assert_runs_match(ours, ref, TOL64)
    assert_states_match(ours.opt.state_dict(), ref.opt.state_dict())


def test_state_dict_saves_and_loads_through_numtorch_save(tmp_path):
    run = Run(nt, "lsq", "float32", line_search_fn="strong_wolfe", history_size=4).step(1)
    nt.save(run.opt.state_dict(), tmp_path / "lbfgs.pt")
    loaded = nt.load(tmp_path / "lbfgs.pt")
    sd = run.opt.state_dict()
    assert list(loaded["state"][0]) == list(sd["state"][0])
    for k, v in sd["state"][0].items():
        w = loaded["state"][0][k]
        if isinstance(v, list):
            assert len(w) == len(v)
            for x, y in zip(w, v):
                assert (x is None) == (y is None)
                if y is not None:
                    np.testing.assert_array_equal(to_numpy(x), to_numpy(y))
        elif isinstance(v, nt.Tensor):
            assert w.dtype == v.dtype
            np.testing.assert_array_equal(w.numpy(), v.numpy())
        else:
            assert w == v and type(w) is type(v)
    assert loaded["param_groups"] == sd["param_groups"]


# ---- grad mode, defaults, errors -----------------------------------------------------------
def test_closure_runs_with_grad_enabled_and_step_without():
    run = Run(nt, "lsq", "float64", line_search_fn="strong_wolfe")
    seen = []
    closure = run.closure

    def spy():
        seen.append(nt.is_grad_enabled())
        return closure()
    with nt.no_grad():
        loss = run.opt.step(spy)
        assert not nt.is_grad_enabled()
    assert len(seen) > 1 and all(seen) and loss.requires_grad
    assert all(p.grad_fn is None and p.requires_grad for p in run.params)


def test_defaults_match_torch():
    x = [nt.zeros(2, requires_grad=True)]
    ours = nt.optim.LBFGS(x)
    ref = torch.optim.LBFGS([torch.zeros(2, requires_grad=True)])
    assert ours.defaults == ref.defaults
    assert (nt.optim.LBFGS(x, max_iter=9).defaults["max_eval"]
            == torch.optim.LBFGS([torch.zeros(2)], max_iter=9).defaults["max_eval"])
    assert repr(ours) == repr(ref)


def _raises_like_torch(fn):
    """fn(lib) raises the same exception class with the same message in both libraries."""
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(type(ref.value)) as ours:
        fn(nt)
    assert type(ours.value) is type(ref.value)
    assert str(ours.value) == str(ref.value).replace("torch", "numtorch")


def _opt(lib, **kw):
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    return x, lib.optim.LBFGS([x], **kw)


def _quadratic_step(lib, **kw):
    x, opt = _opt(lib, **kw)

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss
    return opt.step(closure)


def _two_groups(lib):
    return lib.optim.LBFGS([{"params": [lib.zeros(2, requires_grad=True)]},
                            {"params": [lib.zeros(3, requires_grad=True)], "lr": 0.1}])


def _added_group_step(lib):
    x, opt = _opt(lib)
    opt.add_param_group({"params": [lib.zeros(3, requires_grad=True)]})
    opt.step(lambda: (x * x).sum())


@pytest.mark.parametrize("fn", [
    lambda lib: _opt(lib, lr=-1),
    lambda lib: _opt(lib, lr=lib.tensor([1.0, 2.0])),
    lambda lib: lib.optim.LBFGS([]),
    _two_groups,
    _added_group_step,
    lambda lib: _opt(lib)[1].step(),
    lambda lib: _opt(lib)[1].step(None),
    lambda lib: _quadratic_step(lib, line_search_fn="wolfe"),
], ids=["negative_lr", "lr_tensor_2_elements", "no_params", "two_groups", "added_group",
        "no_closure", "closure_none", "unknown_line_search"])
def test_bad_input_raises_like_torch(fn):
    _raises_like_torch(fn)
