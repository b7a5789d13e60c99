"""Run numtorch and PyTorch side by side, each framework in its own fresh process.

    python -m benchmarks.run [--workloads xor,mlp] [--repeats 7] [--quick] [--json out.json]
                             [--markdown-out table.md] [--update-readme]

Each process pins 2 threads, warms up, then times >= 7 repeats of a batch of steps and reports
the median and minimum time per step and its peak RSS. Ratio = PyTorch time / numtorch time
(above 1 means numtorch is faster). Prints a Markdown table. Epoch workloads (fmnist_epoch) run
without warm-up, one epoch per repeat, 1 repeat unless --repeats is given. --quick: 3 repeats
of >= 0.05 s and a 10,000-image epoch. A workload whose data is missing is reported as skipped.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time

THREADS = "2"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def _worker(lib_name: str, workload: str, repeats: int | None, min_time: float,
            quick: bool = False) -> dict:
    """Time one workload in this process; a dict of median/min seconds per step and peak RSS."""
    import resource
    import statistics

    if lib_name == "torch":
        import torch as lib
    else:
        import numtorch as lib
    lib.set_num_threads(int(THREADS))       # intra-op threads (both read OMP_NUM_THREADS too)
    from benchmarks import workloads as wl

    if quick:
        wl.FMNIST_LIMIT = wl.QUICK_LIMIT
    epoch = workload in wl.EPOCH_WORKLOADS
    if repeats is None:
        repeats = 1 if epoch else (3 if quick else 7)
    try:
        step = wl.WORKLOADS[workload][0](lib)
    except wl.SkipWorkload as e:
        return {"skipped": str(e)}
    n = 1
    if not epoch:
        for _ in range(3):
            step()
        # choose a step count so that one repeat lasts at least ``min_time`` seconds
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
    out = {"median_s": statistics.median(times), "min_s": min(times), "repeats": repeats,
           "steps_per_repeat": n, "peak_rss_mb": rss_kb / 1024}
    if epoch:
        out["images"] = getattr(step, "images", None)
    return out


def _run_in_fresh_process(lib_name, workload, repeats, min_time, quick=False):
    env = dict(os.environ, OMP_NUM_THREADS=THREADS, MKL_NUM_THREADS=THREADS,
               OPENBLAS_NUM_THREADS=THREADS)
    cmd = [sys.executable, "-m", "benchmarks.run", "--worker", lib_name, workload,
           "--min-time", str(min_time)]
    if repeats is not None:
        cmd += ["--repeats", str(repeats)]
    if quick:
        cmd.append("--quick")
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_all(names, repeats=None, min_time=0.2, quick=False, runner=None):
    """``{workload: {"numtorch": ..., "torch": ..., "ratio": ...}}``; skipped ones hold the
    worker's ``{"skipped": reason}`` instead."""
    runner = runner or _run_in_fresh_process
    results = {}
    for w in names:
        r = {}
        for lib in ("numtorch", "torch"):
            r[lib] = runner(lib, w, repeats, min_time, quick)
            if "skipped" in r[lib]:
                r = r[lib]
                print(f"skipped {w}: {r['skipped']}", file=sys.stderr)
                break
        else:
            r["ratio"] = r["torch"]["median_s"] / r["numtorch"]["median_s"]
        results[w] = r
    return results


def _fmt(s):
    if s >= 1.0:
        return f"{s:.2f} s"
    return f"{s * 1e6:.0f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def _time(r):
    note = "1 repeat" if r.get("repeats") == 1 else f"min {_fmt(r['min_s'])}"
    return f"{_fmt(r['median_s'])} ({note})"


def format_table(results) -> str:
    """The Markdown table of ``run_all``'s results (skipped workloads get a row saying so)."""
    from benchmarks.workloads import WORKLOADS
    lines = ["| workload | numtorch median | PyTorch median | ratio (torch/numtorch) | "
             "peak RSS numtorch / torch |", "|---|---|---|---|---|"]
    for w, r in results.items():
        label = WORKLOADS[w][1]
        if r.get("numtorch", {}).get("images"):
            label += f" ({r['numtorch']['images']:,} images)"
        if "skipped" in r:
            lines.append(f"| {label} | skipped: {r['skipped']} | | | |")
            continue
        nt, th = r["numtorch"], r["torch"]
        lines.append(f"| {label} | {_time(nt)} | {_time(th)} | {r['ratio']:.2f} | "
                     f"{nt['peak_rss_mb']:.0f} / {th['peak_rss_mb']:.0f} MB |")
    return "\n".join(lines)


def update_readme(path: str, table: str, command: str, date: str | None = None) -> None:
    """Replace the text between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` in the
    file at ``path`` with ``table`` and a line naming ``command`` and the date."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    i, j = text.find(README_START), text.find(README_END)
    if i < 0 or j < i:
        raise ValueError(f"{path} has no '{README_START}' ... '{README_END}' region to update")
    date = date or datetime.date.today().isoformat()
    body = f"\n{table}\n\nGenerated by `{command}` on {date}.\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:i + len(README_START)] + body + text[j:])


def main(argv=None):
    from benchmarks.workloads import WORKLOADS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats (default 7; 3 with --quick; 1 for epoch workloads)")
    p.add_argument("--min-time", type=float, default=None,
                   help="seconds per repeat at least (default 0.2; 0.05 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="fewer, shorter repeats and a 10,000-image Fashion-MNIST epoch")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--markdown-out", metavar="FILE", help="also write the table to this file")
    p.add_argument("--update-readme", nargs="?", const=os.path.join(ROOT, "README.md"),
                   metavar="README", help="rewrite the README's table between the markers "
                   f"{README_START} / {README_END} (default: the checkout's README.md)")
    p.add_argument("--worker", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    min_time = a.min_time if a.min_time is not None else (0.05 if a.quick else 0.2)
    if a.worker:
        print(json.dumps(_worker(a.worker[0], a.worker[1], a.repeats, min_time, a.quick)))
        return
    names = a.workloads.split(",")
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    results = run_all(names, a.repeats, min_time, a.quick)
    table = format_table(results)
    print(table)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)
    if a.markdown_out:
        with open(a.markdown_out, "w") as f:
            f.write(table + "\n")
    if a.update_readme:
        args = " ".join(argv if argv is not None else sys.argv[1:])
        update_readme(a.update_readme, table, f"python -m benchmarks.run {args}".strip())


if __name__ == "__main__":
    main()
