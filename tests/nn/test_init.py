"""nn.init and default layer initialisation: the same distributions as PyTorch's.

Values differ from torch's for one seed (different generators), so distributions are compared
through statistics over many draws: mean, standard deviation and range.
"""
import math

import numpy as np
import pytest
import torch

import numtorch as nt


def _stats(a):
    a = np.asarray(a, dtype=np.float64).ravel()
    return a.size, a.mean(), a.std(), a.min(), a.max()


def _assert_same_distribution(ours, ref, bounded=False, what=""):
    n, m1, s1, lo1, hi1 = _stats(ours)
    n2, m2, s2, lo2, hi2 = _stats(ref)
    assert n == n2, what
    if s2 == 0:
        np.testing.assert_allclose(ours, ref, err_msg=what)
        return
    se = s2 / math.sqrt(n)
    assert abs(m1 - m2) < 6 * se * math.sqrt(2), f"{what}: mean {m1} vs torch {m2}"
    assert abs(s1 / s2 - 1) < 6 * math.sqrt(1 / n) + 1e-3, f"{what}: std {s1} vs torch {s2}"
    if bounded:  # uniform-like: the observed ranges agree closely
        width = hi2 - lo2
        assert abs(lo1 - lo2) < 0.01 * width and abs(hi1 - hi2) < 0.01 * width, what


LAYER_PARAMS = [
    ("Linear", lambda lib: lib.nn.Linear(300, 200), 20),
    ("Linear_small", lambda lib: lib.nn.Linear(3, 7), 2000),
    ("Bilinear", lambda lib: lib.nn.Bilinear(20, 30, 40), 20),
    ("PReLU", lambda lib: lib.nn.PReLU(5, 0.3), 2),
]


@pytest.mark.parametrize("name,ctor,copies", LAYER_PARAMS, ids=[e[0] for e in LAYER_PARAMS])
def test_default_initialisation_matches_torch(name, ctor, copies):
    nt.manual_seed(1)
    ours = [ctor(nt) for _ in range(copies)]
    ref = [ctor(torch) for _ in range(copies)]
    for key, _ in ref[0].named_parameters():
        a = np.stack([dict(m.named_parameters())[key].detach().numpy() for m in ours])
        b = np.stack([dict(m.named_parameters())[key].detach().numpy() for m in ref])
        assert a.dtype == b.dtype
        _assert_same_distribution(a, b, bounded=True, what=f"{name}.{key}")


def _fill(lib, fn, shape, *args, **kwargs):
    t = lib.empty(*shape)
    out = fn(lib)(t, *args, **kwargs)
    assert out is t
    return t.numpy()


INITS = [
    ("uniform_", lambda lib: lib.nn.init.uniform_, (400, 300), (-0.3, 0.7), {}, True),
    ("normal_", lambda lib: lib.nn.init.normal_, (400, 300), (0.5, 2.0), {}, False),
    ("xavier_uniform_", lambda lib: lib.nn.init.xavier_uniform_, (300, 200), (), {"gain": 2.0},
     True),
    ("xavier_normal_", lambda lib: lib.nn.init.xavier_normal_, (30, 20, 3, 3), (), {}, False),
    ("kaiming_uniform_", lambda lib: lib.nn.init.kaiming_uniform_, (300, 200), (),
     {"mode": "fan_out", "nonlinearity": "relu"}, True),
    ("kaiming_uniform_a", lambda lib: lib.nn.init.kaiming_uniform_, (64, 16, 5, 5),
     (math.sqrt(5),), {}, True),
    ("kaiming_normal_", lambda lib: lib.nn.init.kaiming_normal_, (300, 200), (0.2,),
     {"nonlinearity": "leaky_relu"}, False),
    ("trunc_normal_", lambda lib: lib.nn.init.trunc_normal_, (400, 300), (0.1, 0.5, -0.3, 0.8),
     {}, True),
    ("trunc_normal_default", lambda lib: lib.nn.init.trunc_normal_, (400, 300), (), {}, True),
    ("orthogonal_", lambda lib: lib.nn.init.orthogonal_, (200, 100), (1.5,), {}, False),
]


@pytest.mark.parametrize("name,fn,shape,args,kwargs,bounded", INITS, ids=[e[0] for e in INITS])
def test_initialiser_distribution_matches_torch(name, fn, shape, args, kwargs, bounded):
    ours = _fill(nt, fn, shape, *args, **kwargs)
    ref = _fill(torch, fn, shape, *args, **kwargs)
    _assert_same_distribution(ours, ref, bounded=bounded, what=name)


@pytest.mark.parametrize("shape", [(5, 8), (8, 5), (4, 3, 2)])
def test_orthogonal_is_orthogonal(shape):
    w = _fill(nt, lambda lib: lib.nn.init.orthogonal_, shape, 2.0).reshape(shape[0], -1)
    small = w if w.shape[0] <= w.shape[1] else w.T
    np.testing.assert_allclose(small @ small.T, 4.0 * np.eye(small.shape[0]), atol=1e-5)


DETERMINISTIC = [
    ("constant_", lambda lib, t: lib.nn.init.constant_(t, 0.25), (3, 4)),
    ("ones_", lambda lib, t: lib.nn.init.ones_(t), (3, 4)),
    ("zeros_", lambda lib, t: lib.nn.init.zeros_(t), (3, 4)),
    ("eye_", lambda lib, t: lib.nn.init.eye_(t), (3, 5)),
    ("dirac_", lambda lib, t: lib.nn.init.dirac_(t), (4, 3, 3, 3)),
    ("dirac_groups", lambda lib, t: lib.nn.init.dirac_(t, 2), (4, 2, 3)),
]


@pytest.mark.parametrize("name,fn,shape", DETERMINISTIC, ids=[e[0] for e in DETERMINISTIC])
def test_deterministic_initialisers_match_torch(name, fn, shape):
    ours, ref = nt.empty(*shape), torch.empty(*shape)
    fn(nt, ours)
    fn(torch, ref)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 3),
                                  ("selu",)])
def test_calculate_gain_matches_torch(args):
    assert nt.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


ERRORS = [
    lambda lib: lib.nn.init.calculate_gain("foo"),
    lambda lib: lib.nn.init.calculate_gain("leaky_relu", True),
    lambda lib: lib.nn.init.xavier_uniform_(lib.empty(5)),
    lambda lib: lib.nn.init.kaiming_normal_(lib.empty(3, 4), mode="fan_avg"),
    lambda lib: lib.nn.init.eye_(lib.empty(3, 4, 5)),
    lambda lib: lib.nn.init.orthogonal_(lib.empty(3)),
    lambda lib: lib.nn.init.dirac_(lib.empty(3, 4)),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_init_errors_match_torch(i):
    msgs = []
    for lib in (torch, nt):
        with pytest.raises(Exception) as info:
            ERRORS[i](lib)
        msgs.append((type(info.value), str(info.value)))
    assert msgs[0] == msgs[1]


def test_fan_in_and_fan_out_match_torch():
    for shape in [(3, 4), (8, 3, 5), (16, 4, 3, 3), (2, 3, 1, 2, 2)]:
        assert nt.nn.init._calculate_fan_in_and_fan_out(nt.empty(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_init_on_parameters_records_no_graph_and_uses_generators():
    p = nt.nn.Parameter(nt.empty(3, 4))
    nt.nn.init.normal_(p)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    a = nt.nn.init.uniform_(nt.empty(5), generator=nt.Generator().manual_seed(3)).numpy().copy()
    b = nt.nn.init.uniform_(nt.empty(5), generator=nt.Generator().manual_seed(3)).numpy()
    np.testing.assert_array_equal(a, b)
    nt.manual_seed(7)
    c = nt.nn.Linear(4, 3).weight.detach().numpy().copy()
    nt.manual_seed(7)
    np.testing.assert_array_equal(nt.nn.Linear(4, 3).weight.detach().numpy(), c)


def test_kaiming_on_empty_tensor_warns_like_torch():
    for lib in (nt, torch):
        with pytest.warns(UserWarning, match="zero-element"):
            lib.nn.init.kaiming_uniform_(lib.empty(0, 3))
