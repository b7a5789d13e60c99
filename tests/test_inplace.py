"""In-place methods, version counters and in-place autograd, compared with torch."""
import warnings

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import Case, check_case, gradcheck_case, register

F = np.array([[0.5, -1.25, 2.0], [3.5, -0.75, 1.5]])
I = np.array([[1, -2, 3], [4, 0, -6]])
MASK = np.array([[True, False, True], [False, False, True]])


def _make(lib, a):
    return lib.tensor(a.copy())


# ---- values and dtypes without autograd ------------------------------------------------------
VALUE_CASES = [
    ("add_", F, lambda lib, x: x.add_(lib.tensor([1.0, 2.0, 3.0]))),
    ("add_alpha", F, lambda lib, x: x.add_(lib.tensor(F), alpha=2)),
    ("add_scalar_alpha", F, lambda lib, x: x.add_(2, alpha=-1.5)),
    ("sub_", F, lambda lib, x: x.sub_(0.5)),
    ("sub_alpha", F, lambda lib, x: x.sub_(lib.tensor(F), alpha=0.5)),
    ("mul_", F, lambda lib, x: x.mul_(lib.tensor([[2.0], [-1.0]]))),
    ("div_", F, lambda lib, x: x.div_(4)),
    ("div_floor", F, lambda lib, x: x.div_(0.7, rounding_mode="floor")),
    ("pow_", F, lambda lib, x: x.abs_().pow_(1.5)),
    ("clamp_", F, lambda lib, x: x.clamp_(-1, 1)),
    ("clamp_min", F, lambda lib, x: x.clamp_(min=0.0)),
    ("clamp_max_tensor", F, lambda lib, x: x.clamp_(max=lib.tensor([0.0, 1.0, 2.0]))),
    ("clip_", F, lambda lib, x: x.clip_(max=1.0)),
    ("zero_", F, lambda lib, x: x.zero_()),
    ("fill_", F, lambda lib, x: x.fill_(2.5)),
    ("fill_tensor", F, lambda lib, x: x.fill_(lib.tensor(-3.0))),
    ("copy_", F, lambda lib, x: x.copy_(lib.tensor(I))),
    ("copy_bcast", F, lambda lib, x: x.copy_(lib.tensor([7.0, 8.0, 9.0]))),
    ("copy_double", F.astype(np.float32), lambda lib, x: x.copy_(lib.tensor(F))),
    ("masked_fill_", F, lambda lib, x: x.masked_fill_(lib.tensor(MASK), -9.0)),
    ("masked_fill_bcast", F, lambda lib, x: x.masked_fill_(lib.tensor(MASK[:1]), 0.0)),
    ("scatter_", F, lambda lib, x: x.scatter_(1, lib.tensor([[2], [0]]),
                                              lib.tensor([[5.0], [6.0]], dtype=x.dtype))),
    ("scatter_value", F, lambda lib, x: x.scatter_(0, lib.tensor([[1, 0, 1]]), 4.0)),
    ("scatter_add_", F, lambda lib, x: x.scatter_add_(1, lib.tensor([[2, 2]]),
                                                      lib.tensor([[1.0, 2.0]], dtype=x.dtype))),
    ("index_fill_", F, lambda lib, x: x.index_fill_(1, lib.tensor([0, 2]), 1.5)),
    ("index_add_", F, lambda lib, x: x.index_add_(0, lib.tensor([1, 1]), lib.tensor(F))),
    ("exp_", F, lambda lib, x: x.exp_()),
    ("sigmoid_", F, lambda lib, x: x.sigmoid_()),
    ("relu_", F, lambda lib, x: x.relu_()),
    ("tanh_", F, lambda lib, x: x.tanh_()),
    ("neg_", F, lambda lib, x: x.neg_()),
    ("abs_", F, lambda lib, x: x.abs_()),
    ("sqrt_", F, lambda lib, x: x.abs_().sqrt_()),
    ("log_", F, lambda lib, x: x.abs_().log_()),
    ("floor_", F, lambda lib, x: x.floor_()),
    ("round_", F, lambda lib, x: x.round_()),
    ("reciprocal_", F, lambda lib, x: x.reciprocal_()),
    ("tril_", F, lambda lib, x: x.tril_()),
    ("triu_", F, lambda lib, x: x.triu_(1)),
    ("lerp_", F, lambda lib, x: x.lerp_(lib.tensor(F * 2), 0.25)),
    ("addcmul_", F, lambda lib, x: x.addcmul_(lib.tensor(F), lib.tensor(F), value=0.5)),
    ("addcdiv_", F, lambda lib, x: x.addcdiv_(lib.tensor(F), lib.tensor(F + 5), value=2)),
    ("iadd", F, lambda lib, x: x.__iadd__(1.5)),
    ("isub_tensor", F, lambda lib, x: x.__isub__(lib.tensor(F))),
    ("imul", F, lambda lib, x: x.__imul__(-2)),
    ("itruediv", F, lambda lib, x: x.__itruediv__(lib.tensor([1.0, 2.0, 4.0]))),
    ("ipow", F, lambda lib, x: x.__ipow__(2)),
    ("int_iadd", I, lambda lib, x: x.__iadd__(3)),
    ("int_imul_bool", I, lambda lib, x: x.__imul__(True)),
    ("int_add_int32", I, lambda lib, x: x.int().add_(lib.tensor(I))),
    ("int_ifloordiv", I, lambda lib, x: x.__ifloordiv__(4)),
    ("int_imod", I, lambda lib, x: x.__imod__(4)),
    ("int_fill_float", I, lambda lib, x: x.fill_(2.7)),
    ("int_copy_float", I, lambda lib, x: x.copy_(lib.tensor(F))),
    ("int_masked_fill_float", I, lambda lib, x: x.masked_fill_(lib.tensor(MASK), 0.5)),
    ("int_relu_", I, lambda lib, x: x.relu_()),
    ("int_clamp_int", I, lambda lib, x: x.clamp_(-1, 2)),
    ("int_pow_", I, lambda lib, x: x.pow_(2)),
    ("int_div_floor", I, lambda lib, x: x.div_(4, rounding_mode="floor")),
    ("bool_iand", MASK, lambda lib, x: x.__iand__(lib.tensor(MASK[::-1].copy()))),
    ("bool_ior", MASK, lambda lib, x: x.__ior__(lib.tensor(MASK[::-1].copy()))),
    ("bool_ixor", MASK, lambda lib, x: x.__ixor__(lib.tensor(MASK[::-1].copy()))),
    ("float32_add_double", F.astype(np.float32), lambda lib, x: x.add_(lib.tensor(F))),
    ("float_add_int", F, lambda lib, x: x.add_(lib.tensor(I))),
    ("noncontig", F, lambda lib, x: x.t().mul_(lib.tensor([2.0, 3.0]))),
    ("t_", F, lambda lib, x: x.t_()),
    ("transpose_", F, lambda lib, x: x.transpose_(0, 1)),
    ("unsqueeze_", F, lambda lib, x: x.unsqueeze_(1)),
    ("squeeze_", F[:1], lambda lib, x: x.squeeze_()),
]


def _params(cases):
    return [c if hasattr(c, "marks") else pytest.param(*c, id=c[0]) for c in cases]


@pytest.mark.parametrize("name,a,fn", _params(VALUE_CASES))
def test_inplace_values_match_torch(name, a, fn):
    out = []
    for lib in (torch, nt):
        x = _make(lib, a)
        r = fn(lib, x)
        assert r is x or name in ("int_add_int32", "noncontig"), \
            f"{name}: an in-place method returns self"
        assert r._version > 0 or name.endswith(("t_", "transpose_", "squeeze_", "unsqueeze_"))
        out.append((r.numpy().copy(), x.numpy().copy()))
    (rt, xt), (rn, xn) = out
    for a_, b_ in ((rn, rt), (xn, xt)):
        assert a_.dtype == b_.dtype, f"{name}: dtype {a_.dtype} vs torch {b_.dtype}"
        assert a_.shape == b_.shape
        np.testing.assert_allclose(a_, b_, rtol=1e-6, atol=1e-6, err_msg=name)


def _raises_like(fn, a):
    errs = []
    for lib in (torch, nt):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(lib, _make(lib, a))
        except Exception as e:  # noqa: BLE001 - we compare the classes
            errs.append(e)
        else:
            errs.append(None)
    assert errs[0] is not None, "torch did not raise"
    assert errs[1] is not None, f"numtorch did not raise; torch raised {errs[0]!r}"
    assert type(errs[1]) is type(errs[0]), f"numtorch raised {errs[1]!r}, torch {errs[0]!r}"
    return str(errs[1])


ERROR_CASES = [
    ("int_iadd_float", I, lambda lib, x: x.__iadd__(1.5),
     "result type Float can't be cast to the desired output type Long"),
    ("int_add_float_tensor", I, lambda lib, x: x.add_(lib.tensor(F)), "Double"),
    ("int_add_float_0d", I, lambda lib, x: x.add_(lib.tensor(2.5)), "Float"),
    ("int_div", I, lambda lib, x: x.div_(2), "Long"),
    ("int_exp", I, lambda lib, x: x.exp_(), "Long"),
    ("int_sigmoid", I, lambda lib, x: x.sigmoid_(), "Long"),
    ("int_pow_neg", I, lambda lib, x: x.pow_(-1), "negative"),
    ("int_clamp_float", I, lambda lib, x: x.clamp_(0.5), "Float"),
    ("bool_add", MASK, lambda lib, x: x.add_(1), "Bool"),
    ("bcast_out", F[0], lambda lib, x: x.add_(lib.tensor(F)), "[2, 3]"),
    ("bcast_bad", F, lambda lib, x: x.mul_(lib.ones(2)), "3"),
    ("copy_shape", F, lambda lib, x: x.copy_(lib.ones(2)), "3"),
    ("copy_more_dims", F, lambda lib, x: x.copy_(lib.ones(4, 2, 3)), "[2, 3]"),
    ("fill_1d", F, lambda lib, x: x.fill_(lib.ones(1)), "0-dim"),
    ("masked_fill_bigger", F[0], lambda lib, x: x.masked_fill_(lib.tensor(MASK), 0.0), "[2, 3]"),
    ("float_iand", F, lambda lib, x: x.__iand__(lib.tensor(F)), "not implemented"),
    ("expand_write", F[:, :1], lambda lib, x: x.expand(2, 3).add_(1), "memory location"),
]


@pytest.mark.parametrize("name,a,fn,needle", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_inplace_errors_match_torch(name, a, fn, needle):
    msg = _raises_like(fn, a)
    assert needle in msg, f"message {msg!r} should contain {needle!r}"


# ---- leaves -----------------------------------------------------------------------------------
LEAF_OPS = [
    lambda x: x.add_(1), lambda x: x.mul_(2), lambda x: x.zero_(), lambda x: x.fill_(1.0),
    lambda x: x.copy_(x.detach() * 2), lambda x: x.sigmoid_(), lambda x: x.clamp_(0, 1),
    lambda x: x.masked_fill_(x.detach() > 0, 0.0), lambda x: x.__iadd__(1), lambda x: x.relu_(),
    lambda x: x.uniform_(), lambda x: x.normal_(), lambda x: x.exp_(),
]


@pytest.mark.parametrize("k", range(len(LEAF_OPS)))
def test_leaf_requiring_grad_raises_but_no_grad_allows(k):
    op = LEAF_OPS[k]
    for lib in (torch, nt):
        x = lib.tensor(F.copy(), requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                               "in an in-place operation"):
            op(x)
        with lib.no_grad():
            op(x)
        assert x.is_leaf and x.requires_grad and x.grad_fn is None
        assert x._version == 1
        v = x[0]
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            op(v)


# ---- in-place inside a graph: gradients like torch -----------------------------------------
def _h(a):
    return a * 1        # a non-leaf copy that in-place ops may change


def _view_write(lib, a, b):
    h = _h(a)
    h[0].mul_(b[0])                  # in-place on a view writes through to h
    h.t()[1].add_(b[1, 0])
    h.view(-1)[::2].sigmoid_()
    return h * 2


def _zeros_copy(lib, a, b):
    buf = lib.zeros(3, 2, dtype=a.dtype)
    buf.t()[0].copy_(a[0, :3])       # base without grad becomes part of the graph
    buf[1:].mul_(b[0, 1])
    return buf


def _narrow_fill(lib, a, b):
    h = _h(a) + b
    h.narrow(1, 0, 2).zero_()
    h.unsqueeze(0)[0, 1].fill_(2.0)
    return h.exp()


GRAPH_CASES = register(
    Case("inplace_add_", lambda lib, a, b: _h(a).add_(b, alpha=2), shapes=[(2, 3), (2, 3)]),
    Case("inplace_sub_bcast", lambda lib, a, b: _h(a).sub_(b), shapes=[(2, 3), (3,)]),
    Case("inplace_mul_", lambda lib, a, b: _h(a).mul_(b), shapes=[(2, 3), (2, 3)]),
    Case("inplace_mul_self", lambda lib, a: _h(a).mul_(_h(a)), shapes=[(2, 3)]),
    Case("inplace_div_", lambda lib, a, b: _h(a).div_(b), shapes=[(2, 3), (2, 3)],
         domain=(0.5, 2.0)),
    Case("inplace_pow_", lambda lib, a, b: _h(a).pow_(b), shapes=[(2, 3), (2, 3)],
         domain=(0.5, 2.0)),
    Case("inplace_pow_scalar", lambda lib, a: _h(a).pow_(3), shapes=[(2, 3)]),
    Case("inplace_chain", lambda lib, a, b: _h(a).mul_(b).add_(a).sigmoid_() * 3,
         shapes=[(2, 3), (2, 3)]),
    Case("inplace_iops", lambda lib, a, b: _iops(_h(a), b), shapes=[(2, 3), (2, 3)],
         domain=(0.5, 2.0)),
    Case("inplace_unary", lambda lib, a: _h(a).neg_().abs_().tanh_() * 2, shapes=[(2, 3)]),
    Case("inplace_relu_", lambda lib, a: (a * 2).relu_() * a, shapes=[(3, 4)]),
    Case("inplace_clamp_", lambda lib, a: _h(a).clamp_(-0.5, 0.5), shapes=[(3, 4)],
         make=lambda rng, dt: [np.linspace(-1.3, 1.3, 12).reshape(3, 4).astype(dt)]),
    Case("inplace_masked_fill_", lambda lib, a: _h(a).masked_fill_(lib.tensor(MASK), 0.0),
         shapes=[(2, 3)]),
    Case("inplace_scatter_", lambda lib, a, s: _h(a).scatter_(1, lib.tensor([[2], [0]]), s),
         shapes=[(2, 3), (2, 1)]),
    Case("inplace_index_fill_", lambda lib, a: _h(a).index_fill_(1, lib.tensor([1]), 3.0),
         shapes=[(2, 3)]),
    Case("inplace_index_add_", lambda lib, a, s: _h(a).index_add_(0, lib.tensor([1, 1]), s),
         shapes=[(2, 3), (2, 3)]),
    Case("inplace_copy_", lambda lib, a, b: _h(a).copy_(b) * a, shapes=[(2, 3), (3,)]),
    Case("inplace_zero_then_add", lambda lib, a, b: _h(a).zero_().add_(b), shapes=[(2, 3), (2, 3)]),
    Case("inplace_fill_tensor", lambda lib, a, b: _h(a).fill_(b[0]) * b, shapes=[(2, 3), (3,)]),
    Case("inplace_lerp_", lambda lib, a, b: _h(a).lerp_(b, 0.3), shapes=[(2, 3), (2, 3)]),
    Case("inplace_addcmul_", lambda lib, a, b: _h(a).addcmul_(b, b, value=2),
         shapes=[(2, 3), (2, 3)]),
    Case("inplace_view_write", _view_write, shapes=[(2, 3), (2, 3)]),
    Case("inplace_zeros_copy", _zeros_copy, shapes=[(2, 3), (2, 3)]),
    Case("inplace_narrow_fill", _narrow_fill, shapes=[(2, 3), (2, 3)]),
    Case("inplace_setitem_view", lambda lib, a, b: _setitem_view(_h(a), b),
         shapes=[(2, 3), (2,)]),
    Case("inplace_t_", lambda lib, a, b: _h(a).t_() * b, shapes=[(2, 3), (3, 2)]),
    Case("inplace_augmented_setitem", lambda lib, a, b: _augmented(_h(a), b),
         shapes=[(3, 4), (4,)]),
    Case("inplace_permuted_view", lambda lib, a, b: _permuted(_h(a), b), shapes=[(2, 3, 4), (4,)]),
)


def _augmented(h, b):
    h[[0, 2]] += b                   # getitem (copy), add, setitem back
    h[:, 1] *= b[1]
    h[h > 0.5] *= 2.0
    return h * 1


def _permuted(h, b):
    v = h.permute(2, 0, 1)
    v[1:3] = v[1:3] + b[0]           # Add saves nothing: rewriting its input is harmless
    h.transpose(0, 1).unsqueeze(0)[0, 1].mul_(b)
    return h.sigmoid()


def _iops(h, b):
    h += b
    h *= b
    h -= 1
    h /= b
    h **= 2
    return h


def _setitem_view(h, b):
    v = h.t()
    v[1] = b
    v[0, 1] = b[0] * 3
    return h * 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", GRAPH_CASES, ids=lambda c: c.name)
def test_inplace_graph_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", GRAPH_CASES, ids=lambda c: c.name)
def test_inplace_graph_gradcheck(case):
    gradcheck_case(case)


# ---- version counter: modifying what backward needs --------------------------------------------
SAVED = [
    # name, f(a, b) -> (out, tensor to modify in place)
    ("mul_input", lambda a, b: _pair(a * 1, lambda h: h * b)),
    ("mul_other", lambda a, b: _pair(b * 1, lambda h: a * h)),
    ("sigmoid_output", lambda a, b: _out(a.sigmoid())),
    ("exp_output", lambda a, b: _out(a.exp())),
    ("tanh_output", lambda a, b: _out(a.tanh())),
    ("pow_input", lambda a, b: _pair(a * 1, lambda h: h ** 2)),
    ("pow_exponent", lambda a, b: _pair(b * 1, lambda h: a.abs() ** h)),
    ("matmul_left", lambda a, b: _pair(a * 1, lambda h: h @ b.t())),
    ("matmul_right", lambda a, b: _pair(b * 1, lambda h: a @ h.t())),
    ("div_input", lambda a, b: _pair(b * 1, lambda h: a / h)),
    ("gather_saves_nothing", lambda a, b: _pair(a * 1, lambda h: h[:, [0, 2]])),
    ("add_inputs_harmless", lambda a, b: _pair(a * 1, lambda h: h + b)),
    ("sub_inputs_harmless", lambda a, b: _pair(a * 1, lambda h: b - h)),
    ("mul_scalar_harmless", lambda a, b: _pair(a * 1, lambda h: h * 3)),
    ("view_harmless", lambda a, b: _pair(a * 1, lambda h: h.t().reshape(-1))),
    ("cat_harmless", lambda a, b: _pair(a * 1, lambda h: _cat(h, b))),
    ("sum_harmless", lambda a, b: _pair(a * 1, lambda h: h.sum(0))),
    ("relu_output", lambda a, b: _out(a.relu())),
    ("output_of_add_then_mul", lambda a, b: _pair(a + b, lambda h: h * h)),
    ("view_of_saved", lambda a, b: _pair(a * 1, lambda h: h.sigmoid() * h, view=True)),
]


def _pair(h, f, view=False):
    out = f(h)
    return out, (h[0] if view else h)


def _out(y):
    return y * 1, y


def _cat(h, b):
    lib = torch if isinstance(h, torch.Tensor) else nt
    return lib.cat([h, b])


@pytest.mark.parametrize("name,f", _params(SAVED))
def test_modified_saved_tensor_raises_like_torch(name, f):
    raised = []
    for lib in (torch, nt):
        a = lib.tensor(F.copy(), requires_grad=True)
        b = lib.tensor(F[::-1].copy() + 3, requires_grad=True)
        out, victim = f(a, b)
        victim.add_(1)
        try:
            out.sum().backward()
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e), str(e)
            raised.append(True)
        else:
            raised.append(False)
    assert raised[0] == raised[1], f"torch raised: {raised[0]}, numtorch raised: {raised[1]}"


def test_harmless_inplace_gives_torch_gradients():
    grads = []
    for lib in (torch, nt):
        a = lib.tensor(F.copy(), requires_grad=True)
        b = lib.tensor(F[::-1].copy(), requires_grad=True)
        h = a * 2
        y = (h + b).sum(0)
        h.mul_(10)                               # add saved nothing: harmless
        (y.sum() + h.sum()).backward()
        grads.append((a.grad.numpy().copy(), b.grad.numpy().copy()))
    for x, y in zip(*grads):
        np.testing.assert_allclose(x, y)


# ---- views: multi-output views, views made under no_grad ---------------------------------------
@pytest.mark.parametrize("split", ["unbind", "split", "chunk"])
def test_multi_output_view_inplace_raises(split):
    for lib in (torch, nt):
        a = lib.ones(2, 4, requires_grad=True)
        h = a * 1
        piece = {"unbind": lambda: h.unbind(0)[0], "split": lambda: h.split(1)[0],
                 "chunk": lambda: h.chunk(2, 1)[1]}[split]()
        with pytest.raises(RuntimeError, match="returns multiple views"):
            piece.mul_(2)
        with lib.no_grad():
            piece.mul_(2)                        # allowed without grad recording
        assert float(h.detach().sum()) > 8


def test_view_made_in_no_grad_then_inplace_raises():
    for lib in (torch, nt):
        a = lib.ones(2, 3, requires_grad=True)
        h = a * 1
        with lib.no_grad():
            v = h[0]
        with pytest.raises(RuntimeError, match="created in no_grad mode"):
            v.mul_(2)


def test_detach_shares_version_but_not_graph():
    for lib in (torch, nt):
        a = lib.ones(3, requires_grad=True)
        d = a.detach()
        d.mul_(2)
        assert a._version == 1 and d._version == 1
        assert float(a.detach().sum()) == 6.0 and a.grad_fn is None


def test_inplace_fast_path_is_in_place():
    """Without autograd, x += y writes into the same buffer (no new array)."""
    x = nt.ones(1000)
    buf = x._data
    x += nt.ones(1000)
    x.mul_(3).sub_(1)
    assert x._data is buf and float(x[0]) == 5.0
    assert x._version == 3
