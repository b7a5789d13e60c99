"""nn.MultiheadAttention (exported from nn.modules.activation, as in torch)."""
__all__ = []
