"""default_collate / default_convert against torch.utils.data: types, dtypes, shapes, values."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import numtorch as nt
from numtorch.utils.data._utils.collate import collate, default_collate_fn_map
from tests.utils._helpers import both, same_error

Point = collections.namedtuple("Point", ["x", "y"])
_rng = np.random.default_rng(0)
A = _rng.standard_normal((4, 2, 3)).astype(np.float32)
B = _rng.integers(0, 10, (4, 5))


def _tensors(lib, arr, dtype=None):
    return [lib.tensor(a) if dtype is None else lib.tensor(a, dtype=dtype) for a in arr]


BATCHES = {
    "tensors_f32": lambda lib: _tensors(lib, A),
    "tensors_i64": lambda lib: _tensors(lib, B),
    "tensors_0d": lambda lib: [lib.tensor(1.5), lib.tensor(-2.0)],
    "tensors_mixed_dtype": lambda lib: [lib.tensor([1, 2]), lib.tensor([0.5, 1.5])],
    "tensors_mixed_int": lambda lib: [lib.tensor([1, 2], dtype=lib.uint8),
                                      lib.tensor([3, 4], dtype=lib.int8)],
    "tensors_f64_f32": lambda lib: [lib.tensor([1.0], dtype=lib.float64), lib.tensor([2.0])],
    "ndarrays": lambda lib: list(A),
    "ndarrays_int32": lambda lib: [np.arange(3, dtype=np.int32), np.ones(3, np.int32)],
    "ndarrays_mixed": lambda lib: [np.zeros(2, np.float32), np.ones(2, np.float64)],
    "np_scalars_f32": lambda lib: [np.float32(1.5), np.float32(2)],
    "np_scalars_i32": lambda lib: [np.int32(1), np.int32(2)],
    "np_scalars_bool": lambda lib: [np.bool_(True), np.bool_(False)],
    "np_scalars_mixed": lambda lib: [np.int64(1), np.float32(2)],
    "np_scalars_u8_i8": lambda lib: [np.uint8(1), np.int8(-2)],
    "floats": lambda lib: [1.5, 2.0, -3.25],
    "floats_and_int": lambda lib: [1.0, 2],
    "ints": lambda lib: [1, 2, 3],
    "ints_and_float": lambda lib: [1, 2.5],
    "bools": lambda lib: [True, False],
    "bool_and_int": lambda lib: [True, 2],
    "strings": lambda lib: ["a", "bc"],
    "bytes": lambda lib: [b"a", b"b"],
    "dicts": lambda lib: [{"a": 1, "b": "s", "c": lib.tensor([1.0, 2.0])},
                          {"a": 2, "b": "t", "c": lib.tensor([3.0, 4.0])}],
    "ordered_dicts": lambda lib: [collections.OrderedDict(x=1.0), collections.OrderedDict(x=2.0)],
    "namedtuples": lambda lib: [Point(1, 2.0), Point(3, 4.0)],
    "tuples": lambda lib: [(lib.tensor([1.0]), 1, "a"), (lib.tensor([2.0]), 2, "b")],
    "lists": lambda lib: [[1, 2.0], [3, 4.0]],
    "nested": lambda lib: [{"img": A[i], "meta": (i, [float(i), "x"]), "p": Point(i, A[i, 0])}
                           for i in range(3)],
    "tensor_dataset_rows": lambda lib: [(lib.tensor(A[i]), lib.tensor(B[i])) for i in range(4)],
}


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_default_collate_matches_torch(name):
    make = BATCHES[name]
    ours, theirs = both(lambda lib: lib.utils.data.default_collate(make(lib)))
    assert ours == theirs


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_default_convert_matches_torch(name):
    make = BATCHES[name]
    ours, theirs = both(lambda lib: lib.utils.data.default_convert(make(lib)))
    assert ours == theirs


@pytest.mark.parametrize("value", [np.float32(2.5), np.arange(3), np.array(["a"]), (1, 2),
                                   Point(np.int64(1), 2), "s", {"k": np.zeros(2)}])
def test_default_convert_single_values(value):
    ours, theirs = both(lambda lib: lib.utils.data.default_convert(value))
    assert ours == theirs


ERRORS = {
    "unequal_tensor_shapes": lambda lib: [lib.zeros(2), lib.zeros(3)],
    "non_tensor_in_tensor_batch": lambda lib: [lib.zeros(2), 3],
    "unequal_sequence_lengths": lambda lib: [[1, 2], [1]],
    "unequal_array_shapes": lambda lib: [np.zeros(2), np.zeros(3)],
    "string_arrays": lambda lib: [np.array(["a"]), np.array(["b"])],
    "objects": lambda lib: [object(), object()],
    "none": lambda lib: [None, None],
    "empty": lambda lib: [],
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_default_collate_errors_match_torch(name):
    make = ERRORS[name]
    if name == "objects":  # the message names the type: compare the class and the prefix only
        with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays"):
            nt.utils.data.default_collate(make(nt))
        return
    same_error(lambda lib: lib.utils.data.default_collate(make(lib)))


def test_collate_tensors_is_one_fresh_contiguous_array():
    rows = [nt.tensor(a) for a in A]
    out = nt.utils.data.default_collate(rows)
    assert out.shape == (4, 2, 3) and out._data.flags.c_contiguous
    out._data[0, 0, 0] = 99.0
    assert rows[0]._data[0, 0] != 99.0


def test_collate_keeps_autograd_like_torch():
    import torch

    def body(lib):
        xs = [lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0, 4.0],
                                                                      requires_grad=True)]
        out = lib.utils.data.default_collate(xs)
        (out * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        return out.requires_grad, [x.grad for x in xs]

    ours, theirs = body(nt), body(torch)
    assert ours[0] is theirs[0] is True
    for g, h in zip(ours[1], theirs[1]):
        np.testing.assert_array_equal(g.numpy(), h.numpy())


def test_collate_registry_custom_type():
    class Box:
        def __init__(self, v):
            self.v = v

    def collate_box(batch, *, collate_fn_map=None):
        return sum(b.v for b in batch)

    fn_map = {**default_collate_fn_map, Box: collate_box}
    out = collate([{"b": Box(1), "t": nt.ones(2)}, {"b": Box(2), "t": nt.ones(2)}],
                  collate_fn_map=fn_map)
    assert out["b"] == 3 and out["t"].shape == (2, 2)
