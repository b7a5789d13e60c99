"""F.multi_head_attention_forward (re-exported by ``_functional_attention``), torch's mask
helpers ``_canonical_mask``/``_none_or_dtype``, and ``_multi_head_attention``, the same
computation for batch-first inputs that ``nn.MultiheadAttention`` calls.

``need_weights=True`` composes matmul, softmax and dropout as torch does, so that the weights
can be returned; otherwise the fused ``ops.attention`` primitive runs.
"""
from __future__ import annotations

import math
import warnings

from .. import backend
from ..ops import activation as _act
from ..ops.attention import attend, causal_bias
from ..ops.join import cat
from ..ops.linalg import linear
from ..tensor import Tensor

xp = backend.xp
_NEG_INF = float("-inf")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask as a float one (-inf where True) of ``target_type``; float masks pass.

    Raises AssertionError for masks of other dtypes and warns when ``other_type`` differs.
    """
    if mask is None:
        return None
    md = mask._data.dtype
    is_float = md.kind == "f"
    if md != xp.bool_ and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=2)
    if is_float:
        return mask
    nd = target_type.np if hasattr(target_type, "np") else xp.dtype(target_type)
    return Tensor._make(xp.where(mask._data, nd.type(_NEG_INF), nd.type(0)))


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """torch's dimension checks; returns whether the input is batched."""
    qd, kd, vd = query._data.ndim, key._data.ndim, value._data.ndim
    if qd == 3:
        if kd != 3 or vd != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {kd}-D and {vd}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask._data.ndim != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask._data.ndim}-D tensor "
                                 "instead")
        if attn_mask is not None and attn_mask._data.ndim not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask._data.ndim}-D tensor instead")
        return True
    if qd == 2:
        if kd != 2 or vd != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {kd}-D and {vd}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask._data.ndim != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask._data.ndim}-D tensor "
                                 "instead")
        if attn_mask is not None:
            if attn_mask._data.ndim not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask._data.ndim}-D "
                                     "tensor instead")
            if attn_mask._data.ndim == 3:
                expected = (num_heads, query._data.shape[0], key._data.shape[0])
                if attn_mask._data.shape != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                         f"{attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{qd}-D query tensor")


def _seq_first(shape, bf):
    """A (N, L, ...) shape as torch's (L, N, ...) for messages."""
    from .._device import Size
    return Size((shape[1], shape[0]) + tuple(shape[2:])) if bf else Size(shape)


def _heads(x, bf, n_heads):
    """(L, N, E) (or (N, L, E) when ``bf``) -> (N, H, L, E/H), a view where possible."""
    a, b, e = x._data.shape
    x = x.reshape(a, b, n_heads, e // n_heads)
    return x.permute(0, 2, 1, 3) if bf else x.permute(1, 2, 0, 3)


def _check_proj(name, w, shape):
    if w.shape != shape:
        raise AssertionError(f"expecting {name} weights shape of {shape}, but got {w.shape}")


def _check_bias(name, b, e):
    if b is not None and b._data.shape != (e,):
        raise AssertionError(f"expecting {name} bias shape of {(e,)}, but got {b.shape}")


def _pad_key(mask):
    """One more key column (0: not masked) at the end of a float mask."""
    shape = mask._data.shape[:-1] + (1,)
    return cat([mask, Tensor._make(xp.zeros(shape, mask._data.dtype))], -1)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention: project, attend per head, concatenate, project out.

    Args: as ``nn.MultiheadAttention`` (whose forward calls this), with its parameters passed
    in: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E) packed in q, k, v order, or
    ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` with ``use_separate_proj_weight``;
    ``static_k``/``static_v`` (N*num_heads, S, E/num_heads) replace the projected key/value.

    Shape: query (L, N, E) or (L, E); key (S, N, Ek); value (S, N, Ev); key_padding_mask
    (N, S) or (S); attn_mask (L, S) or (N*num_heads, L, S). Returns attn_output (L, N, E) and,
    with ``need_weights``, the weights (N, L, S) averaged over heads, or (N, num_heads, L, S).
    """
    return _multi_head_attention(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
        bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
        key_padding_mask, need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
        k_proj_weight, v_proj_weight, static_k, static_v, average_attn_weights, is_causal, False)


def _multi_head_attention(query, key, value, embed_dim_to_check, num_heads, in_proj_weight,
                          in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p,
                          out_proj_weight, out_proj_bias, training, key_padding_mask,
                          need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
                          k_proj_weight, v_proj_weight, static_k, static_v, average_attn_weights,
                          is_causal, bf):
    """``multi_head_attention_forward`` for inputs laid out (N, L, E) when ``bf`` (batch first)
    or (L, N, E), so that batch-first modules need no transposes."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
        bf = False
    if bf:
        bsz, tgt_len, embed_dim = query._data.shape
        kb, src_len = key._data.shape[:2]
    else:
        tgt_len, bsz, embed_dim = query._data.shape
        src_len, kb = key._data.shape[:2]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint stands for the mask
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    ks, vs = key._data.shape, value._data.shape
    if use_separate_proj_weight:
        if ks[:2] != vs[:2]:
            raise AssertionError(f"key's sequence and batch dims {_seq_first(ks, bf)[:2]} do not "
                                 f"match value's {_seq_first(vs, bf)[:2]}")
    elif ks != vs:
        raise AssertionError(f"key shape {_seq_first(ks, bf)} does not match value shape "
                             f"{_seq_first(vs, bf)}")

    # ---- in-projection, straight into heads (N, H, L, head_dim) ----
    H, E = num_heads, embed_dim
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        if key is value and query is key:   # self-attention: one matmul for q, k and v
            proj = linear(query, in_proj_weight, in_proj_bias)
            a, b = proj._data.shape[:2]
            qkv = proj.reshape(a, b, 3, H, head_dim)
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0) if bf else \
                qkv.permute(2, 1, 3, 0, 4).unbind(0)
        elif key is value:                  # encoder-decoder attention: k and v together
            w_q, w_kv = in_proj_weight.split([E, 2 * E])
            b_q, b_kv = (None, None) if in_proj_bias is None else in_proj_bias.split([E, 2 * E])
            q = _heads(linear(query, w_q, b_q), bf, H)
            kv = linear(key, w_kv, b_kv)
            a, b = kv._data.shape[:2]
            kv = kv.reshape(a, b, 2, H, head_dim)
            k, v = kv.permute(2, 0, 3, 1, 4).unbind(0) if bf else \
                kv.permute(2, 1, 3, 0, 4).unbind(0)
        else:
            w_q, w_k, w_v = in_proj_weight.chunk(3)
            b_q = b_k = b_v = None
            if in_proj_bias is not None:
                b_q, b_k, b_v = in_proj_bias.chunk(3)
            q, k, v = (_heads(linear(x, w, b_), bf, H) for x, w, b_ in
                       ((query, w_q, b_q), (key, w_k, b_k), (value, w_v, b_v)))
    else:
        for name, w in (("q_proj_weight", q_proj_weight), ("k_proj_weight", k_proj_weight),
                        ("v_proj_weight", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name} is None")
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        ek, ev = ks[-1], vs[-1]
        _check_proj("query", q_proj_weight, (E, E))
        _check_proj("key", k_proj_weight, (E, ek))
        _check_proj("value", v_proj_weight, (E, ev))
        _check_bias("query", b_q, E)
        _check_bias("key", b_k, E)
        _check_bias("value", b_v, E)
        q, k, v = (_heads(linear(x, w, b_), bf, H) for x, w, b_ in
                   ((query, q_proj_weight, b_q), (key, k_proj_weight, b_k),
                    (value, v_proj_weight, b_v)))
    if kb != bsz:
        raise RuntimeError(f"shape '[{src_len}, {bsz * H}, {head_dim}]' is invalid for input of "
                           f"size {src_len * kb * E}")

    # ---- masks as (1 or N, 1 or H, L, S) float biases ----
    if attn_mask is not None:
        md, shape = attn_mask._data.ndim, attn_mask._data.shape
        if md == 2:
            if shape != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.reshape(1, 1, tgt_len, src_len)
        elif md == 3:
            if shape != (bsz * H, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * H, tgt_len, src_len)}.")
            attn_mask = attn_mask.reshape(bsz, H, tgt_len, src_len)
        else:
            raise RuntimeError(f"attn_mask's dimension {md} is not supported")
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.reshape(1, H, 1, head_dim).expand(bsz, H, 1, head_dim)], 2)
        v = cat([v, bias_v.reshape(1, H, 1, head_dim).expand(bsz, H, 1, head_dim)], 2)
        if attn_mask is not None:
            attn_mask = _pad_key(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_key(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    for name, st in (("static_k", static_k), ("static_v", static_v)):
        if st is not None:
            if st._data.shape[0] != bsz * H:
                raise AssertionError(f"expecting {name}.size(0) of {bsz * H}, but got "
                                     f"{st._data.shape[0]}")
            if st._data.shape[2] != head_dim:
                raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got "
                                     f"{st._data.shape[2]}")
    if static_k is not None:
        k = static_k.reshape(bsz, H, -1, head_dim)
    if static_v is not None:
        v = static_v.reshape(bsz, H, -1, head_dim)
    if add_zero_attn:
        zeros = Tensor._make(xp.zeros((bsz, H, 1, head_dim), k._data.dtype))
        k = cat([k, zeros], 2)
        v = cat([v, zeros], 2)
        if attn_mask is not None:
            attn_mask = _pad_key(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_key(key_padding_mask)
    src_len = k._data.shape[2]
    if key_padding_mask is not None:
        kps = key_padding_mask._data.shape
        if kps[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{kps[0]}")
        if kps[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{kps[1]}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    # ---- attention and out-projection ----
    weights = None
    if need_weights:
        w = q * math.sqrt(1.0 / head_dim) @ k.transpose(-2, -1)
        if attn_mask is not None:
            w = w + attn_mask
        w = _act.Softmax.apply(w, 3)
        if dropout_p > 0.0:
            from .functional import dropout
            w = dropout(w, p=dropout_p)
        out = w @ v
        weights = w.mean(dim=1) if average_attn_weights else w
    else:
        bias = attn_mask
        if is_causal and bias is None:
            bias = Tensor._make(causal_bias(tgt_len, src_len, q._data.dtype))
        out = attend(q, k, v, bias, dropout_p, 1.0 / math.sqrt(head_dim))
    out = out.permute(0, 2, 1, 3) if bf else out.permute(2, 0, 1, 3)
    out = linear(out.reshape(out._data.shape[:2] + (E,)), out_proj_weight, out_proj_bias)
    if not is_batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights
