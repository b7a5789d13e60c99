"""F.scaled_dot_product_attention, and (from ``_functional_mha``) F.multi_head_attention_forward.

Both end in the fused ``ops.attention.ScaledDotProductAttention`` primitive (one batched matmul
for q k^T, an in-place softmax, one batched matmul with v); heads are views of the projections,
(N, H, L, E/H), never a Python loop.
"""
from __future__ import annotations

import math

from .. import backend
from ..ops.attention import attend, causal_bias
from ..ops._common import broadcast_error, type_name
from ..tensor import Tensor

xp = backend.xp

# NOTE: _canonical_mask and _none_or_dtype are listed so that ``F._canonical_mask`` resolves
# as in torch (the transformer layers and user code call them).
__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "_canonical_mask",
           "_none_or_dtype"]

_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}
_NEG_INF = float("-inf")


def _cname(a) -> str:
    return _C_NAMES.get(a.dtype.name, a.dtype.name)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, *, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, with optional dropout on the weights.

    Args:
        query (Tensor): (N, ..., Hq, L, E).
        key (Tensor): (N, ..., H, S, E).
        value (Tensor): (N, ..., H, S, Ev).
        attn_mask (Tensor, optional): broadcastable to (N, ..., Hq, L, S); a boolean mask is
            True where an element takes part, a float mask is added to the scores.
        dropout_p (float): dropout probability on the attention weights (always applied when
            > 0, as torch: pass 0.0 in evaluation).
        is_causal (bool): mask out j > i (upper-left aligned when L != S); not with attn_mask.
        scale (float, keyword-only): score scale; default 1/sqrt(E).
        enable_gqa (bool): grouped-query attention: key/value heads are repeated to Hq.

    Shape: output (N, ..., Hq, L, Ev). Rows whose every key is masked give zeros (torch's safe
    softmax), where a plain softmax would give NaN.

    Differs from torch: the dropout mask comes from numtorch's generator.
    """
    q, k, v = query._data, key._data, value._data
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {q.ndim} key.dim: {k.ndim} and value.dim: "
                           f"{v.ndim} instead.")
    if not (q.dtype == k.dtype == v.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {_cname(q)} key.dtype: {_cname(k)} and value.dtype: "
                           f"{_cname(v)} instead.")
    if attn_mask is not None:
        md = attn_mask._data.dtype
        if md != xp.bool_ and md != xp.float32 and md != q.dtype:
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                               f"dtype, but got attn_mask.dtype: {_cname(attn_mask._data)} and  "
                               f"query.dtype: {_cname(q)} instead.")
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
    if q.dtype.kind != "f":
        raise RuntimeError(f"expected scalar type Float but found {type_name(query)}")
    if dropout_p > 0.0 and dropout_p > 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and v.ndim >= 3:
        hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
        if hk != hv or hq % hk:
            # NOTE: torch's message stops short like this
            raise RuntimeError("Number of heads in key and value must divide the number of "
                               "heads in ")
        if hk != hq:
            key = key.repeat_interleave(hq // hk, -3)
            value = value.repeat_interleave(hq // hk, -3)
            k, v = key._data, value._data
    E, L, S = q.shape[-1], q.shape[-2], k.shape[-2]
    try:
        batch = xp.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError as e:
        a, b = (key, value) if q.shape[:-2] == k.shape[:-2] else (query, key)
        raise broadcast_error(a[..., 0, 0], b[..., 0, 0], e) from None
    nb = math.prod(batch)
    if k.shape[-1] != E:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{nb}, {E}] but got: [{nb}, {k.shape[-1]}].")
    if v.shape[-2] != S:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{nb}, {S}] but got: [{nb}, {v.shape[-2]}].")
    bias = None
    if is_causal:
        bias = Tensor._make(causal_bias(L, S, q.dtype))
    elif attn_mask is not None:
        m = attn_mask._data
        if m.ndim < 2 and q.ndim == 4:  # NOTE: torch's 4-D (fused kernel) path reads dim -2
            raise IndexError("Dimension specified as -2 but tensor has no dimensions" if m.ndim == 0
                             else "Dimension out of range (expected to be in range of [-1, 0], "
                             "but got -2)")
        try:
            full = xp.broadcast_shapes(m.shape, batch + (L, S))
        except ValueError as e:
            raise broadcast_error(Tensor._make(xp.empty(batch + (L, S), "b")), attn_mask,
                                  e) from None
        if full != batch + (L, S):
            raise RuntimeError(f"output with shape {list(batch + (L, S))} doesn't match the "
                               f"broadcast shape {list(full)}")
        if m.dtype == xp.bool_:
            bias = Tensor._make(xp.where(m, q.dtype.type(0), q.dtype.type(_NEG_INF)))
        else:
            bias = attn_mask if m.dtype == q.dtype else attn_mask.to(query.dtype)
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E else math.inf
    return attend(query, key, value, bias, dropout_p, scale)


from ._functional_mha import (  # noqa: E402,F401
    _canonical_mask, _none_or_dtype, multi_head_attention_forward,
)
