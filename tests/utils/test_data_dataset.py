"""Datasets, random_split and samplers against torch.utils.data where behaviour is deterministic;
seeded randomness is checked for its properties (numtorch's streams differ from torch's)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import numtorch as nt
from numtorch.utils import data as ntd
from tests.utils._helpers import both, same_error

X = np.arange(24, dtype=np.float32).reshape(6, 4)
Y = np.arange(6)


def _tds(lib):
    return lib.utils.data.TensorDataset(lib.tensor(X), lib.tensor(Y))


# ---- datasets -------------------------------------------------------------------------------
def test_tensor_dataset_items_and_len():
    ours, theirs = both(lambda lib: [len(_tds(lib)), _tds(lib)[2], _tds(lib)[-1],
                                     _tds(lib)[1:3]])
    assert ours == theirs


def test_tensor_dataset_size_mismatch():
    same_error(lambda lib: lib.utils.data.TensorDataset(lib.zeros(3), lib.zeros(4)))


def test_concat_dataset_indexing():
    def body(lib):
        d = lib.utils.data.ConcatDataset([range(3), range(10, 12), range(20, 24)])
        d2 = lib.utils.data.TensorDataset(lib.tensor(Y)) + lib.utils.data.TensorDataset(
            lib.tensor(Y[:2]))
        return [len(d), d.cumulative_sizes, [d[i] for i in range(-len(d), len(d))],
                len(d2), d2[7], type(d2).__name__]
    ours, theirs = both(body)
    assert ours == theirs


@pytest.mark.parametrize("make", [
    lambda lib: lib.utils.data.ConcatDataset([]),
    lambda lib: lib.utils.data.ConcatDataset([range(3)])[-4],
    lambda lib: lib.utils.data.ConcatDataset([range(3)])[3],
    lambda lib: lib.utils.data.ConcatDataset([_Stream(3, lib)]),
])
def test_concat_dataset_errors(make):
    same_error(make)


class _Stream:
    """An IterableDataset built in whichever library is asked for."""

    def __new__(cls, n, lib=nt):
        class S(lib.utils.data.IterableDataset):
            def __iter__(self):
                return iter(range(n))

            def __len__(self):
                return n
        return S()


def test_chain_dataset():
    def body(lib):
        a, b = _Stream(3, lib), _Stream(2, lib)
        c = a + b
        return [type(c).__name__, list(c), len(c)]
    ours, theirs = both(body)
    assert ours == theirs
    same_error(lambda lib: list(lib.utils.data.ChainDataset([range(3)])))


def test_subset_and_stack_dataset():
    def body(lib):
        s = lib.utils.data.Subset(_tds(lib), [4, 0, 2])
        st = lib.utils.data.StackDataset(range(3), ["a", "b", "c"])
        sk = lib.utils.data.StackDataset(n=range(3), s=["a", "b", "c"])
        return [len(s), s[1], s.__getitems__([0, 2]), len(st), st[1], st.__getitems__([0, 2]),
                sk[2], sk.__getitems__([1])]
    ours, theirs = both(body)
    assert ours == theirs
    same_error(lambda lib: lib.utils.data.StackDataset())
    same_error(lambda lib: lib.utils.data.StackDataset(range(2), range(3)))
    same_error(lambda lib: lib.utils.data.StackDataset(range(2), a=range(2)))


def test_subset_override_getitem_only_is_an_error():
    for lib in (nt, torch):
        class Bad(lib.utils.data.Subset):
            def __getitem__(self, i):
                return 0
        with pytest.raises(NotImplementedError, match="overrides __getitem__ but not"):
            Bad(range(3), [0])


def test_dataset_base_raises():
    same_error(lambda lib: lib.utils.data.Dataset()[0])


# ---- random_split ---------------------------------------------------------------------------
@pytest.mark.parametrize("n,lengths", [(10, [3, 7]), (10, [0.3, 0.3, 0.4]), (10, [0.5, 0.5]),
                                       (11, [0.33, 0.33, 0.34]), (3, [0.1, 0.9]),
                                       (7, [1.0]), (5, [0, 5])])
def test_random_split_sizes_and_partition(n, lengths):
    with warnings.catch_warnings(record=True) as w_ours:
        warnings.simplefilter("always")
        ours = ntd.random_split(range(n), lengths, generator=nt.Generator().manual_seed(1))
    with warnings.catch_warnings(record=True) as w_theirs:
        warnings.simplefilter("always")
        theirs = torch.utils.data.random_split(range(n), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert [str(w.message) for w in w_ours] == [str(w.message) for w in w_theirs]
    assert sorted(i for s in ours for i in s) == list(range(n))


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [1.5, -0.5], [0.2, 0.2]])
def test_random_split_errors(lengths):
    same_error(lambda lib: lib.utils.data.random_split(range(10), lengths))


def test_random_split_is_seeded():
    def split(seed=None, gen=None):
        if seed is not None:
            nt.manual_seed(seed)
        parts = ntd.random_split(range(20), [5, 15], **({"generator": gen} if gen else {}))
        return [list(p) for p in parts]
    assert split(seed=3) == split(seed=3) != split(seed=4)
    assert split(gen=nt.Generator().manual_seed(7)) == split(gen=nt.Generator().manual_seed(7))


# ---- samplers -------------------------------------------------------------------------------
def test_sequential_and_batch_samplers():
    def body(lib):
        D = lib.utils.data
        out = [list(D.SequentialSampler(range(5))), len(D.SequentialSampler(range(5)))]
        for bs in (1, 3, 5, 7):
            for drop in (False, True):
                b = D.BatchSampler(D.SequentialSampler(range(10)), bs, drop)
                out += [list(b), len(b)]
        out.append(list(D.BatchSampler([4, 2, 9], 2, False)))
        return out
    ours, theirs = both(body)
    assert ours == theirs


@pytest.mark.parametrize("make", [
    lambda lib: lib.utils.data.BatchSampler(range(3), 0, False),
    lambda lib: lib.utils.data.BatchSampler(range(3), True, False),
    lambda lib: lib.utils.data.BatchSampler(range(3), 2.0, False),
    lambda lib: lib.utils.data.BatchSampler(range(3), 2, 1),
    lambda lib: lib.utils.data.RandomSampler(range(3), num_samples=0),
    lambda lib: lib.utils.data.RandomSampler(range(3), replacement=1),
    lambda lib: lib.utils.data.RandomSampler([]),
    lambda lib: lib.utils.data.WeightedRandomSampler([1.0, 2.0], 0),
    lambda lib: lib.utils.data.WeightedRandomSampler([1.0, 2.0], 2, replacement=0),
    lambda lib: lib.utils.data.WeightedRandomSampler([[1.0, 2.0]], 2),
    lambda lib: lib.utils.data.DistributedSampler(range(3), 2, 2),
    lambda lib: lib.utils.data.DistributedSampler(range(3), 2, -1),
])
def test_sampler_argument_errors(make):
    same_error(make)


def test_random_sampler_permutation_and_seeding():
    def run(seed, **kw):
        nt.manual_seed(seed)
        return list(ntd.RandomSampler(range(50), **kw))
    a = run(0)
    assert sorted(a) == list(range(50)) and a != list(range(50))
    assert run(0) == a and run(1) != a
    s = ntd.RandomSampler(range(50))
    assert list(s) != list(s)  # a fresh permutation every epoch
    g = lambda: nt.Generator().manual_seed(5)  # noqa: E731
    assert list(ntd.RandomSampler(range(50), generator=g())) == \
        list(ntd.RandomSampler(range(50), generator=g()))


def test_random_sampler_num_samples_and_replacement():
    nt.manual_seed(0)
    s = ntd.RandomSampler(range(7), num_samples=17)
    idx = list(s)
    assert len(s) == len(idx) == 17
    # two full permutations, then three distinct indices
    assert sorted(idx[:7]) == sorted(idx[7:14]) == list(range(7)) and len(set(idx[14:])) == 3
    r = ntd.RandomSampler(range(4), replacement=True, num_samples=70)
    idx = list(r)
    assert len(r) == len(idx) == 70 and set(idx) == {0, 1, 2, 3}


def test_subset_random_sampler():
    ind = [10, 20, 30, 40, 50]
    nt.manual_seed(2)
    a = list(ntd.SubsetRandomSampler(ind))
    nt.manual_seed(2)
    assert list(ntd.SubsetRandomSampler(ind)) == a and sorted(a) == ind
    assert len(ntd.SubsetRandomSampler(ind)) == 5


def test_weighted_random_sampler():
    w = [0.0, 1.0, 0.0, 3.0]
    s = ntd.WeightedRandomSampler(w, 400, generator=nt.Generator().manual_seed(0))
    idx = list(s)
    assert len(s) == len(idx) == 400 and set(idx) == {1, 3}
    assert 0.65 < idx.count(3) / 400 < 0.85
    s = ntd.WeightedRandomSampler([0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 6, replacement=False)
    assert sorted(s) == list(range(6))
    assert s.weights.dtype == nt.float64


def test_distributed_sampler_matches_torch_unshuffled():
    def body(lib):
        out = []
        for n, replicas, drop in [(10, 3, False), (10, 3, True), (2, 4, False), (9, 3, False)]:
            for rank in range(replicas):
                s = lib.utils.data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                                      drop_last=drop)
                out.append((list(s), len(s), s.total_size))
        return out
    ours, theirs = both(body)
    assert ours == theirs


def test_distributed_sampler_shuffle_partitions():
    shards = [list(ntd.DistributedSampler(range(12), 3, r, seed=4)) for r in range(3)]
    assert sorted(sum(shards, [])) == list(range(12))
    s = ntd.DistributedSampler(range(12), 3, 0, seed=4)
    s.set_epoch(1)
    assert list(s) != shards[0]
