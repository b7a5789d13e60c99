"""nn.functional: conv family (being written)."""
__all__ = []
