"""Packed sequences: PackedSequence, pack_padded_sequence, pad_packed_sequence, pad_sequence,
unpad_sequence, pack_sequence, unpack_sequence.

A PackedSequence stores the time steps of a batch of variable-length sequences one after the
other: step t holds ``batch_sizes[t]`` rows, one per sequence still running at t, the longest
sequence first. Packing and padding are gathers (``index_select``) with an index computed here,
so gradients flow through them.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from ... import backend
from ...ops.join import cat
from ...tensor import Tensor

xp = backend.xp

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Optional[Tensor]
    unsorted_indices: Optional[Tensor]


def _bind(t, fn):
    return None if t is None else fn(t)


class PackedSequence(PackedSequence_):
    """The data and per-step batch sizes of a packed batch of sequences.

    Attributes:
        data (Tensor): the packed rows, (sum(batch_sizes), *).
        batch_sizes (Tensor): int64, the number of sequences running at each time step.
        sorted_indices (Tensor, optional): the original batch index of each packed sequence
            (the sequences are packed longest first), or None when the batch was sorted.
        unsorted_indices (Tensor, optional): the inverse permutation of ``sorted_indices``.

    Build one with :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        """The same sequence with ``data`` converted by ``Tensor.to``."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cuda(self, *args, **kwargs):
        return type(self)(self.data.cuda(*args, **kwargs), self.batch_sizes,
                          self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs):
        return self

    def pin_memory(self):
        return self

    def double(self):
        return self.to(dtype=backend.float64)

    def float(self):
        return self.to(dtype=backend.float32)

    def half(self):
        return self.to(dtype=backend.float16)

    def long(self):
        return self.to(dtype=backend.int64)

    def int(self):
        return self.to(dtype=backend.int32)

    def short(self):
        return self.to(dtype=backend.int16)

    def char(self):
        return self.to(dtype=backend.int8)

    def byte(self):
        return self.to(dtype=backend.uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def _long(a) -> Tensor:
    return Tensor._make(xp.asarray(a, dtype=xp.int64))


def invert_permutation(permutation):
    """The inverse of a permutation (``out[permutation[i]] = i``); None for None."""
    if permutation is None:
        return None
    p = permutation._data
    out = xp.empty_like(p)
    out[p] = xp.arange(p.size, dtype=p.dtype)
    return Tensor._make(out)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch of variable-length sequences.

    Args:
        input (Tensor): padded batch, (T, B, *) or, with ``batch_first``, (B, T, *).
        lengths (Tensor or list(int)): the length of each sequence (a 1-D CPU int64 tensor or
            a list).
        batch_first (bool): whether ``input`` is (B, T, *). Default: ``False``
        enforce_sorted (bool): if ``True``, ``lengths`` must be sorted in decreasing order; if
            ``False`` the batch is sorted here and the permutation kept in ``sorted_indices``.
            Default: ``True``

    Returns:
        a :class:`PackedSequence`.

    Differs from torch: lengths longer than the padded sequence raise a RuntimeError (torch
    reads past the end of the input).
    """
    if isinstance(lengths, Tensor):
        if lengths._data.ndim != 1:
            from ...ops._common import type_name
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f"{lengths._data.ndim}D cpu {type_name(lengths)} tensor")
        lens = lengths._data.astype(xp.int64)
    else:
        lens = xp.asarray([int(v) for v in lengths], dtype=xp.int64)
    shape = input._data.shape
    if len(shape) < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{len(shape)}, "
                         f"{len(shape) - 1}], but got 1)")
    tdim, bdim = (1, 0) if batch_first else (0, 1)
    T, B = shape[tdim], shape[bdim]
    sorted_indices = None
    order = None
    if not enforce_sorted:
        order = xp.argsort(-lens, kind="stable")
        if order.size and order.max() >= B:
            raise RuntimeError(f"pack_padded_sequence: lengths has {lens.size} entries but the "
                               f"batch has {B} sequences")
        lens = lens[order]
        sorted_indices = _long(order)
    if input._data.size == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if enforce_sorted and lens.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lens.size} (batch_size={B})")
    if lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    if (lens[1:] > lens[:-1]).any():
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    if lens[0] > T:
        raise RuntimeError(f"pack_padded_sequence: a length of {int(lens[0])} is longer than the "
                           f"padded sequences ({T} steps)")
    steps = xp.arange(int(lens[0]))
    t, s = xp.nonzero(steps[:, None] < lens[None, :])        # packed order: by step, then sequence
    b = s if order is None else order[s]
    rows = b * T + t if batch_first else t * B + b
    data = input.reshape((T * B,) + shape[2:]).index_select(0, _long(rows))
    batch_sizes = _long((steps[:, None] < lens[None, :]).sum(1))
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Pad a packed batch back to a dense tensor; the inverse of :func:`pack_padded_sequence`.

    Args:
        sequence (PackedSequence): the batch to pad.
        batch_first (bool): return (B, T, *) instead of (T, B, *). Default: ``False``
        padding_value (float): value of the padded elements. Default: 0.0
        total_length (int, optional): pad to this many steps (at least the longest sequence).

    Returns:
        (padded Tensor, lengths): lengths is an int64 tensor in the original batch order.
    """
    data, batch_sizes, _, unsorted = sequence
    bs = batch_sizes._data.astype(xp.int64)
    T = Tout = bs.size
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {T}")
        Tout = total_length
    B = int(bs[0]) if T else 0
    S = data._data.shape[0]
    cols = xp.arange(B)
    lens = (bs[:, None] > cols[None, :]).sum(0)              # per packed sequence
    off = xp.concatenate([xp.zeros(1, xp.int64), xp.cumsum(bs)[:-1]])
    valid = xp.arange(Tout)[:, None] < lens[None, :]
    idx = xp.where(valid, xp.concatenate([off, xp.zeros(Tout - T, xp.int64)])[:, None] + cols, S)
    if unsorted is not None:
        idx = idx[:, unsorted._data]
        lens = lens[unsorted._data]
    if batch_first:
        idx = idx.T
    src = data
    if not valid.all():
        pad = xp.full((1,) + data._data.shape[1:], padding_value).astype(data._data.dtype)
        src = cat([data, Tensor._make(pad)])
    out = src.index_select(0, _long(idx.ravel()))
    return out.view(idx.shape + data._data.shape[1:]), _long(lens)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length sequences into one tensor, padding them to the longest.

    Args:
        sequences (list[Tensor]): sequences of shape (L_i, *), the same ``*`` for all.
        batch_first (bool): return (B, T, *) instead of (T, B, *). Default: ``False``
        padding_value (float): value of the padded elements. Default: 0.0
        padding_side (str): 'right' or 'left', where the padding goes. Default: 'right'

    Returns:
        Tensor of shape (T, B, *) or (B, T, *), with the dtype of the first sequence.
    """
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    elif not hasattr(sequences, "__iter__"):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of "
                           f"type: {type(sequences)}")
    seqs = tuple(sequences)
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError("Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    first = seqs[0]._data
    if first.ndim == 0:
        raise RuntimeError("pad_sequence: the sequences must have at least one dimension, got "
                           "a 0-D tensor")
    trail, dt = first.shape[1:], first.dtype
    lens = [s._data.shape[0] if s._data.ndim else 0 for s in seqs]
    parts = []
    for s, n in zip(seqs, lens):
        want = (n,) + trail
        if s._data.shape != want:
            s = _broadcast_into(s, want)
        parts.append(s if s._data.dtype == dt else s.to(backend.from_np(dt)))
    T, S = max(lens), sum(lens)
    lens_a = xp.asarray(lens)
    starts = xp.concatenate([xp.zeros(1, xp.int64), xp.cumsum(lens_a)[:-1]])
    t = xp.arange(T)[None, :]
    if padding_side == "right":
        valid, pos = t < lens_a[:, None], t
    else:
        valid = t >= (T - lens_a)[:, None]
        pos = t - (T - lens_a)[:, None]
    idx = xp.where(valid, starts[:, None] + pos, S)          # (B, T)
    if not valid.all():
        parts.append(Tensor._make(xp.full((1,) + trail, padding_value).astype(dt)))
    src = parts[0] if len(parts) == 1 else cat(parts)
    if not batch_first:
        idx = idx.T
    return src.index_select(0, _long(idx.ravel())).view(idx.shape + trail)


def _broadcast_into(s, shape):
    """``s`` broadcast to ``shape`` as torch's copy into the padded output does, else its
    error."""
    a, b = (1,) * (len(s._data.shape) - len(shape)) + shape, s._data.shape
    b = (1,) * (len(a) - len(b)) + b
    for i in reversed(range(len(a))):
        if a[i] != b[i] and a[i] != 1 and b[i] != 1:
            raise RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b "
                               f"({b[i]}) at non-singleton dimension {i}")
    full = tuple(max(p, q) for p, q in zip(a, b))
    if full != shape:
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(full)}")
    return s.expand(*shape)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch into a list of its unpadded sequences.

    Args:
        padded_sequences (Tensor): (T, B, *) or, with ``batch_first``, (B, T, *).
        lengths (Tensor): the length of each sequence.
        batch_first (bool): whether the input is (B, T, *). Default: ``False``

    Returns:
        list of B tensors of shape (L_i, *).

    Differs from torch: the input is not transposed in place when ``batch_first`` is False.
    """
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    n = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    return [x[i, :int(k)] for i, k in zip(range(x._data.shape[0]), n, strict=True)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length sequences (L_i, *); see :func:`pack_padded_sequence`.

    Args:
        sequences (list[Tensor]): the sequences, longest first unless ``enforce_sorted`` is
            False.
        enforce_sorted (bool): require decreasing lengths. Default: ``True``
    """
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences in a :class:`PackedSequence` (the inverse of pack_sequence)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
