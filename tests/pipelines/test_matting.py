import numpy as np
import pytest

from segwidgets.pipelines.matting import (MattingResult, check_trimap, estimate_alpha, plan_windows,
                                          stretch_alpha, trimap_from_mask)


def _scene(h=48, w=64):
    image = np.zeros((h, w, 3), np.uint8)
    image[..., 2] = 200  # blue background
    mask = np.zeros((h, w), bool)
    mask[12:36, 16:48] = True
    image[mask] = (220, 30, 30)  # red object
    return image, mask


def test_trimap_from_mask_marks_a_band_around_the_edge():
    _, mask = _scene()
    trimap = trimap_from_mask(mask, band_px=3)
    assert trimap.dtype == np.uint8 and set(np.unique(trimap)) == {0, 128, 255}
    assert trimap[24, 32] == 255 and trimap[2, 2] == 0
    assert trimap[12, 30] == 128 and trimap[11, 30] == 128  # on the edge and just outside it
    assert trimap[24, 16 + 3] == 255 and trimap[24, 16 + 2] == 128  # x = 16 is the left edge column
    assert trimap[24, 16 - 3] == 128 and trimap[24, 16 - 4] == 0  # 3 px outside (x = 13..15)
    assert (trimap[mask] != 0).all() and (trimap[~mask] != 255).all()


def test_trimap_from_mask_errors():
    _, mask = _scene()
    with pytest.raises(ValueError, match="band_px"):
        trimap_from_mask(mask, 0)
    with pytest.raises(ValueError, match="bool"):
        trimap_from_mask(mask.astype(np.float32))


@pytest.mark.parametrize("change, message", [
    (lambda t: t[:-1], "shape"),
    (lambda t: np.where(t == 128, 100, t).astype(np.uint8), "may hold only"),
    (lambda t: np.where(t == 128, 0, t).astype(np.uint8), "no unknown"),
    (lambda t: np.where(t == 255, 128, t).astype(np.uint8), "no known foreground"),
    (lambda t: np.where(t == 0, 128, t).astype(np.uint8), "no known background"),
    (lambda t: t > 0, "dtype bool"),
])
def test_bad_trimaps_say_what_is_wrong(untrained_matting_engine, change, message):
    image, mask = _scene()
    trimap = trimap_from_mask(mask, 3)
    with pytest.raises(ValueError, match=message):
        estimate_alpha(image, change(trimap), engine=untrained_matting_engine)


def test_float_trimaps_are_accepted():
    _, mask = _scene()
    trimap = trimap_from_mask(mask, 3)
    floats = np.where(trimap == 128, 0.5, trimap / 255).astype(np.float32)
    assert (check_trimap(floats, trimap.shape) == trimap).all()


def test_estimate_alpha_shapes_and_known_pixels(untrained_matting_engine):
    image, mask = _scene()
    trimap = trimap_from_mask(mask, 3)
    result = estimate_alpha(image, trimap, engine=untrained_matting_engine)
    assert isinstance(result, MattingResult)
    assert result.alpha.shape == mask.shape and result.alpha.dtype == np.float32
    assert result.foreground.shape == image.shape and result.background.shape == image.shape
    assert 0 <= result.alpha.min() and result.alpha.max() <= 1
    assert (result.alpha[trimap == 255] == 1).all() and (result.alpha[trimap == 0] == 0).all()
    known_bg = trimap == 0
    np.testing.assert_allclose(result.background[known_bg], image[known_bg] / 255, atol=1e-6)
    np.testing.assert_allclose(result.foreground[trimap == 255], image[trimap == 255] / 255, atol=1e-6)
    assert set(result.timings) == {"background", "foreground", "alpha", "refine", "total"}
    green = result.composite((0, 255, 0))
    assert green.dtype == np.uint8 and (green[known_bg] == (0, 255, 0)).all()
    assert (green[trimap == 255] == image[trimap == 255]).all()
    backdrop = np.full((10, 20, 3), 7, np.uint8)  # another size: resized to the image
    assert (result.composite(backdrop)[known_bg] == 7).all()
    rgba = result.cutout()
    assert rgba.shape == mask.shape + (4,) and (rgba[known_bg, 3] == 0).all()
    with pytest.raises(ValueError, match="0..255"):
        result.composite((0, 300, 0))


def test_refinement_changes_only_unknown_pixels_and_can_be_turned_off(untrained_matting_engine):
    image, mask = _scene()
    trimap = trimap_from_mask(mask, 3)
    refined = estimate_alpha(image, trimap, engine=untrained_matting_engine)
    plain = estimate_alpha(image, trimap, engine=untrained_matting_engine, refine=False)
    assert (plain.alpha == plain.network_alpha).all() and plain.timings["refine"] == 0
    np.testing.assert_array_equal(refined.network_alpha, plain.network_alpha)
    known = trimap != 128
    np.testing.assert_array_equal(refined.alpha[known], plain.alpha[known])
    assert refined.network_alpha.dtype == np.float32 and 0 <= refined.alpha.min() and refined.alpha.max() <= 1
    # The scene is two flat colours: the colour-line fit makes the band (nearly) binary, as the image is.
    band = trimap == 128
    assert np.abs(refined.alpha[band] - mask[band]).mean() < np.abs(plain.alpha[band] - mask[band]).mean()


def test_stretch_alpha_known_values():
    alpha = np.array([[-0.1, 0.0, 0.05, 0.1], [0.5, 0.9, 0.95, 1.2]], np.float64)
    out = stretch_alpha(alpha, 0.05)
    expected = np.array([[0, 0, 0, 0.05 / 0.9], [0.5, 0.85 / 0.9, 1, 1]])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-6)
    np.testing.assert_allclose(stretch_alpha(alpha, 0), np.clip(alpha, 0, 1), atol=1e-7)
    with pytest.raises(ValueError, match="margin"):
        stretch_alpha(alpha, 0.5)


def test_windows_cover_every_unknown_pixel_once():
    unknown = np.zeros((300, 400), bool)
    unknown[50:60, 20:380] = True
    unknown[200:290, 100:105] = True
    plans = plan_windows(unknown, margin=16, tile=64, max_pixels=10_000)
    assert len(plans) > 1
    covered = np.zeros(unknown.shape, int)
    for window, (x0, y0, x1, y1) in plans:
        covered[y0:y1, x0:x1] += 1
        wx0, wy0, wx1, wy1 = window.region
        assert wx0 <= x0 and wy0 <= y0 and wx1 >= x1 and wy1 >= y1  # the core lies inside its window
    assert (covered[unknown] == 1).all() and covered.max() == 1
    area = sum(w.size[0] * w.size[1] for w, _ in plans)
    assert area < unknown.size  # cost follows the band, not the frame
    single = plan_windows(unknown, margin=16)
    assert len(single) == 1 and single[0][0].region == (4, 34, 396, 300)


def test_tiled_run_matches_its_plan(untrained_matting_engine):
    image, mask = _scene(96, 128)
    trimap = trimap_from_mask(mask, 3)
    calls = []
    result = estimate_alpha(image, trimap, engine=untrained_matting_engine, tile=32, max_window_pixels=500,
                            callback=lambda done, total: calls.append((done, total)))
    assert len(result.windows) > 1 and calls[-1] == (len(result.windows), len(result.windows))
    assert (result.alpha[trimap == 255] == 1).all()


def _soft_disc(h=120, w=160, ramp=8.0, seed=0):
    """A red disc with an ``ramp`` px linear soft edge over blue, slight noise: (image, alpha, F, B)."""
    yy, xx = np.mgrid[:h, :w]
    alpha = np.clip(0.5 - (np.hypot(xx - w / 2, yy - h / 2) - 35) / ramp, 0, 1).astype(np.float32)
    fg, bg = np.array([200, 40, 40]) / 255, np.array([40, 70, 190]) / 255
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    image = image * 255 + np.random.default_rng(seed).normal(0, 2, image.shape)
    return np.clip(np.round(image), 0, 255).astype(np.uint8), alpha, fg, bg


def test_shipped_networks_recover_a_soft_edge():
    """The trained weights on a known composite: alpha, and the colours behind and in front of the edge."""
    image, alpha, fg, bg = _soft_disc()
    trimap = trimap_from_mask(alpha > 0.5, band_px=10)
    unknown = trimap == 128
    result = estimate_alpha(image, trimap)
    error = np.abs(result.alpha - alpha)[unknown].mean()
    guess = np.abs(0.5 - alpha)[unknown].mean()  # a matte that knows nothing
    assert error < 0.08 and error < guess / 3
    assert np.abs(result.background[unknown] - bg).mean() < 0.25
    assert np.abs(result.foreground[unknown & (alpha > 0.1)] - fg).mean() < 0.25
    tiled = estimate_alpha(image, trimap, tile=48, max_window_pixels=1000)
    assert len(tiled.windows) > 1 and np.abs(tiled.alpha - result.alpha).mean() < 0.01
