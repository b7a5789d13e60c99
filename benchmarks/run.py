"""Run numtorch and PyTorch side by side, each framework in its own fresh process.

    python -m benchmarks.run [--workloads xor,mlp] [--repeats 7] [--json out.json]

Each process pins 2 threads, warms up, then times >= 7 repeats of a batch of steps and reports
the median and minimum time per step and its peak RSS. Ratio = PyTorch time / numtorch time
(above 1 means numtorch is faster). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

THREADS = "2"


def _worker(lib_name: str, workload: str, repeats: int, min_time: float) -> dict:
    import resource
    import statistics

    if lib_name == "torch":
        import torch as lib
        lib.set_num_threads(int(THREADS))
    else:
        import numtorch as lib
    from benchmarks.workloads import WORKLOADS

    step = WORKLOADS[workload][0](lib)
    for _ in range(3):
        step()
    # choose a step count so that one repeat lasts at least ``min_time`` seconds
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        dt = time.perf_counter() - t0
        if dt >= min_time or n >= 1 << 20:
            break
        n *= 2
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        times.append((time.perf_counter() - t0) / n)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"median_s": statistics.median(times), "min_s": min(times), "steps_per_repeat": n,
            "peak_rss_mb": rss_kb / 1024}


def _run_in_fresh_process(lib_name, workload, repeats, min_time):
    env = dict(os.environ, OMP_NUM_THREADS=THREADS, MKL_NUM_THREADS=THREADS,
               OPENBLAS_NUM_THREADS=THREADS)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--worker", lib_name, workload,
                          "--repeats", str(repeats), "--min-time", str(min_time)],
                         cwd=root, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt(s):
    return f"{s * 1e6:.0f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def main(argv=None):
    from benchmarks.workloads import WORKLOADS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--min-time", type=float, default=0.2)
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--worker", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        print(json.dumps(_worker(a.worker[0], a.worker[1], a.repeats, a.min_time)))
        return
    rows, results = [], {}
    for w in a.workloads.split(","):
        r = {lib: _run_in_fresh_process(lib, w, a.repeats, a.min_time)
             for lib in ("numtorch", "torch")}
        r["ratio"] = r["torch"]["median_s"] / r["numtorch"]["median_s"]
        results[w] = r
        rows.append(f"| {WORKLOADS[w][1]} | {_fmt(r['numtorch']['median_s'])} "
                    f"(min {_fmt(r['numtorch']['min_s'])}) | {_fmt(r['torch']['median_s'])} "
                    f"(min {_fmt(r['torch']['min_s'])}) | {r['ratio']:.2f} | "
                    f"{r['numtorch']['peak_rss_mb']:.0f} / {r['torch']['peak_rss_mb']:.0f} MB |")
    print("| workload | numtorch median | PyTorch median | ratio (torch/numtorch) | "
          "peak RSS numtorch / torch |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
