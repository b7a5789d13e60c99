"""Oracle tests for the shape ops (numtorch/ops/shape.py) against torch."""
import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import Case, check_case, gradcheck_case, register


def _join(lib, parts):
    """One tensor from several pieces, each scaled differently so every piece's gradient shows."""
    return lib.cat([p.reshape(-1) * (i + 1) for i, p in enumerate(parts)])


def _scan(steps):
    """h_t = tanh(x_t + h_{t-1}): the pattern unbind serves in recurrent loops."""
    h, out = None, []
    for x in steps:
        h = x.tanh() if h is None else (x + h).tanh()
        out.append(h)
    return out


CASES = register(
    # reshape / view / flatten
    Case("reshape", lambda lib, x: x.reshape(4, 3), shapes=[(3, 4)]),
    Case("reshape_tuple_infer", lambda lib, x: x.reshape((2, -1, 2)), shapes=[(3, 4)]),
    Case("reshape_0d", lambda lib, x: x.reshape(1, 1), shapes=[()]),
    Case("reshape_to_0d", lambda lib, x: x.reshape(()), shapes=[(1, 1)]),
    Case("reshape_size0", lambda lib, x: x.reshape(3, 0, 1), shapes=[(0, 3)]),
    Case("reshape_noncontig", lambda lib, x: x.mT.reshape(-1), shapes=[(3, 4)]),
    Case("reshape_as", lambda lib, x, y: x.reshape_as(y), shapes=[(3, 4), (6, 2)]),
    Case("torch_reshape", lambda lib, x: lib.reshape(x, (6, 2)), shapes=[(3, 4)]),
    Case("view", lambda lib, x: x.view(2, 6), shapes=[(3, 4)]),
    Case("view_list", lambda lib, x: x.view([-1]), shapes=[(3, 4)]),
    Case("view_as", lambda lib, x, y: x.view_as(y), shapes=[(3, 4), (2, 6)]),
    Case("view_transposed_ok", lambda lib, x: x.mT.view(4, 3, 1), shapes=[(3, 4)]),
    Case("flatten", lambda lib, x: x.flatten(), shapes=[(2, 3, 4)]),
    Case("flatten_1", lambda lib, x: x.flatten(1), shapes=[(2, 3, 4)]),
    Case("flatten_01", lambda lib, x: lib.flatten(x, 0, 1), shapes=[(2, 3, 4)]),
    Case("flatten_0d", lambda lib, x: x.flatten(), shapes=[()]),
    Case("flatten_size0", lambda lib, x: x.flatten(1), shapes=[(2, 0, 3)]),
    Case("unflatten", lambda lib, x: x.unflatten(1, (3, 4)), shapes=[(2, 12)]),
    Case("unflatten_infer", lambda lib, x: lib.unflatten(x, -1, (-1, 2)), shapes=[(2, 12)]),
    # squeeze / unsqueeze
    Case("squeeze_all", lambda lib, x: x.squeeze(), shapes=[(1, 3, 1, 4)]),
    Case("squeeze_dim", lambda lib, x: x.squeeze(0), shapes=[(1, 3, 1, 4)]),
    Case("squeeze_noop", lambda lib, x: x.squeeze(1), shapes=[(1, 3, 1, 4)]),
    Case("squeeze_tuple", lambda lib, x: x.squeeze((0, -2, 1)), shapes=[(1, 3, 1, 4)]),
    Case("squeeze_0d", lambda lib, x: lib.squeeze(x, 0), shapes=[()]),
    Case("unsqueeze", lambda lib, x: x.unsqueeze(1), shapes=[(3, 4)]),
    Case("unsqueeze_neg", lambda lib, x: lib.unsqueeze(x, -1), shapes=[(3, 4)]),
    Case("unsqueeze_0d", lambda lib, x: x.unsqueeze(0), shapes=[()]),
    # transpose / permute
    Case("transpose", lambda lib, x: x.transpose(0, 2), shapes=[(2, 3, 4)]),
    Case("transpose_neg", lambda lib, x: lib.transpose(x, -1, -2), shapes=[(2, 3, 4)]),
    Case("swapaxes", lambda lib, x: x.swapaxes(0, 1), shapes=[(2, 3, 4)]),
    Case("permute", lambda lib, x: x.permute(2, 0, 1), shapes=[(2, 3, 4)]),
    Case("permute_tuple", lambda lib, x: lib.permute(x, (1, -1, 0)), shapes=[(2, 3, 4)]),
    Case("t", lambda lib, x: x.t(), shapes=[(3, 4)]),
    Case("t_1d", lambda lib, x: lib.t(x), shapes=[(3,)]),
    Case("T", lambda lib, x: x.T, shapes=[(3, 4)]),
    Case("mT", lambda lib, x: x.mT, shapes=[(2, 3, 4)]),
    Case("movedim", lambda lib, x: x.movedim(0, -1), shapes=[(2, 3, 4)]),
    Case("movedim_multi", lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), shapes=[(2, 3, 4)]),
    Case("transpose_then_mul", lambda lib, x, y: x.t() * y, shapes=[(4, 3), (3, 4)]),
    # expand / repeat
    Case("expand", lambda lib, x: x.expand(3, 4), shapes=[(3, 1)]),
    Case("expand_new_dims", lambda lib, x: x.expand(2, -1, 4), shapes=[(3, 1)]),
    Case("expand_0d", lambda lib, x: x.expand(2, 3), shapes=[()]),
    Case("expand_as", lambda lib, x, y: x.expand_as(y) * y, shapes=[(1, 4), (3, 4)]),
    Case("broadcast_to", lambda lib, x: lib.broadcast_to(x, (2, 3, 4)), shapes=[(3, 1)]),
    Case("broadcast_tensors", lambda lib, x, y: _join(lib, lib.broadcast_tensors(x, y)),
         shapes=[(3, 1), (1, 4)]),
    Case("repeat", lambda lib, x: x.repeat(2, 1, 3), shapes=[(2, 3)]),
    Case("repeat_0d", lambda lib, x: x.repeat(2, 3), shapes=[()]),
    Case("repeat_zero", lambda lib, x: x.repeat(0, 2), shapes=[(2, 3)]),
    Case("tile", lambda lib, x: x.tile((2,)), shapes=[(2, 3)]),
    Case("repeat_interleave", lambda lib, x: x.repeat_interleave(2, dim=1), shapes=[(2, 3)]),
    Case("repeat_interleave_flat", lambda lib, x: lib.repeat_interleave(x, 3), shapes=[(2, 2)]),
    # cat / stack
    Case("cat0", lambda lib, x, y: lib.cat([x, y]), shapes=[(2, 3), (4, 3)]),
    Case("cat1", lambda lib, x, y: lib.cat((x, y), dim=1), shapes=[(2, 3), (2, 1)]),
    Case("cat_neg", lambda lib, x, y, z: lib.cat([x, y, z], -1), shapes=[(2, 3), (2, 1), (2, 2)]),
    Case("cat_empty_legacy", lambda lib, x, y: lib.cat([x, y]), shapes=[(0,), (2, 3)]),
    Case("cat_size0", lambda lib, x, y: lib.concat([x, y], 1), shapes=[(2, 0), (2, 3)]),
    Case("cat_mixed_dtype", lambda lib, x, y: lib.cat([x, y.double()]), shapes=[(2, 3), (1, 3)]),
    Case("cat_one", lambda lib, x: lib.cat([x]), shapes=[(2, 3)]),
    Case("stack", lambda lib, x, y: lib.stack([x, y]), shapes=[(2, 3), (2, 3)]),
    Case("stack_last", lambda lib, x, y: lib.stack((x, y), dim=-1), shapes=[(2, 3), (2, 3)]),
    Case("stack_0d", lambda lib, x, y: lib.stack([x, y]), shapes=[(), ()]),
    Case("hstack", lambda lib, x, y: lib.hstack([x, y]), shapes=[(2, 3), (2, 1)]),
    Case("vstack", lambda lib, x, y: lib.vstack([x, y]), shapes=[(3,), (2, 3)]),
    # split / chunk / narrow / unbind
    Case("split_int", lambda lib, x: _join(lib, x.split(2)), shapes=[(5, 3)]),
    Case("split_sections", lambda lib, x: _join(lib, lib.split(x, [1, 3], dim=1)),
         shapes=[(2, 4)]),
    Case("split_first_only", lambda lib, x: x.split(2, 1)[1], shapes=[(2, 5)]),
    Case("chunk", lambda lib, x: _join(lib, x.chunk(3, 1)), shapes=[(2, 7)]),
    Case("chunk_more_than_size", lambda lib, x: _join(lib, lib.chunk(x, 6)), shapes=[(4, 2)]),
    Case("tensor_split", lambda lib, x: _join(lib, x.tensor_split(3)), shapes=[(7, 2)]),
    Case("tensor_split_idx", lambda lib, x: _join(lib, lib.tensor_split(x, [1, 4], dim=1)),
         shapes=[(2, 6)]),
    Case("narrow", lambda lib, x: x.narrow(1, 1, 2), shapes=[(3, 4)]),
    Case("narrow_neg_start", lambda lib, x: lib.narrow(x, 0, -2, 2), shapes=[(3, 4)]),
    Case("select", lambda lib, x: x.select(1, -1), shapes=[(2, 3, 4)]),
    Case("split_with_sizes", lambda lib, x: _join(lib, x.split_with_sizes([1, 2], 1)),
         shapes=[(2, 3)]),
    Case("unbind", lambda lib, x: _join(lib, x.unbind()), shapes=[(3, 4)]),
    Case("unbind_dim", lambda lib, x: _join(lib, lib.unbind(x, -1)), shapes=[(2, 3, 2)]),
    Case("unbind_some_used", lambda lib, x: x.unbind(1)[2] * x.unbind(1)[0],
         shapes=[(3, 4)]),
    Case("unbind_noncontig", lambda lib, x: _join(lib, x.mT.unbind(0)), shapes=[(3, 4)]),
    Case("unbind_and_direct", lambda lib, x: lib.stack(x.unbind(1)[::-1], 1) * x + x.sum(),
         shapes=[(3, 4)]),
    Case("unbind_twice", lambda lib, x: _join(lib, x.unbind(0) + x.unbind(1)), shapes=[(2, 3)]),
    Case("split_reused_piece", lambda lib, x: _join(lib, [p * p for p in x.chunk(2, 1)] +
                                                    [x.chunk(2, 1)[0]]), shapes=[(2, 4)]),
    Case("unbind_lstm_like", lambda lib, x: _join(lib, _scan(x.unbind(0))), shapes=[(5, 2, 3)]),
    # flip / roll / tril / triu
    Case("flip", lambda lib, x: x.flip(0), shapes=[(3, 4)]),
    Case("flip_dims", lambda lib, x: lib.flip(x, (0, -1)), shapes=[(2, 3, 4)]),
    Case("fliplr", lambda lib, x: lib.fliplr(x), shapes=[(3, 4)]),
    Case("flipud", lambda lib, x: x.flipud(), shapes=[(3, 4)]),
    Case("roll", lambda lib, x: x.roll(1, 0), shapes=[(3, 4)]),
    Case("roll_flat", lambda lib, x: lib.roll(x, 5), shapes=[(3, 4)]),
    Case("roll_multi", lambda lib, x: x.roll((1, -2), (0, 1)), shapes=[(3, 4)]),
    Case("roll_0d", lambda lib, x: x.roll(1), shapes=[()]),
    Case("tril", lambda lib, x: x.tril(), shapes=[(4, 4)]),
    Case("tril_diag", lambda lib, x: lib.tril(x, -1), shapes=[(2, 3, 4)]),
    Case("triu", lambda lib, x: x.triu(1), shapes=[(3, 4)]),
    Case("triu_neg", lambda lib, x: lib.triu(x, diagonal=-1), shapes=[(4, 3)]),
    # chains through views
    Case("view_chain", lambda lib, x: x.t().reshape(2, 6).unsqueeze(0).expand(2, 2, 6),
         shapes=[(3, 4)]),
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


# ---- errors: same exception class as torch ---------------------------------------------------
def _raises_like(fn, *arrays):
    """Run ``fn(lib, *tensors)`` in both libraries; both must raise the same exception class."""
    errs = []
    for lib in (torch, nt):
        ts = [lib.tensor(a) for a in arrays]
        try:
            fn(lib, *ts)
        except Exception as e:  # noqa: BLE001 - we compare the classes
            errs.append(e)
        else:
            errs.append(None)
    assert errs[0] is not None, "torch did not raise"
    assert errs[1] is not None, f"numtorch did not raise; torch raised {errs[0]!r}"
    assert type(errs[1]) is type(errs[0]), f"numtorch raised {errs[1]!r}, torch {errs[0]!r}"
    return str(errs[1])


X = np.arange(12.0).reshape(3, 4)
ERRORS = [
    ("reshape_bad", lambda lib, x: x.reshape(5, 3), "[5, 3]"),
    ("reshape_two_infer", lambda lib, x: x.reshape(-1, -1), "one dimension"),
    ("view_noncontig", lambda lib, x: x.t().view(12), "view"),
    ("flatten_order", lambda lib, x: x.flatten(1, 0), "start_dim"),
    ("unflatten_bad", lambda lib, x: x.unflatten(1, (3, 3)), "4"),
    ("squeeze_dim_range", lambda lib, x: x.squeeze(2), "range"),
    ("unsqueeze_range", lambda lib, x: x.unsqueeze(3), "range"),
    ("transpose_range", lambda lib, x: x.transpose(0, 2), "range"),
    ("permute_len", lambda lib, x: x.permute(0), "permute"),
    ("permute_dup", lambda lib, x: x.permute(0, 0), "duplicate"),
    ("t_3d", lambda lib, x: x.reshape(1, 3, 4).t(), "3D"),
    ("expand_bad", lambda lib, x: x.expand(3, 5), "5"),
    ("expand_fewer", lambda lib, x: x.expand(4), "number of sizes"),
    ("repeat_fewer", lambda lib, x: x.repeat(2), "repeat"),
    ("cat_shape", lambda lib, x: lib.cat([x, x.t()]), "Sizes of tensors must match"),
    ("cat_ndim", lambda lib, x: lib.cat([x, x[0]]), "dimensions"),
    ("cat_empty_list", lambda lib, x: lib.cat([]), "non-empty"),
    ("cat_0d", lambda lib, x: lib.cat([x[0, 0], x[0, 0]]), "zero-dimensional"),
    ("cat_dim", lambda lib, x: lib.cat([x, x], 2), "range"),
    ("stack_shape", lambda lib, x: lib.stack([x, x.t()]), "[3, 4]"),
    ("stack_dim", lambda lib, x: lib.stack([x, x], 3), "range"),
    ("split_sum", lambda lib, x: x.split([1, 1]), "[1, 1]"),
    ("chunk_zero", lambda lib, x: x.chunk(0), "chunk"),
    ("narrow_past", lambda lib, x: x.narrow(0, 2, 2), "exceeds"),
    ("unbind_range", lambda lib, x: x.unbind(2), "range"),
    ("select_range", lambda lib, x: x.select(1, 4), "4"),
    ("flip_range", lambda lib, x: x.flip(2), "range"),
    ("roll_mismatch", lambda lib, x: x.roll((1, 2), 0), "shifts"),
    ("tril_1d", lambda lib, x: x[0].tril(), "2"),
    ("movedim_dup", lambda lib, x: x.movedim((0, 0), (0, 1)), "movedim"),
]


@pytest.mark.parametrize("name,fn,needle", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, needle):
    msg = _raises_like(fn, X)
    assert needle in msg, f"message {msg!r} should name {needle!r}"


# ---- views share memory and the version counter --------------------------------------------
VIEWS = [
    ("view", lambda x: x.view(2, 6)),
    ("reshape", lambda x: x.reshape(12)),
    ("flatten", lambda x: x.flatten()),
    ("unflatten", lambda x: x.unflatten(1, (2, 2))),
    ("squeeze", lambda x: x.unsqueeze(0).squeeze(0)),
    ("unsqueeze", lambda x: x.unsqueeze(1)),
    ("transpose", lambda x: x.transpose(0, 1)),
    ("permute", lambda x: x.permute(1, 0)),
    ("t", lambda x: x.t()),
    ("T", lambda x: x.T),
    ("mT", lambda x: x.mT),
    ("movedim", lambda x: x.movedim(0, 1)),
    ("narrow", lambda x: x.narrow(1, 1, 2)),
    ("split", lambda x: x.split(2, 1)[1]),
    ("chunk", lambda x: x.chunk(2)[0]),
    ("unbind", lambda x: x.unbind(1)[2]),
    ("select", lambda x: x.select(0, 1)),
    ("getitem_basic", lambda x: x[1:, None, ::2]),
    ("view_as", lambda x: x.view_as(x)),
    ("detach", lambda x: x.detach()),
]


@pytest.mark.parametrize("name,fn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_share_memory_and_version(name, fn):
    for lib in (torch, nt):
        x = lib.tensor(X.copy())
        v = fn(x)
        v.mul_(-1)                      # writing through the view changes the base
        assert x._version == v._version
        assert x._version >= 1, name
        y = lib.tensor(X.copy())
        fn(y).zero_()
        got = y.numpy()
        if lib is torch:
            ref_x, ref_y = x.numpy(), got
        else:
            np.testing.assert_array_equal(x.numpy(), ref_x, err_msg=name)
            np.testing.assert_array_equal(got, ref_y, err_msg=name)
    x = nt.tensor(X.copy())
    v = fn(x)
    x.add_(1)                           # writing to the base shows in the view
    assert x._version == v._version == 1


def test_view_of_expand_is_read_only_like_torch():
    for lib in (torch, nt):
        x = lib.tensor(X[:, :1].copy())
        with pytest.raises(RuntimeError, match="single memory location"):
            x.expand(3, 4).add_(1)


def test_reshape_copy_does_not_share():
    for lib in (torch, nt):
        x = lib.tensor(X.copy())
        r = x.t().reshape(12)           # not expressible as a view: a copy
        r.add_(100)
        assert float(x.sum()) == float(X.sum())
        assert x._version == 0


def test_view_dtype_reinterprets_bits():
    a = np.linspace(-2, 2, 6, dtype=np.float32)
    ours = nt.tensor(a).view(nt.int32).numpy()
    ref = torch.tensor(a).view(torch.int32).numpy()
    np.testing.assert_array_equal(ours, ref)
    assert nt.tensor(a).view(nt.float32).dtype == nt.float32


def test_deepcopy_of_view_is_not_a_view():
    import copy
    for lib in (torch, nt):
        x = lib.zeros(2, 3)
        c = copy.deepcopy(x[0])
        c.add_(lib.ones(3, requires_grad=True))
        assert float(x.abs().sum()) == 0.0 and not x.requires_grad
        assert c.requires_grad
