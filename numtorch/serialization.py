"""``numtorch.save`` / ``numtorch.load``: checkpoints as safetensors files, never pickles.

Every tensor in the saved object becomes one safetensors entry; the structure around the tensors
(dicts, lists, tuples, numbers, strings, None, dtypes) is a type-tagged JSON tree stored in the
header's ``__metadata__``. Reading a file parses JSON and copies bytes, nothing else, so a file
can never run code; the header is fully validated before the tensor data is read or allocated.
Any file that is not a valid checkpoint raises :class:`CheckpointError`.

Testing hook: the environment variable ``NUMTORCH_TEST_SAVE_DELAY`` (seconds) sleeps between
writing the complete temporary file and renaming it, so tests can kill a process mid-save.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import stat
import struct
import time
from collections import OrderedDict

import numpy as np

from .backend import dtypes as _dt
from .tensor import Size, Tensor, _Device, _check_device

__all__ = ["save", "load", "CheckpointError", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_VERSION_KEY = "numtorch.format_version"
_TREE_KEY = "numtorch.tree"
_MAX_HEADER = 100_000_000      # bytes; the limit the safetensors library itself enforces
_MAX_NDIM = 64                 # NumPy's limit
_MAX_NBYTES = 2 ** 63 - 1
_CHUNK = 1 << 20
_ST_DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16,
              "I32": np.int32, "I64": np.int64, "F16": np.float16, "F32": np.float32,
              "F64": np.float64}
_ST_DTYPES = {k: np.dtype(v).newbyteorder("<") for k, v in _ST_DTYPES.items()}
_FLOAT_WORDS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_SCALARS = (str, int, float, bool, type(None), np.generic)


def _safetensors():
    """The safetensors package, imported on first save (an optional dependency: numtorch[io])."""
    try:
        import safetensors.numpy
    except ImportError as e:
        raise ImportError("numtorch.save needs the safetensors package: pip install safetensors "
                          "(or numtorch[io])") from e
    return safetensors.numpy


def _st_save_file(arrays, path, metadata) -> None:
    """Write ``arrays`` to ``path`` with safetensors (a seam tests use to simulate failures)."""
    _safetensors().save_file(arrays, path, metadata=metadata)


class CheckpointError(RuntimeError):
    """Raised by :func:`load` when a file is not a readable safetensors / numtorch checkpoint
    (empty, truncated, garbage, a pickle or ``torch.save`` zip file, or a header that lies)."""


# ---- save ------------------------------------------------------------------------------------
def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False) -> None:
    """Save ``obj`` to ``f`` as a safetensors checkpoint.

    Args:
        obj: a Tensor, or dicts / OrderedDicts (str, int, bool, float or None keys), lists and
            tuples of Tensors, ints, floats, bools, None, strings, dtypes, devices and Sizes,
            nested to any depth (e.g. ``{"model": m.state_dict(), "optim": o.state_dict()}``).
        f: a path (str / os.PathLike) or a binary file-like object with ``write``.
        pickle_module, pickle_protocol, _use_new_zipfile_serialization: accepted for
            compatibility with ``torch.save`` and ignored: nothing is ever pickled.

    A path is written atomically: to a temporary file in the same directory that is flushed,
    fsynced and renamed over ``f``; on failure the old file is untouched.

    Differs from torch: only the types above can be saved (anything else raises ``TypeError``
    naming the type and where it sits in ``obj``, and nothing is written); a Parameter is saved
    as a plain Tensor (``requires_grad`` is kept); tensors that share memory, or one tensor saved
    twice, come back as independent copies; dict subclasses other than OrderedDict come back as
    dict, and tuple / list subclasses (namedtuples) as tuple / list.
    """
    arrays: dict = {}
    tree = _encode(obj, (), arrays, set())
    metadata = {_VERSION_KEY: str(FORMAT_VERSION),
                _TREE_KEY: json.dumps(tree, separators=(",", ":"), allow_nan=False)}
    if isinstance(f, (str, bytes, os.PathLike)):
        _save_path(arrays, metadata, os.fsdecode(f))
    elif hasattr(f, "write"):
        data = memoryview(_safetensors().save(arrays, metadata=metadata))
        while data:
            n = f.write(data)
            data = data[len(data) if n is None else n:]
    else:
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             f"'write' attribute, got {type(f).__name__}")


def _where(path) -> str:
    return "obj" + "".join(f"[{p!r}]" for p in path)


def _encode(obj, path, arrays, active):
    """The JSON node of ``obj``; tensors go into ``arrays`` under a fresh entry name."""
    if isinstance(obj, Tensor):
        a = np.asarray(obj._data)
        if not a.flags.c_contiguous:
            a = a.copy(order="C")
        base = "/".join(str(p) for p in path) or "tensor"
        name = base = base.encode("utf-8", "backslashreplace").decode("utf-8")
        n = 0
        while name in arrays or name == "__metadata__":
            n += 1
            name = f"{base}#{n}"
        arrays[name] = a
        node = {"type": "tensor", "name": name}
        if obj._rg:
            node["requires_grad"] = True
        return node
    if isinstance(obj, _SCALARS):
        return _encode_scalar(obj, path, "an object")
    if isinstance(obj, _dt.dtype):
        return {"type": "dtype", "value": obj.name}
    if isinstance(obj, _Device):
        return {"type": "device", "value": str(obj)}
    if isinstance(obj, Size):
        return {"type": "size", "value": [int(s) for s in obj]}
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in active:
            raise ValueError(f"numtorch.save: circular reference at {_where(path)}")
        active.add(id(obj))
        if isinstance(obj, dict):
            items = [[_encode_scalar(k, path, "a dict key"),
                      _encode(v, path + (k,), arrays, active)] for k, v in obj.items()]
            node = {"type": "ordereddict" if isinstance(obj, OrderedDict) else "dict",
                    "items": items}
        else:
            node = {"type": "tuple" if isinstance(obj, tuple) else "list",
                    "items": [_encode(v, path + (i,), arrays, active) for i, v in enumerate(obj)]}
        active.discard(id(obj))
        return node
    raise TypeError(f"numtorch.save can't save an object of type {type(obj).__qualname__!r} at "
                    f"{_where(path)}: checkpoints hold only tensors, dicts, lists, tuples, "
                    "int, float, bool, str, None, dtypes and devices (save a module's or "
                    "optimizer's state_dict(), not the object)")


def _encode_scalar(obj, path, what):
    if obj is None:
        return {"type": "none"}
    if isinstance(obj, (bool, np.bool_)):
        return {"type": "bool", "value": bool(obj)}
    if isinstance(obj, (int, np.integer)):
        return {"type": "int", "value": int(obj)}
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return {"type": "float", "value": v if math.isfinite(v) else repr(v)}
    if isinstance(obj, str):
        return {"type": "str", "value": str(obj)}
    raise TypeError(f"numtorch.save can't save {what} of type {type(obj).__qualname__!r} at "
                    f"{_where(path)}" + (": keys must be str, int, float, bool or None"
                                         if what == "a dict key" else ""))


def _save_path(arrays, metadata, path) -> None:
    if os.path.islink(path):
        path = os.path.realpath(path)          # replace the link's target, not the link
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    try:
        _write_atomic(arrays, metadata, path, directory)
    except OSError as e:                       # full disk, read-only file system, ...: name it
        msg = f"numtorch.save: can't write {path!r}: {e.strerror or e}"
        try:
            err = type(e)(e.errno, msg) if e.errno is not None else type(e)(msg)
        except TypeError:
            err = OSError(e.errno, msg)
        raise err from e


def _write_atomic(arrays, metadata, path, directory) -> None:
    tmp = _make_temp(directory, os.path.basename(path))
    try:
        try:                                   # keep the old file's mode, else 0o666 - umask
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = stat.S_IMODE(os.stat(tmp).st_mode)
        try:
            _st_save_file(arrays, tmp, metadata)
        except Exception as e:                 # safetensors reports I/O errors as its own type
            m = re.search(r"I/O error: (.*?) \(os error (\d+)\)", str(e))
            if isinstance(e, OSError) or m is None:
                raise
            raise OSError(int(m.group(2)), m.group(1)) from e
        os.chmod(tmp, mode)
        expected = sum(a.nbytes for a in arrays.values())
        with open(tmp, "rb+") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            size = os.fstat(fh.fileno()).st_size
            if size != 8 + n + expected:
                raise OSError(f"numtorch.save: short write to {tmp!r} ({size} bytes, expected "
                              f"{8 + n + expected})")
            os.fsync(fh.fileno())
        delay = os.environ.get("NUMTORCH_TEST_SAVE_DELAY")
        if delay:                              # test hook: a window for killing a process mid-save
            time.sleep(float(delay))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: str) -> None:
    """Make a rename in ``directory`` durable (POSIX; directories cannot be opened on Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory or ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _make_temp(directory: str, base: str) -> str:
    """Create an empty, new file next to the target (mode 0o666 less the umask)."""
    while True:
        tmp = os.path.join(directory, f".{base[:200]}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


# ---- load ------------------------------------------------------------------------------------
def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Load an object saved by :func:`save` (or any safetensors file) from ``f``.

    Args:
        f: a path (str / os.PathLike) or a binary file-like object with ``read``.
        map_location: None, ``"cpu"``, a ``numtorch.device``, a dict or a callable; every
            tensor loads on the CPU (a CUDA target raises ``RuntimeError``).
        pickle_module, weights_only, mmap, pickle_load_args: accepted for compatibility with
            ``torch.load``; nothing is ever unpickled, whatever ``weights_only`` says.

    Returns the saved structure with the same container types (OrderedDict, dict, list, tuple,
    int keys as ints). A safetensors file written by another tool (no numtorch metadata) loads
    as a flat dict of tensors in file order.

    Raises:
        CheckpointError: (a ``RuntimeError``) the file is not a valid checkpoint; the message
            names the file and the problem. Raised before any allocation the file's real size
            does not justify.

    Differs from torch: ``mmap=True`` still reads the data into memory; a callable
    ``map_location`` is not called (there are no storages to remap); tensors do not share
    memory with one another; a checkpoint written by ``torch.save`` is rejected (convert it in
    PyTorch with ``safetensors.torch.save_file``).
    """
    _check_map_location(map_location)
    if isinstance(f, (str, bytes, os.PathLike)):
        name = os.fsdecode(f)
        with open(name, "rb") as fh:
            return _read(fh, repr(name), os.fstat(fh.fileno()).st_size)
    if not hasattr(f, "read"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             f"'read' attribute, got {type(f).__name__}")
    size = None
    with contextlib.suppress(AttributeError, OSError, ValueError):
        if f.seekable():
            pos = f.tell()
            size = f.seek(0, os.SEEK_END) - pos
            f.seek(pos)
    name = getattr(f, "name", None)
    return _read(f, repr(name) if isinstance(name, str) else f"<{type(f).__name__}>", size)


def _check_map_location(m) -> None:
    if isinstance(m, (str, _Device, dict)):
        for target in (m.values() if isinstance(m, dict) else (m,)):
            _check_device(target)
    elif not (m is None or callable(m)):
        raise TypeError(f"map_location should be a str, device, dict or callable, got "
                        f"{type(m).__name__}")


def _read(fh, src: str, size):
    """Read and validate one checkpoint from ``fh``; ``size`` is the byte count left, if known."""
    def fail(problem):
        return CheckpointError(f"can't load {src}: {problem}")

    head = _read_upto(fh, 8)
    if len(head) < 8:
        raise fail("the file is empty" if not head else
                   f"the file is {len(head)} bytes long, too short for a safetensors header")
    (n,) = struct.unpack("<Q", head)
    if n > _MAX_HEADER or n < 2:
        raise fail(_sniff(head) or f"header length {n} is invalid (must be 2 to {_MAX_HEADER}):"
                   " not a safetensors file")
    if size is not None and 8 + n > size:
        raise fail(_sniff(head) or f"header length {n} is larger than the file ({size} bytes):"
                   " truncated or not a safetensors file")
    raw = _read_upto(fh, n, size is not None)
    if len(raw) < n:
        raise fail(f"truncated: the header needs {n} bytes, only {len(raw)} remain")
    if raw[:1] != b"{":
        raise fail(_sniff(head) or "the header is not a JSON object: not a safetensors file")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                            parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise fail(f"the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise fail("the header is not a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is not None and not (isinstance(meta, dict) and
                                 all(isinstance(v, str) for v in meta.values())):
        raise fail("'__metadata__' must map strings to strings")
    entries, nbytes = _check_entries(header, fail)
    if size is not None and size != 8 + n + nbytes:
        raise fail(f"the header describes {8 + n + nbytes} bytes but the file has {size}: "
                   + ("truncated" if size < 8 + n + nbytes else "trailing bytes after the data"))

    tensors = {name: Tensor._make(None) for name in entries}
    if meta is not None and (_VERSION_KEY in meta or _TREE_KEY in meta):
        obj = _decode_tree(meta, tensors, entries, fail)
    else:
        obj = tensors
    data = _read_upto(fh, nbytes, size is not None)
    if len(data) < nbytes:
        raise fail(f"truncated: the header describes {nbytes} bytes of tensor data, only "
                   f"{len(data)} remain")
    for name, (dt, shape, start, end) in entries.items():
        a = np.frombuffer(data, dtype=dt, count=(end - start) // dt.itemsize, offset=start)
        if dt.kind == "b" and (a.view(np.uint8) > 1).any():
            raise fail(f"BOOL tensor {name!r} holds bytes other than 0 and 1")
        if not a.dtype.isnative:
            a = a.astype(a.dtype.newbyteorder("="))
        elif not a.flags.aligned:
            a = a.copy()
        tensors[name]._data = a.reshape(shape)
    return obj


def _sniff(head: bytes):
    """A clearer message for well-known non-safetensors files (used only once parsing failed)."""
    if head[:2] in (b"PK",):
        return ("this is a zip archive, probably a PyTorch checkpoint written by torch.save: "
                "numtorch reads only safetensors files and never unpickles (convert it in "
                "PyTorch with safetensors.torch.save_file(state_dict, path))")
    if head[:1] == b"\x80" and 2 <= head[1] <= 5:
        return "this is a pickle file (e.g. legacy torch.save): numtorch never unpickles files"
    return None


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {k!r}")
        d[k] = v
    return d


def _no_constant(word):
    raise ValueError(f"{word} is not JSON")


def _is_int(v) -> bool:
    return type(v) is int


def _check_entries(header, fail):
    """{name: (numpy dtype, shape, start, end)} in file order, and the data length; checks that
    every entry is well formed and that the entries tile the data region exactly."""
    entries = {}
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise fail(f"tensor {name!r}: the entry must have exactly the fields 'dtype', "
                       f"'shape' and 'data_offsets', got {info!r}"[:300])
        dt, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dt, str) or dt not in _ST_DTYPES:
            raise fail(f"tensor {name!r} has unsupported dtype {dt!r} (numtorch reads "
                       + ", ".join(_ST_DTYPES) + ")")
        dt = _ST_DTYPES[dt]
        if not (isinstance(shape, list) and len(shape) <= _MAX_NDIM
                and all(_is_int(s) and s >= 0 for s in shape)):
            raise fail(f"tensor {name!r} has an invalid shape {shape!r}"[:300])
        if not (isinstance(offs, list) and len(offs) == 2 and all(map(_is_int, offs))
                and 0 <= offs[0] <= offs[1]):
            raise fail(f"tensor {name!r} has invalid data_offsets {offs!r}"[:300])
        count = nonzero = 1
        for s in shape:
            count *= s
            nonzero *= max(s, 1)
        if nonzero * dt.itemsize > _MAX_NBYTES:
            raise fail(f"tensor {name!r} has an absurd shape {shape}")
        if count * dt.itemsize != offs[1] - offs[0]:
            raise fail(f"tensor {name!r}: shape {shape} x {dt.itemsize} bytes = "
                       f"{count * dt.itemsize} bytes, but data_offsets {offs} span "
                       f"{offs[1] - offs[0]}")
        entries[name] = (dt, tuple(shape), offs[0], offs[1])
    end, last = 0, None
    for name, (_, _, start, stop) in sorted(entries.items(), key=lambda kv: kv[1][2:]):
        if start != end:
            raise fail(f"tensor {name!r} data_offsets [{start}, {stop}] "
                       + (f"overlap tensor {last!r}" if start < end else
                          f"leave a gap after byte {end}"))
        end, last = stop, name
    return entries, end


def _read_upto(fh, n: int, known_size: bool = False) -> bytearray:
    """Up to ``n`` bytes (fewer only at end of file) in a writable buffer. It is allocated up
    front only when the file's real size has confirmed ``n``; otherwise it grows as data comes."""
    if known_size and hasattr(fh, "readinto"):
        buf, got = bytearray(n), 0
        with memoryview(buf) as view:
            while got < n:
                k = fh.readinto(view[got:])
                if not k:
                    break
                got += k
        return buf if got == n else buf[:got]
    buf = bytearray()
    while len(buf) < n:
        b = fh.read(min(n - len(buf), _CHUNK))
        if not b:
            break
        buf += b
    return buf


# ---- the structure tree ----------------------------------------------------------------------
_FIELDS = {"none": {"type"}, "tensor": {"type", "name", "requires_grad"}, "size": {"type", "value"},
           "list": {"type", "items"}, "tuple": {"type", "items"}, "dict": {"type", "items"},
           "ordereddict": {"type", "items"}}
_KEY_TYPES = ("none", "bool", "int", "float", "str")


def _decode_tree(meta, tensors, entries, fail):
    version = meta.get(_VERSION_KEY)
    if version != str(FORMAT_VERSION):
        raise fail(f"unsupported numtorch checkpoint format version {version!r} (this numtorch "
                   f"reads version {FORMAT_VERSION})")
    used = set()
    try:
        tree = json.loads(meta.get(_TREE_KEY, ""), parse_constant=_no_constant)
        obj = _decode(tree, tensors, entries, used)
    except RecursionError:
        raise fail("the structure tree is nested too deeply") from None
    except (ValueError, OverflowError) as e:
        raise fail(f"bad structure tree: {e}") from None
    unused = [name for name in entries if name not in used]
    if unused:
        raise fail(f"bad structure tree: tensor entries {unused[:5]} are not referenced")
    return obj


def _decode(node, tensors, entries, used):
    kind = node.get("type") if isinstance(node, dict) else None
    if not (isinstance(kind, str) and set(node) <= _FIELDS.get(kind, {"type", "value"})
            and (kind in _FIELDS or kind in _LEAVES)):
        raise ValueError(f"invalid node {node!r}"[:200])
    if kind in _LEAVES:
        return _LEAVES[kind](node.get("value"))
    if kind == "tensor":
        name, rg = node.get("name"), node.get("requires_grad", False)
        if not isinstance(name, str) or name not in tensors or name in used:
            raise ValueError(f"tensor {name!r} is " + ("referenced twice" if name in used else
                                                        "not in the file"))
        if rg is not False and not (rg is True and entries[name][0].kind == "f"):
            raise ValueError(f"invalid requires_grad {rg!r} for tensor {name!r}")
        used.add(name)
        t = tensors[name]
        t._rg = rg
        return t
    if kind == "size":
        v = node.get("value")
        if not (isinstance(v, list) and all(_is_int(s) and s >= 0 for s in v)):
            raise ValueError(f"invalid Size {v!r}"[:200])
        return Size(v)
    items = node.get("items")
    if not isinstance(items, list):
        raise ValueError(f"{kind} node without an items list")
    if kind in ("list", "tuple"):
        out = [_decode(v, tensors, entries, used) for v in items]
        return tuple(out) if kind == "tuple" else out
    out = OrderedDict() if kind == "ordereddict" else {}
    for pair in items:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], dict)
                and pair[0].get("type") in _KEY_TYPES):
            raise ValueError(f"invalid dict item {pair!r}"[:200])
        k = _decode(pair[0], tensors, entries, used)
        if k in out:
            raise ValueError(f"duplicate dict key {k!r}")
        out[k] = _decode(pair[1], tensors, entries, used)
    return out


def _leaf(check, convert=lambda v: v):
    def decode(v):
        if not check(v):
            raise ValueError(f"invalid leaf value {v!r}"[:200])
        return convert(v)
    return decode


_LEAVES = {
    "none": lambda v: None,
    "bool": _leaf(lambda v: isinstance(v, bool)),
    "int": _leaf(_is_int),
    "float": _leaf(lambda v: type(v) in (int, float) or (isinstance(v, str) and
                                                         v in _FLOAT_WORDS),
                   lambda v: _FLOAT_WORDS[v] if isinstance(v, str) else float(v)),
    "str": _leaf(lambda v: isinstance(v, str)),
    "dtype": _leaf(lambda v: isinstance(v, str) and v in {d.name for d in _dt.ALL},
                   _dt.as_dtype),
    "device": _leaf(lambda v: isinstance(v, str) and v.split(":")[0] in
                    ("cpu", "cuda", "mps", "meta", "xpu"), _Device),
}
