"""Generators of hostile files: pickles that run code, checkpoints and datasets that carry them,
archives that escape their folder, and headers that lie about sizes.

Every code-running payload here does one harmless, visible thing: it creates the file
``canary`` (a path the test owns). :func:`live` proves a payload is real by running it under
Python's own unpickler in a scratch path; the tests then hand the same bytes to numtorch and
assert the canary never appears.
"""
from __future__ import annotations

import builtins
import io
import json
import os
import pickle
import struct
import subprocess
import tarfile
import zlib

import numpy as np


class Payload:
    """Unpickling this calls ``func(*args)``: the classic ``__reduce__`` code-execution payload."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _q(s: str) -> bytes:
    return repr(s).encode()


def _nl(s: str) -> bytes:
    return s.encode() + b"\n"


def opcode_pickles(canary: str) -> dict:
    """{name: pickle bytes} each of which creates ``canary`` when given to ``pickle.loads``;
    between them they use every opcode that can call or name code: GLOBAL, STACK_GLOBAL, INST,
    OBJ, REDUCE, BUILD (the ``__setstate__`` gadget) and NEWOBJ."""
    touch = f"touch {canary}"
    code = f"open({canary!r}, 'w').close()"
    return {
        # GLOBAL + REDUCE (protocol 2, as Python 2 cPickle wrote CIFAR)
        "GLOBAL_REDUCE_os.system": pickle.dumps(Payload(os.system, touch), protocol=2),
        # STACK_GLOBAL + REDUCE (protocol 4)
        "STACK_GLOBAL_builtins.exec": pickle.dumps(Payload(builtins.exec, code), protocol=4),
        "STACK_GLOBAL_subprocess.Popen": pickle.dumps(
            {"data": Payload(subprocess.Popen, ["touch", canary])}, protocol=4),
        "GLOBAL_builtins.eval_nested": pickle.dumps(
            {"data": np.zeros((1, 3072), np.uint8), "labels": [Payload(builtins.eval, code)]},
            protocol=2),
        # INST (protocol 0): MARK args INST module\nname\n calls module.name(*args)
        "INST_os.system": b"(" + b"S" + _q(touch) + b"\nios\nsystem\n.",
        # OBJ (protocol 1): MARK callable args OBJ
        "OBJ_os.system": b"(cos\nsystem\nS" + _q(touch) + b"\no.",
        # NEWOBJ + BUILD: an instance whose __setstate__ attribute is os.system, then built
        "NEWOBJ_BUILD_setstate": (b"\x80\x02ctypes\nSimpleNamespace\n)\x81"
                                  b"}U\x0c__setstate__cos\nsystem\nsb"
                                  b"X" + struct.pack("<I", len(touch)) + touch.encode() + b"b."),
        # builtins.open: the canary appears even without a shell
        "REDUCE_builtins.open": pickle.dumps(Payload(builtins.open, canary, "w"), protocol=3),
    }


def live(data: bytes, canary: str) -> bool:
    """True when Python's unpickler, given ``data``, creates ``canary`` (then removed)."""
    import time
    try:
        obj = pickle.loads(data)
    except Exception:               # e.g. a payload whose result is not a valid value
        obj = None
    if isinstance(obj, (subprocess.Popen, dict)):
        p = obj.get("data") if isinstance(obj, dict) else obj
        if isinstance(p, subprocess.Popen):
            p.wait()
    if isinstance(obj, io.IOBase):
        obj.close()
    for _ in range(50):             # os.system and Popen finish before loads returns or soon
        if os.path.exists(canary):
            os.remove(canary)
            return True
        time.sleep(0.01)
    return False


# ---- checkpoints -----------------------------------------------------------------------------
def safetensors_bytes(header: dict, data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def numtorch_checkpoint(tree, data: bytes = b"", entries=None, version: str = "1") -> bytes:
    """A safetensors file with numtorch's metadata keys (``tree`` a JSON node or a str)."""
    meta = {"numtorch.format_version": version,
            "numtorch.tree": tree if isinstance(tree, str) else json.dumps(tree)}
    return safetensors_bytes({"__metadata__": meta, **(entries or {})}, data)


def checkpoints(canary: str) -> dict:
    """{name: bytes} hostile checkpoints for ``numtorch.load`` (each must raise
    ``CheckpointError`` and never create ``canary``)."""
    import torch
    evil = pickle.dumps(Payload(os.system, f"touch {canary}"), protocol=2)
    text = evil.decode("latin1")
    f4 = {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}
    out = {
        "raw_pickle": evil,
        "raw_pickle_protocol0": b"(S" + _q(f"touch {canary}") + b"\nios\nsystem\n.",
        "tree_is_pickle": numtorch_checkpoint(text),
        "tree_node_pickle": numtorch_checkpoint({"type": "pickle", "value": text}),
        "tree_node_reduce": numtorch_checkpoint(
            {"type": "object", "__reduce__": ["os.system", f"touch {canary}"]}),
        "version_is_pickle": numtorch_checkpoint({"type": "none"}, version=text),
        "pickle_after_header": numtorch_checkpoint({"type": "tensor", "name": "w"},
                                                   b"\0" * 4 + evil, {"w": f4}),
        "pickle_as_tensor_bytes_wrong_dtype": numtorch_checkpoint(
            {"type": "tensor", "name": "w"}, evil,
            {"w": {"dtype": "PICKLE", "shape": [len(evil)], "data_offsets": [0, len(evil)]}}),
    }
    for name, kw in (("torch_save_zip", {}),
                     ("torch_save_legacy", {"_use_new_zipfile_serialization": False})):
        buf = io.BytesIO()
        torch.save({"w": torch.ones(2), "evil": Payload(os.system, f"touch {canary}")}, buf,
                   **kw)
        out[name] = buf.getvalue()
    return out


# ---- archives --------------------------------------------------------------------------------
def tar_with(members: list) -> bytes:
    """A .tar.gz of ``members``: (name, bytes) regular files, (name, ('symlink', target)) or
    (name, ('hardlink', target))."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, body in members:
            info = tarfile.TarInfo(name)
            if isinstance(body, tuple):
                info.type = tarfile.SYMTYPE if body[0] == "symlink" else tarfile.LNKTYPE
                info.linkname = body[1]
                tf.addfile(info)
            else:
                info.size = len(body)
                tf.addfile(info, io.BytesIO(body))
    return buf.getvalue()


# ---- images ----------------------------------------------------------------------------------
def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width`` x ``height`` grey pixels, with one tiny IDAT: a
    decompression bomb's header, without the bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))


def png_bytes(width: int = 8, height: int = 6, seed: int = 0) -> bytes:
    """A small valid RGB PNG."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def idx_header(shape, code: int = 0x08) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


class Stream(io.RawIOBase):
    """A non-seekable byte stream (a pipe, a socket): the reader cannot learn the size."""

    def __init__(self, data: bytes) -> None:
        self.buf = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        return self.buf.readinto(b)
