"""Matrix products: matmul (with batch broadcasting), mm/bmm/mv/dot/inner/outer, the fused linear
map, and einsum (with '...', implicit output, broadcasting, traces and diagonals)."""
from __future__ import annotations

from ..autograd.function import Context, Function
from ..backend.threads import matmul as _mm

xp = Context.xp
_add_reduce = xp.add.reduce  # ndarray.sum without NumPy's Python wrapper

#: PyTorch's C type names, used in its dtype-mismatch messages
_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}


def _shape_str(s):
    return "x".join(str(v) for v in s)


def _c_name(t):
    return _C_NAMES.get(t._data.dtype.name, t._data.dtype.name)


class MatMul(Function):
    """y = x1 @ x2 with NumPy/PyTorch matmul semantics (1-D operands promoted, batch broadcast)."""

    @staticmethod
    def forward(ctx: Context, x1, x2):
        ctx.save_for_backward(x1, x2)
        return _mm(x1, x2)

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
            g1 = _mm(g, xp.swapaxes(b, -1, -2))
            if x1.ndim == 1:
                g1 = g1[..., 0, :]
        if need[1]:
            g2 = _mm(xp.swapaxes(a, -1, -2), g)
            if x2.ndim == 1:
                g2 = g2[..., 0]
        return g1, g2


class Linear(Function):
    """y = x @ w.T + b, with x of shape (*, in) folded to 2-D for one BLAS call."""

    @staticmethod
    def forward(ctx: Context, x, w, b):
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        y = _mm(x2, w.T)
        if b is not None:
            y += b
        ctx.save_for_backward(x, w)
        return y.reshape(x.shape[:-1] + (w.shape[0],)) if x.ndim != 2 else y

    @staticmethod
    def backward(ctx: Context, gy):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        if x.ndim == 2:
            gx = _mm(gy, w) if need[0] else None
            gw = _mm(gy.T, x) if need[1] else None
            return gx, gw, (_add_reduce(gy, 0) if need[2] else None)
        g2 = gy.reshape(-1, gy.shape[-1])
        gx = _mm(g2, w).reshape(x.shape) if need[0] else None
        gw = _mm(g2.T, x.reshape(-1, x.shape[-1])) if need[1] else None
        gb = _add_reduce(g2, 0) if need[2] else None
        return gx, gw, gb


class Einsum(Function):
    """y = einsum(eq, *xs) for an explicit equation of letters ('ij,jk->ik'); a letter repeated
    within one operand takes its diagonal, size-1 dimensions broadcast."""

    @staticmethod
    def forward(ctx: Context, eq, *xs):
        ctx.eq = eq
        ctx.save_for_backward(*xs)
        return xp.asarray(xp.einsum(eq, *xs, optimize=_optimize(xs)))

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
            s = subs[i]
            uniq = "".join(dict.fromkeys(s))
            size = {c: x.shape[s.index(c)] for c in uniq}
            others = [t for j, t in enumerate(subs) if j != i]
            avail = set(out).union(*others)
            target = "".join(c for c in uniq if c in avail)
            ops = [gy] + [xs[j] for j in range(len(xs)) if j != i]
            g = xp.einsum(",".join([out] + others) + "->" + target, *ops, optimize=_optimize(ops))
            wide = tuple(k for k, c in enumerate(target) if size[c] == 1 and g.shape[k] != 1)
            if wide:                                 # x broadcast along these letters
                g = g.sum(axis=wide, keepdims=True)
            if target != uniq:                       # letters summed inside x alone
                g = xp.broadcast_to(g.reshape([size[c] if c in avail else 1 for c in uniq]),
                                    [size[c] for c in uniq])
            if uniq != s:                            # repeated letters: write the diagonal
                gx = xp.zeros(x.shape, gy.dtype)
                xp.einsum(s + "->" + uniq, gx)[...] = g
                g = gx
            grads.append(g)
        return tuple(grads)


def _optimize(arrays) -> bool:
    """NumPy's BLAS-backed contraction path pays off for three operands or big ones."""
    if len(arrays) > 2:
        return True
    n = 1
    for a in arrays:
        n *= max(a.size, 1)
    return n > 1 << 20


# ---- checks and entry points ------------------------------------------------------------------
def _same_dtype(a, b, what="expected m1 and m2 to have the same dtype, but got: {} != {}"):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(what.format(_c_name(a), _c_name(b)))


def matmul(input, other):
    """Matrix product with PyTorch's rules: 1-D operands are promoted, batch dims broadcast."""
    s1, s2 = input._data.shape, other._data.shape
    n1, n2 = len(s1), len(s2)
    if not n1 or not n2:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{n1}D and {n2}D")
    k1 = s1[-1]
    k2 = s2[0] if n2 == 1 else s2[-2]
    both = f"; matmul of shapes {list(s1)} and {list(s2)}"
    if k1 != k2:
        if n1 == 1 and n2 == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{k1}] and src [{k2}] "
                               f"to have the same number of elements, but got {k1} and {k2} "
                               f"elements respectively")
        if n1 <= 2 and n2 == 1:
            raise RuntimeError(f"size mismatch, got input ({s1[0]}), mat ({_shape_str(s1)}), "
                               f"vec ({k2})")
        if n1 <= 2 and n2 <= 2:
            a = s1 if n1 == 2 else (1,) + s1
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(a)} and "
                               f"{_shape_str(s2)})")
        batch = s1[:-2] if n1 > 2 else s2[:-2]
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{_prod(batch)}, {k1}] but got: [{_prod(batch)}, {k2}]." + both)
    if n1 > 2 and n2 > 2:
        try:
            xp.broadcast_shapes(s1[:-2], s2[:-2])
        except ValueError:
            b1, b2 = s1[:-2], s2[:-2]
            m = max(len(b1), len(b2))
            b1, b2 = (1,) * (m - len(b1)) + b1, (1,) * (m - len(b2)) + b2
            d = next(i for i in range(m) if b1[i] != b2[i] and 1 not in (b1[i], b2[i]))
            raise RuntimeError(f"The size of tensor a ({b1[d]}) must match the size of tensor b "
                               f"({b2[d]}) at non-singleton dimension {d}" + both) from None
    _same_dtype(input, other)
    return MatMul.apply(input, other)


def _prod(s):
    n = 1
    for v in s:
        n *= v
    return n


def mm(input, mat2):
    """Product of two 2-D matrices."""
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched product of (b, n, m) and (b, m, p) tensors."""
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    s1, s2 = input._data.shape, mat2._data.shape
    if s2[:2] != (s1[0], s1[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{s1[0]}, {s1[2]}] but got: [{s2[0]}, {s2[1]}].")
    return matmul(input, mat2)


def mv(input, vec):
    """Product of a matrix and a vector."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, "
                           f"{vec._data.ndim}")
    _same_dtype(input, vec, "addmv input tensors must have the same dtype, but got {0}, {1}, and "
                            "{0}")
    return matmul(input, vec)


def dot(input, other):
    """Inner product of two 1-D tensors."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{other._data.ndim}D tensors")
    if input._data.dtype != other._data.dtype:
        from ._common import type_name
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{type_name(input)} and {type_name(other)}")
    return matmul(input, other)


vdot = dot


def inner(input, other):
    """Sum of products over the last dimension: shape ``input.shape[:-1] + other.shape[:-1]``
    (a product when either is 0-D)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    s1, s2 = input._data.shape, other._data.shape
    if s1[-1] != s2[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(s1)} and {list(s2)}")
    if len(s1) == 1 and len(s2) == 1:
        return dot(input, other)
    k = s1[-1]
    y = matmul(input.reshape(-1, k), other.reshape(-1, k).t())
    return y.reshape(s1[:-1] + s2[:-1])


def outer(input, vec2):
    """Outer product of two 1-D tensors."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got "
                               f"{t._data.ndim}-D")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias.

    Shape: input (*, in), weight (out, in) or (in,), bias broadcastable to (*, out).
    """
    x, wd = input._data, weight._data
    a, w = x.shape, wd.shape
    if a and len(w) == 2 and a[-1] == w[1] and x.dtype == wd.dtype and (
            bias is None or (bias._data.shape == (w[0],) and bias._data.dtype == wd.dtype)):
        return Linear.apply(input, weight, bias)     # the common case, all checks passed
    if not a or not w:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{len(a)}D and {len(w)}D")
    if len(w) > 2 or a[-1] != w[-1]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_prod(a[:-1])}x{a[-1]} "
                           f"and {_shape_str(w[::-1])})")
    _same_dtype(input, weight)
    if bias is not None and bias._data.dtype != weight._data.dtype:
        from ._common import type_name
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {type_name(bias)} "
                           f"and {type_name(weight)}")
    if len(w) == 1:                              # a weight vector: y = input @ weight
        if len(a) == 2 and bias is not None:     # NOTE: torch's addmm path refuses this one
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        y = matmul(input, weight)
        return y if bias is None else y + bias
    if bias is not None and bias._data.ndim > 1:
        return Linear.apply(input, weight, None) + bias
    if bias is not None and bias._data.shape not in ((), (1,), (w[0],)):
        out = list(a[:-1]) + [w[0]]
        raise RuntimeError(f"The expanded size of the tensor ({w[0]}) must match the existing "
                           f"size ({bias._data.shape[0]}) at non-singleton dimension "
                           f"{len(out) - 1}.  Target sizes: {out}.  Tensor sizes: "
                           f"{list(bias._data.shape)}")
    return Linear.apply(input, weight, bias)


from ._einsum import einsum  # noqa: E402,F401  (the equation parser lives apart)
