"""How the Trainer feeds batches: a per-epoch order drawn from (seed, epoch) for Datasets, so
that any batch of any epoch can be the first one after a resume, and replay for DataLoaders."""
from __future__ import annotations

import hashlib
import math

from .. import creation
from ..backend.random import Generator, default_generator
from ..tensor import Tensor
from ..utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info

__all__ = ["derive_seed", "EpochBatches", "LoaderBatches", "make_batches", "eval_loader",
           "split_batch"]


def derive_seed(*parts) -> int:
    """A 128-bit seed that depends on every part (ints and strings), for independent streams."""
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=16).digest(),
                          "little")


def _generator(*parts) -> Generator:
    return Generator().manual_seed(derive_seed(*parts))


class _Batch(list):
    """A list of sample indices that carries the seed its samples are drawn with."""

    def __init__(self, indices, seed: int) -> None:
        super().__init__(indices)
        self.seed = seed


class _SeededDataset(Dataset):
    """Fetches a :class:`_Batch` in a worker after seeding the worker's default generator from
    the batch, so that random transforms do not depend on which worker loads which batch."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index):
        return self.dataset[index]

    def __getitems__(self, batch):
        if isinstance(batch, _Batch) and get_worker_info() is not None:
            default_generator.manual_seed(batch.seed)
        many = getattr(self.dataset, "__getitems__", None)
        return many(list(batch)) if many else [self.dataset[i] for i in batch]


class EpochBatches:
    """The Trainer's own loader over a map-style Dataset: epoch ``e`` visits the samples in a
    permutation drawn from ``(seed, e)``, and can start at any batch.

    With ``num_workers > 0`` each batch is loaded with the default generator seeded from
    ``(seed, epoch, batch)``; in the main process random transforms draw from numtorch's
    default generator, whose state the checkpoints hold.
    """

    kind = "dataset"

    def __init__(self, dataset, batch_size: int, num_workers: int, seed: int) -> None:
        self.dataset, self.batch_size, self.num_workers, self.seed = (dataset, batch_size,
                                                                      num_workers, seed)
        self.n = len(dataset)
        self.num_batches = math.ceil(self.n / batch_size)

    def order(self, epoch: int) -> list:
        """The sample indices of epoch ``epoch`` in visiting order."""
        return _generator(self.seed, "order", epoch).np.permutation(self.n).tolist()

    def iterate(self, epoch: int, start: int = 0):
        """An iterator over the batches of ``epoch`` from batch ``start`` (0-based) on."""
        perm, bs = self.order(epoch), self.batch_size
        batches = [perm[i:i + bs] for i in range(start * bs, self.n, bs)]
        ds = self.dataset
        if self.num_workers and type(ds) is not TensorDataset:
            batches = [_Batch(b, derive_seed(self.seed, "batch", epoch, start + k))
                       for k, b in enumerate(batches)]
            ds = _SeededDataset(ds)
        return iter(DataLoader(ds, batch_sampler=batches, num_workers=self.num_workers,
                               generator=_generator(self.seed, "loader", epoch)))

    def state(self) -> dict:
        return {"kind": self.kind, "n": self.n, "batch_size": self.batch_size}

    def load_state(self, state: dict) -> None:
        pass


class LoaderBatches:
    """A user's DataLoader. Its order may come from the default generator (or its own), so the
    generators' states are captured at each epoch start; resuming mid-epoch restores them,
    replays the batches already done (loading and discarding them) and then restores the
    states of the checkpoint."""

    kind = "loader"

    def __init__(self, loader: DataLoader) -> None:
        self.loader = loader
        self.num_batches = len(loader)
        self.n = len(loader.dataset) if not isinstance(loader.dataset, IterableDataset) \
            else None
        self.batch_size = loader.batch_size
        self.snapshot = None

    def _capture(self):
        gen = self.loader.generator
        return (creation.get_rng_state(),
                None if gen is None else Tensor._make(gen.get_state()))

    def _restore(self, snap) -> None:
        creation.set_rng_state(snap[0])
        if snap[1] is not None and self.loader.generator is not None:
            self.loader.generator.set_state(snap[1])

    def iterate(self, epoch: int, start: int = 0):
        if start == 0:
            self.snapshot = self._capture()
            return iter(self.loader)
        now = self._capture()
        self._restore(self.snapshot)
        it = iter(self.loader)
        for _ in range(start):
            next(it)
        self._restore(now)
        return it

    def state(self) -> dict:
        st = {"kind": self.kind, "n": self.n, "batch_size": self.batch_size}
        if self.snapshot is not None:
            st["epoch_rng"], st["epoch_gen"] = self.snapshot
        return st

    def load_state(self, state: dict) -> None:
        if "epoch_rng" in state:
            self.snapshot = (state["epoch_rng"], state.get("epoch_gen"))


def make_batches(data, batch_size: int, num_workers: int, seed: int):
    """EpochBatches for a map-style Dataset, LoaderBatches for a DataLoader."""
    if isinstance(data, DataLoader):
        return LoaderBatches(data)
    if isinstance(data, IterableDataset) or not hasattr(data, "__getitem__") \
            or not hasattr(data, "__len__"):
        raise TypeError(f"training data must be a map-style Dataset (with __getitem__ and "
                        f"__len__) or a DataLoader, got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError("the training set is empty")
    return EpochBatches(data, batch_size, num_workers, seed)


def eval_loader(data, batch_size: int, num_workers: int):
    """A DataLoader over ``data`` in order: a DataLoader as it is, a Dataset, a Tensor of
    inputs, or an ``(inputs, targets)`` pair of Tensors."""
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, Tensor):
        data = TensorDataset(data)
    elif isinstance(data, (tuple, list)) and data and all(isinstance(t, Tensor) for t in data):
        data = TensorDataset(*data)
    if not (hasattr(data, "__getitem__") or isinstance(data, IterableDataset)):
        raise TypeError(f"expected a Dataset, a DataLoader or Tensors, got "
                        f"{type(data).__name__}")
    return DataLoader(data, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                      generator=Generator())


def split_batch(batch):
    """``(inputs, targets)`` of a collated batch; targets are None for inputs-only batches."""
    if isinstance(batch, (tuple, list)):
        if len(batch) >= 2:
            return batch[0], batch[1]
        if len(batch) == 1:
            return batch[0], None
    if isinstance(batch, Tensor):
        return batch, None
    raise TypeError(f"expected batches of (input, target), got {type(batch).__name__}")
