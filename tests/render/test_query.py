"""Query-search pictures: known answers on tiny arrays."""
import numpy as np
import pytest

from segwidgets.render import (
    box_at, box_color, box_labels, colorbar, composite, heat_to_rgba, region_picture, zoom_picture, zoom_region,
)


def test_heat_below_the_threshold_is_transparent():
    heat = np.array([[0.0, 0.2, 0.5, 1.0]], np.float32)
    rgba = heat_to_rgba(heat, threshold=0.5, colormap="gray", opacity=0.5)
    assert rgba.shape == (1, 4, 4) and rgba.dtype == np.uint8
    assert rgba[0, :, 3].tolist() == [0, 0, 128, 128]
    assert tuple(rgba[0, 3, :3]) == (255, 255, 255) and rgba[0, 2, 0] == 128  # range fixed to [0, 1]
    assert (heat_to_rgba(heat, 0.0)[..., 3] == 255).all()
    with pytest.raises(ValueError):
        heat_to_rgba(heat, 1.5)


def test_colorbar_runs_left_to_right_and_shows_the_hidden_range():
    bar = colorbar("gray", width=100, height=8)
    assert bar.shape == (8, 100, 3) and bar[0, 0, 0] == 0 and bar[0, -1, 0] == 255
    assert (np.diff(bar[0, :, 0].astype(int)) >= 0).all()
    hidden = colorbar("gray", width=100, height=8, threshold=0.5)
    assert np.array_equal(hidden[:, 60:], bar[:, 60:])
    assert len(np.unique(hidden[:, :40, 0])) == 2  # a two-tone checkerboard below the threshold


def test_labels_colours_and_hit_testing():
    assert box_labels([0.834, 0.4]) == ["#1 0.83", "#2 0.40"]
    assert box_color(0) != box_color(1) and box_color(0) == box_color(5)
    boxes = np.array([[0, 0, 50, 50], [10, 10, 20, 20], [60, 0, 80, 20]])
    assert box_at(boxes, 15, 15) == 1  # the smaller of two holding the point
    assert box_at(boxes, 5, 5) == 0 and box_at(boxes, 70, 10) == 2
    assert box_at(boxes, 50, 5) is None and box_at(boxes, 90, 90) is None  # half-open edges
    assert box_at(np.zeros((0, 4)), 1, 1) is None


def test_zoom_region_has_the_panel_aspect_and_stays_inside():
    region = zoom_region((10, 10, 20, 20), (100, 200), (30, 40), margin=0.5)
    x0, y0, x1, y1 = region
    assert (x1 - x0) / (y1 - y0) == pytest.approx(40 / 30) and y1 - y0 == pytest.approx(20)
    assert (x0 + x1) / 2 == pytest.approx(15) and (y0 + y1) / 2 == pytest.approx(15)
    corner = zoom_region((0, 0, 10, 10), (100, 200), (30, 40))
    assert corner[0] == 0 and corner[1] == 0  # moved inside the image
    huge = zoom_region((0, 0, 200, 100), (100, 200), (30, 40))
    assert huge[2] - huge[0] > 200 and (huge[0] + huge[2]) / 2 == pytest.approx(100)  # centred when larger


def test_zoom_picture_blends_the_heat_over_the_region_only():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 60, 3)).astype(np.uint8)
    heat = rng.random((40, 60)).astype(np.float32)
    region = (10.0, 8.0, 30.0, 23.0)
    out = zoom_picture(image, heat, region, (30, 40), threshold=0.3, opacity=0.6)
    whole = composite(image, heat_to_rgba(heat, 0.3, opacity=0.6))
    assert out.shape == (30, 40, 3) and np.array_equal(out, region_picture(whole, region, (30, 40)))
    plain = zoom_picture(image, None, region, (30, 40))
    assert np.array_equal(plain, region_picture(image, region, (30, 40)))
    with pytest.raises(ValueError):
        zoom_picture(image, heat[:10], region, (30, 40))
