"""F.embedding and F.embedding_bag."""
__all__ = []
