"""Attach the op families to Tensor as methods, operators and in-place variants."""
from __future__ import annotations

from . import backend
from .autograd.grad_mode import state as _grad_state
from .backend import random as _random
from .ops import arith, elementwise, index, inplace, linalg, reduce, shape
from .tensor import Tensor
from .ops._common import broadcast_error, size_arg, type_name, wrap_dim, wrap_int

xp = backend.xp


def _bind(module, names):
    for n in names:
        setattr(Tensor, n, getattr(module, n))


_bind(elementwise, "exp expm1 log log2 log10 log1p sqrt rsqrt sin cos tanh sigmoid reciprocal "
      "neg negative abs relu clamp clip floor ceil trunc fix round sign sgn frac square".split())
_bind(arith, "add sub subtract mul multiply div divide true_divide floor_divide remainder fmod "
      "pow float_power maximum minimum fmax fmin eq ne lt le gt ge greater less greater_equal "
      "less_equal not_equal logical_and logical_or logical_xor logical_not bitwise_and "
      "bitwise_or bitwise_xor bitwise_not isnan isinf isfinite isposinf isneginf equal allclose "
      "isclose".split())
_bind(reduce, "sum nansum mean nanmean prod amax amin max min argmax argmin var std logsumexp norm "
      "cumsum cumprod all any count_nonzero sort argsort topk kthvalue median".split())
_bind(shape, "reshape view view_as reshape_as flatten unflatten permute transpose swapaxes "
      "swapdims t movedim moveaxis expand expand_as broadcast_to squeeze unsqueeze narrow split "
      "chunk tensor_split unbind flip fliplr flipud roll repeat tile repeat_interleave tril "
      "triu select".split())
Tensor.split_with_sizes = lambda self, split_sizes, dim=0: shape.split(self, list(split_sizes), dim)
_bind(index, "gather scatter scatter_add index_select masked_fill nonzero argwhere masked_select "
      "take take_along_dim index_add index_fill".split())
_bind(linalg, "matmul mm bmm mv dot inner outer".split())


def _where(self, condition, other):
    return arith.where(condition, self, other)


def _clone(self, memory_format=None):
    return elementwise.Clone.apply(self)


def _contiguous(self, memory_format=None):
    if self._data.flags.c_contiguous:
        return self
    return elementwise.Contiguous.apply(self)


def _softmax(self, dim, dtype=None):
    from .nn import functional as F
    return F.softmax(self, dim, dtype=dtype)


def _log_softmax(self, dim, dtype=None):
    from .nn import functional as F
    return F.log_softmax(self, dim, dtype=dtype)


Tensor.where = _where
Tensor.clone = _clone
Tensor.contiguous = _contiguous
Tensor.softmax = _softmax
Tensor.log_softmax = _log_softmax
Tensor.T = property(shape.T)
Tensor.mT = property(shape.mT)
Tensor.mH = Tensor.mT
Tensor.H = property(shape.t)
Tensor.__getitem__ = index.getitem
Tensor.__setitem__ = index.setitem


# ---- operators ----------------------------------------------------------------------------
def _rev(fn):
    def r(self, other):
        return fn(other, self)
    return r


def _cmp(fn):
    def c(self, other):
        if not isinstance(other, (Tensor, int, float, bool)) and \
                not isinstance(other, backend.xp.generic):
            return NotImplemented
        return fn(self, other)
    return c


Tensor.__add__ = Tensor.__radd__ = lambda self, other: arith.add(self, other)
Tensor.__sub__ = lambda self, other: arith.sub(self, other)
Tensor.__rsub__ = _rev(arith.sub)
Tensor.__mul__ = Tensor.__rmul__ = lambda self, other: arith.mul(self, other)
Tensor.__truediv__ = lambda self, other: arith.div(self, other)
Tensor.__rtruediv__ = _rev(arith.div)
Tensor.__floordiv__ = lambda self, other: arith.floor_divide(self, other)
Tensor.__rfloordiv__ = _rev(arith.floor_divide)
Tensor.__mod__ = lambda self, other: arith.remainder(self, other)
Tensor.__rmod__ = _rev(arith.remainder)
Tensor.__pow__ = lambda self, other: arith.pow(self, other)
Tensor.__rpow__ = _rev(arith.pow)
Tensor.__matmul__ = lambda self, other: linalg.matmul(self, other)
Tensor.__rmatmul__ = _rev(linalg.matmul)
Tensor.__neg__ = elementwise.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = elementwise.abs
Tensor.__invert__ = arith.bitwise_not
Tensor.__and__ = Tensor.__rand__ = lambda self, other: arith.bitwise_and(self, other)
Tensor.__or__ = Tensor.__ror__ = lambda self, other: arith.bitwise_or(self, other)
Tensor.__xor__ = Tensor.__rxor__ = lambda self, other: arith.bitwise_xor(self, other)
Tensor.__eq__ = _cmp(arith.eq)
Tensor.__ne__ = _cmp(arith.ne)
Tensor.__lt__ = _cmp(arith.lt)
Tensor.__le__ = _cmp(arith.le)
Tensor.__gt__ = _cmp(arith.gt)
Tensor.__ge__ = _cmp(arith.ge)


# ---- in-place variants ------------------------------------------------------------------------
# Without autograd, the arithmetic ones write straight into the tensor's buffer (a ufunc with
# ``out=``); otherwise the result is computed out of place and ``inplace.commit`` writes it in and
# records the graph (through views into their base), checking dtype, shape and leaves as PyTorch.
_commit = inplace.commit


def _needs_graph(self, other) -> bool:
    return _grad_state.enabled and (self._rg or (type(other) is Tensor and other._rg) or
                                    (self._view is not None and self._view[0]._rg))


def _inplace_binary(fn, ufunc):
    bitwise = fn in (arith.bitwise_and, arith.bitwise_or, arith.bitwise_xor)

    def method(self, other, *args, **kwargs):
        if bitwise and self._data.dtype.kind != "f" and (
                type(other) is float or (isinstance(other, Tensor) and
                                         other._data.dtype.kind == "f")):
            src = "Float" if type(other) is float else type_name(other)
            raise RuntimeError(f"result type {src} can't be cast to the desired output type "
                               f"{type_name(self)}")
        if ufunc is None or args or kwargs or _needs_graph(self, other):
            return _commit(self, fn(self, other, *args, **kwargs))
        a = self._data
        o = other._data if isinstance(other, Tensor) else other
        if (type(o) is float and a.dtype.kind != "f") or type(o) is bool or \
                (type(o) is backend.ndarray and o.dtype.kind == "b"):
            return _commit(self, fn(self, other))
        if type(o) is int and a.dtype.kind in "iu":
            o = wrap_int(o, a.dtype)
        if isinstance(o, backend.ndarray) and o.shape != a.shape:
            bs = _bshape(self, other)
            if bs != a.shape:
                raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the "
                                   f"broadcast shape {list(bs)}")
        try:
            ufunc(a, o, out=a, casting="same_kind")
        except TypeError:
            return _commit(self, fn(self, other))
        except ValueError as e:
            if not a.flags.writeable:
                inplace.check_result(self, a)
            raise RuntimeError(str(e)) from None
        self._vc[0] += 1
        return self
    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place version of ``{fn.__name__}``."
    return method


def _bshape(self, other):
    o = other if isinstance(other, Tensor) else Tensor._make(other)
    try:
        return xp.broadcast_shapes(self._data.shape, o._data.shape)
    except ValueError as e:
        raise broadcast_error(self, o, e) from None


for _name, _fn, _uf in (("add_", arith.add, xp.add), ("sub_", arith.sub, xp.subtract),
                        ("mul_", arith.mul, xp.multiply), ("div_", arith.div, xp.true_divide),
                        ("pow_", arith.pow, None), ("remainder_", arith.remainder, None),
                        ("fmod_", arith.fmod, None), ("floor_divide_", arith.floor_divide, None),
                        ("maximum_", arith.maximum, None), ("minimum_", arith.minimum, None),
                        ("bitwise_and_", arith.bitwise_and, None),
                        ("bitwise_or_", arith.bitwise_or, None),
                        ("bitwise_xor_", arith.bitwise_xor, None)):
    setattr(Tensor, _name, _inplace_binary(_fn, _uf))

Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ipow__ = Tensor.pow_
Tensor.__imod__ = Tensor.remainder_
Tensor.__ifloordiv__ = Tensor.floor_divide_
Tensor.__iand__ = Tensor.bitwise_and_
Tensor.__ior__ = Tensor.bitwise_or_
Tensor.__ixor__ = Tensor.bitwise_xor_
Tensor.subtract_ = Tensor.sub_
Tensor.multiply_ = Tensor.mul_
Tensor.divide_ = Tensor.div_
Tensor.true_divide_ = Tensor.div_
Tensor.logical_and_ = _inplace_binary(arith.logical_and, None)
Tensor.logical_or_ = _inplace_binary(arith.logical_or, None)


def _inplace_unary(fn):
    def method(self, *args, **kwargs):
        return _commit(self, fn(self, *args, **kwargs))
    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place version of ``{fn.__name__}``."
    return method


for _name in ("neg exp expm1 log log2 log10 log1p sqrt rsqrt sin cos tanh sigmoid reciprocal abs "
              "relu floor ceil trunc round sign sgn frac clamp clip square masked_fill scatter "
              "scatter_add index_fill index_add tril triu logical_not bitwise_not fix").split():
    _src = getattr(Tensor, _name, None)
    if _src is not None:
        setattr(Tensor, _name + "_", _inplace_unary(_src))
Tensor.negative_ = Tensor.neg_


def _fill_(self, value):
    """Fill with ``value`` (a number or a 0-dim tensor) in place."""
    return inplace.fill(self, value)


def _zero_(self):
    """Fill with zeros in place."""
    return inplace.fill(self, 0)


def _copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, converted to this dtype) into this tensor in place."""
    return inplace.copy(self, src)


Tensor.fill_ = _fill_
Tensor.zero_ = _zero_
Tensor.copy_ = _copy_


def _random_fill(draw):
    def method(self, *args, generator=None, **kwargs):
        values = draw(_random.gen(generator), self._data.shape, *args, **kwargs)
        return inplace.fill(self, values)
    return method


Tensor.uniform_ = _random_fill(lambda g, s, a=0.0, b=1.0: g.uniform(a, b, s))
Tensor.normal_ = _random_fill(lambda g, s, mean=0.0, std=1.0: g.normal(mean, std, s))
Tensor.bernoulli_ = _random_fill(lambda g, s, p=0.5: g.random(s) < p)
Tensor.exponential_ = _random_fill(lambda g, s, lambd=1.0: g.exponential(1.0 / lambd, s))
Tensor.random_ = _random_fill(lambda g, s, a=0, b=None: g.integers(
    0 if b is None else a, a if b is None else b, s))


def _lerp(self, end, weight):
    """self + weight * (end - self)."""
    return arith.add(self, arith.mul(arith.sub(end, self), weight))


def _addcmul(self, tensor1, tensor2, *, value=1):
    return arith.add(self, arith.mul(arith.mul(tensor1, tensor2), value))


def _addcdiv(self, tensor1, tensor2, *, value=1):
    return arith.add(self, arith.mul(arith.div(tensor1, tensor2), value))


Tensor.lerp = _lerp
Tensor.addcmul = _addcmul
Tensor.addcdiv = _addcdiv
Tensor.lerp_ = _inplace_unary(_lerp)
Tensor.addcmul_ = _inplace_unary(_addcmul)
Tensor.addcdiv_ = _inplace_unary(_addcdiv)


def _view_inplace(fn):
    def method(self, *args):
        if _grad_state.enabled and self._rg and self._node is None:
            raise RuntimeError(inplace.LEAF)
        out = fn(self, *args)
        self._data = out._data
        if out._node is not None:
            self._node = out._node
        if self._view is not None:
            self._view = out._view
        return self
    method.__name__ = fn.__name__ + "_"
    return method


Tensor.t_ = _view_inplace(shape.t)
Tensor.transpose_ = _view_inplace(shape.transpose)
Tensor.swapaxes_ = Tensor.swapdims_ = Tensor.transpose_
Tensor.squeeze_ = _view_inplace(shape.squeeze)
Tensor.unsqueeze_ = _view_inplace(shape.unsqueeze)


def _resize_(self, *sizes):
    s = size_arg(sizes)
    new = xp.zeros(s, self._data.dtype)
    flat = self._data.reshape(-1)
    n = min(flat.size, new.size)
    new.reshape(-1)[:n] = flat[:n]
    self._data = new
    return self


Tensor.resize_ = _resize_


def _apply_(self, fn):
    self._data[...] = xp.vectorize(fn)(self._data)
    return self


Tensor.apply_ = _apply_


def _unfold(self, dimension, size, step):
    """All windows of length ``size`` taken every ``step`` along ``dimension`` (a new last
    dimension)."""
    d = wrap_dim(dimension, self._data.ndim)
    n = (self._data.shape[d] - size) // step + 1
    windows = [shape.narrow(self, d, i * step, size) for i in range(n)]
    return shape.stack(windows, d).movedim(d + 1, -1)


Tensor.unfold = _unfold
