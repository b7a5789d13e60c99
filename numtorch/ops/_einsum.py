"""``einsum``'s equation parser: checks an equation against its operands as PyTorch does and
turns it into an explicit one of letters only ('...' expanded, output spelled out)."""
from __future__ import annotations

from ..tensor import Tensor
from .linalg import Einsum

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _split_ellipsis(term, i):
    """(letters before '...', letters after, has_ellipsis) of one operand's subscripts."""
    if "..." in term:
        head, _, tail = term.partition("...")
        if "." in head or "." in tail:
            raise RuntimeError(f"einsum(): found '.' for operand {i} that is not part of any "
                               "ellipsis")
        return head, tail, True
    if "." in term:
        raise RuntimeError(f"einsum(): found '.' for operand {i} that is not part of any ellipsis")
    return term, "", False


def parse(equation: str, shapes):
    """The explicit equation for ``shapes`` ('ij,jk->ik'), after PyTorch's checks."""
    eq = equation.replace(" ", "")
    for k, c in enumerate(eq):
        if not (c in _LETTERS or c in ".,-> "):
            raise RuntimeError(f"einsum(): invalid subscript given at index {k} in the equation "
                               "string, subscripts must be in [a-zA-Z]")
    ins, arrow, out = eq.partition("->")
    terms = ins.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    free = [c for c in _LETTERS if c not in eq]
    parsed, ell_n = [], 0
    for i, (term, shp) in enumerate(zip(terms, shapes)):
        head, tail, has = _split_ellipsis(term, i)
        n = len(head) + len(tail)
        if (not has and n != len(shp)) or (has and n > len(shp)):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) "
                               + ("is more than" if has else "does not match")
                               + f" the number of dimensions ({len(shp)}) for operand {i}"
                               + ("" if has else " and no ellipsis was given"))
        k = len(shp) - n if has else 0
        ell_n = max(ell_n, k)
        parsed.append((head, tail, k))
    ell = "".join(free[:ell_n])
    subs = [head + ell[ell_n - k:] + tail for head, tail, k in parsed]
    sizes: dict = {}
    for i, (s, shp) in enumerate(zip(subs, shapes)):
        seen: dict = {}
        for c, n in zip(s, shp):
            if c in seen and seen[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the "
                                   f"sizes don't match, {n} != {seen[c]}")
            seen[c] = n
        for c, n in seen.items():
            prev = sizes.get(c)
            if prev is not None and n != prev and n != 1 and prev != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {prev}")
            if prev is None or prev == 1:
                sizes[c] = n
    if arrow:
        if "." in out:
            _split_ellipsis(out, "output")
            out = out.replace("...", ell)
        for k, c in enumerate(out):
            if c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
            if c in out[:k]:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   "the output")
    else:
        counts: dict = {}
        for s in subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return ",".join(subs) + "->" + out


def einsum(equation, *operands):
    """Einstein summation over the operands, as ``torch.einsum``: e.g. ``'bij,bjk->bik'``.
    Supports '...', an implicit output (letters seen once, sorted), size-1 broadcasting, and
    repeated letters within an operand (traces, diagonals: ``'ii'``, ``'bii->bi'``)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for o in operands:
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum(): operands must be Tensors, not {type(o).__name__}")
    eq = parse(equation, [o._data.shape for o in operands])
    d0 = operands[0]._data.dtype
    for o in operands[1:]:
        if o._data.dtype != d0:
            from ._common import type_name
            raise RuntimeError(f"expected scalar type {type_name(operands[0])} but found "
                               f"{type_name(o)}")
    return Einsum.apply(eq, *operands)

