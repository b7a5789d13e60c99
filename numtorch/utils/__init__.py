"""numtorch.utils: data loading (``numtorch.utils.data``)."""
from . import data  # noqa: F401
