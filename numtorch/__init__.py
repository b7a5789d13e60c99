"""numtorch: deep learning from first principles on NumPy, behind PyTorch's API.

``import numtorch as torch`` and PyTorch code written against the supported API runs unchanged.
"""
from __future__ import annotations

from . import backend
from .backend.dtypes import (
    bool_ as bool, dtype, float16, float32, float64, get_default_dtype, int8, int16, int32,
    int64, set_default_dtype, uint8,
)
from .backend.random import Generator, default_generator
from .tensor import Size, Tensor, _Device as device
from . import _tensor_methods  # noqa: F401  (attaches the op methods to Tensor)
from .autograd.anomaly_mode import (
    is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled,
)
from .autograd.grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)
from .creation import (
    arange, as_tensor, asarray, bernoulli, empty, empty_like, eye, from_numpy, full, full_like,
    get_rng_state, initial_seed, linspace, logspace, manual_seed, multinomial, normal, ones,
    ones_like, rand, rand_like, randint, randint_like, randn, randn_like, randperm, seed,
    set_rng_state, tensor, zeros, zeros_like,
)
from .ops.elementwise import (
    abs, ceil, clamp, clip, cos, exp, expm1, fix, floor, frac, log, log1p, log2, log10, neg,
    negative, reciprocal, relu, round, rsqrt, sgn, sigmoid, sign, sin, sqrt, square, tanh, trunc,
)
from .ops.arith import (
    add, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, div, divide, eq, equal,
    float_power, floor_divide, fmax, fmin, fmod, ge, greater, greater_equal, gt, isclose,
    isfinite, isinf, isnan, isneginf, isposinf, le, less, less_equal, logical_and, logical_not,
    logical_or, logical_xor, lt, maximum, minimum, mul, multiply, ne, not_equal, pow, remainder,
    sub, subtract, true_divide, where,
)
from .ops.reduce import (
    all, amax, amin, any, argmax, argmin, argsort, count_nonzero, cumprod, cumsum, kthvalue,
    logsumexp, max, mean, median, min, nanmean, nansum, norm, prod, sort, std, std_mean, sum,
    topk, var, var_mean,
)
from .ops.shape import (
    atleast_1d, atleast_2d, broadcast_tensors, broadcast_to, cat, chunk, concat, concatenate,
    flatten, flip, fliplr, flipud, hstack, movedim, moveaxis, narrow,
    permute, repeat_interleave, reshape, roll, split, squeeze, stack, swapaxes, swapdims, t,
    tensor_split, tile, transpose, tril, triu, unbind, unflatten, unsqueeze, vstack,
)
from .ops.index import (
    argwhere, gather, index_add, index_fill, index_select, masked_fill, masked_select, nonzero,
    scatter, scatter_add, take, take_along_dim,
)
from .ops.linalg import bmm, dot, einsum, ger, inner, matmul, mm
from .ops.linalg import mv, outer, vdot
from .ops._common import result_type as _result_type
from . import autograd, cuda, accelerator  # noqa: F401

float = float32
double = float64
half = float16
long = int64
int = int32
short = int16
cfloat = None
strided = "strided"
contiguous_format = preserve_format = channels_last = "contiguous_format"


def result_type(tensor1, tensor2) -> dtype:
    """The dtype an arithmetic op on the two operands returns (PyTorch's promotion rules)."""
    return _result_type(tensor1, tensor2)


def promote_types(type1, type2) -> dtype:
    return backend.dtypes.promote_types(type1, type2)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    return input.is_floating_point()


def numel(input) -> int:
    return input.numel()


def clone(input, *, memory_format=None) -> Tensor:
    return input.clone()


def detach(input) -> Tensor:
    return input.detach()


def set_num_threads(n: int) -> None:
    """Sets the number of threads used for intra-op parallelism (convolution and pooling split
    their batch across them). The BLAS library's own threads are set with OMP_NUM_THREADS /
    OPENBLAS_NUM_THREADS before start-up."""
    backend.threads.set_num_threads(n)


def get_num_threads() -> int:
    return backend.num_threads()


def softmax(input, dim, dtype=None):
    from .nn import functional as F
    return F.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    from .nn import functional as F
    return F.log_softmax(input, dim, dtype=dtype)


from ._repr import set_printoptions  # noqa: E402

__version__ = "0.1.0"

from . import nn, optim, utils  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401
