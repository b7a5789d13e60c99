"""RNNCell / LSTMCell / GRUCell against torch, and the oracle cases of the recurrent primitives
(numtorch.ops.rnn): each case runs a layer or cell in both libraries with the same weights
(given as input tensors, so their gradients are compared) and through float64 gradcheck."""
import numpy as np
import pytest
import torch

import numtorch as nt
from tests.oracle.harness import Case, check_case, gradcheck_case, register

I, H, P, T, N = 3, 4, 2, 4, 3


def with_weights(m, tensors):
    """``m`` with its parameters replaced, in order, by the given tensors (so that the case's
    inputs are the weights and get gradients in both libraries)."""
    for (name, _), t in zip(list(m.named_parameters()), tensors):
        delattr(m, name)
        setattr(m, name, t)
    return m


def flat(lib, *ts):
    return lib.cat([t.reshape(-1) for t in ts])


def layer_fn(cls, lengths=None, **kw):
    """fn(lib, x, h0[, c0], *weights) running a one-layer ``cls`` over x (T, N, I)."""
    lstm = cls == "LSTM"

    def fn(lib, x, h0, *rest):
        c0, ws = (rest[0], rest[1:]) if lstm else (None, rest)
        m = with_weights(getattr(lib.nn, cls)(I, H, **kw).double(), ws)
        hx = (h0, c0) if lstm else h0
        inp = x
        if lengths is not None:
            inp = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        y, hn = m(inp, hx)
        if lengths is not None:
            y = lib.nn.utils.rnn.pad_packed_sequence(y)[0]
        return flat(lib, y, *(hn if lstm else (hn,)))
    return fn


def layer_shapes(cls, gates, bidir=False, proj=0, bias=True):
    D = 2 if bidir else 1
    hout = proj or H
    shapes = [(T, N, I), (D, N, hout)] + ([(D, N, H)] if cls == "LSTM" else [])
    for _ in range(D):
        shapes += [(gates * H, I), (gates * H, hout)]
        shapes += [(gates * H,), (gates * H,)] if bias else []
        shapes += [(proj, H)] if proj else []
    return shapes


def cell_fn(cls, **kw):
    lstm = cls == "LSTMCell"

    def fn(lib, x, h, *rest):
        c, ws = (rest[0], rest[1:]) if lstm else (None, rest)
        m = with_weights(getattr(lib.nn, cls)(I, H, **kw).double(), ws)
        out = m(x, (h, c) if lstm else h)
        return flat(lib, *out) if lstm else out
    return fn


def cell_shapes(gates, bias=True, lstm=False):
    return [(N, I), (N, H)] + ([(N, H)] if lstm else []) + [(gates * H, I), (gates * H, H)] + \
        ([(gates * H,), (gates * H,)] if bias else [])


CASES = register(
    Case("rnn_layer_tanh", layer_fn("RNN"), shapes=layer_shapes("RNN", 1)),
    Case("rnn_layer_relu_bidir", layer_fn("RNN", nonlinearity="relu", bidirectional=True),
         shapes=layer_shapes("RNN", 1, bidir=True)),
    Case("rnn_layer_packed_nobias", layer_fn("RNN", lengths=[2, 4, 1], bias=False),
         shapes=layer_shapes("RNN", 1, bias=False)),
    Case("lstm_layer", layer_fn("LSTM"), shapes=layer_shapes("LSTM", 4)),
    Case("lstm_layer_proj_bidir", layer_fn("LSTM", proj_size=P, bidirectional=True),
         shapes=layer_shapes("LSTM", 4, bidir=True, proj=P)),
    Case("lstm_layer_packed_bidir", layer_fn("LSTM", lengths=[3, 4, 1], bidirectional=True),
         shapes=layer_shapes("LSTM", 4, bidir=True)),
    Case("gru_layer", layer_fn("GRU"), shapes=layer_shapes("GRU", 3)),
    Case("gru_layer_packed_bidir_nobias",
         layer_fn("GRU", lengths=[1, 4, 2], bidirectional=True, bias=False),
         shapes=layer_shapes("GRU", 3, bidir=True, bias=False)),
    Case("rnn_cell_tanh", cell_fn("RNNCell"), shapes=cell_shapes(1)),
    Case("rnn_cell_relu_nobias", cell_fn("RNNCell", nonlinearity="relu", bias=False),
         shapes=cell_shapes(1, bias=False)),
    Case("lstm_cell", cell_fn("LSTMCell"), shapes=cell_shapes(4, lstm=True)),
    Case("gru_cell", cell_fn("GRUCell"), shapes=cell_shapes(3)),
)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    check_case(case, dtype)


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=lambda c: c.name)
def test_gradcheck(case):
    gradcheck_case(case)


# ---- the cell modules ---------------------------------------------------------------------
CELLS = {"RNNCell": 1, "RNNCell_relu": 1, "LSTMCell": 4, "GRUCell": 3}


def make_cell(lib, name, dtype, bias=True):
    kw = {"nonlinearity": "relu"} if name.endswith("relu") else {}
    return getattr(lib.nn, name.split("_")[0])(I, H, bias=bias, **kw).to(getattr(lib, dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("batched,given,bias", [(True, True, True), (False, True, False),
                                                (True, False, False), (False, False, True)])
def test_cell_module_matches_torch(name, dtype, batched, given, bias):
    rng = np.random.default_rng(0)
    tm, m = make_cell(torch, name, dtype, bias), make_cell(nt, name, dtype, bias)
    m.load_state_dict({k: nt.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    lstm = name == "LSTMCell"
    lead = (N,) if batched else ()
    x = rng.standard_normal(lead + (I,)).astype(dtype)
    hs = [rng.standard_normal(lead + (H,)).astype(dtype) for _ in range(2 if lstm else 1)]
    gs = [rng.standard_normal(lead + (H,)).astype(dtype) for _ in range(2 if lstm else 1)]
    results = []
    for lib, mod in ((torch, tm), (nt, m)):
        xt = lib.tensor(x, requires_grad=True)
        ht = [lib.tensor(h, requires_grad=True) for h in hs]
        hx = (tuple(ht) if lstm else ht[0]) if given else None
        out = mod(xt, hx)
        outs = list(out) if lstm else [out]
        sum((o * lib.tensor(g)).sum() for o, g in zip(outs, gs)).backward()
        grads = [xt] + (ht if given else []) + [p for _, p in sorted(mod.named_parameters())]
        results.append([o.detach().numpy() for o in outs] + [t.grad.numpy() for t in grads])
    tol = dict(rtol=1.3e-6, atol=1e-5) if dtype == "float32" else dict(rtol=1e-7, atol=1e-9)
    assert len(results[0]) == len(results[1])
    for a, b in zip(results[1], results[0]):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **tol)


def test_cell_gradcheck_through_autograd_gradcheck():
    nt.manual_seed(0)
    for cls in (nt.nn.RNNCell, nt.nn.LSTMCell, nt.nn.GRUCell):
        m = cls(I, H).double()
        x = nt.randn(N, I, dtype=nt.float64, requires_grad=True)
        h = nt.randn(N, H, dtype=nt.float64, requires_grad=True)
        if cls is nt.nn.LSTMCell:
            c = nt.randn(N, H, dtype=nt.float64, requires_grad=True)
            assert nt.autograd.gradcheck(lambda x, h, c: flat(nt, *m(x, (h, c))), (x, h, c))
        else:
            assert nt.autograd.gradcheck(lambda x, h: m(x, h), (x, h))


CELL_ERRORS = {
    "input_dim": lambda lib, m, two: m(lib.zeros(2, 3, 10)),
    "input_size": lambda lib, m, two: m(lib.zeros(3, 7)),
    "hidden_size": lambda lib, m, two: m(lib.zeros(3, 10), _hx(lib, two, (3, 21), (3, 20))),
    "hidden_batch": lambda lib, m, two: m(lib.zeros(3, 10), _hx(lib, two, (4, 20), (3, 20))),
    "cell_size": lambda lib, m, two: m(lib.zeros(3, 10), _hx(lib, two, (3, 20), (3, 19))),
    "hidden_dim": lambda lib, m, two: m(lib.zeros(3, 10), _hx(lib, two, (2, 3, 20), (3, 20))),
    "unbatched_hidden_2d": lambda lib, m, two: m(lib.zeros(10), _hx(lib, two, (4, 20), (20,))),
    "dtype": lambda lib, m, two: m(lib.zeros(3, 10, dtype=lib.float64)),
}


def _hx(lib, two, s0, s1):
    return (lib.zeros(s0), lib.zeros(s1)) if two else lib.zeros(s0)


@pytest.mark.parametrize("cls,case", [(k, c) for c in CELL_ERRORS
                                      for k in ("RNNCell", "LSTMCell", "GRUCell")
                                      if c != "cell_size" or k == "LSTMCell"])
def test_cell_errors_match_torch(cls, case):
    errs = []
    two = cls == "LSTMCell"
    for lib in (nt, torch):
        with pytest.raises(Exception) as info:
            CELL_ERRORS[case](lib, getattr(lib.nn, cls)(10, 20), two)
        errs.append(info.value)
    assert type(errs[0]) is type(errs[1])
    assert str(errs[0]) == str(errs[1])


def test_cell_repr_parameters_and_bad_nonlinearity():
    for kw in ({}, {"bias": False}, {"nonlinearity": "relu"}):
        assert repr(nt.nn.RNNCell(3, 4, **kw)) == repr(torch.nn.RNNCell(3, 4, **kw))
    for cls in ("LSTMCell", "GRUCell"):
        m, tm = getattr(nt.nn, cls)(3, 4, bias=False), getattr(torch.nn, cls)(3, 4, bias=False)
        assert repr(m) == repr(tm)
        assert [(k, tuple(p.shape)) for k, p in m.named_parameters()] == \
            [(k, tuple(p.shape)) for k, p in tm.named_parameters()]
        assert m.bias_ih is None and m.bias_hh is None
    bound = 1 / np.sqrt(64)
    w = nt.nn.LSTMCell(8, 64).weight_hh.detach().numpy()
    assert np.abs(w).max() <= bound and w.min() < -0.95 * bound and w.max() > 0.95 * bound
    errs = []
    for lib in (nt, torch):
        m = lib.nn.RNNCell(3, 4)
        m.nonlinearity = "foo"
        with pytest.raises(RuntimeError) as info:
            m(lib.zeros(2, 3))
        errs.append(str(info.value))
    assert errs[0] == errs[1]
