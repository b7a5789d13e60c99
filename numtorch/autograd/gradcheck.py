"""Numerical gradient checking by central differences (``numtorch.autograd.gradcheck``)."""
from __future__ import annotations

import warnings

from .. import backend
from ..tensor import Tensor
from .engine import grad as _grad
from .grad_mode import no_grad

xp = backend.xp


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree."""


def _outputs(func, inputs):
    out = func(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))


def _flat_out(func, inputs):
    with no_grad():
        outs = _outputs(func, inputs)
    return xp.concatenate([o._data.astype(xp.float64).reshape(-1) for o in outs]) if outs \
        else xp.zeros(0)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              fast_mode=False, nondet_tol=0.0, check_undefined_grad=True, seed=0, **kwargs):
    """Compare autograd's gradients of ``func(*inputs)`` with central differences.

    Every Tensor input with ``requires_grad`` is checked; use float64 inputs. With ``fast_mode``
    the Jacobian is probed along one random direction on each side (cheaper for large inputs).
    Returns True, or raises ``GradcheckError`` (or returns False if ``raise_exception`` is False).
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i in diff:
        if inputs[i]._data.dtype != xp.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point tensor; gradcheck may fail from rounding.", stacklevel=2)
    rng = xp.random.default_rng(seed)
    outs = _outputs(func, inputs)
    out_sizes = [o._data.size for o in outs]
    n_out = sum(out_sizes)
    diff_outs = [o for o in outs if o.requires_grad]

    def analytic_vjp(v):
        """Gradients of sum(v * outputs) w.r.t. the differentiable inputs."""
        if not diff_outs:
            return [xp.zeros(inputs[i]._data.shape) for i in diff]
        pieces, k = [], 0
        for o, n in zip(outs, out_sizes):
            if o.requires_grad:
                pieces.append((o, Tensor._make(v[k:k + n].reshape(o._data.shape).astype(
                    o._data.dtype))))
            k += n
        gs = _grad([p[0] for p in pieces], [inputs[i] for i in diff], [p[1] for p in pieces],
                   retain_graph=True, allow_unused=True)
        return [xp.zeros(inputs[i]._data.shape) if g is None else g._data.astype(xp.float64)
                for i, g in zip(diff, gs)]

    def numeric_jvp(i, u):
        x = inputs[i]._data
        orig = x.copy()
        x[...] = orig + eps * u
        plus = _flat_out(func, inputs)
        x[...] = orig - eps * u
        minus = _flat_out(func, inputs)
        x[...] = orig
        return (plus - minus) / (2 * eps)

    if fast_mode:
        v = rng.standard_normal(n_out)
        an = analytic_vjp(v)
        for k, i in enumerate(diff):
            u = rng.standard_normal(inputs[i]._data.shape)
            num = float(v @ numeric_jvp(i, u))
            ana = float((an[k] * u).sum())
            if not abs(num - ana) <= atol + rtol * abs(num):
                return _fail(raise_exception, f"Jacobian mismatch for output 0 with respect to "
                             f"input {i} along a random direction: numerical {num:.8g} vs "
                             f"analytical {ana:.8g}")
        return True
    for k, i in enumerate(diff):
        x = inputs[i]._data
        num = xp.zeros((x.size, n_out))
        for j in range(x.size):
            u = xp.zeros(x.size)
            u[j] = 1
            num[j] = numeric_jvp(i, u.reshape(x.shape))
        ana = xp.zeros((x.size, n_out))
        for j in range(n_out):
            v = xp.zeros(n_out)
            v[j] = 1
            ana[:, j] = analytic_vjp(v)[k].reshape(-1)
        bad = ~(xp.abs(num - ana) <= atol + rtol * xp.abs(num))
        if bad.any():
            r, c = map(int, xp.argwhere(bad)[0])
            return _fail(raise_exception, f"Jacobian mismatch for output 0 with respect to input "
                         f"{i} at (input element {r}, output element {c}): numerical "
                         f"{num[r, c]:.8g} vs analytical {ana[r, c]:.8g}\nnumerical:\n{num}\n"
                         f"analytical:\n{ana}")
    return True


def _fail(raise_exception, msg):
    if raise_exception:
        raise GradcheckError(msg)
    return False
