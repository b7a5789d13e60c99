"""Transforms on tensor images, against PyTorch (torchvision's kernels are PyTorch ops)."""
import colorsys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from PIL import Image

import numtorch
from numtorch.vision import transforms as T
from numtorch.vision.transforms import functional as F

from . import _torchref as ref

RNG = np.random.default_rng(0)


def img(shape=(3, 11, 13), dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype) == np.uint8:
        return rng.integers(0, 256, shape, dtype=np.uint8)
    return rng.random(shape).astype(dtype)


def nt(a):
    return numtorch.from_numpy(a)


def th(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def close(ours, theirs, atol=1e-5):
    theirs = theirs.numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert ours.numpy().dtype == theirs.dtype and ours.numpy().shape == theirs.shape
    np.testing.assert_allclose(ours.numpy().astype(np.float64), theirs.astype(np.float64),
                               rtol=0, atol=atol)


# ---- normalize -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_matches_torch(dtype):
    a = img((2, 3, 4, 5), dtype)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = T.Normalize(mean, std)(nt(a))
    expect = (th(a) - torch.tensor(mean, dtype=th(a).dtype).view(-1, 1, 1)) / \
        torch.tensor(std, dtype=th(a).dtype).view(-1, 1, 1)
    close(out, expect, atol=1e-6)
    assert np.array_equal(nt(a).numpy(), a)  # not in place
    x = nt(a.copy())
    y = F.normalize(x, mean, std, inplace=True)
    assert y is x
    close(x, expect, atol=1e-6)


def test_normalize_keeps_autograd():
    a = img((3, 4, 4), np.float64)
    g = img((3, 4, 4), np.float64, seed=1)
    x = nt(a.copy()).requires_grad_()
    F.normalize(x, [0.1, 0.2, 0.3], [0.5, 2.0, 4.0]).backward(nt(g))
    xt = th(a.copy()).requires_grad_()
    ((xt - torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64).view(-1, 1, 1))
     / torch.tensor([0.5, 2.0, 4.0], dtype=torch.float64).view(-1, 1, 1)).backward(th(g))
    close(x.grad, xt.grad, atol=1e-12)


def test_normalize_errors():
    with pytest.raises(TypeError, match="float tensor"):
        F.normalize(nt(img(dtype=np.uint8)), [0.5], [0.5])
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        F.normalize(nt(img((4, 4))), [0.5], [0.5])
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(nt(img()), [0.5, 0.5, 0.5], [1.0, 0.0, 1.0])
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        F.normalize(img(), [0.5], [0.5])
    with pytest.raises(RuntimeError, match=r"mean \[2, 1, 1\]"):
        F.normalize(nt(img()), [0.5, 0.5], [0.5, 0.5])


# ---- resize ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("size", [(5, 6), (23, 30), (11, 40), (4, 13)])
def test_resize_matches_torch(dtype, mode, antialias, size):
    a = img((2, 3, 11, 13), dtype)
    out = F.resize(nt(a), list(size), T.InterpolationMode(mode), antialias=antialias)
    expect = ref.resize(th(a), list(size), mode, antialias)
    # uint8: torch rounds a float32 result; a value within 1e-5 of .5 may round either way
    close(out, expect, atol=1 if dtype == np.uint8 else 1e-5)
    if dtype == np.uint8:
        assert np.mean(out.numpy() == expect.numpy()) > 0.995


def test_resize_tensor_smaller_edge_and_pil_agreement():
    a = img((3, 20, 30), np.uint8)
    out = T.Resize(10)(nt(a))
    assert tuple(out.shape) == (3, 10, 15)
    # torchvision's promise: antialiased bilinear on tensors is close to PIL's
    pil_out = np.asarray(Image.fromarray(a.transpose(1, 2, 0)).resize((15, 10), Image.BILINEAR))
    assert np.abs(out.numpy().transpose(1, 2, 0).astype(int) - pil_out).max() <= 1
    with pytest.raises(ValueError, match="unsupported with Tensor input"):
        F.resize(nt(a), 5, T.InterpolationMode.LANCZOS)


# ---- affine warps ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("interp", ["nearest", "bilinear"])
@pytest.mark.parametrize("fill", [None, 0, [10.0, 20.0, 30.0]])
def test_rotate_matches_torch(dtype, interp, fill):
    a = img((3, 9, 12), dtype)
    for angle, expand, center in ((33.0, False, None), (-71.5, True, None), (15, False, [2, 3])):
        out = F.rotate(nt(a), angle, T.InterpolationMode(interp), expand, center, fill)
        c = [0.0, 0.0] if center is None else [center[0] - 6.0, center[1] - 4.5]
        m = ref.inverse_affine_matrix(c, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
        fl = None if fill is None else ([float(fill)] if not isinstance(fill, list) else fill)
        close(out, ref.warp(th(a), m, interp, fl, expand), atol=1e-4)


@pytest.mark.parametrize("interp", ["nearest", "bilinear"])
def test_affine_matches_torch(interp):
    a = img((2, 3, 10, 8), np.float32)
    out = F.affine(nt(a), 25.0, [2, -1], 0.8, [10.0, -5.0], T.InterpolationMode(interp),
                   fill=[1.0, 2.0, 3.0])
    m = ref.inverse_affine_matrix([0.0, 0.0], 25.0, [2.0, -1.0], 0.8, [10.0, -5.0])
    close(out, ref.warp(th(a), m, interp, [1.0, 2.0, 3.0]), atol=1e-5)
    with pytest.raises(ValueError, match="cannot broadcast"):
        F.affine(nt(a), 0.0, [0, 0], 1.0, 0.0, fill=[1.0, 2.0])
    with pytest.raises(ValueError, match="scale should be positive"):
        F.affine(nt(a), 0.0, [0, 0], 0.0, 0.0)


# ---- crop, pad, flip -------------------------------------------------------------------------
def test_crop_center_crop_flip():
    a = img((3, 7, 9))
    np.testing.assert_array_equal(F.crop(nt(a), 1, 2, 3, 4).numpy(), a[:, 1:4, 2:6])
    oob = F.crop(nt(a), -1, 7, 3, 4).numpy()  # outside: zero padded
    expect = np.zeros((3, 3, 4), np.float32)
    expect[:, 1:, :2] = a[:, 0:2, 7:9]
    np.testing.assert_array_equal(oob, expect)
    np.testing.assert_array_equal(T.CenterCrop(3)(nt(a)).numpy(), a[:, 2:5, 3:6])
    big = T.CenterCrop((9, 10))(nt(a)).numpy()
    np.testing.assert_array_equal(big, np.pad(a, ((0, 0), (1, 1), (0, 1))))
    close(F.hflip(nt(a)), torch.flip(th(a), [-1]), atol=0)
    close(F.vflip(nt(a)), torch.flip(th(a), [-2]), atol=0)


@pytest.mark.parametrize("mode,torch_mode", [("constant", "constant"), ("edge", "replicate"),
                                             ("reflect", "reflect"), ("symmetric", None)])
def test_pad_tensor(mode, torch_mode):
    a = img((2, 3, 5, 6))
    out = T.Pad((1, 2, 3, 4), fill=0.5, padding_mode=mode)(nt(a))
    if torch_mode is None:
        expect = np.pad(a, ((0, 0), (0, 0), (2, 4), (1, 3)), "symmetric")
    else:
        kw = {"value": 0.5} if mode == "constant" else {}
        expect = TF.pad(th(a), (1, 3, 2, 4), mode=torch_mode, **kw)
    close(out, expect, atol=0)
    assert tuple(F.pad(nt(a), [-1, 1]).shape) == (2, 3, 7, 4)
    with pytest.raises(TypeError, match="inappropriate fill"):
        F.pad(nt(a), 1, fill=(1, 2, 3))


# ---- colour ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_grayscale_and_blends_match_torch(dtype):
    a = img((2, 3, 6, 7), dtype)
    t = th(a)
    close(F.rgb_to_grayscale(nt(a)), ref.grayscale(t), atol=0)
    g3 = T.Grayscale(3)(nt(a))
    assert tuple(g3.shape) == a.shape and (g3.numpy() == g3.numpy()[:, :1]).all()
    tol = 1 if dtype == np.uint8 else 1e-6  # float32 rounding may move a truncation by one
    close(F.adjust_brightness(nt(a), 1.3), ref.blend(t, torch.zeros_like(t), 1.3), atol=tol)
    close(F.adjust_contrast(nt(a), 0.6), ref.contrast(t, 0.6), atol=tol)
    close(F.adjust_saturation(nt(a), 1.8), ref.blend(t, ref.grayscale(t), 1.8), atol=tol)
    with pytest.raises(ValueError, match="brightness_factor"):
        F.adjust_brightness(nt(a), -1)
    with pytest.raises(TypeError, match="permitted channel values are"):
        F.adjust_saturation(nt(img((2, 4, 4), dtype)), 1.0)


def test_adjust_hue_matches_colorsys():
    a = img((3, 5, 6), np.float32)
    out = F.adjust_hue(nt(a), 0.3).numpy()
    for y in range(5):
        for x in range(6):
            h, s, v = colorsys.rgb_to_hsv(*a[:, y, x].astype(float))
            np.testing.assert_allclose(out[:, y, x], colorsys.hsv_to_rgb((h + 0.3) % 1.0, s, v),
                                       atol=1e-5)
    u = img((3, 5, 6), np.uint8)
    uo = F.adjust_hue(nt(u), -0.2)
    assert uo.dtype == numtorch.uint8
    fo = F.adjust_hue(nt(u.astype(np.float32) / 255), -0.2).numpy()
    assert np.abs(uo.numpy().astype(float) - fo * 255).max() <= 1.0
    gray = nt(img((1, 4, 4)))
    assert F.adjust_hue(gray, 0.2) is gray


def test_convert_image_dtype_matches_torch():
    u = img((3, 4, 4), np.uint8)
    close(T.ConvertImageDtype(numtorch.float32)(nt(u)), th(u).to(torch.float32) / 255, atol=0)
    f = img((3, 4, 4), np.float32)
    close(F.convert_image_dtype(nt(f), numtorch.uint8), th(f).mul(255.999).to(torch.uint8), 0)
    close(F.convert_image_dtype(nt(u), numtorch.int32),
          th(u).to(torch.int32) * ((2 ** 31) // 256), atol=0)
    close(F.convert_image_dtype(nt(u.astype(np.int16) * 128), numtorch.uint8),
          torch.div(th(u.astype(np.int16) * 128), 128, rounding_mode="floor").to(torch.uint8), 0)
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(nt(f), numtorch.int64)


def test_erase():
    a = img()
    out = F.erase(nt(a), 1, 2, 3, 4, 0.0)
    expect = a.copy()
    expect[:, 1:4, 2:6] = 0
    np.testing.assert_array_equal(out.numpy(), expect)
    assert not np.array_equal(a, expect)  # the input is untouched
    x = nt(a.copy())
    assert F.erase(x, 0, 0, 1, 1, numtorch.tensor([[[1.0]], [[2.0]], [[3.0]]]), inplace=True) is x
    assert x.numpy()[:, 0, 0].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        F.erase(a, 0, 0, 1, 1, 0)
