"""Normalisation: batch, instance, layer, group, RMS and local response norm against torch.

Oracle cases (functional, float32/float64, gradients w.r.t. input, weight and bias; float64
gradcheck), then module parity with state_dicts copied (outputs, gradients and running
statistics over several training steps, then evaluation), state_dict/repr, and error cases.
"""

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import TOL, Case, check_case, gradcheck_case, register


def _bn_train(momentum=0.1, stats=True, affine=True):
    def fn(lib, x, *wb):
        c = x.shape[1]
        rm = lib.full((c,), 0.5, dtype=x.dtype) if stats else None
        rv = lib.full((c,), 2.0, dtype=x.dtype) if stats else None
        w, b = (wb + (None, None))[:2] if affine else (None, None)
        y = lib.nn.functional.batch_norm(x, rm, rv, w, b, True, momentum, 1e-5)
        return (y, rm, rv) if stats else y
    return fn


def _bn_eval_inputs(shape):
    def make(rng, dtype):
        c = shape[1]
        return [np.asarray(a, dtype) for a in (
            rng.standard_normal(shape) * 2 + 1, rng.standard_normal(c), rng.standard_normal(c),
            rng.standard_normal(c), rng.uniform(0.5, 2.0, c))]
    return make


def _bn_eval(lib, x, w, b, rm, rv):
    return lib.nn.functional.batch_norm(x, rm, rv, w, b, False, 0.1, 1e-3)


def _shifted(shape, loc=3.0):
    """Inputs of mean ``loc`` (so centring matters), weight and bias of C."""
    def make(rng, dtype):
        c = shape[1]
        return [np.asarray(rng.standard_normal(shape) * 2 + loc, dtype),
                np.asarray(rng.standard_normal(c), dtype),
                np.asarray(rng.standard_normal(c), dtype)]
    return make


def _ln(ns, affine=True, bias=True):
    def fn(lib, x, *wb):
        w = wb[0] if affine else None
        b = wb[-1] if affine and bias else None
        return lib.nn.functional.layer_norm(x, ns, w, b, 1e-5)
    return fn


def _gn(g, affine=True):
    def fn(lib, x, *wb):
        w, b = wb if affine else (None, None)
        return lib.nn.functional.group_norm(x, g, w, b, 1e-5)
    return fn


def _inorm(lib, x, w, b):
    c = x.shape[1]
    rm, rv = lib.zeros(c, dtype=x.dtype), lib.ones(c, dtype=x.dtype)
    y = lib.nn.functional.instance_norm(x, rm, rv, w, b, True, 0.2, 1e-5)
    return y, rm, rv


def _inorm_eval(lib, x, w, b, rm, rv):
    return lib.nn.functional.instance_norm(x, rm, rv, w, b, False, 0.1, 1e-5)


CASES = register(
    Case("bn_train_2d", _bn_train(), shapes=[(6, 3), (3,), (3,)]),
    Case("bn_train_3d", _bn_train(), make=_shifted((4, 3, 5))),
    Case("bn_train_4d", _bn_train(), make=_shifted((3, 3, 4, 4))),
    Case("bn_train_5d", _bn_train(), shapes=[(2, 3, 2, 3, 2), (3,), (3,)]),
    Case("bn_train_4d_n2", _bn_train(), shapes=[(2, 3, 3, 3), (3,), (3,)]),
    Case("bn_train_big", _bn_train(), make=_shifted((8, 4, 32, 32))),  # expanded (C, M) path
    Case("bn_train_noaffine", _bn_train(affine=False), shapes=[(4, 3, 5)]),
    Case("bn_train_weight_only", lambda lib, x, w: lib.nn.functional.batch_norm(
        x, None, None, w, None, True), shapes=[(5, 4, 3), (4,)]),
    Case("bn_train_nostats", _bn_train(stats=False), shapes=[(5, 2, 3, 3), (2,), (2,)]),
    Case("bn_eval_2d", _bn_eval, make=_bn_eval_inputs((6, 3)), grad=[True] * 3 + [False] * 2),
    Case("bn_eval_4d", _bn_eval, make=_bn_eval_inputs((3, 3, 4, 4)),
         grad=[True] * 3 + [False] * 2),
    Case("bn_eval_big", _bn_eval, make=_bn_eval_inputs((8, 4, 32, 32)),
         grad=[True] * 3 + [False] * 2),
    Case("bn_eval_3d_noaffine", lambda lib, x, w, b, rm, rv: lib.nn.functional.batch_norm(
        x, rm, rv, training=False), make=_bn_eval_inputs((4, 3, 5)),
        grad=[True] + [False] * 4),
    Case("ln_last", _ln((5,)), shapes=[(4, 5), (5,), (5,)]),
    Case("ln_two", _ln([3, 4]), shapes=[(2, 3, 4), (3, 4), (3, 4)]),
    Case("ln_all", _ln((2, 3, 4)), shapes=[(2, 3, 4), (2, 3, 4), (2, 3, 4)]),
    Case("ln_noaffine", _ln((6,), affine=False), shapes=[(2, 3, 6)]),
    Case("ln_nobias", _ln((6,), bias=False), shapes=[(3, 6), (6,)]),
    Case("ln_shifted", _ln((8,)), make=lambda rng, dt: [
        np.asarray(rng.standard_normal((5, 8)) + 10, dt), np.asarray(rng.standard_normal(8), dt),
        np.asarray(rng.standard_normal(8), dt)]),
    Case("gn_1", _gn(1), shapes=[(3, 6, 5), (6,), (6,)]),
    Case("gn_2", _gn(2), shapes=[(3, 6, 5), (6,), (6,)]),
    Case("gn_3_4d", _gn(3), make=_shifted((2, 6, 3, 3))),
    Case("gn_6", _gn(6), shapes=[(3, 6, 5), (6,), (6,)]),
    Case("gn_2d_input", _gn(2), shapes=[(3, 4), (4,), (4,)]),
    Case("gn_big", _gn(2), make=_shifted((8, 4, 32, 32))),
    Case("gn_noaffine", _gn(2, affine=False), shapes=[(2, 4, 3, 2)]),
    Case("in_train", _inorm, shapes=[(3, 4, 5), (4,), (4,)]),
    Case("in_train_4d", lambda lib, x, w, b: lib.nn.functional.instance_norm(x, weight=w, bias=b),
         make=_shifted((2, 3, 3, 4))),
    Case("in_eval", _inorm_eval, make=_bn_eval_inputs((2, 3, 6)),
         grad=[True] * 3 + [False] * 2),
    Case("rms_norm", lambda lib, x, w: lib.nn.functional.rms_norm(x, (4,), w, 1e-6),
         shapes=[(3, 4), (4,)]),
    Case("rms_norm_noeps", lambda lib, x: lib.nn.functional.rms_norm(x, [2, 3]),
         shapes=[(2, 2, 3)]),
    Case("local_response_norm", lambda lib, x: lib.nn.functional.local_response_norm(
        x, 3, alpha=0.1, beta=0.75, k=2.0), shapes=[(2, 5, 3)]),
    Case("local_response_norm_4d", lambda lib, x: lib.nn.functional.local_response_norm(
        x, 2, alpha=0.5), shapes=[(2, 4, 2, 3)]),
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


# ---- modules ------------------------------------------------------------------------------
def _copy_state(tm, nm):
    nm.load_state_dict({k: nt.from_numpy(v.detach().numpy().copy())
                        for k, v in tm.state_dict().items()})


def _randomise(tm, rng):
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))))


def _close(a, b, dtype, what):
    a = a.detach().numpy() if hasattr(a, "detach") else a
    b = b.detach().numpy()
    assert a.shape == b.shape and a.dtype == b.dtype, f"{what}: {a.shape} {a.dtype} vs " \
                                                      f"{b.shape} {b.dtype}"
    np.testing.assert_allclose(a, b, err_msg=what, **TOL[dtype])


def _steps(make, shape, dtype, steps=3, loc=1.5):
    """Train-mode steps then eval-mode forward in both libraries, comparing everything."""
    rng = np.random.default_rng(0)
    tm, nm = make(torch), make(nt)
    tdt = getattr(torch, dtype)
    tm.to(tdt)
    nm.to(getattr(nt, dtype))
    _randomise(tm, rng)
    _copy_state(tm, nm)
    for step in range(steps):
        x = (rng.standard_normal(shape) * 2 + loc).astype(dtype)
        g = rng.standard_normal(shape).astype(dtype)
        outs = []
        for lib, m in ((nt, nm), (torch, tm)):
            m.zero_grad()
            xt = lib.from_numpy(x.copy()).requires_grad_(True)
            y = m(xt)
            y.backward(lib.from_numpy(g.copy()))
            outs.append((y, xt.grad, dict(m.named_parameters()), dict(m.named_buffers())))
        (yn, gn, pn, bn), (yt, gt, pt, bt) = outs
        _close(yn, yt, dtype, f"step {step} output")
        _close(gn, gt, dtype, f"step {step} input grad")
        assert pn.keys() == pt.keys() and bn.keys() == bt.keys()
        for k in pt:
            _close(pn[k].grad, pt[k].grad, dtype, f"step {step} {k}.grad")
        for k in bt:
            _close(bn[k], bt[k], dtype, f"step {step} buffer {k}")
    tm.eval()
    nm.eval()
    x = (rng.standard_normal(shape) + loc).astype(dtype)
    _close(nm(nt.from_numpy(x.copy())), tm(torch.from_numpy(x.copy())), dtype, "eval output")
    return nm


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (4, 3, 5, 5)),
                                        ("BatchNorm3d", (2, 3, 2, 3, 2))])
def test_batchnorm_module_steps(name, shape, momentum, dtype):
    nm = _steps(lambda lib: getattr(lib.nn, name)(3, momentum=momentum), shape, dtype)
    assert int(nm.num_batches_tracked) == 3 and nm.num_batches_tracked.dtype == nt.int64


@pytest.mark.parametrize("kwargs", [dict(affine=False), dict(track_running_stats=False),
                                    dict(bias=False), dict(eps=1e-3, momentum=0.3)])
def test_batchnorm_module_options(kwargs):
    _steps(lambda lib: lib.nn.BatchNorm2d(4, **kwargs), (3, 4, 3, 3), "float32")


@pytest.mark.parametrize("make,shape", [
    (lambda lib: lib.nn.LayerNorm(6), (3, 6)),
    (lambda lib: lib.nn.LayerNorm((4, 5), eps=1e-3, bias=False), (2, 3, 4, 5)),
    (lambda lib: lib.nn.LayerNorm([5], elementwise_affine=False), (4, 5)),
    (lambda lib: lib.nn.GroupNorm(2, 4), (3, 4, 3, 3)),
    (lambda lib: lib.nn.GroupNorm(3, 6, affine=False), (2, 6, 4)),
    (lambda lib: lib.nn.GroupNorm(1, 4, bias=False), (5, 4)),
    (lambda lib: lib.nn.InstanceNorm1d(3), (2, 3, 6)),
    (lambda lib: lib.nn.InstanceNorm1d(3, affine=True), (3, 6)),
    (lambda lib: lib.nn.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 4)),
    (lambda lib: lib.nn.InstanceNorm3d(2, track_running_stats=True), (2, 2, 3, 2, 2)),
    (lambda lib: lib.nn.RMSNorm(5), (3, 5)),
    (lambda lib: lib.nn.LocalResponseNorm(3), (2, 5, 4)),
], ids=["ln", "ln_2d_nobias", "ln_noaffine", "gn", "gn_noaffine", "gn_nobias", "in1d",
        "in1d_nobatch", "in2d_stats", "in3d_stats", "rms", "lrn"])
def test_other_norm_modules(make, shape):
    _steps(make, shape, "float64", steps=2)


def test_sync_batchnorm_runs_as_batchnorm():
    _steps(lambda lib: lib.nn.SyncBatchNorm(3), (4, 3, 2, 2), "float32", steps=2)
    m = nt.nn.SyncBatchNorm.convert_sync_batchnorm(nt.nn.Sequential(nt.nn.BatchNorm2d(3)))
    assert type(m[0]) is nt.nn.SyncBatchNorm


def test_batchnorm_buffers_updated_in_place_without_grad():
    m = nt.nn.BatchNorm2d(3)
    rm, rv, nbt = m.running_mean, m.running_var, m.num_batches_tracked
    arrays = (rm._data, rv._data)
    m(nt.randn(4, 3, 2, 2, requires_grad=True)).sum().backward()
    assert m.running_mean is rm and m.running_var is rv and m.num_batches_tracked is nbt
    assert rm._data is arrays[0] and rv._data is arrays[1]
    assert not rm.requires_grad and rm.grad is None and rm.grad_fn is None
    assert int(nbt) == 1 and float(rm.abs().sum()) > 0
    m.reset_running_stats()
    np.testing.assert_array_equal(rm.numpy(), 0)
    np.testing.assert_array_equal(rv.numpy(), 1)
    assert int(nbt) == 0 and m.running_mean is rm
    with nt.no_grad():
        m.weight.fill_(3)
    m.reset_parameters()
    np.testing.assert_array_equal(m.weight.detach().numpy(), 1)


def test_eval_without_running_stats_uses_batch_statistics():
    _steps(lambda lib: lib.nn.BatchNorm1d(3, track_running_stats=False), (6, 3), "float64")


# ---- state_dict and repr ------------------------------------------------------------------
REPR_MODULES = [
    lambda lib: lib.nn.BatchNorm1d(3),
    lambda lib: lib.nn.BatchNorm2d(4, eps=1e-3, momentum=None, affine=False),
    lambda lib: lib.nn.BatchNorm3d(2, track_running_stats=False, bias=False),
    lambda lib: lib.nn.SyncBatchNorm(2),
    lambda lib: lib.nn.LayerNorm((3, 4), elementwise_affine=False),
    lambda lib: lib.nn.LayerNorm(5, bias=False),
    lambda lib: lib.nn.GroupNorm(2, 4, eps=0.1),
    lambda lib: lib.nn.GroupNorm(1, 3, affine=False),
    lambda lib: lib.nn.InstanceNorm1d(3),
    lambda lib: lib.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
    lambda lib: lib.nn.InstanceNorm3d(3, momentum=0.2),
    lambda lib: lib.nn.RMSNorm([2, 3], eps=1e-6),
    lambda lib: lib.nn.LocalResponseNorm(2, k=2.0),
]


@pytest.mark.parametrize("make", REPR_MODULES)
def test_repr_and_state_dict_keys(make):
    tm, nm = make(torch), make(nt)
    assert repr(nm) == repr(tm)
    tsd, nsd = tm.state_dict(), nm.state_dict()
    assert list(nsd) == list(tsd)
    for k in tsd:
        assert tuple(nsd[k].shape) == tuple(tsd[k].shape)
        assert str(nsd[k].dtype).split(".")[1] == str(tsd[k].dtype).split(".")[1]
        np.testing.assert_array_equal(nsd[k].numpy(), tsd[k].numpy())
    assert nsd._metadata[""]["version"] == tsd._metadata[""]["version"]


def test_module_paths_match_torch():
    assert nt.nn.modules.batchnorm.BatchNorm2d is nt.nn.BatchNorm2d
    assert nt.nn.modules.normalization.LayerNorm is nt.nn.LayerNorm
    assert nt.nn.modules.instancenorm.InstanceNorm2d is nt.nn.InstanceNorm2d
    for name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm",
                 "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "RMSNorm",
                 "LocalResponseNorm", "SyncBatchNorm"):
        assert name in nt.nn.modules.__all__
    for name in ("batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm",
                 "local_response_norm"):
        assert callable(getattr(nt.nn.functional, name))


def test_load_state_dict_without_num_batches_tracked():
    for lib in (nt, torch):
        m = lib.nn.BatchNorm2d(3)
        m.num_batches_tracked.fill_(5)
        sd = {k: v for k, v in m.state_dict().items() if k != "num_batches_tracked"}
        sd["running_mean"] = lib.full((3,), 2.0)
        m.load_state_dict(sd)  # a plain dict has no version: num_batches_tracked is kept
        assert int(m.num_batches_tracked) == 5 and float(m.running_mean[0]) == 2.0
        sd = m.state_dict()
        del sd["num_batches_tracked"]  # version 2 metadata: now the key is missing
        with pytest.raises(RuntimeError, match="num_batches_tracked"):
            m.load_state_dict(sd)
        seq = lib.nn.Sequential(lib.nn.BatchNorm1d(2))
        seq.load_state_dict({"0.weight": lib.ones(2), "0.bias": lib.zeros(2),
                             "0.running_mean": lib.zeros(2), "0.running_var": lib.ones(2)})
        assert int(seq[0].num_batches_tracked) == 0


def test_instance_norm_rejects_old_running_stats():
    for lib in (nt, torch):
        m = lib.nn.InstanceNorm1d(2)
        with pytest.raises(RuntimeError, match="Unexpected running stats buffer"):
            m.load_state_dict({"running_mean": lib.zeros(2), "running_var": lib.ones(2)})


# ---- errors -------------------------------------------------------------------------------
def _x(lib, *shape, dtype="float32"):
    return lib.from_numpy(np.arange(np.prod(shape)).reshape(shape).astype(dtype) % 5)


ERRORS = {
    "bn2d_3d_input": lambda lib: lib.nn.BatchNorm2d(3)(_x(lib, 4, 3, 5)),
    "bn1d_4d_input": lambda lib: lib.nn.BatchNorm1d(3)(_x(lib, 4, 3, 5, 5)),
    "bn3d_4d_input": lambda lib: lib.nn.BatchNorm3d(3)(_x(lib, 4, 3, 5, 5)),
    "bn_one_value": lambda lib: lib.nn.BatchNorm1d(3)(_x(lib, 1, 3)),
    "bn_one_value_fn": lambda lib: lib.nn.functional.batch_norm(_x(lib, 1, 3, 1), None, None,
                                                                training=True),
    "bn_wrong_channels": lambda lib: lib.nn.BatchNorm2d(4)(_x(lib, 2, 3, 2, 2)),
    "bn_wrong_weight": lambda lib: lib.nn.functional.batch_norm(
        _x(lib, 2, 3), None, None, lib.ones(4), training=True),
    "bn_wrong_bias": lambda lib: lib.nn.functional.batch_norm(
        _x(lib, 2, 3), None, None, None, lib.ones(2), training=True),
    "bn_eval_no_stats": lambda lib: lib.nn.functional.batch_norm(_x(lib, 2, 3), None, None),
    "bn_eval_no_var": lambda lib: lib.nn.functional.batch_norm(_x(lib, 2, 3), lib.zeros(3),
                                                               None),
    "bn_half_stats": lambda lib: lib.nn.functional.batch_norm(_x(lib, 2, 3), lib.zeros(3),
                                                              None, training=True),
    "bn_eps_zero": lambda lib: lib.nn.functional.batch_norm(_x(lib, 2, 3), None, None,
                                                            training=True, eps=0.0),
    "bn_eps_negative": lambda lib: lib.nn.functional.batch_norm(_x(lib, 2, 3), lib.zeros(3),
                                                                lib.ones(3), eps=-1.0),
    "bn_1d_input": lambda lib: lib.nn.functional.batch_norm(_x(lib, 5), None, None,
                                                            training=True),
    "bn_long": lambda lib: lib.nn.functional.batch_norm(_x(lib, 2, 3, dtype="int64"), None,
                                                        None, training=True),
    "bn_mixed": lambda lib: lib.nn.functional.batch_norm(
        _x(lib, 2, 3, dtype="float64"), None, None, lib.ones(3), training=True),
    "ln_bad_shape": lambda lib: lib.nn.functional.layer_norm(_x(lib, 2, 3), (4,)),
    "ln_bad_shape_2": lambda lib: lib.nn.LayerNorm((2, 3, 4))(_x(lib, 2, 3)),
    "ln_bad_weight": lambda lib: lib.nn.functional.layer_norm(_x(lib, 2, 3), (3,), lib.ones(2)),
    "ln_bad_bias": lambda lib: lib.nn.functional.layer_norm(_x(lib, 2, 3), (3,), None,
                                                            lib.ones(4)),
    "ln_empty_shape": lambda lib: lib.nn.functional.layer_norm(_x(lib, 2, 3), ()),
    "ln_int_shape": lambda lib: lib.nn.functional.layer_norm(_x(lib, 2, 3), 3),
    "ln_long": lambda lib: lib.nn.functional.layer_norm(_x(lib, 2, 3, dtype="int64"), (3,)),
    "ln_mixed": lambda lib: lib.nn.functional.layer_norm(_x(lib, 2, 3), (3,),
                                                         lib.ones(3, dtype=lib.float64)),
    "gn_module_divisible": lambda lib: lib.nn.GroupNorm(2, 3),
    "gn_divisible": lambda lib: lib.nn.functional.group_norm(_x(lib, 2, 3, 2), 2),
    "gn_bad_weight": lambda lib: lib.nn.functional.group_norm(_x(lib, 2, 4, 2), 2, lib.ones(3)),
    "gn_1d": lambda lib: lib.nn.functional.group_norm(_x(lib, 3), 1),
    "gn_one_value": lambda lib: lib.nn.functional.group_norm(_x(lib, 1, 3), 3),
    "gn_long": lambda lib: lib.nn.functional.group_norm(_x(lib, 2, 4, dtype="int64"), 2),
    "gn_mixed": lambda lib: lib.nn.functional.group_norm(_x(lib, 2, 4, dtype="float64"), 2,
                                                         lib.ones(4)),
    "in_spatial_one": lambda lib: lib.nn.functional.instance_norm(_x(lib, 2, 3, 1)),
    "in_no_stats_eval": lambda lib: lib.nn.functional.instance_norm(_x(lib, 2, 3, 4),
                                                                    use_input_stats=False),
    "in_wrong_weight": lambda lib: lib.nn.functional.instance_norm(_x(lib, 2, 3, 4),
                                                                   weight=lib.ones(4)),
    "in2d_dims": lambda lib: lib.nn.InstanceNorm2d(3)(_x(lib, 3, 4)),
    "in_affine_channels": lambda lib: lib.nn.InstanceNorm1d(3, affine=True)(_x(lib, 2, 4, 5)),
    "lrn_2d": lambda lib: lib.nn.functional.local_response_norm(_x(lib, 2, 3), 2),
    "rms_bad_shape": lambda lib: lib.nn.functional.rms_norm(_x(lib, 2, 3), (2,)),
}


def _message(e):
    return str(e).replace("torch.Size(", "(").replace("numtorch.Size(", "(")


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    fn = ERRORS[name]
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(nt)
    assert type(ours.value) is type(ref.value), (ours.value, ref.value)
    expect = _message(ref.value).replace("([", "[").replace("])", "]")
    assert _message(ours.value).replace("([", "[").replace("])", "]") == expect


def test_instance_norm_warns_on_channel_mismatch():
    with pytest.warns(UserWarning, match="does not match num_features"):
        nt.nn.InstanceNorm1d(3)(nt.randn(2, 4, 5))


def test_empty_batch_keeps_running_stats():
    for lib in (nt, torch):
        rm, rv = lib.zeros(3), lib.ones(3)
        y = lib.nn.functional.batch_norm(lib.zeros(0, 3, 2), rm, rv, training=True)
        assert tuple(y.shape) == (0, 3, 2)
        assert float(rm.abs().sum()) == 0 and float(rv.sum()) == 3
