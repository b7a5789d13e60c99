"""numtorch.save / numtorch.load: safetensors checkpoints, round trips, atomic writes, and the
rejection of every malformed or pickle-based file (torch is the oracle for structure and dtypes)."""
import collections
import io
import json
import math
import os
import pathlib
import pickle
import re
import stat
import struct
import sys
import tracemalloc
from collections import OrderedDict

import numpy as np
import pytest
import safetensors
import safetensors.numpy
import safetensors.torch
import torch

import numtorch as nt
from numtorch import serialization
from numtorch.serialization import CheckpointError

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SHAPES = [(), (0,), (2, 0, 3), (5,), (3, 4), (2, 3, 1, 2)]


def _array(dtype, shape, rng):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    return (rng.standard_normal(shape) * 100).astype(dtype)


def _bits(t):
    return np.ascontiguousarray(t.detach().numpy()).tobytes()


def assert_same(a, b):
    """Equal values with identical types all the way down (bit-exact tensors)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, nt.Tensor):
        assert (a.dtype, a.shape, a.requires_grad) == (b.dtype, b.shape, b.requires_grad)
        assert _bits(a) == _bits(b)
    elif isinstance(a, float):
        assert a == b and math.copysign(1, a) == math.copysign(1, b) or a != a and b != b
    elif isinstance(a, dict):
        assert [(type(k), k) for k in a] == [(type(k), k) for k in b]
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


def _roundtrip(obj, tmp_path, name="ck.safetensors"):
    path = tmp_path / name
    nt.save(obj, path)
    out = nt.load(path)
    buf = io.BytesIO()
    nt.save(obj, buf)
    buf.seek(0)
    assert_same(out, nt.load(buf))
    return out


# ---- round trips -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_and_shape_round_trips(dtype, tmp_path):
    rng = np.random.default_rng(0)
    arrays = {f"t{i}": np.asarray(_array(dtype, s, rng), dtype) for i, s in enumerate(SHAPES)}
    obj = {k: nt.from_numpy(a) for k, a in arrays.items()}
    out = _roundtrip(obj, tmp_path)
    assert_same(out, obj)
    # the file is plain safetensors: torch reads it with the same names, dtypes and values
    ref = safetensors.torch.load_file(tmp_path / "ck.safetensors")
    for k, a in arrays.items():
        assert ref[k].dtype == getattr(torch, dtype) and ref[k].shape == a.shape
        assert np.array_equal(ref[k].numpy(), a, equal_nan=True)


def test_non_contiguous_and_shared_memory_tensors_saved_as_copies(tmp_path):
    base = nt.arange(24, dtype=nt.float64).reshape(4, 6)
    views = {"t": base.t(), "step": base[::2, ::3], "col": base[:, 1], "flip": base.flip(0),
             "expand": nt.tensor([1.0, 2.0]).expand(3, 2), "row": base[1], "base": base,
             "same": base}
    out = _roundtrip(views, tmp_path)
    for k, v in views.items():
        assert np.array_equal(out[k].numpy(), v.numpy()) and out[k].is_contiguous()
    assert len(safetensors.numpy.load_file(tmp_path / "ck.safetensors")) == len(views)
    out["base"].add_(100.0)                      # loaded tensors are independent and writable
    assert np.array_equal(out["same"].numpy(), base.numpy())
    assert np.array_equal(out["row"].numpy(), base[1].numpy())


def _nested(lib):
    t = lib.tensor
    return {
        "model": OrderedDict([("fc.weight", t([[1.5, -2.0]])), ("fc.bias", t([0.25])),
                              ("bn.num_batches_tracked", t(7))]),
        "optim": {"state": {0: {"momentum_buffer": t([0.1, 0.2]), "step": t(3.0)},
                            1: {"momentum_buffer": None}},
                  "param_groups": [{"lr": 0.01, "momentum": 0.9, "nesterov": False,
                                    "foreach": None, "params": [0, 1], "name": "héllo ✓"}]},
        "epoch": 12, "big": -2 ** 70, "nan": float("nan"), "inf": -math.inf, "zero": -0.0,
        "tuple": (1, (2.5, "x"), [], {}, ()), "flags": [True, False, None],
        3: "int key", -1: [t([True, False]), t([], dtype=lib.int64)], "empty": OrderedDict(),
        "dtype": lib.float16, "device": lib.device("cpu"),
    }


def test_nested_structure_matches_torch_round_trip(tmp_path):
    ours = _roundtrip(_nested(nt), tmp_path)
    assert_same(ours, _nested(nt))
    buf = io.BytesIO()
    torch.save(_nested(torch), buf)
    buf.seek(0)
    ref = torch.load(buf)

    def compare(a, b):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, nt.Tensor) and str(a.dtype)[9:] == str(b.dtype)[6:]
            assert a.shape == tuple(b.shape) and np.array_equal(a.numpy(), b.numpy())
        elif isinstance(b, (torch.dtype, torch.device)):
            assert str(a).split(".")[-1] == str(b).split(".")[-1]
        elif isinstance(b, dict):
            assert type(a) is type(b) and list(a) == list(b)
            [compare(a[k], b[k]) for k in b]
        elif isinstance(b, (list, tuple)):
            assert type(a) is type(b) and len(a) == len(b)
            [compare(x, y) for x, y in zip(a, b)]
        else:
            assert type(a) is type(b) and (a == b or a != a)
    compare(ours, ref)


def test_scalars_single_tensor_requires_grad_and_parameters(tmp_path):
    for obj in (None, 3, 2.5, "s", True, [], nt.tensor(1.5), nt.Size([2, 3]), nt.int8):
        assert_same(_roundtrip(obj, tmp_path), obj)
    x = nt.ones(3, requires_grad=True)
    y = x * 2                                    # a non-leaf loads as a leaf, as in torch
    out = _roundtrip({"x": x, "y": y, "g": nt.zeros(2)}, tmp_path)
    assert out["x"].requires_grad and out["y"].requires_grad and out["y"].is_leaf
    assert not out["g"].requires_grad
    ref = io.BytesIO()
    torch.save({"y": torch.ones(3, requires_grad=True) * 2}, ref)
    ref.seek(0)
    assert torch.load(ref)["y"].requires_grad
    odd = {"lone \ud800": nt.ones(1), "": {"a/b": nt.zeros(1), "a": {"b": nt.ones(2)}}}
    assert_same(_roundtrip(odd, tmp_path), odd)
    np_scalars = {"i": np.int64(4), "f": np.float32(0.5), "b": np.bool_(True)}
    assert_same(_roundtrip(np_scalars, tmp_path), {"i": 4, "f": 0.5, "b": True})
    Point = collections.namedtuple("Point", "x y")
    subclassed = {"dd": collections.defaultdict(list, a=[1]), "nt": Point(1, nt.ones(1))}
    assert_same(_roundtrip(subclassed, tmp_path), {"dd": {"a": [1]}, "nt": (1, nt.ones(1))})
    try:
        from numtorch.nn import Parameter
    except ImportError:
        return
    out = _roundtrip({"p": Parameter(nt.ones(2))}, tmp_path)
    assert type(out["p"]) is nt.Tensor and out["p"].requires_grad


def test_state_dict_keys_are_safetensors_names(tmp_path):
    sd = OrderedDict([("fc.weight", nt.randn(2, 3)), ("fc.bias", nt.randn(2)),
                      ("__metadata__", nt.ones(1))])
    nt.save(sd, tmp_path / "m.safetensors")
    flat = safetensors.numpy.load_file(tmp_path / "m.safetensors")
    assert set(flat) == {"fc.weight", "fc.bias", "__metadata__#1"}
    assert np.array_equal(flat["fc.weight"], sd["fc.weight"].numpy())


def test_plain_safetensors_files_load_as_flat_dicts(tmp_path):
    ref = {"b": torch.arange(6, dtype=torch.int64).reshape(2, 3), "a": torch.randn(4),
           "m": torch.tensor([True, False]), "h": torch.ones(2, dtype=torch.float16)}
    safetensors.torch.save_file(ref, tmp_path / "t.safetensors", metadata={"format": "pt"})
    safetensors.numpy.save_file({"z": np.ones((2, 2), np.float64)}, tmp_path / "n.safetensors")
    out = nt.load(tmp_path / "t.safetensors")
    assert type(out) is dict and set(out) == set(ref)
    for k, v in ref.items():
        assert str(out[k].dtype)[9:] == str(v.dtype)[6:] and np.array_equal(out[k].numpy(),
                                                                             v.numpy())
    assert np.array_equal(nt.load(tmp_path / "n.safetensors")["z"].numpy(), np.ones((2, 2)))
    safetensors.torch.save_file({"x": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "b.st")
    with pytest.raises(CheckpointError, match="unsupported dtype 'BF16'"):
        nt.load(tmp_path / "b.st")


def test_load_needs_no_safetensors_package_and_save_says_what_to_install(tmp_path,
                                                                         monkeypatch):
    nt.save({"w": nt.ones(2)}, tmp_path / "a.st")
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    assert nt.load(tmp_path / "a.st")["w"].shape == (2,)
    with pytest.raises(ImportError, match="pip install safetensors"):
        nt.save({"w": nt.ones(2)}, tmp_path / "b.st")
    assert os.listdir(tmp_path) == ["a.st"]


# ---- what cannot be saved --------------------------------------------------------------------
class _Thing:
    pass


@pytest.mark.parametrize("bad, where, tname", [
    ({"a": [1, {"m": lambda: 0}]}, "obj['a'][1]['m']", "function"),
    ({"x": _Thing()}, "obj['x']", "_Thing"),
    ([nt.ones(1), {1, 2}], "obj[1]", "set"),
    ({"a": {(1, 2): 3}}, "obj['a']", "tuple"),
    ({"b": b"raw"}, "obj['b']", "bytes"),
    ({"n": np.ones(2)}, "obj['n']", "ndarray"),
    ({"c": 1j}, "obj['c']", "complex"),
    ({"mod": io}, "obj['mod']", "module"),
])
def test_unsupported_objects_raise_type_error_and_write_nothing(bad, where, tname, tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match=re.escape(tname) + ".*" + re.escape(where)):
        nt.save(bad, path)
    buf = io.BytesIO()
    with pytest.raises(TypeError):
        nt.save(bad, buf)
    assert os.listdir(tmp_path) == [] and buf.getvalue() == b""


def test_circular_reference_and_bad_destinations(tmp_path):
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"circular reference at obj\[1\]"):
        nt.save(loop, tmp_path / "c.st")
    with pytest.raises(AttributeError):
        nt.save(nt.ones(1), 5)
    with pytest.raises(AttributeError):
        nt.load(5)
    with pytest.raises(RuntimeError, match="Parent directory .*nope does not exist"):
        nt.save(nt.ones(1), tmp_path / "nope" / "x.st")
    with pytest.raises(FileNotFoundError):
        nt.load(tmp_path / "missing.st")
    assert os.listdir(tmp_path) == []


# ---- atomic writes ---------------------------------------------------------------------------
def _fail_mid_write(arrays, path, metadata):
    payload = safetensors.numpy.save(arrays, metadata=metadata)
    with open(path, "wb") as fh:
        fh.write(payload[: len(payload) // 2])
    raise OSError("No space left on device (simulated)")


def _interrupt(arrays, path, metadata):
    with open(path, "wb") as fh:
        fh.write(b"partial")
    raise KeyboardInterrupt


def _raise(*args, **kwargs):
    raise OSError("simulated failure")


@pytest.mark.parametrize("target, replacement, exc", [
    ("_st_save_file", _fail_mid_write, OSError), ("_st_save_file", _interrupt, KeyboardInterrupt),
    ("fsync", _raise, OSError), ("replace", _raise, OSError)])
def test_failed_write_leaves_old_file_and_no_temp(target, replacement, exc, tmp_path,
                                                  monkeypatch):
    path = tmp_path / "ck.safetensors"
    nt.save({"w": nt.arange(10.0)}, path)
    old = path.read_bytes()
    owner = serialization if target == "_st_save_file" else os
    monkeypatch.setattr(owner, target, replacement)
    with pytest.raises(exc):
        nt.save({"w": nt.zeros(1000)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ck.safetensors"] and path.read_bytes() == old
    assert np.array_equal(nt.load(path)["w"].numpy(), np.arange(10.0, dtype=np.float32))
    new = tmp_path / "new.safetensors"           # a first save that fails leaves nothing at all
    monkeypatch.setattr(owner, target, replacement)
    with pytest.raises(exc):
        nt.save({"w": nt.zeros(3)}, new)
    assert os.listdir(tmp_path) == ["ck.safetensors"]


def test_write_is_fsynced_renamed_and_keeps_mode_and_symlinks(tmp_path, monkeypatch):
    synced, real_fsync = [], os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.fstat(fd).st_mode) or
                        real_fsync(fd))
    path = tmp_path / "ck.safetensors"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    nt.save({"a": nt.ones(3)}, str(path))
    assert any(stat.S_ISREG(m) for m in synced) and any(stat.S_ISDIR(m) for m in synced)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    link = tmp_path / "latest.safetensors"
    link.symlink_to(path)
    nt.save({"a": nt.zeros(2)}, link)
    assert link.is_symlink() and nt.load(path)["a"].shape == (2,)
    assert sorted(os.listdir(tmp_path)) == ["ck.safetensors", "latest.safetensors"]


# ---- file-like objects and load options ------------------------------------------------------
class _Stream(io.RawIOBase):
    """A readable, non-seekable byte stream (a pipe or socket)."""

    def __init__(self, data):
        self._b = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, b):
        return self._b.readinto(b)


def test_file_objects_paths_and_load_options(tmp_path):
    obj = {"w": nt.randn(3, 2), "n": 4}
    with open(tmp_path / "f.st", "wb") as fh:
        nt.save(obj, fh)
    for src in (str(tmp_path / "f.st"), tmp_path / "f.st", os.fsencode(tmp_path / "f.st")):
        assert_same(nt.load(src), obj)
    with open(tmp_path / "f.st", "rb") as fh:
        assert_same(nt.load(fh, map_location="cpu"), obj)
    data = (tmp_path / "f.st").read_bytes()
    assert_same(nt.load(_Stream(data)), obj)
    for ml in (None, "cpu", nt.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s):
        assert_same(nt.load(io.BytesIO(data), map_location=ml, weights_only=False, mmap=True),
                    obj)
    with pytest.raises(RuntimeError, match="cuda"):
        nt.load(io.BytesIO(data), map_location="cuda:0")


# ---- malformed files -------------------------------------------------------------------------
def _raw(header, data=b"", meta=None, length=None):
    """Hand-built safetensors bytes (header is a JSON-able dict or raw bytes)."""
    if meta is not None:
        header = {"__metadata__": meta, **header}
    hb = header if isinstance(header, bytes) else json.dumps(header).encode()
    hb += b" " * (-len(hb) % 8)
    return struct.pack("<Q", len(hb) if length is None else length) + hb + data


def _ours(tree, arrays=None, version="1"):
    """A numtorch-format file with the given structure tree and tensor entries."""
    header, data = {}, b""
    for name, a in (arrays or {}).items():
        header[name] = {"dtype": {"float32": "F32", "int64": "I64", "bool": "BOOL"}[str(a.dtype)],
                        "shape": list(a.shape), "data_offsets": [len(data), len(data) + a.nbytes]}
        data += a.tobytes()
    meta = {"numtorch.format_version": version,
            "numtorch.tree": tree if isinstance(tree, str) else json.dumps(tree)}
    return _raw(header, data, meta)


def _good():
    buf = io.BytesIO()
    nt.save({"w": nt.arange(8.0).reshape(2, 4), "step": 3}, buf)
    return buf.getvalue()


F4 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
T = {"type": "tensor", "name": "a"}
A = {"a": np.ones(2, np.float32)}


def _deep(n):
    return '{"type":"list","items":[' * n + "]}" * n


MALFORMED = {
    "empty": (b"", "empty"),
    "five_bytes": (b"\x01\x02\x03\x04\x05", "too short"),
    "cut_in_header": (_good()[:40], "truncated"),
    "cut_in_data": (_good()[:-5], "truncated"),
    "trailing_bytes": (_good() + b"\0" * 8, "trailing"),
    "garbage": (np.random.default_rng(1).bytes(4096), "not a safetensors file"),
    "text": (b"hello, this is not a checkpoint\n" * 4, "not a safetensors file"),
    "header_len_huge": (_raw({}, length=2 ** 63), "invalid"),
    "header_len_zero": (struct.pack("<Q", 0) + b"{}", "invalid"),
    "header_len_beyond_file": (_raw({"a": F4}, b"\0" * 8, length=5000), "larger than the file"),
    "bad_json": (_raw(b'{"a": {"dtype": '), "not valid JSON"),
    "not_utf8": (_raw(b'{"\xff\xfe": 1}'), "not valid JSON"),
    "nan_constant": (_raw(b'{"a": NaN}'), "not valid JSON"),
    "json_list": (_raw(b"[1, 2]"), "not a JSON object"),
    "leading_space": (_raw(b' {"a": 1}'), "not a JSON object"),
    "entry_not_dict": (_raw({"a": [1, 2]}), "exactly the fields"),
    "extra_field": (_raw({"a": {**F4, "x": 1}}, b"\0" * 8), "exactly the fields"),
    "duplicate_name": (_raw(b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
                            b'"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}',
                            b"\0" * 4), "duplicate key 'a'"),
    "bad_metadata": (_raw({}, meta={"k": 1}), "__metadata__"),
    "unknown_dtype": (_raw({"a": {**F4, "dtype": "Q7"}}, b"\0" * 8), "unsupported dtype 'Q7'"),
    "dtype_not_str": (_raw({"a": {**F4, "dtype": ["F32"]}}, b"\0" * 8), "unsupported dtype"),
    "offsets_beyond_file": (_raw({"a": {**F4, "shape": [1000], "data_offsets": [0, 4000]}},
                                 b"\0" * 8), "truncated"),
    "offsets_reversed": (_raw({"a": {**F4, "data_offsets": [8, 0]}}, b"\0" * 8),
                         "invalid data_offsets"),
    "offsets_not_pair": (_raw({"a": {**F4, "data_offsets": [0]}}, b"\0" * 8),
                         "invalid data_offsets"),
    "offsets_strings": (_raw({"a": {**F4, "data_offsets": ["0", "8"]}}, b"\0" * 8),
                        "invalid data_offsets"),
    "overlap": (_raw({"a": {**F4, "shape": [4], "data_offsets": [0, 16]},
                      "b": {**F4, "shape": [4], "data_offsets": [8, 24]}}, b"\0" * 24),
                "overlap"),
    "same_range": (_raw({"a": F4, "b": F4}, b"\0" * 8), "overlap"),
    "gap": (_raw({"a": F4, "b": {**F4, "data_offsets": [16, 24]}}, b"\0" * 24), "gap"),
    "not_from_zero": (_raw({"a": {**F4, "data_offsets": [8, 16]}}, b"\0" * 16), "gap"),
    "byte_count": (_raw({"a": {**F4, "shape": [3]}}, b"\0" * 8), "span"),
    "absurd_shape": (_raw({"a": {**F4, "shape": [0, 2 ** 62, 4], "data_offsets": [0, 0]}}),
                     "absurd shape"),
    "negative_dim": (_raw({"a": {**F4, "shape": [-2]}}, b"\0" * 8), "invalid shape"),
    "float_dim": (_raw({"a": {**F4, "shape": [2.0]}}, b"\0" * 8), "invalid shape"),
    "bool_dim": (_raw({"a": {**F4, "shape": [True, 2]}}, b"\0" * 8), "invalid shape"),
    "too_many_dims": (_raw({"a": {**F4, "shape": [1] * 65 + [2]}}, b"\0" * 8), "invalid shape"),
    "bool_bytes": (_raw({"a": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}},
                        b"\x01\x07"), "BOOL tensor 'a'"),
    "version": (_ours({"type": "none"}, version="2"), "format version '2'"),
    "tree_empty": (_ours("", A), "bad structure tree"),
    "tree_bad_json": (_ours('{"type": "list", "items": [', A), "bad structure tree"),
    "tree_missing_tensor": (_ours({"type": "tensor", "name": "zz"}, A), "'zz' is not in the file"),
    "tree_unreferenced": (_ours({"type": "none"}, A), "not referenced"),
    "tree_twice": (_ours({"type": "list", "items": [T, T]}, A), "referenced twice"),
    "tree_unknown_type": (_ours({"type": "pickle", "value": "x"}, A), "invalid node"),
    "tree_extra_field": (_ours({"type": "none", "code": "rm -rf"}), "invalid node"),
    "tree_not_node": (_ours([1, 2]), "invalid node"),
    "tree_bad_leaf": (_ours({"type": "int", "value": "3"}), "invalid leaf"),
    "tree_bad_float": (_ours({"type": "float", "value": [1]}), "invalid leaf"),
    "tree_bad_dtype": (_ours({"type": "dtype", "value": "complex64"}), "invalid leaf"),
    "tree_bad_key": (_ours({"type": "dict", "items": [[{"type": "list", "items": []},
                                                      {"type": "none"}]]}), "invalid dict item"),
    "tree_dup_key": (_ours({"type": "dict", "items": [[{"type": "int", "value": 1},
                                                      {"type": "none"}]] * 2}),
                     "duplicate dict key 1"),
    "tree_int_requires_grad": (_ours({**T, "requires_grad": True},
                                     {"a": np.ones(2, np.int64)}), "requires_grad"),
    "tree_deep": (_ours(_deep(5000)), "bad structure tree|nested too deeply"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_files_raise_checkpoint_error(name, tmp_path):
    data, problem = MALFORMED[name]
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match=problem) as info:
        nt.load(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, RuntimeError)
    with pytest.raises(CheckpointError, match=problem):
        nt.load(io.BytesIO(data))
    if name not in ("trailing_bytes",):          # a stream cannot tell what follows the file
        with pytest.raises(CheckpointError):
            nt.load(_Stream(data))


def test_lying_header_is_rejected_before_a_large_allocation(tmp_path):
    lie = _raw({"a": {"dtype": "F64", "shape": [10 ** 9], "data_offsets": [0, 8 * 10 ** 9]}},
               b"\0" * 64)
    long_header = struct.pack("<Q", 99_999_992) + b'{"a":' + b" " * 100
    (tmp_path / "lie.st").write_bytes(lie)
    for src in (lambda: tmp_path / "lie.st", lambda: io.BytesIO(lie), lambda: _Stream(lie),
                lambda: _Stream(long_header)):
        tracemalloc.start()
        with pytest.raises(CheckpointError, match="truncated|larger than the file"):
            nt.load(src())
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 8 * 2 ** 20, peak


def test_mutated_files_only_ever_raise_checkpoint_error():
    """Random corruption: numtorch either loads the file or raises CheckpointError, and never
    accepts a file the safetensors library itself rejects."""
    good = _good()
    n = 8 + struct.unpack("<Q", good[:8])[0]
    rng = np.random.default_rng(0)
    accepted = 0
    for i in range(600):
        b = bytearray(good)
        kind = i % 3
        if kind == 0:
            b[int(rng.integers(0, n))] = int(rng.integers(0, 256))
        elif kind == 1:
            b[int(rng.integers(0, n))] = int(rng.choice(list(b'0123456789[]{},:" -.e')))
        else:
            start = int(rng.integers(0, len(b)))
            del b[start:start + int(rng.integers(1, 9))]
        try:
            nt.load(io.BytesIO(bytes(b)))
        except CheckpointError:
            continue
        safetensors.deserialize(bytes(b))        # raises if the reference reader disagrees
        accepted += 1
    assert 0 < accepted < 600


# ---- pickles are never run -------------------------------------------------------------------
class _Canary:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_payloads_are_rejected_and_never_run(tmp_path):
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Canary(str(probe))))      # the payload is live under pickle
    assert probe.exists()
    canary = tmp_path / "canary"
    files = {f"pickle{p}": pickle.dumps({"w": _Canary(str(canary))}, protocol=p)
             for p in range(6)}
    for name, kwargs in (("torch_zip", {}), ("torch_legacy",
                                             {"_use_new_zipfile_serialization": False})):
        buf = io.BytesIO()
        torch.save({"w": torch.ones(2), "evil": _Canary(str(canary))}, buf, **kwargs)
        files[name] = buf.getvalue()
    assert not canary.exists()
    for name, data in files.items():
        path = tmp_path / f"{name}.pt"
        path.write_bytes(data)
        for wo in (True, False):
            with pytest.raises(CheckpointError) as info:
                nt.load(path, weights_only=wo)
            if name.startswith("torch"):
                assert re.search("torch.save|pickle", str(info.value))
    assert not canary.exists()


_BANNED = [r"(?i)pickle\.(load|loads|Unpickler)\b",
           r"from\s+c?pickle\s+import\s+.*\b(load|Unpickler)",
           r"allow_pickle\s*=\s*True", r"(?<![\w.])(?<!def )eval\s*\(",
           r"(?<![\w.])(?<!def )exec\s*\(", r"yaml\.(load|load_all|unsafe_load|full_load)\s*\(",
           r"marshal\.loads?\s*\("]


def test_banned_patterns_are_detected():
    bad = ["x = pickle.load(f)", "pickle.loads(b)", "np.load(p, allow_pickle=True)",
           "eval(src)", "y = exec (code)", "yaml.load(s)", "from pickle import loads",
           "cPickle.load(f)", "marshal.loads(b)"]
    ok = ["model.eval()", "def eval(self):", "yaml.safe_load(s)", "self.exec_count = 1",
          "np.load(p, allow_pickle=False)", "retrieval(x)"]
    assert all(any(re.search(p, line) for p in _BANNED) for line in bad)
    assert not any(re.search(p, line) for p in _BANNED for line in ok)


def test_numtorch_source_never_deserializes_code():
    root = pathlib.Path(nt.__file__).parent
    hits = [f"{path.relative_to(root)}:{i}: {line.strip()}"
            for path in sorted(root.rglob("*.py"))
            for i, line in enumerate(path.read_text().splitlines(), 1)
            if any(re.search(p, line) for p in _BANNED)]
    assert not hits, hits


# ---- training resumes bit-identically --------------------------------------------------------
def _data():
    rng = np.random.default_rng(3)
    return nt.tensor(rng.standard_normal((16, 3)).astype(np.float32)), \
        nt.tensor(rng.standard_normal((16, 1)).astype(np.float32))


def _init():
    nt.manual_seed(7)
    return [(nt.randn(3, 8) * 0.5).requires_grad_(), nt.zeros(8, requires_grad=True),
            (nt.randn(8, 1) * 0.5).requires_grad_(), nt.zeros(1, requires_grad=True)]


def _steps(params, opt, n, losses):
    """SGD with momentum and weight decay by hand, with RNG noise so the RNG state matters."""
    x, y = _data()
    group = opt["param_groups"][0]
    for _ in range(n):
        h = (x @ params[0] + params[1]).tanh()
        noise = nt.randn(16, 1) * 0.01
        loss = ((h @ params[2] + params[3] + noise - y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with nt.no_grad():
            for i, p in enumerate(params):
                g = p.grad + group["weight_decay"] * p
                st = opt["state"].setdefault(i, {"momentum_buffer": None, "step": 0})
                if st["momentum_buffer"] is None:
                    st["momentum_buffer"] = g.clone()
                else:
                    st["momentum_buffer"].mul_(group["momentum"]).add_(g)
                st["step"] += 1
                p.sub_(group["lr"] * st["momentum_buffer"])
        losses.append(loss.item())


def _opt():
    return {"state": {}, "param_groups": [{"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3,
                                           "params": [0, 1, 2, 3]}]}


def test_training_resumes_bit_identically(tmp_path):
    params, opt, straight = _init(), _opt(), []
    _steps(params, opt, 10, straight)
    params2, opt2, resumed = _init(), _opt(), []
    _steps(params2, opt2, 4, resumed)
    nt.save({"params": params2, "optim": opt2, "rng": nt.get_rng_state(), "losses": resumed},
            tmp_path / "ck.safetensors")
    nt.manual_seed(999)
    del params2, opt2
    ck = nt.load(tmp_path / "ck.safetensors")
    nt.set_rng_state(ck["rng"])
    assert all(p.requires_grad and p.is_leaf for p in ck["params"])
    assert list(ck["optim"]["state"]) == [0, 1, 2, 3]
    _steps(ck["params"], ck["optim"], 6, ck["losses"])
    assert ck["losses"] == straight
    for p, q in zip(params, ck["params"]):
        assert _bits(p) == _bits(q)


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_nn_and_optim_resume_bit_identically(opt_name, tmp_path):
    try:
        from numtorch import nn, optim
        nn.Linear, nn.Sequential, nn.Tanh, getattr(optim, opt_name)
    except (ImportError, AttributeError):
        pytest.skip("numtorch.nn / numtorch.optim not available yet")
    x, y = _data()
    kw = {"lr": 0.05, "momentum": 0.9} if opt_name == "SGD" else {"lr": 0.01}

    def build():
        nt.manual_seed(5)
        model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
        return model, getattr(optim, opt_name)(model.parameters(), **kw)

    def run(model, opt, n):
        out = []
        for _ in range(n):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            out.append(loss.item())
        return out

    model, opt = build()
    straight = run(model, opt, 8)
    model2, opt2 = build()
    first = run(model2, opt2, 3)
    nt.save({"model": model2.state_dict(), "optim": opt2.state_dict()}, tmp_path / "m.st")
    model3, opt3 = build()
    ck = nt.load(tmp_path / "m.st")
    model3.load_state_dict(ck["model"])
    opt3.load_state_dict(ck["optim"])
    assert first + run(model3, opt3, 5) == straight
    for p, q in zip(model.parameters(), model3.parameters()):
        assert _bits(p) == _bits(q)
