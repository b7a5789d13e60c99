"""Promise 3 (bad calls get named errors): one table of bad-input cases across ops, layers, losses,
optimizers, schedulers, data loading, checkpoints and the CLI.

Library cases are differential: the same call runs on numtorch and on torch; numtorch must raise
the exception class torch raises, and its message must contain every ``needle`` (the bad shape,
dtype, value, index, key or path). CLI cases run ``numtorch`` in-process in a directory holding a
checkpoint and a data folder: exit status != 0, exactly one line on stderr naming the problem,
no traceback, and the directory tree (names and bytes) hashed before and after is unchanged.
"""
from __future__ import annotations

import hashlib
import os
import warnings

import numpy as np
import pytest
import torch

import numtorch as nt
from numtorch.cli import main


def _params(lib):
    return [lib.nn.Parameter(lib.ones(2, 3))]


def _sgd(lib):
    return lib.optim.SGD(_params(lib), lr=0.1)


def _ds(lib):
    return lib.utils.data.TensorDataset(lib.arange(10.0))


def _sd(lib, **extra):
    sd = {"weight": lib.ones(2, 3), "bias": lib.ones(2)}
    sd.update(extra)
    return sd


def _load_sd(lib, sd):
    lin = lib.nn.Linear(3, 2)
    lin.load_state_dict(sd)


def _inplace_leaf(lib):
    lib.ones(3, requires_grad=True).add_(1)


def _backward_nonscalar(lib):
    (lib.ones(3, requires_grad=True) * 2).backward()


_MISSING = os.path.join(os.sep, "nonexistent_dir_T", "weights.safetensors")

# (id, call(lib), needles that numtorch's message must contain)
LIB_CASES = [
    # ---- ops -----------------------------------------------------------------------------------
    ("matmul_shapes", lambda lib: lib.ones(2, 3) @ lib.ones(4, 5), ["2x3", "4x5"]),
    ("cat_sizes", lambda lib: lib.cat([lib.ones(2, 3), lib.ones(2, 4)]), ["3", "4"]),
    ("stack_sizes", lambda lib: lib.stack([lib.ones(2), lib.ones(3)]), ["[2]", "[3]"]),
    ("view_numel", lambda lib: lib.ones(2, 3).view(4), ["[4]", "6"]),
    ("reshape_two_minus_one", lambda lib: lib.ones(6).reshape(-1, -1),
     ["one dimension", "[-1, -1]"]),
    ("expand_size", lambda lib: lib.ones(2, 3).expand(4, 3), ["4", "2"]),
    ("index_out_of_range", lambda lib: lib.ones(3)[5], ["5", "3"]),
    ("dim_out_of_range", lambda lib: lib.ones(2, 3).sum(dim=5), ["5", "[-2, 1]"]),
    ("dot_dtypes", lambda lib: lib.ones(3, dtype=lib.int64).dot(lib.ones(3)), ["Long", "Float"]),
    ("int_requires_grad", lambda lib: lib.ones(3, dtype=lib.int64).requires_grad_(),
     ["floating point"]),
    ("inplace_on_leaf", _inplace_leaf, ["leaf", "in-place"]),
    ("backward_nonscalar", _backward_nonscalar, ["scalar"]),
    # ---- layers --------------------------------------------------------------------------------
    ("linear_in_features", lambda lib: lib.nn.Linear(3, 2)(lib.ones(4, 5)), ["4x5", "3x2"]),
    ("conv2d_channels", lambda lib: lib.nn.Conv2d(3, 4, 3)(lib.ones(1, 2, 8, 8)),
     ["3 channels", "2 channels", "[1, 2, 8, 8]"]),
    ("conv2d_too_small", lambda lib: lib.nn.Conv2d(1, 1, 5)(lib.ones(1, 1, 3, 3)), ["5", "3"]),
    ("batchnorm_channels", lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(4, 5)), ["5", "3"]),
    ("embedding_index", lambda lib: lib.nn.Embedding(4, 2)(lib.tensor([1, 7])), ["7", "4"]),
    ("lstm_input_size", lambda lib: lib.nn.LSTM(3, 4)(lib.ones(5, 2, 6)), ["3", "6"]),
    # ---- losses --------------------------------------------------------------------------------
    ("ce_float_target_shape", lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(4, 3), lib.ones(4)), ["Float"]),
    ("ce_target_range", lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(2, 3), lib.tensor([0, 5])), ["5"]),
    ("nll_target_range", lambda lib: lib.nn.functional.nll_loss(
        lib.ones(2, 3), lib.tensor([-3, 1])), ["-3"]),
    ("mse_broadcast", lambda lib: lib.nn.functional.mse_loss(lib.ones(2, 3), lib.ones(4, 3)),
     ["2", "4"]),
    ("bce_target_size", lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.full((3,), 0.5), lib.ones(4)), ["[4]", "[3]"]),
    # ---- optimizers and schedulers ---------------------------------------------------------------
    ("optim_non_leaf", lambda lib: lib.optim.SGD([lib.ones(2, requires_grad=True) * 2], lr=0.1),
     ["non-leaf"]),
    ("optim_empty", lambda lib: lib.optim.SGD([], lr=0.1), ["empty parameter list"]),
    ("optim_negative_lr", lambda lib: lib.optim.Adam(_params(lib), lr=-1.0), ["-1.0"]),
    ("optim_bad_betas", lambda lib: lib.optim.Adam(_params(lib), betas=(1.5, 0.9)),
     ["beta", "1.5"]),
    ("sgd_negative_momentum", lambda lib: lib.optim.SGD(_params(lib), lr=0.1, momentum=-0.5),
     ["-0.5"]),
    ("sgd_nesterov_no_momentum", lambda lib: lib.optim.SGD(_params(lib), lr=0.1, nesterov=True),
     ["Nesterov"]),
    ("scheduler_not_optimizer", lambda lib: lib.optim.lr_scheduler.StepLR("sgd", 1),
     ["str", "Optimizer"]),
    ("plateau_bad_mode", lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_sgd(lib),
                                                                              mode="bad"),
     ["bad"]),
    # ---- data loading --------------------------------------------------------------------------
    ("loader_batch_size", lambda lib: lib.utils.data.DataLoader(_ds(lib), batch_size=0),
     ["batch_size", "0"]),
    ("loader_sampler_shuffle", lambda lib: lib.utils.data.DataLoader(
        _ds(lib), sampler=lib.utils.data.SequentialSampler(range(10)), shuffle=True),
     ["sampler", "shuffle"]),
    ("loader_batch_sampler_batch_size", lambda lib: lib.utils.data.DataLoader(
        _ds(lib), batch_sampler=[[0, 1]], batch_size=2), ["batch_sampler", "batch_size"]),
    ("random_split_lengths", lambda lib: lib.utils.data.random_split(_ds(lib), [3, 4]),
     ["Sum of input lengths"]),
    # ---- state dicts and checkpoints -------------------------------------------------------------
    ("state_dict_missing_key", lambda lib: _load_sd(lib, {"weight": lib.ones(2, 3)}),
     ["Missing key", "bias"]),
    ("state_dict_unexpected_key", lambda lib: _load_sd(lib, _sd(lib, extra=lib.ones(1))),
     ["Unexpected key", "extra"]),
    ("state_dict_shape", lambda lib: _load_sd(lib, _sd(lib, weight=lib.ones(3, 3))),
     ["weight", "[3, 3]", "[2, 3]"]),
    ("load_missing_path", lambda lib: lib.load(_MISSING), [_MISSING]),
]


def _raised(call, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(lib)
        except Exception as e:  # noqa: BLE001 - the class is what is compared
            return e
    return None


@pytest.mark.parametrize("call,needles", [c[1:] for c in LIB_CASES],
                         ids=[c[0] for c in LIB_CASES])
def test_bad_call_matches_torch(call, needles):
    expected = _raised(call, torch)
    assert expected is not None, "torch accepts this call: not a bad-input case"
    got = _raised(call, nt)
    assert got is not None, f"numtorch accepted it; torch raised {expected!r}"
    assert type(got) is type(expected) or isinstance(got, type(expected)), \
        f"numtorch raised {got!r}, torch raised {expected!r}"
    msg = str(got)
    for n in needles:
        assert n in msg, f"{n!r} missing from numtorch's message {msg!r} (torch: {expected})"


# ---- the CLI ----------------------------------------------------------------------------------
def _tree_digest(root) -> str:
    """sha256 over every path (relative) and file's bytes under ``root``."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        h.update(os.path.relpath(dirpath, root).encode() + b"/\0")
        for f in sorted(filenames):
            p = os.path.join(dirpath, f)
            h.update(os.path.relpath(p, root).encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


@pytest.fixture(scope="module")
def cli_tree(tmp_path_factory):
    """A directory with a checkpoint, an empty run directory and a data folder."""
    root = tmp_path_factory.mktemp("cli_tree")
    nt.manual_seed(0)
    nt.save(nt.nn.Linear(2, 3).state_dict(), str(root / "plain.safetensors"))
    (root / "data").mkdir()
    (root / "data" / "readme.txt").write_text("no dataset here\n")
    return root


# (id, argv with {root} placeholders, needles of the one stderr line)
CLI_CASES = [
    ("unknown_model", ["train", "--model", "nosuch", "--dataset", "folder:{root}/data",
                       "--out", "{root}/run"], ["unknown model", "nosuch"]),
    ("negative_lr", ["train", "--lr", "-1", "--out", "{root}/run"], ["--lr", "-1"]),
    ("non_number_lr", ["train", "--lr", "abc", "--out", "{root}/run"], ["--lr", "abc"]),
    ("zero_batch_size", ["train", "--batch-size", "0", "--out", "{root}/run"],
     ["--batch-size", "0"]),
    ("missing_data_dir", ["train", "--dataset", "folder:{root}/missing", "--out", "{root}/run",
                          "--epochs", "1", "--quiet"], ["{root}/missing", "does not exist"]),
    ("missing_checkpoint", ["evaluate", "{root}/nope.safetensors"],
     ["{root}/nope.safetensors", "does not exist"]),
    ("foreign_checkpoint", ["evaluate", "{root}/plain.safetensors"],
     ["plain.safetensors", "not written by 'numtorch train'"]),
    ("predict_missing_image", ["predict", "{root}/plain.safetensors", "{root}/none.png"],
     ["none.png"]),
    ("resume_without_run", ["train", "--resume", "--out", "{root}/data"], ["last.safetensors"]),
]


@pytest.mark.parametrize("argv,needles", [c[1:] for c in CLI_CASES],
                         ids=[c[0] for c in CLI_CASES])
def test_bad_cli_call(argv, needles, cli_tree, capsys):
    root = str(cli_tree)
    before = _tree_digest(root)
    code = main([a.format(root=root) for a in argv])
    _, err = capsys.readouterr()
    assert code != 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "error" in lines[0] and "Traceback" not in err
    for n in needles:
        assert n.format(root=root) in lines[0], (n, lines[0])
    assert _tree_digest(root) == before, "the bad call changed files on disk"


def test_table_size():
    """The promise counts at least 25 bad-input cases."""
    assert len(LIB_CASES) + len(CLI_CASES) >= 25
    assert np.unique([c[0] for c in LIB_CASES + CLI_CASES]).size == len(LIB_CASES + CLI_CASES)
