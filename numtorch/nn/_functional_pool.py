"""nn.functional: pool family (being written)."""
__all__ = []
