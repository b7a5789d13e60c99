"""Normalisation layers: LayerNorm, GroupNorm, RMSNorm, LocalResponseNorm; the batch- and
instance-norm layers live in ``batchnorm`` and ``instancenorm`` and are re-exported here."""
from __future__ import annotations

import numbers

from ... import creation
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .batchnorm import *  # noqa: F401,F403
from .batchnorm import __all__ as _bn_all
from .instancenorm import *  # noqa: F401,F403
from .instancenorm import __all__ as _in_all
from .module import Module

__all__ = ["LocalResponseNorm", "LayerNorm", "GroupNorm", "RMSNorm"] + _bn_all + _in_all


class LocalResponseNorm(Module):
    """Local response normalisation across neighbouring channels.

    Args:
        size (int): number of neighbouring channels summed.
        alpha (float): multiplicative factor. Default: 1e-4
        beta (float): exponent. Default: 0.75
        k (float): additive factor. Default: 1

    Shape: (N, C, *) -> same shape.
    """

    __constants__ = ["size", "alpha", "beta", "k"]

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)


def _affine_parameters(module, shape, affine: bool, bias: bool, dtype, device) -> None:
    """Register ``weight`` (and ``bias`` when asked) of ``shape``, or None for both, then
    initialise them (weight 1, bias 0)."""
    if affine:
        module.weight = Parameter(creation.empty(shape, dtype=dtype, device=device))
        if bias:
            module.bias = Parameter(creation.empty(shape, dtype=dtype, device=device))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)
    module.reset_parameters()


def _reset_affine(module) -> None:
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` dimensions of each sample.

    Args:
        normalized_shape (int or tuple of ints): the trailing shape normalised.
        eps (float): added to the variance. Default: 1e-5
        elementwise_affine (bool): learn ``weight`` (ones) and ``bias`` (zeros) of
            ``normalized_shape``. Default: ``True``
        bias (bool): learn ``bias`` (with ``elementwise_affine``). Default: ``True``

    Shape: (*, *normalized_shape) -> same shape.
    """

    __constants__ = ["normalized_shape", "eps", "elementwise_affine"]

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, dtype, device)

    def reset_parameters(self) -> None:
        """weight to 1, bias to 0."""
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return ("{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}, "
                "bias={use_bias}".format(**self.__dict__, use_bias=self.bias is not None))


class GroupNorm(Module):
    """Group normalisation: channels split into ``num_groups`` groups, each normalised over its
    channels and spatial dims, then scaled and shifted per channel.

    Args:
        num_groups (int): number of groups; must divide ``num_channels``.
        num_channels (int): C of the (N, C, *) input.
        eps (float): added to the variance. Default: 1e-5
        affine (bool): learn per-channel ``weight`` (ones) and ``bias`` (zeros). Default: ``True``
        bias (bool, keyword-only): learn ``bias`` (with ``affine``). Default: ``True``

    Shape: (N, C, *) -> same shape.
    """

    __constants__ = ["num_groups", "num_channels", "eps", "affine"]

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, (num_channels,), affine, bias, dtype, device)

    def reset_parameters(self) -> None:
        """weight to 1, bias to 0."""
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return ("{num_groups}, {num_channels}, eps={eps}, affine={affine}, "
                "bias={use_bias}".format(**self.__dict__, use_bias=self.bias is not None))


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dimensions.

    Args:
        normalized_shape (int or tuple of ints): the trailing shape normalised.
        eps (float or None): added to the mean square; None is the dtype's machine epsilon.
            Default: None
        elementwise_affine (bool): learn ``weight`` (ones) of ``normalized_shape``.
            Default: ``True``

    Shape: (*, *normalized_shape) -> same shape.
    """

    __constants__ = ["normalized_shape", "eps", "elementwise_affine"]

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.empty(self.normalized_shape, dtype=dtype,
                                                   device=device))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight to 1."""
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return ("{normalized_shape}, eps={eps}, "
                "elementwise_affine={elementwise_affine}".format(**self.__dict__))
