"""DataLoader with worker processes: same batches as in-process loading, seeding, worker info,
errors, IterableDataset sharding, timeout and clean shutdown. Kept few: each starts processes."""
from __future__ import annotations

import gc
import math
import multiprocessing
import os
import random
import time

import numpy as np
import pytest
import torch

import numtorch as nt
from numtorch.utils.data import DataLoader, Dataset, TensorDataset, get_worker_info
from numtorch.utils.data._utils.worker import _generate_state
from tests.utils._helpers import norm
from tests.utils._spawn_ds import SquaresDataset

X = np.arange(33, dtype=np.float32).reshape(11, 3)
Y = np.arange(11)
_INIT = {}


class Records(Dataset):
    """Sample i reports which worker served it and that worker's RNG draws."""

    def __getitem__(self, i):
        info = get_worker_info()
        return dict(i=i, id=info.id, num_workers=info.num_workers, seed=info.seed,
                    tag=getattr(info.dataset, "tag", None), init=_INIT.get("id"),
                    nt=float(nt.rand(1)), np=float(np.random.rand()), py=random.random())

    def __len__(self):
        return 6


class Faulty(Dataset):
    def __init__(self, mode):
        self.mode = mode

    def __getitem__(self, i):
        if i == 3:
            if self.mode == "raise":
                raise ValueError(f"bad index {i}")
            if self.mode == "exit":
                os._exit(1)
        if self.mode == "slow" and i == 0:
            time.sleep(1.0)
        return i

    def __len__(self):
        return 8


def _init_fn(worker_id):
    _INIT["id"] = worker_id
    get_worker_info().dataset.tag = f"w{worker_id}"


def _children():
    return {p.pid for p in multiprocessing.active_children()}


@pytest.mark.parametrize("kw", [dict(batch_size=3), dict(batch_size=4, drop_last=True,
                                                         prefetch_factor=1),
                                dict(batch_size=None)], ids=["bs3", "bs4_drop_pf1", "nobatch"])
def test_two_workers_match_main_process(kw):
    ds = TensorDataset(nt.tensor(X), nt.tensor(Y))
    ref = norm(list(DataLoader(ds, **{k: v for k, v in kw.items() if k != "prefetch_factor"})))
    assert norm(list(DataLoader(ds, num_workers=2, **kw))) == ref


def test_out_of_order_delivery_yields_every_batch():
    out = [b.tolist() for b in DataLoader(range(20), batch_size=3, num_workers=2,
                                          in_order=False)]
    assert sorted(out) == [list(range(i, min(i + 3, 20))) for i in range(0, 20, 3)]


def test_two_workers_match_main_process_shuffled():
    ds = TensorDataset(nt.tensor(X), nt.tensor(Y))
    nt.manual_seed(11)
    ref = [norm(list(DataLoader(ds, batch_size=3, shuffle=True))) for _ in range(2)]
    nt.manual_seed(11)
    loader = DataLoader(ds, batch_size=3, shuffle=True, num_workers=2)
    assert [norm(list(loader)) for _ in range(2)] == ref
    gen_ref = norm(list(DataLoader(ds, batch_size=3, shuffle=True,
                                   generator=nt.Generator().manual_seed(4))))
    assert norm(list(DataLoader(ds, batch_size=3, shuffle=True, num_workers=2,
                                generator=nt.Generator().manual_seed(4)))) == gen_ref


def test_generate_state_matches_torch():
    from torch.utils.data._utils.worker import _generate_state as torch_state
    for base, wid in [(0, 0), (12345, 1), (2**63 - 1, 7), (8770582341885930379, 3)]:
        assert _generate_state(base, wid) == torch_state(base, wid)


def test_worker_info_seeding_and_init_fn():
    assert get_worker_info() is None
    rows = list(DataLoader(Records(), batch_size=None, num_workers=2, worker_init_fn=_init_fn))
    assert [r["i"] for r in rows] == list(range(6))
    assert [r["id"] for r in rows] == [0, 1] * 3  # round-robin, delivered in order
    assert all(r["num_workers"] == 2 for r in rows)
    assert [r["init"] for r in rows] == [r["id"] for r in rows]
    assert [r["tag"] for r in rows] == [f"w{r['id']}" for r in rows]
    base = rows[0]["seed"]
    assert rows[1]["seed"] == base + 1 and {r["seed"] for r in rows} == {base, base + 1}
    for first in rows[:2]:  # each worker's first draws come from generators seeded as torch's
        seed = first["seed"]
        assert first["nt"] == float(nt.rand(1, generator=nt.Generator().manual_seed(seed)))
        assert first["np"] == np.random.RandomState(_generate_state(base, first["id"])).rand()
        assert first["py"] == random.Random(seed).random()
    assert rows[0]["nt"] != rows[1]["nt"] and rows[0]["np"] != rows[1]["np"]
    nt.manual_seed(3)
    a = list(DataLoader(Records(), batch_size=None, num_workers=2))
    nt.manual_seed(3)
    assert list(DataLoader(Records(), batch_size=None, num_workers=2)) == a  # seeded from main


def test_worker_exception_is_reraised_with_traceback():
    with pytest.raises(ValueError) as exc:
        list(DataLoader(Faulty("raise"), batch_size=None, num_workers=2))
    msg = str(exc.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 1.\nOriginal Traceback")
    assert "bad index 3" in msg and "in __getitem__" in msg
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        list(DataLoader(range(3), num_workers=1, worker_init_fn=_bad_init))


def _bad_init(worker_id):
    raise KeyError("no such key")


class _LocalErrorDataset(Dataset):
    def __getitem__(self, i):
        class Unpicklable(Exception):
            pass
        raise Unpicklable("local")

    def __len__(self):
        return 2


def test_worker_exception_of_unpicklable_class_still_surfaces():
    with pytest.raises(RuntimeError, match="Caught Unpicklable in DataLoader worker process 0"):
        list(DataLoader(_LocalErrorDataset(), num_workers=1, timeout=10))


def _sharded(lib, n):
    class Shards(lib.utils.data.IterableDataset):
        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            per = math.ceil(n / info.num_workers)
            lo = info.id * per
            return iter(range(lo, min(lo + per, n)))
    return Shards()


@pytest.mark.parametrize("kw", [dict(batch_size=2), dict(batch_size=2, drop_last=True),
                                dict(batch_size=None)], ids=["bs2", "bs2_drop", "nobatch"])
def test_iterable_sharding_matches_torch(kw):
    ours = norm(list(DataLoader(_sharded(nt, 7), num_workers=2, **kw)))
    theirs = norm(list(torch.utils.data.DataLoader(_sharded(torch, 7), num_workers=2, **kw)))
    assert ours == theirs
    persistent = DataLoader(_sharded(nt, 7), num_workers=2, persistent_workers=True, **kw)
    assert [norm(list(persistent)) for _ in range(2)] == [theirs, theirs]


def test_persistent_workers_reused_across_epochs():
    ds = TensorDataset(nt.tensor(X))
    ref = norm(list(DataLoader(ds, batch_size=4)))
    loader = DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=True)
    assert norm(list(loader)) == ref
    procs = list(loader._iterator._workers)
    next(iter(loader))  # an epoch broken off early leaves no stale batch behind
    assert norm(list(loader)) == ref
    assert loader._iterator._workers == procs and all(p.is_alive() for p in procs)
    del loader
    gc.collect()
    assert not any(p.is_alive() for p in procs)


def test_early_break_and_deleted_iterator_leave_no_processes():
    before = _children()
    loader = DataLoader(Faulty("slow"), batch_size=2, num_workers=2)
    it = iter(loader)
    procs = list(it._workers)
    assert all(p.is_alive() for p in procs)
    del it
    gc.collect()
    assert not any(p.is_alive() for p in procs)
    for _ in DataLoader(range(100), batch_size=2, num_workers=2):
        break
    gc.collect()
    assert _children() <= before


def test_timeout_and_dead_worker():
    before = _children()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.2 seconds"):
        list(DataLoader(Faulty("slow"), num_workers=1, timeout=0.2))
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           "unexpectedly"):
        list(DataLoader(Faulty("exit"), batch_size=None, num_workers=2, timeout=1.5))
    gc.collect()
    assert _children() <= before


def test_spawn_context():
    ref = norm(list(DataLoader(SquaresDataset(), batch_size=2)))
    out = list(DataLoader(SquaresDataset(), batch_size=2, num_workers=1,
                          multiprocessing_context="spawn"))
    assert norm(out) == ref
