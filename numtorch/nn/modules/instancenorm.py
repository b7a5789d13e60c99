"""Instance normalisation layers: InstanceNorm1d, InstanceNorm2d, InstanceNorm3d."""
from __future__ import annotations

import warnings

from .. import functional as F
from .batchnorm import _NormBase

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_NormBase):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    _no_batch_dim = 0

    def _check_input_dim(self, input) -> None:
        d = input._data.ndim
        if d != self._no_batch_dim and d != self._no_batch_dim + 1:
            raise ValueError(f"expected {self._no_batch_dim}D or {self._no_batch_dim + 1}D input "
                             f"(got {d}D input)")

    def _apply_instance_norm(self, input):
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                               self.bias, self.training or not self.track_running_stats,
                               self.momentum if self.momentum is not None else 0.0, self.eps)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        version = local_metadata.get("version", None)
        # NOTE: version 1 dropped running_mean/var when track_running_stats=False (as torch)
        if version is None and not self.track_running_stats:
            keys = [prefix + n for n in ("running_mean", "running_var")
                    if prefix + n in state_dict]
            if keys:
                klass = self.__class__.__name__
                error_msgs.append(
                    "Unexpected running stats buffer(s) {names} for {klass} with "
                    "track_running_stats=False. If state_dict is a checkpoint saved before "
                    "0.4.0, this may be expected because {klass} does not track running stats "
                    "by default since 0.4.0. Please remove these keys from state_dict. If the "
                    "running stats are actually needed, instead set track_running_stats=True in "
                    "{klass} to enable them. See the documentation of {klass} for "
                    "details.".format(names=" and ".join(f'"{k}"' for k in keys), klass=klass))
                for k in keys:
                    state_dict.pop(k)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, input):
        self._check_input_dim(input)
        d = input._data.ndim
        feature_dim = d - self._no_batch_dim
        size = input._data.shape[feature_dim]
        if size != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: {size}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          "can silence this warning by not passing in num_features, which is "
                          "not used because affine=False", stacklevel=2)
        if d == self._no_batch_dim:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation over a 3-D input: each channel of each sample over L.

    Args:
        num_features (int): C of an (N, C, L) or (C, L) input.
        eps (float): added to the variance. Default: 1e-5
        momentum (float): running-statistics update factor. Default: 0.1
        affine (bool): learn per-channel ``weight`` and ``bias``. Default: ``False``
        track_running_stats (bool): keep running statistics for evaluation. Default: ``False``

    Shape: (N, C, L) or (C, L) -> same shape.
    """

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation over a 4-D input: each channel of each sample over H and W.

    Args: as ``InstanceNorm1d``; ``num_features`` is C of an (N, C, H, W) or (C, H, W) input.

    Shape: (N, C, H, W) or (C, H, W) -> same shape.
    """

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation over a 5-D input: each channel of each sample over D, H and W.

    Args: as ``InstanceNorm1d``; ``num_features`` is C of an (N, C, D, H, W) or (C, D, H, W)
    input.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> same shape.
    """

    _no_batch_dim = 4
