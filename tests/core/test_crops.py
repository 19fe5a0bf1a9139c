"""CropWindow: one transform for points, boxes, masks and maps, checked on known answers."""
import numpy as np
import pytest

from segwidgets.core.crops import CropWindow, fit_size, square_box


@pytest.mark.parametrize("box, size", [
    ((2.0, 1.0, 8.0, 5.0), (4, 6)),          # whole pixels, scale 1
    ((-3.5, 2.25, 17.0, 9.75), (37, 91)),    # past the image, odd sizes, x and y scales differ
    ((0.3, 0.7, 5.9, 4.1), (101, 7)),        # fractional box, strong up- and down-scaling
])
def test_points_and_boxes_round_trip(box, size):
    window = CropWindow(box, size, (11, 13))
    points = np.array([[0.0, 0.0], [3.25, 7.5], [12.9, 10.9], [-2.0, 4.0]])
    np.testing.assert_allclose(window.to_frame_points(window.to_local_points(points)), points, atol=1e-12)
    np.testing.assert_allclose(window.to_local_box(box), (0, 0, size[1], size[0]), atol=1e-12)
    inner = (1.5, 2.5, 6.0, 8.0)
    np.testing.assert_allclose(window.to_frame_box(window.to_local_box(inner)), inner, atol=1e-12)


def test_point_mapping_known_answer():
    window = CropWindow((10.0, 20.0, 30.0, 60.0), (80, 40), (100, 100))  # 2 local px per image px
    np.testing.assert_allclose(window.to_local_points([(10, 20), (20.5, 40.5)]), [[0, 0], [21, 41]])
    assert window.scale == (2.0, 2.0)


def test_crop_of_whole_pixels_is_exact_and_outside_reads_zero():
    image = np.arange(60, dtype=np.float32).reshape(6, 10)
    window = CropWindow((2, 1, 8, 5), (4, 6), (6, 10))
    np.testing.assert_allclose(window.to_local_map(image), image[1:5, 2:8], atol=1e-5)
    np.testing.assert_array_equal(window.to_local_map(image, order=0), image[1:5, 2:8])
    ones = np.ones((4, 4), np.float32)
    half_outside = CropWindow((-4, 0, 4, 4), (4, 8), (4, 4))
    crop = half_outside.to_local_map(ones, order=0)
    assert crop[:, :4].sum() == 0 and crop[:, 4:].min() == 1


@pytest.mark.parametrize("box, size", [((5.0, 3.0, 25.0, 23.0), (40, 40)), ((4.3, 2.9, 31.7, 21.1), (57, 83))])
def test_maps_round_trip_on_a_linear_ramp(box, size):
    """Bilinear resampling is exact on a linear function, both ways, away from the crop edge."""
    yy, xx = np.mgrid[:30, :40].astype(np.float32)
    image = np.stack([xx / 40 + yy / 30, 1 - xx / 40], axis=-1)  # (30, 40, 2)
    window = CropWindow(box, size, (30, 40))
    local = window.to_local_map(image)
    assert local.shape == size + (2,) and local.dtype == np.float32
    back = window.to_frame_map(local)
    x0, y0, x1, y1 = window.region
    assert back.shape == (y1 - y0, x1 - x0, 2)
    inner = (slice(2, -2), slice(2, -2))
    np.testing.assert_allclose(back[inner], image[y0:y1, x0:x1][inner], atol=1e-4)
    full = window.paste(back)
    assert full.shape == image.shape and not full[:y0].any() and not full[:, x1:].any()


def test_masks_round_trip_at_odd_sizes():
    mask = np.zeros((23, 31), bool)
    mask[5:17, 7:26] = True
    window = CropWindow((1.5, 0.5, 29.5, 21.5), (61, 83), mask.shape)  # about 3x, odd sizes
    local = window.to_local_mask(mask)
    assert local.dtype == bool and local.shape == (61, 83)
    back = window.to_frame_mask(local)
    x0, y0, x1, y1 = window.region
    np.testing.assert_array_equal(back, mask[y0:y1, x0:x1])


def test_nearest_keeps_dtype_and_matches_the_pixel_under_each_centre():
    labels = np.arange(12, dtype=np.int32).reshape(3, 4)
    window = CropWindow.whole((3, 4), (6, 8))  # 2x up: each label twice in each direction
    out = window.to_local_map(labels, order=0)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, np.repeat(np.repeat(labels, 2, 0), 2, 1))
    down = CropWindow.whole((6, 8), (3, 4)).to_local_map(np.arange(48).reshape(6, 8), order=0)
    np.testing.assert_array_equal(down, np.arange(48).reshape(6, 8)[1::2, 1::2])  # the pixel under each centre


def test_antialiased_display_of_a_checkerboard_is_grey():
    board = (np.indices((48, 48)).sum(0) % 2).astype(np.float32)
    window = CropWindow.whole((48, 48), max_side=16)  # 3x down: plain bilinear samples land on single pixels
    assert window.size == (16, 16)
    np.testing.assert_allclose(window.to_local_map(board, antialias=True), 0.5, atol=0.02)
    assert np.ptp(window.to_local_map(board)) > 0.9  # plain bilinear aliases


def test_constructors_grow_and_touch():
    assert CropWindow.whole((300, 600), max_side=1024).size == (300, 600)  # never enlarged
    assert CropWindow.whole((300, 600), max_side=200).size == (100, 200)
    assert fit_size((0, 0, 50, 100), 224) == (224, 112)
    window = CropWindow.square((40, 40, 60, 80), (100, 100), 64, scale=1.5)
    assert window.box == square_box((40, 40, 60, 80), 1.5) and window.size == (64, 64)
    assert window.box == (20.0, 30.0, 80.0, 90.0)
    grown = window.grown(("left", "bottom"), 0.25)  # 15 px each way; the bottom stops at the border
    assert grown.box == (5.0, 30.0, 80.0, 100.0) and max(grown.size) == 64
    hot = np.zeros((64, 64), bool)
    hot[30, 0] = hot[63, 30] = True
    assert window.touched_sides(hot, 2) == ("left", "bottom")
    edge = CropWindow((0, 0, 50, 50), (10, 10), (50, 50))  # every side on the border: none can grow
    assert edge.touched_sides(np.ones((10, 10), bool), 2) == ()


def test_bad_windows_and_arrays_raise():
    with pytest.raises(ValueError, match="x1 > x0"):
        CropWindow((5, 0, 5, 10), (4, 4), (10, 10))
    with pytest.raises(ValueError, match=">= 1"):
        CropWindow((0, 0, 5, 5), (0, 4), (10, 10))
    window = CropWindow((0, 0, 5, 5), (4, 4), (10, 10))
    with pytest.raises(ValueError, match="shape"):
        window.to_local_map(np.zeros((9, 10)))
    with pytest.raises(ValueError, match="region"):
        window.paste(np.zeros((3, 3)))
