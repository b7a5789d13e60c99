"""DistributedSampler: each of ``num_replicas`` processes loads its own share of a dataset."""
from __future__ import annotations

import math

from ...backend.random import Generator
from ...creation import randperm
from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _dist():
    try:
        from ... import distributed
    except ImportError:
        raise RuntimeError("Requires distributed package to be available") from None
    return distributed


class DistributedSampler(Sampler):
    """Restricts loading to the indices of one replica: every ``num_replicas``-th index of a
    (shuffled) permutation, starting at ``rank``, padded or trimmed to equal shares.

    Args:
        dataset: the dataset to sample from.
        num_replicas (int, optional): number of processes. Default: the world size.
        rank (int, optional): this process's rank. Default: the current rank.
        shuffle (bool): shuffle the indices. Default: ``True``.
        seed (int): the shuffle seed, identical on every replica. Default: ``0``.
        drop_last (bool): trim the tail to divide evenly instead of padding. Default: ``False``.

    Call ``set_epoch(epoch)`` before each epoch to reshuffle.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = _dist().get_world_size()
        if rank is None:
            rank = _dist().get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas)
                                         / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        if self.shuffle:
            g = Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank: self.total_size: self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which reseeds the shuffle so each epoch has its own order."""
        self.epoch = epoch
