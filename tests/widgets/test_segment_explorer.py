"""The segment explorer, driven from Python by feeding the DOM events the browser would send.

The engine's semantic network has random weights (``untrained_semantic_engine``): the classes
mean nothing, but the flow from a click to the segment list, the outlines, the class filter
and the labelling switch is real.
"""
import io

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("ipycanvas")

from segwidgets.pipelines.semantic import CLASS_NAMES, SemanticResult, segment_semantic  # noqa: E402
from segwidgets.render import label_overlay, map_to_rgba, segment_outlines  # noqa: E402
from segwidgets.widgets import SegmentExplorer  # noqa: E402
from segwidgets.widgets.segment_explorer import probability_view  # noqa: E402

from .test_canvas import event  # noqa: E402

H, W = 120, 90
PNG = b"\x89PNG\r\n\x1a\n"


def picture(h=H, w=W, seed=0):
    """A figure-like picture: a head, a shirt and trousers on a smooth background, with mild noise."""
    rng = np.random.default_rng(seed)
    image = np.full((h, w, 3), (200, 205, 210), np.int64)
    yy, xx = np.mgrid[:h, :w]
    image[(yy - 0.2 * h) ** 2 + (xx - 0.5 * w) ** 2 < (0.12 * w) ** 2] = (225, 170, 140)
    image[(yy > 0.3 * h) & (yy < 0.6 * h) & (abs(xx - 0.5 * w) < 0.25 * w)] = (40, 120, 60)
    image[(yy >= 0.6 * h) & (yy < 0.95 * h) & (abs(xx - 0.5 * w) < 0.2 * w)] = (40, 50, 130)
    return np.clip(image + rng.integers(-6, 7, image.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def explorer(untrained_semantic_engine):
    return SegmentExplorer(picture(), engine=untrained_semantic_engine)


def feed(view, kind, x, y, button=0, **keys):
    """A DOM event at canvas pixel (x, y) of a view shown at its display size."""
    h, w = view.canvas.display_size
    view.canvas._handle_dom_event(event(kind, x, y, button=button, width=w, height=h, **keys))


def alpha(view, layer):
    return view.canvas._overlay_rgba[layer][..., 3]


def test_it_segments_at_once_and_shows_the_label_map_with_a_legend(explorer, untrained_semantic_engine, sent):
    result = explorer.result
    assert isinstance(result, SemanticResult) and result.labelling == "vote" and explorer.labelling == "vote"
    expected = segment_semantic(picture(), engine=untrained_semantic_engine)
    assert np.array_equal(explorer.labels, expected.labels) and explorer.labels.shape == (H, W)
    assert explorer.class_names == CLASS_NAMES and explorer.visible_classes == CLASS_NAMES
    assert explorer.canvas.display_size == (H, W)
    overlay = explorer.canvas._overlay_rgba["labels"]
    assert np.array_equal(overlay, label_overlay(result.labels, range(8), opacity=1.0))
    assert explorer.canvas._opacity["labels"] == explorer.opacity.value  # the slider scales the class layer
    shares = np.bincount(result.labels.ravel(), minlength=8) / (H * W)
    np.testing.assert_allclose(explorer.shares, shares)
    for name, share, label in zip(CLASS_NAMES, shares, explorer.legend_labels):
        assert name in label.value and f"{100 * share:.1f}%" in label.value
    assert all(box.value for box in explorer.class_boxes)
    assert "segments in 5 layer(s)" in explorer.status.value and "b91c1c" not in explorer.status.value
    # segmenting again shows "working..." first, and sends pictures as PNG binary buffers
    seen = []
    explorer.status.observe(lambda change: seen.append(change["new"]), names="value")
    sent.clear()
    explorer.segment()
    assert "working" in seen[0] and "segments in" in seen[-1]
    buffers = [b for _, bs in sent for b in bs]
    assert buffers and all(b.startswith(PNG) for b in buffers)


def test_a_click_lists_and_outlines_the_segments_covering_the_pixel(explorer, sent):
    changes = []
    explorer.observe(lambda change: changes.append(change["name"]), names=["selected_point", "selected_segments"])
    result = explorer.result
    feed(explorer, "mousedown", 45.5, 30.5)
    ids = result.segments_at(45.5, 30.5)
    assert explorer.selected_point == (45.5, 30.5) and explorer.selected_segments == ids
    assert len(ids) == len(result.segments.sources) and set(changes) == {"selected_point", "selected_segments"}
    masks = [result.segment_mask(k) for k in ids]
    outlines = explorer.canvas._overlay_rgba["outlines"]
    assert np.array_equal(outlines, segment_outlines(masks, highlight=0))
    assert (outlines[..., 3] > 0).any() and not (outlines[..., 3] > 0)[~np.any(masks, axis=0)].any()
    assert "annotations" in explorer.canvas._marks  # the marker at the pixel
    rows = explorer.segment_rows
    layer_of, areas = result.segments.layer_of(), result.segments.areas()
    assert [r["id"] for r in rows] == ids
    for row in rows:
        assert row["layer"] == result.segments.sources[layer_of[row["id"]]] and row["area"] == areas[row["id"]]
        assert row["classes"] == result.top_classes(row["id"], 3) and len(row["classes"]) == 3
        assert f"#{row['id']}" in explorer.segments_view.value and row["layer"] in explorer.segments_view.value
    assert "pixel (46, 30)" in explorer.status.value or "pixel (45, 30)" in explorer.status.value
    assert f"best #{ids[0]}" in explorer.status.value
    pngs = [b for _, bs in sent for b in bs if b.startswith(PNG)]
    assert pngs and Image.open(io.BytesIO(pngs[-1])).size == (W, H)  # the outline layer, display size
    # a right click selects too; "clear" forgets the selection
    feed(explorer, "mousedown", 10, 100, button=2)
    assert explorer.selected_segments == result.segments_at(10, 100)
    explorer.clear_button.click()
    assert explorer.selected_point is None and explorer.selected_segments == [] and explorer.segment_rows == []
    assert "outlines" not in explorer.canvas._overlay_rgba and "annotations" not in explorer.canvas._marks


def test_the_class_filter_changes_the_overlay(explorer):
    labels = explorer.labels
    shown = int(np.argmax(explorer.shares))
    name = CLASS_NAMES[shown]
    before = explorer.canvas._overlay_rgba["labels"].copy()
    explorer.class_boxes[shown].value = False  # untick one class in the legend
    assert name not in explorer.visible_classes and len(explorer.visible_classes) == 7
    after = explorer.canvas._overlay_rgba["labels"]
    assert not np.array_equal(before, after) and (after[labels == shown, 3] == 0).all()
    assert np.array_equal(after, label_overlay(labels, [i for i in range(8) if i != shown], opacity=1.0))
    assert "line-through" in explorer.legend_labels[shown].value
    explorer.visible_classes = (name, 1)  # names or indices, kept in class order
    assert explorer.visible_classes == tuple(n for n in CLASS_NAMES if n in {name, "skin"})
    assert explorer.class_boxes[shown].value and explorer.class_boxes[1].value and not explorer.class_boxes[2].value
    explorer.none_button.click()
    assert explorer.visible_classes == () and (alpha(explorer, "labels") == 0).all()
    explorer.show_classes(["skin", "tail"])  # unknown: said in the status line, nothing changes
    assert "unknown class 'tail'" in explorer.status.value.replace("&#x27;", "'") and explorer.visible_classes == ()
    explorer.all_button.click()
    assert explorer.visible_classes == CLASS_NAMES and np.array_equal(explorer.canvas._overlay_rgba["labels"], before)


def test_a_click_outside_or_a_failing_call_keeps_the_state(explorer):
    explorer.select(20, 20)
    point, ids, result = explorer.selected_point, explorer.selected_segments, explorer.result
    outlines = explorer.canvas._overlay_rgba["outlines"].copy()
    feed(explorer, "mousedown", W + 5, 10)  # off the image
    assert "outside" in explorer.status.value and "b91c1c" in explorer.status.value
    explorer.select(W + 40, 3)
    assert "outside the 90x120 image" in explorer.status.value
    explorer.set_segments([np.ones((10, 10), bool)])  # masks of the wrong size
    assert "segmentation failed" in explorer.status.value and "(120, 90)" in explorer.status.value
    explorer.set_labelling("majority")
    assert "labelling must be one of" in explorer.status.value
    assert explorer.selected_point == point and explorer.selected_segments == ids and explorer.result is result
    assert np.array_equal(explorer.canvas._overlay_rgba["outlines"], outlines)


def test_the_labelling_switch_reuses_the_features_and_keeps_the_selection(explorer, untrained_semantic_engine):
    engine = untrained_semantic_engine
    explorer.select(45, 60)
    vote = explorer.result
    misses = engine.cache.misses
    explorer.labelling_buttons.value = "best"
    assert explorer.result.labelling == "best" and explorer.labelling == "best"
    assert engine.cache.misses == misses  # the image was not encoded again
    best = segment_semantic(picture(), engine=engine, labelling="best")
    assert np.array_equal(explorer.labels, best.labels)
    np.testing.assert_allclose(explorer.result.probabilities, best.probabilities)
    assert explorer.selected_segments == explorer.result.segments_at(45, 60)
    assert np.array_equal(explorer.canvas._overlay_rgba["labels"], label_overlay(best.labels, range(8), opacity=1.0))
    explorer.set_labelling("vote")
    assert explorer.result is vote and explorer.labelling_buttons.value == "vote"  # computed once


def test_the_probability_view_and_colour_bar(explorer):
    assert explorer.colorbar_row.layout.display == "none"
    explorer.show_menu.value = probability_view("hair")
    expected = map_to_rgba(explorer.result.probabilities[2], "viridis", 1.0, 0.0, 1.0)
    assert np.array_equal(explorer.canvas._overlay_rgba["labels"], expected)
    assert explorer.colorbar_row.layout.display == "flex"
    explorer.show_menu.value = "classes"
    assert np.array_equal(explorer.canvas._overlay_rgba["labels"], label_overlay(explorer.labels, opacity=1.0))


def test_user_segments(untrained_semantic_engine):
    top = np.zeros((H, W), bool)
    top[:50, 10:80] = True
    bottom = np.zeros((H, W), bool)
    bottom[40:110, 20:70] = True  # overlaps the top box: a second layer
    explorer = SegmentExplorer(picture(), engine=untrained_semantic_engine, segments=[top, bottom],
                               labelling="best", visible_classes=["skin", "hair"])
    assert explorer.result.segments.count == 2 and explorer.result.segments.sources == ("user", "user")
    assert explorer.visible_classes == ("skin", "hair") and explorer.labelling_buttons.value == "best"
    explorer.select(30, 45)
    assert explorer.selected_segments == explorer.result.segments_at(30, 45)
    assert set(explorer.selected_segments) == {0, 1}
    explorer.select(5, 5)
    assert explorer.selected_segments == [] and "no segment covers it" in explorer.status.value
    explorer.set_segments(None)  # back to the automatic candidates, selection kept at the same pixel
    assert explorer.result.segments.count > 20 and explorer.selected_segments == explorer.result.segments_at(5, 5)


def test_large_images_are_shown_at_the_display_size(untrained_semantic_engine, sent):
    image = picture(240, 180, seed=3)
    explorer = SegmentExplorer(image, engine=untrained_semantic_engine, max_display_size=60)
    assert explorer.canvas.display_size == (60, 45)
    explorer.select(90, 60)
    for layer in ("labels", "outlines"):
        assert explorer.canvas._overlay_rgba[layer].shape == (60, 45, 4)
    sizes = {Image.open(io.BytesIO(b)).size for _, bs in sent for b in bs if b.startswith(PNG)}
    assert sizes == {(45, 60)}  # nothing at the image's own size travels


def test_save_and_load_the_selected_pixel(explorer, untrained_semantic_engine, tmp_path):
    explorer.select(40, 70)
    path = explorer.save(tmp_path / "selection")
    other = SegmentExplorer(picture(), engine=untrained_semantic_engine)
    other.load(path)
    assert other.selected_point == (40.0, 70.0) and other.selected_segments == explorer.selected_segments
    assert "outlines" in other.canvas._overlay_rgba


def test_an_image_it_cannot_segment_shows_why(untrained_semantic_engine):
    explorer = SegmentExplorer(np.zeros((10, 12, 3), np.uint8), engine=untrained_semantic_engine)
    assert explorer.result is None and "at least 16 px" in explorer.status.value
    explorer.select(3, 3)
    assert "nothing to select" in explorer.status.value and explorer.selected_point is None
    with pytest.raises(ValueError, match="labelling"):
        SegmentExplorer(picture(), engine=untrained_semantic_engine, labelling="majority")
