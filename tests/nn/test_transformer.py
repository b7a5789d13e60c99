"""Transformer layers against torch: encoder/decoder layers and stacks and nn.Transformer with
state_dicts copied, compared on outputs, input and parameter gradients (training mode with
dropout 0, float64 and float32) and on outputs in evaluation (torch's fast paths); masks of each
kind, norm_first, activations, batch_first, unbatched inputs; init, deep copies, errors."""
import warnings

import numpy as np
import pytest
import torch

import numtorch as nt
from tests.nn.test_attention import _same_error, copy_state, module_parity
from tests.oracle.harness import TOL

pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:Support for mismatched")]
D, NH, FF, S, T, N = 8, 2, 16, 6, 5, 3


def _act(name):
    """An activation argument, built per library."""
    return {
        "relu": lambda lib: lib.nn.functional.relu,
        "gelu_str": lambda lib: "gelu",
        "gelu_module": lambda lib: lib.nn.GELU(),
        "silu_callable": lambda lib: lib.nn.functional.silu,
    }[name]


ENC_CONFIGS = {
    "post_norm": {},
    "pre_norm_gelu": {"norm_first": True, "activation": "gelu_str"},
    "batch_first_module_act": {"batch_first": True, "activation": "gelu_module"},
    "callable_no_bias": {"activation": "silu_callable", "bias": False},
    "unbatched": {"unbatched": True},
}
ENC_MASKS = ["none", "float_mask", "bool_mask", "kpm", "causal", "mask_and_kpm"]


def _seq(rng, length, bf, unbatched):
    if unbatched:
        return rng.standard_normal((length, D))
    return rng.standard_normal((N, length, D) if bf else (length, N, D))


def _enc_setup(cfg, mask, rng):
    cfg = dict(cfg)
    unbatched = cfg.pop("unbatched", False)
    act = cfg.pop("activation", "relu")
    arrays = {"src": _seq(rng, S, cfg.get("batch_first", False), unbatched)}
    kpm = rng.random((N, S)) < 0.3
    kpm[:, 0] = False
    if mask == "float_mask":
        arrays["mask"] = rng.standard_normal((S, S))
    if mask in ("bool_mask", "mask_and_kpm"):
        m = rng.random((S, S)) < 0.3
        m[:, 0] = False
        arrays["mask"] = m
    if mask in ("kpm", "mask_and_kpm"):
        arrays["src_key_padding_mask"] = kpm[0] if unbatched else kpm
    if mask == "causal":
        arrays["mask"] = np.triu(np.full((S, S), -np.inf), 1)
    return cfg, act, arrays


def _make_enc_layer(cfg, act):
    return lambda lib: lib.nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0,
                                                      activation=_act(act)(lib), **cfg)


def _call_layer(lib, m, src, mask=None, src_key_padding_mask=None):
    causal = mask is not None and mask.dtype != lib.bool and \
        bool(np.isinf(mask.detach().numpy()).any())  # only the causal mask has -inf
    return m(src, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=causal)


@pytest.mark.parametrize("mask", ENC_MASKS)
@pytest.mark.parametrize("config", ENC_CONFIGS)
def test_encoder_layer_matches_torch(config, mask):
    cfg, act, arrays = _enc_setup(ENC_CONFIGS[config], mask, np.random.default_rng(0))
    grads = ["src"] + (["mask"] if mask == "float_mask" else [])
    for dtype in ("float64", "float32"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module_parity(_make_enc_layer(cfg, act), _call_layer, arrays, grads, dtype,
                          what=f"{config}/{mask}/{dtype}")


def _eval_outputs(make, call, arrays, dtype="float32"):
    """Outputs of both libraries in evaluation under no_grad (torch's fast paths)."""
    tm = make(torch).to(getattr(torch, dtype)).eval()
    m = make(nt).to(getattr(nt, dtype)).eval()
    copy_state(tm, m)
    res = []
    for lib, mod in ((nt, m), (torch, tm)):
        ts = {k: lib.tensor(a.astype(dtype) if a.dtype.kind == "f" else a)
              for k, a in arrays.items()}
        with lib.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res.append(call(lib, mod, **ts).numpy())
    return res


@pytest.mark.parametrize("mask", ["none", "kpm", "bool_mask", "mask_and_kpm"])
@pytest.mark.parametrize("config", ["post_norm", "batch_first_module_act", "pre_norm_gelu"])
def test_encoder_layer_eval_matches_torch(config, mask):
    cfg, act, arrays = _enc_setup(dict(ENC_CONFIGS[config], batch_first=True), mask,
                                  np.random.default_rng(1))
    ours, ref = _eval_outputs(_make_enc_layer(cfg, act), _call_layer, arrays)
    np.testing.assert_allclose(ours, ref, **TOL["float32"])


def _make_encoder(layers, norm, bf=True, **kw):
    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0, batch_first=bf)
        return lib.nn.TransformerEncoder(layer, layers, lib.nn.LayerNorm(D) if norm else None,
                                         **kw)
    return make


@pytest.mark.parametrize("mask", ["none", "kpm", "causal", "mask_and_kpm"])
@pytest.mark.parametrize("norm", [True, False])
def test_encoder_matches_torch(mask, norm):
    _, _, arrays = _enc_setup({}, mask, np.random.default_rng(2))
    grads = ["src"]

    def call(lib, m, src, mask=None, src_key_padding_mask=None):
        return m(src, mask=mask, src_key_padding_mask=src_key_padding_mask)
    for dtype in ("float64", "float32"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module_parity(_make_encoder(2, norm, bf=False), call, arrays, grads, dtype,
                          what=f"{mask}/{norm}/{dtype}")


@pytest.mark.parametrize("left_aligned", [True, False])
@pytest.mark.parametrize("norm", [True, False])
def test_encoder_eval_padded_positions_as_torch(norm, left_aligned):
    """torch's evaluation fast path (nested tensors) gives zeros at padded positions when the
    padding is at the end of each sequence; elsewhere it computes them as in training."""
    rng = np.random.default_rng(3)
    kpm = np.zeros((N, S), bool)
    kpm[0, 4:] = kpm[1, 5:] = True
    if not left_aligned:
        kpm[2, 1] = True
    arrays = {"src": rng.standard_normal((N, S, D)), "src_key_padding_mask": kpm}

    def call(lib, m, src, src_key_padding_mask):
        return m(src, src_key_padding_mask=src_key_padding_mask)
    ours, ref = _eval_outputs(_make_encoder(2, norm), call, arrays)
    np.testing.assert_allclose(ours, ref, **TOL["float32"])


def test_encoder_deep_copies_layer():
    layer = nt.nn.TransformerEncoderLayer(D, NH, FF)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = nt.nn.TransformerEncoder(layer, 3)
    ws = [lay.self_attn.in_proj_weight for lay in enc.layers]
    assert all(w is not layer.self_attn.in_proj_weight for w in ws)
    assert len({id(w) for w in ws}) == 3
    for w in ws:
        np.testing.assert_array_equal(w.detach().numpy(),
                                      layer.self_attn.in_proj_weight.detach().numpy())
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))


@pytest.mark.parametrize("kw", [{}, {"batch_first": True}, {"batch_first": True, "nhead": 1},
                                {"batch_first": True, "norm_first": True},
                                {"batch_first": True, "activation": "silu"},
                                {"batch_first": True, "bias": False}])
def test_encoder_nested_tensor_warning_as_torch(kw):
    kw = dict(kw)
    nhead = kw.pop("nhead", NH)
    caught = []
    for lib in (nt, torch):
        if kw.get("activation") == "silu":
            kw["activation"] = lib.nn.functional.silu
        layer = lib.nn.TransformerEncoderLayer(D, nhead, FF, **kw)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            enc = lib.nn.TransformerEncoder(layer, 2)
        caught.append(([str(x.message) for x in w if "nested" in str(x.message)],
                       enc.use_nested_tensor))
    assert caught[0] == caught[1]


# ---- decoder ---------------------------------------------------------------------------------
DEC_CONFIGS = {
    "post_norm": {},
    "pre_norm_gelu_batch_first": {"norm_first": True, "activation": "gelu_str",
                                  "batch_first": True},
    "module_act_no_bias": {"activation": "gelu_module", "bias": False},
    "unbatched": {"unbatched": True},
}
DEC_MASKS = ["none", "causal", "memory_mask", "kpms", "all"]


def _dec_setup(cfg, mask, rng):
    cfg = dict(cfg)
    unbatched = cfg.pop("unbatched", False)
    act = cfg.pop("activation", "relu")
    bf = cfg.get("batch_first", False)
    arrays = {"tgt": _seq(rng, T, bf, unbatched), "memory": _seq(rng, S, bf, unbatched)}
    if mask in ("causal", "all"):
        arrays["tgt_mask"] = np.triu(np.full((T, T), -np.inf), 1)
    if mask in ("memory_mask", "all"):
        m = rng.random((T, S)) < 0.3
        m[:, 0] = False
        arrays["memory_mask"] = m
    if mask in ("kpms", "all"):
        for name, length in (("tgt_key_padding_mask", T), ("memory_key_padding_mask", S)):
            k = rng.random((N, length)) < 0.3
            k[:, 0] = False
            arrays[name] = k[0] if unbatched else k
    return cfg, act, arrays


def _call_decoder(lib, m, tgt, memory, **masks):
    return m(tgt, memory, **masks)


@pytest.mark.parametrize("mask", DEC_MASKS)
@pytest.mark.parametrize("config", DEC_CONFIGS)
def test_decoder_layer_matches_torch(config, mask):
    cfg, act, arrays = _dec_setup(DEC_CONFIGS[config], mask, np.random.default_rng(4))

    def make(lib):
        return lib.nn.TransformerDecoderLayer(D, NH, FF, dropout=0.0,
                                              activation=_act(act)(lib), **cfg)
    for dtype in ("float64", "float32"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module_parity(make, _call_decoder, arrays, ["tgt", "memory"], dtype,
                          what=f"{config}/{mask}/{dtype}")


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("mask", ["none", "all"])
def test_decoder_matches_torch(mask, train):
    cfg, act, arrays = _dec_setup({"batch_first": True}, mask, np.random.default_rng(5))

    def make(lib):
        layer = lib.nn.TransformerDecoderLayer(D, NH, FF, dropout=0.0, **cfg)
        return lib.nn.TransformerDecoder(layer, 2, lib.nn.LayerNorm(D))
    if train:
        module_parity(make, _call_decoder, arrays, ["tgt", "memory"], "float64")
    else:
        ours, ref = _eval_outputs(make, _call_decoder, arrays)
        np.testing.assert_allclose(ours, ref, **TOL["float32"])


# ---- nn.Transformer --------------------------------------------------------------------------
def _make_transformer(**kw):
    return lambda lib: lib.nn.Transformer(D, NH, 2, 2, FF, dropout=0.0, **kw)


def _call_transformer(lib, m, src, tgt, **masks):
    return m(src, tgt, **masks)


@pytest.mark.parametrize("kw", [{}, {"batch_first": True, "norm_first": True,
                                     "activation": "gelu"}])
def test_transformer_matches_torch(kw):
    rng = np.random.default_rng(6)
    bf = kw.get("batch_first", False)
    kpm = rng.random((N, S)) < 0.3
    kpm[:, 0] = False
    arrays = {"src": _seq(rng, S, bf, False), "tgt": _seq(rng, T, bf, False),
              "tgt_mask": np.triu(np.full((T, T), -np.inf), 1), "src_key_padding_mask": kpm,
              "memory_key_padding_mask": kpm}
    for dtype in ("float64", "float32"):
        module_parity(_make_transformer(**kw), _call_transformer, arrays, ["src", "tgt"], dtype)


def test_transformer_unbatched_and_eval():
    rng = np.random.default_rng(7)
    arrays = {"src": rng.standard_normal((S, D)), "tgt": rng.standard_normal((T, D)),
              "tgt_mask": np.triu(np.full((T, T), -np.inf), 1)}
    module_parity(_make_transformer(), _call_transformer, arrays, ["src", "tgt"], "float64")
    arrays = {"src": rng.standard_normal((N, S, D)), "tgt": rng.standard_normal((N, T, D))}
    ours, ref = _eval_outputs(_make_transformer(batch_first=True), _call_transformer, arrays)
    np.testing.assert_allclose(ours, ref, **TOL["float32"])


def test_generate_square_subsequent_mask():
    for sz, dtype in ((1, None), (5, None), (4, "float64")):
        ours = nt.nn.Transformer.generate_square_subsequent_mask(
            sz, dtype=None if dtype is None else getattr(nt, dtype))
        ref = torch.nn.Transformer.generate_square_subsequent_mask(
            sz, dtype=None if dtype is None else getattr(torch, dtype))
        assert ours.numpy().dtype == ref.numpy().dtype
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_transformer_structure_and_init():
    """Parameter names and shapes as torch's; xavier_uniform_ on every >1-D parameter (bounds
    sqrt(6 / (fan_in + fan_out))), LayerNorms at ones and zeros, Linear biases untouched."""
    kw = dict(d_model=32, nhead=4, num_encoder_layers=1, num_decoder_layers=2,
              dim_feedforward=64)
    m, tm = nt.nn.Transformer(**kw), torch.nn.Transformer(**kw)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert repr(m) == repr(tm)
    for (name, p), tp in zip(m.named_parameters(), tm.parameters()):
        a, b = p.detach().numpy(), tp.detach().numpy()
        if a.ndim > 1:
            bound = np.sqrt(6.0 / (a.shape[0] + a.shape[1]))
            assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound, name
            assert np.abs(b).max() <= bound, name
        elif "norm" in name:
            np.testing.assert_array_equal(a, b)
        else:
            assert np.abs(a).max() <= max(np.abs(b).max() * 1.5, 1e-12) + 0.2, name
    assert (m.d_model, m.nhead, m.batch_first) == (tm.d_model, tm.nhead, tm.batch_first)


def test_transformer_custom_encoder_decoder():
    """custom_encoder/custom_decoder are used as given (and re-initialised like the rest)."""
    class Enc(nt.nn.Module):
        def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
            return src * 2

    class Dec(nt.nn.Module):
        def forward(self, tgt, memory, **kw):
            return tgt + memory.mean(0)
    enc, dec = Enc(), Dec()
    m = nt.nn.Transformer(D, NH, custom_encoder=enc, custom_decoder=dec)
    assert m.encoder is enc and m.decoder is dec and not list(m.parameters())
    src, tgt = nt.randn(S, N, D), nt.randn(T, N, D)
    out = m(src, tgt)
    np.testing.assert_allclose(out.numpy(), (tgt + 2 * src.mean(0)).numpy(), rtol=1e-6)


def test_encoder_layer_training_steps_match_torch():
    """Three Adam steps with state_dicts copied: losses and parameters stay equal (float64)."""
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((S, N, D)), rng.standard_normal((S, N, D))
    tm = torch.nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0).double()
    m = nt.nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0).double()
    copy_state(tm, m)
    losses = []
    for lib, mod in ((nt, m), (torch, tm)):
        opt = lib.optim.Adam(mod.parameters(), lr=1e-2)
        xs, ys = lib.tensor(x), lib.tensor(y)
        run = []
        for _ in range(3):
            opt.zero_grad()
            loss = ((mod(xs) - ys) ** 2).mean()
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-10)
    for (n, p), tp in zip(m.named_parameters(), tm.parameters()):
        # NOTE: the key bias has an exactly zero gradient (softmax ignores a shift), so Adam
        # moves it by rounding noise (~1e-12) differently in each library
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-9,
                                   atol=1e-10, err_msg=n)


def test_dropout_in_training_is_seeded_and_off_in_eval():
    layer = nt.nn.TransformerEncoderLayer(D, NH, FF, dropout=0.3)
    x = nt.randn(S, N, D)
    nt.manual_seed(1)
    a = layer(x).detach().numpy()
    nt.manual_seed(1)
    b = layer(x).detach().numpy()
    np.testing.assert_array_equal(a, b)
    layer.eval()
    c, d = layer(x).detach().numpy(), layer(x).detach().numpy()
    np.testing.assert_array_equal(c, d)
    assert not np.allclose(a, c)


def _tf(lib, **kw):
    return lib.nn.Transformer(D, NH, 1, 1, FF, **kw)


TRANSFORMER_ERRORS = {
    "activation": lambda lib: lib.nn.TransformerEncoderLayer(D, NH, activation="tanh"),
    "decoder_activation": lambda lib: lib.nn.TransformerDecoderLayer(D, NH, activation="x"),
    "batch": lambda lib: _tf(lib)(lib.zeros(S, N, D), lib.zeros(T, 2, D)),
    "batch_first_batch": lambda lib: _tf(lib, batch_first=True)(lib.zeros(N, S, D),
                                                                lib.zeros(2, T, D)),
    "features": lambda lib: _tf(lib)(lib.zeros(S, N, D), lib.zeros(T, N, 4)),
    "not_divisible": lambda lib: lib.nn.TransformerEncoderLayer(D, 3),
    "src_mask_shape": lambda lib: lib.nn.TransformerEncoderLayer(D, NH)(
        lib.zeros(S, N, D), src_mask=lib.zeros(S, 4)),
    "src_mask_dtype": lambda lib: lib.nn.TransformerEncoderLayer(D, NH)(
        lib.zeros(S, N, D), src_mask=lib.zeros(S, S, dtype=lib.int64)),
    "kpm_dtype": lambda lib: lib.nn.TransformerEncoderLayer(D, NH)(
        lib.zeros(S, N, D), src_key_padding_mask=lib.zeros(N, S, dtype=lib.int64)),
}


@pytest.mark.parametrize("name", TRANSFORMER_ERRORS)
def test_transformer_errors(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same_error(TRANSFORMER_ERRORS[name])
