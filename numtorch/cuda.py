"""``numtorch.cuda``: numtorch computes on the CPU, so no CUDA device is ever available."""


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Accepted for compatibility (there is no CUDA generator)."""


def manual_seed_all(seed: int) -> None:
    """Accepted for compatibility (there is no CUDA generator)."""


def synchronize(device=None) -> None:
    """Nothing to wait for on the CPU."""
