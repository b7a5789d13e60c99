"""Micro-benchmark: conv2d forward + backward for the LeNet layer shapes, numtorch vs PyTorch.

    python -m benchmarks.conv_micro [--repeats 15] [--only numtorch|torch] [--mallopt]

Each framework runs in its own fresh process with 2 threads. For every shape it times the
forward alone (no grad) and forward + backward (gradients of weight and bias, and of the input
where the layer is not the first), reporting the median (and minimum) over repeats and the ratio of
medians numtorch / torch (below 1 means numtorch is faster). ``--mallopt`` sets glibc's
M_MMAP_THRESHOLD / M_TRIM_THRESHOLD high in both processes first, so that freed arrays are
reused instead of being unmapped and faulted in again (page faults dominate on some VMs).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

THREADS = "2"

#: (label, N, C, H, W, O, K, padding, input requires grad)
SHAPES = [
    ("N100 3->6 5x5 32x32", 100, 3, 32, 32, 6, 5, 0, False),
    ("N100 3->6 5x5 32x32 pad2", 100, 3, 32, 32, 6, 5, 2, False),
    ("N100 6->16 5x5 14x14", 100, 6, 14, 14, 16, 5, 0, True),
    ("N64 1->6 5x5 28x28 pad2", 64, 1, 28, 28, 6, 5, 2, False),
    ("N64 6->16 5x5 14x14", 64, 6, 14, 14, 16, 5, 0, True),
]


def _median_time(fn, repeats: int, min_time: float = 0.05) -> float:
    for _ in range(3):
        fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 >= min_time or n >= 1 << 16:
            break
        n *= 2
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
    times.sort()
    return times[len(times) // 2], times[0]


def _mallopt() -> None:
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-3, 1 << 30)       # M_MMAP_THRESHOLD
    libc.mallopt(-1, 1 << 30)       # M_TRIM_THRESHOLD


def _worker(lib_name: str, repeats: int, mallopt: bool = False) -> dict:
    if mallopt:
        _mallopt()
    import numpy as np
    if lib_name == "torch":
        import torch as lib
        lib.set_num_threads(int(THREADS))
    else:
        import numtorch as lib
    F = lib.nn.functional
    rng = np.random.default_rng(0)
    out = {}
    for label, N, C, H, W, O, K, P, xgrad in SHAPES:
        x = lib.tensor(rng.standard_normal((N, C, H, W)).astype("float32"), requires_grad=xgrad)
        w = lib.tensor(rng.standard_normal((O, C, K, K)).astype("float32") * 0.1,
                       requires_grad=True)
        b = lib.tensor(np.zeros(O, "float32"), requires_grad=True)
        gy = lib.tensor(rng.standard_normal((N, O, H + 2 * P - K + 1, W + 2 * P - K + 1))
                        .astype("float32"))

        def fwd():
            with lib.no_grad():
                F.conv2d(x, w, b, padding=P)

        def fwd_bwd():
            w.grad = b.grad = x.grad = None
            F.conv2d(x, w, b, padding=P).backward(gy)

        out[label] = {"fwd": _median_time(fwd, repeats), "fwd_bwd": _median_time(fwd_bwd, repeats)}
    return out


def _fresh(lib_name: str, repeats: int, mallopt: bool) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=THREADS, MKL_NUM_THREADS=THREADS,
               OPENBLAS_NUM_THREADS=THREADS)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cmd = [sys.executable, "-m", "benchmarks.conv_micro", "--worker", lib_name, "--repeats",
           str(repeats)] + (["--mallopt"] if mallopt else [])
    res = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(f"{lib_name} worker failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--worker", default=None)
    ap.add_argument("--only", default=None, choices=["numtorch", "torch"])
    ap.add_argument("--mallopt", action="store_true")
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.repeats, args.mallopt)))
        return
    libs = [args.only] if args.only else ["numtorch", "torch"]
    res = {lib: _fresh(lib, args.repeats, args.mallopt) for lib in libs}
    print(f"| shape | pass | {' | '.join(libs)} | " + ("ratio nt/torch |" if len(libs) == 2
                                                         else ""))
    print("|---|---|" + "---|" * (len(libs) + (len(libs) == 2)))
    for label, *_ in SHAPES:
        for key in ("fwd", "fwd_bwd"):
            ts = [res[lib][label][key] for lib in libs]
            row = f"| {label} | {key} | " + " | ".join(
                f"{t[0] * 1e3:.2f} ms (min {t[1] * 1e3:.2f})" for t in ts) + " |"
            if len(ts) == 2:
                row += f" {ts[0][0] / ts[1][0]:.2f} |"
            print(row)


if __name__ == "__main__":
    main()
