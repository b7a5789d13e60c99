"""Transformer encoder/decoder layers and nn.Transformer."""
__all__ = []
