"""Convolutions against torch: F.conv1d/conv2d/conv_transpose1d/conv_transpose2d/unfold/fold
(values, dtypes, shapes, gradients in input, weight and bias; float64 gradcheck), the layers with
weights copied through state_dict (every padding_mode), default initialisation, reprs and the
errors torch raises for bad input."""
import math
import warnings

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import TOL, Case, check_case, gradcheck_case, register


def _quiet(fn):
    """``fn`` with the even-kernel 'same' padding warning silenced (it is tested on its own)."""
    def run(*args):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Using padding='same'")
            return fn(*args)
    return run


def _conv2d_case(name, x, w, bias=True, **kw):
    shapes = [x, w, (w[0],)] if bias else [x, w]
    return Case(f"conv2d_{name}", _quiet(lambda lib, *t: lib.nn.functional.conv2d(*t, **kw)),
                shapes=shapes)


CONV2D = [
    _conv2d_case("basic", (2, 3, 7, 7), (4, 3, 3, 3)),
    _conv2d_case("k1", (2, 3, 5, 4), (5, 3, 1, 1)),
    _conv2d_case("k1_stride2", (2, 3, 5, 4), (5, 3, 1, 1), stride=2),
    _conv2d_case("nonsquare", (2, 2, 6, 7), (3, 2, 2, 3), padding=(1, 0)),
    _conv2d_case("stride", (2, 2, 8, 7), (3, 2, 3, 3), stride=2, padding=1),
    _conv2d_case("stride_hw", (1, 2, 9, 8), (3, 2, 3, 2), stride=(3, 1), padding=(0, 2)),
    _conv2d_case("dilation", (2, 2, 9, 9), (3, 2, 3, 3), dilation=2, padding=2),
    _conv2d_case("dilation_stride", (1, 2, 11, 10), (2, 2, 3, 2), dilation=(2, 3), stride=2,
                 padding=(1, 2)),
    _conv2d_case("same_odd", (2, 3, 6, 5), (4, 3, 3, 5), padding="same"),
    _conv2d_case("same_even", (2, 2, 6, 5), (3, 2, 4, 2), padding="same"),
    _conv2d_case("same_dilated", (1, 2, 7, 7), (3, 2, 2, 3), padding="same", dilation=(3, 2)),
    _conv2d_case("valid", (2, 3, 6, 6), (2, 3, 3, 3), padding="valid"),
    _conv2d_case("groups", (2, 4, 6, 6), (6, 2, 3, 3), groups=2, padding=1),
    _conv2d_case("depthwise", (2, 3, 6, 6), (3, 1, 3, 3), groups=3, padding=1),
    _conv2d_case("depthwise_mult", (2, 3, 7, 6), (6, 1, 3, 2), groups=3, stride=2),
    _conv2d_case("nobias", (2, 3, 6, 6), (4, 3, 3, 3), bias=False, padding=1),
    _conv2d_case("unbatched", (3, 6, 6), (4, 3, 3, 3), padding=1),
    _conv2d_case("unbatched_nobias", (2, 5, 6), (3, 2, 2, 2), bias=False, stride=(1, 2)),
    _conv2d_case("lenet1", (2, 3, 12, 12), (6, 3, 5, 5), padding=2),
    _conv2d_case("kernel_is_input", (2, 2, 3, 4), (3, 2, 3, 4)),
    _conv2d_case("empty_batch", (0, 2, 5, 5), (3, 2, 3, 3), padding=1),
]

CONV1D = [
    Case("conv1d_basic", lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b),
         shapes=[(2, 3, 9), (4, 3, 3), (4,)]),
    Case("conv1d_stride_pad_dil", lambda lib, x, w, b: lib.nn.functional.conv1d(
        x, w, b, stride=2, padding=2, dilation=2), shapes=[(2, 3, 11), (4, 3, 3), (4,)]),
    Case("conv1d_groups_nobias", lambda lib, x, w: lib.nn.functional.conv1d(x, w, groups=2),
         shapes=[(2, 4, 8), (6, 2, 2)]),
    Case("conv1d_same_even", _quiet(lambda lib, x, w, b: lib.nn.functional.conv1d(
        x, w, b, padding="same")), shapes=[(2, 2, 7), (3, 2, 4), (3,)]),
    Case("conv1d_unbatched", lambda lib, x, w, b: lib.nn.functional.conv1d(
        x, w, b, padding=(1,)), shapes=[(3, 6), (2, 3, 3), (2,)]),
]


def _convt2d_case(name, x, w, bias=True, groups=1, **kw):
    shapes = [x, w, (w[1] * groups,)] if bias else [x, w]
    return Case(f"conv_transpose2d_{name}", lambda lib, *t: lib.nn.functional.conv_transpose2d(
        *t, groups=groups, **kw), shapes=shapes)


CONVT = [
    _convt2d_case("basic", (2, 3, 4, 4), (3, 2, 3, 3)),
    _convt2d_case("stride_pad", (2, 3, 4, 5), (3, 2, 3, 3), stride=2, padding=1),
    _convt2d_case("output_padding", (2, 3, 4, 4), (3, 2, 3, 3), stride=2, padding=1,
                  output_padding=1),
    _convt2d_case("nonsquare_all", (1, 4, 4, 3), (4, 3, 3, 2), groups=2, stride=(2, 3),
                  padding=(0, 1), output_padding=(1, 2), dilation=(1, 2)),
    _convt2d_case("dilation_outpad", (2, 2, 3, 3), (2, 2, 2, 3), dilation=2, output_padding=1),
    _convt2d_case("nobias_k1", (2, 3, 3, 4), (3, 4, 1, 1), bias=False, stride=2),
    _convt2d_case("unbatched", (3, 4, 4), (3, 2, 2, 2), stride=2),
    _convt2d_case("depthwise", (2, 3, 4, 4), (3, 1, 3, 3), groups=3, stride=2, padding=1),
    Case("conv_transpose1d", lambda lib, x, w, b: lib.nn.functional.conv_transpose1d(
        x, w, b, stride=3, padding=1, output_padding=2), shapes=[(2, 4, 5), (4, 3, 3), (3,)]),
    Case("conv_transpose1d_groups", lambda lib, x, w: lib.nn.functional.conv_transpose1d(
        x, w, groups=2, dilation=2), shapes=[(4, 5), (4, 1, 3)]),
]

FOLDS = [
    Case("unfold_basic", lambda lib, x: lib.nn.functional.unfold(x, 3), shapes=[(2, 2, 5, 5)]),
    Case("unfold_all", lambda lib, x: lib.nn.functional.unfold(
        x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), shapes=[(2, 3, 6, 7)]),
    Case("unfold_unbatched", lambda lib, x: lib.nn.functional.unfold(x, 2, stride=2),
         shapes=[(2, 4, 5)]),
    Case("fold_basic", lambda lib, x: lib.nn.functional.fold(x, (4, 5), 2),
         shapes=[(2, 8, 12)]),
    Case("fold_all", lambda lib, x: lib.nn.functional.fold(
        x, (6, 7), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), shapes=[(1, 12, 20)]),
    Case("fold_unbatched", lambda lib, x: lib.nn.functional.fold(x, (5, 5), 2, stride=2),
         shapes=[(8, 4)]),
]

CASES = register(*CONV2D, *CONV1D, *CONVT, *FOLDS)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


def test_same_padding_even_kernel_warns_like_torch():
    # NOTE: torch warns once per process (TORCH_WARN_ONCE), so only our side is asserted here
    with pytest.warns(UserWarning, match="Using padding='same' with even kernel lengths and odd "
                      "dilation may require a zero-padded copy of the input be created"):
        nt.nn.functional.conv2d(nt.ones(1, 1, 4, 4), nt.ones(1, 1, 2, 2), padding="same")


def test_integer_conv_matches_torch():
    rng = np.random.default_rng(0)
    x, w = rng.integers(-3, 4, (2, 3, 6, 6)), rng.integers(-3, 4, (4, 3, 3, 3))
    ours = nt.nn.functional.conv2d(nt.tensor(x), nt.tensor(w), stride=2, padding=1)
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1)
    assert ours.dtype == nt.int64
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


# ---- layers -----------------------------------------------------------------------------------
LAYERS = [
    ("Conv2d", lambda lib: lib.nn.Conv2d(3, 4, 3), (2, 3, 7, 6)),
    ("Conv2d_all", lambda lib: lib.nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2),
                                             dilation=(1, 2), groups=2, bias=False), (2, 4, 8, 7)),
    ("Conv2d_same", lambda lib: lib.nn.Conv2d(2, 3, 4, padding="same"), (2, 2, 5, 6)),
    ("Conv2d_unbatched", lambda lib: lib.nn.Conv2d(2, 3, 3, padding=1), (2, 5, 5)),
    ("Conv1d", lambda lib: lib.nn.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    ("ConvTranspose2d", lambda lib: lib.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                                           output_padding=1, groups=2),
     (2, 4, 4, 5)),
    ("ConvTranspose1d", lambda lib: lib.nn.ConvTranspose1d(3, 2, 4, stride=2, dilation=2),
     (2, 3, 5)),
    ("Unfold", lambda lib: lib.nn.Unfold((2, 3), padding=1, stride=2), (2, 3, 6, 6)),
    ("Fold", lambda lib: lib.nn.Sequential(lib.nn.Unfold(2, stride=2),
                                           lib.nn.Fold((6, 6), 2, stride=2)), (2, 3, 6, 6)),
    ("LeNet", lambda lib: lib.nn.Sequential(
        lib.nn.Conv2d(3, 6, 5), lib.nn.ReLU(), lib.nn.Conv2d(6, 16, 5, padding=2), lib.nn.Tanh(),
        lib.nn.Flatten(), lib.nn.Linear(16 * 8 * 8, 10)), (3, 3, 12, 12)),
]
for _mode in ("zeros", "reflect", "replicate", "circular"):
    LAYERS.append((f"Conv2d_{_mode}", lambda lib, m=_mode: lib.nn.Conv2d(
        3, 4, (3, 2), padding=(1, 2), padding_mode=m), (2, 3, 6, 5)))
    LAYERS.append((f"Conv2d_same_{_mode}", lambda lib, m=_mode: lib.nn.Conv2d(
        2, 3, (4, 3), padding="same", dilation=(1, 2), padding_mode=m), (2, 2, 6, 7)))
    LAYERS.append((f"Conv1d_{_mode}", lambda lib, m=_mode: lib.nn.Conv1d(
        2, 3, 3, padding=2, padding_mode=m), (2, 2, 6)))


def _run(lib, module, x, seed=1):
    xt = lib.tensor(x.copy(), requires_grad=True)
    y = module(xt)
    g = np.random.default_rng(seed).standard_normal(tuple(y.shape)).astype(x.dtype)
    y.backward(lib.tensor(g))
    grads = {"input": xt.grad.numpy()}
    grads.update({n: p.grad.numpy() for n, p in module.named_parameters()})
    return y.detach().numpy(), grads


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,ctor,shape", LAYERS, ids=[e[0] for e in LAYERS])
def test_layer_matches_torch(name, ctor, shape, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nt_mod, t_mod = ctor(nt), ctor(torch)
    if dtype == "float64":
        nt_mod, t_mod = nt_mod.double(), t_mod.double()
    nt_mod.load_state_dict({k: nt.tensor(v.detach().numpy().copy())
                            for k, v in t_mod.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using padding='same'")
        y_nt, g_nt = _run(nt, nt_mod, x)
        y_t, g_t = _run(torch, t_mod, x)
    assert y_nt.dtype == y_t.dtype and y_nt.shape == y_t.shape
    np.testing.assert_allclose(y_nt, y_t, err_msg=f"{name} output", **TOL[dtype])
    assert sorted(g_nt) == sorted(g_t)
    for k in g_t:
        assert g_nt[k].dtype == g_t[k].dtype and g_nt[k].shape == g_t[k].shape, k
        np.testing.assert_allclose(g_nt[k], g_t[k], err_msg=f"{name} grad {k}", **TOL[dtype])


@pytest.mark.parametrize("name,ctor,shape", LAYERS, ids=[e[0] for e in LAYERS])
def test_repr_and_state_dict_match_torch(name, ctor, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nt_mod, t_mod = ctor(nt), ctor(torch)
    assert repr(nt_mod) == repr(t_mod)
    assert list(nt_mod.state_dict()) == list(t_mod.state_dict())
    for (kn, vn), (kt, vt) in zip(nt_mod.state_dict().items(), t_mod.state_dict().items()):
        assert tuple(vn.shape) == tuple(vt.shape) and vn.dtype.name == str(vt.dtype)[6:], kn


def test_conv_transpose_output_size_values():
    tm = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    nm = nt.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    nm.load_state_dict({k: nt.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype("float32")
    for size in ([7, 7], [8, 7], (2, 2, 8, 8)):
        np.testing.assert_allclose(nm(nt.tensor(x), output_size=size).detach().numpy(),
                                   tm(torch.tensor(x), output_size=size).detach().numpy(),
                                   **TOL["float32"])
    for size in ([10, 10], [8]):
        with pytest.raises(ValueError) as ours:
            nm(nt.tensor(x), output_size=size)
        with pytest.raises(ValueError) as ref:
            tm(torch.tensor(x), output_size=size)
        assert str(ours.value) == str(ref.value).replace("torch.Size", "numtorch.Size")


CONV_INIT = [
    ("Conv2d", lambda lib: lib.nn.Conv2d(16, 32, 5), 4),
    ("Conv2d_groups", lambda lib: lib.nn.Conv2d(8, 12, (3, 2), groups=4), 200),
    ("Conv1d", lambda lib: lib.nn.Conv1d(6, 10, 3), 200),
    ("ConvTranspose2d", lambda lib: lib.nn.ConvTranspose2d(6, 8, 3, groups=2), 100),
]


@pytest.mark.parametrize("name,ctor,copies", CONV_INIT, ids=[e[0] for e in CONV_INIT])
def test_default_initialisation_matches_torch(name, ctor, copies):
    nt.manual_seed(1)
    torch.manual_seed(1)
    for key in ("weight", "bias"):
        a = np.stack([ctor(nt).state_dict()[key].numpy() for _ in range(copies)]).ravel()
        b = np.stack([ctor(torch).state_dict()[key].numpy() for _ in range(copies)]).ravel()
        assert a.dtype == b.dtype
        # the bound 1/sqrt(fan_in) is exact; mean and std agree to sampling error
        assert abs(np.abs(a).max() - np.abs(b).max()) < 0.02 * np.abs(b).max(), key
        se = b.std() / math.sqrt(b.size)
        assert abs(a.mean() - b.mean()) < 6 * se * math.sqrt(2), key
        assert abs(a.std() / b.std() - 1) < 6 / math.sqrt(b.size) + 1e-3, key


# ---- errors -----------------------------------------------------------------------------------
def _F(lib):
    return lib.nn.functional


def _r(lib, *shape, dtype=None):
    return lib.ones(*shape, dtype=dtype)


BAD = [
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8, 8), _r(lib, 6, 3, 5, 5)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 4, 32, 32), _r(lib, 6, 3, 5, 5)),
    lambda lib: _F(lib).conv2d(_r(lib, 4, 32, 32), _r(lib, 6, 3, 5, 5)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 4, 4), _r(lib, 6, 3, 5, 5)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 4, 4), _r(lib, 6, 3, 5, 5), padding=(0, 1)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 5, 5), dilation=2),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3), padding="foo"),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3), padding="same",
                               stride=2),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3), padding=-1),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3), stride=0),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3), dilation=0),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3), groups=0),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 4, 8, 8), _r(lib, 6, 2, 3, 3), groups=4),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 1, 3, 3), groups=2),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3), _r(lib, 5)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3), _r(lib, 6, 1)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3), stride=(1, 1, 1)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 0, 3, 3, 3)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8, dtype=lib.bool),
                               _r(lib, 6, 3, 3, 3, dtype=lib.bool)),
    lambda lib: _F(lib).conv1d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3)),
    lambda lib: _F(lib).conv1d(_r(lib, 2, 3, 2), _r(lib, 6, 3, 3)),
    lambda lib: _F(lib).conv1d(_r(lib, 2, 4, 8), _r(lib, 6, 3, 3)),
    lambda lib: _F(lib).conv_transpose2d(_r(lib, 2, 3, 8, 8), _r(lib, 3, 2, 3, 3),
                                         output_padding=1),
    lambda lib: _F(lib).conv_transpose2d(_r(lib, 2, 4, 8, 8), _r(lib, 3, 2, 3, 3)),
    lambda lib: _F(lib).conv_transpose2d(_r(lib, 2, 3, 8, 8), _r(lib, 3, 2, 3, 3),
                                         padding="same"),
    lambda lib: _F(lib).conv_transpose2d(_r(lib, 2, 3, 8, 8, 8), _r(lib, 3, 2, 3, 3)),
    lambda lib: _F(lib).conv_transpose2d(_r(lib, 2, 3, 8, 8), _r(lib, 3, 2, 3, 3), groups=2),
    lambda lib: _F(lib).unfold(_r(lib, 2, 3, 8, 8, 8), 3),
    lambda lib: _F(lib).unfold(_r(lib, 2, 3, 2, 2), 3),
    lambda lib: _F(lib).unfold(_r(lib, 2, 3, 8, 8), 3, stride=0),
    lambda lib: _F(lib).unfold(_r(lib, 2, 3, 8, 8), 3, padding=-1),
    lambda lib: _F(lib).unfold(_r(lib, 2, 3, 8, 8), 0),
    lambda lib: _F(lib).unfold(_r(lib, 2, 3, 8, 8), (3, 3, 3)),
    lambda lib: _F(lib).unfold(_r(lib, 2, 3, 8, 8, dtype=lib.int64), 3),
    lambda lib: _F(lib).fold(_r(lib, 2, 27, 35), (8, 8), 3),
    lambda lib: _F(lib).fold(_r(lib, 2, 28, 36), (8, 8), 3),
    lambda lib: _F(lib).fold(_r(lib, 2, 2, 27, 36), (8, 8), 3),
    lambda lib: lib.nn.Conv2d(3, 6, 3, groups=2),
    lambda lib: lib.nn.Conv2d(4, 6, 3, groups=4),
    lambda lib: lib.nn.Conv2d(4, 6, 3, groups=0),
    lambda lib: lib.nn.Conv2d(4, 6, 3, padding="full"),
    lambda lib: lib.nn.Conv2d(4, 6, 3, padding="same", stride=2),
    lambda lib: lib.nn.Conv2d(4, 6, 3, padding_mode="mirror"),
    lambda lib: lib.nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect"),
    lambda lib: lib.nn.Conv2d(3, 6, 5)(_r(lib, 2, 4, 32, 32)),
]


# dtype mismatches: torch words the error after whichever kernel (MKLDNN or native) the sizes
# select, so only the exception class and the dtypes named are compared
BAD_DTYPES = [
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3, dtype=lib.float64)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8, dtype=lib.float64), _r(lib, 6, 3, 3, 3)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3),
                               _r(lib, 6, dtype=lib.float64)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8, dtype=lib.float16), _r(lib, 6, 3, 3, 3)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8), _r(lib, 6, 3, 3, 3, dtype=lib.int64)),
    lambda lib: _F(lib).conv1d(_r(lib, 2, 3, 8), _r(lib, 6, 3, 3, dtype=lib.float64)),
    lambda lib: _F(lib).conv_transpose2d(_r(lib, 2, 3, 8, 8), _r(lib, 3, 2, 3, 3,
                                                                 dtype=lib.float64)),
    lambda lib: _F(lib).conv2d(_r(lib, 2, 3, 8, 8, dtype=lib.float64), _r(lib, 6, 3, 3, 3,
                                                                        dtype=lib.float64),
                               _r(lib, 6, dtype=lib.float16)),
]


def _message(fn, lib):
    with pytest.raises(Exception) as info:
        fn(lib)
    return info.type, str(info.value).split("\n")[0]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_bad_input_raises_like_torch(i):
    t_type, t_msg = _message(BAD[i], torch)
    n_type, n_msg = _message(BAD[i], nt)
    assert n_type is t_type, (n_msg, t_msg)
    # a message that prints a Python set may order it differently in each process
    assert n_msg.split("{")[0] == t_msg.split("{")[0]
    assert sorted(n_msg) == sorted(t_msg)


def test_work_buffers_are_not_shared_between_live_results():
    """Outputs and saved unfoldings come from reusable buffers: two forwards of one layer before
    any backward (and a third after it) must still give torch's values and gradients."""
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((3, 2, 7, 7)).astype("float32") for _ in range(3)]
    results = []
    for lib in (nt, torch):
        lib.manual_seed(0)
        conv = lib.nn.Conv2d(2, 4, 3, padding=1)
        if lib is torch:
            conv.load_state_dict({k: torch.tensor(v) for k, v in results[0][0].items()})
        ins = [lib.tensor(x, requires_grad=True) for x in xs]
        y1, y2 = conv(ins[0]), conv(ins[1])
        (y1 * y2).sum().backward()
        with lib.no_grad():
            y3 = conv(ins[2])
        results.append(({k: v.detach().numpy().copy() for k, v in conv.state_dict().items()},
                        [y.detach().numpy() for y in (y1, y2, y3)],
                        [t.grad.numpy() for t in ins[:2]] + [conv.weight.grad.numpy()]))
    for a, b in zip(results[0][1] + results[0][2], results[1][1] + results[1][2]):
        np.testing.assert_allclose(a, b, **TOL["float32"])


@pytest.mark.parametrize("i", range(len(BAD_DTYPES)))
def test_dtype_mismatch_raises_like_torch(i):
    t_type, t_msg = _message(BAD_DTYPES[i], torch)
    n_type, n_msg = _message(BAD_DTYPES[i], nt)
    assert n_type is t_type, (n_msg, t_msg)
    names = ("Float", "Double", "Half", "Long", "float", "double", "Half", "long")
    assert {w for w in names if w in t_msg} <= {w for w in names if w in n_msg}, (n_msg, t_msg)


def test_pooled_buffers_are_reused_only_when_unreferenced():
    from numtorch.ops._conv_impl import pooled

    def addr(a):
        return a.__array_interface__["data"][0]
    a = pooled("_test", (4, 5), "float32")
    first = addr(a)
    del a
    b = pooled("_test", (4, 5), "float32")
    assert addr(b) == first                    # freed: handed out again
    c = pooled("_test", (2, 5), "float32")
    assert addr(c) != addr(b)                  # b is alive
    view = b[1:]
    del b
    assert addr(pooled("_test", (4, 5), "float32")) != first   # a view keeps it alive
    del view
    assert addr(pooled("_test", (4, 5), "float32")) == first
