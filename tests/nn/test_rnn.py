"""RNN / LSTM / GRU parity with torch: the same weights (copied through state_dict), the same
input and initial states, compared on outputs, final states, and the gradients of the input,
the initial states and every parameter under fixed random upstream gradients."""
import itertools

import numpy as np
import pytest
import torch

import numtorch as nt

# float32: torch.testing.assert_close's defaults; float64: tight.
TOL = {"float32": dict(rtol=1.3e-6, atol=1e-5), "float64": dict(rtol=1e-7, atol=1e-9)}

I, H, P, T, N = 3, 5, 2, 4, 3
MODES = {"RNN_TANH": ("RNN", {}), "RNN_RELU": ("RNN", {"nonlinearity": "relu"}),
         "LSTM": ("LSTM", {}), "LSTM_PROJ": ("LSTM", {"proj_size": P}), "GRU": ("GRU", {})}


def build(lib, mode, dtype, **kw):
    cls, extra = MODES[mode]
    m = getattr(lib.nn, cls)(I, H, **extra, **kw)
    return m.to(getattr(lib, dtype))


def copy_weights(src, dst, lib):
    """Load ``src``'s state_dict into ``dst`` (of library ``lib``)."""
    dst.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in src.state_dict().items()})


def state_shapes(m, batch):
    L = m.num_layers * (2 if m.bidirectional else 1)
    hout = m.proj_size if getattr(m, "proj_size", 0) else m.hidden_size
    shapes = [(L, batch, hout) if batch else (L, hout)]
    if m.mode == "LSTM":
        shapes.append((L, batch, m.hidden_size) if batch else (L, m.hidden_size))
    return shapes


def run(lib, m, x, states, grads, lengths=None):
    """Forward + backward of ``m`` in ``lib``; returns the values and gradients as arrays.

    ``states``: initial states (arrays) or None; ``grads``: upstream gradients of the (padded)
    output and of each final state; ``lengths``: pack the padded input (enforce_sorted=False).
    """
    xt = lib.tensor(x, requires_grad=True)
    st = None if states is None else [lib.tensor(s, requires_grad=True) for s in states]
    inp = xt
    if lengths is not None:
        inp = lib.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first=m.batch_first,
                                                     enforce_sorted=False)
    hx = None if st is None else (st[0] if len(st) == 1 else tuple(st))
    out, hn = m(inp, hx)
    if lengths is not None:
        assert isinstance(out, lib.nn.utils.rnn.PackedSequence)
        out, _ = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=m.batch_first,
                                                      total_length=x.shape[1 if m.batch_first
                                                                           else 0])
    finals = list(hn) if isinstance(hn, tuple) else [hn]
    loss = sum((t * lib.tensor(g)).sum() for t, g in zip([out] + finals, grads))
    loss.backward()
    values = [t.detach().numpy().copy() for t in [out] + finals]
    gs = [xt.grad] + ([] if st is None else [s.grad for s in st])
    gs += [p.grad for _, p in sorted(m.named_parameters())]
    return values, [g.numpy().copy() for g in gs]


def compare(ours, ref, dtype, what=""):
    for k, (a, b) in enumerate(zip(ours[0] + ours[1], ref[0] + ref[1])):
        assert a.shape == b.shape and a.dtype == b.dtype, f"{what} #{k}: {a.shape} vs {b.shape}"
        np.testing.assert_allclose(a, b, err_msg=f"{what} #{k}", **TOL[dtype])
    assert len(ours[0]) + len(ours[1]) == len(ref[0]) + len(ref[1])


def parity(mode, dtype, *, batched=True, init=True, lengths=None, seed=0, reverse_copy=False,
           **kw):
    rng = np.random.default_rng(seed)
    tm = build(torch, mode, dtype, **kw)
    m = build(nt, mode, dtype, **kw)
    if reverse_copy:
        copy_weights(m, tm, torch)
    else:
        copy_weights(tm, m, nt)
    bf = kw.get("batch_first", False)
    xshape = ((N, T, I) if bf else (T, N, I)) if batched else (T, I)
    x = rng.standard_normal(xshape).astype(dtype)
    shapes = state_shapes(tm, N if batched else 0)
    states = [rng.standard_normal(s).astype(dtype) for s in shapes] if init else None
    with torch.no_grad():
        out, _ = tm(torch.tensor(x))
    oshape = out.shape
    grads = [rng.standard_normal(oshape).astype(dtype)]
    grads += [rng.standard_normal(s).astype(dtype) for s in shapes]
    if lengths is not None:                       # padded steps get no gradient
        mask = np.arange(T)[:, None] < np.asarray(lengths)[None, :]
        grads[0] *= (mask.T if bf else mask)[..., None]
    ref = run(torch, tm, x, states, grads, lengths)
    ours = run(nt, m, x, states, grads, lengths)
    compare(ours, ref, dtype, f"{mode} {kw}")


# (bias, batch_first, initial state) in three combinations that cover each value
VARIANTS = [(True, False, True), (False, True, True), (True, True, False)]
GRID = list(itertools.product(MODES, (1, 2), (False, True), VARIANTS))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode,layers,bidir,variant", GRID,
                         ids=[f"{m}-L{n}-{'bi' if b else 'uni'}-{v}" for m, n, b, v in GRID])
def test_module_matches_torch(mode, layers, bidir, variant, dtype):
    bias, batch_first, init = variant
    parity(mode, dtype, init=init, num_layers=layers, bidirectional=bidir, bias=bias,
           batch_first=batch_first)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_unsorted_matches_torch(mode, batch_first, dtype):
    parity(mode, dtype, lengths=[2, 4, 1], num_layers=2, bidirectional=True,
           batch_first=batch_first)
    parity(mode, dtype, lengths=[3, 1, 4], init=False, batch_first=batch_first, seed=1)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("init", [False, True])
def test_unbatched_matches_torch(mode, init):
    parity(mode, "float64", batched=False, init=init, num_layers=2, bidirectional=True)


@pytest.mark.parametrize("mode", list(MODES))
def test_weights_load_into_torch(mode):
    parity(mode, "float64", reverse_copy=True, num_layers=2)


def test_packed_sorted_and_packed_sequence_fields():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((T, N, I)).astype("float32")
    tm, m = build(torch, "LSTM", "float32"), build(nt, "LSTM", "float32")
    copy_weights(tm, m, nt)
    tp = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), [4, 3, 1])
    p = nt.nn.utils.rnn.pack_padded_sequence(nt.tensor(x), [4, 3, 1])
    (to, (th, tc)), (o, (h, c)) = tm(tp), m(p)
    assert o.sorted_indices is None and o.unsorted_indices is None
    np.testing.assert_array_equal(o.batch_sizes.numpy(), to.batch_sizes.numpy())
    for a, b in ((o.data, to.data), (h, th), (c, tc)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL["float32"])


def test_zero_batch():
    for lib in (nt, torch):
        lib.manual_seed(0)
    tm, m = build(torch, "GRU", "float64"), build(nt, "GRU", "float64")
    copy_weights(tm, m, nt)
    x = np.random.default_rng(0).standard_normal((T, 0, I))
    (to, th), (o, h) = tm(torch.tensor(x)), m(nt.tensor(x))
    assert tuple(o.shape) == tuple(to.shape) and tuple(h.shape) == tuple(th.shape)


def test_eval_mode_and_no_grad_match_training_values():
    tm, m = build(torch, "LSTM", "float64", num_layers=2), build(nt, "LSTM", "float64",
                                                                  num_layers=2)
    copy_weights(tm, m, nt)
    x = np.random.default_rng(0).standard_normal((T, N, I))
    with torch.no_grad():
        ref = tm(torch.tensor(x))[0].numpy()
    with nt.no_grad():
        a = m(nt.tensor(x))[0].numpy()
    m.eval()
    b = m(nt.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(a, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b, ref, rtol=1e-12, atol=1e-12)


def test_training_steps_match_torch():
    """A few SGD steps on an LSTM + Linear model: the losses and parameters stay equal."""
    def model(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = lib.nn.LSTM(I, H, num_layers=2, batch_first=True)
                self.head = lib.nn.Linear(H, 2)

            def forward(self, x):
                return self.head(self.rnn(x)[0][:, -1])
        return Net().double()
    tm, m = model(torch), model(nt)
    copy_weights(tm, m, nt)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((N, T, I)), rng.integers(0, 2, N)
    losses = []
    for lib, net in ((torch, tm), (nt, m)):
        run_losses = []
        for _ in range(3):
            net.zero_grad()
            loss = lib.nn.functional.cross_entropy(net(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            with lib.no_grad():
                for q in net.parameters():
                    q -= 0.5 * q.grad
            run_losses.append(loss.item())
        losses.append(run_losses)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-10)
    for (k, a), (_, b) in zip(sorted(m.state_dict().items()), sorted(tm.state_dict().items())):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def test_prev_rows_is_a_slice_of_the_shifted_states():
    """ops.rnn._prev_rows (a block of the states entering each row's step) against _prev."""
    from numtorch.ops import rnn
    rng = np.random.default_rng(0)
    for steps, batch, reverse in itertools.product((1, 2, 5), (1, 3), (False, True)):
        S = steps * batch
        seq, init = rng.standard_normal((S, 2)), rng.standard_normal((batch, 2))
        bs = (batch,) * steps
        full = rnn._prev(seq, init, bs, reverse)
        for a in range(S + 1):
            for b in range(a, S + 1):
                assert np.array_equal(rnn._prev_rows(seq, init, bs, reverse, slice(a, b)),
                                      full[a:b])
    bs = (3, 2, 2, 1)                                   # packed: falls back to _prev
    seq, init = rng.standard_normal((8, 2)), rng.standard_normal((3, 2))
    assert np.array_equal(rnn._prev_rows(seq, init, bs, True, slice(2, 6)),
                          rnn._prev(seq, init, bs, True)[2:6])


# --- the LSTM's compiled step kernels (ops/_rnn_jit.py, numba) and its NumPy path -----------

@pytest.fixture
def lstm_kernel_calls(kernel_calls):
    """Compiled kernels on (skipped without numba); counts the calls of each step kernel."""
    return kernel_calls("numtorch.ops._rnn_jit", "lstm_forward_step", "lstm_backward_step")


LSTM_CASES = [dict(num_layers=2, bidirectional=True), dict(bias=False, batch_first=True),
              dict(init=False, num_layers=2), dict(batched=False, bidirectional=True),
              dict(lengths=[2, 4, 1], bidirectional=True, batch_first=True),
              dict(lengths=[3, 1, 4], init=False)]


@pytest.mark.parametrize("case", range(len(LSTM_CASES)))
def test_lstm_numpy_path_matches_torch(case, kernels_off):
    """The path taken without numba (or with NUMTORCH_JIT=0), float32."""
    parity("LSTM", "float32", **LSTM_CASES[case])


@pytest.mark.parametrize("case", range(len(LSTM_CASES)))
def test_lstm_kernels_match_torch(case, lstm_kernel_calls):
    parity("LSTM", "float32", **LSTM_CASES[case])
    assert lstm_kernel_calls["lstm_forward_step"] and lstm_kernel_calls["lstm_backward_step"]


def test_lstm_kernels_not_used_for_float64_or_projection(lstm_kernel_calls):
    parity("LSTM", "float64", num_layers=2)
    parity("LSTM_PROJ", "float32", bidirectional=True)
    assert lstm_kernel_calls == {"lstm_forward_step": 0, "lstm_backward_step": 0}


def test_lstm_kernels_match_torch_at_benchmark_size(lstm_kernel_calls):
    """Wide enough (H = 128) that the kernels' vectorised loops run, not just their tails."""
    global I, H, T, N
    saved = I, H, T, N
    I, H, T, N = 32, 128, 12, 16
    try:
        parity("LSTM", "float32", bidirectional=True)
        parity("LSTM", "float32", lengths=list(range(12, 4, -1)) * 2, init=False)
    finally:
        I, H, T, N = saved
    assert lstm_kernel_calls["lstm_backward_step"]


def test_lstm_backward_kernel_equals_numpy_backward_bit_for_bit(lstm_kernel_calls):
    """Same forward (the NumPy path's): the kernel's backward gives the NumPy backward's bits,
    packed and padded, both directions."""
    from numtorch.backend import jit
    rng = np.random.default_rng(5)
    m = nt.nn.LSTM(6, 40, bidirectional=True)
    x = rng.standard_normal((7, 5, 6)).astype("float32")
    g = rng.standard_normal((7, 5, 80)).astype("float32")
    for lengths in (None, [7, 3, 5, 1, 2]):
        grads = []
        for compiled in (False, True):
            m.zero_grad()
            xt = nt.tensor(x, requires_grad=True)
            inp = xt if lengths is None else nt.nn.utils.rnn.pack_padded_sequence(
                xt, lengths, enforce_sorted=False)
            jit.set_enabled(False)
            out, (h, c) = m(inp)
            if lengths is not None:
                out = nt.nn.utils.rnn.pad_packed_sequence(out, total_length=7)[0]
            jit.set_enabled(compiled)
            ((out * nt.tensor(g)).sum() + h.sum() + (c * c).sum()).backward()
            grads.append([xt.grad.numpy().copy()] + [p.grad.numpy().copy()
                                                      for p in m.parameters()])
        for a, b in zip(*grads):
            np.testing.assert_array_equal(a, b)


def test_jit_tanh_within_7_ulp():
    pytest.importorskip("numba")
    from numtorch.ops import _rnn_jit
    x = np.linspace(-12, 12, 200_001, dtype=np.float32)
    x = np.concatenate([x, np.float32([0, -0.0, 1e-30, -1e-6, np.inf, -np.inf])])
    ours = np.array([_rnn_jit._tanh(v) for v in x[::50]] +
                    [_rnn_jit._tanh(v) for v in x[-6:]], dtype=np.float64)
    xs = np.concatenate([x[::50], x[-6:]]).astype(np.float64)
    exact = np.tanh(xs)
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert np.all(np.abs(ours - exact) <= 7 * ulp)
    assert np.isnan(_rnn_jit._tanh(np.float32("nan")))


def test_lstm_kernels_propagate_nan(lstm_kernel_calls):
    m = nt.nn.LSTM(3, 20)
    x = np.ones((4, 2, 3), np.float32)
    x[1, 0, 2] = np.nan
    out = m(nt.tensor(x))[0].detach().numpy()
    assert np.isnan(out[1:, 0]).all() and not np.isnan(out[0]).any() and \
        not np.isnan(out[:, 1]).any()
