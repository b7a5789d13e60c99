"""F.embedding and F.embedding_bag: table lookups (composites over ``ops/embedding.py``)."""
from __future__ import annotations

import warnings

from ..ops import embedding as _emb
from ..tensor import Tensor

__all__ = ["embedding", "embedding_bag"]


def _padding(padding_idx, n: int, msg: str = "Padding_idx must be within num_embeddings"):
    """``padding_idx`` checked against a table of ``n`` rows and made non-negative."""
    if padding_idx is None:
        return None
    if padding_idx > 0:
        if padding_idx >= n:
            raise AssertionError(msg)
    elif padding_idx < 0:
        if padding_idx < -n:
            raise AssertionError(msg)
        padding_idx = n + padding_idx
    return padding_idx


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of ``weight`` (an embedding table) at the integer indices ``input``.

    Args:
        input (LongTensor or IntTensor): indices into the table, any shape.
        weight (Tensor): the table, (num_embeddings, embedding_dim).
        padding_idx (int, optional): this row gets no gradient (negative counts from the end).
        max_norm (float, optional): rows that ``input`` refers to whose ``norm_type``-norm
            exceeds ``max_norm`` are first rescaled to norm ``max_norm``, in place (outside
            autograd; the weight's version is bumped).
        norm_type (float): the p of the p-norm for ``max_norm``. Default: ``2.0``
        scale_grad_by_freq (bool): divide each row's gradient by how often its index occurs
            in ``input``. Default: ``False``
        sparse (bool): accepted; see below. Default: ``False``

    Shape: input (*), weight (V, H) -> (*, H).

    Differs from torch: ``sparse=True`` gives an ordinary dense gradient (no sparse tensors).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding(): argument 'indices' (position 2) must be Tensor, not "
                        f"{type(input).__name__}")
    w = weight._data
    if w.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if padding_idx is not None:
        padding_idx = _padding(padding_idx, w.shape[0])
    if max_norm is not None:
        _emb.embedding_renorm_(weight, input, max_norm, norm_type)
    return _emb.Embedding.apply(weight, input, padding_idx, scale_grad_by_freq)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of embedding rows, without materialising the lookups.

    Args:
        input (LongTensor or IntTensor): bags of indices: (B, N) for B bags of N entries each
            (``offsets`` must be None), or 1-D, cut into bags where ``offsets`` say.
        weight (Tensor): the table, (num_embeddings, embedding_dim).
        offsets (LongTensor or IntTensor, optional): 1-D start of each bag in a 1-D ``input``.
        max_norm (float, optional), norm_type (float): as in :func:`embedding`.
        scale_grad_by_freq (bool): as in :func:`embedding` (not with mode "max").
        mode (str): "sum", "mean" (default) or "max".
        sparse (bool): accepted (not with mode "max"); the gradient is dense.
        per_sample_weights (Tensor, optional): one weight per entry of ``input`` (same shape),
            scaling its row; mode "sum" only.
        include_last_offset (bool): ``offsets`` has one more entry, the end of the last bag.
        padding_idx (int, optional): entries equal to it are left out of their bag (an empty
            bag gives zeros) and that row gets no gradient.

    Shape: -> (B, embedding_dim).

    Differs from torch: ``sparse=True`` gives a dense gradient. With ``scale_grad_by_freq``
    each row's gradient is divided by its own index's count, as documented (PyTorch 2.13's CPU
    kernel divides by another index's count when counts differ, pytorch/pytorch#190063).
    Entries past the last offset (``include_last_offset``) are in no bag, for every mode and
    for the gradient; PyTorch 2.13's CPU kernel leaves them out of "sum" only (it counts them in
    "mean"'s divisor and in "max", pytorch/pytorch#191965) and reads uninitialised memory for
    their gradient.
    """
    if weight.dtype.name == "int64" and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.dim()}")
    nd = input.dim()
    if nd == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        if input.shape[1] == 0:
            raise RuntimeError("step must be nonzero")
        include_last_offset = False
    elif nd == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {nd}")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode != "sum" and mode != "mean":
        raise ValueError("mode has to be one of sum, mean or max")
    if max_norm is not None:
        _emb.embedding_renorm_(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if padding_idx is not None:
        n = weight.shape[0]
        if not -n <= padding_idx < n:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, {-n} "
                               f"through {n - 1}, but got {padding_idx}")
        if padding_idx < 0:
            padding_idx += n
    return _emb.EmbeddingBag.apply(weight, input, offsets, per_sample_weights, mode,
                                   include_last_offset, padding_idx, scale_grad_by_freq)
