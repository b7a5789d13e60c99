"""``numtorch train``: train an image classifier, test it, write checkpoints and plots."""
from __future__ import annotations

import json
import os
import time

from . import _data, _models, _optim
from ._common import (CLIError, HelpFormatter, Parser, UsageError, check_checkpoint_file,
                      fraction, nonneg_float, note, positive_int, writable_dir)

DESCRIPTION = """Train an image classifier, then test it.

With no options this trains the seed articles' CNN (LeNet-style: conv 6@5x5, pool, conv 16@5x5,
pool, 120, 84, 10) on Fashion-MNIST for 12 epochs with SGD (lr 0.02, momentum 0.9, batch 64,
lr x 0.1 after epoch 9), holding out 10% of the training images for validation, and prints the
test accuracy. The run directory (--out) gets last.safetensors (after every epoch), best.safetensors
(lowest validation loss), history.json/.csv, test_metrics.json and the plots: curves.png,
confusion_matrix.png, predictions.png, filters.png, feature_maps.png.

Images are scaled to [0, 1] and normalised per channel with the training images' mean and
std; the checkpoints remember the model, its options, the classes and the normalisation, so
'numtorch evaluate' and 'numtorch predict' need only the checkpoint."""

EPILOG = """examples:
  numtorch train                                  # the seed CNN on Fashion-MNIST
  numtorch train --epochs 1 --limit-train 2000    # a quick look
  numtorch train --model resnet --optimizer adam --lr 1e-3 --scheduler cosine --augment flip+crop
  numtorch train --dataset folder:photos/ --image-size 32 --model lenet
  numtorch train --out runs/a --resume            # continue runs/a from its last checkpoint"""

PLOTS = ("curves.png", "confusion_matrix.png", "predictions.png", "filters.png",
         "feature_maps.png")


def configure(p) -> None:
    """Add ``numtorch train``'s options to parser ``p``."""
    g = p.add_argument_group("model and data")
    g.add_argument("--model", default="lenet", metavar="NAME",
                   help="lenet (the seeds' CNN), mlp, resnet (a small ResNet), fmnist_net (a "
                        "batch-normed VGG-style CNN), or a Python factory module:function "
                        "(also path/to/file.py:function) called with the keyword arguments "
                        "it accepts among in_channels, num_classes, image_size, input_shape")
    g.add_argument("--model-kwargs", default=None, metavar="JSON",
                   help="more keyword arguments for the model, as a JSON object, e.g. "
                        "'{\"hidden\": [512, 256]}' (mlp) or '{\"width\": 32}' (resnet)")
    g.add_argument("--dataset", default="fashion-mnist", metavar="NAME",
                   help="fashion-mnist, mnist, cifar10, or folder:PATH for an image folder "
                        "(PATH/<class>/*.png, or PATH/train/<class>/ and PATH/test/<class>/; "
                        "without a test folder a fixed 20%% of the images is the test split)")
    g.add_argument("--data-dir", default=None, metavar="DIR",
                   help="where the dataset files are (default: $NUMTORCH_DATA_DIR or ./data; "
                        "Fashion-MNIST is also found in Debian's /usr/share/datasets/"
                        "fashion-mnist, from 'apt-get install dataset-fashion-mnist')")
    g.add_argument("--image-size", type=positive_int, default=None, metavar="N",
                   help="side in pixels that folder images are resized to (folder datasets "
                        "only; default 32)")
    g.add_argument("--limit-train", type=positive_int, default=None, metavar="N",
                   help="use only the first N training images (quick runs, tests)")
    g.add_argument("--limit-test", type=positive_int, default=None, metavar="N",
                   help="use only the first N test images")
    g.add_argument("--val-fraction", type=fraction, default=0.1, metavar="F",
                   help="share of the training images held out for validation, chosen by "
                        "--seed (0: no validation; best.safetensors then follows the "
                        "training loss)")
    g.add_argument("--augment", default="none", choices=("none", "flip", "crop", "flip+crop"),
                   help="random augmentation of training images: horizontal flips, and/or "
                        "crops after padding by 1/8 of the side")

    g = p.add_argument_group("optimization")
    g.add_argument("--epochs", type=positive_int, default=12, metavar="N",
                   help="passes over the training images")
    g.add_argument("--batch-size", type=positive_int, default=64, metavar="N",
                   help="images per optimizer step")
    g.add_argument("--optimizer", default="sgd", choices=_optim.OPTIMIZERS,
                   help="the update rule")
    g.add_argument("--lr", type=nonneg_float, default=None,
                   help="learning rate (default: 0.02 for sgd, 0.001 for the others; the "
                        "peak rate for onecycle)")
    g.add_argument("--momentum", type=nonneg_float, default=None,
                   help="momentum of sgd (default 0.9) and rmsprop (default 0)")
    g.add_argument("--nesterov", action="store_true", help="Nesterov momentum (sgd)")
    g.add_argument("--weight-decay", type=nonneg_float, default=None, metavar="WD",
                   help="L2 penalty (adamw: decoupled weight decay; default 0.01 for adamw, "
                        "0 for the others)")
    g.add_argument("--label-smoothing", type=fraction, default=0.0, metavar="EPS",
                   help="label smoothing of the cross-entropy loss")
    g.add_argument("--scheduler", default="step", choices=_optim.SCHEDULERS,
                   help="learning-rate schedule: step (lr x --gamma every --step-size "
                        "epochs), cosine (to --min-lr over the epochs), onecycle (warm-up to "
                        "--lr over --pct-start of the steps, then anneal; stepped every batch),"
                        " plateau (lr x --gamma when the validation loss stalls for "
                        "--patience epochs), none")
    g.add_argument("--step-size", type=positive_int, default=None, metavar="N",
                   help="epochs between lr drops for step (default: 3/4 of --epochs, so one "
                        "drop)")
    g.add_argument("--gamma", type=fraction, default=0.1,
                   help="lr factor of step and plateau")
    g.add_argument("--min-lr", type=nonneg_float, default=0.0, metavar="LR",
                   help="lowest lr of cosine and plateau")
    g.add_argument("--pct-start", type=fraction, default=0.3, metavar="F",
                   help="warm-up share of onecycle")
    g.add_argument("--patience", type=positive_int, default=2, metavar="N",
                   help="epochs without improvement before plateau lowers the lr")
    g.add_argument("--grad-clip", type=nonneg_float, default=None, metavar="MAX_NORM",
                   help="clip the gradients' global L2 norm to MAX_NORM before each step")
    g.add_argument("--early-stopping", type=positive_int, default=None, metavar="N",
                   help="stop after N epochs in a row without a lower validation loss (the "
                        "training loss with --val-fraction 0)")

    g = p.add_argument_group("run")
    g.add_argument("--seed", type=int, default=0,
                   help="seeds weights, data order, validation split and augmentation: the "
                        "same seed and options give the same run")
    g.add_argument("--out", default=None, metavar="DIR",
                   help="run directory for checkpoints, history and plots (default: "
                        "runs/<model>-<dataset>-<date-time>)")
    g.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last complete checkpoint: "
                        "weights, optimizer and schedule state, RNG and data order (options "
                        "not given are taken from that run; --epochs may extend it). Without "
                        "it, an --out that holds a run is refused")
    g.add_argument("--checkpoint-every", type=positive_int, default=None, metavar="STEPS",
                   help="also save last.safetensors every STEPS optimizer steps, mid-epoch")
    g.add_argument("--workers", type=int, default=0, metavar="N",
                   help="data-loading worker processes (0: load in the main process)")
    g.add_argument("--quiet", action="store_true",
                   help="no progress bars and no per-epoch lines; print only the results")
    g.add_argument("--no-plots", action="store_true", help="don't write the PNG plots")
    g.add_argument("--detect-anomaly", action="store_true",
                   help="on a non-finite loss or gradient, name the op that produced it "
                        "(slower)")


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model, test it, save checkpoints and plots",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter)
    configure(p)
    p.set_defaults(run=run)


def _reparse_for_resume(args, argv):
    """(``args`` again, with the options the user left out taken from the run being resumed;
    that run's meta)."""
    if not args.out:
        raise UsageError("--resume needs --out DIR, the run directory to continue")
    last = os.path.join(args.out, "last.safetensors")
    if not os.path.exists(last):
        raise CLIError(f"nothing to resume: {last!r} does not exist")
    check_checkpoint_file(last)
    from . import _ckpt
    meta = _ckpt.read(last).get("meta") or {}
    saved = meta.get("args") or {}
    p = Parser(prog="numtorch train", formatter_class=HelpFormatter)
    configure(p)
    known = {a.dest for a in p._actions}
    p.set_defaults(**{k: v for k, v in saved.items()
                      if k in known and k not in ("out", "resume", "quiet", "no_plots",
                                                  "workers")})
    new = p.parse_args(argv[1:] if argv[:1] == ["train"] else argv)
    new.run = run
    return new, meta


def run(args, argv=()) -> int:
    """Train, test and plot as ``args`` say; returns the exit status."""
    resumed = None
    if args.resume:
        args, resumed = _reparse_for_resume(args, list(argv))
    _models.check_name(args.model)
    _data.check_name(args.dataset)
    extra_kwargs = _models.parse_kwargs(args.model_kwargs)
    if args.image_size is not None and not args.dataset.startswith("folder:"):
        raise UsageError(f"--image-size applies to folder datasets only, not {args.dataset}")
    if args.workers < 0:
        raise UsageError(f"--workers must be >= 0, got {args.workers}")
    _optim.resolve(args)
    out = args.out or os.path.join(
        "runs", f"{args.model.rpartition(':')[2]}-{_slug(args.dataset)}-"
                f"{time.strftime('%Y%m%d-%H%M%S')}")
    created = not os.path.isdir(out)
    writable_dir(out)
    if not args.resume and os.path.exists(os.path.join(out, "last.safetensors")):
        raise CLIError(f"{out!r} already holds a run (last.safetensors): pass --resume to "
                       "continue it, or choose another --out")
    try:
        return _train(args, out, resumed, extra_kwargs)
    except BaseException:
        if created and os.path.isdir(out) and not os.listdir(out):
            os.rmdir(out)                      # leave no empty run directory behind
        raise


def _train(args, out, resumed, extra_kwargs) -> int:
    import numtorch
    from ..train import Trainer
    data_dir = args.data_dir or _data.default_data_dir()
    train = _data.load_split(args.dataset, data_dir, True, args.image_size)
    train = train.limit(args.limit_train)
    channels = train.images.shape[1]
    test = _data.load_split(args.dataset, data_dir, False, args.image_size, channels)
    test = test.limit(args.limit_test)
    if resumed and resumed.get("mean") and resumed.get("std"):
        mean, std = resumed["mean"], resumed["std"]       # bit for bit the same inputs
    else:
        mean, std = _data.channel_stats(train.images)
    tr, va = _data.val_split(len(train.targets), args.val_fraction, args.seed)
    classes = train.classes
    train_ds = _data.ImageArrays(train.images[tr], train.targets[tr], mean, std, args.augment,
                                 classes)
    val_ds = (_data.ImageArrays(train.images[va], train.targets[va], mean, std, "none",
                                classes) if len(va) else None)
    test_ds = _data.ImageArrays(test.images, test.targets, mean, std, "none", classes)
    input_shape = list(train.images.shape[1:])

    numtorch.manual_seed(args.seed)
    kwargs = _models.model_kwargs(args.model, input_shape, len(classes), extra_kwargs)
    model = _models.build(args.model, kwargs)
    if args.resume:
        _check_fits(os.path.join(out, "last.safetensors"), model)
    optimizer = _optim.make_optimizer(args, model.parameters())
    scheduler, interval = _optim.make_scheduler(
        args, optimizer, _optim.steps_per_epoch(len(train_ds), args.batch_size))
    dataset = (f"folder:{os.path.abspath(args.dataset[7:])}"
               if args.dataset.startswith("folder:") else args.dataset)
    meta = {"model": args.model, "model_kwargs": kwargs, "dataset": dataset,
            "data_dir": os.path.abspath(data_dir), "class_names": list(classes),
            "input_shape": input_shape, "mean": mean, "std": std,
            "image_size": input_shape[1], "args": _json_args(args)}
    callbacks = []
    if args.early_stopping:
        from ..train import EarlyStopping
        callbacks.append(EarlyStopping(monitor="val_loss" if val_ds else "train_loss",
                                       patience=args.early_stopping))
    trainer = Trainer(model, optimizer, numtorch.nn.CrossEntropyLoss(
        label_smoothing=args.label_smoothing), scheduler=scheduler, scheduler_interval=interval,
        grad_clip=args.grad_clip, callbacks=callbacks, out_dir=out,
        checkpoint_every=args.checkpoint_every, seed=args.seed, batch_size=args.batch_size,
        num_workers=args.workers, quiet=args.quiet, detect_anomaly=args.detect_anomaly,
        meta=meta)
    if not args.quiet:
        c, h, w = input_shape
        print(f"numtorch train: {args.model} on {args.dataset} ({len(train_ds)} training, "
              f"{len(val_ds) if val_ds else 0} validation, {len(test_ds)} test images of "
              f"{c}x{h}x{w}, {len(classes)} classes); {args.optimizer} lr {args.lr:g}, "
              f"batch {args.batch_size}, {args.epochs} epoch{'s' * (args.epochs != 1)}; run "
              f"directory {out}", flush=True)
    t0 = time.perf_counter()
    from ..train import NonFiniteError
    try:
        trainer.fit(train_ds, args.epochs, val_data=val_ds, resume=args.resume)
    except NonFiniteError as e:
        last = os.path.join(out, "last.safetensors")
        kept = f"; {last} (the last good checkpoint) is kept" if os.path.exists(last) else ""
        raise CLIError(str(e).replace("detect_anomaly=True", "--detect-anomaly") + kept) \
            from None
    seconds = time.perf_counter() - t0
    result = trainer.evaluate(test_ds)
    _save_json(os.path.join(out, "test_metrics.json"), result, len(test_ds))
    more = "".join(f", {label} {v}" for label, v in (
        ("top-5", f"{100 * result['top5']:.2f}%" if result.get("top5") is not None else None),
        ("macro F1", f"{result['macro_f1']:.4f}" if "macro_f1" in result else None)) if v)
    print(f"test loss {result['loss']:.4f}, test accuracy {100 * result['accuracy']:.2f}%"
          f"{more} on {len(test_ds)} {args.dataset} test images (training took "
          f"{seconds:.0f} s)")
    best, last = (os.path.join(out, f"{n}.safetensors") for n in ("best", "last"))
    print(f"checkpoints: {best} (lowest {'validation' if val_ds else 'training'} loss), {last}")
    if not args.no_plots:
        written = write_plots(trainer, model, test_ds, result, out, mean, std,
                              f"{args.model} on {args.dataset}")
        if written:
            print(f"plots: {', '.join(os.path.join(out, f) for f in written)}")
    return 0


def _check_fits(path, model) -> None:
    """CLIError listing the mismatched keys when the checkpoint at ``path`` is not ``model``'s."""
    from ..train import load_checkpoint
    try:
        load_checkpoint(path, model)
    except RuntimeError as e:           # CheckpointError too: the message names the file
        raise CLIError(f"can't resume: {e}") from None


def write_plots(trainer, model, test_ds, result, out, mean, std, title) -> list:
    """Write the run's PNG plots into ``out``; the names of the files written."""
    from ..utils.data import Subset
    try:
        from ..train import plots
        import matplotlib  # noqa: F401
    except ImportError:
        note("matplotlib is not installed, so no plots were drawn (pip install "
             "'numtorch[plots]')")
        return []
    names = test_ds.classes
    written = []

    def attempt(name, fn):
        try:
            fn(os.path.join(out, name))
            written.append(name)
        except ValueError as e:                    # e.g. an MLP has no feature maps
            note(f"no {name}: {e}")

    history = _read_history(out) or getattr(trainer, "history", [])
    attempt("curves.png", lambda p: plots.loss_accuracy_curves(history, p, title=title))
    attempt("confusion_matrix.png",
            lambda p: plots.confusion_matrix_plot(result["confusion_matrix"], names, p))
    n = min(36, len(test_ds))
    first = Subset(test_ds, list(range(n)))
    preds = trainer.predict(first).argmax(1).numpy()
    attempt("predictions.png", lambda p: plots.prediction_grid(
        test_ds.data[:n], preds, test_ds.targets[:n], names, p, n=n, mean=mean, std=std))
    attempt("filters.png", lambda p: plots.first_layer_filters(model, p))
    label = f"true class {names[int(test_ds.targets[0])]}, predicted {names[int(preds[0])]}"
    attempt("feature_maps.png", lambda p: plots.feature_maps(
        model, test_ds[0][0], p, title=f"Feature maps of test image 0 through "
                                      f"{type(model).__name__} ({label})"))
    return written


def _read_history(out):
    try:
        with open(os.path.join(out, "history.json")) as f:
            h = json.load(f)
        return h if isinstance(h, list) else h.get("history")
    except (OSError, ValueError, AttributeError):
        return None


def _save_json(path, result, n) -> None:
    doc = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in result.items()}
    doc["samples"] = n
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(tmp, path)


def _json_args(args) -> dict:
    return {k: v for k, v in vars(args).items()
            if k != "run" and (v is None or isinstance(v, (str, int, float, bool)))}


def _slug(name: str) -> str:
    if name.startswith("folder:"):
        name = os.path.basename(os.path.normpath(name[7:])) or "folder"
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
