"""nn.functional's padding, one_hot, normalize and distances (composites; no gradient code)."""
from __future__ import annotations

from .. import backend
from ..ops.shape import broadcast_tensors
from ..tensor import Tensor

xp = backend.xp

_TYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool", "float16": "Half"}


# ---- padding ----------------------------------------------------------------------------------
def _pad_index(n, left, right, mode):
    i = xp.arange(-left, n + right)
    if mode == "reflect":
        period = 2 * (n - 1)
        i = xp.abs(i) % period if period else xp.zeros_like(i)
        return xp.where(i >= n, period - i, i)
    if mode == "replicate":
        return xp.clip(i, 0, n - 1)
    return i % n


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dimensions: ``pad = (left_last, right_last, left_prev,
    ...)``; negative amounts crop. Modes: 'constant' (with ``value``), 'reflect', 'replicate',
    'circular'."""
    nd = input._data.ndim
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{nd}")
    pairs = [(nd - 1 - j, int(pad[2 * j]), int(pad[2 * j + 1])) for j in range(k)]
    shape = input._data.shape
    if mode == "constant":
        crop = [slice(None)] * nd
        out_shape = list(shape)
        for d, lo, hi in pairs:
            n = shape[d] + lo + hi
            if n < 0 or (lo < 0 and hi < 0 and -lo > shape[d]):
                raise RuntimeError("narrow(): length must be non-negative.")
            crop[d] = slice(max(-lo, 0), shape[d] - max(-hi, 0))
            out_shape[d] = n
        if any(lo < 0 or hi < 0 for _, lo, hi in pairs):
            input = input[tuple(crop)]
        from ..creation import full
        out = full(tuple(out_shape), 0 if value is None else value, dtype=input.dtype)
        key = [slice(None)] * nd
        for d, lo, hi in pairs:
            key[d] = slice(max(lo, 0), max(lo, 0) + input._data.shape[d])
        out[tuple(key)] = input
        return out
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k > 3 or nd not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {nd}D input tensor.\nSupported "
            "combinations for non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads "
            "last dimension)\n  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n  "
            "- 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    out = input
    for d, lo, hi in pairs:
        n = shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({lo}, {hi}) at dimension {d} "
                               f"of input {list(shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "replicate" and n == 0:
            raise RuntimeError(f"padding size is expected to be positive at dimension {d}")
        idx = _pad_index(n, lo, hi, mode)
        out = out.index_select(d, Tensor._make(idx))
    return out


# ---- misc -------------------------------------------------------------------------------------
def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a new last dimension of size ``num_classes`` (inferred as
    max + 1 when -1)."""
    if tensor._data.dtype != xp.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    a = tensor._data
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size:
        if a.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if a.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((a[..., None] == xp.arange(num_classes)).astype(xp.int64))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along ``dim``."""
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_TYPE_NAMES.get(input.dtype.name, input.dtype.name)}")
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps)
    return input / denom


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along ``dim`` (inputs broadcast)."""
    if x1._data.shape != x2._data.shape:
        x1, x2 = broadcast_tensors(x1, x2)
    n1 = x1.norm(2, dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dimension."""
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)
