"""Attention against torch: F.scaled_dot_product_attention (oracle cases, float64 gradcheck,
dropout, errors), F.multi_head_attention_forward and nn.MultiheadAttention (state_dicts copied;
outputs, attention weights, input and parameter gradients over a grid of options; init; errors).
"""
import warnings

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import TOL, Case, check_case, gradcheck_case, register


# ---- scaled_dot_product_attention: oracle cases ------------------------------------------------
def _sdpa(**kw):
    def fn(lib, q, k, v, *mask):
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, *mask, **kw)
    return fn


def _with_bool_mask(shapes, mask_shape, dead_row=None):
    """Normal q, k, v and a random bool mask (True = take part); ``dead_row`` is masked whole."""
    def make(rng, dtype):
        arrays = [np.asarray(rng.standard_normal(s), dtype) for s in shapes]
        m = rng.random(mask_shape) < 0.7
        m[..., 0] = True
        if dead_row is not None:
            m[..., dead_row, :] = False
        return arrays + [m]
    return make


QKV = [(2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)]
CASES = register(
    Case("sdpa", _sdpa(), shapes=QKV),
    Case("sdpa_2d", _sdpa(), shapes=[(4, 8), (5, 8), (5, 6)]),
    Case("sdpa_3d_scale", _sdpa(scale=0.3), shapes=[(3, 4, 8), (3, 5, 8), (3, 5, 6)]),
    Case("sdpa_batch_broadcast", _sdpa(), shapes=[(2, 3, 4, 8), (3, 5, 8), (1, 3, 5, 6)]),
    Case("sdpa_float_mask", _sdpa(), shapes=QKV + [(4, 5)]),
    Case("sdpa_float_mask_4d", _sdpa(), shapes=QKV + [(2, 1, 4, 5)]),
    Case("sdpa_bool_mask", _sdpa(), make=_with_bool_mask(QKV, (4, 5)),
         grad=[True, True, True, False]),
    Case("sdpa_bool_mask_dead_row", _sdpa(), make=_with_bool_mask(QKV, (2, 3, 4, 5), 1),
         grad=[True, True, True, False]),
    Case("sdpa_causal", _sdpa(is_causal=True), shapes=[(2, 3, 5, 8), (2, 3, 5, 8),
                                                       (2, 3, 5, 6)]),
    Case("sdpa_causal_wide", _sdpa(is_causal=True), shapes=QKV),
    Case("sdpa_causal_tall", _sdpa(is_causal=True), shapes=[(2, 6, 8), (2, 4, 8), (2, 4, 3)]),
    Case("sdpa_gqa", _sdpa(enable_gqa=True), shapes=[(2, 4, 4, 8), (2, 2, 5, 8), (2, 2, 5, 6)]),
    Case("sdpa_3d_mask_1d", _sdpa(), shapes=[(2, 4, 8), (2, 5, 8), (2, 5, 6), (5,)]),
    Case("sdpa_no_keys", _sdpa(), shapes=[(2, 4, 8), (2, 0, 8), (2, 0, 6)]),
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


def test_float32_mask_with_float64_query():
    """A float32 mask is accepted with float64 inputs (torch's rule); its gradient is float32."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in QKV] + [rng.standard_normal((4, 5)).astype("f4")]
    res = []
    for lib in (nt, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = lib.nn.functional.scaled_dot_product_attention(*ts)
        out.sum().backward()
        res.append((out.detach().numpy(), ts[3].grad.numpy()))
    assert res[0][0].dtype == np.float64 and res[0][1].dtype == np.float32
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-5, atol=1e-5)


# ---- dropout ---------------------------------------------------------------------------------
def test_dropout_gradcheck_with_fixed_mask():
    """Reseeding before each call draws the same mask, so the dropout path can be gradchecked."""
    rng = np.random.default_rng(0)
    ts = [nt.tensor(rng.standard_normal(s), requires_grad=True) for s in QKV]
    F = nt.nn.functional

    def f(q, k, v):
        nt.manual_seed(5)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    assert nt.autograd.gradcheck(f, ts, eps=1e-6, atol=1e-5, rtol=1e-3)
    a, b = f(*ts), f(*ts)
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_dropout_drops_weights_at_rate_p_and_rescales():
    """With v = I the output is the attention-weight matrix after dropout: about p of its
    entries are zero, the rest are the softmax weights scaled by 1/(1-p)."""
    F = nt.nn.functional
    rng = np.random.default_rng(1)
    q = nt.tensor(rng.standard_normal((64, 16, 8)))
    k = nt.tensor(rng.standard_normal((64, 32, 8)))
    eye = nt.tensor(np.broadcast_to(np.eye(32), (64, 32, 32)).copy())
    full = F.scaled_dot_product_attention(q, k, eye).numpy()
    dropped = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.3).numpy()
    zero = dropped == 0
    assert abs(zero.mean() - 0.3) < 0.01
    np.testing.assert_allclose(dropped[~zero], full[~zero] / 0.7, rtol=1e-12)
    gen = [F.scaled_dot_product_attention(q, k, eye, dropout_p=1.0).numpy(),
           torch.nn.functional.scaled_dot_product_attention(
               torch.tensor(q.numpy()), torch.tensor(k.numpy()), torch.tensor(eye.numpy()),
               dropout_p=1.0).numpy()]
    np.testing.assert_array_equal(gen[0], gen[1])


# ---- errors ----------------------------------------------------------------------------------
def _errors(lib, fn):
    try:
        fn(lib)
    except Exception as e:  # noqa: BLE001 - the class itself is compared
        return type(e), (str(e).replace("torch.", "numtorch.") if lib is torch else str(e))
    return None, None


def _same_error(fn, exact=True):
    ours, ref = _errors(nt, fn), _errors(torch, fn)
    assert ref[0] is not None, "torch accepted the input"
    assert ours[0] is ref[0], f"{ours} vs torch {ref}"
    if exact is None:  # the class only: the message comes from another op's check
        return
    if exact:
        assert ours[1] == ref[1]
    else:  # the first sentence (torch names its own operands in what follows)
        assert ours[1].split(" at ")[0] == ref[1].split(" at ")[0], f"{ours[1]} vs {ref[1]}"


def _t(lib, *shape, dtype="float64"):
    return lib.zeros(*shape, dtype=getattr(lib, dtype)) + 0.5


SDPA_ERRORS = {
    "causal_and_mask": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 4, 8), _t(lib, 2, 5, 8), _t(lib, 2, 5, 6),
        lib.ones(4, 5, dtype=lib.bool), is_causal=True),
    "key_features": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 3, 4, 8), _t(lib, 2, 3, 5, 7), _t(lib, 2, 3, 5, 6)),
    "value_length": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 3, 4, 8), _t(lib, 2, 3, 5, 8), _t(lib, 2, 3, 4, 6)),
    "mask_dtype": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 4, 8), _t(lib, 2, 5, 8), _t(lib, 2, 5, 6), lib.ones(4, 5, dtype=lib.int64)),
    "float64_mask_float32_query": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 4, 8, dtype="float32"), _t(lib, 2, 5, 8, dtype="float32"),
        _t(lib, 2, 5, 6, dtype="float32"), _t(lib, 4, 5)),
    "mixed_dtypes": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 4, 8), _t(lib, 2, 5, 8), _t(lib, 2, 5, 6, dtype="float32")),
    "one_dim": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 8), _t(lib, 8), _t(lib, 8)),
    "dropout_p": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 4, 8), _t(lib, 2, 5, 8), _t(lib, 2, 5, 6), dropout_p=1.5),
    "mask_1d": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 3, 4, 8), _t(lib, 2, 3, 5, 8), _t(lib, 2, 3, 5, 6),
        lib.ones(5, dtype=lib.bool)),
    "mask_0d": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 3, 4, 8), _t(lib, 2, 3, 5, 8), _t(lib, 2, 3, 5, 6), lib.tensor(True)),
    "mask_grows_output": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 3, 4, 8), _t(lib, 2, 3, 5, 8), _t(lib, 2, 3, 5, 6),
        lib.ones(2, 1, 1, 4, 5, dtype=lib.bool)),
    "gqa_heads": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 3, 4, 8), _t(lib, 2, 2, 5, 8), _t(lib, 2, 2, 5, 6), enable_gqa=True),
    "scale_positional": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 4, 8), _t(lib, 5, 8), _t(lib, 5, 6), None, 0.0, False, 0.5),
}
SDPA_BROADCAST_ERRORS = {
    "batch_mismatch": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 3, 4, 8), _t(lib, 2, 2, 5, 8), _t(lib, 2, 2, 5, 6)),
    "mask_shape": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 3, 4, 8), _t(lib, 2, 3, 5, 8), _t(lib, 2, 3, 5, 6),
        lib.ones(6, 4, 5, dtype=lib.bool)),
}


@pytest.mark.parametrize("name", SDPA_ERRORS)
def test_sdpa_errors(name):
    _same_error(SDPA_ERRORS[name])


@pytest.mark.parametrize("name", SDPA_BROADCAST_ERRORS)
def test_sdpa_broadcast_errors(name):
    _same_error(SDPA_BROADCAST_ERRORS[name], exact=False)


def test_sdpa_signature():
    """scale and enable_gqa are keyword-only, as in torch."""
    import inspect
    params = inspect.signature(nt.nn.functional.scaled_dot_product_attention).parameters
    assert list(params)[:6] == ["query", "key", "value", "attn_mask", "dropout_p", "is_causal"]
    assert params["scale"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["enable_gqa"].kind is inspect.Parameter.KEYWORD_ONLY


# ---- multi_head_attention_forward as a registered case (float64 gradcheck of MHA) ------------
def _mha_fn(need_weights, masks=False, weights_first=False):
    def fn(lib, q, k, v, w_in, b_in, w_out, b_out, *rest):
        kw = {}
        if masks:
            kw = dict(attn_mask=rest[0], key_padding_mask=rest[1])
        out, w = lib.nn.functional.multi_head_attention_forward(
            q, k, v, 8, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out,
            need_weights=need_weights, **kw)
        return (w, out) if weights_first else (out, w)
    return fn


def _mha_inputs(masks):
    def make(rng, dtype):
        shapes = [(5, 3, 8), (6, 3, 8), (6, 3, 8), (24, 8), (24,), (8, 8), (8,)]
        arrays = [np.asarray(rng.standard_normal(s) * 0.5, dtype) for s in shapes]
        if masks:
            kpm = rng.random((3, 6)) < 0.3
            kpm[:, 0] = False
            arrays += [np.asarray(rng.standard_normal((5, 6)), dtype), kpm]
        return arrays
    return make


MHA_CASES = register(
    Case("mha_forward", _mha_fn(False), make=_mha_inputs(False)),
    Case("mha_forward_masks", _mha_fn(False, True), make=_mha_inputs(True),
         grad=[True] * 8 + [False]),
    Case("mha_forward_weights", _mha_fn(True, True, weights_first=True),
         make=_mha_inputs(True), grad=[True] * 8 + [False]),
)


@pytest.mark.filterwarnings("ignore:Support for mismatched")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", MHA_CASES, ids=lambda c: c.name)
def test_mha_functional_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.filterwarnings("ignore:Support for mismatched")
@pytest.mark.parametrize("case", MHA_CASES, ids=lambda c: c.name)
def test_mha_functional_gradcheck(case):
    gradcheck_case(case)


# ---- nn.MultiheadAttention: parity over a grid ----------------------------------------------
def copy_state(src, dst, to_torch=False):
    """Load ``src``'s state_dict into ``dst`` (torch -> numtorch, or back with ``to_torch``)."""
    lib = torch if to_torch else nt
    dst.load_state_dict({k: lib.tensor(v.detach().numpy().copy())
                         for k, v in src.state_dict().items()})


def run_module(lib, module, call, arrays, grad_keys, upstream_seed=1):
    """Forward ``call(lib, module, **tensors)``, backward a fixed random upstream gradient from
    the first output; returns (outputs, input grads, parameter grads) as NumPy arrays."""
    ts = {k: lib.tensor(a.copy(), requires_grad=k in grad_keys) for k, a in arrays.items()}
    out = call(lib, module, **ts)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
    g = np.random.default_rng(upstream_seed).standard_normal(outs[0].shape)
    outs[0].backward(lib.tensor(g.astype(arrays[grad_keys[0]].dtype)))
    return ([o.detach().numpy().copy() for o in outs],
            {k: ts[k].grad.numpy().copy() for k in grad_keys},
            {n: p.grad.numpy().copy() for n, p in module.named_parameters()
             if p.grad is not None})


def assert_parity(ours, ref, dtype, what=""):
    tol = TOL[dtype]
    for i, (a, b) in enumerate(zip(ours[0], ref[0])):
        assert a.shape == b.shape and a.dtype == b.dtype, f"{what} output {i}"
        np.testing.assert_allclose(a, b, err_msg=f"{what} output {i}", equal_nan=True, **tol)
    assert len(ours[0]) == len(ref[0])
    for part in (1, 2):
        assert sorted(ours[part]) == sorted(ref[part]), f"{what}: gradients of {part}"
        for k in ref[part]:
            np.testing.assert_allclose(ours[part][k], ref[part][k], err_msg=f"{what} grad {k}",
                                       **tol)


def module_parity(make, call, arrays, grad_keys, dtype, train=True, what=""):
    tm = make(torch).to(getattr(torch, dtype))
    m = make(nt).to(getattr(nt, dtype))
    copy_state(tm, m)
    tm.train(train)
    m.train(train)
    arrays = {k: (a.astype(dtype) if a.dtype.kind == "f" else a) for k, a in arrays.items()}
    ref = run_module(torch, tm, call, arrays, grad_keys)
    ours = run_module(nt, m, call, arrays, grad_keys)
    assert_parity(ours, ref, dtype, what)
    return m, tm


E, H, L, S, N = 8, 2, 5, 6, 3
MHA_MODULES = {
    "self": ({}, "self"),
    "self_batch_first": ({"batch_first": True}, "self"),
    "kv_shared": ({}, "kv"),
    "cross": ({"batch_first": True}, "cross"),
    "kdim_vdim": ({"kdim": 5, "vdim": 7}, "cross"),
    "bias_kv_zero_attn": ({"add_bias_kv": True, "add_zero_attn": True}, "cross"),
    "no_bias": ({"bias": False}, "kv"),
    "unbatched": ({}, "unbatched"),
    "unbatched_batch_first": ({"batch_first": True, "add_zero_attn": True}, "unbatched"),
}
MHA_MASKS = ["none", "attn_bool_2d", "attn_float_3d", "kpm_bool", "kpm_float", "both_bool",
             "causal"]


def _mha_arrays(kw, form, mask, rng):
    bf = kw.get("batch_first", False)
    kd, vd = kw.get("kdim", E), kw.get("vdim", E)
    src = L if form == "self" else S

    def seq(length, feat):
        if form == "unbatched":
            return rng.standard_normal((length, feat))
        return rng.standard_normal((N, length, feat) if bf else (length, N, feat))
    arrays = {"query": seq(L, E)}
    if form != "self":
        arrays["key"] = seq(src, kd)
        if form in ("cross", "unbatched"):
            arrays["value"] = seq(src, vd)
    n = 1 if form == "unbatched" else N
    kpm = rng.random((n, src)) < 0.3
    kpm[:, 0] = False
    attn = rng.random((L, src)) < 0.3
    attn[:, 0] = False
    if mask in ("attn_bool_2d", "both_bool"):
        arrays["attn_mask"] = attn
    if mask == "attn_float_3d":
        arrays["attn_mask"] = rng.standard_normal((n * H, L, src))
    if mask in ("kpm_bool", "both_bool"):
        arrays["key_padding_mask"] = kpm if form != "unbatched" else kpm[0]
    if mask == "kpm_float":
        f = np.where(kpm, -1e4, rng.standard_normal(kpm.shape))
        arrays["key_padding_mask"] = f if form != "unbatched" else f[0]
    if mask == "causal":
        arrays["attn_mask"] = np.triu(np.full((L, src), -np.inf), 1)
    return arrays


def _mha_call(form, need_weights, average, is_causal):
    def call(lib, m, query, key=None, value=None, **masks):
        if form == "self":
            key = value = query
        elif value is None:
            value = key
        return m(query, key, value, need_weights=need_weights,
                 average_attn_weights=average, is_causal=is_causal, **masks)
    return call


MHA_GRID = [(c, m) for c in MHA_MODULES for m in MHA_MASKS
            if m != "causal" or MHA_MODULES[c][1] == "self"]  # causal masks need L == S


@pytest.mark.parametrize("weights", ["none", "average", "per_head"])
@pytest.mark.parametrize("config,mask", MHA_GRID)
def test_multihead_attention_matches_torch(config, mask, weights):
    """Outputs, weights, input and parameter gradients, float64 and float32."""
    kw, form = MHA_MODULES[config]
    rng = np.random.default_rng(abs(hash((config, mask))) % 2 ** 32)
    arrays = _mha_arrays(kw, form, mask, rng)
    call = _mha_call(form, weights != "none", weights == "average", mask == "causal")
    grads = [k for k in ("query", "key", "value") if k in arrays]
    if mask == "attn_float_3d":
        grads.append("attn_mask")
    for dtype in ("float64", "float32"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module_parity(lambda lib: lib.nn.MultiheadAttention(E, H, **kw), call, arrays, grads,
                          dtype, what=f"{config}/{mask}/{weights}/{dtype}")


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("mask", ["none", "kpm_bool", "attn_bool_2d"])
def test_multihead_attention_eval_matches_torch_fast_path(mask, need_weights):
    """In evaluation under no_grad torch takes its native fast path; the values agree."""
    kw = {"batch_first": True}
    arrays = _mha_arrays(kw, "self", mask, np.random.default_rng(7))
    tm = torch.nn.MultiheadAttention(E, H, dropout=0.3, **kw).eval()
    m = nt.nn.MultiheadAttention(E, H, dropout=0.3, **kw).eval()
    copy_state(tm, m)
    res = []
    for lib, mod in ((nt, m), (torch, tm)):
        with lib.no_grad():
            ts = {k: lib.tensor(a) for k, a in arrays.items()}
            q = ts.pop("query").float()
            out, w = mod(q, q, q, need_weights=need_weights, **ts)
        res.append((out.numpy(), None if w is None else w.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], **TOL["float32"])
    if need_weights:
        np.testing.assert_allclose(res[0][1], res[1][1], **TOL["float32"])
    else:
        assert res[0][1] is None and res[1][1] is None


def test_multihead_attention_state_dict_to_torch():
    """Ours -> torch: the same keys, shapes and, with equal inputs, equal outputs."""
    m = nt.nn.MultiheadAttention(E, H, add_bias_kv=True, kdim=5, vdim=7)
    tm = torch.nn.MultiheadAttention(E, H, add_bias_kv=True, kdim=5, vdim=7)
    copy_state(m, tm, to_torch=True)
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal(s).astype("f4") for s in ((L, N, E), (S, N, 5), (S, N, 7)))
    ours = m(nt.tensor(q), nt.tensor(k), nt.tensor(v))
    ref = tm(torch.tensor(q), torch.tensor(k), torch.tensor(v))
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL["float32"])


@pytest.mark.parametrize("kw", [{}, {"kdim": 5, "vdim": 7}, {"bias": False, "add_bias_kv": True},
                                {"batch_first": True, "add_zero_attn": True}])
def test_multihead_attention_parameters_and_repr(kw):
    m, tm = nt.nn.MultiheadAttention(E, H, **kw), torch.nn.MultiheadAttention(E, H, **kw)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert list(m.state_dict()) == list(tm.state_dict())
    assert repr(m) == repr(tm)
    for attr in ("embed_dim", "kdim", "vdim", "num_heads", "head_dim", "dropout", "batch_first",
                 "_qkv_same_embed_dim", "add_zero_attn"):
        assert getattr(m, attr) == getattr(tm, attr), attr
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(m.out_proj, nt.nn.Linear)
    assert nt.nn.modules.activation.MultiheadAttention is nt.nn.MultiheadAttention
    assert (m.bias_k is None) == (tm.bias_k is None)


def test_multihead_attention_default_init_statistics():
    """xavier_uniform_ in-projections, Linear's default out_proj weight, zero biases,
    xavier_normal_ bias_k/bias_v: bounds and spreads as torch's."""
    e = 256
    m = nt.nn.MultiheadAttention(e, 4, add_bias_kv=True)
    tm = torch.nn.MultiheadAttention(e, 4, add_bias_kv=True)
    sep = nt.nn.MultiheadAttention(e, 4, kdim=64, vdim=32)
    tsep = torch.nn.MultiheadAttention(e, 4, kdim=64, vdim=32)
    pairs = [(m.in_proj_weight, tm.in_proj_weight), (m.out_proj.weight, tm.out_proj.weight),
             (sep.k_proj_weight, tsep.k_proj_weight), (sep.v_proj_weight, tsep.v_proj_weight)]
    for a, b in pairs:
        a, b = a.detach().numpy(), b.detach().numpy()
        bound = np.abs(b).max()
        assert np.abs(a).max() <= bound * 1.01 and np.abs(a).max() > bound * 0.98
        assert abs(a.std() / b.std() - 1) < 0.03
    for a, b in ((m.bias_k, tm.bias_k), (m.bias_v, tm.bias_v)):
        std = np.sqrt(2.0 / (2 * e))  # xavier_normal_ of (1, 1, e): fan_in = fan_out = e
        assert abs(b.detach().numpy().std() / std - 1) < 0.2
        assert abs(a.detach().numpy().std() / std - 1) < 0.2
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()


def test_multihead_attention_dropout():
    """Training draws a dropout mask (reproducible under manual_seed); eval ignores it."""
    m = nt.nn.MultiheadAttention(E, H, dropout=0.5)
    x = nt.randn(L, N, E)
    nt.manual_seed(3)
    a = m(x, x, x)[1]
    nt.manual_seed(3)
    b = m(x, x, x)[1]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.eval()
    w = m(x, x, x)[1].detach().numpy()
    np.testing.assert_allclose(w.sum(-1), 1, rtol=1e-5)
    assert not np.allclose(a.detach().numpy(), w)
    m.train()
    nt.manual_seed(4)
    out_sdpa = m(x, x, x, need_weights=False)[0]
    assert out_sdpa.shape == (L, N, E) and np.isfinite(out_sdpa.detach().numpy()).all()


def test_mismatched_mask_types_warn_like_torch():
    for lib in (nt, torch):
        m = lib.nn.MultiheadAttention(E, H)
        x = lib.zeros(L, N, E)
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                             "attn_mask is deprecated"):
            m(x, x, x, key_padding_mask=lib.zeros(N, L, dtype=lib.bool),
              attn_mask=lib.zeros(L, L))


def _mha(lib, **kw):
    lib.manual_seed(0)
    return lib.nn.MultiheadAttention(E, H, **kw)


def _x(lib, *shape):
    return lib.zeros(*shape) + 0.5


MHA_ERRORS = {
    "not_divisible": lambda lib: lib.nn.MultiheadAttention(8, 3),
    "nonpositive": lambda lib: lib.nn.MultiheadAttention(0, 3),
    "query_features": lambda lib: _mha(lib)(_x(lib, L, N, 6), _x(lib, S, N, E),
                                            _x(lib, S, N, E)),
    "key_features": lambda lib: _mha(lib)(_x(lib, L, N, E), _x(lib, S, N, 6), _x(lib, S, N, 6)),
    "key_batch": lambda lib: _mha(lib)(_x(lib, L, N, E), _x(lib, S, 2, E), _x(lib, S, 2, E)),
    "key_value_batch": lambda lib: _mha(lib)(_x(lib, L, N, E), _x(lib, S, N, E),
                                             _x(lib, S, 2, E)),
    "key_value_length": lambda lib: _mha(lib)(_x(lib, L, N, E), _x(lib, S, N, E),
                                              _x(lib, 7, N, E)),
    "attn_mask_2d_shape": lambda lib: _mha(lib)(_x(lib, L, N, E), _x(lib, S, N, E),
                                                _x(lib, S, N, E), attn_mask=_x(lib, 3, 4)),
    "attn_mask_3d_shape": lambda lib: _mha(lib)(_x(lib, L, N, E), _x(lib, S, N, E),
                                                _x(lib, S, N, E), attn_mask=_x(lib, 5, L, S)),
    "attn_mask_4d": lambda lib: _mha(lib)(_x(lib, L, N, E), _x(lib, S, N, E),
                                          _x(lib, S, N, E), attn_mask=_x(lib, 1, 6, L, S)),
    "attn_mask_dtype": lambda lib: _mha(lib)(
        _x(lib, L, N, E), _x(lib, S, N, E), _x(lib, S, N, E),
        attn_mask=lib.zeros(L, S, dtype=lib.int64)),
    "kpm_dtype": lambda lib: _mha(lib)(
        _x(lib, L, N, E), _x(lib, S, N, E), _x(lib, S, N, E),
        key_padding_mask=lib.zeros(N, S, dtype=lib.int64)),
    "kpm_length": lambda lib: _mha(lib)(
        _x(lib, L, N, E), _x(lib, S, N, E), _x(lib, S, N, E),
        key_padding_mask=lib.zeros(N, L, dtype=lib.bool)),
    "kpm_batch": lambda lib: _mha(lib)(
        _x(lib, L, N, E), _x(lib, S, N, E), _x(lib, S, N, E),
        key_padding_mask=lib.zeros(2, S, dtype=lib.bool)),
    "kpm_3d": lambda lib: _mha(lib)(
        _x(lib, L, N, E), _x(lib, S, N, E), _x(lib, S, N, E),
        key_padding_mask=lib.zeros(N, S, 1, dtype=lib.bool)),
    "is_causal_without_mask": lambda lib: _mha(lib)(_x(lib, L, N, E), _x(lib, L, N, E),
                                                    _x(lib, L, N, E), is_causal=True),
    "unbatched_key_3d": lambda lib: _mha(lib)(_x(lib, L, E), _x(lib, S, N, E), _x(lib, S, N, E)),
    "unbatched_mask_3d": lambda lib: _mha(lib)(_x(lib, L, E), _x(lib, S, E), _x(lib, S, E),
                                               attn_mask=_x(lib, 3, L, S)),
    "unbatched_kpm_2d": lambda lib: _mha(lib)(_x(lib, L, E), _x(lib, S, E), _x(lib, S, E),
                                              key_padding_mask=_x(lib, N, S)),
    "query_4d": lambda lib: _mha(lib)(_x(lib, 1, L, N, E), _x(lib, S, N, E), _x(lib, S, N, E)),
    "query_dtype": lambda lib: _mha(lib)(_x(lib, L, N, E).double(), _x(lib, S, N, E),
                                         _x(lib, S, N, E)),
    "separate_key_features": lambda lib: _mha(lib, kdim=5, vdim=7)(
        _x(lib, L, N, E), _x(lib, S, N, 6), _x(lib, S, N, 7)),
    "separate_batch": lambda lib: _mha(lib, kdim=5, vdim=7)(
        _x(lib, L, N, E), _x(lib, S, N, 5), _x(lib, S, 2, 7)),
    "batch_first_value_shape": lambda lib: _mha(lib, batch_first=True)(
        _x(lib, N, L, E), _x(lib, N, S, E), _x(lib, N, 7, E)),
}


@pytest.mark.parametrize("name", MHA_ERRORS)
def test_multihead_attention_errors(name):
    # NOTE: F.linear words its dtype error as torch's mm does, not as addmm (with a bias) does
    _same_error(MHA_ERRORS[name], exact=None if name == "query_dtype" else True)


def test_multi_head_attention_forward_static_kv_and_separate_weights():
    """static_k/static_v replace the projected key and value; separate projection weights."""
    rng = np.random.default_rng(9)
    arrays = {"q": rng.standard_normal((L, N, E)), "k": rng.standard_normal((S, N, 5)),
              "v": rng.standard_normal((S, N, 7)), "wq": rng.standard_normal((E, E)),
              "wk": rng.standard_normal((E, 5)), "wv": rng.standard_normal((E, 7)),
              "b": rng.standard_normal(3 * E), "wo": rng.standard_normal((E, E)),
              "sk": rng.standard_normal((N * H, 4, E // H)),
              "sv": rng.standard_normal((N * H, 4, E // H))}

    def call(lib, q, k, v, wq, wk, wv, b, wo, sk, sv, static):
        return lib.nn.functional.multi_head_attention_forward(
            q, k, v, E, H, None, b, None, None, False, 0.0, wo, None,
            use_separate_proj_weight=True, q_proj_weight=wq, k_proj_weight=wk,
            v_proj_weight=wv, static_k=sk if static else None, static_v=sv if static else None)
    for static in (True, False):
        res = []
        for lib in (nt, torch):
            ts = {n: lib.tensor(a, requires_grad=True) for n, a in arrays.items()}
            out, w = call(lib, static=static, **ts)
            out.backward(lib.tensor(np.random.default_rng(1).standard_normal(out.shape)))
            res.append([out.detach().numpy(), w.detach().numpy()] +
                       [np.zeros(1) if t.grad is None else t.grad.numpy() for t in ts.values()])
        for a, b in zip(*res):
            np.testing.assert_allclose(a, b, **TOL["float64"])
