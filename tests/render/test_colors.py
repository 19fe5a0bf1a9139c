import numpy as np
import pytest
from PIL import Image
import io

from segwidgets.render import composite, encode_png, map_to_rgba, mask_to_rgba, rgb_to_rgba


def test_map_to_rgba_uses_colormap_ends_and_opacity():
    values = np.array([[0.0, 1.0, np.nan]], np.float32)
    rgba = map_to_rgba(values, "gray", opacity=0.5)
    assert rgba.dtype == np.uint8 and rgba.shape == (1, 3, 4)
    assert tuple(rgba[0, 0, :3]) == (0, 0, 0) and tuple(rgba[0, 1, :3]) == (255, 255, 255)
    assert rgba[0, 0, 3] == 128 and rgba[0, 2, 3] == 0
    # maps outside [0, 1] are stretched to their own range unless vmin/vmax are given
    assert tuple(map_to_rgba(np.array([[-4.0, 4.0]]), "gray")[0, :, 0]) == (0, 255)
    assert tuple(map_to_rgba(np.array([[-4.0, 4.0]]), "gray", vmin=-8, vmax=8)[0, :, 0]) == (64, 191)
    with pytest.raises(ValueError):
        map_to_rgba(np.zeros((2, 2, 2)))


def test_mask_png_round_trip_is_lossless():
    mask = np.eye(5, dtype=bool)
    rgba = mask_to_rgba(mask, (10, 20, 30), 0.4)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(rgba))))
    np.testing.assert_array_equal(decoded, rgba)
    assert decoded[0, 0, 3] == 102 and decoded[0, 1, 3] == 0


def test_composite_blends_alpha():
    image = np.zeros((1, 2, 3), np.uint8)
    over = np.array([[[255, 255, 255, 255], [255, 255, 255, 0]]], np.uint8)
    np.testing.assert_array_equal(composite(image, over)[0, :, 0], [255, 0])
    assert rgb_to_rgba(image).shape == (1, 2, 4)


def test_mask_outline_marks_the_edge_only():
    from segwidgets.render import MASK_COLOR, mask_outline_rgba

    mask = np.zeros((12, 12), bool)
    mask[3:9, 3:9] = True
    rgba = mask_outline_rgba(mask, width=1)
    assert tuple(rgba[3, 5, :3]) == MASK_COLOR and rgba[3, 5, 3] == 255   # the mask's own edge pixel
    assert rgba[5, 5, 3] == 0                                              # the inside stays clear
    assert tuple(rgba[2, 5]) == (255, 255, 255, 255)                       # a white line just outside
    assert rgba[0, 0, 3] == 0
    thick = mask_outline_rgba(mask, width=2)
    assert (thick[..., 3] > 0).sum() > (rgba[..., 3] > 0).sum()


def test_value_range_follows_map_to_rgba():
    from segwidgets.render import value_range

    assert value_range(np.array([[0.2, 0.7]])) == (0.0, 1.0)
    assert value_range(np.array([[-3.0, 5.0, np.nan]])) == (-3.0, 5.0)
    assert value_range(np.array([[0.2, 0.7]]), vmin=0.1) == (0.1, 1.0)
