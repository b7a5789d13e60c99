"""nn.MultiheadAttention (exported from nn.modules.activation, as in torch)."""
from __future__ import annotations

from ... import creation
from .. import _functional_mha as FA
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` under the name torch gives ``MultiheadAttention.out_proj`` (the name keeps
    torch's quantisation tools off it; here it is only a name)."""


class MultiheadAttention(Module):
    """Multi-head attention: MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O with
    head_i = softmax(Q W_i^Q (K W_i^K)^T / sqrt(E/h) + mask) V W_i^V.

    Args:
        embed_dim (int): total dimension E of the model (split across heads).
        num_heads (int): parallel attention heads h; E must be divisible by h.
        dropout (float): dropout probability on the attention weights. Default: 0.0
        bias (bool): add biases to the input and output projections. Default: ``True``
        add_bias_kv (bool): learn ``bias_k``/``bias_v`` appended to key and value as one more
            position. Default: ``False``
        add_zero_attn (bool): append a zero position to key and value. Default: ``False``
        kdim (int): features of the key (default: embed_dim).
        vdim (int): features of the value (default: embed_dim).
        batch_first (bool): inputs and output are (N, L, E) instead of (L, N, E).
            Default: ``False``

    Parameters: ``in_proj_weight`` (3E, E) when kdim == vdim == E, else ``q_proj_weight``
    (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim); ``in_proj_bias`` (3E);
    ``out_proj`` (a Linear E -> E); ``bias_k``, ``bias_v`` (1, 1, E). Initialised as torch:
    xavier_uniform_ on the input projections, zero biases, xavier_normal_ on bias_k/bias_v,
    and out_proj.weight with Linear's default.

    Shape: query (L, E), (L, N, E) or (N, L, E) with ``batch_first``; key (S, kdim) / (S, N,
    kdim); value (S, vdim) / (S, N, vdim). Returns attn_output shaped like query (E features)
    and attn_output_weights (N, L, S) averaged over heads, (N, num_heads, L, S) with
    ``average_attn_weights=False`` ((L, S) / (num_heads, L, S) unbatched), or None.

    Differs from torch: no separate inference fast path (it computes the same values).
    """

    __constants__ = ["batch_first"]

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(creation.empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(creation.empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(creation.empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(creation.empty(3 * embed_dim, embed_dim, **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty(1, 1, embed_dim, **kw))
            self.bias_v = Parameter(creation.empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Attend from ``query`` to ``key``/``value``; returns (attn_output, attn_weights).

        Args:
            key_padding_mask: (N, S) or (S,); bool True (or a float added to the scores) marks
                keys to ignore.
            need_weights: also return the attention weights (a slower path, as in torch).
            attn_mask: (L, S) or (N*num_heads, L, S); bool True masks a position, a float mask
                is added to the scores.
            average_attn_weights: average the returned weights over heads.
            is_causal: hint that ``attn_mask`` is the causal mask.
        """
        key_padding_mask = FA._canonical_mask(key_padding_mask, "key_padding_mask",
                                              FA._none_or_dtype(attn_mask), "attn_mask",
                                              query.dtype)
        attn_mask = FA._canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        sep = not self._qkv_same_embed_dim
        return FA._multi_head_attention(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, self.training, key_padding_mask,
            need_weights, attn_mask, sep, self.q_proj_weight if sep else None,
            self.k_proj_weight if sep else None, self.v_proj_weight if sep else None, None, None,
            average_attn_weights, is_causal, self.batch_first and query.dim() == 3)

    def merge_masks(self, attn_mask, key_padding_mask, query):
        """Combine an (L, L) or (N*num_heads, L, L) attention mask with an (N, L) key padding
        mask into (N, num_heads, L, L); returns (merged_mask, mask_type) with type 0 (attention
        mask only), 1 (padding only) or 2 (both / expanded), as torch's fast path uses them."""
        mask_type = merged = None
        if key_padding_mask is not None:
            mask_type, merged = 1, key_padding_mask
        if attn_mask is not None:
            batch_size, seq_len, _ = query.shape
            mask_type = 2
            if attn_mask.dim() == 3:
                expanded = attn_mask.view(batch_size, -1, seq_len, seq_len)
            else:
                expanded = attn_mask.view(1, 1, seq_len, seq_len).expand(
                    batch_size, self.num_heads, -1, -1)
            merged = expanded
            if key_padding_mask is not None:
                merged = expanded + key_padding_mask.view(batch_size, 1, 1, seq_len).expand(
                    -1, self.num_heads, -1, -1)
        return merged, mask_type
