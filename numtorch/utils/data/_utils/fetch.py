"""Fetchers: turn an index (or a batch of indices) into collated data, in the main process or a
worker, for map-style and iterable-style datasets."""
from __future__ import annotations

import numpy as np

from ....tensor import Tensor
from .collate import default_collate


class _BaseDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index):
        raise NotImplementedError


class _IterableDatasetFetcher(_BaseDatasetFetcher):
    def __init__(self, dataset, auto_collation, collate_fn, drop_last) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


class _MapDatasetFetcher(_BaseDatasetFetcher):
    def __init__(self, dataset, auto_collation, collate_fn, drop_last) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        from ..dataset import TensorDataset
        if auto_collation and collate_fn is default_collate and type(dataset) is TensorDataset \
                and all(type(t) is Tensor and not t._rg for t in dataset.tensors):
            self.fetch = self._fetch_tensors

    def fetch(self, possibly_batched_index):
        if self.auto_collation:
            if hasattr(self.dataset, "__getitems__") and self.dataset.__getitems__:
                data = self.dataset.__getitems__(possibly_batched_index)
            else:
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)

    def _fetch_tensors(self, indices):
        # A TensorDataset batch under default_collate: one gather per tensor gives the same
        # result as stacking the per-sample rows (default_collate turns the tuples into a list).
        try:
            idx = np.asarray(indices)
        except (TypeError, ValueError):
            idx = None
        if idx is None or idx.dtype.kind not in "iu" or idx.ndim != 1:
            return _MapDatasetFetcher.fetch(self, indices)
        return [Tensor._make(t._data[idx]) for t in self.dataset.tensors]
