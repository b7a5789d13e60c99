"""Smoke tests of the benchmark suite (benchmarks/): it runs, formats and skips; no timings."""
import pytest

pytest.importorskip("torch")

from benchmarks import run, workloads  # noqa: E402


def test_tiny_workload_end_to_end_in_process():
    import torch
    threads = torch.get_num_threads()
    try:
        results = run.run_all(["xor"], repeats=2, min_time=0.0, runner=run._worker)
    finally:
        torch.set_num_threads(threads)
    r = results["xor"]
    for lib in ("numtorch", "torch"):
        assert r[lib]["repeats"] == 2 and r[lib]["steps_per_repeat"] >= 1
        assert 0 < r[lib]["min_s"] <= r[lib]["median_s"] and r[lib]["peak_rss_mb"] > 0
    assert r["ratio"] == pytest.approx(r["torch"]["median_s"] / r["numtorch"]["median_s"])
    table = run.format_table(results).splitlines()
    assert len(table) == 3 and table[2].startswith("| XOR 2-3-1 training step")


def test_every_workload_builds_a_step():
    import numtorch
    for name, (setup, label) in workloads.WORKLOADS.items():
        if name in workloads.EPOCH_WORKLOADS:
            continue  # built (and skipped) below
        assert callable(setup(numtorch)) and label


def test_update_readme_rewrites_only_the_marked_region(tmp_path):
    before, after = "# Title\n\nintro text\n\n", "\n\n## Next\ntail | text |\n"
    p = tmp_path / "README.md"
    p.write_text(before + run.README_START + "\n| old | table |\n" + run.README_END + after)
    run.update_readme(str(p), "| new | table |", "python -m benchmarks.run --quick",
                      date="2026-01-02")
    text = p.read_text()
    assert text.startswith(before + run.README_START) and text.endswith(run.README_END + after)
    region = text[text.index(run.README_START):text.index(run.README_END)]
    assert "| new | table |" in region and "| old | table |" not in region
    assert "`python -m benchmarks.run --quick`" in region and "2026-01-02" in region
    run.update_readme(str(p), "| newer |", "cmd", date="2026-01-03")  # idempotent layout
    assert p.read_text().count(run.README_START) == 1 and "| new | table |" not in p.read_text()


def test_update_readme_without_markers_raises(tmp_path):
    p = tmp_path / "README.md"
    p.write_text("no markers here\n")
    with pytest.raises(ValueError, match="bench:start"):
        run.update_readme(str(p), "| t |", "cmd")
    assert p.read_text() == "no markers here\n"


def test_main_writes_markdown_and_readme(tmp_path, monkeypatch):
    fake = {"median_s": 0.002, "min_s": 0.001, "repeats": 3, "steps_per_repeat": 4,
            "peak_rss_mb": 50.0}
    monkeypatch.setattr(run, "_run_in_fresh_process",
                        lambda lib, w, reps, mt, quick=False: dict(fake))
    readme, md = tmp_path / "README.md", tmp_path / "table.md"
    readme.write_text(f"a\n{run.README_START}\nold\n{run.README_END}\nb\n")
    run.main(["--workloads", "xor", "--markdown-out", str(md), "--update-readme", str(readme)])
    assert "| XOR 2-3-1 training step (full batch) | 2.00 ms (min 1.00 ms)" in md.read_text()
    assert "old" not in readme.read_text() and md.read_text().strip() in readme.read_text()


@pytest.mark.parametrize("lib_name", ["numtorch", "torch"])
def test_fmnist_epoch_skips_cleanly_without_data(tmp_path, monkeypatch, lib_name):
    monkeypatch.setenv("NUMTORCH_FMNIST_DIR", str(tmp_path / "absent"))
    r = run._worker(lib_name, "fmnist_epoch", None, 0.0)
    assert set(r) == {"skipped"} and "Fashion-MNIST not found" in r["skipped"]
    table = run.format_table(run.run_all(["fmnist_epoch"], runner=lambda *a: dict(r)))
    assert "skipped: Fashion-MNIST not found" in table


def test_fmnist_epoch_runs_on_a_tiny_copy(tmp_path, monkeypatch):
    """A 128-image IDX copy runs the whole epoch (two batches) in both libraries."""
    import gzip
    import struct

    import numpy as np
    import numtorch
    import torch
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (128, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 128).astype(np.uint8)
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 128, 28, 28) + imgs.tobytes())
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, 128) + labels.tobytes())
    monkeypatch.setenv("NUMTORCH_FMNIST_DIR", str(tmp_path))
    np.testing.assert_array_equal(
        workloads._read_idx_gz(str(tmp_path / "train-images-idx3-ubyte.gz")), imgs)
    for lib in (numtorch, torch):
        step = workloads.fmnist_epoch(lib)
        step()
        assert step.images == 128
