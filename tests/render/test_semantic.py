"""Semantic-segmentation pictures: known answers on tiny arrays."""
import numpy as np
import pytest

from segwidgets.pipelines.semantic import CLASS_NAMES
from segwidgets.render import (
    CLASS_COLORS, HIGHLIGHT_COLOR, OUTLINE_COLOR, class_colors, class_palette, class_shares, css_color, label_overlay,
    legend_entries, legend_html, segment_outlines, segment_table_html,
)


def test_the_palette_has_one_distinct_colour_per_class_and_outlines_stand_apart():
    assert CLASS_COLORS.shape == (len(CLASS_NAMES), 3) and CLASS_COLORS.dtype == np.uint8
    colors = CLASS_COLORS.astype(int)
    distances = np.linalg.norm(colors[:, None] - colors[None], axis=2)
    assert distances[~np.eye(len(colors), dtype=bool)].min() > 60  # clearly different, pairwise
    assert tuple(HIGHLIGHT_COLOR) != tuple(OUTLINE_COLOR)
    assert not {tuple(HIGHLIGHT_COLOR), tuple(OUTLINE_COLOR)} & {tuple(c) for c in CLASS_COLORS.tolist()}
    assert np.array_equal(class_colors(3), CLASS_COLORS[:3])
    more = class_colors(11)
    assert more.shape == (11, 3) and np.array_equal(more[:8], CLASS_COLORS)
    assert css_color((255, 0, 16)) == "#ff0010"


def test_label_overlay_colours_classes_and_hides_background_and_filtered_classes():
    labels = np.array([[0, 1, 2], [3, -1, 1]], np.int32)
    rgba = label_overlay(labels, opacity=0.5)
    assert rgba.shape == (2, 3, 4) and rgba.dtype == np.uint8
    assert rgba[..., 3].tolist() == [[0, 128, 128], [128, 0, 128]]  # background and "no class" transparent
    assert tuple(rgba[0, 1, :3]) == tuple(CLASS_COLORS[1]) and tuple(rgba[0, 2, :3]) == tuple(CLASS_COLORS[2])
    only = label_overlay(labels, visible=[1], opacity=1.0)
    assert only[..., 3].tolist() == [[0, 255, 0], [0, 0, 255]]
    assert (label_overlay(labels, visible=[])[..., 3] == 0).all()
    drawn = label_overlay(labels, background_opacity=1.0, opacity=1.0)
    assert tuple(drawn[0, 0]) == (*CLASS_COLORS[0], 255)
    palette = class_palette(4, visible=[0, 3], opacity=1.0, background=None)
    assert palette[:, 3].tolist() == [255, 0, 0, 255]
    with pytest.raises(ValueError, match="out of range"):
        label_overlay(labels, visible=[9])
    with pytest.raises(ValueError, match="n_classes"):
        label_overlay(labels, n_classes=2)
    with pytest.raises(ValueError, match="integer"):
        label_overlay(labels.astype(np.float32))


def test_class_shares_count_pixels():
    labels = np.array([[0, 0, 1, 2]])
    assert class_shares(labels, 4).tolist() == [0.5, 0.25, 0.25, 0.0]


def test_outlines_of_masks_are_inside_them_and_the_highlight_is_thicker_and_on_top():
    big = np.zeros((10, 12), bool)
    big[1:9, 1:11] = True
    small = np.zeros((10, 12), bool)
    small[3:7, 4:8] = True
    rgba = segment_outlines(big, highlight=None)  # one mask, plain colour, one pixel wide
    ring = big & ~np.pad(big[1:-1, 1:-1] & big[:-2, 1:-1] & big[2:, 1:-1] & big[1:-1, :-2] & big[1:-1, 2:], 1)
    assert np.array_equal(rgba[..., 3] > 0, ring)
    assert (rgba[ring, :3] == OUTLINE_COLOR).all() and (rgba[ring, 3] == 255).all()
    both = segment_outlines([small, big], highlight=0, highlight_thickness=2)
    white = (both[..., :3] == HIGHLIGHT_COLOR).all(axis=2) & (both[..., 3] > 0)
    magenta = (both[..., :3] == OUTLINE_COLOR).all(axis=2) & (both[..., 3] > 0)
    assert np.array_equal(white, small & ~small_interior(small, 2))  # two pixels wide, inside the mask
    assert np.array_equal(magenta, ring)  # the big one's ring, untouched by the small one inside it
    stacked = segment_outlines(np.stack([small, big]), highlight=1, opacity=0.5)
    assert (stacked[ring, :3] == HIGHLIGHT_COLOR).all() and set(np.unique(stacked[..., 3])) == {0, 128}
    edge = segment_outlines(np.ones((4, 5), bool), highlight=None)[..., 3] > 0  # closed along the image's edge
    assert edge.sum() == 4 * 5 - 2 * 3 and not edge[1:-1, 1:-1].any()
    with pytest.raises(ValueError, match="bool mask"):
        segment_outlines([small, np.zeros((3, 3), bool)])
    with pytest.raises(ValueError, match="highlight"):
        segment_outlines([small], highlight=2)


def small_interior(mask, depth):
    """Pixels of ``mask`` farther than ``depth - 1`` steps (4-connected) from its outside."""
    from scipy.ndimage import binary_erosion

    return binary_erosion(mask, iterations=depth)


def test_outlines_of_a_label_image_separate_every_segment():
    layer = np.array([[0, 0, 1, 1],
                      [0, 0, 1, 1],
                      [2, 2, -1, -1]])
    alpha = segment_outlines(layer)[..., 3] > 0
    assert alpha.tolist() == [[False, True, True, False],
                              [True, True, True, True],
                              [True, True, False, False]]


def test_legend_lists_every_class_with_its_colour_share_and_visibility():
    shares = np.array([0.5, 0.25, 0, 0, 0, 0, 0, 0.25])
    entries = legend_entries(CLASS_NAMES, shares, visible=[1, 7])
    assert len(entries) == len(CLASS_NAMES)
    assert "skin" in entries[1] and css_color(CLASS_COLORS[1]) in entries[1] and "25.0%" in entries[1]
    assert "line-through" in entries[2] and "line-through" not in entries[1]  # hidden classes struck through
    assert "repeating-linear-gradient" in entries[0] and "transparent" in entries[0]  # background: not drawn
    block = legend_html(CLASS_NAMES)
    assert all(name in block for name in CLASS_NAMES) and "%" not in block
    assert "&lt;b&gt;" in legend_html(["<b>"], background=None)  # names are escaped
    with pytest.raises(ValueError, match="shares"):
        legend_entries(CLASS_NAMES, shares[:3])


def test_segment_table_lists_rows_best_first():
    rows = [{"id": 12, "layer": "felzenszwalb-300", "area": 340, "share": 0.034,
             "classes": [("skin", 0.81), ("hair", 0.1), ("dress", 0.05)]},
            {"id": 3, "layer": "slic-150", "area": 60, "share": 0.006, "classes": [("hair", 0.5)]}]
    table = segment_table_html(rows, CLASS_NAMES)
    assert table.count("<tr") == 3 and table.index("#12") < table.index("#3")
    assert "felzenszwalb-300" in table and "340 px (3.4%)" in table and "skin 0.81" in table
    assert css_color(CLASS_COLORS[1]) in table and "font-weight:bold" in table.split("#3")[0]
