"""DataLoader in the main process against torch.utils.data.DataLoader: batches, order, len,
argument errors; shuffling checked for its properties under numtorch's seeding."""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
import torch

import numtorch as nt
from numtorch.utils.data import DataLoader, TensorDataset
from tests.utils._helpers import both, same_error

X = np.arange(30, dtype=np.float32).reshape(10, 3)
Y = np.arange(10) % 3


class MapDS:
    """A map-style dataset of nested samples (dict of array, int, float, str)."""

    def __init__(self, n=7):
        self.n = n

    def __getitem__(self, i):
        if i >= self.n:
            raise IndexError(i)
        return {"x": X[i], "y": int(Y[i]), "w": float(i) / 2, "name": f"s{i}"}

    def __len__(self):
        return self.n


def _stream(lib, n, length=True):
    class S(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter({"v": float(i), "i": i} for i in range(n))
    if length:
        S.__len__ = lambda self: n
    return S()


LOADERS = {
    "tensor_ds_bs4": lambda lib: lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(lib.tensor(X), lib.tensor(Y)), batch_size=4),
    "tensor_ds_bs4_drop": lambda lib: lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(lib.tensor(X), lib.tensor(Y)), batch_size=4,
        drop_last=True),
    "tensor_ds_default_bs": lambda lib: lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(lib.tensor(X))),
    "map_ds_bs3": lambda lib: lib.utils.data.DataLoader(MapDS(), batch_size=3),
    "map_ds_no_batching": lambda lib: lib.utils.data.DataLoader(MapDS(3), batch_size=None),
    "list_ds": lambda lib: lib.utils.data.DataLoader([(i, float(i)) for i in range(5)],
                                                     batch_size=2),
    "range_ds_bs_gt_len": lambda lib: lib.utils.data.DataLoader(range(5), batch_size=8),
    "custom_sampler": lambda lib: lib.utils.data.DataLoader(range(10), batch_size=3,
                                                            sampler=[9, 1, 5, 3, 0]),
    "batch_sampler": lambda lib: lib.utils.data.DataLoader(
        range(10), batch_sampler=[[0, 1], [5, 2, 8], [9]]),
    "batch_sampler_obj": lambda lib: lib.utils.data.DataLoader(
        range(10), batch_sampler=lib.utils.data.BatchSampler(range(10), 4, True)),
    "collate_fn": lambda lib: lib.utils.data.DataLoader(range(6), batch_size=4,
                                                        collate_fn=lambda b: sum(b)),
    "subset": lambda lib: lib.utils.data.DataLoader(
        lib.utils.data.Subset(lib.utils.data.TensorDataset(lib.tensor(X)), [3, 1, 4]),
        batch_size=2),
    "iterable_bs3": lambda lib: lib.utils.data.DataLoader(_stream(lib, 7), batch_size=3),
    "iterable_bs3_drop": lambda lib: lib.utils.data.DataLoader(_stream(lib, 7), batch_size=3,
                                                               drop_last=True),
    "iterable_no_batching": lambda lib: lib.utils.data.DataLoader(_stream(lib, 3),
                                                                  batch_size=None),
}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_batches_match_torch(name):
    make = LOADERS[name]
    ours, theirs = both(lambda lib: list(make(lib)))
    assert ours == theirs


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_len_matches_torch(name):
    ours, theirs = both(lambda lib: len(LOADERS[name](lib)))
    assert ours == theirs


def test_len_errors_like_torch():
    same_error(lambda lib: len(lib.utils.data.DataLoader(_stream(lib, 3, length=False))))


def test_tensor_dataset_fast_path_matches_generic_path():
    ds = TensorDataset(nt.tensor(X), nt.tensor(Y))
    fast = list(DataLoader(ds, batch_size=4, shuffle=True, generator=nt.Generator().manual_seed(0)))
    slow = list(DataLoader(ds, batch_size=4, shuffle=True, generator=nt.Generator().manual_seed(0),
                           collate_fn=lambda b: nt.utils.data.default_collate(b)))
    assert type(fast[0]) is list and len(fast) == len(slow) == 3
    for f, s in zip(fast, slow):
        for a, b in zip(f, s):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_iterable_len_overrun_warns_like_torch():
    def body(lib):
        class Liar(lib.utils.data.IterableDataset):
            def __iter__(self):
                return iter(range(5))

            def __len__(self):
                return 3
        loader = lib.utils.data.DataLoader(Liar(), batch_size=None)
        len(loader)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            list(loader)
        return [str(m.message).split("was reported")[1] for m in w]
    ours, theirs = both(body)
    assert ours == theirs and len(ours) == 2


def test_pin_memory_is_a_noop_with_torchs_warning():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = list(DataLoader(range(4), batch_size=2, pin_memory=True))
    assert [b.tolist() for b in out] == [[0, 1], [2, 3]]
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        list(torch.utils.data.DataLoader(range(4), batch_size=2, pin_memory=True))
    assert [str(m.message) for m in w] == [str(m.message) for m in tw]


# ---- argument errors ------------------------------------------------------------------------
ARG_ERRORS = [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
    dict(num_workers=1, prefetch_factor=-1), dict(persistent_workers=True),
    dict(shuffle=True, sampler=[0, 1]), dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True), dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
    dict(multiprocessing_context="fork"), dict(num_workers=1, multiprocessing_context="nope"),
    dict(num_workers=1, multiprocessing_context=3), dict(batch_size=0),
    dict(batch_size=2, drop_last="yes"),
]


@pytest.mark.parametrize("kwargs", ARG_ERRORS, ids=lambda k: ",".join(k))
def test_argument_errors_match_torch(kwargs):
    same_error(lambda lib: lib.utils.data.DataLoader(range(4), **kwargs))


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]),
                                    dict(batch_sampler=[[0]])], ids=lambda k: ",".join(k))
def test_iterable_dataset_argument_errors(kwargs):
    for lib in (nt, torch):
        with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected "
                                             f"unspecified {next(iter(kwargs))} option"):
            lib.utils.data.DataLoader(_stream(lib, 3), **kwargs)


def test_attributes_frozen_after_init():
    same_error(lambda lib: setattr(lib.utils.data.DataLoader(range(4)), "batch_size", 3))
    loader = DataLoader(range(4))
    loader.num_workers = 0  # not frozen in torch either
    assert loader.num_workers == 0


def test_timeout_without_workers_is_rejected_on_iter():
    same_error(lambda lib: iter(lib.utils.data.DataLoader(range(4), timeout=1)))


# ---- shuffling ------------------------------------------------------------------------------
def _epoch(loader):
    return [int(i) for b in loader for i in b]


def test_shuffle_follows_manual_seed():
    loader = DataLoader(range(40), batch_size=8, shuffle=True)
    nt.manual_seed(123)
    a = _epoch(loader)
    b = _epoch(loader)
    nt.manual_seed(123)
    assert _epoch(loader) == a and _epoch(loader) == b
    nt.manual_seed(124)
    assert _epoch(loader) != a
    assert a != b and sorted(a) == sorted(b) == list(range(40))


def test_shuffle_seed_drawn_at_iteration_not_construction():
    nt.manual_seed(5)
    loader = DataLoader(range(20), shuffle=True)
    nt.manual_seed(6)
    late = _epoch(loader)
    nt.manual_seed(6)
    assert _epoch(DataLoader(range(20), shuffle=True)) == late


def test_shuffle_with_generator():
    def run(seed):
        return _epoch(DataLoader(range(30), batch_size=4, shuffle=True,
                                 generator=nt.Generator().manual_seed(seed)))
    nt.manual_seed(0)
    a = run(9)
    nt.manual_seed(1)  # the default generator does not matter when one is given
    assert run(9) == a and run(10) != a and sorted(a) == list(range(30))
    g = nt.Generator().manual_seed(3)
    state = nt.get_rng_state()
    _epoch(DataLoader(range(30), shuffle=True, generator=g))
    assert nt.get_rng_state().tolist() == state.tolist()  # default generator untouched


def test_shuffle_with_drop_last():
    nt.manual_seed(0)
    batches = [b.tolist() for b in DataLoader(range(10), batch_size=3, shuffle=True,
                                              drop_last=True)]
    assert [len(b) for b in batches] == [3, 3, 3]
    assert len(set(sum(batches, []))) == 9


def test_namedtuple_and_dict_batches_types():
    P = collections.namedtuple("P", "a b")
    ours, theirs = both(lambda lib: list(lib.utils.data.DataLoader(
        [P(np.float64(i), {"k": [i, i]}) for i in range(4)], batch_size=2)))
    assert ours == theirs


def _params(fn):
    import inspect
    plain = (int, float, str, bool, type(None))
    return [(p.name, p.kind, p.default if isinstance(p.default, plain) or
             p.default is inspect.Parameter.empty else "object")
            for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", [
    "DataLoader", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset", "Subset",
    "random_split", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler", "DistributedSampler", "default_collate",
    "default_convert", "get_worker_info"])
def test_signatures_match_torch(name):
    assert _params(getattr(nt.utils.data, name)) == _params(getattr(torch.utils.data, name))
