"""RNN / LSTM / GRU module API against torch: errors, parameters (names, order, shapes),
default initialisation, repr, dropout between layers, and the compatibility attributes."""
import warnings

import numpy as np
import pytest
import torch

import numtorch as nt


def same_error(fn, exact=True):
    """``fn(lib)`` raises the same exception class in both libraries, and (``exact``) the same
    message once numtorch's dtype names read as torch's."""
    errs = []
    for lib in (nt, torch):
        with pytest.raises(Exception) as info:
            fn(lib)
        errs.append(info.value)
    ours, ref = errs
    assert type(ours) is type(ref), f"{type(ours).__name__}: {ours} vs {type(ref).__name__}: {ref}"
    if exact:
        assert str(ours).replace("numtorch.", "torch.") == str(ref)


def mods(lib):
    return {"RNN": lib.nn.RNN(10, 20, 2), "LSTM": lib.nn.LSTM(10, 20, 2),
            "GRU": lib.nn.GRU(10, 20, 2)}


def states(lib, kind, *shapes):
    ts = [lib.zeros(s) for s in shapes]
    return tuple(ts) if kind == "LSTM" else ts[0]


BAD_CALLS = {
    "input_size": lambda lib, m, k: m(lib.zeros(5, 3, 7)),
    "dim4": lambda lib, m, k: m(lib.zeros(5, 3, 3, 10)),
    "dim1": lambda lib, m, k: m(lib.zeros(10)),
    "dtype": lambda lib, m, k: m(lib.zeros(5, 3, 10, dtype=lib.float64)),
    "h0_layers": lambda lib, m, k: m(lib.zeros(5, 3, 10), states(lib, k, (1, 3, 20), (2, 3, 20))),
    "h0_batch": lambda lib, m, k: m(lib.zeros(5, 3, 10), states(lib, k, (2, 4, 20), (2, 4, 20))),
    "c0_batch": lambda lib, m, k: m(lib.zeros(5, 3, 10), states(lib, k, (2, 3, 20), (2, 4, 20))),
    "h0_2d": lambda lib, m, k: m(lib.zeros(5, 3, 10), states(lib, k, (3, 20), (2, 3, 20))),
    "unbatched_h0_3d": lambda lib, m, k: m(lib.zeros(5, 10), states(lib, k, (2, 3, 20),
                                                                     (2, 3, 20))),
    "unbatched_h0_size": lambda lib, m, k: m(lib.zeros(5, 10), states(lib, k, (3, 20), (2, 20))),
    "empty_sequence": lambda lib, m, k: m(lib.zeros(0, 3, 10)),
    "packed_input_size": lambda lib, m, k: m(lib.nn.utils.rnn.pack_padded_sequence(
        lib.zeros(5, 3, 7), [5, 4, 2])),
}


@pytest.mark.parametrize("kind,case", [(k, c) for c in BAD_CALLS for k in ("RNN", "LSTM", "GRU")
                                       if c != "c0_batch" or k == "LSTM"])
def test_forward_errors_match_torch(kind, case):
    # torch checks packed LSTM input only inside its kernel (a matmul shape error): ours names
    # the input size; the class is the same
    exact = (kind, case) != ("LSTM", "packed_input_size")
    same_error(lambda lib: BAD_CALLS[case](lib, mods(lib)[kind], kind), exact)


@pytest.mark.parametrize("kind", ["RNN", "GRU"])
def test_packed_hidden_batch_error(kind):
    same_error(lambda lib: mods(lib)[kind](
        lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 10), [5, 4, 2]),
        lib.zeros(2, 4, 20)))


def test_packed_lstm_hidden_batch_error_class():
    # torch's message here comes from a broadcast inside its kernel; ours names the shapes
    same_error(lambda lib: lib.nn.LSTM(10, 20)(
        lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(5, 3, 10), [5, 4, 2]),
        (lib.zeros(1, 4, 20), lib.zeros(1, 3, 20))), exact=False)


CTOR_ERRORS = {
    "dropout_range": lambda lib: lib.nn.LSTM(3, 4, dropout=1.5),
    "dropout_bool": lambda lib: lib.nn.LSTM(3, 4, dropout=True),
    "proj_equal": lambda lib: lib.nn.LSTM(3, 4, proj_size=4),
    "proj_negative": lambda lib: lib.nn.LSTM(3, 4, proj_size=-1),
    "proj_gru": lambda lib: lib.nn.GRU(3, 4, proj_size=2),
    "proj_rnn": lambda lib: lib.nn.RNN(3, 4, proj_size=2),
    "nonlinearity": lambda lib: lib.nn.RNN(3, 4, nonlinearity="sigmoid"),
    "hidden_zero": lambda lib: lib.nn.RNN(3, 0),
    "input_zero": lambda lib: lib.nn.GRU(0, 3),
    "layers_zero": lambda lib: lib.nn.RNN(3, 4, num_layers=0),
    "input_float": lambda lib: lib.nn.RNN(3.0, 4),
    "hidden_float": lambda lib: lib.nn.LSTM(3, 4.0),
    "bias_int": lambda lib: lib.nn.RNN(3, 4, bias=1),
    "batch_first_int": lambda lib: lib.nn.GRU(3, 4, batch_first=0),
    "mode": lambda lib: lib.nn.RNNBase("FOO", 3, 4),
}


@pytest.mark.parametrize("case", list(CTOR_ERRORS))
def test_constructor_errors_match_torch(case):
    same_error(CTOR_ERRORS[case])


def test_dropout_warning_with_one_layer():
    msgs = []
    for lib in (nt, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.GRU(3, 4, dropout=0.5)
        msgs.append([(x.category, str(x.message)) for x in w])
    assert msgs[0] == msgs[1] and len(msgs[0]) == 1


@pytest.mark.parametrize("kind,kw", [
    ("RNN", dict(num_layers=2, nonlinearity="relu", bias=False, batch_first=True, dropout=0.2,
                 bidirectional=True)),
    ("LSTM", dict(proj_size=2, num_layers=3)),
    ("LSTM", dict()),
    ("GRU", dict(bidirectional=True, bias=False)),
])
def test_parameters_repr_and_attributes_match_torch(kind, kw):
    m, tm = getattr(nt.nn, kind)(3, 4, **kw), getattr(torch.nn, kind)(3, 4, **kw)
    assert repr(m) == repr(tm)
    assert [(k, tuple(p.shape)) for k, p in m.named_parameters()] == \
        [(k, tuple(p.shape)) for k, p in tm.named_parameters()]
    assert list(m.state_dict()) == list(tm.state_dict())
    assert m._flat_weights_names == tm._flat_weights_names
    assert m._all_weights == tm._all_weights
    assert [[tuple(p.shape) for p in ws] for ws in m.all_weights] == \
        [[tuple(p.shape) for p in ws] for ws in tm.all_weights]
    assert [p is q for p, q in zip(m._flat_weights, m.parameters())] == [True] * len(
        m._flat_weights)
    for attr in ("mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                 "dropout", "bidirectional", "proj_size"):
        assert getattr(m, attr) == getattr(tm, attr), attr
    assert m.flatten_parameters() is None


def test_default_init_statistics_match_torch():
    """Every parameter ~ U(-1/sqrt(hidden), 1/sqrt(hidden)), as torch draws them."""
    m, tm = nt.nn.LSTM(16, 64, num_layers=2), torch.nn.LSTM(16, 64, num_layers=2)
    bound = 1 / np.sqrt(64)
    for (k, p), (_, q) in zip(m.named_parameters(), tm.named_parameters()):
        a, b = p.detach().numpy(), q.detach().numpy()
        assert a.dtype == b.dtype == np.float32, k
        assert np.abs(a).max() <= bound and a.min() < -0.9 * bound and a.max() > 0.9 * bound, k
        # uniform: mean 0, std bound / sqrt(3), like torch's draw
        assert abs(a.mean()) < 4 * bound / np.sqrt(3 * a.size), k
        assert abs(a.std() - b.std()) < 0.1 * b.std() + 4 * bound / np.sqrt(a.size), k


def test_dtype_and_device_arguments():
    m = nt.nn.GRU(3, 4, dtype=nt.float64, device="cpu")
    assert all(p.dtype == nt.float64 for p in m.parameters())
    y, h = m(nt.zeros(2, 1, 3, dtype=nt.float64))
    assert y.dtype == h.dtype == nt.float64
    m.float()
    assert m(nt.zeros(2, 1, 3))[0].dtype == nt.float32


def test_dropout_between_layers_in_training_only():
    nt.manual_seed(0)
    m = nt.nn.LSTM(4, 50, num_layers=2, dropout=0.5)
    x = nt.randn(3, 8, 4)
    m.eval()
    a, b = m(x)[0], m(x)[0]
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())   # eval: deterministic
    m.train()
    c, d = m(x)[0], m(x)[0]
    assert not np.allclose(c.detach().numpy(), d.detach().numpy())   # fresh masks each call
    assert not np.allclose(c.detach().numpy(), a.detach().numpy())
    # the first layer's output is dropped at rate p and scaled by 1/(1-p): feed the second
    # layer a known input through a hook on F.dropout's result
    seen = []
    orig = nt.nn.functional.dropout

    def spy(input, p=0.5, training=True, inplace=False):
        out = orig(input, p, training, inplace)
        seen.append((input.detach().numpy(), out.detach().numpy(), p, training))
        return out
    nt.nn.modules.rnn.F.dropout = spy
    try:
        m(x)
    finally:
        nt.nn.modules.rnn.F.dropout = orig
    assert len(seen) == 1
    inp, out, p, training = seen[0]
    assert p == 0.5 and training
    kept = out != 0
    assert 0.4 < kept.mean() < 0.6
    np.testing.assert_allclose(out[kept], inp[kept] * 2, rtol=1e-6)


def test_dropout_gradient_flows_through_kept_units():
    nt.manual_seed(1)
    m = nt.nn.GRU(3, 6, num_layers=3, dropout=0.3, bidirectional=True)
    x = nt.randn(4, 2, 3, requires_grad=True)
    m(x)[0].sum().backward()
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()
    assert all(p.grad is not None for p in m.parameters())


def test_replaced_weight_tensor_is_used():
    """Assigning a plain tensor in place of a parameter (as reparametrisations do) is read on
    the next call, as torch's _flat_weights follow attribute assignment."""
    outs = []
    for lib in (nt, torch):
        lib.manual_seed(0)
        m = lib.nn.RNN(2, 3)
        w = lib.ones(3, 3, requires_grad=True)
        del m.weight_hh_l0
        m.weight_hh_l0 = w * 0.1
        y, _ = m(lib.ones(4, 1, 2))
        y.sum().backward()
        outs.append((m._flat_weights[1] is m.weight_hh_l0, w.grad is not None))
    assert outs[0] == outs[1] == (True, True)
