"""Matte pictures and trimap colours: known answers on tiny arrays."""
import numpy as np
import pytest

from segwidgets.render import (
    TRIMAP_COLORS, alpha_to_rgb, aspect_box, backdrop_for, checkerboard, parse_color, region_picture, split_picture,
    to_rgb8, trimap_to_rgba,
)


def test_trimap_colours_are_distinct_and_opacity_applies():
    trimap = np.array([[0, 128, 255]], np.uint8)
    rgba = trimap_to_rgba(trimap, opacity=0.4)
    assert rgba.shape == (1, 3, 4) and rgba.dtype == np.uint8
    assert [tuple(rgba[0, i, :3]) for i in range(3)] == [TRIMAP_COLORS[0], TRIMAP_COLORS[128], TRIMAP_COLORS[255]]
    assert len({TRIMAP_COLORS[v] for v in (0, 128, 255)}) == 3
    assert (rgba[..., 3] == 102).all()
    custom = trimap_to_rgba(trimap, colors={255: (1, 2, 3)})
    assert tuple(custom[0, 2]) == (1, 2, 3, 255) and custom[0, 0, 3] == 0  # values without a colour: transparent
    with pytest.raises(ValueError):
        trimap_to_rgba(np.zeros((2, 2, 2), np.uint8))


def test_alpha_and_colours_to_uint8():
    alpha = np.array([[0.0, 0.5, 1.0]], np.float32)
    grey = alpha_to_rgb(alpha)
    assert grey.shape == (1, 3, 3) and grey[0, :, 0].tolist() == [0, 128, 255] and (grey[..., 0] == grey[..., 2]).all()
    colors = np.array([[[0.0, 0.5, 1.2]]], np.float32)
    assert to_rgb8(colors)[0, 0].tolist() == [0, 128, 255]
    already = np.zeros((1, 1, 3), np.uint8)
    assert to_rgb8(already) is already


def test_colours_and_backdrops():
    assert parse_color("#ff8000") == (255, 128, 0) and parse_color("white") == (255, 255, 255)
    assert parse_color((10, 20.4, 30)) == (10, 20, 30)
    for bad in ("nonsense", (1, 2), (0, 0, 300), "#12"):
        with pytest.raises(ValueError):
            parse_color(bad)
    np.testing.assert_array_equal(backdrop_for("checkerboard", (4, 6), tile=2), checkerboard((4, 6), 2))
    blue = backdrop_for((0, 0, 255), (2, 3))
    assert blue.shape == (2, 3, 3) and (blue == [0, 0, 255]).all()
    assert (backdrop_for("#00ff00", (2, 2)) == [0, 255, 0]).all()
    small = np.zeros((2, 3, 3), np.uint8)
    small[:, :, 0] = 200
    big = backdrop_for(small, (4, 6))  # an image is resized to the matte
    assert big.shape == (4, 6, 3) and (big[..., 0] == 200).all()
    same = np.full((4, 6, 3), 7, np.uint8)
    np.testing.assert_array_equal(backdrop_for(same, (4, 6)), same)


def test_aspect_box_keeps_the_image_aspect_and_stays_inside():
    # a 100 x 200 (h x w) image: boxes become twice as wide as high
    assert aspect_box((10, 10, 30, 30), (100, 200)) == (0.0, 10.0, 40.0, 30.0)  # widened, then moved inside
    assert aspect_box((90, 40, 110, 50), (100, 200)) == (90.0, 40.0, 110.0, 50.0)  # already 2:1
    assert aspect_box((50, 0, 150, 100), (100, 200)) == (0.0, 0.0, 200.0, 100.0)  # too big: the whole image
    x0, y0, x1, y1 = aspect_box((100, 60, 110, 100), (100, 200))  # tall: widened about its centre
    assert (x1 - x0, y1 - y0) == (80.0, 40.0) and (x0 + x1) / 2 == 105.0 and y1 == 100.0


def test_region_picture_zooms_with_visible_pixels_and_shrinks_smoothly():
    picture = np.zeros((4, 4, 3), np.uint8)
    picture[1, 2] = 255
    zoomed = region_picture(picture, (2, 1, 4, 3), (4, 4))  # 2x2 pixels -> 4x4: nearest blocks
    assert (zoomed[:2, :2] == 255).all() and (zoomed[2:] == 0).all() and (zoomed[:, 2:] == 0).all()
    shrunk = region_picture(np.full((8, 8, 3), 100, np.uint8), (0, 0, 8, 8), (2, 2))
    assert shrunk.shape == (2, 2, 3) and shrunk.dtype == np.uint8 and (shrunk == 100).all()


def test_split_picture_with_a_line():
    a, b = np.zeros((2, 10, 3), np.uint8), np.full((2, 10, 3), 50, np.uint8)
    out = split_picture(a, b, 0.3)
    assert (out[:, :3] == 0).all() and (out[:, 3] == 255).all() and (out[:, 4:] == 50).all()
    np.testing.assert_array_equal(split_picture(a, b, 0.0), b)
    np.testing.assert_array_equal(split_picture(a, b, 1.0), a)
    assert (split_picture(a, b, 0.5, line=None)[:, 5] == 50).all()
    with pytest.raises(ValueError):
        split_picture(a, b[:, :5], 0.5)
