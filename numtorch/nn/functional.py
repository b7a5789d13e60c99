"""numtorch.nn.functional: stateless layers and activations, composed from ``numtorch.ops``.

No gradient code lives here: every function ends in primitives (``ops/activation.py`` for the
ones that would be slow or unstable as composites). Losses come from ``_functional_loss``.
"""
from __future__ import annotations

import math
import warnings

from .. import backend
from ..autograd.grad_mode import state as _grad_state
from ..backend import random as _random
from ..tensor import Tensor
from ..ops import activation as _act
from ..ops.arith import Where, where
from ..ops.elementwise import relu as _relu, sigmoid, tanh
from ..ops.linalg import linear  # noqa: F401  (F.linear)
from ..ops._common import wrap_dim

xp = backend.xp

_TYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool", "float16": "Half"}


def _float_only(input, kernel):
    """Raise torch's NotImplementedError for integer/bool inputs of float-only kernels."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_TYPE_NAMES.get(input.dtype.name, input.dtype.name)}'")


def _inplace(input, result):
    from .._tensor_methods import _commit
    return _commit(input, result)


def _source(input, inplace):
    """The operand of a composite that will be written back into ``input``: a copy when the
    graph would otherwise save ``input``'s own array (then overwritten)."""
    return input.clone() if inplace and input._rg and _grad_state.enabled else input


# ---- linear maps ------------------------------------------------------------------------------
def bilinear(input1, input2, weight, bias=None):
    """y = x1^T A x2 + b.  Shapes: (*, in1), (*, in2), (out, in1, in2), (out,) -> (*, out)."""
    w = weight._data.shape
    if input1._data.shape[-1] != w[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1._data.shape[-1]} but expected {w[1]}")
    if input2._data.shape[-1] != w[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2._data.shape[-1]} but expected {w[2]}")
    from ..ops.linalg import einsum
    y = einsum("...i,oij,...j->...o", input1, weight, input2)
    return y if bias is None else y + bias


# ---- activations ------------------------------------------------------------------------------
def relu(input, inplace=False):
    """max(x, 0) elementwise."""
    return input.relu_() if inplace else _relu(input)


def relu6(input, inplace=False):
    """min(max(x, 0), 6) elementwise."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp to [min_val, max_val]; the gradient passes strictly inside the interval."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    out = _act.Hardtanh.apply(input, min_val, max_val)
    return _inplace(input, out) if inplace else out


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    _float_only(input, "leaky_relu_cpu")
    out = _act.LeakyRelu.apply(input, float(negative_slope))
    return _inplace(input, out) if inplace else out


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    _float_only(input, "elu_cpu")
    out = _act.Elu.apply(input, float(alpha), 1.0, 1.0)
    return _inplace(input, out) if inplace else out


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha = 1.6733, scale = 1.0507."""
    _float_only(input, "elu_cpu")
    out = _act.Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0)
    return _inplace(input, out) if inplace else out


def celu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x / alpha) - 1)."""
    _float_only(input, "elu_cpu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    out = _act.Elu.apply(input, float(alpha), 1.0, 1.0 / alpha)
    return _inplace(input, out) if inplace else out


def gelu(input, approximate="none"):
    """x * Phi(x) (exact, with erf) or its tanh approximation (``approximate='tanh'``)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _float_only(input, "GeluKernelImpl")
    return _act.Gelu.apply(input, approximate)


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    _float_only(input, "silu_cpu")
    out = _act.Silu.apply(input)
    return _inplace(input, out) if inplace else out


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    _float_only(input, "mish_cpu")
    x = _source(input, inplace)
    out = x * tanh(_act.Softplus.apply(x, 1.0, 20.0))
    return _inplace(input, out) if inplace else out


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    _float_only(input, "hardsigmoid_cpu")
    out = _act.Hardtanh.apply(input + 3.0, 0.0, 6.0) / 6.0
    return _inplace(input, out) if inplace else out


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    _float_only(input, "hardswish_cpu")
    x = _source(input, inplace)
    out = x * (_act.Hardtanh.apply(x + 3.0, 0.0, 6.0) / 6.0)
    return _inplace(input, out) if inplace else out


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, reverting to x where beta x > threshold."""
    _float_only(input, "softplus_cpu")
    return _act.Softplus.apply(input, float(beta), float(threshold))


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def logsigmoid(input):
    """log(sigmoid(x)), computed stably as -softplus(-x)."""
    _float_only(input, "log_sigmoid_cpu")
    return -_act.Softplus.apply(-input, 1.0, math.inf)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - tanh(input)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return input.masked_fill((input >= -lambd) & (input <= lambd), 0)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return input - input.clamp(-lambd, lambd)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    v = Tensor._make(xp.asarray(value, dtype=input._data.dtype))
    out = Where.apply(input > threshold, input, v)
    return _inplace(input, out) if inplace else out


def glu(input, dim=-1):
    """a * sigmoid(b) where a, b are the two halves of ``input`` along ``dim``."""
    if input._data.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.split(n // 2, d)
    return a * sigmoid(b)


def prelu(input, weight):
    """x if x > 0 else weight * x, with one weight per channel (dim 1) or a single one."""
    n = weight._data.size
    ch = input._data.shape[1] if input._data.ndim >= 2 else 1
    if n != 1 and n != ch:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {n} and channel size = {ch}.")
    w = weight
    if n != 1 and input._data.ndim >= 2:
        w = weight.reshape((n,) + (1,) * (input._data.ndim - 2))
    return where(input > 0, input, w * input)


# ---- softmax family ---------------------------------------------------------------------------
def _softmax_dim(ndim):
    warnings.warn("Implicit dimension choice for softmax has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_args(input, dim, dtype, kernel):
    if dtype is not None:
        input = input.to(dtype)
    nd = input._data.ndim
    if dim is None:
        dim = _softmax_dim(nd)
    d = wrap_dim(dim, nd)
    _float_only(input, kernel)
    return input, (d if nd else None)


def _apply_softmax(fn, input, d):
    if d is None:  # 0-d input: normalise over a length-1 axis
        return fn.apply(input.reshape(1), 0).reshape(())
    return fn.apply(input, d)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (stable)."""
    input, d = _softmax_args(input, dim, dtype, "softmax_lastdim_kernel_impl")
    return _apply_softmax(_act.Softmax, input, d)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    input, d = _softmax_args(input, dim, dtype, "softmax_lastdim_kernel_impl")
    return _apply_softmax(_act.Softmax, -input, d)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably."""
    input, d = _softmax_args(input, dim, dtype, "log_softmax_lastdim_kernel_impl")
    return _apply_softmax(_act.LogSoftmax, input, d)


# ---- dropout ----------------------------------------------------------------------------------
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(input, p, shape):
    """Kept entries scaled by 1/(1-p), as a tensor of the input's dtype."""
    if p == 1.0:
        return Tensor._make(xp.zeros(shape, input._data.dtype))
    keep = _random.gen(None).random(shape, dtype=xp.float32) >= p
    return Tensor._make(keep.astype(input._data.dtype) * input._data.dtype.type(1.0 / (1.0 - p)))


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) when training."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    out = _source(input, inplace) * _dropout_mask(input, p, input._data.shape)
    return _inplace(input, out) if inplace else out


def _feature_dropout(input, p, training, inplace, batched_dims, name):
    _check_p(p)
    nd = input._data.ndim
    if nd not in batched_dims and name != "dropout1d":
        k = batched_dims[0] - 1
        warnings.warn(f"{name}: Received a {nd}-D input to {name}, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and "
                      "silence this warning, please use dropout instead. Note that "
                      f"{name} exists to provide channel-wise dropout on inputs with {k} "
                      "spatial dimensions, a channel dimension, and an optional batch dimension "
                      f"(i.e. {batched_dims[0]}D or {batched_dims[1]}D inputs).", stacklevel=3)
    if name == "dropout2d" and nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, "
                      "H, W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", stacklevel=3)
    if not training or p == 0.0:
        return input
    # NOTE: as torch, dropout2d treats every input as batched (dim 1 = channels); dropout1d/3d
    # treat inputs without the batch dimension as (C, ...)
    lead = 2 if nd == batched_dims[1] or name == "dropout2d" else 1
    shape = input._data.shape[:lead] + (1,) * (nd - lead)
    out = _source(input, inplace) * _dropout_mask(input, p, shape)
    return _inplace(input, out) if inplace else out


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p``."""
    if input._data.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a "
                           f"{input._data.ndim}D input. Note that dropout1d exists to provide "
                           "channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, (2, 3), "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (dim 1) of (N, C, H, W) inputs with probability ``p``; as in torch,
    a 3-D input is read as (N, C, L), with torch's warning."""
    return _feature_dropout(input, p, training, inplace, (3, 4), "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability ``p``."""
    return _feature_dropout(input, p, training, inplace, (4, 5), "dropout3d")


def _alpha_dropout(input, p, training, inplace, shape):
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    alpha = 1.7580993408473766  # -SELU's alpha * scale: where dropped units land
    keep = (_random.gen(None).random(shape, dtype=xp.float32) >= p).astype(input._data.dtype)
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    t = input._data.dtype.type
    b = Tensor._make((keep - 1) * t(alpha * a) + t(alpha * a * p))
    out = _source(input, inplace) * Tensor._make(keep * t(a)) + b
    return _inplace(input, out) if inplace else out


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's zero mean and unit variance (dropped units go to -alpha')."""
    return _alpha_dropout(input, p, training, inplace, input._data.shape)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (dim 1)."""
    nd = input._data.ndim
    return _alpha_dropout(input, p, training, inplace, input._data.shape[:2] + (1,) * (nd - 2))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """x if x >= 0 else a * x, a ~ U(lower, upper) when training, (lower + upper) / 2 else."""
    _float_only(input, "rrelu_with_noise_cpu")
    if not training:
        out = _act.LeakyRelu.apply(input, (lower + upper) / 2)
    else:
        a = input._data
        r = _random.gen(None).uniform(lower, upper, a.shape).astype(a.dtype)
        out = _source(input, inplace) * Tensor._make(xp.where(a <= 0, r, a.dtype.type(1)))
    return _inplace(input, out) if inplace else out


def relu_(input):
    """In-place ``relu``."""
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):
    """In-place ``elu``."""
    return elu(input, alpha, inplace=True)


def selu_(input):
    """In-place ``selu``."""
    return selu(input, inplace=True)


def celu_(input, alpha=1.0):
    """In-place ``celu``."""
    return celu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    """In-place ``leaky_relu``."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place ``hardtanh``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    """In-place ``threshold``."""
    return globals()["threshold"](input, threshold, value, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place ``rrelu``."""
    return rrelu(input, lower, upper, training, inplace=True)


from ._functional_misc import (  # noqa: E402,F401
    cosine_similarity, normalize, one_hot, pad, pairwise_distance,
)
from ._functional_loss import *  # noqa: E402,F401,F403
from ._functional_conv import *  # noqa: E402,F401,F403
from ._functional_pool import *  # noqa: E402,F401,F403
from ._functional_norm import *  # noqa: E402,F401,F403
from ._functional_sparse import *  # noqa: E402,F401,F403
from ._functional_attention import *  # noqa: E402,F401,F403
