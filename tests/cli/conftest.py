"""Shared fixtures of the CLI tests: tiny datasets and one short training run."""
from __future__ import annotations

import pytest

from numtorch.cli import main
from tests.cli._make import write_idx_dataset, write_image_folder, write_loose_images


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    return {"idx": write_idx_dataset(str(d / "fmnist")),
            "folder": write_image_folder(str(d / "shapes")),
            "images": write_loose_images(str(d / "loose"))}


@pytest.fixture(scope="session")
def run_dir(data, tmp_path_factory):
    """One short training run with plots, shared by the tests that read its files."""
    out = str(tmp_path_factory.mktemp("runs") / "lenet")
    code = main(["train", "--data-dir", data["idx"], "--epochs", "1", "--batch-size", "32",
                 "--limit-train", "256", "--limit-test", "64", "--out", out, "--quiet"])
    assert code == 0
    return out


