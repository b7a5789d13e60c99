"""L-BFGS optimizer."""
__all__ = []
