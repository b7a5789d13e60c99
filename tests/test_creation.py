"""Tensor factories against PyTorch: values, dtypes, shapes, memory sharing and errors; random
factories by their distributions and seeding (numtorch draws from NumPy's PCG64, so the values
themselves differ from PyTorch's)."""

import numpy as np
import pytest
import torch

import numtorch as nt


def _same(ours, ref):
    assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(ref.shape)
    assert ours.requires_grad == ref.requires_grad
    np.testing.assert_allclose(
        ours.detach().numpy().astype(np.float64),
        ref.detach().numpy().astype(np.float64),
        rtol=1e-6,
        atol=0,
    )


F64 = np.array([[1.5, -2.5], [0.25, 3.0]])
DETERMINISTIC = {
    "tensor_int": lambda l: l.tensor([1, 2, 3]),
    "tensor_float": lambda l: l.tensor([1, 2.5]),
    "tensor_bool": lambda l: l.tensor([True, False]),
    "tensor_bool_int": lambda l: l.tensor([True, 2]),
    "tensor_scalar": lambda l: l.tensor(3),
    "tensor_scalar_float": lambda l: l.tensor(-3.5),
    "tensor_nested": lambda l: l.tensor([[1, 2], [3, 4]]),
    "tensor_tuple": lambda l: l.tensor((1, 2.0)),
    "tensor_empty": lambda l: l.tensor([]),
    "tensor_empty_nested": lambda l: l.tensor([[], []]),
    "tensor_range": lambda l: l.tensor(range(4)),
    "tensor_np_f64": lambda l: l.tensor(F64),
    "tensor_np_i32": lambda l: l.tensor(np.array([1, 2], np.int32)),
    "tensor_np_f16": lambda l: l.tensor(np.array([1.5], np.float16)),
    "tensor_np_scalar": lambda l: l.tensor(np.float64(2.5)),
    "tensor_np_scalars_list": lambda l: l.tensor([np.float32(1), np.float32(2)]),
    "tensor_dtype": lambda l: l.tensor([1, 2], dtype=l.float64),
    "tensor_float_to_int": lambda l: l.tensor([1.7, -2.7], dtype=l.int32),
    "tensor_to_bool": lambda l: l.tensor([1.5, 0.0], dtype=l.bool),
    "tensor_of_tensor": lambda l: l.tensor(l.tensor([1, 2])),
    "tensor_of_0d_tensors": lambda l: l.tensor([l.tensor(1.5), l.tensor(2.5)]),
    "tensor_grad": lambda l: l.tensor([1.0, 2.0], requires_grad=True),
    "tensor_nan_inf": lambda l: l.tensor([float("nan"), float("inf")]),
    "as_tensor_list": lambda l: l.as_tensor([1, 2]),
    "as_tensor_np": lambda l: l.as_tensor(F64, dtype=l.float32),
    "from_numpy": lambda l: l.from_numpy(np.array([1, 2], np.int16)),
    "zeros": lambda l: l.zeros(2, 3),
    "zeros_tuple": lambda l: l.zeros((2, 3)),
    "zeros_list": lambda l: l.zeros([4]),
    "zeros_0d": lambda l: l.zeros(()),
    "zeros_size0": lambda l: l.zeros(0, 2),
    "zeros_dtype": lambda l: l.zeros(2, dtype=l.int32),
    "zeros_grad": lambda l: l.zeros(2, requires_grad=True),
    "zeros_size": lambda l: l.zeros(l.Size([2])),
    "ones": lambda l: l.ones(3),
    "ones_bool": lambda l: l.ones(2, 1, dtype=l.bool),
    "ones_grad": lambda l: l.ones((2, 2), dtype=l.float64, requires_grad=True),
    "full_int": lambda l: l.full((2, 2), 3),
    "full_float": lambda l: l.full((2,), 1.5),
    "full_bool": lambda l: l.full((2,), True),
    "full_dtype": lambda l: l.full((2,), 7, dtype=l.float64),
    "full_list": lambda l: l.full([2, 1], -0.5),
    "full_tensor_value": lambda l: l.full((2,), l.tensor(2.5)),
    "zeros_like": lambda l: l.zeros_like(l.ones(2, dtype=l.int32)),
    "ones_like_dtype": lambda l: l.ones_like(l.ones(2), dtype=l.float64),
    "full_like": lambda l: l.full_like(l.ones(2, dtype=l.int64), 2.7),
    "full_like_float": lambda l: l.full_like(l.ones(2, 3), 2.7),
    "zeros_like_grad_flag": lambda l: l.zeros_like(l.ones(2, requires_grad=True)),
    "ones_like_requires_grad": lambda l: l.ones_like(l.ones(2), requires_grad=True),
    "arange": lambda l: l.arange(5),
    "arange_start": lambda l: l.arange(2, 7),
    "arange_float_step": lambda l: l.arange(0, 1, 0.25),
    "arange_neg_step": lambda l: l.arange(5, 0, -2),
    "arange_float_end": lambda l: l.arange(2.5),
    "arange_dtype": lambda l: l.arange(3, dtype=l.float64),
    "arange_empty": lambda l: l.arange(0),
    "arange_tensor": lambda l: l.arange(l.tensor(3)),
    "arange_precision": lambda l: l.arange(1, 2.0001, 0.1),
    "arange_float_neg": lambda l: l.arange(1, -1, -0.3),
    "arange_int_dtype_float_bounds": lambda l: l.arange(-2.5, 3, 1, dtype=l.int64),
    "arange_uint8": lambda l: l.arange(10, dtype=l.uint8),
    "arange_grad": lambda l: l.arange(3.0, requires_grad=True),
    "linspace": lambda l: l.linspace(0, 1, 5),
    "linspace_1": lambda l: l.linspace(0, 1, 1),
    "linspace_0": lambda l: l.linspace(0, 1, 0),
    "linspace_desc": lambda l: l.linspace(2, -1, 7),
    "linspace_int_dtype": lambda l: l.linspace(0, 10, 4, dtype=l.int64),
    "linspace_f64": lambda l: l.linspace(-1, 1, 7, dtype=l.float64),
    "linspace_tensor": lambda l: l.linspace(l.tensor(0.0), l.tensor(1.0), 3),
    "linspace_grad": lambda l: l.linspace(0, 1, 3, requires_grad=True),
    "eye": lambda l: l.eye(3),
    "eye_rect": lambda l: l.eye(2, 3),
    "eye_dtype": lambda l: l.eye(2, dtype=l.int64),
    "eye_0": lambda l: l.eye(0),
    "eye_grad": lambda l: l.eye(2, requires_grad=True),
}


@pytest.mark.parametrize("name", list(DETERMINISTIC))
def test_factories_match_torch(name):
    _same(DETERMINISTIC[name](nt), DETERMINISTIC[name](torch))


def test_empty_factories():
    for lib in (nt, torch):
        for t, dt, shape in [
            (lib.empty(2, 3), lib.float32, (2, 3)),
            (lib.empty((4,), dtype=lib.int64), lib.int64, (4,)),
            (lib.empty_like(lib.ones(2, dtype=lib.float16)), lib.float16, (2,)),
            (lib.ones(3).new_empty(2, 2), lib.float32, (2, 2)),
        ]:
            assert t.dtype == dt and tuple(t.shape) == shape


def test_memory_sharing():
    a = np.array([1.0, 2.0])
    t, s, f = nt.tensor(a), nt.as_tensor(a), nt.from_numpy(a)
    a[0] = 9
    assert t.tolist() == [1.0, 2.0] and s.tolist() == [9.0, 2.0] and f.tolist() == [9.0, 2.0]
    f[1] = 7
    assert a[1] == 7
    assert nt.as_tensor(a, dtype=nt.float32).tolist() == [9.0, 7.0]
    x = nt.ones(2)
    assert nt.as_tensor(x) is x and nt.as_tensor(x, dtype=nt.float32) is x
    assert nt.tensor(x).data_ptr() != x.data_ptr()
    n = nt.ones(3).numpy()
    assert n.dtype == np.float32


def _raises_like_torch(fn):
    """Run ``fn(lib)`` in both libraries; both must raise the same exception class."""
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(type(ref.value)) as ours:
        fn(nt)
    return str(ours.value)


@pytest.mark.parametrize(
    "fn",
    [
        lambda l: l.tensor(None),
        lambda l: l.tensor("a"),
        lambda l: l.tensor([1, None]),
        lambda l: l.tensor([[1, 2], [3]]),
        lambda l: l.tensor(object()),
        lambda l: l.tensor([2**70]),
        lambda l: l.tensor([1], requires_grad=True),
        lambda l: l.zeros(2, dtype=l.int64, requires_grad=True),
        lambda l: l.from_numpy([1, 2]),
        lambda l: l.from_numpy(np.array(["a"], dtype=object)),
        lambda l: l.zeros(-1),
        lambda l: l.ones(2, -3),
        lambda l: l.empty(-1),
        lambda l: l.full((-1,), 2),
        lambda l: l.rand(-1),
        lambda l: l.randn(2, -1),
        lambda l: l.randperm(-1),
        lambda l: l.randint(3, (-1,)),
        lambda l: l.zeros(2.5),
        lambda l: l.zeros(),
        lambda l: l.full(3, 1.0),
        lambda l: l.arange(0, 5, -1),
        lambda l: l.arange(0, 5, 0),
        lambda l: l.arange(0, 1, 0.3, dtype=l.int64),
        lambda l: l.linspace(0, 1, -1),
        lambda l: l.linspace(0, 1, 2.5),
        lambda l: l.eye(-1),
        lambda l: l.eye(2, -1),
        lambda l: l.rand(2, dtype=l.int64),
        lambda l: l.randn(2, dtype=l.int32),
        lambda l: l.rand_like(l.ones(2, dtype=l.int64)),
        lambda l: l.randint(5, 2, (3,)),
        lambda l: l.randint(-1, 2, (3,), dtype=l.uint8),
        lambda l: l.randint(0, 3, (2,), dtype=l.bool),
        lambda l: l.zeros(2, device="cuda:0") if l is nt else l.zeros(2, device="cudaX"),
    ],
)
def test_bad_arguments(fn):
    _raises_like_torch(fn)


def test_negative_size_messages():
    assert (
        _raises_like_torch(lambda l: l.ones(2, -3))
        == "Trying to create tensor with negative dimension -3: [2, -3]"
    )
    assert (
        _raises_like_torch(lambda l: l.zeros(-1)) == "zeros: Dimension size must be non-negative."
    )
    assert "Could not infer dtype of NoneType" in _raises_like_torch(lambda l: l.tensor(None))
    assert "Long" in _raises_like_torch(lambda l: l.rand(2, dtype=l.int64))


# ---- random factories ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_rand_and_randn(dtype):
    d = getattr(nt, dtype)
    u = nt.rand(200, 50, dtype=d)
    assert u.dtype is d and u.shape == (200, 50)
    a = u.numpy().astype(np.float64)
    assert (
        a.min() >= 0 and a.max() < 1 and abs(a.mean() - 0.5) < 0.01 and abs(a.var() - 1 / 12) < 0.01
    )
    n = nt.randn((200, 50), dtype=d).numpy().astype(np.float64)
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1) < 0.03
    assert nt.rand(3).dtype is nt.float32 and nt.randn(3).dtype is nt.float32
    assert nt.rand(()).shape == () and nt.randn(0, 2).shape == (0, 2)
    assert nt.rand_like(nt.ones(2, dtype=d)).dtype is d
    assert nt.randn_like(nt.ones(2, 3)).shape == (2, 3)
    assert nt.randn(2, requires_grad=True).requires_grad


def test_randint_and_randperm():
    r = nt.randint(2, 5, (4000,))
    assert r.dtype is nt.int64 and set(r.tolist()) == {2, 3, 4}
    r = nt.randint(3, (2, 5))
    assert r.shape == (2, 5) and r.min().item() >= 0 and r.max().item() <= 2
    assert nt.randint(0, 2, (3,), dtype=nt.float32).dtype is nt.float32
    assert nt.randint(0, 2, (3,), dtype=nt.bool).dtype is nt.bool
    assert nt.randint_like(nt.ones(2, 2), 4).dtype is nt.float32
    p = nt.randperm(20)
    assert p.dtype is nt.int64 and sorted(p.tolist()) == list(range(20))
    assert nt.randperm(0).shape == (0,) and nt.randperm(3, dtype=nt.int32).dtype is nt.int32
    counts = np.bincount(nt.randint(0, 10, (20000,)).numpy(), minlength=10)
    assert counts.min() > 1700 and counts.max() < 2300


def test_manual_seed_and_generators():
    g = nt.manual_seed(123)
    assert isinstance(g, nt.Generator) and nt.initial_seed() == 123
    a = [
        nt.rand(3).tolist(),
        nt.randn(2).tolist(),
        nt.randint(0, 100, (3,)).tolist(),
        nt.randperm(5).tolist(),
    ]
    nt.manual_seed(123)
    b = [
        nt.rand(3).tolist(),
        nt.randn(2).tolist(),
        nt.randint(0, 100, (3,)).tolist(),
        nt.randperm(5).tolist(),
    ]
    assert a == b
    nt.manual_seed(124)
    assert nt.rand(3).tolist() != a[0]
    g1, g2 = nt.Generator().manual_seed(7), nt.Generator().manual_seed(7)
    assert nt.rand(4, generator=g1).tolist() == nt.rand(4, generator=g2).tolist()
    assert g1.initial_seed() == 7 and str(g1.device) == "cpu"
    nt.manual_seed(0)
    before = nt.rand(2).tolist()
    nt.manual_seed(0)
    nt.rand(5, generator=g1)  # a private generator leaves the default stream alone
    assert nt.rand(2).tolist() == before
    state = g1.get_state()
    x = nt.randn(3, generator=g1).tolist()
    g1.set_state(state)
    assert nt.randn(3, generator=g1).tolist() == x
    s = nt.get_rng_state()
    y = nt.rand(3).tolist()
    nt.set_rng_state(s)
    assert nt.rand(3).tolist() == y
    assert nt.default_generator.initial_seed() == nt.initial_seed()


def test_requires_grad_of_factories_enables_autograd():
    x = nt.zeros(2, 3, requires_grad=True)
    (x + 1).sum().backward()
    assert x.grad.tolist() == [[1.0] * 3] * 2
