"""Oracle tests for indexing (numtorch/ops/index.py): __getitem__/__setitem__, gather, scatter,
index_select, masked_fill and friends, against torch."""
import warnings

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import Case, check_case, gradcheck_case, register

I_ROWS = np.array([2, 0, 2, 1])                     # duplicates: gradients must add up
I_GATHER = np.array([[0, 3, 3], [1, 1, 0], [2, 0, 3]])
I_SCATTER = np.array([[3, 0], [1, 2], [0, 3]])        # unique per row: scatter is deterministic
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, True]])


def _idx(lib, a, dtype=None):
    return lib.tensor(a) if dtype is None else lib.tensor(a, dtype=dtype)


def _setitem(key, value_shape=None, base="mul"):
    """A case body: y = x * 1 (non-leaf); y[key] = v; returns y."""
    def fn(lib, x, v=None):
        y = x * 1 if base == "mul" else lib.zeros(x.shape, dtype=x.dtype)
        k = key(lib) if callable(key) else key
        y[k] = v if v is not None else 7.5
        return y * 1
    return fn


GET = [
    Case("get_int", lambda lib, x: x[1], shapes=[(3, 4)]),
    Case("get_neg_int", lambda lib, x: x[-1, -2], shapes=[(3, 4)]),
    Case("get_slice", lambda lib, x: x[1:], shapes=[(3, 4)]),
    Case("get_step", lambda lib, x: x[::2, 1::2], shapes=[(3, 4)]),
    Case("get_slice_clip", lambda lib, x: x[-10:10, 5:], shapes=[(3, 4)]),
    Case("get_none", lambda lib, x: x[None, :, None], shapes=[(3, 4)]),
    Case("get_ellipsis", lambda lib, x: x[..., 1], shapes=[(2, 3, 4)]),
    Case("get_ellipsis_none", lambda lib, x: x[None, ..., None, 0], shapes=[(2, 3, 4)]),
    Case("get_0d_ellipsis", lambda lib, x: x[...], shapes=[()]),
    Case("get_0d_none", lambda lib, x: x[None], shapes=[()]),
    Case("get_0d_empty_tuple", lambda lib, x: x[()] * 2, shapes=[()]),
    Case("get_tensor", lambda lib, x: x[_idx(lib, I_ROWS)], shapes=[(3, 4)]),
    Case("get_tensor_neg", lambda lib, x: x[:, _idx(lib, [-1, 0, -1])], shapes=[(3, 4)]),
    Case("get_tensor_2d", lambda lib, x: x[_idx(lib, [[0, 1], [2, 2]])], shapes=[(3, 4)]),
    Case("get_tensor_int32", lambda lib, x: x[_idx(lib, [1, 1], lib.int32)], shapes=[(3, 4)]),
    Case("get_tensor_0d", lambda lib, x: x[_idx(lib, 2)], shapes=[(3, 4)]),
    Case("get_list", lambda lib, x: x[[0, 2, 0]], shapes=[(3, 4)]),
    Case("get_list_empty", lambda lib, x: x[[]], shapes=[(3, 4)]),
    Case("get_two_lists", lambda lib, x: x[[0, 2, 2], [1, 3, 1]], shapes=[(3, 4)]),
    Case("get_adv_broadcast", lambda lib, x: x[_idx(lib, [[0], [2]]), _idx(lib, [1, 3, 3])],
         shapes=[(3, 4)]),
    Case("get_adv_slice", lambda lib, x: x[1:, [0, 0, 2]], shapes=[(3, 4)]),
    Case("get_adv_separated", lambda lib, x: x[[0, 1], :, [2, 0]], shapes=[(2, 3, 4)]),
    Case("get_adv_int_adjacent", lambda lib, x: x[:, 1, [0, 3]], shapes=[(2, 3, 4)]),
    Case("get_adv_none", lambda lib, x: x[None, [1, 0], ..., None], shapes=[(2, 3, 4)]),
    Case("get_mask", lambda lib, x: x[_idx(lib, MASK)], shapes=[(3, 4)]),
    Case("get_mask_rows", lambda lib, x: x[_idx(lib, [True, False, True])], shapes=[(3, 4)]),
    Case("get_mask_list", lambda lib, x: x[[True, False, True]], shapes=[(3, 4)]),
    Case("get_mask_dim1", lambda lib, x: x[:, _idx(lib, [False, True, True, False])],
         shapes=[(3, 4)]),
    Case("get_mask_from_x", lambda lib, x: x[x > 0], shapes=[(3, 4)]),
    Case("get_mask_uint8", lambda lib, x: x[_idx(lib, [1, 0, 1], lib.uint8)], shapes=[(3, 4)]),
    Case("get_bool_true", lambda lib, x: x[True], shapes=[(3, 4)]),
    Case("get_bool_false", lambda lib, x: x[False], shapes=[(3, 4)]),
    Case("get_0d_bool", lambda lib, x: x[_idx(lib, True)], shapes=[()]),
    Case("get_size0", lambda lib, x: x[:, [0, 1]], shapes=[(0, 3)]),
    Case("get_nested_list_as_tuple", lambda lib, x: x[[[0, 1], [1, 2]]], shapes=[(3, 4)]),
    Case("get_tensor_slice_bound", lambda lib, x: x[_idx(lib, 1):_idx(lib, 3)], shapes=[(3, 4)]),
    Case("get_noncontig", lambda lib, x: x.mT[[1, 3], 1:], shapes=[(3, 4)]),
    Case("get_chain", lambda lib, x: x[1:][:, [0, 2]][0], shapes=[(3, 4)]),
]

SET = [
    Case("set_int", _setitem(1), shapes=[(3, 4), (4,)]),
    Case("set_int_bcast", _setitem(1), shapes=[(3, 4), (1,)]),
    Case("set_int_lead1", _setitem(1), shapes=[(3, 4), (1, 1, 4)]),
    Case("set_scalar", _setitem((slice(None), 2)), shapes=[(3, 4)]),
    Case("set_slice", _setitem((slice(1, None), slice(None, None, 2))), shapes=[(3, 4), (2, 2)]),
    Case("set_ellipsis", _setitem((Ellipsis, 0)), shapes=[(2, 3, 4), (3,)]),
    Case("set_none", _setitem((None, 0)), shapes=[(3, 4), (1, 4)]),
    Case("set_tensor", _setitem(lambda lib: _idx(lib, [2, 0])), shapes=[(3, 4), (2, 4)]),
    Case("set_list", _setitem([0, 2]), shapes=[(3, 4), (4,)]),
    Case("set_two_lists", _setitem(([0, 2, 1], [3, 0, 1])), shapes=[(3, 4), (3,)]),
    Case("set_adv_slice", _setitem((slice(None), [0, 2])), shapes=[(3, 4), (3, 1)]),
    Case("set_mask", _setitem(lambda lib: _idx(lib, MASK)), shapes=[(3, 4), (7,)]),
    Case("set_mask_scalar_value", _setitem(lambda lib: _idx(lib, MASK)), shapes=[(3, 4), ()]),
    Case("set_mask_rows", _setitem(lambda lib: _idx(lib, [False, True, True])),
         shapes=[(3, 4), (4,)]),
    Case("set_whole", _setitem(Ellipsis), shapes=[(3, 4), (3, 4)]),
    Case("set_into_zeros", _setitem(1, base="zeros"), shapes=[(3, 4), (4,)]),
    Case("set_into_zeros_adv", _setitem([1, 2], base="zeros"), shapes=[(3, 4), (2, 4)]),
    Case("set_value_only", _setitem(0), shapes=[(3, 4), (4,)], grad=[False, True]),
    Case("set_base_only", _setitem(0), shapes=[(3, 4), (4,)], grad=[True, False]),
    Case("set_twice", lambda lib, x, v: _setitem(0)(lib, _setitem(0)(lib, x, v), v * 2),
         shapes=[(3, 4), (4,)]),
    Case("set_mixed_dtype", lambda lib, x, v: _setitem(0)(lib, x, v.double()),
         shapes=[(3, 4), (4,)]),
]

OPS = [
    Case("gather", lambda lib, x: x.gather(1, _idx(lib, I_GATHER)), shapes=[(3, 4)]),
    Case("gather_dim0", lambda lib, x: lib.gather(x, 0, _idx(lib, I_GATHER[:2, :3] % 3)),
         shapes=[(3, 4)]),
    Case("gather_small_index", lambda lib, x: x.gather(-1, _idx(lib, [[1], [0]])),
         shapes=[(3, 4)]),
    Case("gather_3d", lambda lib, x: x.gather(1, _idx(lib, np.arange(24).reshape(2, 3, 4) % 3)),
         shapes=[(2, 3, 4)]),
    Case("gather_0d", lambda lib, x: x.gather(0, _idx(lib, 0)), shapes=[()]),
    Case("gather_empty", lambda lib, x: x.gather(1, lib.zeros(3, 0, dtype=lib.int64)),
         shapes=[(3, 4)]),
    Case("gather_int32", lambda lib, x: x.gather(1, _idx(lib, I_GATHER, lib.int32)),
         shapes=[(3, 4)]),
    Case("take_along_dim", lambda lib, x: lib.take_along_dim(x, _idx(lib, I_GATHER), 1),
         shapes=[(3, 4)]),
    Case("take_along_dim_flat", lambda lib, x: x.take_along_dim(_idx(lib, [0, 11, 0])),
         shapes=[(3, 4)]),
    Case("scatter", lambda lib, x, s: x.scatter(1, _idx(lib, I_SCATTER), s),
         shapes=[(3, 4), (3, 2)]),
    # torch's own backward rejects a src larger than index (ScatterBackward0 shape error)
    Case("scatter_big_src", lambda lib, x, s: lib.scatter(x, 1, _idx(lib, I_SCATTER), s),
         shapes=[(3, 4), (4, 5)], differentiable=False),
    Case("scatter_value", lambda lib, x: x.scatter(0, _idx(lib, [[2, 0, 1, 1]]), 2.5),
         shapes=[(3, 4)]),
    Case("scatter_value_kw", lambda lib, x: lib.scatter(x, 0, _idx(lib, [[2, 0]]), value=-1.0),
         shapes=[(3, 4)]),
    Case("scatter_reduce_add", lambda lib, x, s: x.scatter(1, _idx(lib, I_GATHER), s,
                                                           reduce="add"),
         shapes=[(3, 4), (3, 3)], differentiable=False),
    Case("scatter_add", lambda lib, x, s: x.scatter_add(1, _idx(lib, I_GATHER), s),
         shapes=[(3, 4), (3, 3)]),
    Case("scatter_add_dim0", lambda lib, x, s: lib.scatter_add(x, 0, _idx(lib, [[0, 0, 2, 1]]), s),
         shapes=[(3, 4), (1, 4)]),
    Case("scatter_add_big_src", lambda lib, x, s: x.scatter_add(0, _idx(lib, [[0, 0, 2, 1]]), s),
         shapes=[(3, 4), (2, 5)], differentiable=False),
    Case("index_select", lambda lib, x: x.index_select(0, _idx(lib, I_ROWS)), shapes=[(3, 4)]),
    Case("index_select_dim1", lambda lib, x: lib.index_select(x, -1, _idx(lib, [3, 3, 0])),
         shapes=[(2, 3, 4)]),
    Case("index_select_empty", lambda lib, x: x.index_select(1, _idx(lib, [], lib.int64)),
         shapes=[(3, 4)]),
    Case("index_select_0d_index", lambda lib, x: x.index_select(0, _idx(lib, 1)),
         shapes=[(3, 4)]),
    Case("index_select_0d", lambda lib, x: x.index_select(0, _idx(lib, [0])), shapes=[()]),
    Case("index_select_big", lambda lib, x: x.index_select(0, _idx(lib, np.arange(200) % 7)),
         shapes=[(7, 3)]),
    Case("masked_fill", lambda lib, x: x.masked_fill(_idx(lib, MASK), -1.5), shapes=[(3, 4)]),
    Case("masked_fill_bcast", lambda lib, x: lib.masked_fill(x, _idx(lib, MASK[:, :1]), 2.0),
         shapes=[(3, 4)]),
    Case("masked_fill_bigger_mask", lambda lib, x: x.masked_fill(_idx(lib, MASK[None]), 0.0),
         shapes=[(4,)]),
    Case("masked_fill_tensor_value", lambda lib, x, v: x.masked_fill(_idx(lib, MASK), v),
         shapes=[(3, 4), ()]),
    Case("masked_fill_0d_value_nograd", lambda lib, x: x.masked_fill(_idx(lib, MASK),
                                                                     lib.tensor(3.0)),
         shapes=[(3, 4)]),
    Case("index_fill", lambda lib, x: x.index_fill(1, _idx(lib, [0, 2]), -2.0), shapes=[(3, 4)]),
    Case("index_add", lambda lib, x, s: x.index_add(0, _idx(lib, [0, 2, 0]), s),
         shapes=[(3, 4), (3, 4)]),
    Case("index_add_alpha", lambda lib, x, s: lib.index_add(x, 1, _idx(lib, [3, 1]), s, alpha=2),
         shapes=[(3, 4), (3, 2)]),
    Case("take", lambda lib, x: x.take(_idx(lib, [[0, 11], [-1, 5]])), shapes=[(3, 4)]),
    Case("masked_select", lambda lib, x: x.masked_select(_idx(lib, MASK)), shapes=[(3, 4)]),
    Case("masked_select_bcast", lambda lib, x: lib.masked_select(x, _idx(lib, MASK[:1])),
         shapes=[(3, 4)]),
    Case("nonzero", lambda lib, x: (x > 0).nonzero(), shapes=[(3, 4)], differentiable=False),
    Case("nonzero_tuple", lambda lib, x: lib.nonzero(x > 0, as_tuple=True)[1], shapes=[(3, 4)],
         differentiable=False),
    Case("nonzero_0d", lambda lib, x: (x > 100).nonzero(), shapes=[()], differentiable=False),
    Case("argwhere", lambda lib, x: lib.argwhere(x > 0), shapes=[(2, 3)], differentiable=False),
]

CASES = register(*GET, *SET, *OPS)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # torch's deprecation warnings
        check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


# ---- errors ---------------------------------------------------------------------------------
def _raises_like(fn, x):
    errs = []
    for lib in (torch, nt):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                fn(lib, lib.tensor(x))
        except Exception as e:  # noqa: BLE001 - we compare the classes
            errs.append(e)
        else:
            errs.append(None)
    assert errs[0] is not None, "torch did not raise"
    assert errs[1] is not None, f"numtorch did not raise; torch raised {errs[0]!r}"
    assert type(errs[1]) is type(errs[0]), f"numtorch raised {errs[1]!r}, torch {errs[0]!r}"
    return str(errs[1])


def _set(x, k, v):
    x[k] = v


X = np.arange(12.0).reshape(3, 4)
ERRORS = [
    ("int_out_of_range", lambda lib, x: x[3], ["3", "size 3"]),
    ("neg_int_out_of_range", lambda lib, x: x[0, -5], ["-5", "size 4"]),
    ("too_many", lambda lib, x: x[0, 0, 0], ["too many indices"]),
    ("tensor_out_of_range", lambda lib, x: x[lib.tensor([0, 3])], ["3", "size 3"]),
    ("tensor_neg_out_of_range", lambda lib, x: x[lib.tensor([-4])], ["-4", "size 3"]),
    ("list_out_of_range", lambda lib, x: x[:, [1, 5]], ["5", "size 4"]),
    ("float_tensor", lambda lib, x: x[lib.tensor([0.5])], ["long"]),
    ("float_key", lambda lib, x: x[1.5], ["float"]),
    ("str_key", lambda lib, x: x["a"], []),
    ("mask_shape", lambda lib, x: x[lib.tensor([True, False])], ["[2]", "[3, 4]"]),
    ("negative_step", lambda lib, x: x[::-1], ["step"]),
    ("zero_step", lambda lib, x: x[::0], ["zero"]),
    ("adv_bcast", lambda lib, x: x[[0, 1], [1, 2, 3]], ["[2]", "[3]"]),
    ("0d_int", lambda lib, x: x.sum()[0], ["0-dim"]),
    ("set_out_of_range", lambda lib, x: _set(x, 5, 1.0), ["5", "size 3"]),
    ("set_shape", lambda lib, x: _set(x, 0, lib.ones(3)), ["3", "4"]),
    ("set_shape_more_dims", lambda lib, x: _set(x, 0, lib.ones(2, 4)), ["[2, 4]"]),
    ("set_mask_count", lambda lib, x: _set(x, x > 5, lib.ones(3, dtype=x.dtype)),
     ["[3]", "[6]"]),
    ("set_list_value", lambda lib, x: _set(x, 0, [1.0, 2.0, 3.0, 4.0]), ["list"]),
    ("set_float_into_int_ok_but_str", lambda lib, x: _set(x, 0, "a"), ["str"]),
    ("gather_out_of_range", lambda lib, x: x.gather(1, lib.tensor([[4]])), ["4", "size 4"]),
    ("gather_negative", lambda lib, x: x.gather(1, lib.tensor([[-1]])), ["-1", "size 4"]),
    ("gather_ndim", lambda lib, x: x.gather(1, lib.tensor([1])), ["dimensions"]),
    ("gather_size", lambda lib, x: x.gather(1, lib.zeros(4, 1, dtype=lib.int64)), ["[4, 1]"]),
    ("gather_float_index", lambda lib, x: x.gather(1, lib.zeros(1, 1)), ["int64"]),
    ("gather_dim", lambda lib, x: x.gather(2, lib.zeros(1, 1, dtype=lib.int64)), ["range"]),
    ("scatter_out_of_range", lambda lib, x: x.scatter(1, lib.tensor([[4]]), 1.0), ["4"]),
    ("scatter_src_small", lambda lib, x: x.scatter(1, lib.tensor([[0, 1]]),
                                                   lib.ones(1, 1, dtype=x.dtype)), ["[1, 1]"]),
    ("scatter_dtype", lambda lib, x: x.scatter(1, lib.tensor([[0]]), lib.ones(1, 1).float()),
     ["dtype"]),
    ("scatter_add_scalar", lambda lib, x: x.scatter_add(1, lib.tensor([[0]]), 1.0), ["src"]),
    ("index_select_range", lambda lib, x: x.index_select(0, lib.tensor([3])), ["index"]),
    ("index_select_neg", lambda lib, x: x.index_select(0, lib.tensor([-1])), ["index"]),
    ("index_select_2d", lambda lib, x: x.index_select(0, lib.tensor([[0]])), ["vector"]),
    ("index_select_float", lambda lib, x: x.index_select(0, lib.tensor([0.0])), ["int"]),
    ("masked_fill_float_mask", lambda lib, x: x.masked_fill(lib.ones(3, 1), 1.0), ["bool"]),
    ("masked_fill_shape", lambda lib, x: x.masked_fill(lib.ones(2, 1, dtype=lib.bool), 1.0),
     ["2", "3"]),
    ("masked_fill_value_dims", lambda lib, x: x.masked_fill(x > 1, lib.ones(1)), ["0-dim"]),
    ("index_fill_range", lambda lib, x: x.index_fill(1, lib.tensor([5]), 1.0), ["5"]),
    ("index_add_range", lambda lib, x: x.index_add(1, lib.tensor([5]), lib.ones(3, 1)), ["5"]),
    ("take_range", lambda lib, x: x.take(lib.tensor([12])), ["12"]),
]


@pytest.mark.parametrize("name,fn,needles", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, needles):
    msg = _raises_like(fn, X)
    for n in needles:
        assert n in msg, f"message {msg!r} should name {n!r}"


def test_setitem_leaf_requires_grad():
    for lib in (torch, nt):
        a = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            a[0] = 2.0
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            a[[0]] = 2.0
        with lib.no_grad():
            a[0] = 2.0
            a[a > 1.5] = 3.0
        assert a.tolist() == [3.0, 1.0, 1.0]
        assert a.requires_grad and a.is_leaf


def test_setitem_dtype_conversion():
    for v in (2.7, -1.2, True):
        ours, ref = nt.arange(4), torch.arange(4)
        ours[1] = v
        ref[1] = v
        assert ours.tolist() == ref.tolist()
        assert ours.dtype == nt.int64
    ours, ref = nt.zeros(3), torch.zeros(3)
    ours[1:] = nt.tensor([1, 2])
    ref[1:] = torch.tensor([1, 2])
    assert ours.tolist() == ref.tolist() and ours.dtype == nt.float32
    for lib in (torch, nt):                  # advanced keys want the same dtype
        with pytest.raises(RuntimeError, match="Index put requires the source and destination "
                                               "dtypes match"):
            lib.zeros(3)[[0, 2]] = lib.tensor([1, 2])


def test_setitem_bumps_version_and_breaks_saved():
    for lib in (torch, nt):
        a = lib.tensor(X.copy(), requires_grad=True)
        y = a.sigmoid()
        v0 = y._version
        y[0, 0] = 1.0
        assert y._version == v0 + 1
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_getitem_views_share_memory():
    for lib in (torch, nt):
        x = lib.tensor(X.copy())
        v = x[1:, ::2]
        v[0, 0] = -1.0
        assert float(x[1, 0]) == -1.0
        assert v._version == x._version == 1
        c = x[[1, 2]]                        # advanced indexing copies
        c[0, 0] = 100.0
        assert float(x[1, 0]) == -1.0
        assert c._version == 1 and x._version == 1


def test_gather_scatter_backward_large_duplicates():
    """The fast backward paths (bincount / sorted reduction) agree with torch on big inputs."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 50)).astype(np.float32)
    idx = rng.integers(0, 50, (64, 300))
    rows = rng.integers(0, 64, 1000)
    perm = rng.permutation(64)                          # unique: the plain-write path
    g1 = rng.standard_normal((64, 300)).astype(np.float32)
    g2 = rng.standard_normal((1000, 50)).astype(np.float32)
    g3 = rng.standard_normal((1000, 50)).astype(np.float32)
    res = []
    cols = rng.permutation(50)
    for lib in (nt, torch):
        t = lib.tensor(x, requires_grad=True)
        t.gather(1, lib.tensor(idx)).backward(lib.tensor(g1))
        t.index_select(0, lib.tensor(rows)).backward(lib.tensor(g2))
        t[lib.tensor(rows)].backward(lib.tensor(g3))
        t[:, lib.tensor(cols)].backward(lib.tensor(g3[:64]))
        t.gather(0, lib.tensor(np.tile(perm[:, None], (1, 50)))).backward(lib.tensor(g2[:64]))
        res.append(t.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("key", [
    lambda r: (r.integers(-6, 6, 300),),
    lambda r: (r.permutation(6).repeat(1),),
    lambda r: (slice(None), r.integers(0, 5, (40, 3))),
    lambda r: (slice(None), slice(None), r.integers(-4, 4, 100).astype(np.int32)),
    lambda r: (r.integers(0, 6, (70, 1)), r.integers(0, 5, (1, 2))),
    lambda r: (2, r.integers(0, 5, 90), Ellipsis),
    lambda r: (slice(None), np.arange(5)),
    lambda r: (r.integers(0, 6, 10), slice(1, 3)),          # not rows: NumPy's add.at path
])
def test_add_at_matches_numpy(key):
    """The scatter-add behind index/gather backward equals np.add.at on the same key."""
    from numtorch.ops._accumulate import add_at
    rng = np.random.default_rng(3)
    k = key(rng)
    shape = (6, 5, 4)
    g = rng.standard_normal(np.zeros(shape)[k].shape)
    ref = np.zeros(shape)
    np.add.at(ref, k, g)
    np.testing.assert_allclose(add_at(np.zeros(shape), k, g), ref, rtol=1e-12, atol=1e-12)
