"""nn.functional: normalisation (batch, instance, layer, group, RMS and local response norm).

Argument checks raise PyTorch's exception classes and messages; the math is in ``ops/norm.py``
(fused primitives) or composed from Tensor ops (rms_norm, local_response_norm).
"""
from __future__ import annotations

from .. import backend
from ..ops._common import type_name
from ..ops.norm import BatchNorm, BatchNormEval, GroupNorm, LayerNorm

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm",
           "local_response_norm"]

xp = backend.xp
_MIXED = "mixed dtype (CPU): all inputs must share same datatype."


def _verify_batch_size(size) -> None:
    prod = size[0]
    for s in size[2:]:
        prod *= s
    if prod == 1:
        raise ValueError("Expected more than 1 value per channel when training, got input size "
                         f"{list(size)}")


def _check_float(input, kernel: str):
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(input)}'")


def _check_params(c: int, dtype, named) -> None:
    """Each (name, tensor-or-None) must hold ``c`` elements of ``dtype``."""
    for name, t in named:
        if t is not None:
            a = t._data
            if a.size != c:
                raise RuntimeError(f"{name} should contain {c} elements not {a.size}")
            if a.dtype != dtype:
                raise RuntimeError(_MIXED)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation over every dimension but 1 (the channels).

    In training the batch mean and biased variance normalise the input, and ``running_mean`` /
    ``running_var`` (if given) are updated in place with ``momentum`` (the variance unbiased);
    otherwise the running statistics normalise it.

    Args:
        input (Tensor): (N, C) or (N, C, *).
        running_mean, running_var (Tensor or None): (C,) statistics.
        weight, bias (Tensor or None): (C,) affine parameters.
        training (bool): use batch statistics. Default: ``False``
        momentum (float): running-statistics update factor. Default: 0.1
        eps (float): added to the variance. Default: 1e-5

    Differs from torch: the "more than 1 value per channel" message shows the size as a list.
    """
    x = input._data
    shape = x.shape
    if training:
        _verify_batch_size(shape)
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if x.ndim < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got "
                         "1)")
    if x.dtype.kind != "f":
        _check_float(input, "batch_norm")
    _check_params(shape[1], x.dtype, (("running_mean", running_mean),
                                      ("running_var", running_var), ("weight", weight),
                                      ("bias", bias)))
    if training:
        if (running_mean is None) != (running_var is None):
            raise ValueError("running_mean and running_var must either both be None or neither "
                             "be None")
        if running_mean is None:
            return BatchNorm.apply(input, weight, bias, None, None, momentum, eps)
        out = BatchNorm.apply(input, weight, bias, running_mean._data, running_var._data,
                              momentum, eps)
        running_mean._vc[0] += 1
        running_var._vc[0] += 1
        return out
    if running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    if running_var is None:
        raise RuntimeError("running_var must be defined in evaluation mode")
    return BatchNormEval.apply(input, weight, bias, running_mean._data, running_var._data, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalisation: each channel of each sample normalised over its spatial dims.

    Args:
        input (Tensor): (N, C, *).
        running_mean, running_var (Tensor or None): (C,) statistics, updated in place from the
            per-sample statistics (averaged over N) when ``use_input_stats``.
        weight, bias (Tensor or None): (C,) affine parameters.
        use_input_stats (bool): normalise with the input's statistics. Default: ``True``
        momentum (float): running-statistics update factor. Default: 0.1
        eps (float): added to the variance. Default: 1e-5
    """
    x = input._data
    shape = x.shape
    if use_input_stats:
        prod = 1
        for s in shape[2:]:
            prod *= s
        if prod == 1:
            raise ValueError("Expected more than 1 spatial element when training, got input "
                             f"size {list(shape)}")
    _check_float(input, "batch_norm")
    n, c = shape[0], shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None:
            if t._data.size != c:  # NOTE: torch checks the parameter repeated N times
                raise RuntimeError(f"{name} should contain {n * c} elements not "
                                   f"{t._data.size * n}")
            if t._data.dtype != x.dtype:
                raise RuntimeError(_MIXED)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        return BatchNormEval.apply(input, weight, bias, running_mean._data, running_var._data,
                                   eps)
    out = GroupNorm.apply(input, weight, bias, c, eps)
    if running_mean is not None and x.size:
        x3 = x.reshape(n, c, -1)
        m = x3.shape[2]
        mean = x3.mean(axis=2)
        var = x3.var(axis=2) * (m / max(m - 1, 1))
        for t, stat in ((running_mean, mean), (running_var, var)):
            r = t._data
            r *= 1 - momentum
            r += momentum * stat.mean(axis=0)
            t._vc[0] += 1
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing ``normalized_shape`` dimensions.

    Args:
        input (Tensor): (*, *normalized_shape).
        normalized_shape (tuple or list of ints): the normalised trailing shape.
        weight, bias (Tensor or None): elementwise affine parameters of ``normalized_shape``.
        eps (float): added to the variance. Default: 1e-5
    """
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of "
                        f"ints, not {type(normalized_shape).__name__}")
    ns = tuple(int(s) for s in normalized_shape)
    x = input._data
    k = len(ns)
    if k == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(t._data.shape)} and normalized_shape "
                               f"= {list(ns)}")
    if x.shape[x.ndim - k:] != ns or x.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size"
                           f"{list(x.shape)}")
    if x.dtype.kind != "f":
        _check_float(input, "LayerNormKernelImpl")
    for t in (weight, bias):
        if t is not None and t._data.dtype != x.dtype:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{type_name(input)}")
    return LayerNorm.apply(input, weight, bias, ns, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation: the channels are split into ``num_groups`` groups, each normalised
    over its channels and the spatial dims, then scaled and shifted per channel.

    Args:
        input (Tensor): (N, C, *), C divisible by ``num_groups``.
        num_groups (int): number of groups.
        weight, bias (Tensor or None): (C,) affine parameters.
        eps (float): added to the variance. Default: 1e-5
    """
    x = input._data
    shape = x.shape
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{x.ndim}")
    n, c = shape[0], shape[1]
    _verify_batch_size([n * c // num_groups, num_groups] + list(shape[2:]))
    if c % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            if t._data.ndim != 1 or t._data.size != c:
                raise RuntimeError(f"Expected {name} to be a vector of size equal to the number "
                                   f"of channels in input, but got {name} of shape "
                                   f"{list(t._data.shape)} and input of shape {list(shape)}")
            if t._data.dtype != x.dtype:
                raise RuntimeError(_MIXED)
    if x.dtype.kind != "f":
        _check_float(input, "GroupNormKernelImpl")
    return GroupNorm.apply(input, weight, bias, num_groups, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dimensions:
    y = x / sqrt(mean(x**2) + eps) * weight; ``eps`` None means the dtype's machine epsilon."""
    ns = tuple(int(s) for s in normalized_shape)
    x = input._data
    k = len(ns)
    if x.shape[x.ndim - k:] != ns or x.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*{', '.join(map(str, ns))}], but got input of size{list(x.shape)}")
    if eps is None:
        eps = float(xp.finfo(x.dtype).eps) if x.dtype.kind == "f" else 1.1920928955078125e-07
    dims = tuple(range(-k, 0))
    y = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * weight


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels:
    y = x / (k + alpha / size * sum of x**2 over ``size`` neighbouring channels) ** beta.

    Args:
        input (Tensor): (N, C, *).
        size (int): number of neighbouring channels summed (zero-padded at the ends).
    """
    from ..ops.join import cat
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sq = input * input
    c = sq.shape[1]
    before, after = size // 2, (size - 1) // 2
    parts = []
    if before:
        parts.append(sq.new_zeros((sq.shape[0], before) + tuple(sq.shape[2:])))
    parts.append(sq)
    if after:
        parts.append(sq.new_zeros((sq.shape[0], after) + tuple(sq.shape[2:])))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    div = padded[:, 0:c]
    for i in range(1, size):
        div = div + padded[:, i:i + c]
    div = (div * (alpha / size) + k) ** beta
    return input / div
