"""Promise 2 (part two): a fuzz target per parser; only the declared exception types escape.

Each target feeds one of numtorch's public file readers with mutations of valid files (byte
flips, bit flips, truncations, insertions, deletions, duplicated pieces, edits of the header
with boundary values) and with random bytes. The reader must load the input or raise one of the
exception classes its docstring declares; anything else (IndexError, MemoryError,
OverflowError, RecursionError, a crash...) fails the test and hypothesis shrinks the input.

Default suite: a few hundred derandomized inputs per parser. Long run (random seeds):
    NUMTORCH_FUZZ_EXAMPLES=20000 python -m pytest -m slow tests/reliability/test_fuzz.py -s
Each target prints how many inputs it ran, and how many loaded or were rejected.
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import numtorch as nt
from numtorch.serialization import CheckpointError
from numtorch.vision import datasets
from numtorch.vision.datasets.folder import pil_loader
from numtorch.vision.datasets.utils import read_idx, restricted_loads
from tests.reliability._hostile import Stream as _Stream
from tests.vision._files import cifar10_files, idx_bytes, py2_dumps

DEFAULT_EXAMPLES = 250
LONG_EXAMPLES = int(os.environ.get("NUMTORCH_FUZZ_EXAMPLES", "20000"))
_BOUNDARY = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff",
             b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80", b"9999999999", b"-1", b"1e400", b"[",
             b"]", b"{", b"}", b'"', b",", b"0", b"null", b"\\u0000"]


# ---- the seeds: small valid files of each format ---------------------------------------------
def _checkpoint_seeds() -> list:
    out = []
    for obj in ({"w": nt.arange(12, dtype=nt.float32).reshape(3, 4), "b": nt.zeros(3),
                 "n": 7, "s": "x", "t": (1.5, None, True)},
                nt.ones(2, 2, dtype=nt.int64), {"big": nt.zeros(2000)},
                {"state": {0: {"step": nt.tensor(3.0), "exp_avg": nt.zeros(2)}},
                 "param_groups": [{"lr": 0.1, "params": [0]}]}):
        buf = io.BytesIO()
        nt.save(obj, buf)
        out.append(buf.getvalue())
    return out


def _idx_seeds() -> list:
    rng = np.random.default_rng(0)
    return [idx_bytes(rng.integers(0, 256, (3, 4, 5), dtype=np.uint8)),
            idx_bytes(np.zeros((0, 2, 2), np.uint8)),
            idx_bytes(rng.standard_normal((2, 3, 2)), code=0x0E)]


def _cifar_seeds() -> list:
    rng = np.random.default_rng(0)
    small = {"batch_label": "testing batch 1 of 1",
             "data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), "labels": [3, 7],
             "filenames": ["a.png", "b.png"]}
    return [cifar10_files(2)["test_batch"], py2_dumps(small),
            pickle.dumps({"data": small["data"], "labels": small["labels"]}, protocol=4),
            pickle.dumps({b"data": small["data"], b"labels": np.array([1, 2])}, protocol=4)]


def _image_seeds() -> list:
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8))
    out = []
    for img, fmt in ((rgb, "PNG"), (rgb.convert("L"), "PNG"), (rgb.convert("P"), "PNG"),
                     (rgb, "BMP"), (rgb.convert("P"), "GIF"), (rgb, "JPEG"), (rgb, "TIFF"),
                     (rgb, "PPM"), (rgb.convert("RGBA"), "PNG")):
        buf = io.BytesIO()
        img.save(buf, fmt)
        out.append(buf.getvalue())
    return out


# ---- mutations -------------------------------------------------------------------------------
@st.composite
def _mutation(draw, seed: bytes) -> bytes:
    b = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        n = len(b)
        kind = draw(st.sampled_from(["byte", "bit", "truncate", "insert", "delete", "header",
                                     "duplicate", "word"]))
        pos = draw(st.integers(0, 2 ** 20 - 1)) * n >> 20      # anywhere, not only near 0
        if kind == "byte" and n:
            b[pos] = draw(st.integers(0, 255))
        elif kind == "bit" and n:
            b[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del b[pos:]
        elif kind == "insert":
            b[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del b[pos:pos + draw(st.integers(1, 16))]
        elif kind == "header":       # where formats keep sizes, magic numbers and JSON
            p = draw(st.integers(0, min(n, 64)))
            v = draw(st.sampled_from(_BOUNDARY))
            b[p:p + len(v)] = v
        elif kind == "duplicate" and n:
            b[pos:pos] = b[pos:pos + draw(st.integers(1, 64))]
        elif kind == "word":         # a little-endian and a big-endian 32-bit integer
            v = draw(st.integers(0, 2 ** 32 - 1))
            b[pos:pos + 4] = struct.pack(draw(st.sampled_from(["<I", ">I"])), v)
    return bytes(b)


def _inputs(seeds: list):
    return st.one_of(st.sampled_from(seeds).flatmap(_mutation),
                     st.binary(max_size=512),
                     st.tuples(st.sampled_from(seeds), st.binary(max_size=256))
                     .map(lambda t: t[0][:16] + t[1]))        # a valid magic, then noise


# ---- pickles built opcode by opcode (for the CIFAR reader's restricted unpickler) ----------
def _op_arg(op: bytes, fmt: str):
    return st.integers(*{"B": (0, 255), "<i": (-2 ** 31, 2 ** 31 - 1),
                         "<I": (0, 2 ** 32 - 1)}[fmt]).map(lambda v: op + struct.pack(fmt, v))


def _text(op: bytes, fmt: str, alphabet=None):
    words = st.sampled_from([b"u1", b"O", b"O8", b"V8", b"S3", b"<f8", b">i2", b"U2", b"M8[ns]",
                             b"b", b"|", b"<", b"data", b"labels", b"\xff", b""])
    return st.one_of(words, st.binary(max_size=12)).map(
        lambda b: op + struct.pack(fmt, len(b)) + b)


_GLOBALS = [b"numpy.core.multiarray\n_reconstruct\n", b"numpy._core.multiarray\n_reconstruct\n",
            b"numpy\nndarray\n", b"numpy\ndtype\n", b"builtins\nset\n", b"numpy\nfrombuffer\n",
            b"copyreg\n_reconstructor\n", b"_codecs\nencode\n"]
_OPCODE = st.one_of(
    st.sampled_from([b"(", b"t", b"\x85", b"\x86", b"\x87", b"l", b"]", b"}", b")", b"d",
                     b"a", b"e", b"s", b"u", b"R", b"b", b"N", b"\x88", b"\x89", b"0", b"2",
                     b"1", b"\x94", b"\x81", b"o", b"\x93", b"."]),
    _op_arg(b"K", "B"), _op_arg(b"J", "<i"), _op_arg(b"q", "B"), _op_arg(b"h", "B"),
    _op_arg(b"r", "<I"), _op_arg(b"j", "<I"),
    _text(b"U", "B"), _text(b"T", "<i"), _text(b"X", "<I"), _text(b"C", "B"),
    _text(b"\x8c", "B"), st.sampled_from(_GLOBALS).map(lambda g: b"c" + g),
    st.integers(-2 ** 70, 2 ** 70).map(
        lambda v: b"\x8a" + bytes([(v.bit_length() + 8) // 8])
        + v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)),
    st.floats(allow_nan=True).map(lambda f: b"G" + struct.pack(">d", f)),
    # the fragments of a numpy array pickle, to be recombined
    st.sampled_from([b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R",
                     b"cnumpy\ndtype\nU\x02u1\x89\x88\x87R",
                     b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb",
                     b"U\x04data", b"U\x06labels"]))


def _opcode_pickles():
    return st.lists(_OPCODE, max_size=40).map(lambda ops: b"\x80\x02}" + b"".join(ops) + b".")


# ---- the targets: (seeds, call, the exception classes the reader declares) ------------------


def _load_checkpoint(data: bytes, d: str) -> None:
    nt.load(io.BytesIO(data) if data[-1:] != b"\x00" else _Stream(data))


def _load_idx(data: bytes, d: str) -> None:
    path = os.path.join(d, "x-idx3-ubyte")
    with open(path, "wb") as f:
        f.write(data)
    read_idx(path, ndim=None, dtype_code=None)


_CIFAR_META = cifar10_files(1)["batches.meta"]


def _load_cifar(data: bytes, d: str) -> None:
    for name, body in (("test_batch", data), ("batches.meta", _CIFAR_META)):
        with open(os.path.join(d, name), "wb") as f:
            f.write(body)
    datasets.CIFAR10(d, train=False)


def _load_image(data: bytes, d: str) -> None:
    path = os.path.join(d, "x.img")
    with open(path, "wb") as f:
        f.write(data)
    pil_loader(path)


TARGETS = {
    # numtorch.load: "Raises: CheckpointError"
    "checkpoint": (_checkpoint_seeds, _load_checkpoint, (CheckpointError,)),
    # read_idx: "any mismatch raises ValueError naming the file and the problem"
    "idx": (_idx_seeds, _load_idx, (ValueError,)),
    # CIFAR10: UnpicklingError for a malformed or forbidden pickle, ValueError for a batch of
    # the wrong structure
    "cifar": (_cifar_seeds, _load_cifar, (pickle.UnpicklingError, ValueError)),
    # restricted_loads (the CIFAR reader's unpickler) alone: "raises UnpicklingError"
    "cifar_opcodes": (_cifar_seeds, lambda data, d: restricted_loads(data),
                      (pickle.UnpicklingError,)),
    # pil_loader: UnidentifiedImageError (an OSError), DecompressionBombError, OSError
    "image": (_image_seeds, _load_image, (OSError, Image.DecompressionBombError)),
}


def fuzz(name: str, examples: int, derandomize: bool, d: str) -> collections.Counter:
    """Run ``examples`` hypothesis inputs through target ``name``; count what happened."""
    seeds, call, allowed = TARGETS[name]
    seeds = seeds()
    for s in seeds:                   # every seed is valid: mutations start from real files
        call(s, d)
    count = collections.Counter()

    @settings(max_examples=examples, derandomize=derandomize, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(_opcode_pickles() if name == "cifar_opcodes" else _inputs(seeds))
    def run(data):
        count["inputs"] += 1
        try:
            with warnings.catch_warnings():       # Pillow's and pickletools' notes on bad input
                warnings.simplefilter("ignore")
                call(data, d)
        except allowed:
            count["rejected"] += 1
            return
        count["loaded"] += 1

    t = time.perf_counter()
    run()
    count["seconds"] = round(time.perf_counter() - t, 1)
    print(f"\nfuzz {name}: {count['inputs']} inputs run ({count['loaded']} loaded, "
          f"{count['rejected']} rejected with {', '.join(e.__name__ for e in allowed)}) "
          f"in {count['seconds']} s")
    return count


@pytest.mark.parametrize("name", list(TARGETS))
def test_fuzz(name, tmp_path):
    count = fuzz(name, DEFAULT_EXAMPLES, True, str(tmp_path))
    assert count["inputs"] >= DEFAULT_EXAMPLES
    assert count["rejected"] > 0 and count["loaded"] > 0   # mutations reach both outcomes


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TARGETS))
def test_fuzz_long(name, tmp_path):
    count = fuzz(name, LONG_EXAMPLES, False, str(tmp_path))
    assert count["inputs"] >= LONG_EXAMPLES
