"""The CLI's optimizers and learning-rate schedules, built from ``numtorch train`` options."""
from __future__ import annotations

import math

from .. import optim
from ._common import UsageError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULERS = ("none", "step", "cosine", "onecycle", "plateau")
DEFAULT_LR = {"sgd": 0.02, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3}
DEFAULT_WD = {"sgd": 0.0, "adam": 0.0, "adamw": 0.01, "rmsprop": 0.0}


def resolve(args) -> None:
    """Fill the optimizer defaults that depend on ``--optimizer`` and check the combinations."""
    name = args.optimizer
    if args.momentum is not None and name not in ("sgd", "rmsprop"):
        raise UsageError(f"--momentum applies to sgd and rmsprop, not {name} (which uses betas)")
    if args.nesterov and name != "sgd":
        raise UsageError(f"--nesterov applies to sgd only, not {name}")
    if args.lr is None:
        args.lr = DEFAULT_LR[name]
    if args.momentum is None:
        args.momentum = 0.9 if name == "sgd" else 0.0
    if args.weight_decay is None:
        args.weight_decay = DEFAULT_WD[name]
    if args.nesterov and args.momentum <= 0:
        raise UsageError("--nesterov needs --momentum > 0")
    if args.step_size is None:
        args.step_size = max(1, round(0.75 * args.epochs))


def make_optimizer(args, params):
    """The optimizer named by ``--optimizer`` over ``params``."""
    p = list(params)
    try:
        if args.optimizer == "sgd":
            return optim.SGD(p, lr=args.lr, momentum=args.momentum,
                             weight_decay=args.weight_decay, nesterov=args.nesterov)
        if args.optimizer == "adam":
            return optim.Adam(p, lr=args.lr, weight_decay=args.weight_decay)
        if args.optimizer == "adamw":
            return optim.AdamW(p, lr=args.lr, weight_decay=args.weight_decay)
        return optim.RMSprop(p, lr=args.lr, momentum=args.momentum,
                             weight_decay=args.weight_decay)
    except ValueError as e:                       # torch's checks: "Invalid learning rate: -1"
        raise UsageError(f"--optimizer {args.optimizer}: {e}") from None


def make_scheduler(args, optimizer, steps_per_epoch: int):
    """(scheduler or None, "epoch" or "step") for ``--scheduler``."""
    s = args.scheduler
    try:
        if s == "none":
            return None, "epoch"
        if s == "step":
            return optim.lr_scheduler.StepLR(optimizer, args.step_size, args.gamma), "epoch"
        if s == "cosine":
            return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs,
                                                        eta_min=args.min_lr), "epoch"
        if s == "onecycle":
            cycle = args.optimizer in ("adam", "adamw") or args.momentum > 0
            return optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch,
                pct_start=args.pct_start, cycle_momentum=cycle), "step"
        return optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=args.gamma, patience=args.patience,
            min_lr=args.min_lr), "epoch"
    except ValueError as e:
        raise UsageError(f"--scheduler {s}: {e}") from None


def steps_per_epoch(n: int, batch_size: int) -> int:
    return max(1, math.ceil(n / batch_size))
