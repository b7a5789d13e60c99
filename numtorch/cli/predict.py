"""``numtorch predict``: classify image files with a checkpoint."""
from __future__ import annotations

import json
import os

import numpy as np

from . import _data
from ._common import CLIError, HelpFormatter, check_checkpoint_file, note, positive_int

DESCRIPTION = """Classify image files with a checkpoint written by 'numtorch train'.

Takes PNG, JPEG (and the other formats Pillow reads: BMP, GIF, TIFF, WebP, ...), grey, RGB or
RGBA, of any size. Each image is flattened onto white where it is transparent, converted to
the model's channels (grey: ITU-R 601 luma), stretched to the model's input size (bilinear)
and normalised as in training; a note on stderr says so once when images had to change. For
each file, prints the top-k classes with their softmax probabilities. Folders are searched
recursively for files with image extensions."""

EPILOG = """examples:
  numtorch predict runs/x/best.safetensors shirt.png
  numtorch predict runs/x/best.safetensors photos/ --topk 5 --json"""


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="classify image files with a checkpoint",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter)
    p.add_argument("checkpoint", metavar="CHECKPOINT",
                   help="a .safetensors checkpoint from 'numtorch train'")
    p.add_argument("inputs", nargs="+", metavar="IMAGE_OR_DIR",
                   help="image files, or folders to search for images")
    p.add_argument("--topk", type=positive_int, default=3, metavar="K",
                   help="how many classes to print per image (at most the number of classes)")
    p.add_argument("--batch-size", type=positive_int, default=256, metavar="N",
                   help="images per forward pass")
    p.add_argument("--json", action="store_true",
                   help="print one JSON list of {file, predictions: [{class, index, "
                        "probability}]} instead of text")
    p.add_argument("--model", default=None, metavar="NAME",
                   help="rebuild the weights into this model instead of the checkpoint's own")
    p.add_argument("--model-kwargs", default=None, metavar="JSON",
                   help="override keyword arguments of the model, as a JSON object")
    p.set_defaults(run=run)


def image_files(inputs) -> list:
    """The files to classify: explicit files as given, image files found under folders."""
    from ..vision.datasets.folder import is_image_file
    files = []
    for item in inputs:
        if os.path.isdir(item):
            found = sorted(os.path.join(root, f) for root, _, names in os.walk(item)
                           for f in names if is_image_file(f))
            if not found:
                raise CLIError(f"folder {item!r} holds no image files (.png, .jpg, ...)")
            files += found
        elif os.path.exists(item):
            files.append(item)
        else:
            raise CLIError(f"image {item!r} does not exist")
    return files


def run(args, argv=()) -> int:
    from .evaluate import load_model
    check_checkpoint_file(args.checkpoint)
    files = image_files(args.inputs)          # cheap checks before loading the model
    model, meta = load_model(args)
    c, h, w = meta["input_shape"]
    classes = list(meta["class_names"])
    arrays, converted, resized = [], 0, 0
    for path in files:
        a, conv, size = _data.to_array(_data.open_image(path), c, (h, w))
        arrays.append(a)
        converted += conv
        resized += size
    changes = [f"{n} of {len(files)} {what}" for n, what in (
        (converted, f"converted to {'grey' if c == 1 else 'RGB'}"),
        (resized, f"resized to {w}x{h} pixels")) if n]
    if changes:
        note(f"images are prepared as the model takes them: {', '.join(changes)}")
    x = _data.normalise(np.stack(arrays), meta["mean"], meta["std"])
    probs = _probabilities(model, x, args.batch_size)
    k = min(args.topk, len(classes))
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    results = [{"file": f, "predictions": [{"class": classes[j], "index": int(j),
                                            "probability": round(float(p[j]), 6)}
                                           for j in idx]}
               for f, p, idx in zip(files, probs, order)]
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    width = max(len(f) for f in files)
    for r in results:
        top = ", ".join(f"{p['class']} {100 * p['probability']:.1f}%" for p in r["predictions"])
        print(f"{r['file']:<{width}}  {top}")
    return 0


def _probabilities(model, x, batch_size: int) -> np.ndarray:
    import numtorch
    from ..tensor import Tensor
    out = []
    with numtorch.no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(Tensor._make(x[i:i + batch_size]))
            out.append(numtorch.softmax(logits.double(), dim=1).numpy())
    return np.concatenate(out)
