"""Embedding and EmbeddingBag: learnable lookup tables."""
from __future__ import annotations

from ... import creation
from ...autograd.grad_mode import no_grad
from .. import functional as F
from .._functional_sparse import _padding
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Embedding", "EmbeddingBag"]




def _table(num_embeddings, embedding_dim, _weight, device, dtype):
    if _weight is None:
        return creation.empty(num_embeddings, embedding_dim, dtype=dtype, device=device)
    if list(_weight.shape) != [num_embeddings, embedding_dim]:
        raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
    return _weight


class _Table(Module):
    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def _repr_tail(self, fmt) -> str:
        s = ""
        if self.max_norm is not None:
            s += f", max_norm={fmt(self.max_norm)}"
        if self.norm_type != 2:
            s += f", norm_type={fmt(self.norm_type)}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={fmt(self.scale_grad_by_freq)}"
        return s


class Embedding(_Table):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

    Args:
        num_embeddings (int): size of the dictionary of embeddings.
        embedding_dim (int): the size of each embedding vector.
        padding_idx (int, optional): this row gets no gradient and starts at zeros (negative
            values count from the end).
        max_norm (float, optional): rows looked up whose norm exceeds it are renormalised to
            ``max_norm`` in place.
        norm_type (float): the p of the p-norm for ``max_norm``. Default: ``2.0``
        scale_grad_by_freq (bool): scale gradients by the inverse frequency of the indices in
            the mini-batch. Default: ``False``
        sparse (bool): accepted; the gradient is dense. Default: ``False``

    Shape: input (*) of int64/int32 indices -> (*, embedding_dim).

    weight (num_embeddings, embedding_dim) starts at N(0, 1), with the ``padding_idx`` row 0.

    Differs from torch: ``sparse=True`` gives a dense gradient.
    """

    __constants__ = ["num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type",
                     "scale_grad_by_freq", "sparse"]

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight=None, _freeze: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _padding(padding_idx, num_embeddings,
                                    "Padding_idx must be within num_embeddings")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.weight = Parameter(_table(num_embeddings, embedding_dim, _weight, device, dtype),
                                requires_grad=not _freeze)
        if _weight is None:
            self.reset_parameters()
        self.sparse = sparse

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        s += self._repr_tail(str)
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is ``embeddings`` (2-D, shared, not copied); ``freeze``
        turns its gradient off. Other arguments as in the constructor."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(_Table):
    """Sums, means or maxima of bags of embeddings, without materialising the lookups.

    Args:
        num_embeddings (int), embedding_dim (int), max_norm (float, optional),
        norm_type (float), scale_grad_by_freq (bool): as in :class:`Embedding`.
        mode (str): "sum", "mean" (default) or "max": how each bag is reduced.
        sparse (bool): accepted; the gradient is dense. Default: ``False``
        include_last_offset (bool): offsets has one more entry, the end of the last bag.
        padding_idx (int, optional): entries equal to it are left out of their bag; that row
            gets no gradient and starts at zeros.

    Shape: input (B, N) with offsets None, or input (N,) with offsets (B,) (``(B+1,)`` with
    ``include_last_offset``); per_sample_weights like input -> (B, embedding_dim).

    Differs from torch: ``sparse=True`` gives a dense gradient; see ``F.embedding_bag`` for
    ``scale_grad_by_freq``.
    """

    __constants__ = ["num_embeddings", "embedding_dim", "max_norm", "norm_type",
                     "scale_grad_by_freq", "mode", "sparse", "include_last_offset",
                     "padding_idx"]

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx=None, device=None, dtype=None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.padding_idx = _padding(padding_idx, num_embeddings,
                                    "padding_idx must be within num_embeddings")
        self.weight = Parameter(_table(num_embeddings, embedding_dim, _weight, device, dtype))
        if _weight is None:
            self.reset_parameters()
        self.mode, self.sparse = mode, sparse
        self.include_last_offset = include_last_offset

    def forward(self, input, offsets=None, per_sample_weights=None):
        """Reduce the bags of ``input`` (see the class docstring); returns (B, embedding_dim)."""
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings!r}, {self.embedding_dim!r}" + self._repr_tail(repr)
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight is ``embeddings`` (2-D, shared, not copied); ``freeze``
        turns its gradient off. Other arguments as in the constructor."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings,
                  max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                  mode=mode, sparse=sparse, include_last_offset=include_last_offset,
                  padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
