"""Random augmentations: seeded reproducibility, parameter ranges, validity and errors."""
import math

import numpy as np
import pytest
from PIL import Image

import numtorch
from numtorch.vision import transforms as T
from numtorch.vision.transforms import functional as F

RGB = np.random.default_rng(0).integers(0, 256, (24, 20, 3), dtype=np.uint8)


def pil():
    return Image.fromarray(RGB)


def tensor():
    return F.to_tensor(RGB)


def as_np(x):
    return np.asarray(x) if isinstance(x, Image.Image) else x.numpy()


PIPELINES = {
    "cifar": lambda: T.Compose([T.RandomCrop(16, padding=4), T.RandomHorizontalFlip(),
                                T.ToTensor(), T.Normalize((0.5,) * 3, (0.25,) * 3)]),
    "imagenet": lambda: T.Compose([T.RandomResizedCrop(12), T.RandomHorizontalFlip(),
                                   T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.ToTensor(),
                                   T.RandomErasing(p=0.9)]),
    "geometry": lambda: T.Compose([T.RandomRotation(30), T.RandomAffine(10, (0.1, 0.1),
                                                                        (0.9, 1.1), 5),
                                   T.RandomVerticalFlip(), T.PILToTensor()]),
    "tensor": lambda: T.Compose([T.RandomResizedCrop((10, 8), antialias=True),
                                 T.ColorJitter(0.5, 0.5, 0.5, 0.2),
                                 T.RandomRotation(20, T.InterpolationMode.BILINEAR),
                                 T.RandomGrayscale(0.5)]),
}


@pytest.mark.parametrize("name", list(PIPELINES))
def test_manual_seed_reproduces_augmentation(name):
    tf = PIPELINES[name]()
    src = tensor if name == "tensor" else pil

    def run(seed):
        numtorch.manual_seed(seed)
        return [as_np(tf(src())) for _ in range(6)]

    a, b, c = run(1), run(1), run(2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(x.shape != y.shape or not np.array_equal(x, y) for x, y in zip(a, c))


def test_random_crop_windows_of_padded_image():
    numtorch.manual_seed(0)
    padded = np.pad(RGB, ((4, 4), (4, 4), (0, 0)))
    seen = set()
    for _ in range(30):
        out = np.asarray(T.RandomCrop((16, 12), padding=4)(pil()))
        hits = [(i, j) for i in range(padded.shape[0] - 15) for j in range(padded.shape[1] - 11)
                if np.array_equal(padded[i:i + 16, j:j + 12], out)]
        assert hits
        seen.add(hits[0])
    assert len(seen) > 10
    out = T.RandomCrop(30, pad_if_needed=True, padding_mode="edge")(tensor())
    assert tuple(out.shape) == (3, 30, 30)
    with pytest.raises(ValueError, match=r"Required crop size \(30, 30\) is larger"):
        T.RandomCrop(30)(pil())
    with pytest.raises(ValueError, match="only two dimensions"):
        T.RandomCrop((1, 2, 3))


def test_random_resized_crop_params():
    numtorch.manual_seed(0)
    img = pil()
    for _ in range(200):
        i, j, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i <= 24 - h and 0 <= j <= 20 - w and h > 0 and w > 0
    # an impossible ratio falls back to the central crop of the closest ratio
    i, j, h, w = T.RandomResizedCrop.get_params(img, (0.99, 1.0), (4.0, 5.0))
    assert (h, w) == (int(round(20 / 4.0)), 20) and (i, j) == ((24 - h) // 2, 0)
    out = T.RandomResizedCrop((7, 9), interpolation=T.InterpolationMode.NEAREST)(img)
    assert out.size == (9, 7)
    assert "RandomResizedCrop(size=(7, 9), scale=(0.08, 1.0), ratio=(0.75, 1.3333)" in \
        repr(T.RandomResizedCrop((7, 9)))
    with pytest.warns(UserWarning, match="Scale and ratio"):
        T.RandomResizedCrop(5, scale=(1.0, 0.5))


def test_rotation_and_affine_params_and_errors():
    numtorch.manual_seed(0)
    angles = [T.RandomRotation.get_params([-10.0, 25.0]) for _ in range(300)]
    assert -10 <= min(angles) < -8 and 23 < max(angles) <= 25
    assert T.RandomRotation(5).degrees == [-5.0, 5.0]
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="degrees should be a sequence of length 2"):
        T.RandomRotation([1, 2, 3])
    with pytest.raises(TypeError, match="Fill should be either a sequence or a number"):
        T.RandomRotation(3, fill=object())
    for _ in range(100):
        ang, (tx, ty), sc, (sx, sy) = T.RandomAffine.get_params(
            [-5.0, 5.0], (0.2, 0.1), (0.8, 1.2), [-3.0, 3.0, 1.0, 2.0], [20, 24])
        assert -5 <= ang <= 5 and abs(tx) <= 4 and abs(ty) <= 3 and 0.8 <= sc <= 1.2
        assert -3 <= sx <= 3 and 1 <= sy <= 2
    assert T.RandomAffine(0, shear=7).shear == [-7.0, 7.0]
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.5, 1.5))
    with pytest.raises(ValueError, match="scale values should be positive"):
        T.RandomAffine(0, scale=(0, 1))
    with pytest.raises(ValueError, match="shear should be a sequence of length 2 or 4"):
        T.RandomAffine(0, shear=(1, 2, 3))
    out = T.RandomAffine(0)(pil())
    np.testing.assert_array_equal(np.asarray(out), RGB)  # the identity map
    t = T.RandomRotation((90, 90), fill=(1, 2, 3))(tensor())
    assert tuple(t.shape) == (3, 24, 20)


def test_color_jitter_replays_functional_calls():
    img = tensor()
    tf = T.ColorJitter(0.5, (0.5, 1.5), 0.3, 0.2)
    numtorch.manual_seed(3)
    out = tf(img)
    numtorch.manual_seed(3)
    order, b, c, s, h = T.ColorJitter.get_params(tf.brightness, tf.contrast, tf.saturation,
                                                 tf.hue)
    assert sorted(order.tolist()) == [0, 1, 2, 3]
    assert 0.5 <= b <= 1.5 and 0.5 <= c <= 1.5 and 0.7 <= s <= 1.3 and -0.2 <= h <= 0.2
    ref = img
    fns = {0: (F.adjust_brightness, b), 1: (F.adjust_contrast, c),
           2: (F.adjust_saturation, s), 3: (F.adjust_hue, h)}
    for k in order.tolist():
        ref = fns[k][0](ref, fns[k][1])
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert T.ColorJitter().brightness is None and T.ColorJitter(hue=0).hue is None
    assert T.ColorJitter(brightness=2).brightness == (0.0, 3.0)
    assert isinstance(T.ColorJitter(0.2, 0.2, 0.2, 0.1)(pil()), Image.Image)
    with pytest.raises(ValueError, match="must be non negative"):
        T.ColorJitter(brightness=-0.1)
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\)"):
        T.ColorJitter(hue=0.6)
    with pytest.raises(TypeError, match="single number or a list/tuple with length 2"):
        T.ColorJitter(contrast=[1, 2, 3])


def test_random_erasing():
    numtorch.manual_seed(0)
    x = tensor()
    for value in (0, (0.1, 0.2, 0.3), "random"):
        for _ in range(20):
            out = T.RandomErasing(p=1.0, value=value)(x).numpy()
            diff = np.any(out != x.numpy(), axis=0)
            if not diff.any():
                continue
            ys, xs = np.nonzero(diff)
            area = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
            assert area <= 0.33 * 24 * 20 + 24  # within scale, up to rounding of h and w
            if value == (0.1, 0.2, 0.3):
                assert np.allclose(out[:, ys[0], xs[0]], [0.1, 0.2, 0.3])
    assert T.RandomErasing(p=0.0)(x) is x
    y = x.clone()
    assert T.RandomErasing(p=1.0, inplace=True)(y) is y
    with pytest.raises(ValueError, match="should be 'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.1, 1.5))
    with pytest.raises(ValueError, match="probability should be between 0 and 1"):
        T.RandomErasing(p=2)
    with pytest.raises(ValueError, match="3 \\(number of input channels\\)"):
        T.RandomErasing(p=1.0, value=(1, 2))(x)


def test_flip_probability_and_random_containers():
    numtorch.manual_seed(0)
    x = numtorch.tensor([[[1.0, 2.0]]])
    n = sum(T.RandomHorizontalFlip(0.3)(x).numpy()[0, 0, 0] == 2.0 for _ in range(2000))
    assert abs(n / 2000 - 0.3) < 0.04
    add1, mul2 = T.Lambda(lambda v: v + 1), T.Lambda(lambda v: v * 2)
    outs = {float(T.RandomOrder([add1, mul2])(numtorch.tensor(1.0))) for _ in range(50)}
    assert outs == {3.0, 4.0}
    picks = [float(T.RandomChoice([add1, mul2], p=[0.9, 0.1])(numtorch.tensor(5.0)))
             for _ in range(400)]
    assert 0.85 < picks.count(6.0) / 400 < 0.95
    applied = [float(T.RandomApply([add1], p=0.25)(numtorch.tensor(0.0))) for _ in range(400)]
    assert 0.18 < np.mean(applied) < 0.32
    g = T.RandomGrayscale(p=1.0)(pil())
    assert g.mode == "RGB" and np.array_equal(np.asarray(g)[..., 0], np.asarray(g)[..., 2])
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)


def test_reprs():
    tf = T.Compose([T.Resize(32), T.CenterCrop(28), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize((0.1,), (0.2,))])
    assert repr(tf) == ("Compose(\n    Resize(size=32, interpolation=bilinear, max_size=None, "
                        "antialias=True)\n    CenterCrop(size=(28, 28))\n    "
                        "RandomHorizontalFlip(p=0.5)\n    ToTensor()\n    "
                        "Normalize(mean=(0.1,), std=(0.2,))\n)")
    assert repr(T.ColorJitter(0.1)) == ("ColorJitter(brightness=(0.9, 1.1), contrast=None, "
                                        "saturation=None, hue=None)")
    assert isinstance(T.Normalize((0.1,), (0.2,)), numtorch.nn.Module)


def test_transforms_in_dataloader_reproducible():
    from numtorch.utils.data import DataLoader, Dataset

    class DS(Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return T.RandomCrop(8)(tensor())

    def epoch(seed):
        numtorch.manual_seed(seed)
        return np.concatenate([b.numpy() for b in DataLoader(DS(), batch_size=4)])

    np.testing.assert_array_equal(epoch(5), epoch(5))
    assert not np.array_equal(epoch(5), epoch(6))
    assert math.isfinite(float(epoch(5).sum()))
