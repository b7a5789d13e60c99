"""Intra-op threads (numtorch.backend.threads): the batch-split kernels agree with torch, and the
pool's contract (order, errors, nesting, fork, set_num_threads) holds."""
import os
import threading

import numpy as np
import pytest

import numtorch
from numtorch.backend import threads
from numtorch.ops import rnn
from tests.nn import test_attention, test_conv, test_pool, test_rnn
from tests.oracle import test_linalg
from tests.oracle.harness import Case, check_case


@pytest.fixture
def split_everything(monkeypatch):
    """Split every op that can be split, however small, across 3 threads (uneven blocks)."""
    before = threads.get_num_threads()
    monkeypatch.setattr(threads, "MIN_WORK", 1)
    monkeypatch.setattr(threads, "MATMUL_MIN_WORK", 1)
    monkeypatch.setattr(threads, "MATMUL_MIN_ROWS", 1)
    threads.set_num_threads(3)
    yield
    threads.set_num_threads(before)


CASES = [c for c in test_conv.CASES + test_pool.CASES + test_linalg.CASES +
         test_attention.CASES + test_attention.MHA_CASES] + [
    Case("relu_split", lambda lib, x: x.relu(), shapes=[(5, 3, 4)]),
    Case("relu_split_transposed", lambda lib, x: x.transpose(0, 2).relu(), shapes=[(4, 3, 5)]),
    Case("relu_split_then_broadcast_grad", lambda lib, x: x.relu().sum(), shapes=[(5, 3)]),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_split_kernels_match_torch(case, dtype, split_everything):
    check_case(case, dtype)


def test_split_is_used_and_deterministic(split_everything, monkeypatch):
    calls = []
    real = threads.run
    monkeypatch.setattr(threads, "run", lambda fn, parts: calls.append(len(parts)) or
                        real(fn, parts))
    x = numtorch.randn(7, 3, 12, 12, requires_grad=True)
    conv = numtorch.nn.Conv2d(3, 4, 3, padding=1)
    pool = numtorch.nn.MaxPool2d(2)
    outs = []
    for _ in range(2):
        x.grad = None
        conv.zero_grad()
        y = pool(conv(x))
        y.square().sum().backward()
        outs.append((y.detach().numpy().copy(), x.grad.numpy().copy(),
                     conv.weight.grad.numpy().copy()))
    assert calls and max(calls) == 3
    for a, b in zip(*outs):
        assert np.array_equal(a, b)


def test_run_keeps_order_and_reraises():
    parts = [slice(0, 1), slice(1, 2), slice(2, 3)]
    assert threads.run(lambda s: s.start * 10, parts) == [0, 10, 20]

    def boom(s):
        if s.start == 2:
            raise ValueError("part 2 failed")
        return s.start
    with pytest.raises(ValueError, match="part 2 failed"):
        threads.run(boom, parts)

    def boom_first(s):
        if s.start == 0:
            raise KeyError("first")
        return s.start
    with pytest.raises(KeyError):
        threads.run(boom_first, parts)
    assert threads.run(lambda s: s.start, parts) == [0, 1, 2]   # the pool still works


def test_submit_runs_alongside_and_reraises():
    before = threads.get_num_threads()
    try:
        threads.set_num_threads(2)
        started, go = threading.Event(), threading.Event()

        def job(x):
            started.set()
            assert go.wait(10)      # the caller goes on while the job waits
            return threading.current_thread().name, x * 2
        p = threads.submit(job, 21)
        assert started.wait(10)
        go.set()
        name, value = p.result()
        assert value == 42 and name.startswith("numtorch-op")
        bad = threads.submit(lambda x: 1 / x, 0)
        with pytest.raises(ZeroDivisionError):
            bad.result()
        bad.wait()                                               # waiting again is fine
        threads.set_num_threads(1)                               # one thread: runs at once
        here = threads.submit(lambda x: threading.current_thread().name, None)
        assert here.result() == threading.current_thread().name
        with pytest.raises(ZeroDivisionError):
            threads.submit(lambda x: 1 / x, 0).result()
    finally:
        threads.set_num_threads(before)


@pytest.fixture
def recurrences_on_workers(monkeypatch):
    """Recurrent layers hand every block (of one step and up) to the pool, 2 threads."""
    before = threads.get_num_threads()
    monkeypatch.setattr(rnn, "_BLOCK_MIN_STEPS", 1)
    monkeypatch.setattr(rnn, "_SHARE_MIN_WORK", 1)
    calls = []
    real = threads.submit

    def submit(fn, arg, here=False):
        if not here:
            calls.append(1)             # handed to the pool
        return real(fn, arg, here)
    monkeypatch.setattr(threads, "submit", submit)
    threads.set_num_threads(2)
    yield calls
    threads.set_num_threads(before)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", list(test_rnn.MODES))
def test_recurrent_layers_on_workers_match_torch(mode, dtype, recurrences_on_workers):
    test_rnn.parity(mode, dtype, num_layers=2, bidirectional=True)
    test_rnn.parity(mode, dtype, lengths=[2, 4, 1], bidirectional=True, batch_first=True)
    assert recurrences_on_workers


def test_steal_runs_a_queued_call_here_once():
    before = threads.get_num_threads()
    try:
        threads.set_num_threads(2)
        started, go = threading.Event(), threading.Event()
        ran = []

        def block(_):
            started.set()
            assert go.wait(10)

        def job(x):
            ran.append(threading.current_thread().name)
            return x + 1
        busy = threads.submit(block, None)          # keeps the one worker busy
        assert started.wait(10)
        queued, failing = threads.submit(job, 1), threads.submit(lambda x: 1 / x, 0)
        assert queued.handed_off and not busy.steal()   # running already: not stolen
        assert queued.steal() and not queued.handed_off and not queued.steal()
        assert queued.result() == 2 and ran == [threading.current_thread().name]
        assert failing.steal()
        with pytest.raises(ZeroDivisionError):
            failing.result()
        go.set()
        busy.result()
        done = threads.submit(job, 5)
        assert done.result() == 6 and not done.steal()
        assert len(ran) == 2 and ran[1].startswith("numtorch-op")   # the worker skipped job 1
        assert not threads.submit(job, 0, here=True).steal()
    finally:
        threads.set_num_threads(before)


def test_nested_split_runs_serially(split_everything):
    seen = []

    def outer(s):
        inner = threads.split(10, 1 << 20)
        seen.append((threading.current_thread().name, len(inner)))
        return len(inner)
    assert threads.run(outer, threads.split(4, 1 << 20)) == [1, 1, 1]
    assert len(seen) == 3


def test_set_num_threads_errors_like_torch():
    torch = pytest.importorskip("torch")
    for bad in (0, -1, 1.5):
        with pytest.raises(RuntimeError) as ours:
            numtorch.set_num_threads(bad)
        with pytest.raises(RuntimeError) as theirs:
            torch.set_num_threads(bad)
        assert str(ours.value).split(",")[0] == str(theirs.value).split(",")[0]


def test_split_sizes():
    before = threads.get_num_threads()
    try:
        threads.set_num_threads(2)
        assert threads.split(100, 10) == [slice(0, 100)]             # too little work
        assert threads.split(1, 1 << 30) == [slice(0, 1)]            # one sample
        assert threads.split(5, 1 << 30) == [slice(0, 3), slice(3, 5)]
        threads.set_num_threads(1)
        assert threads.split(100, 1 << 30) == [slice(0, 100)]
    finally:
        threads.set_num_threads(before)
    assert numtorch.get_num_threads() == before


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_makes_its_own_pool(split_everything):
    threads.run(lambda s: None, [slice(0, 1), slice(1, 2)])          # pool exists in the parent
    pid = os.fork()
    if pid == 0:                                                     # child: no inherited threads
        try:
            ok = threads.run(lambda s: s.start, [slice(0, 1), slice(1, 2)]) == [0, 1]
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


@pytest.mark.skipif(threads._BLAS is None, reason="NumPy's bundled OpenBLAS not found")
def test_blas_is_single_threaded_inside_parts_and_restored():
    get, put = threads._BLAS
    before = get()
    put(2)
    try:
        inside = threads.run(lambda s: get(), [slice(0, 1), slice(1, 2)])
        assert inside == [1, 1] and get() == 2
        with pytest.raises(ZeroDivisionError):
            threads.run(lambda s: 1 / 0, [slice(0, 1), slice(1, 2)])
        assert get() == 2
    finally:
        put(before)


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    """A run gives the same bits with 1 thread and with 3 (a resumed run may use another
    count): the batch splits never change a reduction's order."""
    monkeypatch.setattr(threads, "MIN_WORK", 1)
    monkeypatch.setattr(threads, "MATMUL_MIN_WORK", 1)
    # blocks of 2 rows and up: NumPy computes a 1-row product with gemv, whose sums run in
    # another order than gemm's (MATMUL_MIN_ROWS is 8 outside tests)
    monkeypatch.setattr(threads, "MATMUL_MIN_ROWS", 2)
    monkeypatch.setattr(rnn, "_BLOCK_MIN_STEPS", 1)
    monkeypatch.setattr(rnn, "_SHARE_MIN_WORK", 1)
    before = threads.get_num_threads()

    def run(n):
        threads.set_num_threads(n)
        numtorch.manual_seed(0)
        nn = numtorch.nn
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(4, 5, 3, stride=2), nn.Flatten(), nn.Linear(20, 3))
        lstm = nn.LSTM(6, 7, proj_size=3)
        gru = nn.GRU(6, 5, bidirectional=True)
        x, s = numtorch.randn(7, 3, 10, 10), numtorch.randn(9, 7, 6)
        net(x).square().sum().backward()
        lstm(s)[0].square().sum().backward()
        gru(s)[0].square().sum().backward()
        params = list(net.parameters()) + list(lstm.parameters()) + list(gru.parameters())
        return [p.grad.numpy().copy() for p in params]
    try:
        one, three = run(1), run(3)
    finally:
        threads.set_num_threads(before)
    assert len(one) == len(three) > 0
    for a, b in zip(one, three):
        assert np.array_equal(a, b)


@pytest.mark.skipif(threads._BLAS is None, reason="NumPy's bundled OpenBLAS not found")
@pytest.mark.parametrize("env,expected", [(None, "1 True"), ("3", "3 False")])
def test_blas_thread_policy_at_import(env, expected):
    """numtorch holds NumPy's OpenBLAS to one thread and splits products itself, unless
    NUMTORCH_BLAS_THREADS asks for BLAS threads (then products are left to OpenBLAS)."""
    import subprocess
    import sys
    e = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2")
    e.pop("NUMTORCH_BLAS_THREADS", None)
    if env is not None:
        e["NUMTORCH_BLAS_THREADS"] = env
    code = ("import numpy as np, numtorch\nfrom numtorch.backend import threads as t\n"
            "calls = []\nreal = t.run\nt.run = lambda f, p: calls.append(1) or real(f, p)\n"
            "a = np.ones((256, 256), np.float32)\nt.matmul(a, a)\n"
            "print(t._BLAS[0](), bool(calls))")
    out = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True,
                         check=True).stdout.split()
    assert " ".join(out) == expected


def test_recurrent_backward_leaves_no_reference_cycles(recurrences_on_workers):
    """Pending objects must not keep their call (and through it the caller's arrays) alive in a
    cycle: such garbage waits for the cyclic collector, and the peak memory grew by a whole
    backward's buffers per step until it ran."""
    import gc
    m = numtorch.nn.LSTM(4, 8, bidirectional=True)
    x = numtorch.randn(9, 3, 4, requires_grad=True)
    m(x)[0].sum().backward()            # (a first call may compile kernels: cyclic garbage)
    gc.collect()
    gc.disable()
    try:
        for _ in range(2):
            m(x)[0].sum().backward()
        assert gc.collect() == 0
    finally:
        gc.enable()
