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


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` (long fuzzing, many kills) run only when asked: ``-m slow``."""
    if "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with `bash test.sh -m slow`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def kernels_off():
    """Compiled kernels (backend/jit.py) off for the test: ops run their NumPy paths."""
    from numtorch.backend import jit
    before = jit.set_enabled(False)
    yield
    jit.set_enabled(before)


@pytest.fixture
def kernel_calls(monkeypatch):
    """Compiled kernels on for the test (skipped without numba). ``kernel_calls(module,
    *names)`` returns a dict that counts the calls of those functions of the kernel module."""
    pytest.importorskip("numba")
    from numtorch.backend import jit
    before = jit.set_enabled(True)

    def count(module, *names):
        kern, calls = jit.load(module), dict.fromkeys(names, 0)
        for name in names:
            def counted(*args, _real=getattr(kern, name), _name=name):
                calls[_name] += 1
                return _real(*args)
            monkeypatch.setattr(kern, name, counted)
        return calls
    yield count
    jit.set_enabled(before)
