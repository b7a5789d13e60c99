"""Helpers for the dataset decoders: IDX files, restricted unpickling, downloads and archives.

These decoders work on host NumPy arrays (DESIGN.md: file decoders may import numpy).
"""
from __future__ import annotations

import hashlib
import math
import os
import tarfile
import urllib.error
import urllib.request
import zlib

import numpy as np

from ._unpickle import ForbiddenGlobalError, restricted_loads  # noqa: F401  (re-exported)

__all__ = ["check_integrity", "download_url", "extract_archive", "read_idx", "restricted_loads",
           "ForbiddenGlobalError", "DOWNLOAD_TIMEOUT"]

DOWNLOAD_TIMEOUT = 15.0  # seconds per connection attempt; a download never hangs for longer
_USER_AGENT = "numtorch"

# ---------------------------------------------------------------------------------------------
# IDX (the "SN3 Pascal Vincent" format of MNIST): big-endian header, then the raw array.
# magic = 0x00 0x00 <type code> <number of dimensions>; then one uint32 size per dimension.
_IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


_PIECE = 1 << 24  # bytes inflated per zlib call


class _Bytes:
    """An uncompressed file's bytes, read in pieces (zero-copy views)."""

    def __init__(self, raw: bytes) -> None:
        self.raw, self.pos = memoryview(raw), 0

    def read(self, n: int) -> memoryview:
        out = self.raw[self.pos:self.pos + n]
        self.pos += len(out)
        return out


class _Gunzip:
    """A gzip stream, decompressed in pieces of bounded size (so a gzip bomb cannot make us
    hold more than the IDX header promised); concatenated members are followed."""

    def __init__(self, raw: bytes) -> None:
        self.d, self.tail = zlib.decompressobj(31), raw

    def read(self, n: int) -> bytes:
        chunks = []
        while n > 0:
            if self.d.eof:
                rest = self.d.unused_data
                if not rest.strip(b"\0"):
                    break
                self.d, self.tail = zlib.decompressobj(31), rest
            c = self.d.decompress(self.tail, min(n, _PIECE))  # n may exceed a C ssize_t
            self.tail = self.d.unconsumed_tail
            if not c and not self.tail and not self.d.eof:
                raise EOFError("compressed data ended before the end-of-stream marker")
            chunks.append(c)
            n -= len(c)
        return b"".join(chunks)


def _reader(path: str):
    with open(path, "rb") as f:
        raw = f.read()
    return _Gunzip(raw) if raw[:2] == b"\x1f\x8b" else _Bytes(raw)


def read_idx(path: str, ndim: int | None = None, dtype_code: int | None = 0x08) -> np.ndarray:
    """Decode an IDX file (gzipped or not) into a native-endian, writable NumPy array.

    The magic number, type code, dimension count and sizes are validated against the bytes
    actually present; any mismatch raises ``ValueError`` naming the file and the problem.
    """
    try:
        f = _reader(path)
        shape, dt = _idx_header(f, path, ndim, dtype_code)
        count = dt.itemsize * math.prod(shape)
        body = f.read(count + 1)
    except (EOFError, zlib.error) as e:
        raise ValueError(f"IDX file {path!r} is corrupt or truncated (gzip stream): {e}") from e
    if len(body) < count:
        raise ValueError(f"IDX file {path!r} is truncated: header declares shape {shape} "
                         f"({count} bytes of data) but only {len(body)} bytes follow")
    if len(body) > count:
        raise ValueError(f"IDX file {path!r} has trailing bytes after the {count} bytes of data "
                         f"its header declares for shape {shape}")
    arr = np.frombuffer(body, dtype=dt).reshape(shape)
    return arr.astype(dt.newbyteorder("="), copy=True)  # native-endian, writable


def _idx_header(f, path: str, ndim, dtype_code):
    head = bytes(f.read(4))
    if len(head) < 4:
        raise ValueError(f"IDX file {path!r} is truncated: {len(head)} bytes, shorter than the "
                         "4-byte magic number")
    if head[0] != 0 or head[1] != 0:
        raise ValueError(f"IDX file {path!r} has a bad magic number 0x{head.hex()}: the first "
                         "two bytes must be zero")
    code, nd = head[2], head[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"IDX file {path!r} has a bad magic number 0x{head.hex()}: unknown "
                         f"data type code 0x{code:02x}")
    if dtype_code is not None and code != dtype_code:
        raise ValueError(f"IDX file {path!r} holds data type code 0x{code:02x} "
                         f"({_IDX_TYPES[code].name}); expected 0x{dtype_code:02x} "
                         f"({_IDX_TYPES[dtype_code].name})")
    if ndim is not None and nd != ndim:
        raise ValueError(f"IDX file {path!r} has {nd} dimensions; expected {ndim} (magic "
                         f"number 0x{head.hex()})")
    if nd == 0:
        raise ValueError(f"IDX file {path!r} declares 0 dimensions")
    dims = f.read(4 * nd)
    if len(dims) < 4 * nd:
        raise ValueError(f"IDX file {path!r} is truncated inside its header: {nd} sizes "
                         f"declared, {len(dims) // 4} present")
    shape = tuple(int(s) for s in np.frombuffer(dims, dtype=">u4"))
    return shape, _IDX_TYPES[code]


# ---------------------------------------------------------------------------------------------
# Integrity, downloads, archives.
def calculate_md5(fpath: str, chunk_size: int = 1024 * 1024) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: str, md5: str) -> bool:
    return md5 == calculate_md5(fpath)


def check_integrity(fpath: str, md5: str | None = None) -> bool:
    """True when ``fpath`` is a file and, if ``md5`` is given, its MD5 matches."""
    if not os.path.isfile(fpath):
        return False
    return True if md5 is None else check_md5(fpath, md5)


def download_url(url: str, root: str, filename: str | None = None, md5: str | None = None,
                 timeout: float = DOWNLOAD_TIMEOUT) -> str:
    """Download ``url`` into ``root/filename`` (atomically) and return the path.

    Raises ``RuntimeError`` on a network failure or an MD5 mismatch; a partial file is never
    left behind under the final name.
    """
    root = os.path.expanduser(os.fspath(root))
    filename = filename or os.path.basename(url)
    fpath = os.path.join(root, filename)
    if check_integrity(fpath, md5):
        return fpath
    os.makedirs(root, exist_ok=True)
    tmp = fpath + ".part"
    req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r, open(tmp, "wb") as f:
            while chunk := r.read(1 << 20):
                f.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise RuntimeError(f"could not download {url}: {e}") from e
    if md5 is not None and not check_md5(tmp, md5):
        os.remove(tmp)
        raise RuntimeError(f"downloaded {url} but its MD5 does not match {md5}")
    os.replace(tmp, fpath)
    return fpath


def _safe_members(tf: tarfile.TarFile, dest: str):
    dest = os.path.realpath(dest)
    for m in tf.getmembers():
        target = os.path.realpath(os.path.join(dest, m.name))
        if os.path.isabs(m.name) or os.path.commonpath([dest, target]) != dest:
            raise RuntimeError(f"archive member {m.name!r} would be written outside {dest}")
        if not (m.isfile() or m.isdir()):
            raise RuntimeError(f"archive member {m.name!r} is not a regular file or directory")
        yield m


def extract_archive(from_path: str, to_path: str | None = None) -> str:
    """Extract a (possibly compressed) tar archive safely: regular files and directories only,
    and nothing outside ``to_path``."""
    to_path = os.path.dirname(from_path) if to_path is None else to_path
    with tarfile.open(from_path, "r:*") as tf:
        members = list(_safe_members(tf, to_path))
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4: a second guard
            tf.extractall(to_path, members=members, filter="data")
        else:  # pragma: no cover
            tf.extractall(to_path, members=members)
    return to_path
