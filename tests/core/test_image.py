import numpy as np
import pytest
from PIL import Image

from segwidgets.core.image import (
    as_box, as_map, as_mask, as_point, as_rgb_image, box_from_mask, image_hash,
)


def test_rgb_passes_through_and_conversions_are_as_documented(tmp_path):
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    np.testing.assert_array_equal(as_rgb_image(rgb), rgb)
    gray = np.array([[0, 128], [255, 7]], np.uint8)
    np.testing.assert_array_equal(as_rgb_image(gray), np.repeat(gray[..., None], 3, 2))
    rgba = np.concatenate([rgb, np.full((2, 3, 1), 9, np.uint8)], 2)
    np.testing.assert_array_equal(as_rgb_image(rgba), rgb)
    np.testing.assert_array_equal(as_rgb_image(Image.fromarray(rgb)), rgb)
    path = tmp_path / "x.png"
    Image.fromarray(rgba).save(path)
    np.testing.assert_array_equal(as_rgb_image(path), rgb)
    np.testing.assert_array_equal(as_rgb_image(str(path)), rgb)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((4, 4, 3), np.float32), "dtype uint8"),
        (np.zeros((4, 4, 2), np.uint8), "shape HxWx3"),
        (np.zeros((0, 4, 3), np.uint8), "non-empty"),
        ([[1, 2], [3, 4]], "numpy array"),
        (np.zeros((4, 4, 3), bool), "dtype uint8"),
    ],
)
def test_bad_images_say_what_was_expected(bad, message):
    with pytest.raises(ValueError, match=message):
        as_rgb_image(bad)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="nope.png"):
        as_rgb_image("nope.png")


def test_masks_maps_and_boxes():
    assert as_mask(np.array([[0, 255]], np.uint8), (1, 2)).tolist() == [[False, True]]
    with pytest.raises(ValueError, match="threshold"):
        as_mask(np.zeros((1, 2), np.float32), (1, 2))
    with pytest.raises(ValueError, match="shape"):
        as_map(np.zeros((3, 3), np.float32), (2, 2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        as_map(np.full((2, 2), np.nan, np.float32), (2, 2))
    assert as_box((-5, -5, 10.4, 3), (8, 8)) == (0, 0, 8, 3)
    assert box_from_mask(np.pad(np.ones((4, 10), bool), ((3, 3), (5, 5))), padding=0.1) == (4, 2, 16, 8)


def test_image_hash_is_content_based():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    assert image_hash(a) == image_hash(b)
    b[0, 0, 0] = 1
    assert image_hash(a) != image_hash(b)
    assert image_hash(a) != image_hash(np.zeros((4, 4, 3), np.uint8).reshape(8, 2, 3))


def test_points():
    assert as_point((3, 4.5), (10, 20)) == (3.0, 4.5)
    for bad in [(20, 1), (-0.1, 1), (1, 10), (float("nan"), 1)]:
        with pytest.raises(ValueError, match="outside"):
            as_point(bad, (10, 20))
    with pytest.raises(ValueError, match="two numbers"):
        as_point((1, 2, 3), (10, 20))


def test_a_file_that_is_not_an_image_is_a_value_error_naming_it(tmp_path):
    path = tmp_path / "notes.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match="notes.json.*as an image"):
        as_rgb_image(path)


def test_16_bit_grayscale_png_is_scaled_not_clipped(tmp_path):
    import warnings

    from PIL import Image

    values = np.linspace(0, 65535, 32 * 32).reshape(32, 32).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    with pytest.warns(UserWarning, match="16-bit"):
        rgb = as_rgb_image(path)
    assert rgb.shape == (32, 32, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[..., 0], np.round(values / 257).astype(np.uint8))
    assert (rgb == 255).mean() < 0.01  # Pillow's own conversion made 99.6% of these pixels 255
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_rgb_image(Image.fromarray(np.zeros((4, 4, 3), np.uint8)))  # 8-bit images: no warning


@pytest.mark.parametrize("dtype, advice", [(np.uint16, "// 257"), (np.float32, r"\* 255"), (np.int32, "scale it")])
def test_wrong_dtype_advice_fits_the_dtype(dtype, advice):
    with pytest.raises(ValueError, match=advice):
        as_rgb_image(np.zeros((4, 4, 3), dtype))
