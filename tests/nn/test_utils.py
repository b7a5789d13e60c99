"""nn.utils against torch: gradient clipping and parameter/vector conversion."""
import math

import numpy as np
import pytest
import torch

import numtorch as nt


def _params_with_grads(lib, dtype, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2, 2), (1,)]
    params = []
    for i, s in enumerate(shapes):
        p = lib.nn.Parameter(lib.tensor(rng.standard_normal(s).astype(dtype)))
        if i != 3:  # the last parameter has no gradient
            p.grad = lib.tensor((rng.standard_normal(s) * scale).astype(dtype))
        params.append(p)
    return params


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm):
    ours, ref = _params_with_grads(nt, dtype), _params_with_grads(torch, dtype)
    tn = nt.nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    tr = torch.nn.utils.clip_grad_norm_(ref, max_norm, norm_type=norm_type)
    assert tuple(tn.shape) == () and tn.numpy().dtype == tr.numpy().dtype
    tol = dict(rtol=1e-6, atol=1e-7) if dtype == "float32" else dict(rtol=1e-12, atol=0)
    np.testing.assert_allclose(tn.numpy(), tr.numpy(), **tol)
    for a, b in zip(ours, ref):
        assert (a.grad is None) == (b.grad is None)
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol)


def test_clip_grad_norm_single_tensor_and_empty():
    for lib in (nt, torch):
        p = lib.nn.Parameter(lib.ones(4))
        p.grad = lib.full((4,), 3.0)
        total = lib.nn.utils.clip_grad_norm_(p, 1.0)
        assert abs(total.item() - 6.0) < 1e-6 and abs(p.grad.norm().item() - 1.0) < 1e-5
        empty = lib.nn.utils.clip_grad_norm_([lib.nn.Parameter(lib.ones(2))], 1.0)
        assert empty.item() == 0.0 and empty.dtype == lib.float32


def test_clip_grad_norm_nonfinite():
    msgs = []
    for lib in (torch, nt):
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.tensor([1.0, float("inf")])
        with pytest.raises(RuntimeError) as info:
            lib.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        msgs.append(str(info.value))
        total = lib.nn.utils.clip_grad_norm_([p], 1.0, foreach=None)
        assert math.isinf(total.item())
    assert msgs[0] == msgs[1]


def test_get_total_norm_and_clip_grads_with_norm_match_torch():
    ours, ref = _params_with_grads(nt, "float64"), _params_with_grads(torch, "float64")
    tn = nt.nn.utils.get_total_norm([p.grad for p in ours if p.grad is not None], 2.0)
    tr = torch.nn.utils.get_total_norm([p.grad for p in ref if p.grad is not None], 2.0)
    np.testing.assert_allclose(tn.numpy(), tr.numpy(), rtol=1e-12)
    nt.nn.utils.clip_grads_with_norm_(ours, 0.1, tn)
    torch.nn.utils.clip_grads_with_norm_(ref, 0.1, tr)
    for a, b in zip(ours, ref):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("clip", [0.3, 2.0])
def test_clip_grad_value_matches_torch(clip):
    ours, ref = _params_with_grads(nt, "float32", 2.0), _params_with_grads(torch, "float32", 2.0)
    assert nt.nn.utils.clip_grad_value_(ours, clip) is None
    torch.nn.utils.clip_grad_value_(ref, clip)
    for a, b in zip(ours, ref):
        if b.grad is not None:
            np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_parameters_to_vector_and_back_match_torch():
    vecs = []
    state = {k: v.numpy().copy() for k, v in torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)).state_dict().items()}
    for lib in (nt, torch):
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Linear(4, 2))
        m.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        v = lib.nn.utils.parameters_to_vector(m.parameters())
        assert v.requires_grad and tuple(v.shape) == (26,)
        (v * lib.arange(26, dtype=lib.float32)).sum().backward()
        vecs.append((v.detach().numpy().copy(), m[1].weight.grad.numpy().copy()))
        lib.nn.utils.vector_to_parameters(lib.arange(26, dtype=lib.float32), m.parameters())
        vecs.append(m[1].bias.detach().numpy().copy())
        assert isinstance(m[0].weight, lib.nn.Parameter)
    np.testing.assert_array_equal(vecs[0][0], vecs[2][0])
    np.testing.assert_array_equal(vecs[0][1], vecs[2][1])
    np.testing.assert_array_equal(vecs[1], vecs[3])
    for lib in (nt, torch):
        with pytest.raises(TypeError):
            lib.nn.utils.vector_to_parameters([1.0], [])
