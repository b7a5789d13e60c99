"""``numtorch evaluate``: a checkpoint's loss, accuracy, per-class scores and confusion matrix."""
from __future__ import annotations

import json
import os

from . import _ckpt, _data, _models
from ._common import CLIError, HelpFormatter, UsageError, note, positive_int, writable_dir

DESCRIPTION = """Evaluate a checkpoint written by 'numtorch train' on a dataset split.

Prints the loss, accuracy (and top-5 accuracy with 5 or more classes), each class's
precision, recall, F1 and support with their macro averages, and the confusion matrix as a
table (rows: true class, columns: predicted). Saves them as JSON
(evaluation_<split>.json) and the matrix as a PNG (confusion_matrix_<split>.png) in --out.
The images are normalised as in training (the checkpoint holds the statistics)."""

EPILOG = """examples:
  numtorch evaluate runs/lenet-fashion-mnist/best.safetensors
  numtorch evaluate runs/x/last.safetensors --split train --limit 5000 --out reports/"""


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate a checkpoint: accuracy, per-class scores, "
                                        "confusion matrix",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter)
    p.add_argument("checkpoint", metavar="CHECKPOINT",
                   help="a .safetensors checkpoint from 'numtorch train' (best or last)")
    p.add_argument("--dataset", default=None, metavar="NAME",
                   help="fashion-mnist, mnist, cifar10 or folder:PATH (default: the dataset "
                        "the checkpoint was trained on)")
    p.add_argument("--split", default="test", choices=("test", "train"),
                   help="which split to evaluate on")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="where the dataset files are (default: the directory used in "
                        "training, else $NUMTORCH_DATA_DIR or ./data)")
    p.add_argument("--limit", type=positive_int, default=None, metavar="N",
                   help="use only the first N images of the split")
    p.add_argument("--batch-size", type=positive_int, default=256, metavar="N",
                   help="images per forward pass")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where to save the JSON and PNG (default: the checkpoint's directory)")
    p.add_argument("--no-plots", action="store_true", help="don't write the PNG")
    p.add_argument("--model", default=None, metavar="NAME",
                   help="rebuild the weights into this model instead of the checkpoint's own "
                        "(lenet, mlp, resnet, fmnist_net or module:function)")
    p.add_argument("--model-kwargs", default=None, metavar="JSON",
                   help="override keyword arguments of the model, as a JSON object")
    p.set_defaults(run=run)


def load_model(args):
    """(model, meta) from ``args.checkpoint`` and the --model overrides."""
    ckpt = _ckpt.read(args.checkpoint)
    meta = _ckpt.meta_of(args.checkpoint, ckpt, args.model,
                         _models.parse_kwargs(args.model_kwargs) or None)
    return _ckpt.restore(args.checkpoint, ckpt, meta), meta


def run(args, argv=()) -> int:
    if args.dataset is not None:
        _data.check_name(args.dataset)
    out = args.out or os.path.dirname(args.checkpoint) or "."
    model, meta = load_model(args)
    writable_dir(out)
    dataset = args.dataset or meta.get("dataset")
    if not dataset:
        raise UsageError("the checkpoint doesn't name its dataset: pass --dataset")
    _data.check_name(dataset)
    data_dir = args.data_dir or (meta.get("data_dir") if dataset == meta.get("dataset")
                                 else None) or _data.default_data_dir()
    c, h, w = meta["input_shape"]
    split = _data.load_split(dataset, data_dir, args.split == "train", h, c).limit(args.limit)
    classes = list(meta["class_names"])
    if tuple(split.images.shape[1:]) != (c, h, w):
        raise CLIError(f"{dataset} has images of {'x'.join(map(str, split.images.shape[1:]))} "
                       f"but the model takes {c}x{h}x{w}")
    if dataset.startswith("folder:") and list(split.classes) != classes:
        raise CLIError(f"the classes of {dataset} ({', '.join(split.classes)}) are not the "
                       f"model's ({', '.join(classes)})")
    if int(split.targets.max(initial=0)) >= len(classes):
        raise CLIError(f"{dataset} has {len(split.classes)} classes but the model predicts "
                       f"{len(classes)}")
    ds = _data.ImageArrays(split.images, split.targets, meta["mean"], meta["std"], "none",
                           classes)
    from ..train import Trainer, metrics
    trainer = Trainer(model, None, batch_size=args.batch_size, quiet=True, progress=False)
    r = trainer.evaluate(ds)
    cm = r["confusion_matrix"]
    print(f"{args.checkpoint}: {meta['model']} on the {dataset} {args.split} split "
          f"({len(ds)} images)")
    line = f"loss {r['loss']:.4f}  accuracy {100 * r['accuracy']:.2f}%"
    if r.get("top5") is not None:
        line += f"  top-5 accuracy {100 * r['top5']:.2f}%"
    print(line)
    print()
    print(_per_class_table(r, classes))
    print()
    print("confusion matrix (rows: true class, columns: predicted class)")
    print(metrics.format_confusion_matrix(cm, classes))
    doc = {"checkpoint": os.path.abspath(args.checkpoint), "model": meta["model"],
           "dataset": dataset, "split": args.split, "samples": len(ds), "class_names": classes}
    doc.update({k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in r.items()})
    path = os.path.join(out, f"evaluation_{args.split}.json")
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(path + ".tmp", path)
    saved = [path]
    if not args.no_plots:
        try:
            from ..train import plots
            saved.append(plots.confusion_matrix_plot(
                cm, classes, os.path.join(out, f"confusion_matrix_{args.split}.png"),
                title=f"{meta['model']} on {dataset} ({args.split}): accuracy "
                      f"{100 * r['accuracy']:.2f}% of {len(ds)}"))
        except ImportError:
            note("matplotlib is not installed, so no plot was drawn (pip install "
                 "'numtorch[plots]')")
    print()
    print("saved: " + ", ".join(saved))
    return 0


def _per_class_table(r: dict, classes) -> str:
    width = max([len("macro average")] + [len(str(c)) for c in classes])
    rows = [f"{'class':<{width}}  {'precision':>9}  {'recall':>6}  {'F1':>6}  {'support':>7}"]
    for i, name in enumerate(classes):
        rows.append(f"{str(name):<{width}}  {r['precision'][i]:9.4f}  {r['recall'][i]:6.4f}  "
                    f"{r['f1'][i]:.4f}  {int(r['support'][i]):7d}")
    rows.append(f"{'macro average':<{width}}  {r['macro_precision']:9.4f}  "
                f"{r['macro_recall']:6.4f}  {r['macro_f1']:.4f}  {int(sum(r['support'])):7d}")
    return "\n".join(rows)
