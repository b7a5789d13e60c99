"""Promise 1: no file runs code. Checkpoints, datasets and images are parsed, never unpickled or
evaluated.

Two halves: an AST scan of the whole numtorch package for every API that deserialises code
(the checker is tested on synthetic sources first), and hostile files given to numtorch's
public loaders: each raises the loader's documented error, and the canary file its payload
would create never appears (each payload is first shown to be live under plain ``pickle``).
"""
from __future__ import annotations

import ast
import os
import pathlib
import pickle
import subprocess
import sys
import time

import numpy as np
import pytest

import numtorch as nt
from numtorch.serialization import CheckpointError
from numtorch.train import load_checkpoint
from numtorch.vision import datasets
from numtorch.vision.datasets.utils import ForbiddenGlobalError, extract_archive
from tests.reliability import _hostile as H
from tests.vision._files import cifar10_files, idx_bytes, py2_dumps, write_dir

# ---- the source scan -------------------------------------------------------------------------
_PICKLERS = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib"}
_BANNED_ATTRS = {
    **{m: {"load", "loads", "Unpickler", "_Unpickler", "_load", "_loads"} for m in _PICKLERS},
    "marshal": {"load", "loads"},
    "yaml": {"load", "load_all", "unsafe_load", "unsafe_load_all", "full_load",
             "full_load_all", "UnsafeLoader", "FullLoader", "Loader"},
    "shelve": {"open", "Shelf", "DbfilenameShelf", "BsdDbShelf"},
    "builtins": {"eval", "exec"},
    "__builtins__": {"eval", "exec"},
}
_BANNED_CALLS = {"eval", "exec"}           # the builtins, called or referenced
_NUMPY = {"numpy", "np"}


def find_banned(source: str, filename: str = "<src>") -> list:
    """``file:line: what`` for every use of an API that can run code from data: pickle / dill /
    joblib loading, marshal, yaml's unsafe loaders, shelve, eval / exec, and ``numpy.load``
    unless ``allow_pickle`` is literally False. Import aliases (``import pickle as p``,
    ``from pickle import loads``) are followed."""
    tree = ast.parse(source, filename)
    alias = {}                                   # local name -> module it stands for
    hits = []

    def hit(node, what):
        hits.append(f"{filename}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                alias[(a.asname or a.name).split(".")[0]] = a.name
                if a.name.split(".")[0] == "shelve":
                    hit(node, "import shelve")
        elif isinstance(node, ast.ImportFrom) and node.module:
            mod = node.module.split(".")[0]
            for a in node.names:
                if a.name in _BANNED_ATTRS.get(mod, ()) or mod == "shelve" or \
                        (mod in _NUMPY | {"numpy"} and a.name == "load"):
                    alias[a.asname or a.name] = f"{mod}.{a.name}"
                    if not (mod == "numpy" and a.name == "load"):
                        hit(node, f"from {node.module} import {a.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            mod = alias.get(node.value.id, node.value.id).split(".")[0]
            if node.attr in _BANNED_ATTRS.get(mod, ()):
                hit(node, f"{mod}.{node.attr}")
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and \
                alias.get(node.id, node.id) in _BANNED_CALLS:
            hit(node, node.id)                   # a call, or a reference passed elsewhere
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        is_np_load = (isinstance(f, ast.Attribute) and f.attr == "load"
                      and isinstance(f.value, ast.Name)
                      and alias.get(f.value.id, f.value.id) in _NUMPY) or \
            (isinstance(f, ast.Name) and alias.get(f.id) == "numpy.load")
        if is_np_load:
            kw = {k.arg: k.value for k in node.keywords}
            allow = kw.get("allow_pickle", node.args[2] if len(node.args) > 2 else None)
            if None in kw or (allow is not None and not (isinstance(allow, ast.Constant)
                                                         and allow.value is False)):
                hit(node, "numpy.load(allow_pickle=...)")
    return hits


BAD_SOURCES = [
    "import pickle\nx = pickle.load(f)", "import pickle\npickle.loads(b)",
    "import pickle as p\np.loads(b)", "from pickle import loads\nloads(b)",
    "from pickle import Unpickler", "import pickle\nclass U(pickle.Unpickler): pass",
    "import _pickle\n_pickle.loads(b)", "import dill\ndill.load(f)",
    "import numpy as np\nnp.load(p, allow_pickle=True)", "import numpy\nnumpy.load(p, None, True)",
    "import numpy as np\nnp.load(p, allow_pickle=flag)", "import numpy as np\nnp.load(p, **kw)",
    "from numpy import load\nload(p, allow_pickle=True)",
    "eval(src)", "y = exec (code)", "import builtins\nbuiltins.exec(c)", "e = eval\n",
    "import yaml\nyaml.load(s)", "import yaml\nyaml.unsafe_load(s)",
    "import yaml\nyaml.load(s, Loader=yaml.Loader)", "import marshal\nmarshal.loads(b)",
    "from marshal import load", "import shelve", "import shelve\nshelve.open(p)",
    "from shelve import open",
]
OK_SOURCES = [
    "model.eval()", "class M:\n    def eval(self): return self", "import yaml\nyaml.safe_load(s)",
    "self.exec_count = 1", "import numpy as np\nnp.load(p, allow_pickle=False)",
    "import numpy as np\nnp.load(p)", "retrieval(x)", "import pickle\nraise pickle.UnpicklingError",
    "import pickle\ndata = pickle.dumps(x)", "import pickletools\npickletools.genops(b)",
    "'''pickle.loads(b) in a docstring is text'''", "x = 'eval(src)'",
]


@pytest.mark.parametrize("src", BAD_SOURCES)
def test_checker_catches_each_banned_api(src):
    assert find_banned(src), src


def test_checker_passes_harmless_code():
    assert [h for src in OK_SOURCES for h in find_banned(src)] == []


def test_numtorch_package_never_deserialises_code():
    root = pathlib.Path(nt.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 50                      # the scan really covers the package
    hits = [h for p in files for h in find_banned(p.read_text(encoding="utf-8"),
                                                  str(p.relative_to(root.parent)))]
    assert not hits, "\n".join(hits)


# ---- hostile files ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def canary_dir(tmp_path_factory):
    """Where every payload of this module points; checked once more at the end, after a pause
    long enough for a spawned process to have run."""
    d = tmp_path_factory.mktemp("canaries")
    yield d
    time.sleep(0.3)
    assert list(d.iterdir()) == [], "a payload ran"


@pytest.fixture
def canary(canary_dir, request):
    path = str(canary_dir / f"CANARY_{abs(hash(request.node.name))}")
    yield path
    assert not os.path.exists(path), "a payload ran"


PICKLES = list(H.opcode_pickles("x"))


@pytest.mark.parametrize("name", PICKLES)
def test_payloads_are_live_under_plain_pickle(name, tmp_path):
    canary = str(tmp_path / "probe")
    assert H.live(H.opcode_pickles(canary)[name], canary)


@pytest.mark.parametrize("name", PICKLES)
def test_cifar_batch_with_payload_is_refused(name, canary, tmp_path):
    files = cifar10_files(2)
    files["data_batch_3"] = H.opcode_pickles(canary)[name]
    write_dir(str(tmp_path / "cifar-10-batches-py"), files)
    with pytest.raises(pickle.UnpicklingError, match="data_batch_3") as e:
        datasets.CIFAR10(str(tmp_path))
    if "GLOBAL" in name or "REDUCE" in name:
        assert isinstance(e.value, ForbiddenGlobalError)
        assert "forbidden global" in str(e.value)
    else:                                       # INST / OBJ / NEWOBJ never get that far
        assert "refusing pickle opcode" in str(e.value) or "forbidden" in str(e.value)


def _array_pickle(state_tail: bytes, shape: bytes = b"K\x00\x85") -> bytes:
    """A CIFAR-like pickle {'data': <ndarray built from ``state_tail``>} (protocol 2)."""
    return (b"\x80\x02}U\x04datacnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
            + shape + b"U\x01b\x87R" + state_tail + b"s.")


HOSTILE_ARRAYS = {
    # object arrays would hold file-chosen Python objects; a short list crashes numpy itself
    "object_dtype": _array_pickle(b"(K\x01K\x03\x85cnumpy\ndtype\nU\x02O8\x89\x88\x87R"
                                  b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb"
                                  b"\x89]K\x01atb"),
    # _reconstruct would allocate the shape it is given: 2**40 bytes
    "reconstruct_1TiB": _array_pickle(b"", shape=b"\x8a\x06" + (2 ** 40).to_bytes(6, "little")
                                      + b"\x85"),
    # a state whose shape promises 2**40 bytes but carries 3
    "state_shape_lies": _array_pickle(b"(K\x01\x8a\x06" + (2 ** 40).to_bytes(6, "little")
                                      + b"\x85cnumpy\ndtype\nU\x02u1\x89\x88\x87R"
                                      b"(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
                                      b"\x89U\x03abctb"),
    "structured_dtype": pickle.dumps({"data": np.zeros(2, [("a", "u1"), ("b", "O")])},
                                     protocol=2),
}


@pytest.mark.parametrize("name", list(HOSTILE_ARRAYS))
def test_cifar_hostile_numpy_state_is_refused_without_allocating(name, tmp_path):
    import tracemalloc
    files = cifar10_files(2)
    files["test_batch"] = HOSTILE_ARRAYS[name]
    write_dir(str(tmp_path), files)
    tracemalloc.start()
    try:
        with pytest.raises(pickle.UnpicklingError, match="test_batch"):
            datasets.CIFAR10(str(tmp_path), train=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2 ** 20, peak


@pytest.mark.parametrize("name", ["path_traversal", "absolute", "symlink", "hardlink"])
def test_cifar_archive_members_never_escape(name, canary, tmp_path):
    files = cifar10_files(2)
    good = [(f"cifar-10-batches-py/{k}", v) for k, v in files.items()]
    rel = os.path.relpath(canary, tmp_path / "data")
    evil = {"path_traversal": (rel, b"pwned"), "absolute": (canary, b"pwned"),
            "symlink": ("cifar-10-batches-py/test_batch", ("symlink", canary)),
            "hardlink": ("cifar-10-batches-py/test_batch", ("hardlink", "/etc/passwd"))}[name]
    members = [m for m in good if m[0] != evil[0]] + [evil]
    (tmp_path / "data").mkdir()
    archive = tmp_path / "data" / "cifar-10-python.tar.gz"
    archive.write_bytes(H.tar_with(members))
    # extracting (what download=True does) refuses the whole archive
    with pytest.raises(RuntimeError, match="archive member") as e:
        extract_archive(str(archive), str(tmp_path / "data"))
    assert repr(evil[0]) in str(e.value)
    assert not (tmp_path / "data" / "cifar-10-batches-py").exists()
    # reading in place never writes: a link member is refused, a stray member is ignored
    if name in ("symlink", "hardlink"):
        with pytest.raises(RuntimeError, match="not a regular file"):
            datasets.CIFAR10(str(tmp_path / "data"), train=False)
    else:
        assert len(datasets.CIFAR10(str(tmp_path / "data"), train=False)) == 2


CHECKPOINTS = list(H.checkpoints("x"))


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_hostile_checkpoint_raises_checkpoint_error(name, canary, tmp_path):
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(H.checkpoints(canary)[name])
    for weights_only in (True, False):
        with pytest.raises(CheckpointError) as e:
            nt.load(path, weights_only=weights_only)
        assert str(path) in str(e.value)
    with pytest.raises(CheckpointError, match=str(path)):
        load_checkpoint(path)


def test_pickle_text_in_metadata_stays_inert_data(canary, tmp_path):
    """Pickle bytes stored as an ordinary string come back as that string, unexecuted."""
    text = pickle.dumps(H.Payload(os.system, f"touch {canary}"), protocol=0).decode("latin1")
    path = tmp_path / "inert.safetensors"
    path.write_bytes(H.numtorch_checkpoint({"type": "str", "value": text}))
    assert nt.load(path) == text
    foreign = tmp_path / "foreign.safetensors"        # metadata a numtorch reader ignores
    foreign.write_bytes(H.safetensors_bytes({"__metadata__": {"__reduce__": text}}))
    assert nt.load(foreign) == {}


def test_image_and_idx_files_holding_pickles_are_refused(canary, tmp_path):
    from PIL import UnidentifiedImageError
    evil = H.opcode_pickles(canary)["GLOBAL_REDUCE_os.system"]
    (tmp_path / "imgs" / "cat").mkdir(parents=True)
    (tmp_path / "imgs" / "cat" / "x.png").write_bytes(evil)
    folder = datasets.ImageFolder(str(tmp_path / "imgs"))
    with pytest.raises(UnidentifiedImageError, match="x.png"):
        folder[0]
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(evil)
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*bad magic number"):
        datasets.FashionMNIST(str(tmp_path))
    (raw / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    (raw / "train-labels-idx1-ubyte").write_bytes(py2_dumps([1, 2]))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte"):
        datasets.FashionMNIST(str(tmp_path))


@pytest.mark.parametrize("cmd", ["predict", "evaluate"])
def test_cli_refuses_torch_checkpoint_with_payload(cmd, canary, tmp_path):
    ckpt = tmp_path / "best.safetensors"
    ckpt.write_bytes(H.checkpoints(canary)["torch_save_zip"])
    img = tmp_path / "x.png"
    img.write_bytes(H.png_bytes())
    argv = [sys.executable, "-m", "numtorch", cmd, str(ckpt)] + ([str(img)] if cmd ==
                                                                 "predict" else [])
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                       cwd=str(pathlib.Path(nt.__file__).parent.parent))
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("numtorch: error:"), r.stderr
    assert str(ckpt) in lines[0] and "torch.save" in lines[0]
