import numpy as np
import pytest

import numtorch


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same seeds."""
    numtorch.manual_seed(0)
    np.random.seed(0)
    try:
        import torch
        torch.manual_seed(0)
    except ImportError:
        pass
    yield
