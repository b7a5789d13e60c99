"""Conversions and deterministic transforms on PIL images, against PIL, NumPy and torch."""
import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

import numtorch
from numtorch.vision import transforms as T
from numtorch.vision.transforms import functional as F

from ._torchref import inverse_affine_matrix

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (7, 9, 3), dtype=np.uint8)
GRAY = RNG.integers(0, 256, (7, 9), dtype=np.uint8)


def pil(arr=RGB):
    return Image.fromarray(arr)


# ---- conversions ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P", "CMYK", "YCbCr"])
def test_to_tensor_uint8_modes(mode):
    img = pil().convert(mode)
    x = T.ToTensor()(img)
    arr = np.asarray(img)
    arr = arr[:, :, None] if arr.ndim == 2 else arr
    ref = torch.from_numpy(arr.copy()).permute(2, 0, 1).to(torch.float32).div(255)
    assert x.dtype == numtorch.float32 and x.is_contiguous()
    np.testing.assert_array_equal(x.numpy(), ref.numpy())


def test_to_tensor_other_modes_keep_dtype():
    x = F.to_tensor(pil().convert("1"))
    assert x.dtype == numtorch.float32 and set(np.unique(x.numpy())) <= {0.0, 1.0}
    fimg = Image.fromarray(GRAY.astype(np.float32) / 7)
    np.testing.assert_array_equal(F.to_tensor(fimg).numpy()[0], GRAY.astype(np.float32) / 7)
    iimg = Image.fromarray(GRAY.astype(np.int32) * 1000)
    xi = F.to_tensor(iimg)
    assert xi.dtype == numtorch.int32
    assert xi.numpy()[0].tolist() == (GRAY.astype(np.int32) * 1000).tolist()


def test_to_tensor_ndarray():
    x = F.to_tensor(RGB)
    np.testing.assert_array_equal(x.numpy(), RGB.transpose(2, 0, 1) / np.float32(255))
    assert tuple(F.to_tensor(GRAY).shape) == (1, 7, 9)
    f = RGB.astype(np.float64)
    xf = F.to_tensor(f)  # non-uint8 arrays are not scaled
    assert xf.dtype == numtorch.float64 and np.array_equal(xf.numpy(), f.transpose(2, 0, 1))
    numtorch.set_default_dtype(numtorch.float64)
    try:
        assert F.to_tensor(RGB).dtype == numtorch.float64
    finally:
        numtorch.set_default_dtype(numtorch.float32)
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        F.to_tensor([[1, 2]])
    with pytest.raises(ValueError, match="2/3 dimensional. Got 4"):
        F.to_tensor(np.zeros((1, 2, 3, 4), np.uint8))


def test_pil_to_tensor():
    x = T.PILToTensor()(pil())
    assert x.dtype == numtorch.uint8 and tuple(x.shape) == (3, 7, 9)
    np.testing.assert_array_equal(x.numpy(), RGB.transpose(2, 0, 1))
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        F.pil_to_tensor(RGB)


def test_to_pil_image_roundtrips_and_modes():
    x = numtorch.tensor(RGB.transpose(2, 0, 1).astype(np.float32) / 255)
    img = T.ToPILImage()(x)
    assert img.mode == "RGB" and img.size == (9, 7)
    # floats are scaled by 255 and truncated, as torchvision does
    ref = (torch.from_numpy(x.numpy()).permute(1, 2, 0) * 255).numpy().astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(img), ref)
    assert F.to_pil_image(numtorch.tensor(GRAY)).mode == "L"
    assert F.to_pil_image(numtorch.zeros(4, 2, 2)).mode == "RGBA"
    assert F.to_pil_image(numtorch.zeros(2, 2, 2)).mode == "LA"
    assert F.to_pil_image(numtorch.zeros(1, 2, 2), mode="F").mode == "F"
    assert F.to_pil_image(np.zeros((2, 2), np.int32)).mode == "I"
    assert F.to_pil_image(np.zeros((2, 2, 3), np.uint8), mode="HSV").mode == "HSV"
    with pytest.raises(ValueError, match="Incorrect mode"):
        F.to_pil_image(np.zeros((2, 2), np.uint8), mode="RGB")
    with pytest.raises(ValueError, match="Only modes"):
        F.to_pil_image(np.zeros((2, 2, 3), np.uint8), mode="RGBA")
    with pytest.raises(ValueError, match="> 4 channels"):
        F.to_pil_image(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(TypeError, match="Tensor or ndarray"):
        F.to_pil_image([1])
    with pytest.raises(TypeError, match="not supported"):
        F.to_pil_image(np.zeros((2, 2, 3), np.int32))


# ---- geometry --------------------------------------------------------------------------------
@pytest.mark.parametrize("interp,pil_code", [
    (T.InterpolationMode.NEAREST, Image.NEAREST), (T.InterpolationMode.BILINEAR, Image.BILINEAR),
    (T.InterpolationMode.BICUBIC, Image.BICUBIC), (T.InterpolationMode.LANCZOS, Image.LANCZOS),
    (T.InterpolationMode.BOX, Image.BOX), (T.InterpolationMode.HAMMING, Image.HAMMING)])
@pytest.mark.parametrize("size,expect_hw", [((5, 4), (5, 4)), (3, (3, 3)), ([14], (14, 18)),
                                            ((20, 3), (20, 3))])
def test_resize_pil_matches_pil(interp, pil_code, size, expect_hw):
    img = pil()  # 9 wide, 7 high: the short edge is the height
    out = T.Resize(size, interpolation=interp)(img)
    ref = img.resize((expect_hw[1], expect_hw[0]), pil_code)
    assert out.size == ref.size
    np.testing.assert_array_equal(np.asarray(out), np.asarray(ref))


def test_resize_output_size_rules():
    img = pil(np.zeros((30, 20, 3), np.uint8))  # h=30, w=20
    assert F.resize(img, 10).size == (10, 15)
    assert F.resize(img, 10, max_size=12).size == (8, 12)
    assert F.resize(img, [30, 20]) is img  # unchanged size: the same object back
    assert T.Resize(2, interpolation=0).interpolation is T.InterpolationMode.NEAREST
    with pytest.raises(ValueError, match="max_size = 10 must be strictly greater"):
        F.resize(img, 10, max_size=10)
    with pytest.raises(ValueError, match="max_size should only be passed"):
        F.resize(img, [10, 10], max_size=20)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(TypeError, match="InterpolationMode"):
        F.resize(img, 3, interpolation="bilinear")
    with pytest.warns(UserWarning, match="Anti-alias"):
        F.resize(img, 5, antialias=False)


def test_center_crop_pil():
    img = pil()
    out = T.CenterCrop((3, 4))(img)
    top, left = int(round((7 - 3) / 2)), int(round((9 - 4) / 2))
    np.testing.assert_array_equal(np.asarray(out), RGB[top:top + 3, left:left + 4])
    big = np.asarray(T.CenterCrop(11)(img))  # larger: zero padding, then the centre
    ref = np.zeros((11, 11, 3), np.uint8)
    ref[2:9, 1:10] = RGB
    np.testing.assert_array_equal(big, ref)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("padding,widths", [(2, ((2, 2), (2, 2))), ([1, 3], ((3, 3), (1, 1))),
                                            ((1, 2, 3, 4), ((2, 4), (1, 3)))])
def test_pad_pil_matches_numpy(mode, padding, widths):
    out = np.asarray(T.Pad(padding, fill=7, padding_mode=mode)(pil()))
    kw = {"constant_values": 7} if mode == "constant" else {}
    np.testing.assert_array_equal(out, np.pad(RGB, widths + ((0, 0),), mode, **kw))
    g = np.asarray(F.pad(pil(GRAY), padding, 5, mode))
    kw = {"constant_values": 5} if mode == "constant" else {}
    np.testing.assert_array_equal(g, np.pad(GRAY, widths, mode, **kw))


def test_pad_fill_and_errors():
    out = np.asarray(F.pad(pil(), 1, fill=(1, 2, 3)))
    assert out[0, 0].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="does not match the number of channels"):
        F.pad(pil(), 1, fill=(1, 2))
    with pytest.raises(ValueError, match="Padding mode should be"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="1, 2, or 4 element tuple, not a 3"):
        T.Pad((1, 2, 3))
    with pytest.raises(TypeError, match="inappropriate padding"):
        T.Pad("1")
    cropped = np.asarray(F.pad(pil(), [-1, -2, 0, 1], padding_mode="edge"))
    np.testing.assert_array_equal(cropped, np.pad(RGB[2:, 1:], ((0, 1), (0, 0), (0, 0)), "edge"))


def test_flips_and_grayscale_pil():
    np.testing.assert_array_equal(np.asarray(F.hflip(pil())), RGB[:, ::-1])
    np.testing.assert_array_equal(np.asarray(F.vflip(pil())), RGB[::-1])
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(p=1.0)(pil())), RGB[:, ::-1])
    np.testing.assert_array_equal(np.asarray(T.RandomVerticalFlip(p=1.0)(pil())), RGB[::-1])
    assert T.RandomHorizontalFlip(p=0.0)(pil()).tobytes() == pil().tobytes()
    g1 = T.Grayscale()(pil())
    assert g1.mode == "L"
    np.testing.assert_array_equal(np.asarray(g1), np.asarray(pil().convert("L")))
    g3 = T.Grayscale(3)(pil())
    assert g3.mode == "RGB" and (np.asarray(g3) == np.asarray(g1)[..., None]).all()
    with pytest.raises(ValueError, match="either 1 or 3"):
        F.to_grayscale(pil(), 2)


def test_rotate_and_affine_pil_match_pil():
    img = pil()
    np.testing.assert_array_equal(np.asarray(F.rotate(img, 30.0, fill=9)),
                                  np.asarray(img.rotate(30.0, Image.NEAREST, False, None,
                                                        fillcolor=(9, 9, 9))))
    np.testing.assert_array_equal(
        np.asarray(F.rotate(img, 90, T.InterpolationMode.BILINEAR, expand=True)),
        np.asarray(img.rotate(90, Image.BILINEAR, True)))
    m = inverse_affine_matrix([4.5, 3.5], 20.0, [1, -2], 1.2, [5.0, 0.0])
    ref = img.transform(img.size, Image.AFFINE, m, Image.NEAREST, fillcolor=(0, 0, 0))
    out = F.affine(img, 20.0, [1, -2], 1.2, 5.0)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(ref))
    # a quarter turn of a square image is an exact rot90
    sq = pil(RGB[:7, :7])
    np.testing.assert_array_equal(np.asarray(F.rotate(sq, 90)), np.rot90(RGB[:7, :7]))


def test_color_adjustments_pil_match_imageenhance():
    img = pil()
    for fn, enh in ((F.adjust_brightness, ImageEnhance.Brightness),
                    (F.adjust_contrast, ImageEnhance.Contrast),
                    (F.adjust_saturation, ImageEnhance.Color)):
        np.testing.assert_array_equal(np.asarray(fn(img, 1.7)), np.asarray(enh(img).enhance(1.7)))
    assert F.adjust_hue(img, 0.0).tobytes() == img.convert("HSV").convert("RGB").tobytes()
    h = np.asarray(F.adjust_hue(img, 0.25).convert("HSV"))[..., 0].astype(int)
    h0 = np.asarray(img.convert("HSV"))[..., 0].astype(int)
    d = (h - h0 - 63) % 256  # hue turned by 0.25 * 255, up to RGB<->HSV rounding
    assert np.mean(np.minimum(d, 256 - d) <= 3) > 0.9
    assert F.adjust_hue(pil(GRAY), 0.3).tobytes() == pil(GRAY).tobytes()
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]"):
        F.adjust_hue(img, 0.7)
    with pytest.raises(TypeError, match="img should be PIL Image"):
        F.adjust_brightness([1], 1.0)
