"""Embedding lookups: rows gathered from a table, whose backward scatter-adds rows back.

``scatter_rows`` picks its strategy from the number of distinct rows u among N (CPU time on one
core, 2048 float32 rows of 128, i.e. a 64x32 index batch): ``np.add.at`` on the 2-D table takes
~3 ms, on the flattened table (its fast 1-D path) ~0.7 ms. With few distinct rows (65, as for
characters) a sort plus one ``add.reduceat`` takes ~0.45 ms (a one-hot matmul about the same);
``add.reduceat`` costs ~1.5 us per run, so it loses once runs are many. With mostly distinct rows
(10^4-row table) writing first occurrences and ``add.at``-ing the rest takes ~0.4 ms (flat
``add.at`` ~0.8 ms). Zipf-like repeats in between: flat ``add.at``.
"""
from __future__ import annotations

from ..autograd.function import Context, Function
from ..backend import dtypes as _dt

xp = Context.xp

#: up to this many distinct rows, repeated often, take the sort + reduceat path
_FEW_ROWS = 128


def _type(a) -> str:
    return f"numtorch.{_dt.TYPE_NAMES[_dt.from_np(a.dtype).name]}Tensor"


def check_index_dtype(idx, fn: str, arg: str = "#1 'indices'") -> None:
    """PyTorch's RuntimeError unless ``idx`` holds int64 or int32 indices."""
    if idx.dtype.kind != "i" or idx.dtype.itemsize < 4:
        raise RuntimeError(f"Expected tensor for argument {arg} to have one of the following "
                           f"scalar types: Long, Int; but got {_type(idx)} instead (while "
                           f"checking arguments for {fn})")


def _first_bad(flat, n):
    """(position, value) of the first index outside [0, n)."""
    k = int(xp.flatnonzero((flat < 0) | (flat >= n))[0])
    return k, int(flat[k])


def scatter_rows(idx, g, n):
    """An (n, d) array whose row i is the sum of the rows ``g[k]`` with ``idx[k] == i``.

    ``idx`` is 1-D with values in [0, n); ``g`` is (len(idx), d).
    """
    N, d = g.shape
    gw = xp.zeros((n, d), g.dtype)
    if N == 0 or d == 0:
        return gw
    u = int(xp.count_nonzero(xp.bincount(idx, minlength=n)))    # distinct rows
    if u == N:
        gw[idx] = g                              # no repeats: a plain write
        return gw
    if u <= _FEW_ROWS and N >= 4 * u:
        # few distinct rows, each repeated: sum the runs of the sorted rows
        order = xp.argsort(idx, kind="stable")
        first = _run_starts(idx[order])
        gw[idx[order[first]]] = xp.add.reduceat(xp.take(g, order, axis=0), first, axis=0)
        return gw
    rest = None
    if 4 * (N - u) <= N and d >= 32:
        # mostly distinct: write each row's first occurrence, add the few repeats after
        order = xp.argsort(idx, kind="stable")
        starts = _run_starts(idx[order])
        head = order[starts]
        gw[idx[head]] = g[head]
        rest = xp.delete(order, starts)
        idx, g = idx[rest], g[rest]
    flat = (idx.astype(xp.intp)[:, None] * d + xp.arange(d)).reshape(-1)
    xp.add.at(gw.reshape(-1), flat, g.reshape(-1))   # NumPy's fast 1-D add.at path
    return gw


def _run_starts(s):
    """Positions where the sorted 1-D array ``s`` starts a run of equal values."""
    first = xp.empty(s.shape[0], xp.bool_)
    first[0] = True
    xp.not_equal(s[1:], s[:-1], out=first[1:])
    return xp.flatnonzero(first)


def _scale_by_freq(gw, flat, n):
    # NOTE: every row is divided by how often its index occurs in the whole input
    counts = xp.bincount(flat, minlength=n)[:n]
    gw /= xp.maximum(counts, 1).astype(gw.dtype)[:, None]


# ---- embedding ----------------------------------------------------------------------------------
class Embedding(Function):
    """y = weight[indices]: rows of the table, in the indices' shape (*) -> (*, embedding_dim).

    Backward: rows of the gradient scatter-add into the table's rows; the ``padding_idx`` row
    gets none, and with ``scale_grad_by_freq`` each row is divided by its index's count.
    """

    @staticmethod
    def forward(ctx: Context, w, idx, padding_idx, scale_grad_by_freq):
        check_index_dtype(idx, "embedding")
        n = w.shape[0]
        if idx.size:
            if idx.min() < 0 or idx.max() >= n:
                _, v = _first_bad(idx.reshape(-1), n)
                raise IndexError(f"index out of range in self (index {v} is outside a table "
                                 f"of {n} rows)")
        if ctx.needs_input_grad:
            ctx.save_for_backward(idx)
            ctx.shape, ctx.padding_idx, ctx.scale = w.shape, padding_idx, scale_grad_by_freq
        return xp.take(w, idx, axis=0)

    @staticmethod
    def backward(ctx: Context, gy):
        (idx,) = ctx.saved_tensors
        n, d = ctx.shape
        flat = idx.reshape(-1)
        gw = scatter_rows(flat, gy.reshape(flat.shape[0], d), n)
        if ctx.scale:
            _scale_by_freq(gw, flat, n)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw, None, None, None


def embedding_renorm_(weight, indices, max_norm: float, norm_type: float = 2.0):
    """Rescale, in place and outside autograd, each row of ``weight`` that ``indices`` refer to
    and whose ``norm_type``-norm exceeds ``max_norm``, to norm ``max_norm`` (as
    ``torch.embedding_renorm_``: scale = max_norm / (norm + 1e-7)); bumps the weight's version."""
    idx = indices._data
    check_index_dtype(idx, "embedding_renorm_", "#2 'indices'")
    w = weight._data
    n = w.shape[0]
    u = xp.unique(idx)
    if u.size and (u[0] < -n or u[-1] >= n):
        bad = int(u[0]) if u[0] < -n else int(u[-1])
        raise IndexError(f"select(): index {bad} out of range for tensor of size "
                         f"{list(w.shape)} at dimension 0")
    rows = w[u]
    p = float(norm_type)
    a = xp.abs(rows)
    if p == 2.0:
        norm = xp.sqrt((a * a).sum(1))
    elif p == float("inf"):
        norm = a.max(1, initial=0)
    elif p == float("-inf"):
        norm = a.min(1) if a.shape[1] else xp.zeros(a.shape[0])
    elif p == 0.0:
        norm = (a != 0).sum(1)
    elif p == 1.0:
        norm = a.sum(1)
    else:
        norm = (a ** p).sum(1) ** (1.0 / p)
    norm = norm.astype(xp.float64)
    big = norm > max_norm
    if big.any():
        scale = (max_norm / (norm[big] + 1e-7)).astype(w.dtype)
        w[u[big]] = rows[big] * scale[:, None]
    weight._vc[0] += 1
    return weight


# ---- embedding bag ------------------------------------------------------------------------------
def _bags(offsets, N, include_last_offset):
    """(number of bags B, equal bag length or None, used length M, bag lengths) from offsets,
    with PyTorch's checks."""
    check_index_dtype(offsets, "embedding_bag", "#2 'offsets'")
    nb = offsets.shape[0]
    if include_last_offset and nb < 1:
        raise RuntimeError("include_last_offset: number of offset should be at least 1")
    if nb == 0:
        return 0, 0, 0, None
    off = offsets.astype(xp.intp)
    if off[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {int(off[0])}")
    if off[-1] > N:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {N} but got "
                           f"offsets[-1] of {int(off[-1])}")
    if include_last_offset:
        lengths = off[1:] - off[:-1]
    else:
        lengths = xp.empty(nb, xp.intp)
        lengths[:-1] = off[1:] - off[:-1]
        lengths[-1] = N - off[-1]
    B = lengths.shape[0]
    if B and lengths.min() < 0:
        i = int(xp.flatnonzero(lengths < 0)[0]) + 1
        raise RuntimeError(f"offsets have to be non-decreasing, but offsets[{i}] = "
                           f"{int(off[i])} is less than offsets[{i - 1}] = {int(off[i - 1])}")
    M = int(off[-1]) if include_last_offset else N
    L = int(lengths[0]) if B and (lengths == lengths[0]).all() else None
    return B, L, M, lengths


class EmbeddingBag(Function):
    """y[b] = sum, mean or max over bag b of weight[indices[k]] (times per_sample_weights[k]).

    Bags are the rows of a 2-D ``indices`` (offsets None), or the runs of a 1-D ``indices`` that
    ``offsets`` start (entries past the last offset with ``include_last_offset`` are in no bag).
    Entries equal to ``padding_idx`` are left out of their bag; an empty bag gives zeros.
    ``mode`` is "sum", "mean" or "max"; ``psw`` (per-sample weights, "sum" only) has
    ``indices``' shape or is None.
    """

    @staticmethod
    def forward(ctx: Context, w, idx, offsets, psw, mode, include_last_offset, padding_idx,
                scale_grad_by_freq):
        _check_bag_dtypes(w, idx, psw)
        n, d = w.shape
        flat = idx.reshape(-1)
        N = flat.shape[0]
        if idx.ndim == 2:
            B, L = idx.shape
            M, lengths = N, None
        else:
            B, L, M, lengths = _bags(offsets, N, include_last_offset)
        if N and (flat.min() < 0 or flat.max() >= n):
            k, v = _first_bad(flat, n)
            raise RuntimeError(f"Index {k} of input takes value {v} which is not in the valid "
                               f"range [0, {n})")
        sel = flat[:M] if M < N else flat
        valid = None
        if padding_idx is not None:
            valid = sel != padding_idx
            if valid.all():
                valid = None
        bag_of = None if L is not None else xp.repeat(xp.arange(B), lengths)
        coef = None                              # per-entry factor: the weights, 0 at padding
        if mode != "max":
            if psw is not None:
                coef = psw.reshape(-1)[:M]
                if valid is not None:
                    coef = coef * valid
            elif valid is not None:
                coef = valid.astype(w.dtype)
        ctx.B, ctx.L, ctx.M, ctx.mode, ctx.bag_of = B, L, M, mode, bag_of
        ctx.valid, ctx.coef, ctx.cnt = valid, coef, None
        if M == 0:
            y = xp.zeros((B, d), w.dtype)
        else:
            block = _block(sel, valid, coef, bag_of, lengths, B, L, M)
            if block is None:
                y = _reduce_ragged(ctx, w, sel, valid, coef, bag_of, lengths, B)
            else:
                y = _reduce_block(ctx, w, *block)
        if mode == "mean" and M:
            if valid is None:
                cnt = xp.full(B, L, xp.intp) if L is not None else lengths
            else:
                cnt = xp.bincount(xp.flatnonzero(valid) // L if L is not None else
                                  bag_of[valid], minlength=B)
            y /= xp.maximum(cnt, 1).astype(w.dtype)[:, None]
            ctx.cnt = cnt
        if ctx.needs_input_grad:
            ctx.shape, ctx.scale = w.shape, scale_grad_by_freq
            ctx.save_for_backward(idx, w if ctx.needs_input_grad[3] else None)
        return y

    @staticmethod
    def backward(ctx: Context, gy):
        idx, w = ctx.saved_tensors
        (n, d), B, L, M = ctx.shape, ctx.B, ctx.L, ctx.M
        need_w, need_psw = ctx.needs_input_grad[0], ctx.needs_input_grad[3]
        flat = idx.reshape(-1)
        gw = xp.zeros((n, d), gy.dtype) if need_w else None
        gpsw = xp.zeros(flat.shape[0], gy.dtype) if need_psw else None
        if M and ctx.mode == "max":
            if need_w and ctx.max_rows.size:
                # each output element came from one table element: weight[row, j]
                bags = ctx.max_bags
                g = gy if bags is None else gy[bags]
                xp.add.at(gw.reshape(-1), (ctx.max_rows * d + xp.arange(d)).reshape(-1),
                          g.reshape(-1))
        elif M:
            if ctx.cnt is not None:              # mean: an entry's share is 1 / its bag's count
                gy = gy / xp.maximum(ctx.cnt, 1).astype(gy.dtype)[:, None]
            G = gy[ctx.bag_of] if L is None else \
                xp.broadcast_to(gy[:, None, :], (B, L, d)).reshape(M, d)
            sel = flat[:M]
            if need_w:
                coef = ctx.coef
                gw = scatter_rows(sel, G if coef is None else G * coef[:, None], n)
                if ctx.scale:
                    _scale_by_freq(gw, flat, n)
            if need_psw:                         # d y[b] / d psw[k] = weight[idx[k]]
                gp = (G * xp.take(w, sel, axis=0)).sum(1)
                gpsw[:M] = gp if ctx.valid is None else gp * ctx.valid
        if need_psw:
            gpsw = gpsw.reshape(idx.shape)
        return gw, None, None, gpsw, None, None, None, None


def _check_bag_dtypes(w, idx, psw):
    check_index_dtype(idx, "embedding_bag")
    if w.dtype.kind != "f":
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have one of the "
                           f"following scalar types: Half, BFloat16, Float, Double; but got "
                           f"{_type(w)} instead (while checking arguments for embedding_bag)")
    if psw is not None and psw.dtype != w.dtype:
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have the same type as "
                           f"tensor for argument #1 'per_sample_weights'; but type {_type(w)} "
                           f"does not equal {_type(psw)} (while checking arguments for "
                           f"embedding_bag)")


def _block(sel, valid, coef, bag_of, lengths, B, L, M):
    """The bags as a (B, Lmax) block: (table rows, entry mask or None, entry factors or None),
    with empty slots masked off; None when the bags are too ragged for a block to pay."""
    if L is not None:
        return (sel.reshape(B, L), None if valid is None else valid.reshape(B, L),
                None if coef is None else coef.reshape(B, L))
    Lmax = int(lengths.max())
    if B * Lmax > 2 * M + 64:
        return None
    pos = xp.arange(M) - xp.repeat(xp.cumsum(lengths) - lengths, lengths)
    I2 = xp.zeros((B, Lmax), sel.dtype)
    I2[bag_of, pos] = sel
    V2 = xp.zeros((B, Lmax), xp.bool_)
    V2[bag_of, pos] = True if valid is None else valid
    C2 = None
    if coef is not None:
        C2 = xp.zeros((B, Lmax), coef.dtype)
        C2[bag_of, pos] = coef
    return I2, V2, C2


def _reduce_block(ctx, w, I2, V2, C2):
    """Sum (mean's numerator) or max over the bags of a block (see ``_block``); for max with a
    graph, records which table row each output element came from (the first maximum, as
    PyTorch picks it)."""
    B = I2.shape[0]
    E3 = xp.take(w, I2, axis=0)                  # (B, Lmax, d)
    if ctx.mode != "max":
        if C2 is None and V2 is not None:
            C2 = V2.astype(w.dtype)
        if C2 is None:
            return E3.sum(1)
        return xp.matmul(C2[:, None, :], E3)[:, 0]
    empty = None
    if V2 is not None:
        E3 = xp.where(V2[:, :, None], E3, -xp.inf)
        empty = ~V2.any(1)
    if not ctx.needs_input_grad:
        y = E3.max(1)
        if empty is not None:
            y[empty] = 0
        return y
    arg = E3.argmax(1)
    y = xp.take_along_axis(E3, arg[:, None, :], 1)[:, 0]
    rows = I2[xp.arange(B)[:, None], arg]
    bags = None
    if empty is not None and empty.any():
        y[empty] = 0
        bags = xp.flatnonzero(~empty)
        rows = rows[bags]
    ctx.max_bags, ctx.max_rows = bags, rows
    return y


def _reduce_ragged(ctx, w, sel, valid, coef, bag_of, lengths, B):
    """As ``_reduce_block`` for very ragged bags, with segment reductions over the entries."""
    d = w.shape[1]
    if ctx.mode != "max":
        E = xp.take(w, sel, axis=0)
        if coef is not None:
            E *= coef[:, None]
        full = lengths > 0                       # add.reduceat would copy a row for empty bags
        y = xp.zeros((B, d), w.dtype)
        y[full] = xp.add.reduceat(E, (xp.cumsum(lengths) - lengths)[full], axis=0)
        return y
    if valid is not None:
        keep = xp.flatnonzero(valid)
        sel, bag_of = sel[keep], bag_of[keep]
    E = xp.take(w, sel, axis=0)
    y = xp.zeros((B, d), w.dtype)
    bags, rows = xp.zeros(0, xp.intp), xp.zeros((0, d), xp.intp)
    m = E.shape[0]
    if m:
        starts = _run_starts(bag_of)
        bags = bag_of[starts]
        top = xp.maximum.reduceat(E, starts, axis=0)
        y[bags] = top
        if ctx.needs_input_grad:
            seg = xp.repeat(xp.arange(starts.shape[0]), xp.diff(starts, append=m))
            pos = xp.where(~(E < top[seg]), xp.arange(m)[:, None], m)   # E == max (or NaN)
            rows = sel[xp.minimum.reduceat(pos, starts, axis=0)]
    ctx.max_bags, ctx.max_rows = bags, rows
    return y
