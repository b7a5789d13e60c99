"""Batch normalisation layers: BatchNorm1d, BatchNorm2d, BatchNorm3d (and SyncBatchNorm, which
runs as plain batch norm in a single process)."""
from __future__ import annotations

from ... import creation
from ...backend import dtypes as _dt
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"]


class _NormBase(Module):
    """Common base of batch and instance norm: affine parameters and running statistics.

    Parameters ``weight`` (ones) and ``bias`` (zeros) of shape (num_features,) when ``affine``;
    buffers ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (0-d
    int64) when ``track_running_stats``; otherwise they are registered as None.
    """

    _version = 2
    __constants__ = ["track_running_stats", "momentum", "eps", "num_features", "affine"]

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(creation.empty(num_features, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(creation.empty(num_features, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean",
                                 creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var",
                                 creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked",
                                 creation.tensor(0, dtype=_dt.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean to 0, running variance to 1, num_batches_tracked to 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, weight to 1 and bias to 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ("{num_features}, eps={eps}, momentum={momentum}, affine={affine}, "
                "bias={use_bias}, track_running_stats={track_running_stats}".format(
                    **self.__dict__, use_bias=self.bias is not None))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # NOTE: version 2 added num_batches_tracked; older checkpoints default it (as torch)
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked
                                   is not None else creation.tensor(0, dtype=_dt.int64))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        training = self.training
        if training and self.track_running_stats and self.num_batches_tracked is not None:
            nbt = self.num_batches_tracked
            nbt.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(nbt)
        if training:
            bn_training = True
        else:
            bn_training = self.running_mean is None and self.running_var is None
        use_stats = not training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if use_stats else None,
                            self.running_var if use_stats else None, self.weight, self.bias,
                            bn_training, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over a 2-D or 3-D input (per channel, over N and L).

    Args:
        num_features (int): C of an (N, C) or (N, C, L) input.
        eps (float): added to the variance. Default: 1e-5
        momentum (float or None): running-statistics update factor; None for a cumulative
            moving average. Default: 0.1
        affine (bool): learn ``weight`` and ``bias``. Default: ``True``
        track_running_stats (bool): keep running statistics for evaluation. Default: ``True``
        bias (bool, keyword-only): learn ``bias`` (with ``affine``). Default: ``True``

    Shape: (N, C) or (N, C, L) -> same shape.
    """

    def _check_input_dim(self, input) -> None:
        d = input._data.ndim
        if d != 2 and d != 3:
            raise ValueError(f"expected 2D or 3D input (got {d}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over a 4-D input (per channel, over N, H and W).

    Args: as ``BatchNorm1d``; ``num_features`` is C of an (N, C, H, W) input.

    Shape: (N, C, H, W) -> same shape.
    """

    def _check_input_dim(self, input) -> None:
        d = input._data.ndim
        if d != 4:
            raise ValueError(f"expected 4D input (got {d}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over a 5-D input (per channel, over N, D, H and W).

    Args: as ``BatchNorm1d``; ``num_features`` is C of an (N, C, D, H, W) input.

    Shape: (N, C, D, H, W) -> same shape.
    """

    def _check_input_dim(self, input) -> None:
        d = input._data.ndim
        if d != 5:
            raise ValueError(f"expected 5D input (got {d}D input)")


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over an (N, C, *) input whose statistics would be synchronised across
    processes.

    Differs from torch: there is no process group here, so it always runs as plain batch norm
    (as torch does when torch.distributed is not initialised).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input) -> None:
        d = input._data.ndim
        if d < 2:
            raise ValueError(f"expected at least 2D input (got {d}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        if input._data.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm*D layer replaced by a SyncBatchNorm sharing its
        parameters and buffers."""
        out = module
        if isinstance(module, _BatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group)
            if module.affine:
                out.weight = module.weight
                out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
