"""Intra-op parallelism: split an op's batch across worker threads.

NumPy releases the GIL inside ufunc loops, copies and BLAS calls, so the per-sample work of a
convolution or pooling layer runs truly in parallel when the batch is cut into one contiguous
block per thread. PyTorch parallelises these kernels over its intra-op thread pool the same way;
without it numtorch ran them on one core of two.

``run(fn, parts)`` calls ``fn(part)`` for every part, the first in the calling thread and the
others in a small pool of daemon threads, and returns the results in order. Exceptions are
re-raised in the caller. A call made from inside a worker (nested parallelism) runs serially.
The pool is created on first use, is sized by :func:`get_num_threads`, and is dropped in a forked
child (DataLoader workers), which makes its own if it needs one. ``submit(fn, arg)`` hands one
call to a worker and returns at once (a :class:`Pending`), for work that can overlap the
caller's own (the recurrent layers' weight-gradient products during their recurrence); its
``steal()`` takes a call back to run in the caller when no worker has started it yet.

BLAS: numtorch owns the parallelism. On import it sets NumPy's bundled OpenBLAS to one thread
and splits large matrix products itself (:func:`matmul`: blocks of rows, or of the leading batch
axis, each the same BLAS call on fewer rows, so the bits do not change). Measured on 2 cores:
OpenBLAS's idle threads spin for a long while after each multi-threaded product, and spinning
threads fight any parallel work that follows for the cores (the seed CNN's inference took
8.4 ms with both pools active against 3.8 ms with ours alone). Waking one of our sleeping
threads costs ~30 us on a small VM (a lock round trip ~60 us), so only ops of a few hundred
microseconds are split. Side effect: NumPy products the user makes in the same process run on
one thread too. ``NUMTORCH_BLAS_THREADS=n`` (n > 1) keeps n OpenBLAS threads instead, and then
numtorch leaves matrix products to OpenBLAS. With another BLAS library nothing is changed.
"""
from __future__ import annotations

import ctypes
import glob
import os
import threading
from queue import SimpleQueue

import numpy as _np

_np_matmul = _np.matmul

#: below this many elements of work an op is not split (a hand-off costs ~10-30 us)
MIN_WORK = 1 << 16
#: the calling thread's block, relative to each worker's (see ``split``)
MAIN_SHARE = 1.2

_num_threads: int | None = None
_pool: "_Pool | None" = None
_local = threading.local()


def _default_threads() -> int:
    env = os.environ.get("OMP_NUM_THREADS")
    try:
        n = int(env) if env else 0
    except ValueError:
        n = 0
    return n if n > 0 else (os.cpu_count() or 1)


def get_num_threads() -> int:
    """Threads an op may use (``set_num_threads``, else OMP_NUM_THREADS, else the core count)."""
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_threads()
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for intra-op parallelism (``n >= 1``)."""
    global _num_threads, _pool
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, but got {n}")
    _num_threads = n
    if _pool is not None and _pool.size != n - 1:
        _pool.stop()
        _pool = None


class _Stolen(Exception):
    """Raised in a worker by a submitted call that its caller took back to run itself."""


class _Pool:
    """``size`` daemon threads taking ``(fn, part, done, box)`` tasks from one queue."""

    def __init__(self, size: int):
        self.size = size
        self.tasks: SimpleQueue = SimpleQueue()
        self.threads = [threading.Thread(target=self._work, name=f"numtorch-op-{i}", daemon=True)
                        for i in range(size)]
        for t in self.threads:
            t.start()

    def _work(self):
        _local.inside = True
        while True:
            task = self.tasks.get()
            if task is None:
                return
            fn, part, done, box = task
            try:
                value = (True, fn(part))
            except _Stolen:             # a submit()ted call its caller ran (Pending.steal)
                continue
            except BaseException as e:  # noqa: BLE001  (re-raised in the caller)
                value = (False, e)
            box.append(value)
            done.release()

    def stop(self):
        for _ in self.threads:
            self.tasks.put(None)


def _find_openblas():
    """(get_num_threads, set_num_threads) of NumPy's bundled OpenBLAS, or None."""
    try:
        import numpy
        libs = os.path.join(os.path.dirname(os.path.dirname(numpy.__file__)), "numpy.libs")
        for path in sorted(glob.glob(os.path.join(libs, "libscipy_openblas*"))):
            lib = ctypes.CDLL(path)
            for suffix in ("64_", ""):
                get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
                put = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    put.argtypes = [ctypes.c_int]
                    return get, put
    except (OSError, AttributeError, ImportError):
        pass
    return None


_BLAS = _find_openblas()


def _blas_threads_from_env() -> int:
    try:
        return max(1, int(os.environ.get("NUMTORCH_BLAS_THREADS", "1")))
    except ValueError:
        return 1


_BLAS_THREADS = _blas_threads_from_env() if _BLAS is not None else 0
if _BLAS is not None:
    _BLAS[1](_BLAS_THREADS)

#: a matrix product is split across threads from this many multiply-adds up, into blocks of at
#: least this many rows
MATMUL_MIN_WORK = 1 << 20
MATMUL_MIN_ROWS = 8


def _forget_pool():  # in a forked child the pool's threads do not exist
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def split(n: int, work: int) -> list:
    """Contiguous slices of ``range(n)``, one per thread, or one slice when the job (``work``
    elements in all) is too small to be worth splitting or we already run inside a worker."""
    if work < MIN_WORK or n < 2:                # the common case on small inputs: decide cheaply
        return [slice(0, n)]
    k = get_num_threads()
    if k < 2 or getattr(_local, "inside", False):
        return [slice(0, n)]
    k = min(k, n, max(1, work // MIN_WORK))
    if k < 2:
        return [slice(0, n)]
    # the calling thread's block (the first) is ~10% larger: the workers start ~30 us late
    # (waking a sleeping thread), and the caller should not have to sleep waiting for them
    first = min(n - k + 1, max(1, round(n * MAIN_SHARE / (MAIN_SHARE + k - 1))))
    q, r = divmod(n - first, k - 1)
    out, a = [slice(0, first)], first
    for i in range(k - 1):
        b = a + q + (i < r)
        out.append(slice(a, b))
        a = b
    return out


def _get_pool(workers: int) -> _Pool:
    """The pool, (re)made with at least ``workers`` threads."""
    global _pool
    pool = _pool
    if pool is None or pool.size < workers:
        if pool is not None:
            pool.stop()
        pool = _pool = _Pool(max(workers + 1, get_num_threads()) - 1)
    return pool


def run(fn, parts) -> list:
    """``[fn(p) for p in parts]``, the parts after the first in the worker threads."""
    if len(parts) == 1:
        return [fn(parts[0])]
    pool = _get_pool(len(parts) - 1)
    blas = _BLAS[0]() if _BLAS is not None else 1
    if blas != 1:
        _BLAS[1](1)
    waits = []
    for p in parts[1:]:
        done = threading.Lock()
        done.acquire()
        box: list = []
        pool.tasks.put((fn, p, done, box))
        waits.append((done, box))
    _local.inside = True
    try:
        first = fn(parts[0])
    finally:
        _local.inside = False
        for done, _ in waits:       # wait for all, even after a failure: they write our arrays
            done.acquire()
        if blas != 1:
            _BLAS[1](blas)
    results = [first]
    for _, box in waits:
        ok, value = box[0]
        if not ok:
            raise value
        results.append(value)
    return results


class Pending:
    """The result of a call that :func:`submit` handed to a worker thread."""

    __slots__ = ("_done", "_box", "_call")

    def __init__(self, done, box, call=None) -> None:
        self._done, self._box, self._call = done, box, call

    @property
    def handed_off(self) -> bool:
        """True while the call is a worker's (queued or running) and not yet waited for."""
        return self._done is not None

    def steal(self) -> bool:
        """Run the call here if no worker has started it yet (the caller has nothing else to
        do but wait: the last shares of a recurrent layer's backward). True if it ran here."""
        call, self._call = self._call, None
        if call is None or self._done is None:
            return False
        fn, arg, claim = call
        if not claim.acquire(blocking=False):
            return False
        self._done = None           # (no worker will release it now)
        try:
            self._box.append((True, fn(arg)))
        except Exception as e:  # noqa: BLE001  (raised by result(), as from a worker)
            self._box.append((False, e))
        except BaseException as e:
            self._box.append((False, e))
            raise
        return True

    def wait(self) -> None:
        """Block until the call has finished (returns even when it raised)."""
        if self._done is not None:
            self._done.acquire()
            self._done = None
        self._call = None           # (it may refer to the caller's objects, which refer to us)

    def result(self):
        """The call's return value (waiting for it); its exception is raised here."""
        self.wait()
        ok, value = self._box[0]
        if not ok:
            raise value
        return value


def submit(fn, arg, here: bool = False) -> Pending:
    """Start ``fn(arg)`` on a worker thread and return at once, so the caller can go on with
    other work meanwhile (overlapping, say, the weight-gradient products of a recurrent layer
    with its backward recurrence). It runs here and now instead when ``here`` is true (the job
    is too small to hand off), when there is one thread, when called from a worker, or when
    OpenBLAS keeps its own threads; its exception is then raised by ``result()`` all the same.
    ``fn`` should spend its time in long NumPy calls, which release the GIL. The caller must
    ``wait`` for every Pending before it lets go of arrays the call writes, even when it fails
    itself."""
    if here or get_num_threads() < 2 or _BLAS_THREADS > 1 or getattr(_local, "inside", False):
        try:
            box = [(True, fn(arg))]
        except Exception as e:  # noqa: BLE001  (raised by result(), as from a worker)
            box = [(False, e)]
        return Pending(None, box)
    pool = _get_pool(1)
    done = threading.Lock()
    done.acquire()
    box: list = []
    claim = threading.Lock()        # taken by whoever runs the call: a worker or steal()

    def call(a):
        if not claim.acquire(blocking=False):
            raise _Stolen
        return fn(a)
    pool.tasks.put((call, arg, done, box))
    return Pending(done, box, (fn, arg, claim))


def matmul(a, b, out=None):
    """``numpy.matmul(a, b)``, with the rows of the result (or its leading batch axis) computed
    in blocks on the threads when the product is large; the bits are those of one call."""
    if a.size * b.size < MATMUL_MIN_WORK:      # bounds the work below: most calls stop here
        if out is None and a.ndim == 2 and b.ndim == 2:
            # a third of np.matmul's call overhead; it may pick gemv or syrk where matmul
            # picks gemm (last bits can differ), but the choice depends only on the shapes
            return a.dot(b)
        return _np_matmul(a, b, out=out)
    if a.ndim < 2 or b.ndim < 2 or max(a.size * b.shape[-1], b.size * a.shape[-2]) < \
            MATMUL_MIN_WORK or _BLAS_THREADS != 1 or getattr(_local, "inside", False) or \
            get_num_threads() < 2:
        return _np_matmul(a, b, out=out)
    M, K, N = a.shape[-2], a.shape[-1], b.shape[-1]
    work = max(a.size * N, b.size * M)
    if out is None:
        out = _np.empty(_np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (M, N),
                        _np.result_type(a, b))
    if out.ndim > 2 and a.ndim == b.ndim and a.shape[0] == b.shape[0] == out.shape[0] and \
            out.shape[0] >= 2 and M * K * N < MATMUL_MIN_WORK:
        parts = split(out.shape[0], work)       # many small products: split the batch
        run(lambda s: _np_matmul(a[s], b[s], out=out[s]), parts)
        return out
    parts = split(M, work)
    if len(parts) == 1 or M // len(parts) < MATMUL_MIN_ROWS:
        return _np_matmul(a, b, out=out)
    run(lambda s: _np_matmul(a[..., s, :], b, out=out[..., s, :]), parts)
    return out
