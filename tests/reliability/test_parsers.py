"""Promise 2 (part one): parsers reject bad bytes cleanly, before any large allocation.

Checkpoint reader (``numtorch.load``), IDX reader (``read_idx`` / MNIST / FashionMNIST) and image
loading (``pil_loader`` / ImageFolder): each malformed input raises the loader's documented
error naming the file, and the memory it takes is measured: with ``tracemalloc`` (which sees
Python's and NumPy's allocations) in process, and under an address-space limit (RLIMIT_AS) in a
subprocess, which also covers Pillow's C allocations. More malformed checkpoints (bad JSON,
fields, trees) are in tests/test_serialization.py::test_malformed_files_raise_checkpoint_error.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import warnings

import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

import numtorch as nt
from numtorch.serialization import CheckpointError
from numtorch.vision import datasets
from numtorch.vision.datasets.folder import pil_loader
from numtorch.vision.datasets.utils import read_idx
from tests.reliability import _hostile as H
from tests.vision._files import idx_bytes

MiB = 2 ** 20


_Stream = H.Stream


def _peak(fn) -> int:
    """Peak traced memory (bytes) while ``fn`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---- checkpoint reader -----------------------------------------------------------------------
def _valid() -> bytes:
    buf = io.BytesIO()
    nt.save({"w": nt.arange(256, dtype=nt.float32).reshape(16, 16), "b": nt.zeros(16),
             "step": 3}, buf)
    return buf.getvalue()


def _entry(dtype="F32", shape=(1,), offs=(0, 4)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offs)}


def _st(entries: dict, data: bytes = b"", length=None) -> bytes:
    raw = json.dumps(entries).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


T40 = 2 ** 40
BAD_CHECKPOINTS = {
    "empty": (b"", "empty"),
    "seven_bytes": (b"\x10" * 7, "too short"),
    "header_len_2**40": (_st({"a": _entry()}, b"\0" * 4, length=T40), "invalid"),
    "header_len_beyond_file": (_st({"a": _entry()}, b"\0" * 4, length=99_999_999),
                               "larger than the file|truncated"),
    "offsets_out_of_bounds": (_st({"a": _entry(shape=[2 ** 48], offs=[0, 2 ** 50])}, b"\0" * 4),
                              "truncated|describes"),
    "offsets_overlap": (_st({"a": _entry(shape=[2], offs=[0, 8]),
                             "b": _entry(shape=[2], offs=[4, 12])}, b"\0" * 12), "overlap"),
    "offsets_gap": (_st({"a": _entry(offs=[4, 8])}, b"\0" * 8), "gap"),
    "unknown_dtype": (_st({"a": _entry(dtype="F128")}, b"\0" * 4), "unsupported dtype 'F128'"),
    "object_dtype": (_st({"a": _entry(dtype="O")}, b"\0" * 4), "unsupported dtype 'O'"),
    "count_ne_shape_x_itemsize": (_st({"a": _entry(shape=[3], offs=[0, 8])}, b"\0" * 8),
                                  r"shape \[3\] x 4 bytes = 12 bytes"),
    "absurd_shape_2**40x2**40": (_st({"a": _entry(shape=[T40, T40], offs=[0, 4 * T40 * T40])},
                                     b"\0" * 4), "absurd shape"),
    "absurd_shape_lies_about_4TiB": (_st({"a": _entry(shape=[2 ** 20, 2 ** 20],
                                                      offs=[0, 2 ** 42])}, b"\0" * 64),
                                     "truncated|describes"),
    "shape_2**40x2**40_4_bytes": (_st({"a": _entry(shape=[T40, T40], offs=[0, 4])}, b"\0" * 4),
                                  "absurd shape"),
    "negative_dim": (_st({"a": _entry(shape=[-1])}, b"\0" * 4), "invalid shape"),
}


@pytest.mark.parametrize("name", list(BAD_CHECKPOINTS))
def test_checkpoint_rejected_before_allocation(name, tmp_path):
    data, problem = BAD_CHECKPOINTS[name]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    for src in (lambda: path, lambda: io.BytesIO(data), lambda: _Stream(data)):
        def load():
            with pytest.raises(CheckpointError, match=problem):
                nt.load(src())
        assert _peak(load) < 4 * MiB          # the stream path reads in 1 MiB pieces
    with pytest.raises(CheckpointError, match=str(path)):
        nt.load(path)


def test_checkpoint_truncated_at_every_length():
    good = _valid()
    nt.load(io.BytesIO(good))
    for n in range(len(good)):
        with pytest.raises(CheckpointError, match="empty|short|larger than the file|truncated"):
            nt.load(io.BytesIO(good[:n]))


def test_checkpoint_every_header_bit_flip_is_rejected_or_harmless():
    """Flip each bit of the length prefix and the JSON header in turn: the reader raises
    CheckpointError, or the file is still one the reference safetensors reader accepts.
    (safetensors has no checksum: flips inside tensor data load as other values.)"""
    safetensors = pytest.importorskip("safetensors")
    good = _valid()
    end = 8 + struct.unpack("<Q", good[:8])[0]
    rejected = accepted = 0
    for bit in range(end * 8):
        b = bytearray(good)
        b[bit // 8] ^= 1 << (bit % 8)
        try:
            nt.load(io.BytesIO(bytes(b)))
        except CheckpointError:
            rejected += 1
            continue
        safetensors.deserialize(bytes(b))
        accepted += 1
    assert rejected > 0.9 * end * 8, (rejected, accepted)


# ---- IDX reader ------------------------------------------------------------------------------
BAD_IDX = {
    "zero_bytes": (b"", "truncated"),
    "bad_magic": (b"\x12\x34" + idx_bytes(np.zeros((2, 28, 28), np.uint8))[2:], "bad magic"),
    "pickle": (b"\x80\x02}q\x00.", "bad magic"),
    "truncated_header": (idx_bytes(np.zeros((2, 28, 28), np.uint8))[:9], "inside its header"),
    "truncated_data": (idx_bytes(np.zeros((2, 28, 28), np.uint8))[:-1], "truncated"),
    "2**31_items_in_100_bytes": (H.idx_header((2 ** 31 - 1, 1, 1)) + bytes(84), "truncated"),
    "dims_product_2**96": (H.idx_header((2 ** 32 - 1,) * 3) + bytes(100), "truncated"),
}


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("name", list(BAD_IDX))
def test_idx_rejected_before_allocation(name, gz, tmp_path):
    data, problem = BAD_IDX[name]
    path = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)

    def load():
        with pytest.raises(ValueError, match=problem) as e:
            read_idx(str(path), ndim=3)
        assert str(path) in str(e.value)
    assert _peak(load) < MiB
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(ValueError, match=problem):
        datasets.FashionMNIST(str(tmp_path))


# ---- image loading ---------------------------------------------------------------------------
BAD_IMAGES = {
    "zero_bytes": (b"", UnidentifiedImageError, "cannot identify"),
    "text": (b"this is not an image\n" * 10, UnidentifiedImageError, "cannot identify"),
    "truncated_png": (H.png_bytes(64, 64)[:-40], OSError, "truncated"),
    "png_header_only": (H.png_bytes(64, 64)[:33], OSError, "truncated|cannot"),
    "png_lies_about_size": (H.png_header_only(3000, 3000), OSError, "truncated"),
    "bomb_30000x30000": (H.png_header_only(30000, 30000), Image.DecompressionBombError,
                         "exceeds"),
    "bomb_10000x10000": (H.png_header_only(10000, 10000), Image.DecompressionBombError,
                         "exceeds"),          # Pillow only warns here; numtorch refuses
}


@pytest.mark.parametrize("name", list(BAD_IMAGES))
def test_image_rejected_quickly_with_a_named_error(name, tmp_path):
    data, exc, problem = BAD_IMAGES[name]
    (tmp_path / "c").mkdir()
    path = tmp_path / "c" / "x.png"
    path.write_bytes(data)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with pytest.raises(exc, match=problem) as e:
            pil_loader(str(path))
        assert str(path) in str(e.value)
        with pytest.raises(exc, match=problem):
            datasets.ImageFolder(str(tmp_path))[0]
    assert time.perf_counter() - t < 2.0


# ---- an address-space limit proves no large allocation, Pillow's included --------------------
_LIMITED = textwrap.dedent("""
    import io, os, resource, sys, warnings
    import numtorch as nt
    from numtorch.vision.datasets.folder import pil_loader
    from numtorch.vision.datasets.utils import read_idx, restricted_loads
    from PIL import Image
    warnings.simplefilter("ignore")
    vm = int([l for l in open("/proc/self/status") if l.startswith("VmSize")][0].split()[1])
    limit = vm * 1024 + 256 * 2 ** 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    d = sys.argv[1]
    calls = [("ckpt", lambda: nt.load(os.path.join(d, "ckpt"))),
             ("ckpt_stream", lambda: nt.load(io.BufferedReader(io.FileIO(
                 os.open(os.path.join(d, "ckpt"), os.O_RDONLY))))),
             ("idx", lambda: read_idx(os.path.join(d, "idx"), ndim=3)),
             ("idx_gz", lambda: read_idx(os.path.join(d, "idx.gz"), ndim=3)),
             ("png", lambda: pil_loader(os.path.join(d, "bomb.png"))),
             ("png_lie", lambda: pil_loader(os.path.join(d, "lie.png"))),
             ("cifar", lambda: restricted_loads(open(os.path.join(d, "cifar"), "rb").read()))]
    for name, call in calls:
        try:
            call()
            print(name, "LOADED")
        except MemoryError:
            print(name, "MemoryError")
        except Exception as e:
            print(name, type(e).__name__)
    try:
        bytearray(512 * 2 ** 20)
        print("limit", "NOT ENFORCED")
    except MemoryError:
        print("limit", "enforced")
""")


def test_hostile_sizes_under_an_address_space_limit(tmp_path):
    """A subprocess limited to its current address space + 256 MiB reads a checkpoint claiming
    4 TiB, IDX files claiming 2**31 images, a 30000x30000 PNG, a 3000x3000 PNG with no data
    (Pillow would allocate it; 27 MB fits) and a CIFAR pickle asking numpy for 1 TiB: each
    fails with its named error, none with MemoryError, and the limit is shown to bite."""
    (tmp_path / "ckpt").write_bytes(BAD_CHECKPOINTS["absurd_shape_lies_about_4TiB"][0])
    lie = H.idx_header((2 ** 31 - 1, 28, 28)) + bytes(84)
    (tmp_path / "idx").write_bytes(lie)
    (tmp_path / "idx.gz").write_bytes(gzip.compress(lie + bytes(2_000_000)))
    (tmp_path / "bomb.png").write_bytes(H.png_header_only(30000, 30000))
    (tmp_path / "lie.png").write_bytes(H.png_header_only(3000, 3000))
    from tests.reliability.test_no_code_exec import HOSTILE_ARRAYS
    (tmp_path / "cifar").write_bytes(HOSTILE_ARRAYS["reconstruct_1TiB"])
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-c", _LIMITED, str(tmp_path)], capture_output=True,
                       text=True, timeout=120, env=env,
                       cwd=os.path.dirname(os.path.dirname(nt.__file__)))
    assert r.returncode == 0, r.stderr
    got = dict(line.split(" ", 1) for line in r.stdout.strip().splitlines())
    assert got == {"ckpt": "CheckpointError", "ckpt_stream": "CheckpointError",
                   "idx": "ValueError", "idx_gz": "ValueError",
                   "png": "DecompressionBombError", "png_lie": "OSError",
                   "cifar": "UnpicklingError", "limit": "enforced"}, r.stdout + r.stderr
