"""Scatter-add for the backward of gather/index ops: ``gx[key] += g`` with repeated indices
adding up.

``xp.add.at`` on a multi-dimensional target is slow (about 1 µs per row of a 2-D target). Keys
made of integer arrays, after any leading full slices, are turned into flat row numbers instead:
unique rows are written with one plain assignment, repeated ones go through ``add.at`` on the
flattened target, which NumPy runs on its fast 1-D path (4-10x faster).
"""
from __future__ import annotations

from .. import backend

xp = backend.xp
_ndarray = xp.ndarray
_FULL = slice(None)


def _rows(shape, key):
    """(flat row numbers, row length, number of rows) for a key of leading full slices then
    integer indices, or None for any other key. Rows run over the indexed dimensions (and the
    leading sliced ones); a row holds the remaining dimensions."""
    n = len(key)
    if n and key[-1] is Ellipsis:
        n -= 1
    lead = 0
    while lead < n and type(key[lead]) is slice and key[lead] == _FULL:
        lead += 1
    idx = key[lead:n]
    if not idx or lead + len(idx) > len(shape):
        return None
    for k in idx:
        if not (type(k) is int or (type(k) is _ndarray and k.dtype.kind in "iu")):
            return None
    arrays = [xp.asarray(k, dtype=xp.intp) for k in idx]
    bshape = xp.broadcast_shapes(*(a.shape for a in arrays))
    nb = len(bshape)
    lin = None
    stride = 1
    dims = lead + len(idx)
    for j in range(dims - 1, -1, -1):
        size = shape[j]
        if j >= lead:
            a = arrays[j - lead]
            a = a % size if a.size and (a < 0).any() else a
        else:
            a = xp.arange(size).reshape((size,) + (1,) * (lead - 1 - j + nb))
        term = a * stride if stride != 1 else a
        lin = term if lin is None else lin + term
        stride *= size
    lin = xp.broadcast_to(lin, tuple(shape[:lead]) + bshape).reshape(-1)
    inner = 1
    for s in shape[dims:]:
        inner *= s
    return lin, inner, stride


def _distinct(lin, nrows) -> bool:
    """True when no row number repeats (a count table, or a sort when rows are many)."""
    if lin.shape[0] * 8 < nrows:
        s = xp.sort(lin)
        return not (s[1:] == s[:-1]).any()
    return xp.bincount(lin, minlength=nrows).max() <= 1


def add_at(gx, key, g):
    """``gx[key] += g`` where ``key`` may repeat elements (they add up). ``gx`` is a fresh
    C-contiguous buffer; ``g`` has the shape of ``gx[key]``."""
    if g.size == 0:
        return gx
    r = _rows(gx.shape, key)
    if r is None:
        xp.add.at(gx, key, g)
        return gx
    lin, inner, nrows = r
    g2 = g.reshape(lin.shape[0], inner)
    target = gx.reshape(nrows, inner)
    if lin.shape[0] > 64 and _distinct(lin, nrows):
        target[lin] = g2                      # no repeats: a plain write
    elif inner == 1:
        xp.add.at(target.reshape(-1), lin, g2.reshape(-1))
    else:
        flat = (lin[:, None] * inner + xp.arange(inner)).reshape(-1)
        xp.add.at(gx.reshape(-1), flat, g2.reshape(-1))
    return gx
