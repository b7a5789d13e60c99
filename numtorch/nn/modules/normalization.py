"""Normalisation layers (being written)."""
__all__ = []
