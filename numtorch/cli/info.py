"""``numtorch info``: versions, array backend, BLAS, threads and where the datasets are."""
from __future__ import annotations

import json
import os
import platform
import sys
from importlib import metadata

from ._common import HelpFormatter

_OPTIONAL = (("safetensors", "safetensors", "checkpoints"), ("Pillow", "PIL", "image files"),
             ("matplotlib", "matplotlib", "plots"), ("tqdm", "tqdm", "progress bars"),
             ("threadpoolctl", "threadpoolctl", "BLAS thread report"),
             ("torch", "torch", "test oracle only"))
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="show versions, BLAS, threads and where datasets are",
                       formatter_class=HelpFormatter,
                       description="Show numtorch's, NumPy's and Python's versions, the array "
                                   "backend, the BLAS library and its threads,\nthe optional "
                                   "packages, and where each dataset was found (or where it "
                                   "was looked for).")
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="directory searched for the datasets, as 'numtorch train --data-dir' "
                        "(default: $NUMTORCH_DATA_DIR or ./data)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run)


def _version(dist: str):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _blas() -> dict:
    import numpy as np
    try:
        cfg = np.show_config(mode="dicts")
        blas = (cfg or {}).get("Build Dependencies", {}).get("blas", {})
        return {"name": blas.get("name"), "version": blas.get("version"),
                "config": blas.get("openblas configuration")}
    except (TypeError, ValueError, AttributeError):   # NumPy < 1.25 has no mode="dicts"
        return {"name": "unknown (numpy.show_config() prints it)"}


def _pools() -> list:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{"library": p.get("internal_api"), "version": p.get("version"),
             "threads": p.get("num_threads"), "path": p.get("filepath")}
            for p in threadpool_info()]


def report(data_dir: str) -> dict:
    """Everything ``numtorch info`` shows, as a dict."""
    import numpy as np

    from .. import __version__, backend
    from . import _data
    datasets = {}
    for name in _data.NAMES:
        found, dirs = _data.locate(name, data_dir)
        datasets[name] = {"found": found, "searched": dirs}
    return {
        "numtorch": __version__, "numtorch_path": os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))),
        "python": platform.python_version(), "python_executable": sys.executable,
        "platform": platform.platform(),
        "numpy": np.__version__,
        "array_backend": backend.xp.__name__,
        "blas": _blas(), "blas_pools": _pools(),
        "threads": {"numtorch": backend.num_threads(), "cpu_count": os.cpu_count(),
                    **{v: os.environ.get(v) for v in _THREAD_VARS}},
        "optional": {dist: _version(dist) for dist, _, _ in _OPTIONAL},
        "data_dir": data_dir, "datasets": datasets,
    }


def run(args, argv=None) -> int:
    from . import _data
    r = report(args.data_dir or _data.default_data_dir())
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    blas = r["blas"]
    lines = [f"numtorch       {r['numtorch']} ({r['numtorch_path']})",
             f"python         {r['python']} ({r['python_executable']})",
             f"platform       {r['platform']}",
             f"numpy          {r['numpy']}",
             f"array backend  {r['array_backend']}",
             "BLAS           " + " ".join(str(v) for v in (blas.get("name"), blas.get("version"))
                                         if v) + (f" [{blas['config'].strip()}]"
                                                  if blas.get("config") else "")]
    for pool in r["blas_pools"]:
        lines.append(f"  thread pool  {pool['library']} {pool['version'] or ''}: "
                     f"{pool['threads']} threads")
    t = r["threads"]
    env = ", ".join(f"{v}={t[v]}" for v in _THREAD_VARS if t[v]) or "no thread variables set"
    lines.append(f"threads        {t['numtorch']} for BLAS, {t['cpu_count']} CPU cores ({env})")
    lines.append("optional packages")
    for dist, _, what in _OPTIONAL:
        lines.append(f"  {dist:<15}{r['optional'][dist] or 'not installed':<15}{what}")
    lines.append(f"datasets (data dir: {r['data_dir']})")
    for name, d in r["datasets"].items():
        where = f"found in {d['found']}" if d["found"] else \
            "not found (looked in " + ", ".join(d["searched"]) + ")"
        lines.append(f"  {name:<15}{where}")
    print("\n".join(lines))
    return 0
