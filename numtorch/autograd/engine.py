"""Reverse-mode engine: walks the graph of Contexts in topological order, iteratively."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from .anomaly_mode import checked_backward as _checked_backward, state as _anomaly
from .function import Context

_ndarray = backend.ndarray
_asarray = backend.asarray


def _unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``, undoing broadcasting."""
    nd = g.ndim - len(shape)
    if nd > 0:
        g = g.sum(axis=tuple(range(nd)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if type(g) is not backend.ndarray:
        g = backend.asarray(g)
    if g.shape != shape:
        raise RuntimeError(f"autograd: gradient of shape {tuple(g.shape)} does not match its input "
                           f"of shape {tuple(shape)}")
    return g


def _check_versions(node: Context) -> None:
    for vc, version, which in node._versions:
        if vc[0] != version:
            what = "the output" if which == "output" else f"input {which}"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {what} of {node.name()} is at version {vc[0]}; expected "
                f"version {version} instead.")


_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed). Saved intermediate values of the graph are freed "
          "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
          "backward through the graph a second time or if you need to access saved tensors after "
          "calling backward.")


def _count_dependencies(starts) -> dict:
    """For every node reachable from ``starts``, the number of edges that lead into it."""
    deps: dict = {}
    todo = list(starts)
    roots = set(starts)
    while todo:
        for m in todo.pop().next:
            if m.__class__ is Context:
                if m in deps:
                    deps[m] += 1
                else:
                    deps[m] = 1
                    if m not in roots:
                        todo.append(m)
    return deps


def _accumulate(t, g) -> None:
    """Add ``g`` into ``t.grad`` (creating it), out of place so no other array is touched."""
    g = g.copy() if t.grad is None else t.grad._data + g
    t.grad = Tensor._make(g if g.__class__ is _ndarray else _asarray(g))


def _node_extras(node, g, capture, capture_nodes):
    """Tensor hooks, retain_grad and autograd.grad capture of a non-leaf's gradient."""
    if node.hooks:
        for h in node.hooks:
            r = h(Tensor._make(g))
            if r is not None:
                g = r._data
    if node.retained is not None:  # NOTE: torch runs retain_grad after the tensor's hooks
        t = node.retained()
        if t is not None:
            _accumulate(t, g)
    if capture_nodes is not None and node in capture_nodes:
        capture[capture_nodes[node]] = g
    return g


def run(roots, retain_graph: bool, capture=None, accumulate: bool = True):
    """Backpropagate from ``roots``: a list of (Tensor, gradient array).

    Leaves' gradients accumulate into ``.grad`` when ``accumulate``. ``capture`` maps tensors
    (leaf or not) to None and receives their gradients instead (``autograd.grad``).
    """
    grads: dict = {}
    leaf_grads: dict = {}
    starts = []
    for t, g in roots:
        node = t._node
        if node is None:
            _add(leaf_grads, t, g)
        elif node in grads:
            grads[node] = grads[node] + g
        else:
            grads[node] = g
            starts.append(node)
    deps = _count_dependencies(starts)
    ready = [n for n in starts if n not in deps]
    anomaly = _anomaly.enabled
    capture_nodes = None
    if capture:
        capture_nodes = {t._node: t for t in capture if t._node is not None}
    while ready:
        node = ready.pop()
        g = grads.pop(node)
        if node.hooks is not None or node.retained is not None or capture_nodes is not None:
            g = _node_extras(node, g, capture, capture_nodes)
        if node.freed:
            raise RuntimeError(_FREED)
        if node._versions is not None:
            _check_versions(node)
        gin = _checked_backward(node, g) if anomaly else node.fn.backward(node, g)
        if gin.__class__ is not tuple:
            gin = (gin,)
        if not retain_graph:
            node.freed = True
            node.saved_tensors = None
        for m, gx, meta in zip(node.next, gin, node.meta):
            if gx is None or m is None:
                continue
            shape, dt = meta
            if gx.shape != shape:
                gx = _unbroadcast(gx, shape)
            if gx.dtype is not dt and gx.dtype != dt:
                gx = gx.astype(dt)
            if m.__class__ is Context:
                prev = grads.get(m)
                grads[m] = gx if prev is None else prev + gx
                left = deps[m] - 1
                deps[m] = left
                if not left:
                    ready.append(m)
            else:
                prev = leaf_grads.get(m)
                leaf_grads[m] = gx if prev is None else prev + gx
    _finish_leaves(leaf_grads, capture, accumulate)


def _finish_leaves(leaf_grads, capture, accumulate) -> None:
    """Run leaf hooks, then store or accumulate each leaf's total gradient into ``.grad``."""
    assigned = set()
    for t, g in leaf_grads.items():
        if g.__class__ is not _ndarray:     # a ufunc on 0-d arrays returns a NumPy scalar
            g = _asarray(g)
        if t._hooks:
            for h in t._hooks:
                r = h(Tensor._make(g))
                if r is not None:
                    g = r._data
        if capture is not None and t in capture:
            capture[t] = g
            continue
        if not accumulate:
            continue
        if t.grad is None:
            # own the array: it may be shared with another leaf, a view, or read-only
            if id(g) in assigned or g.base is not None or not g.flags.writeable:
                g = g.copy()
            assigned.add(id(g))
            t.grad = Tensor._make(g)
        else:
            t.grad._data += g
        if t._post_hooks:
            for h in t._post_hooks:
                h(t)


def _add(d: dict, t, g) -> None:
    if t in d:
        d[t] = d[t] + g
    else:
        d[t] = g


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute the gradient of ``tensors`` w.r.t. graph leaves, accumulating into ``.grad``."""
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported")
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    roots = _roots(tensors, grad_tensors, "backward")
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        cap = {t: None for t in inputs}
        run(roots, bool(retain_graph), capture=cap, accumulate=False)
        for t, g in cap.items():
            if g is not None:
                _accumulate(t, g)
        return
    run(roots, bool(retain_graph))


def _roots(tensors, grads, what):
    roots = []
    for t, g in zip(tensors, grads):
        if not t._rg:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got "
                                   f"an output of shape {tuple(t._data.shape)}: pass gradient=")
            d = t._data
            ga = backend.xp.array(1, d.dtype)           # cheaper than ones_like
            if d.ndim:
                ga = ga.reshape(d.shape)
        else:
            ga = g._data if isinstance(g, Tensor) else backend.asarray(g)
            if ga.shape != t._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                                   f"{tuple(ga.shape)} and output[0] has a shape of "
                                   f"{tuple(t._data.shape)}.")
            ga = ga.astype(t._data.dtype, copy=False)
        roots.append((t, ga))
    return roots


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` w.r.t. ``inputs`` as a tuple, without touching ``.grad``."""
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported")
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    if isinstance(outputs, Tensor):
        outputs = (outputs,)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    for t in inputs:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    cap = {t: None for t in inputs}
    run(_roots(outputs, grad_outputs, "grad"), bool(retain_graph), capture=cap, accumulate=False)
    result = []
    for t in inputs:
        g = cap[t]
        if g is None:
            if materialize_grads:
                result.append(Tensor._make(backend.xp.zeros_like(t._data)))
                continue
            if not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            result.append(None)
        else:
            result.append(Tensor._make(g.copy() if g.base is not None else g))
    return tuple(result)
