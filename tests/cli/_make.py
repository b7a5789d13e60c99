"""Tiny datasets in the real formats for the CLI tests: gzipped IDX files (Fashion-MNIST /
MNIST layout) and an image folder of PNG/JPEG files; the classes are learnable patterns."""
from __future__ import annotations

import os

import numpy as np

from tests.vision._files import idx_bytes, write


def pattern_images(n: int, seed: int, classes: int = 10, side: int = 28):
    """uint8 images (n, side, side): faint noise plus a bright square whose place is the class."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    rng.shuffle(labels)
    images = rng.integers(0, 60, (n, side, side)).astype(np.uint8)
    cell = side // 4
    for i, k in enumerate(labels):
        r, c = divmod(int(k), 4)
        images[i, r * cell + 1:r * cell + cell - 1, c * cell + 1:c * cell + cell - 1] = 230
    return images, labels.astype(np.uint8)


def write_idx_dataset(d: str, n_train: int = 320, n_test: int = 80) -> str:
    """The four gzipped IDX files of an MNIST-layout dataset in directory ``d``."""
    for prefix, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        images, labels = pattern_images(n, seed)
        write(os.path.join(d, f"{prefix}-images-idx3-ubyte"), idx_bytes(images), gz=True)
        write(os.path.join(d, f"{prefix}-labels-idx1-ubyte"), idx_bytes(labels), gz=True)
    return d


def write_image_folder(d: str, per_class: int = 6) -> str:
    """``d/<class>/*.png|jpg`` for classes 'circle' and 'square', in assorted modes and sizes."""
    from PIL import Image, ImageDraw
    rng = np.random.default_rng(3)
    modes = ("L", "RGB", "RGBA")
    for cls in ("circle", "square"):
        os.makedirs(os.path.join(d, cls), exist_ok=True)
        for i in range(per_class):
            w, h = int(rng.integers(20, 50)), int(rng.integers(20, 50))
            mode = modes[i % 3]
            img = Image.new(mode, (w, h), {"L": 0, "RGB": (0, 0, 40),
                                           "RGBA": (0, 0, 0, 255)}[mode])
            draw = ImageDraw.Draw(img)
            box = (w // 4, h // 4, 3 * w // 4, 3 * h // 4)
            fill = {"L": 255, "RGB": (250, 200, 10), "RGBA": (255, 255, 255, 255)}[mode]
            (draw.ellipse if cls == "circle" else draw.rectangle)(box, fill=fill)
            ext = "jpg" if mode == "RGB" and i % 2 else "png"
            img.save(os.path.join(d, cls, f"{cls}{i}.{ext}"))
    return d


def write_loose_images(d: str) -> dict:
    """Single images for predict: PNG/JPEG, grey/RGB/RGBA, odd sizes; {kind: path}."""
    from PIL import Image
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(4)
    out = {}
    for name, mode, size, ext in (("gray", "L", (17, 31), "png"), ("rgb", "RGB", (45, 29), "jpg"),
                                  ("rgba", "RGBA", (64, 64), "png"),
                                  ("exact", "L", (28, 28), "png")):
        shape = (size[1], size[0]) + (() if mode == "L" else (len(mode),))
        img = Image.fromarray(rng.integers(0, 256, shape).astype(np.uint8), mode=mode)
        path = os.path.join(d, f"{name}.{ext}")
        img.save(path)
        out[name] = path
    return out
