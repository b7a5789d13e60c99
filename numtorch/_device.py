"""Shapes and devices: ``numtorch.Size`` and ``numtorch.device`` (only the CPU computes)."""
from __future__ import annotations


class Size(tuple):
    """A tensor's shape, like ``torch.Size``: a tuple of ints."""

    def __repr__(self) -> str:
        return f"numtorch.Size({list(self)})"

    def __getitem__(self, key):
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, other))

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class _Device:
    """``numtorch.device``: only ``cpu`` exists (``cuda`` is accepted as a name but unavailable)."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None) -> None:
        if isinstance(type, _Device):
            type, index = type.type, type.index
        type = str(type)
        if ":" in type:
            type, idx = type.split(":", 1)
            index = int(idx)
        if type not in ("cpu", "cuda", "mps", "meta", "xpu"):
            raise RuntimeError(f"Expected one of cpu, cuda, mps, meta, xpu device type at start of "
                               f"device string: {type}")
        self.type, self.index = type, index

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = _Device(other)
        return isinstance(other, _Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = _Device("cpu")


def _check_device(device) -> None:
    if device is None:
        return
    d = device if isinstance(device, _Device) else _Device(device)
    if d.type != "cpu":
        raise RuntimeError(f"numtorch runs on the CPU only; device {str(d)!r} is not available "
                           "(numtorch.cuda.is_available() is False)")
