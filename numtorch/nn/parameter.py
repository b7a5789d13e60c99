"""Parameter and Buffer: the Tensor kinds that Modules register when assigned as attributes."""
from __future__ import annotations

from ..tensor import Tensor, _new

__all__ = ["Parameter", "Buffer"]

_SLOTS = [n for n in Tensor.__slots__ if n not in ("__weakref__", "__dict__")]


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning it to a Module attribute registers it.

    Args:
        data (Tensor): the values; the parameter shares their memory (no copy).
            Default: an empty float tensor.
        requires_grad (bool): whether the parameter requires gradient. Default: ``True``
    """

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        p = _new(cls)
        t = Tensor._make(data._data)
        for name in _SLOTS:  # every field a fresh tensor has, whatever Tensor defines
            try:
                setattr(p, name, getattr(t, name))
            except AttributeError:
                pass
        p._vc = data._vc
        p.requires_grad_(requires_grad)
        return p

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._rg))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(Tensor._make(self._data.copy()), self._rg)
        if self.grad is not None:
            result.grad = Tensor._make(self.grad._data.copy())
        memo[id(self)] = result
        return result


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class _BufferMeta(type):
    # isinstance(t, Buffer) is True for tensors flagged by Buffer(...)
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """A Tensor that is module state but not a parameter: assigning it to a Module attribute
    registers it as a buffer.

    Args:
        data (Tensor): buffer tensor (shares memory).
        persistent (bool): whether the buffer is part of the module's ``state_dict``.
            Default: ``True``
    """

    def __new__(cls, data=None, *, persistent: bool = True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t
