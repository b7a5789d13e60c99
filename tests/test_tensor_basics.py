"""Tensor basics against PyTorch: printing, conversions, metadata, dtype moves, copies, the
Python protocols (__bool__, __index__, __len__, __iter__, __hash__) and their errors."""

import copy
import operator
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import numtorch as nt


def _randn(*shape):
    return np.random.default_rng(1).standard_normal(shape).astype(np.float32)


REPRS = {
    "ints": lambda l: l.tensor([1, 2, 3]),
    "ints_2d": lambda l: l.tensor([[1, -20, 3], [400, 5, 6]]),
    "floats": lambda l: l.tensor([1.5, 2.25, -3.125]),
    "floats_4_decimals": lambda l: l.tensor([0.12345, 1.23456, 12.3456]),
    "integer_floats": lambda l: l.tensor([1.0, 2.0, -3.0]),
    "integer_floats_sci": lambda l: l.tensor([1.0, 200.0, 3e5]),
    "integer_floats_1e8": lambda l: l.tensor([1.0, 1e8]),
    "integer_floats_1e9": lambda l: l.tensor([1.0, 1e9]),
    "sci_small": lambda l: l.tensor([1e-5, 1.0, 2.0]),
    "sci_big": lambda l: l.tensor([1e9, 1.0]),
    "sci_ratio": lambda l: l.tensor([0.001, 10.5, 1000.5]),
    "ratio_below": lambda l: l.tensor([0.01, 9.99]),
    "sci_negative": lambda l: l.tensor([-1e-5, 1e3]),
    "tiny": lambda l: l.tensor([1e-10, 2e-10]),
    "nan_inf": lambda l: l.tensor([float("nan"), float("inf"), -float("inf"), 1.5]),
    "nan_inf_integer": lambda l: l.tensor([float("nan"), float("inf"), 1.0]),
    "all_nan": lambda l: l.tensor([float("nan")]),
    "zeros": lambda l: l.zeros(2, 3),
    "negative_zero": lambda l: l.tensor([-0.0, 1.0]),
    "precise": lambda l: l.tensor([1.00001, 2.0]),
    "big_ints": lambda l: l.tensor([10**12, -5]),
    "large_int_floats": lambda l: l.tensor([123456789.0, 1.0]),
    "0d_float": lambda l: l.tensor(3.5),
    "0d_int": lambda l: l.tensor(7),
    "0d_bool": lambda l: l.tensor(True),
    "0d_double": lambda l: l.tensor(2.0, dtype=l.float64),
    "0d_sci": lambda l: l.tensor(1e-7),
    "empty": lambda l: l.tensor([]),
    "empty_2d": lambda l: l.zeros(0, 3),
    "empty_int": lambda l: l.zeros(0, dtype=l.int64),
    "empty_3d_double": lambda l: l.zeros(2, 0, 3, dtype=l.float64),
    "empty_bool": lambda l: l.zeros(0, dtype=l.bool),
    "bool": lambda l: l.tensor([True, False]),
    "bool_2d": lambda l: l.tensor([[True, False], [False, True]]),
    "double": lambda l: l.tensor([1.5, 2.0], dtype=l.float64),
    "half": lambda l: l.tensor([1.5, 2.0], dtype=l.float16),
    "half_range": lambda l: l.tensor([1000.5, 0.001], dtype=l.float16),
    "int32": lambda l: l.tensor([1, 2], dtype=l.int32),
    "uint8": lambda l: l.tensor([1, 255], dtype=l.uint8),
    "int8": lambda l: l.tensor([-1, 2], dtype=l.int8),
    "int16": lambda l: l.tensor([-1, 2], dtype=l.int16),
    "double_third": lambda l: l.tensor([1 / 3, 2 / 3], dtype=l.float64),
    "requires_grad": lambda l: l.tensor([1.0, 2.0], requires_grad=True),
    "requires_grad_double": lambda l: l.tensor([1.0, 2.0], dtype=l.float64, requires_grad=True),
    "grad_fn_mul": lambda l: l.tensor([1.0, 2.0], requires_grad=True) * 2,
    "grad_fn_add": lambda l: l.tensor([1.0, 2.0], requires_grad=True) + 1,
    "grad_fn_sum": lambda l: l.tensor([1.0, 2.0], requires_grad=True).sum(),
    "grad_fn_exp": lambda l: l.tensor([1.0, 2.0], requires_grad=True).exp(),
    "grad_fn_double": lambda l: l.tensor([1.0, 2.0], dtype=l.float64, requires_grad=True) * 2,
    "summarized_1d": lambda l: l.arange(2000),
    "summarized_float": lambda l: l.arange(1500) / 7,
    "summarized_2d": lambda l: l.tensor(_randn(40, 50)),
    "summarized_3d": lambda l: l.arange(24000).reshape(20, 30, 40),
    "summarized_row": lambda l: l.arange(1001).reshape(1, 1001),
    "summarized_col": lambda l: l.ones(1100, 1),
    "wrapped_row": lambda l: l.tensor(_randn(30)),
    "wrapped_ints": lambda l: l.arange(100),
    "wrapped_2d": lambda l: l.tensor(_randn(3, 20)),
    "matrix": lambda l: l.tensor(_randn(3, 4)),
    "3d": lambda l: l.tensor(_randn(2, 3, 4)),
    "4d": lambda l: l.tensor(_randn(2, 2, 2, 2)),
    "column": lambda l: l.tensor([[1.5], [2.5], [300.25]]),
    "mixed_sign_ratio": lambda l: l.tensor([-1000.5, 0.5]),
    "long_suffix_wrap": lambda l: l.tensor(_randn(9), dtype=l.float64, requires_grad=True) * 2,
}


@pytest.mark.parametrize("name", list(REPRS))
def test_repr_matches_torch(name):
    expected = repr(REPRS[name](torch)).replace("torch.", "numtorch.")
    assert repr(REPRS[name](nt)) == expected
    assert str(REPRS[name](nt)) == expected


@pytest.mark.parametrize(
    "opts",
    [
        dict(precision=2),
        dict(sci_mode=True),
        dict(sci_mode=False),
        dict(threshold=5),
        dict(edgeitems=1, threshold=5),
        dict(linewidth=40),
        dict(profile="short"),
        dict(profile="full"),
        dict(edgeitems=0, threshold=5),
    ],
)
def test_printoptions(opts):
    tensors = [
        lambda l: l.tensor(_randn(4, 6)),
        lambda l: l.arange(12) * 1.5,
        lambda l: l.tensor([1e-5, 1.0]),
        lambda l: l.arange(20),
    ]
    try:
        for lib in (nt, torch):
            lib.set_printoptions(**opts)
        for f in tensors:
            assert repr(f(nt)) == repr(f(torch)).replace("torch.", "numtorch.")
    finally:
        for lib in (nt, torch):
            lib.set_printoptions(profile="default")
    assert repr(nt.tensor([0.123456])) == "tensor([0.1235])"


def _norm(r):
    if isinstance(r, (torch.Tensor, nt.Tensor)):
        return ("T", str(r.dtype).split(".")[-1], tuple(r.shape), r.tolist(), r.requires_grad)
    if isinstance(r, np.ndarray):
        return ("A", r.dtype.name, r.tolist())
    if isinstance(r, (torch.dtype, nt.dtype)) or type(r).__name__ in ("device", "_Device"):
        return str(r).replace("numtorch.", "").replace("torch.", "")
    if isinstance(r, tuple):
        return tuple(_norm(x) for x in r)
    return r


BASICS = {
    "item": lambda l: l.tensor([[2.5]]).item(),
    "item_f32": lambda l: l.tensor(0.1).item(),
    "item_int_type": lambda l: type(l.tensor(3).item()).__name__,
    "item_bool_type": lambda l: type(l.tensor(True).item()).__name__,
    "item_requires_grad": lambda l: l.tensor(0.5, requires_grad=True).item(),
    "tolist": lambda l: l.tensor([[1, 2]]).tolist(),
    "tolist_0d": lambda l: l.tensor(2.5).tolist(),
    "tolist_f32": lambda l: l.tensor([0.1]).tolist(),
    "tolist_bool": lambda l: l.tensor([True]).tolist(),
    "numpy": lambda l: l.tensor([1.5]).numpy(),
    "numpy_int32": lambda l: l.zeros(2, dtype=l.int32).numpy(),
    "numpy_shares": lambda l: (lambda t: (t.numpy().__setitem__(0, 5), t.tolist())[1])(l.zeros(2)),
    "float": lambda l: float(l.tensor([2.5])),
    "int": lambda l: int(l.tensor(2.7)),
    "int_negative": lambda l: int(l.tensor(-2.7)),
    "bool_one": lambda l: bool(l.tensor([0.0])),
    "bool_nan": lambda l: bool(l.tensor(float("nan"))),
    "bool_2d_one": lambda l: bool(l.tensor([[3]])),
    "index": lambda l: [1, 2, 3][l.tensor(1)],
    "index_bool": lambda l: operator.index(l.tensor(True)),
    "index_one_elem": lambda l: operator.index(l.tensor([2])),
    "len": lambda l: len(l.zeros(3, 2)),
    "iter": lambda l: [t.tolist() for t in l.tensor([[1, 2], [3, 4]])],
    "iter_grad": lambda l: [t.requires_grad for t in l.ones(2, 2, requires_grad=True)],
    "reversed": lambda l: [x.item() for x in reversed(l.tensor([1, 2]))],
    "contains": lambda l: 2 in l.tensor([1, 2]),
    "hash_is_identity": lambda l: len({l.ones(2), l.ones(2)}),
    "shape": lambda l: tuple(l.zeros(2, 3).shape),
    "size": lambda l: tuple(l.zeros(2, 3).size()),
    "size_dim": lambda l: l.zeros(2, 3).size(-1),
    "size_numel": lambda l: l.zeros(2, 3).size().numel(),
    "size_repr": lambda l: repr(l.zeros(2, 3).shape).replace("numtorch.", "torch."),
    "dim": lambda l: l.zeros(2, 3).dim(),
    "ndim": lambda l: l.zeros(2, 3, 4).ndim,
    "numel": lambda l: l.zeros(2, 3).numel(),
    "nelement": lambda l: l.zeros(0, 3).nelement(),
    "dtype": lambda l: l.zeros(2).dtype,
    "device": lambda l: l.zeros(2).device,
    "device_type": lambda l: l.zeros(2).device.type,
    "device_repr": lambda l: repr(l.zeros(1).device),
    "device_eq": lambda l: l.zeros(1).device == l.device("cpu"),
    "is_cuda": lambda l: l.zeros(2).is_cuda,
    "element_size": lambda l: l.ones(2, dtype=l.float64).element_size(),
    "is_floating_point": lambda l: l.ones(2, dtype=l.int32).is_floating_point(),
    "stride": lambda l: l.ones(2, 3).stride(),
    "stride_T": lambda l: l.ones(2, 3).t().stride(),
    "to_dtype": lambda l: l.ones(2).to(l.float64),
    "to_cpu": lambda l: l.ones(2).to("cpu"),
    "to_same_is_self": lambda l: (lambda t: t.to(l.float32) is t)(l.ones(2)),
    "to_copy": lambda l: (lambda t: t.to(l.float32, copy=True) is t)(l.ones(2)),
    "to_device_dtype": lambda l: l.ones(2).to("cpu", l.int32),
    "to_kw": lambda l: l.ones(2).to(dtype=l.int64),
    "to_other": lambda l: l.ones(2).to(l.zeros(1, dtype=l.float64)),
    "to_keeps_grad": lambda l: l.ones(2, requires_grad=True).to(l.float64),
    "float_m": lambda l: l.tensor([1, 2]).float(),
    "double_m": lambda l: l.tensor([1, 2]).double(),
    "long_m": lambda l: l.tensor([1.7, -2.7]).long(),
    "int_m": lambda l: l.tensor([1.7, -2.7]).int(),
    "bool_m": lambda l: l.tensor([1.7, 0.0]).bool(),
    "half_m": lambda l: l.tensor([1.7, 0.0]).half(),
    "byte_m": lambda l: l.tensor([1, 300]).byte(),
    "char_m": lambda l: l.tensor([1, 200]).char(),
    "short_m": lambda l: l.tensor([1, 2]).short(),
    "clone_independent": lambda l: (lambda t: (t.clone().__setitem__(0, 9), t.tolist())[1])(
        l.zeros(2)
    ),
    "clone_grad": lambda l: l.ones(2, requires_grad=True).clone(),
    "detach": lambda l: l.ones(2, requires_grad=True).detach(),
    "detach_shares": lambda l: (lambda t: (t.detach().zero_(), t.tolist())[1])(
        l.ones(2, requires_grad=True) * 1
    ),
    "contiguous_T": lambda l: l.ones(2, 3).t().contiguous().is_contiguous(),
    "contiguous_is_self": lambda l: (lambda t: t.contiguous() is t)(l.ones(2, 3)),
    "is_contiguous_T": lambda l: l.ones(2, 3).t().is_contiguous(),
    "type_name": lambda l: l.ones(2).type().split(".")[-1],
    "type_name_long": lambda l: l.ones(2, dtype=l.int64).type().split(".")[-1],
    "type_name_bool": lambda l: l.ones(2, dtype=l.bool).type().split(".")[-1],
    "type_dtype": lambda l: l.ones(2).type(l.float64),
    "type_str": lambda l: l.ones(2).type(("torch" if l is torch else "numtorch") + ".IntTensor"),
    "new_zeros": lambda l: l.ones(2, dtype=l.float64).new_zeros(3, 2),
    "new_zeros_tuple": lambda l: l.ones(2, dtype=l.int32).new_zeros((3,)),
    "new_ones_dtype": lambda l: l.ones(2, dtype=l.int32).new_ones(2, dtype=l.float32),
    "new_tensor": lambda l: l.ones(2, dtype=l.float64).new_tensor([1, 2]),
    "new_tensor_float": lambda l: l.ones(2, dtype=l.int32).new_tensor([1.5]),
    "new_tensor_grad": lambda l: l.ones(2).new_tensor([1.5], requires_grad=True),
    "new_full": lambda l: l.ones(2).new_full((2, 2), 3),
    "is_leaf": lambda l: (l.ones(2, requires_grad=True) * 2).is_leaf,
    "grad_none": lambda l: l.ones(2).grad,
    "data": lambda l: l.ones(2, requires_grad=True).data,
    "eq_none": lambda l: l.ones(2) == None,  # noqa: E711
    "pos": lambda l: +l.tensor([1, -2]),
    "abs_builtin": lambda l: abs(l.tensor([1, -2])),
    "format_0d": lambda l: f"{l.tensor(2.5):.2f}",
    "round_builtin": lambda l: round(l.tensor(2.567).item(), 1),
    "pickle": lambda l: pickle.loads(pickle.dumps(l.tensor([1.5, 2]))),
    "deepcopy": lambda l: copy.deepcopy(l.ones(2, requires_grad=True)),
    "np_asarray": lambda l: np.asarray(l.tensor([1.5, 2])),
    "np_scalar_mul": lambda l: np.float64(2.0) * l.tensor([1.0]),
}


@pytest.mark.parametrize("name", list(BASICS))
def test_basics_match_torch(name):
    assert _norm(BASICS[name](nt)) == _norm(BASICS[name](torch))


def _raises_like_torch(fn):
    """Run ``fn(lib)`` in both libraries; both must raise the same exception class."""
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(type(ref.value)) as ours:
        fn(nt)
    return str(ours.value)


def test_errors_match_torch():
    assert "2 elements" in _raises_like_torch(lambda l: l.tensor([1, 2]).item())
    assert "0 elements" in _raises_like_torch(lambda l: l.tensor([]).item())
    assert "ambiguous" in _raises_like_torch(lambda l: bool(l.tensor([1, 2])))
    _raises_like_torch(lambda l: bool(l.tensor([])))
    _raises_like_torch(lambda l: float(l.tensor([2.5, 1])))
    _raises_like_torch(lambda l: int(l.tensor([2, 1])))
    _raises_like_torch(lambda l: [1, 2, 3][l.tensor(1.0)])
    _raises_like_torch(lambda l: operator.index(l.tensor([1, 2])))
    assert "0-d" in _raises_like_torch(lambda l: len(l.tensor(1.0)))
    assert "0-d" in _raises_like_torch(lambda l: list(l.tensor(1.0)))
    assert "[-2, 1]" in _raises_like_torch(lambda l: l.zeros(2, 3).size(2))
    assert "detach" in _raises_like_torch(lambda l: l.ones(2, requires_grad=True).numpy())
    assert "floating point" in _raises_like_torch(lambda l: l.tensor([1, 2], requires_grad=True))
    _raises_like_torch(lambda l: setattr(l.tensor([1, 2]), "requires_grad", True))
    _raises_like_torch(lambda l: l.tensor([1, 2]).requires_grad_())
    assert "leaf" in _raises_like_torch(
        lambda l: (l.ones(2, requires_grad=True) * 2).requires_grad_(False)
    )
    assert "leaf Variable" in _raises_like_torch(lambda l: l.ones(2, requires_grad=True).add_(1))
    assert "leaf Variable" in _raises_like_torch(lambda l: l.ones(2, requires_grad=True).exp_())
    _raises_like_torch(lambda l: l.ones(2).to("xyz"))
    assert "graph leaves" in _raises_like_torch(
        lambda l: copy.deepcopy(l.ones(2, requires_grad=True) * 2)
    )


def test_detach_and_clone_autograd():
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone() * 3
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.data_ptr() == x.data_ptr()
    assert x.contiguous() is x
    z = nt.ones(2, 3, requires_grad=True)
    w = z.t().contiguous()
    (w * nt.arange(6.0).reshape(3, 2)).sum().backward()
    assert z.grad.tolist() == [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]


def test_numpy_floating_point_warnings_are_silenced():
    """PyTorch never warns on log(0), 1/0 or overflow; numtorch silences NumPy's warnings."""
    code = (
        "import numtorch as nt\n"
        "x = nt.tensor([0.0, 1.0, 1000.0], requires_grad=True)\n"
        "y = x.log() + x.exp() + 1 / x + x.sqrt() + (x * 0).rsqrt() + (-x).sigmoid()\n"
        "y.sum().backward()\n"
        "nt.zeros(0).mean(); nt.ones(1).var(); nt.tensor([0.0]).norm().backward\n"
    )
    r = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
