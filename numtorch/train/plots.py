"""PNG plots of a training run: curves, confusion matrix, predictions, filters, feature maps.

Drawn with matplotlib's object API on the Agg canvas (no display, no pyplot state, safe to call
from scripts and servers). matplotlib is optional (``pip install 'numtorch[plots]'``): this
module imports without it and each function raises ``ImportError`` with that hint. Each
function writes a PNG to ``path`` and returns ``path``.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["loss_accuracy_curves", "confusion_matrix_plot", "prediction_grid",
           "first_layer_filters", "feature_maps"]

_RED, _GREEN = "#d62728", "#2ca02c"


def _figure(width: float, height: float):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("numtorch.train.plots needs matplotlib: pip install 'numtorch[plots]' "
                          "(or pip install matplotlib)") from None
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig, path) -> str:
    fig.savefig(path, format="png")
    return path


def _array(x) -> np.ndarray:
    """A NumPy array from a Tensor, an array or a list."""
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def _name(names, i: int) -> str:
    return str(names[i]) if names is not None and 0 <= i < len(names) else str(i)


def loss_accuracy_curves(history, path, title: str | None = None) -> str:
    """Loss and accuracy per epoch, train against validation, side by side.

    Args:
        history: the Trainer's list of per-epoch dicts (``epoch``, ``train_loss``,
            ``val_loss``, ``train_acc``, ``val_acc``; missing or None values are skipped).
        path: the PNG file to write.
        title: a title above both panels.
    """
    fig = _figure(10, 4)
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    for ax, key, label, scale in ((ax_loss, "loss", "cross-entropy loss", 1),
                                  (ax_acc, "acc", "accuracy (%)", 100)):
        for split, colour in (("train", "C0"), ("val", "C1")):
            pts = [(e, h.get(f"{split}_{key}")) for e, h in zip(epochs, history)]
            pts = [(e, v * scale) for e, v in pts if v is not None and math.isfinite(v)]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, marker="o", color=colour,
                        label="training" if split == "train" else "validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title("Loss" if key == "loss" else "Accuracy")
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ax.legend()
        if epochs:
            ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def confusion_matrix_plot(cm, class_names, path, title: str | None = None) -> str:
    """The confusion matrix as a heat map (colour: share of each true class; text: counts).

    Args:
        cm: int array (K, K), rows = true class, columns = predicted class.
        class_names: K names for the axes (None: the indices).
        path: the PNG file to write.
        title: the plot title (default: states the accuracy).
    """
    cm = _array(cm).astype(np.int64)
    k = cm.shape[0]
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape, dtype=np.float64), where=rows > 0)
    side = min(16.0, max(5.0, 0.6 * k + 2.5))
    fig = _figure(side + 1.2, side)
    ax = fig.subplots()
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    names = [_name(class_names, i) for i in range(k)]
    ax.set_xticks(range(k), names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if k <= 30:
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                            fontsize=8 if k > 12 else 9,
                            color="white" if share[i, j] > 0.5 else "black")
    total = int(cm.sum())
    acc = np.trace(cm) / total if total else 0.0
    ax.set_title(title or f"Confusion matrix ({total} samples, accuracy {100 * acc:.2f}%)")
    return _save(fig, path)


def _display(images: np.ndarray, mean=None, std=None) -> np.ndarray:
    """(N, C, H, W) or (N, H, W) images -> (N, H, W) or (N, H, W, 3) floats in [0, 1]."""
    x = images.astype(np.float64)
    if x.ndim == 3:
        x = x[:, None]
    if mean is not None and std is not None:
        x = x * np.asarray(std, np.float64)[:, None, None] + \
            np.asarray(mean, np.float64)[:, None, None]
    elif images.dtype == np.uint8:
        x = x / 255.0
    else:                                     # unknown scale: stretch each image to [0, 1]
        lo = x.min(axis=(1, 2, 3), keepdims=True)
        hi = x.max(axis=(1, 2, 3), keepdims=True)
        x = (x - lo) / np.where(hi > lo, hi - lo, 1.0)
    x = np.clip(x, 0.0, 1.0)
    return x[:, 0] if x.shape[1] == 1 else x[:, :3].transpose(0, 2, 3, 1)


def _grid(n: int, max_cols: int = 8) -> tuple:
    cols = min(n, max_cols, max(1, math.ceil(math.sqrt(n))))
    return math.ceil(n / cols), cols


def prediction_grid(images, preds, targets, class_names, path, n: int = 36, *,
                    mean=None, std=None, title: str | None = None) -> str:
    """A grid of images titled with the predicted class; mistakes in red with the true class.

    Args:
        images: (N, C, H, W) or (N, H, W) images (uint8, or floats: normalised ones are
            undone with ``mean``/``std`` when given, else each is stretched to [0, 1]).
        preds, targets: predicted and true class indices (N,).
        class_names: names for the indices (None: the indices).
        path: the PNG file to write.
        n: how many images to show (the first ``n``).
        mean, std: per-channel normalisation of ``images`` on the [0, 1] scale.
        title: the title (default: how many of the shown are wrong).
    """
    images = _array(images)[:n]
    preds = _array(preds).reshape(-1)[:n]
    targets = _array(targets).reshape(-1)[:n]
    shown = len(images)
    if not shown:
        raise ValueError("prediction_grid needs at least one image")
    if not len(preds) == len(targets) == shown:
        raise ValueError(f"prediction_grid got {shown} images, {len(preds)} predictions and "
                         f"{len(targets)} targets; the counts must be equal")
    pics = _display(images, mean, std)
    rows, cols = _grid(shown, 6 if shown <= 36 else 10)
    fig = _figure(1.7 * cols, 1.85 * rows + 0.5)
    axes = np.atleast_1d(fig.subplots(rows, cols)).reshape(-1)
    wrong = 0
    for i, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= shown:
            ax.set_axis_off()
            continue
        ax.imshow(pics[i], cmap="gray" if pics[i].ndim == 2 else None, vmin=0, vmax=1,
                  interpolation="nearest")
        ok = int(preds[i]) == int(targets[i])
        wrong += not ok
        label = _name(class_names, int(preds[i]))
        if not ok:
            label += f"\n(true: {_name(class_names, int(targets[i]))})"
        ax.set_title(label, fontsize=8, color=_GREEN if ok else _RED)
        for spine in ax.spines.values():
            spine.set_edgecolor(_GREEN if ok else _RED)
            spine.set_linewidth(1 if ok else 3)
    fig.suptitle(title or f"Predictions on {shown} test images: {wrong} wrong (red, with the "
                          "true class)")
    return _save(fig, path)


def _first_layer(model):
    from ..nn import Conv2d, Linear
    for name, m in model.named_modules():
        if isinstance(m, (Conv2d, Linear)):
            return name or type(m).__name__, m
    return None, None


def _montage(tiles, rows: int, cols: int, pad: int = 1) -> np.ndarray:
    """Tiles (N, h, w) or (N, h, w, 3) laid out row-major in one array, NaN between tiles."""
    n, h, w = tiles.shape[:3]
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad) + tiles.shape[3:], np.nan)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = tiles[i]
    return out


def _tile_centres(count: int, size: int, pad: int = 1) -> list:
    return [i * (size + pad) + (size - 1) / 2 for i in range(count)]


def first_layer_filters(model, path, max_filters: int = 64, title: str | None = None) -> str:
    """The learned weights of the model's first Conv2d (or image-sized first Linear) layer.

    Colour filters of 3 input channels are shown in RGB (each stretched to its own range),
    others as one map per filter (the mean over input channels when there are several) on one
    shared scale, blue negative and red positive.

    Raises ValueError when the first weight layer is neither a Conv2d nor a Linear layer
    whose inputs form a square 1- or 3-channel image.
    """
    from ..nn import Conv2d
    name, layer = _first_layer(model)
    if layer is None:
        raise ValueError(f"{type(model).__name__} has no Conv2d or Linear layer: no filters to "
                         "show")
    w = _array(layer.weight).astype(np.float64)
    if isinstance(layer, Conv2d):
        what = f"{name}: {w.shape[0]} filters of {w.shape[1]}x{w.shape[2]}x{w.shape[3]}"
    else:
        fan = w.shape[1]
        c = 1 if math.isqrt(fan) ** 2 == fan else 3
        s = math.isqrt(fan // c)
        if c * s * s != fan:
            raise ValueError(f"first layer {name} is Linear({fan}, ...): its inputs are not a "
                             "square image, no filters to show")
        w = w.reshape(w.shape[0], c, s, s)
        what = f"{name}: weights of the first {min(len(w), max_filters)} of {len(w)} units, " \
               f"as {c}x{s}x{s} images"
    w = w[:max_filters]
    n, cin, kh, kw = w.shape
    rgb = cin == 3
    if not rgb and cin > 1:
        what += f" (mean over {cin} input channels)"
    rows, cols = _grid(n, 8)
    tile = 1.8 if n <= 16 else 1.3
    fig = _figure(tile * cols + 1.6, tile * rows * kh / kw + 0.8)
    ax = fig.subplots()
    if rgb:
        lo = w.min(axis=(1, 2, 3), keepdims=True)
        hi = w.max(axis=(1, 2, 3), keepdims=True)
        tiles = ((w - lo) / np.where(hi > lo, hi - lo, 1.0)).transpose(0, 2, 3, 1)
        grid = _montage(tiles, rows, cols)
        ax.imshow(np.where(np.isnan(grid), 0.6, grid), interpolation="nearest")
    else:
        from matplotlib import colormaps
        lim = float(np.abs(w).max()) or 1.0           # one scale for all: the colour bar holds
        im = ax.imshow(_montage(w.mean(axis=1), rows, cols), vmin=-lim, vmax=lim,
                       cmap=colormaps["bwr"].with_extremes(bad="0.6"), interpolation="nearest")
        fig.colorbar(im, ax=ax, shrink=0.8, label="weight")
    ax.set_xticks(_tile_centres(cols, kw), [str(i) for i in range(cols)])
    ax.set_yticks(_tile_centres(rows, kh), [str(i * cols) for i in range(rows)])
    ax.tick_params(length=0, labelsize=7)
    ax.set_xlabel("filter number = row label + column label", fontsize=8)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title or f"First-layer filters — {what}", fontsize=10)
    return _save(fig, path)


def feature_maps(model, image, path, max_channels: int = 8, title: str | None = None) -> str:
    """One image's activations after each convolution and pooling stage of ``model``.

    Forward hooks on every Conv2d and pooling layer record their outputs for ``image`` (run in
    eval mode under ``no_grad``; the model's mode is restored); each row shows the first
    ``max_channels`` channels of one stage, each map stretched to its own range, the input on
    top.

    Args:
        model: an ``nn.Module`` with Conv2d / pooling layers.
        image: one image (C, H, W) or a batch of one (1, C, H, W), as the model takes it.
        path: the PNG file to write.
        max_channels: channels shown per stage.
        title: the title (default: names the model).
    """
    from .. import no_grad
    from ..nn import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, Conv2d, MaxPool2d)
    from ..tensor import Tensor
    kinds = (Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d)
    x = image if isinstance(image, Tensor) else Tensor._make(np.asarray(image, np.float32))
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"feature_maps takes one image (C, H, W) or (1, C, H, W), got shape "
                         f"{tuple(x.shape)}")
    stages, handles, calls = [], [], {}

    def hook_for(name):
        def hook(module, inputs, output):
            calls[name] = calls.get(name, 0) + 1
            label = name if calls[name] == 1 else f"{name} (call {calls[name]})"
            out = _array(output)
            if out.ndim == 4 and out.shape[2] * out.shape[3] > 1:
                stages.append((label, out[0].astype(np.float64)))
        return hook

    for name, m in model.named_modules():
        if isinstance(m, kinds):
            handles.append(m.register_forward_hook(hook_for(name or type(m).__name__)))
    if not handles:
        raise ValueError(f"{type(model).__name__} has no Conv2d or pooling layer: no feature "
                         "maps to show")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    from matplotlib import colormaps
    viridis = colormaps["viridis"]
    inp = _array(x)[0].astype(np.float64)
    cols = max_channels
    fig = _figure(1.25 * cols + 1.6, 1.3 * (len(stages) + 1) + 0.5)
    axes = np.atleast_1d(fig.subplots(len(stages) + 1, 1))
    for ax, (label, maps) in zip(axes, [("input", inp)] + stages):
        if ax is axes[0]:
            tiles = _display(maps[None])              # grey (1, H, W) or RGB (1, H, W, 3)
            if tiles.ndim == 3:
                tiles = np.repeat(tiles[..., None], 3, axis=3)
            shown = 1
        else:
            shown = min(cols, maps.shape[0])
            m = maps[:shown]
            lo = m.min(axis=(1, 2), keepdims=True)
            hi = m.max(axis=(1, 2), keepdims=True)
            tiles = viridis((m - lo) / np.where(hi > lo, hi - lo, 1.0))[..., :3]
        h, w = tiles.shape[1:3]
        grid = _montage(tiles, 1, cols, pad=max(1, w // 8))
        ax.imshow(np.where(np.isnan(grid), 1.0, grid), interpolation="nearest")
        ax.set_xticks(_tile_centres(shown, w, max(1, w // 8)),
                      [f"ch {i}" for i in range(shown)] if ax is not axes[0] else [""])
        ax.set_yticks([])
        ax.tick_params(length=0, labelsize=7)
        for spine in ax.spines.values():
            spine.set_visible(False)
        shape = "x".join(str(v) for v in maps.shape)
        ax.set_ylabel(f"{label}\n{shape}", fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(title or f"Feature maps of one image through {type(model).__name__}",
                 fontsize=10)
    fig.supxlabel(f"the first {cols} channels of each convolution / pooling output, each "
                  "scaled to its own range; brighter = larger activation", fontsize=8)
    return _save(fig, path)
