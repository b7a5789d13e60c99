"""A small regression problem built identically in numtorch and torch, for optimizer parity."""
from __future__ import annotations

import numpy as np
import torch

import numtorch as nt

LIBS = (nt, torch)
# per-step parameter tolerances: float64 tight, float32 close
TOL = {"float64": dict(rtol=1e-9, atol=1e-11), "float32": dict(rtol=1.3e-5, atol=1e-5)}


def arrays(dtype: str, seed: int = 0) -> dict:
    """Inputs and initial parameters of a 2-layer regression: x (16, 5) -> 4 -> 3."""
    rng = np.random.default_rng(seed)
    a = {"x": rng.standard_normal((16, 5)), "y": rng.standard_normal((16, 3)),
         "w1": rng.standard_normal((5, 4)) * 0.5, "b1": rng.standard_normal(4) * 0.1,
         "w2": rng.standard_normal((4, 3)) * 0.5, "b2": rng.standard_normal(3) * 0.1}
    return {k: v.astype(dtype) for k, v in a.items()}


class Problem:
    """Parameters as leaf tensors of ``lib`` and a loss built from basic tensor ops."""

    PARAMS = ("w1", "b1", "w2", "b2")

    def __init__(self, lib, arrs: dict, sign: float = 1.0) -> None:
        self.lib = lib
        self.x = lib.tensor(arrs["x"].copy())
        self.y = lib.tensor(arrs["y"].copy())
        self.params = [lib.tensor(arrs[k].copy(), requires_grad=True) for k in self.PARAMS]
        self.sign = sign        # -1 turns the problem into a maximization

    def loss(self):
        w1, b1, w2, b2 = self.params
        h = (self.x @ w1 + b1).tanh()
        r = h @ w2 + b2 - self.y
        return (r * r).mean() * self.sign

    def backward(self):
        for p in self.params:
            p.grad = None
        loss = self.loss()
        loss.backward()
        return loss.detach()

    def values(self) -> list:
        return [p.detach().numpy().copy() for p in self.params]


def assert_close(ours, ref, dtype: str, ref64=None, err_msg: str = "") -> None:
    """Compare to torch within TOL[dtype]. In float32, ``ref64`` (torch on the same problem in
    float64) widens the tolerance by twice torch's own largest float32 error in that tensor, so
    that ill-conditioned updates (tiny variance estimates, sign noise) are judged against the
    resolution float32 has there; a wrong formula still misses by far more."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.dtype == ref.dtype and ours.shape == ref.shape, (ours.dtype, ref.dtype)
    tol = TOL[dtype]
    if ref64 is None:
        np.testing.assert_allclose(ours, ref, **tol, err_msg=err_msg)
        return
    slack = 2 * np.abs(ref.astype(np.float64) - np.asarray(ref64)).max(initial=0.0)
    err = np.abs(ours.astype(np.float64) - ref)
    bad = err > tol["atol"] + tol["rtol"] * np.abs(ref) + slack
    assert not bad.any(), (f"{err_msg}: {bad.sum()} elements differ beyond tolerance; "
                           f"max error {err[bad].max():.3g}, slack {slack:.3g}")


def to_numpy(v):
    return v.detach().numpy() if isinstance(v, (torch.Tensor, nt.Tensor)) else v


def assert_state_dicts_match(ours: dict, ref: dict, dtype: str = "float64", ref64=None) -> None:
    """Same layout, keys, value types, tensor dtypes/shapes, and close values (see
    ``assert_close``; ``ref64`` is torch's float64 state_dict of the same run)."""
    assert list(ours) == list(ref) == ["state", "param_groups"]
    assert len(ours["param_groups"]) == len(ref["param_groups"])
    for g_ours, g_ref in zip(ours["param_groups"], ref["param_groups"]):
        assert list(g_ours) == list(g_ref), (list(g_ours), list(g_ref))
        for k in g_ref:
            a, b = g_ours[k], g_ref[k]
            assert type(a) is type(b), (k, type(a), type(b))
            assert a == b, (k, a, b)
    assert list(ours["state"]) == list(ref["state"])
    for idx, st_ref in ref["state"].items():
        st = ours["state"][idx]
        assert list(st) == list(st_ref), (idx, list(st), list(st_ref))
        for k, v_ref in st_ref.items():
            assert isinstance(st[k], nt.Tensor), (idx, k, type(st[k]))
            r64 = None if ref64 is None else to_numpy(ref64["state"][idx][k])
            assert_close(to_numpy(st[k]), to_numpy(v_ref), dtype, r64, f"state {idx} {k}")


def to_torch_state_dict(sd: dict) -> dict:
    """A numtorch optimizer state_dict with torch tensors (for loading into torch)."""
    return _convert(sd, nt.Tensor, lambda t: torch.from_numpy(t.numpy().copy()))


def to_nt_state_dict(sd: dict) -> dict:
    """A torch optimizer state_dict with numtorch tensors."""
    return _convert(sd, torch.Tensor, lambda t: nt.tensor(t.numpy().copy()))


def _convert(v, cls, fn):
    if isinstance(v, cls):
        return fn(v)
    if isinstance(v, dict):
        return {k: _convert(x, cls, fn) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_convert(x, cls, fn) for x in v)
    return v
