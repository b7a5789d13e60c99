"""Hook plumbing for Module: removable handles and full backward (pre-)hooks.

Backward hooks are built from identity views and tensor hooks (no gradient rule of their own):
each grad-requiring input and output of the module is passed through ``view`` so that its
gradient reaches a graph node of its own, where a tensor hook observes (and may replace) it.
"""
from __future__ import annotations

import warnings
import weakref
from collections import OrderedDict

from ...tensor import Tensor


class RemovableHandle:
    """A handle whose ``remove()`` unregisters a hook (also a context manager)."""

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)
        else:
            self.extra_dict_ref = ()

    def remove(self) -> None:
        """Unregister the hook (idempotent)."""
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id)

    def __setstate__(self, state) -> None:
        self.hooks_dict_ref = weakref.ref(state[0] if state[0] is not None else OrderedDict())
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        self.extra_dict_ref = ()

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _identity(t: Tensor) -> Tensor:
    return t.view(t.shape)


class _BackwardState:
    """Gradients of one module call, gathered as they arrive during backward."""

    def __init__(self, module, n_inputs, input_idx, n_outputs) -> None:
        self.module = module
        self.n_inputs, self.input_idx, self.n_outputs = n_inputs, input_idx, n_outputs
        self.grad_inputs = {}
        self.grad_outputs = [None] * n_outputs
        self.outputs_left = self.n_req = 0

    def output_hook(self, i):
        def hook(g):
            self.grad_outputs[i] = g
            self.outputs_left -= 1
            if self.outputs_left:
                return None
            self.outputs_left = self.n_req  # ready for another backward (retain_graph)
            new = None
            for h in self.module._backward_pre_hooks.values():
                res = h(self.module, tuple(self.grad_outputs))
                if res is not None:
                    res = res if isinstance(res, tuple) else (res,)
                    self.grad_outputs = list(res)
                    new = res
            if not self.input_idx:
                warnings.warn("Full backward hook is firing when gradients are computed with "
                              "respect to module outputs since no inputs require gradients. See "
                              "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                              "#torch.nn.Module.register_full_backward_hook for more details.",
                              stacklevel=2)
                self._run((None,) * self.n_inputs)
            return None if new is None else new[i]
        return hook

    def input_hook(self, i):
        def hook(g):
            self.grad_inputs[i] = g
            if len(self.grad_inputs) < len(self.input_idx):
                return None
            grad_input = tuple(self.grad_inputs.get(k) for k in range(self.n_inputs))
            self.grad_inputs = {}
            res = self._run(grad_input)
            if res is None:
                return None
            if len(self.input_idx) > 1:
                raise RuntimeError("numtorch: a full backward hook may replace grad_input only "
                                   "for modules with one grad-requiring tensor input")
            res = res if isinstance(res, tuple) else (res,)
            if len(res) != self.n_inputs:
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                   f"{len(res)}, but expected {self.n_inputs}")
            return res[i]
        return hook

    def _run(self, grad_input):
        out = None
        for h in self.module._backward_hooks.values():
            res = h(self.module, grad_input, tuple(self.grad_outputs))
            if res is not None:
                grad_input = res if isinstance(res, tuple) else (res,)
                out = grad_input
        return out


def call_with_backward_hooks(module, args, kwargs):
    """Run ``module.forward`` with its full backward (pre-)hooks wired into the graph."""
    input_idx = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    args = list(args)
    single = False
    state = _BackwardState(module, len(args), input_idx, 0)
    for i in input_idx:
        args[i] = _identity(args[i])
        args[i].register_hook(state.input_hook(i))
    result = module.forward(*args, **kwargs)
    if isinstance(result, Tensor):
        single, outs = True, [result]
    elif isinstance(result, tuple) and all(isinstance(o, Tensor) for o in result):
        outs = list(result)
    else:
        raise RuntimeError("numtorch: full backward hooks need a module output that is a Tensor "
                           "or a tuple of Tensors")
    state.n_outputs = len(outs)
    state.grad_outputs = [None] * len(outs)
    for i, o in enumerate(outs):
        if o.requires_grad:
            outs[i] = _identity(o)
            outs[i].register_hook(state.output_hook(i))
            state.outputs_left += 1
    state.n_req = state.outputs_left
    return outs[0] if single else tuple(outs)


class _HookMixin:
    """Forward and backward hook registration for Module, and the call path that runs them."""

    def _call_with_hooks(self, args, kwargs):
        for hid, hook in list(self._forward_pre_hooks.items()):
            if hid in self._forward_pre_hooks_with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {res}.")
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        if self._backward_hooks or self._backward_pre_hooks:
            result = call_with_backward_hooks(self, args, kwargs)
        else:
            result = self.forward(*args, **kwargs)
        for hid, hook in list(self._forward_hooks.items()):
            if hid in self._forward_hooks_with_kwargs:
                res = hook(self, args, kwargs, result)
            else:
                res = hook(self, args, result)
            if res is not None:
                result = res
        return result

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` (or ``hook(module, args, kwargs)`` with ``with_kwargs``)
        before each forward; a non-None result replaces the input."""
        handle = RemovableHandle(self._forward_pre_hooks,
                                 extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` (or ``hook(module, args, kwargs, output)``) after
        each forward; a non-None result replaces the output.

        Differs from torch: ``always_call`` is accepted but hooks do not run when forward raises.
        """
        handle = RemovableHandle(self._forward_hooks, extra_dict=[
            self._forward_hooks_with_kwargs, self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the output gradients are computed; a non-None
        result replaces ``grad_output``."""
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once the gradients w.r.t. the module's
        tensor inputs are computed; a non-None result replaces ``grad_input``.

        Differs from torch: the module's output must be a Tensor or a tuple of Tensors.
        """
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on "
                               "a single Module. Please use only one of them.")
        self.__dict__["_is_full_backward_hook"] = True
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook) -> RemovableHandle:
        """Deprecated in torch; here the same as ``register_full_backward_hook``."""
        return self.register_full_backward_hook(hook)
