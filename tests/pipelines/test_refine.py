"""The shared refinement step on synthetic images with known answers."""
import numpy as np
import pytest

from segwidgets.eval.metrics import iou
from segwidgets.graphcut import GraphCutSettings
from segwidgets.pipelines.refine import (
    MAX_CUT_PIXELS, Seeds, fill_object_holes, refine_with_graph_cut, uncertain_region, working_scale,
)

from ..conftest import noisy_disc, ring_image

SETTINGS = GraphCutSettings(pairwise="combined", prior_weight=0.5, gamma=10.0, max_iterations=5)


def shifted_disc_probability(disc, shift=3):
    """A network that is sure but 3 px off: P = 0.9 on a shifted disc, 0.1 elsewhere."""
    p = np.where(np.roll(disc, shift, axis=1), 0.9, 0.1).astype(np.float32)
    return p, np.zeros_like(p)


def test_color_pulls_a_shifted_network_edge_back_within_the_band():
    image, disc = noisy_disc(noise=6.0)
    p, b = shifted_disc_probability(disc)
    refined = refine_with_graph_cut(image, p, b, settings=SETTINGS, band_px=6)
    assert iou(p > 0.5, disc) < 0.9 < iou(refined.mask, disc)
    assert refined.trace is not None and refined.window == (0, 0, 100, 80)
    far = ~uncertain_region(p, 6)
    np.testing.assert_array_equal(refined.mask[far], (p > 0.5)[far])  # outside the band: the network's label


def test_seeds_are_hard_constraints_and_must_not_overlap():
    image, disc = noisy_disc(noise=6.0)
    p, b = shifted_disc_probability(disc, shift=0)
    cut = np.zeros_like(disc)
    cut[:, 45:55] = True  # the user says: not this strip
    refined = refine_with_graph_cut(image, p, b, Seeds(background=cut), SETTINGS, band_px=6)
    assert not refined.mask[cut].any() and refined.mask[40, 40]
    with pytest.raises(ValueError, match="overlap"):
        refine_with_graph_cut(image, p, b, Seeds(cut, cut), SETTINGS, band_px=6)


def test_without_a_network_answer_color_segments_what_the_seeds_allow():
    image, disc = noisy_disc(noise=6.0)
    p = np.zeros(disc.shape, np.float32)
    outside_box = np.ones_like(disc)
    outside_box[12:70, 22:80] = False  # a box around the disc
    refined = refine_with_graph_cut(image, p, p, Seeds(background=outside_box), SETTINGS)
    assert iou(refined.mask, disc) > 0.9
    assert refined.notes and "no object" in refined.notes[0]
    click = np.zeros_like(disc)
    click[38:43, 48:53] = True  # a clicked disc: a seed, not a region
    from_seeds = refine_with_graph_cut(image, p, p, Seeds(click, outside_box), SETTINGS, band_px=6, empty_start="seeds")
    np.testing.assert_array_equal(from_seeds.mask, click)  # nothing uncertain to grow into: the click alone
    with pytest.raises(ValueError, match="empty_start"):
        refine_with_graph_cut(image, p, p, settings=SETTINGS, empty_start="box")


def test_nothing_to_decide_returns_the_start_without_a_trace():
    image, disc = noisy_disc()
    p = np.where(disc, 0.9, 0.1).astype(np.float32)
    refined = refine_with_graph_cut(image, p, p, Seeds(disc, ~disc), SETTINGS, band_px=3)  # every pixel seeded
    assert refined.trace is None and refined.window is None
    np.testing.assert_array_equal(refined.mask, disc)


def test_window_confines_the_cut_to_what_may_change():
    image, disc = noisy_disc(h=160, w=200, radius=15)
    p, b = shifted_disc_probability(disc, shift=2)
    refined = refine_with_graph_cut(image, p, b, settings=SETTINGS, band_px=4, window_margin=0.05)
    x0, y0, x1, y1 = refined.window
    assert refined.trace.final_mask.shape == (y1 - y0, x1 - x0)
    assert 0 < x0 and x1 < 200 and 0 < y0 and y1 < 160  # a box around the disc's edge, not the image
    assert iou(refined.mask, disc) > iou(p > 0.5, disc)


def test_working_scale_is_the_smallest_whole_block_under_the_cap():
    assert working_scale((0, 0, 100, 80), None) == 1
    assert working_scale((0, 0, 100, 80), 8000) == 1
    assert working_scale((0, 0, 100, 80), 7999) == 2
    assert working_scale((0, 0, 4000, 3000), MAX_CUT_PIXELS) == 5  # 12 MP -> 800 x 600 blocks


def test_large_inputs_are_cut_at_a_working_resolution_close_to_the_full_one():
    """A disc 4x the usual size cut at 2x2 and 3x3 blocks: IoU with the full-resolution
    cut >= 0.98, seeds kept pixel-exact, the window in input pixels, the trace on blocks."""
    image, disc = noisy_disc(h=320, w=400, radius=88, noise=6.0)
    p, b = shifted_disc_probability(disc, shift=8)
    seeds = np.zeros_like(disc)
    seeds[150:153, 190:193] = True  # a click's disc, smaller than a block
    strip = np.zeros_like(disc)
    strip[:, 195:197] = True  # a 2-px background scribble through the object
    strip[150:153] = False
    full = refine_with_graph_cut(image, p, b, Seeds(seeds, strip), SETTINGS, band_px=20, max_pixels=None)
    assert full.scale == 1 and full.trace.final_mask.shape == (320, 400)
    for max_pixels, scale in ((40_000, 2), (15_000, 3)):
        small = refine_with_graph_cut(image, p, b, Seeds(seeds, strip), SETTINGS, band_px=20, max_pixels=max_pixels)
        assert small.scale == scale
        assert small.trace.final_mask.shape == (-(-320 // scale), -(-400 // scale))
        assert small.mask.shape == disc.shape and small.window == (0, 0, 400, 320)
        assert small.mask[seeds].all() and not small.mask[strip].any()  # full-resolution seeds re-imposed
        assert iou(small.mask, full.mask) >= 0.98
        assert iou(small.mask, disc) >= iou(p > 0.5, disc) + 0.05  # it still corrects the network


def test_fill_object_holes_fills_all_only_the_networks_or_none():
    square = np.zeros((9, 9), bool)
    square[1:8, 1:8] = True
    ring = square.copy()
    ring[3:6, 3:6] = False  # a 3 x 3 hole
    network = np.zeros_like(ring)
    network[3, 3:6] = True  # the network calls the hole's top row object
    np.testing.assert_array_equal(fill_object_holes(ring, network, "fill"), square)
    np.testing.assert_array_equal(fill_object_holes(ring, network, "network"), ring | network)
    np.testing.assert_array_equal(fill_object_holes(ring, network, "keep"), ring)


@pytest.mark.parametrize("holes, hole_is_object", [("fill", True), ("network", False), ("keep", False)])
def test_a_hole_the_network_sees_stays_open_unless_holes_are_filled(holes, hole_is_object):
    image, ring = ring_image()
    p = np.where(ring, 0.9, 0.1).astype(np.float32)
    refined = refine_with_graph_cut(image, p, np.zeros_like(p), settings=SETTINGS, band_px=4, holes=holes)
    inside = np.zeros_like(ring)
    inside[35:46, 45:56] = True  # well inside the ring's 11 px hole
    assert refined.trace is not None
    assert refined.mask[inside].all() if hole_is_object else not refined.mask[inside].any()
    assert iou(refined.mask, ring) > 0.97 or hole_is_object


def test_bad_hole_mode_is_refused():
    image, ring = ring_image()
    p = np.where(ring, 0.9, 0.1).astype(np.float32)
    with pytest.raises(ValueError, match="holes"):
        refine_with_graph_cut(image, p, np.zeros_like(p), holes="open")
