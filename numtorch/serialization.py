"""save/load of state dicts as safetensors files (being written; see issue 2)."""


def save(obj, f) -> None:
    raise NotImplementedError("numtorch.save is not implemented yet")


def load(f, map_location=None, weights_only=True):
    raise NotImplementedError("numtorch.load is not implemented yet")
