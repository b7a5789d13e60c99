"""``numtorch.accelerator``: no accelerator is available; code that selects one runs on the CPU."""


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    return None


def device_count() -> int:
    return 0
