"""Reverse-mode automatic differentiation: Function, backward, grad, grad modes, gradcheck."""
from .anomaly_mode import (  # noqa: F401
    detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled,
    set_detect_anomaly,
)
from .function import Context, Function, once_differentiable  # noqa: F401
from .engine import backward, grad  # noqa: F401
from .grad_mode import (  # noqa: F401
    enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
)
from .gradcheck import gradcheck  # noqa: F401

FunctionCtx = Context
