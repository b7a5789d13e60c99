"""Embedding and EmbeddingBag against torch: F.embedding / F.embedding_bag oracle cases (values,
dtypes and weight / per-sample-weight gradients, float32 and float64, plus float64 gradcheck),
the modules with state_dict copied from torch, max_norm's in-place renorm, init statistics, repr
and the errors PyTorch raises."""
import numpy as np
import pytest
import torch

import numtorch as nt
from numtorch.ops.embedding import scatter_rows
from tests.oracle.harness import Case, TOL, check_case, gradcheck_case, register


def _i(a, dtype=np.int64):
    return np.asarray(a, dtype=dtype)


def _make(n, d, *ints, psw=False):
    """Inputs: a (n, d) table, then (optionally) per-sample weights shaped like the first
    index array, then the fixed integer arrays."""
    def make(rng, dtype):
        out = [rng.standard_normal((n, d)).astype(dtype)]
        if psw:
            out.append(rng.uniform(0.5, 1.5, ints[0].shape).astype(dtype))
        return out + [a.copy() for a in ints]
    return make


def _emb(**kw):
    return lambda lib, w, i: lib.nn.functional.embedding(i, w, **kw)


def _bag(**kw):
    return lambda lib, w, i, o: lib.nn.functional.embedding_bag(i, w, o, **kw)


def _bag2d(**kw):
    return lambda lib, w, i: lib.nn.functional.embedding_bag(i, w, **kw)


def _bag_psw(**kw):
    return lambda lib, w, p, i, *o: lib.nn.functional.embedding_bag(
        i, w, o[0] if o else None, per_sample_weights=p, mode="sum", **kw)


_rng = np.random.default_rng(7)
IDX_2D = _i([[1, 2, 4, 5], [4, 3, 2, 6], [0, 0, 1, 6]])
IDX_PAD = _i([[0, 2, 0, 5], [3, 0, 0, 0], [0, 0, 0, 0]])
SMALL_TABLE = _i(_rng.integers(0, 65, (32, 16)))          # sort + reduceat path
BIG_DISTINCT = _i(_rng.permutation(300)[:40])              # no repeats: plain write
BIG_REPEAT = _i(_rng.integers(0, 300, (5, 30)))           # flat add.at path
FEW_REPEATS = _i(np.r_[_rng.permutation(300)[:40], 7, 7, 9])  # first writes + add.at
TWICE = _i([3, 1, 4, 1, 3, 4, 6, 6])                       # each index exactly twice
FLAT = _i([1, 2, 4, 5, 4, 3, 2, 6, 0, 1])
OFFS = _i([0, 3, 3, 7])                                    # bags 3, 0 (empty), 4, 3
OFFS_LAST = _i([0, 2, 5, 10])                              # include_last_offset, no tail
OFFS_EQUAL = _i([0, 2, 4, 6, 8])                           # equal bags through offsets
PAD_FLAT = _i([2, 2, 1, 2, 4, 0, 2, 3])
PAD_OFFS = _i([0, 2, 5, 6])                                # bag 0 and bag 2 all padding
MANY = _i(_rng.integers(0, 40, 700))
MANY_OFFS = _i(np.r_[0, np.sort(_rng.choice(np.arange(1, 700), 199, replace=False))])

EMB_CASES = register(
    Case("embedding", _emb(), make=_make(7, 5, IDX_2D)),
    Case("embedding_0d", _emb(), make=_make(7, 5, _i(3))),
    Case("embedding_int32_1d", _emb(), make=_make(7, 5, _i([6, 0, 6, 2], np.int32))),
    Case("embedding_padding", _emb(padding_idx=0), make=_make(7, 5, IDX_PAD)),
    Case("embedding_padding_neg", _emb(padding_idx=-2), make=_make(7, 5, IDX_2D)),
    Case("embedding_scale_freq", _emb(scale_grad_by_freq=True, padding_idx=2),
         make=_make(7, 5, IDX_2D)),
    Case("embedding_small_table", _emb(), make=_make(65, 6, SMALL_TABLE)),
    Case("embedding_big_distinct", _emb(), make=_make(300, 4, BIG_DISTINCT)),
    Case("embedding_big_repeat", _emb(), make=_make(300, 3, BIG_REPEAT)),
    Case("embedding_few_repeats", _emb(), make=_make(300, 32, FEW_REPEATS)),
    Case("embedding_scale_freq_big", _emb(scale_grad_by_freq=True),
         make=_make(300, 3, BIG_REPEAT)),
    Case("embedding_empty", _emb(), make=_make(7, 5, _i(np.zeros(0)))),
)

BAG_CASES = register(
    *[Case(f"embedding_bag_2d_{m}", _bag2d(mode=m), make=_make(7, 5, IDX_2D))
      for m in ("sum", "mean", "max")],
    *[Case(f"embedding_bag_offsets_{m}", _bag(mode=m), make=_make(7, 5, FLAT, OFFS))
      for m in ("sum", "mean", "max")],
    *[Case(f"embedding_bag_last_offset_{m}", _bag(mode=m, include_last_offset=True),
           make=_make(7, 5, FLAT, OFFS_LAST)) for m in ("sum", "mean", "max")],
    *[Case(f"embedding_bag_equal_offsets_{m}", _bag(mode=m),
           make=_make(7, 5, FLAT[:8], OFFS_EQUAL[:4])) for m in ("mean", "max")],
    *[Case(f"embedding_bag_padding_{m}", _bag(mode=m, padding_idx=2),
           make=_make(7, 5, PAD_FLAT, PAD_OFFS)) for m in ("sum", "mean", "max")],
    *[Case(f"embedding_bag_2d_padding_{m}", _bag2d(mode=m, padding_idx=0),
           make=_make(7, 5, IDX_PAD)) for m in ("sum", "mean", "max")],
    Case("embedding_bag_padding_absent", _bag(mode="max", padding_idx=6),
         make=_make(7, 5, PAD_FLAT, PAD_OFFS)),
    *[Case(f"embedding_bag_many_{m}", _bag(mode=m), make=_make(40, 3, MANY, MANY_OFFS))
      for m in ("sum", "mean", "max")],
    *[Case(f"embedding_bag_many_padding_{m}", _bag(mode=m, padding_idx=3),
           make=_make(40, 3, MANY, MANY_OFFS)) for m in ("mean", "max")],
    Case("embedding_bag_psw_1d", _bag_psw(padding_idx=2),
         make=_make(7, 5, PAD_FLAT, PAD_OFFS, psw=True)),
    Case("embedding_bag_psw_2d", _bag_psw(), make=_make(7, 5, IDX_2D, psw=True)),
    Case("embedding_bag_scale_freq_sum", _bag(mode="sum", scale_grad_by_freq=True),
         make=_make(7, 5, TWICE, _i([0, 3, 5]))),
    Case("embedding_bag_scale_freq_mean_2d", _bag2d(mode="mean", scale_grad_by_freq=True),
         make=_make(7, 5, TWICE.reshape(2, 4))),
    Case("embedding_bag_int32", _bag(mode="sum"),
         make=_make(7, 5, _i(FLAT, np.int32), _i(OFFS, np.int32))),
)

CASES = EMB_CASES + BAG_CASES


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


# By design these gradients are not the derivative: F.embedding's padding row and
# scale_grad_by_freq's rescaled rows (torch's gradcheck rejects them too).
_BY_DESIGN = ("embedding_padding", "scale_freq")


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable and
                                  not any(k in c.name for k in _BY_DESIGN)],
                         ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


def test_grad_fn_names_match_torch():
    w, i = np.ones((4, 2), np.float32), np.array([[0, 1]])
    for lib in (nt, torch):
        t = lib.tensor(w, requires_grad=True)
        assert lib.nn.functional.embedding(lib.tensor(i), t).grad_fn.name() == \
            "EmbeddingBackward0"
        assert lib.nn.functional.embedding_bag(lib.tensor(i), t).grad_fn.name() == \
            "EmbeddingBagBackward0"


# ---- the scatter-add behind the backward, each strategy against np.add.at ----------------------
@pytest.mark.parametrize("n,N,d", [(65, 2048, 16), (5, 3, 4), (10000, 50, 8), (300, 900, 5),
                                   (10000, 500, 32), (7, 0, 3), (50, 200, 0)])
def test_scatter_rows_strategies(n, N, d):
    rng = np.random.default_rng(n + N)
    idx = rng.integers(0, n, N)
    g = rng.standard_normal((N, d))
    ref = np.zeros((n, d))
    np.add.at(ref, idx, g)
    np.testing.assert_allclose(scatter_rows(idx, g, n), ref, rtol=1e-12, atol=1e-12)
    distinct = rng.permutation(n)[:min(n, N)]
    ref = np.zeros((n, d))
    ref[distinct] = g[:distinct.size]
    np.testing.assert_array_equal(scatter_rows(distinct, g[:distinct.size], n), ref)


# ---- documented differences: scale_grad_by_freq in bags, entries past the last offset ---------
def test_bag_scale_grad_by_freq_divides_by_own_count():
    # pytorch/pytorch#190063: torch 2.13's CPU kernel gives row 3 a gradient of 0.5 here
    w = nt.ones(4, 3, requires_grad=True)
    nt.nn.functional.embedding_bag(nt.tensor([1, 1, 3]), w, nt.tensor([0]), mode="sum",
                                   scale_grad_by_freq=True).sum().backward()
    assert w.grad[:, 0].tolist() == [0.0, 1.0, 0.0, 1.0]


def test_bag_trailing_entries_are_in_no_bag():
    # entries past the last offset belong to no bag. torch 2.13's CPU kernel agrees for "sum",
    # but counts them in "mean"'s denominator and in "max" (pytorch/pytorch#191965), and reads
    # uninitialised memory for their gradients
    w = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    idx, offs = np.array([0, 1, 2, 3, 5]), np.array([0, 2, 3])
    expect = {"sum": [w[0] + w[1], w[2]], "mean": [(w[0] + w[1]) / 2, w[2]],
              "max": [np.maximum(w[0], w[1]), w[2]]}
    for mode in ("sum", "mean", "max"):
        t = nt.tensor(w, requires_grad=True)
        y = nt.nn.functional.embedding_bag(nt.tensor(idx), t, nt.tensor(offs), mode=mode,
                                           include_last_offset=True)
        np.testing.assert_allclose(y.detach().numpy(), np.stack(expect[mode]), rtol=1e-6)
        y.sum().backward()
        assert not t.grad.numpy()[[3, 5]].any()
    ref = torch.nn.functional.embedding_bag(torch.tensor(idx), torch.tensor(w), torch.tensor(offs),
                                            mode="sum", include_last_offset=True)
    np.testing.assert_allclose(ref.numpy(), np.stack(expect["sum"]), rtol=1e-6)


# ---- sparse=True: accepted, dense gradient equal to torch's sparse one ------------------------
def test_sparse_flag_gives_dense_gradient():
    w = np.random.default_rng(1).standard_normal((6, 3)).astype(np.float32)
    i = np.array([[1, 2, 1], [5, 0, 2]])
    grads = []
    for lib in (nt, torch):
        t = lib.tensor(w, requires_grad=True)
        F = lib.nn.functional
        (F.embedding(lib.tensor(i), t, sparse=True).sum() +
         F.embedding_bag(lib.tensor(i), t, mode="sum", sparse=True).sum()).backward()
        grads.append(t.grad.to_dense().numpy() if lib is torch else t.grad.numpy())
    assert grads[0].shape == (6, 3)
    np.testing.assert_allclose(grads[0], grads[1], **TOL["float32"])


# ---- modules: state_dict copied from torch, same outputs and weight gradients -----------------
MODULES = [
    ("Embedding", lambda lib: lib.nn.Embedding(9, 4), (IDX_2D,)),
    ("Embedding_pad_freq", lambda lib: lib.nn.Embedding(9, 4, padding_idx=-3,
                                                        scale_grad_by_freq=True), (IDX_2D,)),
    ("EmbeddingBag", lambda lib: lib.nn.EmbeddingBag(9, 4), (FLAT, OFFS)),
    ("EmbeddingBag_max_2d", lambda lib: lib.nn.EmbeddingBag(9, 4, mode="max"), (IDX_2D,)),
    ("EmbeddingBag_sum_pad_last", lambda lib: lib.nn.EmbeddingBag(
        9, 4, mode="sum", padding_idx=2, include_last_offset=True), (FLAT, OFFS_LAST)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,ctor,ints", MODULES, ids=[m[0] for m in MODULES])
def test_module_matches_torch(name, ctor, ints, dtype):
    ref = ctor(torch).to(getattr(torch, dtype))
    ours = ctor(nt).to(getattr(nt, dtype))
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours.load_state_dict({k: nt.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    outs = []
    for lib, m in ((nt, ours), (torch, ref)):
        y = m(*[lib.tensor(a) for a in ints])
        g = np.random.default_rng(3).standard_normal(tuple(y.shape)).astype(dtype)
        y.backward(lib.tensor(g))
        outs.append((y.detach().numpy(), m.weight.grad.numpy()))
    for a, b in zip(*outs):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **TOL[dtype])


def test_module_options_and_dtype():
    for lib in (nt, torch):
        e = lib.nn.Embedding(5, 3, padding_idx=1, dtype=lib.float64)
        assert e.weight.dtype == lib.float64 and e.padding_idx == 1
        assert not e.weight[1].detach().numpy().any()
        assert lib.nn.Embedding(5, 3, _freeze=True).weight.requires_grad is False
        assert lib.nn.EmbeddingBag(5, 3, padding_idx=-1).padding_idx == 4
    reprs = [(lambda lib: lib.nn.Embedding(5, 3, padding_idx=-1, max_norm=1.0)),
             (lambda lib: lib.nn.Embedding(5, 3, max_norm=2, norm_type=3.0,
                                           scale_grad_by_freq=True, sparse=True)),
             (lambda lib: lib.nn.EmbeddingBag(5, 3)),
             (lambda lib: lib.nn.EmbeddingBag(5, 3, mode="sum", padding_idx=2, max_norm=2,
                                              norm_type=1.0, scale_grad_by_freq=True,
                                              include_last_offset=True))]
    for make in reprs:
        assert repr(make(nt)) == repr(make(torch))


@pytest.mark.parametrize("cls", ["Embedding", "EmbeddingBag"])
def test_from_pretrained(cls):
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    for freeze in (True, False):
        mods = []
        for lib in (nt, torch):
            src = lib.tensor(w)
            m = getattr(lib.nn, cls).from_pretrained(src, freeze=freeze, padding_idx=1)
            assert m.weight.requires_grad is (not freeze)
            assert (m.num_embeddings, m.embedding_dim, m.padding_idx) == (4, 3, 1)
            with lib.no_grad():
                src[0, 0] = 100.0                      # the weight shares the given tensor
            mods.append((repr(m), m(lib.tensor([[0, 1, 2]])).detach().numpy()))
        assert mods[0][0] == mods[1][0]
        np.testing.assert_array_equal(mods[0][1], mods[1][1])


def test_init_statistics_match_torch():
    stats = []
    for lib in (nt, torch):
        e = lib.nn.Embedding(2000, 64, padding_idx=3)
        b = lib.nn.EmbeddingBag(2000, 64)
        w = e.weight.detach().numpy()
        assert not w[3].any()
        stats.append([w[np.arange(2000) != 3].mean(), w[np.arange(2000) != 3].std(),
                      b.weight.detach().numpy().mean(), b.weight.detach().numpy().std()])
    np.testing.assert_allclose(stats[0], stats[1], atol=0.02)
    np.testing.assert_allclose(stats[1], [0, 1, 0, 1], atol=0.02)


# ---- max_norm: in-place renorm of the looked-up rows, as torch ---------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, 0.0, float("inf"), float("-inf")])
@pytest.mark.parametrize("fn", ["embedding", "embedding_bag"])
def test_max_norm_renormalises_in_place(fn, norm_type):
    w0 = (np.random.default_rng(5).standard_normal((8, 4)) * 2).astype(np.float32)
    idx = np.array([[1, 1, 2, 7], [0, 2, 1, 3]])
    res = []
    for lib in (nt, torch):
        w = lib.tensor(w0.copy(), requires_grad=True)
        v = w._version
        y = getattr(lib.nn.functional, fn)(lib.tensor(idx), w, max_norm=1.5,
                                           norm_type=norm_type)
        assert w._version == v + 1
        y.backward(lib.ones_like(y))
        res.append((w.detach().numpy().copy(), y.detach().numpy(), w.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, **TOL["float32"])
    assert np.allclose(res[0][0][[4, 5, 6]], w0[[4, 5, 6]])       # rows not looked up: kept


def test_max_norm_module_and_saved_tensor_check():
    for lib in (nt, torch):
        e = lib.nn.Embedding(10, 3, max_norm=1.0)
        with lib.no_grad():
            e.weight.mul_(5.0)
        n = e(lib.tensor([1, 2, 1])).detach().numpy()
        np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, rtol=1e-5)
        # the renorm writes the table in place: a graph that saved it must refuse to backward
        w = lib.tensor(np.full((4, 2), 3.0, np.float32), requires_grad=True)
        s = w.sigmoid()
        y = lib.nn.functional.embedding(lib.tensor([0]), s, max_norm=0.1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (y.sum() + s.sum()).backward()


# ---- errors: torch's exception class and the message's key content ----------------------------
def _w(lib):
    return lib.tensor(np.ones((5, 3), np.float32), requires_grad=True)


def _F(lib):
    return lib.nn.functional


ERRORS = [
    ("index_high", lambda lib: _F(lib).embedding(lib.tensor([1, 5]), _w(lib)),
     "index out of range in self"),
    ("index_negative", lambda lib: _F(lib).embedding(lib.tensor([-1]), _w(lib)),
     "index out of range in self"),
    ("float_indices", lambda lib: _F(lib).embedding(lib.tensor([1.0]), _w(lib)), "Long, Int"),
    ("int16_indices", lambda lib: _F(lib).embedding(lib.tensor([1], dtype=lib.int16), _w(lib)),
     "Long, Int"),
    ("list_indices", lambda lib: _F(lib).embedding([1], _w(lib)), "must be Tensor"),
    ("weight_1d", lambda lib: _F(lib).embedding(lib.tensor([1]), lib.ones(5)), "must be 2-D"),
    ("padding_high", lambda lib: _F(lib).embedding(lib.tensor([1]), _w(lib), padding_idx=5),
     "Padding_idx must be within num_embeddings"),
    ("padding_low", lambda lib: lib.nn.Embedding(5, 3, padding_idx=-6),
     "Padding_idx must be within num_embeddings"),
    ("bag_padding_module", lambda lib: lib.nn.EmbeddingBag(5, 3, padding_idx=5),
     "padding_idx must be within num_embeddings"),
    ("bag_padding_functional", lambda lib: _F(lib).embedding_bag(
        lib.tensor([1]), _w(lib), lib.tensor([0]), padding_idx=-6),
     "padding_idx must be within the number of embeddings, -5 through 4, but got -6"),
    ("from_pretrained_1d", lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(5)),
     "Embeddings parameter is expected to be 2-dimensional"),
    ("bag_from_pretrained_3d", lambda lib: lib.nn.EmbeddingBag.from_pretrained(
        lib.ones(2, 2, 2)), "Embeddings parameter is expected to be 2-dimensional"),
    ("weight_shape", lambda lib: lib.nn.Embedding(5, 3, _weight=lib.ones(4, 3)),
     "Shape of weight does not match"),
    ("bag_2d_with_offsets", lambda lib: _F(lib).embedding_bag(
        lib.tensor([[1, 2]]), _w(lib), lib.tensor([0])), "if input is 2D, then offsets has to"),
    ("bag_offsets_2d", lambda lib: _F(lib).embedding_bag(
        lib.tensor([1, 2]), _w(lib), lib.tensor([[0]])), "offsets has to be a 1D Tensor"),
    ("bag_offsets_none", lambda lib: _F(lib).embedding_bag(lib.tensor([1, 2]), _w(lib)),
     "offsets has to be a 1D Tensor but got None"),
    ("bag_input_3d", lambda lib: _F(lib).embedding_bag(lib.ones(1, 1, 1, dtype=lib.int64),
                                                       _w(lib)), "input has to be 1D or 2D"),
    ("bag_weight_1d", lambda lib: _F(lib).embedding_bag(lib.tensor([1]), lib.ones(5),
                                                        lib.tensor([0])), "weight has to be a 2D"),
    ("bag_mode", lambda lib: _F(lib).embedding_bag(lib.tensor([1]), _w(lib), lib.tensor([0]),
                                                   mode="median"), "mode has to be one of"),
    ("bag_psw_mean", lambda lib: _F(lib).embedding_bag(
        lib.tensor([1]), _w(lib), lib.tensor([0]), per_sample_weights=lib.ones(1)),
     "per_sample_weights is only supported for mode='sum'"),
    ("bag_psw_max", lambda lib: lib.nn.EmbeddingBag(5, 3, mode="max")(
        lib.tensor([[1]]), per_sample_weights=lib.ones(1, 1)), "got mode='max'"),
    ("bag_psw_shape", lambda lib: _F(lib).embedding_bag(
        lib.tensor([1, 2]), _w(lib), lib.tensor([0]), mode="sum",
        per_sample_weights=lib.ones(3)), "must have the same shape as the input"),
    ("bag_psw_dtype", lambda lib: _F(lib).embedding_bag(
        lib.tensor([1, 2]), _w(lib), lib.tensor([0]), mode="sum",
        per_sample_weights=lib.ones(2, dtype=lib.float64)), "to have the same type"),
    ("bag_max_freq", lambda lib: _F(lib).embedding_bag(
        lib.tensor([1]), _w(lib), lib.tensor([0]), mode="max", scale_grad_by_freq=True),
     "max mode does not support scaling"),
    ("bag_max_sparse", lambda lib: _F(lib).embedding_bag(
        lib.tensor([1]), _w(lib), lib.tensor([0]), mode="max", sparse=True),
     "max mode does not support sparse"),
    ("bag_index_high", lambda lib: _F(lib).embedding_bag(lib.tensor([0, 7]), _w(lib),
                                                         lib.tensor([0])),
     "Index 1 of input takes value 7 which is not in the valid range [0, 5)"),
    ("bag_float_indices", lambda lib: _F(lib).embedding_bag(lib.tensor([0.0]), _w(lib),
                                                            lib.tensor([0])), "Long, Int"),
    ("bag_int_weight", lambda lib: _F(lib).embedding_bag(
        lib.tensor([0]), lib.ones(5, 3, dtype=lib.int32), lib.tensor([0])), "Float, Double"),
    ("bag_first_offset", lambda lib: _F(lib).embedding_bag(lib.tensor([0, 1]), _w(lib),
                                                           lib.tensor([1])),
     "offsets[0] has to be 0"),
    ("bag_last_offset", lambda lib: _F(lib).embedding_bag(lib.tensor([0, 1]), _w(lib),
                                                          lib.tensor([0, 3])),
     "offsets[-1] can not be greater than input's length 2"),
    ("bag_no_offsets_last", lambda lib: _F(lib).embedding_bag(
        lib.tensor([0, 1]), _w(lib), lib.tensor([], dtype=lib.int64), include_last_offset=True),
     "number of offset should be at least 1"),
    ("bag_2d_empty_rows", lambda lib: _F(lib).embedding_bag(lib.zeros(2, 0, dtype=lib.int64),
                                                            _w(lib)), "step must be nonzero"),
    ("renorm_float_indices", lambda lib: _F(lib).embedding(lib.tensor([1.0]), _w(lib),
                                                           max_norm=1.0), "Long, Int"),
    ("renorm_index_high", lambda lib: _F(lib).embedding(lib.tensor([7]), _w(lib).detach(),
                                                        max_norm=1.0), "index 7 out of range"),
]


@pytest.mark.parametrize("name,fn,key", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, key):
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(nt)
    assert type(ours.value) is type(ref.value), (ours.value, ref.value)
    assert key in str(ref.value)
    assert key in str(ours.value)


def test_decreasing_offsets_raise():
    # torch 2.13 raises "Expected i < index_size" here, or not, depending on its code path
    with pytest.raises(RuntimeError, match=r"offsets\[2\] = 1 is less than offsets\[1\] = 3"):
        _F(nt).embedding_bag(nt.tensor([0, 1, 2, 3]), _w(nt), nt.tensor([0, 3, 1]))


def test_index_error_names_the_index_and_table_size():
    with pytest.raises(IndexError, match=r"index 9 .*5 rows"):
        nt.nn.functional.embedding(nt.tensor([[0, 9]]), _w(nt))


def test_empty_bags_and_empty_input():
    for lib in (nt, torch):
        w = _w(lib)
        assert tuple(_F(lib).embedding_bag(lib.tensor([1, 2]), w, lib.zeros(0, dtype=lib.int64)
                                           ).shape) == (0, 3)
        y = _F(lib).embedding_bag(lib.zeros(0, dtype=lib.int64), w, lib.tensor([0, 0]))
        assert tuple(y.shape) == (2, 3) and not y.detach().numpy().any()
        assert tuple(_F(lib).embedding_bag(lib.zeros(0, 3, dtype=lib.int64), w).shape) == (0, 3)
        assert tuple(_F(lib).embedding_bag(lib.tensor([1, 2]), w, lib.tensor([0]),
                                           include_last_offset=True).shape) == (0, 3)
        y.sum().backward()
        assert not w.grad.numpy().any()
