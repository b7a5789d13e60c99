"""nn.functional: norm family (being written)."""
__all__ = []
