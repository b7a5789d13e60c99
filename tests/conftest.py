import numpy as np
import pytest

import numtorch

try:
    import torch
    # The oracle runs on tiny inputs, where torch's intra-op threads only spin: one is faster.
    torch.set_num_threads(1)
except ImportError:  # torch is a test dependency; tests that need it import it themselves
    torch = None


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same seeds."""
    numtorch.manual_seed(0)
    np.random.seed(0)
    if torch is not None:
        torch.manual_seed(0)
    yield
