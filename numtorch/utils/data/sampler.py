"""Samplers: strategies that yield dataset indices (or batches of them), as in
``torch.utils.data.sampler``."""
from __future__ import annotations

import itertools
from typing import Generic, Iterator, TypeVar

from ...backend import random as _random
from ...backend.dtypes import float64, int64
from ...creation import as_tensor, multinomial, randint, randperm

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]

_T_co = TypeVar("_T_co", covariant=True)


def _fresh_seed(generator=None) -> int:
    """A seed in [0, 2**63) drawn from ``generator`` (else the default generator), as torch
    draws ``torch.empty((), dtype=torch.int64).random_(generator)``."""
    return int(_random.gen(generator).integers(0, 1 << 63))


class Sampler(Generic[_T_co]):
    """Base class for samplers: ``__iter__`` yields indices (or lists of indices); ``__len__``,
    when present, is the number of items ``__iter__`` yields."""

    def __iter__(self) -> Iterator[_T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """Yields ``0 .. len(data_source) - 1`` in order.

    Args:
        data_source (Sized): the dataset to sample from.
    """

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Yields indices in random order: a fresh permutation, or draws with replacement.

    Without ``generator``, each ``iter()`` seeds a new generator from a seed drawn from
    numtorch's default generator, so ``numtorch.manual_seed`` fixes the order.

    Args:
        data_source (Sized): the dataset to sample from.
        replacement (bool): draw with replacement. Default: ``False``.
        num_samples (int): how many indices to yield. Default: ``len(data_source)``.
        generator (Generator): the generator used for sampling.

    Differs from torch: the permutation for a seed comes from NumPy's stream, not PyTorch's.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples=None,
                 generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got replacement="
                            f"{self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if self.generator is None:
            generator = _random.Generator().manual_seed(_fresh_seed())
        else:
            generator = self.generator
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from randint(0, n, (32,), generator=generator, dtype=int64).tolist()
            yield from randint(0, n, (self.num_samples % 32,), generator=generator,
                               dtype=int64).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from randperm(n, generator=generator).tolist()
            yield from randperm(n, generator=generator).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """Yields the given indices in random order, without replacement.

    Args:
        indices (sequence): the indices to sample from.
        generator (Generator): the generator used for sampling.
    """

    def __init__(self, indices, generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Yields indices in ``[0, len(weights))`` drawn with probability proportional to weights.

    Args:
        weights (sequence): non-negative weights, not necessarily summing to one.
        num_samples (int): how many indices to draw.
        replacement (bool): draw with replacement. Default: ``True``.
        generator (Generator): the generator used for sampling.
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got replacement="
                             f"{replacement}")
        weights_tensor = as_tensor(weights, dtype=float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        rand_tensor = multinomial(self.weights, self.num_samples, self.replacement,
                                  generator=self.generator)
        yield from iter(rand_tensor.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Wraps a sampler to yield lists of ``batch_size`` indices.

    Args:
        sampler (Sampler or Iterable): the base sampler.
        batch_size (int): size of a mini-batch.
        drop_last (bool): drop the last batch if it would be smaller than ``batch_size``.
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got batch_size="
                             f"{batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            for batch in zip(*[sampler_iter] * self.batch_size):
                yield [*batch]
        else:
            batch = [*itertools.islice(sampler_iter, self.batch_size)]
            while batch:
                yield batch
                batch = [*itertools.islice(sampler_iter, self.batch_size)]

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
