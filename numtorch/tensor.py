"""Tensor: a backend array, its dtype, its gradient and its place in the autograd graph.

Math methods (``x.exp()``, ``x + y``, ``x.sum(1)``) are attached in ``_tensor_methods`` from the
op families in ``ops/``; this module holds what is the tensor's own: construction, conversion,
autograd state and printing.
"""
from __future__ import annotations

import weakref

from . import backend
from ._device import CPU, Size, _Device, _check_device  # noqa: F401  (re-exported)
from .backend import dtypes as _dt

_new = object.__new__


class _Handle:
    """Removable handle returned by ``register_hook``."""

    def __init__(self, lst, item) -> None:
        self._lst, self._item = lst, item

    def remove(self) -> None:
        if self._item in self._lst:
            self._lst.remove(self._item)


class Tensor:
    """A multi-dimensional array with reverse-mode autograd, like ``torch.Tensor``.

    ``Tensor(data)`` copies nested lists or arrays into a float32 tensor; ``Tensor(2, 3)`` makes
    an uninitialised float32 tensor of that shape (prefer ``numtorch.tensor`` / ``empty``).
    """

    __slots__ = ("_data", "_node", "_rg", "grad", "_vc", "_hooks", "_post_hooks", "__weakref__",
                 "__dict__")
    __array_priority__ = 1000

    def __init__(self, *args, **kwargs) -> None:
        if len(args) == 1 and not isinstance(args[0], int):
            a = args[0]
            data = backend.asarray(a._data if isinstance(a, Tensor) else a,
                                   dtype=_dt.get_default_dtype().np).copy()
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            data = backend.xp.empty(tuple(shape), dtype=_dt.get_default_dtype().np)
        self._data = data
        self._node = None
        self._rg = False
        self.grad = None
        self._vc = [0]
        self._hooks = None
        self._post_hooks = None

    @staticmethod
    def _make(arr) -> "Tensor":
        t = _new(Tensor)
        t._data = arr
        t._node = None
        t._rg = False
        t.grad = None
        t._vc = [0]
        t._hooks = None
        t._post_hooks = None
        return t

    # ---- metadata -------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> _dt.dtype:
        return _dt.from_np(self._data.dtype)

    @property
    def device(self) -> _Device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def layout(self):
        return "strided"

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        """Number of elements."""
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return False

    def is_contiguous(self, memory_format=None) -> bool:
        return self._data.flags.c_contiguous

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def get_device(self) -> int:
        return -1

    # ---- autograd state -------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place (leaves only; floating dtypes only)."""
        if self._node is not None:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                                   "you want to use a computed variable in a subgraph that doesn't "
                                   "require differentiation use var_no_grad = var.detach().")
            return self
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients; got "
                               f"{self.dtype}")
        self._rg = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    @property
    def data(self) -> "Tensor":
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data if isinstance(value, Tensor) else backend.asarray(value)

    @property
    def _version(self) -> int:
        return self._vc[0]

    def _bump(self) -> None:
        self._vc[0] += 1

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is not None:
            self._node.retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self._node is not None and self._node.retained is not None

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces
        the gradient. Returns a handle with ``remove()``."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is None:
            if self._hooks is None:
                self._hooks = []
            lst = self._hooks
        else:
            if self._node.hooks is None:
                self._node.hooks = []
            lst = self._node.hooks
        lst.append(hook)
        return _Handle(lst, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after a leaf's ``.grad`` has been accumulated."""
        if self._node is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return _Handle(self._post_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        ``gradient`` is required unless the tensor has one element. The graph's saved values
        are freed unless ``retain_graph=True``.
        """
        (_engine_backward or _bind_engine())(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut from the graph."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> "Tensor":
        self._node = None
        self._rg = False
        return self

    # ---- conversion -----------------------------------------------------------------------
    def numpy(self, *, force: bool = False):
        """The data as a NumPy array sharing memory (requires_grad tensors must be detached)."""
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return backend.to_host(self._data)

    def __array__(self, dtype=None, copy=None):
        a = backend.to_host(self._data)
        return a if dtype is None else a.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to "
                               "Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        """The data as (nested) Python lists of numbers."""
        return self._data.tolist()

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self._data.shape)})")
        return bool(self._data.reshape(()))

    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self._data.reshape(()))

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol):
        # Differs from torch: tensors pickle only as plain data (for DataLoader worker queues).
        return (_rebuild, (backend.to_host(self._data), self._rg))

    def __deepcopy__(self, memo):
        if self._node is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment.")
        t = type(self).__new__(type(self))
        Tensor.__init__(t, 0)
        t._data = self._data.copy()
        t._rg = self._rg
        t.grad = None if self.grad is None else self.grad.__deepcopy__(memo)
        if hasattr(self, "__dict__"):
            for k, v in self.__dict__.items():
                if k != "_view":        # a copy is no view of the original's base
                    setattr(t, k, v)
        memo[id(self)] = t
        return t

    def __repr__(self) -> str:
        from ._repr import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    # ---- device and dtype moves -----------------------------------------------------------
    def to(self, *args, **kwargs) -> "Tensor":
        """Return a tensor with the given dtype (and/or device ``"cpu"``); ``self`` if nothing
        changes. Accepts ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, _Device)):
                device = a
            elif a is not None:
                dtype = a
        _check_device(device)
        if dtype is None:
            return self.clone() if copy else self
        npd = _dt.to_np(dtype)
        if npd == self._data.dtype and not copy:
            return self
        from .ops.elementwise import ToDtype
        return ToDtype.apply(self, npd)

    def type(self, dtype=None, non_blocking=False):
        """With no argument, the type name (``'numtorch.FloatTensor'``); else ``to(dtype)``
        (a dtype or a type name such as ``'numtorch.DoubleTensor'``)."""
        if dtype is None:
            return f"numtorch.{_dt.TYPE_NAMES[self.dtype.name]}Tensor"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            name = dtype.rsplit(".", 1)[-1][:-len("Tensor")]
            by_name = {v: k for k, v in _dt.TYPE_NAMES.items()}
            if name not in by_name:
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = _dt.as_dtype(by_name[name])
        return self.to(dtype)

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def float(self) -> "Tensor":
        return self.to(_dt.float32)

    def double(self) -> "Tensor":
        return self.to(_dt.float64)

    def half(self) -> "Tensor":
        return self.to(_dt.float16)

    def long(self) -> "Tensor":
        return self.to(_dt.int64)

    def int(self) -> "Tensor":
        return self.to(_dt.int32)

    def short(self) -> "Tensor":
        return self.to(_dt.int16)

    def char(self) -> "Tensor":
        return self.to(_dt.int8)

    def byte(self) -> "Tensor":
        return self.to(_dt.uint8)

    def bool(self) -> "Tensor":
        return self.to(_dt.bool_)

    def cpu(self, memory_format=None) -> "Tensor":
        return self

    def cuda(self, device=None, non_blocking=False):
        _check_device("cuda")

    def pin_memory(self) -> "Tensor":
        return self

    def share_memory_(self) -> "Tensor":
        return self

    def is_pinned(self) -> bool:
        return False

    def is_shared(self) -> bool:
        return False

    # ---- new_* factories ------------------------------------------------------------------
    def _factory_dtype(self, dtype):
        return self._data.dtype if dtype is None else _dt.to_np(dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> "Tensor":
        from .creation import tensor
        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return self._new_filled(size, None, dtype, requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return self._new_filled(size, 0, dtype, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        return self._new_filled(size, 1, dtype, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return self._new_filled((size,), fill_value, dtype, requires_grad)

    def _new_filled(self, size, value, dtype, requires_grad):
        from .creation import _size
        shape = _size(size)
        npd = self._factory_dtype(dtype)
        xp = backend.xp
        arr = xp.empty(shape, npd) if value is None else xp.full(shape, value, npd)
        return Tensor._make(arr).requires_grad_(requires_grad)


_engine_backward = None  # autograd.engine.backward, bound on first use (the engine imports us)


def _bind_engine():
    global _engine_backward
    from .autograd.engine import backward
    _engine_backward = backward
    return backward


def _rebuild(arr, requires_grad):
    t = Tensor._make(arr)
    t._rg = requires_grad
    return t


def _wrap_dim(dim, ndim: int) -> int:
    """Normalise a possibly negative dimension, raising PyTorch's IndexError when out of range."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n if ndim else 0
