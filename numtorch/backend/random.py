"""Random number generators: an explicit ``numpy.random.Generator`` behind a torch-like API."""
from __future__ import annotations

import numpy as _np

_DEFAULT_SEED = 67280421310721


class Generator:
    """A random number generator, like ``torch.Generator`` (CPU only).

    Differs from torch: the stream is NumPy's PCG64, so values differ from PyTorch's for a seed.
    """

    def __init__(self, device="cpu") -> None:
        self._seed = _DEFAULT_SEED
        self.np = _np.random.Generator(_np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        self._seed = seed
        self.np = _np.random.Generator(_np.random.PCG64(seed & ((1 << 128) - 1)))
        return self

    def seed(self) -> int:
        s = int(_np.random.SeedSequence().entropy) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The generator state as a uint8 tensor-compatible array (a JSON encoding)."""
        import json
        state = json.dumps(self.np.bit_generator.state).encode()
        return _np.frombuffer(state, dtype=_np.uint8).copy()

    def set_state(self, state) -> "Generator":
        import json
        arr = _np.asarray(getattr(state, "_data", state), dtype=_np.uint8)
        self.np.bit_generator.state = json.loads(arr.tobytes().decode())
        return self

    @property
    def device(self):
        from ..tensor import CPU
        return CPU


default_generator = Generator()


def gen(generator=None) -> _np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, else the global default."""
    return (generator or default_generator).np
