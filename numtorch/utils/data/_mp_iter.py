"""The multi-process DataLoader iterator: worker processes, index queues, one result queue.

The main process keeps ``prefetch_factor * num_workers`` tasks in flight, sending task ``i`` to
worker ``i mod num_workers`` (skipping finished ones), and hands results back in task order,
buffering any that arrive early. Workers stop when sent None; the iterator sends it when the
epoch ends, when it is garbage-collected (an early ``break``), or on error paths.
"""
from __future__ import annotations

import itertools
import os
import queue
import weakref

from . import _utils
from ._utils import MP_STATUS_CHECK_INTERVAL, ExceptionWrapper
from ._utils import worker as _worker
from .dataloader import _BaseDataLoaderIter, _DatasetKind, _default_mp_context


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Iterates once (or, with persistent workers, once per ``_reset``) over the dataset."""

    def __init__(self, loader) -> None:
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch_factor <= 0:
            raise AssertionError("prefetch_factor must be greater than 0 for "
                                 "MultiProcessingDataLoaderIter")
        ctx = loader.multiprocessing_context or _default_mp_context()
        self._worker_init_fn = loader.worker_init_fn
        self._workers_status = [True] * self._num_workers
        self._workers = []
        self._index_queues = []
        self._worker_result_queue = ctx.Queue()
        self._workers_done_event = ctx.Event()
        # NOTE: shutdown runs from a weakref.finalize that holds the queues and processes, not
        # from __del__: when the iterator dies inside a reference cycle (say, held by an
        # exception's traceback), the garbage collector would otherwise run the queues' own
        # finalizers first, stopping the feeder threads that must deliver the stop messages.
        self._finalizer = weakref.finalize(
            self, _shutdown_workers, os.getpid(), self._workers, self._index_queues,
            self._workers_done_event, self._workers_status, self._persistent_workers)
        self._finalizer.atexit = False  # at exit multiprocessing terminates daemonic workers
        for i in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            w = ctx.Process(
                target=_worker._worker_loop,
                args=(self._dataset_kind, self._dataset, index_queue,
                      self._worker_result_queue, self._workers_done_event,
                      self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                      self._worker_init_fn, i, self._num_workers, self._persistent_workers,
                      self._shared_seed),
                daemon=True)
            w.start()
            self._index_queues.append(index_queue)
            self._workers.append(w)
        self._data_queue = self._worker_result_queue
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False) -> None:
        super()._reset(loader, first_iter)
        self._send_idx = 0  # the next task to send to a worker
        self._rcvd_idx = 0  # the next task to return from __next__
        self._task_info = {}  # task -> (worker_id,) while outstanding, (worker_id, data) once here
        self._tasks_outstanding = 0
        self._workers_status[:] = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:  # persistent workers: start a new epoch
            for q in self._index_queues:
                q.put(_worker._ResumeIteration(self._shared_seed))
            pending = self._num_workers
            while pending > 0:
                return_idx, _ = self._get_data()
                if isinstance(return_idx, _worker._ResumeIteration):
                    pending -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_get_data(self, timeout=MP_STATUS_CHECK_INTERVAL):
        try:
            return True, self._data_queue.get(timeout=timeout)
        except queue.Empty:
            failed = [(wid, w) for wid, w in enumerate(self._workers)
                      if self._workers_status[wid] and not w.is_alive()]
            for wid, _ in failed:
                self._mark_worker_as_unavailable(wid)
            if failed:
                pids = ", ".join(str(w.pid) for _, w in failed)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") \
                    from None
            return False, None

    def _get_data(self):
        if self._timeout > 0:
            success, data = self._try_get_data(self._timeout)
            if success:
                return data
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        while True:
            success, data = self._try_get_data()
            if success:
                return data

    def _next_data(self):
        while True:
            # Skip tasks of workers that ended (an exhausted IterableDataset copy).
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx, None)
                if info:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if len(self._task_info[self._rcvd_idx]) == 2:  # arrived earlier, out of order
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if self._dataset_kind == _DatasetKind.Iterable and \
                    isinstance(data, _worker._IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    worker_id = self._task_info.pop(idx)[0]
                    return self._process_data(data, worker_id)
                self._task_info[idx] += (data,)
            else:
                worker_id = self._task_info.pop(idx)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

    def _try_put_index(self) -> None:
        max_tasks = self._prefetch_factor * self._num_workers
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next active worker, if any
            worker_queue_idx = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_queue_idx]:
                if self._in_order or self._workers_num_tasks[worker_queue_idx] < \
                        max_tasks // sum(self._workers_status):
                    break
        else:
            return
        self._index_queues[worker_queue_idx].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_queue_idx,)
        self._workers_num_tasks[worker_queue_idx] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data, worker_idx):
        self._workers_num_tasks[worker_idx] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _mark_worker_as_unavailable(self, worker_id, shutdown=False) -> None:
        """Tell a worker to exit (it may still be finishing a task) and send it no more work."""
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self) -> None:
        """Stop the workers now (idempotent); also runs when the iterator is collected."""
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer()


def _shutdown_workers(owner_pid, workers, index_queues, done_event, workers_status,
                      persistent) -> None:
    """Ask each worker to exit, wait a little, then terminate any that remain."""
    if _utils is None or _utils.python_exit_status is not False:
        return  # interpreter exit: multiprocessing terminates daemonic workers itself
    if os.getpid() != owner_pid:
        return  # a forked worker collecting its copy of the main process's iterator
    try:
        done_event.set()
        for worker_id, q in enumerate(index_queues):
            if persistent or workers_status[worker_id]:
                q.put(None)
                workers_status[worker_id] = False
        for w in workers:
            w.join(timeout=MP_STATUS_CHECK_INTERVAL)
        for q in index_queues:
            q.cancel_join_thread()
            q.close()
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
                w.join(timeout=MP_STATUS_CHECK_INTERVAL)
