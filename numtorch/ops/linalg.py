"""Matrix products: matmul (with batch broadcasting), the fused linear map, and einsum."""
from __future__ import annotations

from ..autograd.function import Context, Function

xp = Context.xp


def _shape_str(s):
    return "x".join(str(v) for v in s) if s else "scalar"


class MatMul(Function):
    """y = x1 @ x2 with NumPy/PyTorch matmul semantics (1-D operands promoted, batch broadcast)."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        ctx.save_for_backward(x1, x2)
        return xp.matmul(x1, x2)

    @staticmethod
    def backward(ctx: Context, gy):
        x1, x2 = ctx.saved_tensors
        need = ctx.needs_input_grad
        if x1.ndim == 1 and x2.ndim == 1:
            return (gy * x2 if need[0] else None), (gy * x1 if need[1] else None)
        a = x1[None, :] if x1.ndim == 1 else x1
        b = x2[:, None] if x2.ndim == 1 else x2
        g = gy
        if x1.ndim == 1:
            g = xp.expand_dims(g, -2)
        if x2.ndim == 1:
            g = xp.expand_dims(g, -1)
        g1 = g2 = None
        if need[0]:
            g1 = xp.matmul(g, xp.swapaxes(b, -1, -2))
            if x1.ndim == 1:
                g1 = g1[..., 0, :]
        if need[1]:
            g2 = xp.matmul(xp.swapaxes(a, -1, -2), g)
            if x2.ndim == 1:
                g2 = g2[..., 0]
        return g1, g2


class Linear(Function):
    """y = x @ w.T + b, with x of shape (*, in) folded to 2-D for one BLAS call."""

    @staticmethod
    def forward(ctx: Context, x, w, b):
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        y = x2 @ w.T
        if b is not None:
            y += b
        ctx.save_for_backward(x2, w)
        ctx.xshape = x.shape
        return y.reshape(x.shape[:-1] + (w.shape[0],)) if x.ndim != 2 else y

    @staticmethod
    def backward(ctx: Context, gy):
        x2, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        g2 = gy.reshape(-1, gy.shape[-1]) if gy.ndim != 2 else gy
        gx = (g2 @ w).reshape(ctx.xshape) if need[0] else None
        gw = g2.T @ x2 if need[1] else None
        gb = g2.sum(0) if need[2] else None
        return gx, gw, gb


class Einsum(Function):
    """y = einsum(equation, *xs) for equations whose operands have no repeated subscripts."""

    @staticmethod
    def forward(ctx: Context, eq, *xs):
        ctx.eq = eq
        ctx.save_for_backward(*xs)
        return xp.asarray(xp.einsum(eq, *xs, optimize=len(xs) > 2))

    @staticmethod
    def backward(ctx: Context, gy):
        xs = ctx.saved_tensors
        ins, out = ctx.eq.split("->")
        subs = ins.split(",")
        grads = [None]
        for i, x in enumerate(xs):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(subs) if j != i]
            avail = set(out).union(*others) if others else set(out)
            target = "".join(c for c in subs[i] if c in avail)
            ops = [gy] + [xs[j] for j in range(len(xs)) if j != i]
            g = xp.einsum(",".join([out] + others) + "->" + target, *ops,
                          optimize=len(ops) > 2)
            if target != subs[i]:
                shape = [x.shape[k] if c in avail else 1 for k, c in enumerate(subs[i])]
                g = xp.broadcast_to(g.reshape(shape), x.shape)
            grads.append(g)
        return tuple(grads)


def _same_dtype(a, b, name):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{name}: expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype} != {b.dtype}")


def matmul(input, other):
    """Matrix product with PyTorch's rules: 1-D operands are promoted, batch dims broadcast."""
    _same_dtype(input, other, "matmul")
    s1, s2 = input._data.shape, other._data.shape
    if not s1 or not s2:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{len(s1)}D and {len(s2)}D")
    k1 = s1[-1]
    k2 = s2[0] if len(s2) == 1 else s2[-2]
    if k1 != k2:
        a = s1 if len(s1) > 1 else (1,) + s1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(a[-2:])} and "
                           f"{_shape_str(s2[-2:] if len(s2) > 1 else s2)}); matmul of shapes "
                           f"{list(s1)} and {list(s2)}")
    try:
        xp.broadcast_shapes(s1[:-2], s2[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of shapes {list(s1)} and {list(s2)} cannot "
                           f"be broadcast") from None
    return MatMul.apply(input, other)


def mm(input, mat2):
    """Product of two 2-D matrices."""
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input._data.ndim}-D and "
                           f"{mat2._data.ndim}-D")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched product of (b, n, m) and (b, m, p) tensors."""
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input._data.ndim != 3 else
                           "batch2 must be a 3D tensor")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {list(input._data.shape)} and "
                           f"{list(mat2._data.shape)}")
    return matmul(input, mat2)


def mv(input, vec):
    return matmul(input, vec)


def dot(input, other):
    """Inner product of two 1-D tensors."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{other._data.ndim}D tensors")
    if input._data.shape != other._data.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._data.shape[0]}] "
                           f"and src [{other._data.shape[0]}] to have the same number of "
                           "elements, but got different numbers of elements")
    return matmul(input, other)


inner = dot
vdot = dot


def outer(input, vec2):
    """Outer product of two 1-D tensors."""
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias.  Shapes: (*, in), (out, in), (out,) -> (*, out)."""
    if input._data.shape[-1:] != weight._data.shape[-1:] or weight._data.ndim != 2:
        a = input._data.shape
        rows = 1
        for s in a[:-1]:
            rows *= s
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a[-1] if a else 1} "
                           f"and {_shape_str(weight._data.shape[::-1])})")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {input.dtype} and "
                           f"{weight.dtype}")
    if bias is not None and bias._data.dtype != weight._data.dtype:
        raise RuntimeError(f"linear: bias dtype {bias.dtype} differs from weight dtype "
                           f"{weight.dtype}")
    return Linear.apply(input, weight, bias)


def _expand_ellipsis(eq, shapes):
    ins, _, out = eq.partition("->")
    subs = ins.split(",")
    if len(subs) != len(shapes):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the equation"
                           if len(shapes) > len(subs) else
                           "einsum(): fewer operands were provided than specified in the equation")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    ell_n = 0
    for s, shp in zip(subs, shapes):
        if "..." in s:
            ell_n = max(ell_n, len(shp) - (len(s) - 3))
    ell = "".join(free[:ell_n])
    new = []
    for s, shp in zip(subs, shapes):
        if "..." in s:
            k = len(shp) - (len(s) - 3)
            s = s.replace("...", ell[ell_n - k:])
        if len(s) != len(shp):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) does "
                               f"not match the number of dimensions ({len(shp)}) for operand")
        new.append(s)
    if not _:
        counts = {}
        for s in new:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return ",".join(new) + "->" + out


def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``; '...' is supported."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = _expand_ellipsis(equation.replace(" ", ""), [o._data.shape for o in operands])
    for s in eq.split("->")[0].split(","):
        if len(set(s)) != len(s):
            raise NotImplementedError("einsum with a repeated subscript in one operand (a "
                                      "diagonal) is not supported")
    dts = {o._data.dtype for o in operands}
    if len(dts) > 1:
        raise RuntimeError("einsum(): operands do not have the same dtype")
    return Einsum.apply(eq, *operands)

