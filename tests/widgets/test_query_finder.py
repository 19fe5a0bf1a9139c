"""The query finder, driven from Python by feeding the DOM events the browser would send.

The engine's query network has random weights (``untrained_query_engine``): the heat maps
mean nothing, but their shapes, the flow from a box drag to overlays, boxes and zoom are real.
"""
import json

import numpy as np
import pytest

pytest.importorskip("ipycanvas")
from ipycanvas import canvas as ipycanvas_canvas  # noqa: E402

from segwidgets.pipelines.query import SCALES, QueryResult, find_query  # noqa: E402
from segwidgets.render import (  # noqa: E402
    BOX_COLORS, QUERY_BOX_COLOR, box_at, heat_to_rgba, zoom_picture, zoom_region,
)
from segwidgets.widgets import QueryFinder  # noqa: E402

from .test_canvas import event  # noqa: E402

H, W = 120, 160
BOX = (40, 30, 80, 70)


def picture(seed):
    """Smooth random colours (blobs rather than pixel noise) with a textured square pasted in."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (H // 8, W // 8, 3)).astype(np.uint8)
    image = np.kron(coarse, np.ones((8, 8, 1), np.uint8))
    patch = np.random.default_rng(99).integers(0, 256, (40, 40, 3)).astype(np.uint8)
    y, x = (30, 40) if seed == 0 else (10 + 7 * seed, 90 - 9 * seed)
    image[y:y + 40, x:x + 40] = patch
    return image


@pytest.fixture
def sent(monkeypatch):
    """The draw commands sent to the browser (one list per message)."""
    messages = []
    monkeypatch.setattr(ipycanvas_canvas._CANVAS_MANAGER, "_send_custom",
                        lambda command, buffers=(): messages.append(command))
    return messages


@pytest.fixture
def finder(untrained_query_engine):
    return QueryFinder(picture(0), [picture(1), picture(2)], engine=untrained_query_engine)


def feed(canvas, kind, x, y, button=0, **keys):
    """A DOM event at canvas pixel (x, y) of an ``ImageCanvas`` (the 120x160 images show 1:1)."""
    h, w = canvas.display_size
    canvas._handle_dom_event(event(kind, x, y, button=button, width=w, height=h, **keys))


def drag(canvas, start, end):
    feed(canvas, "mousedown", *start)
    feed(canvas, "mousemove", (start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    feed(canvas, "mouseup", *end)


def texts(messages):
    """Every string drawn by fill_text in ``messages``."""
    found = []

    def walk(item):
        if isinstance(item, list):
            if len(item) >= 2 and item[0] == 28 and isinstance(item[1], list) and item[1] and isinstance(item[1][0], str):
                found.append(item[1][0])
            for sub in item:
                walk(sub)

    walk(messages)
    return found


def test_a_box_drag_searches_every_target_and_draws_heat_and_boxes(finder, untrained_query_engine, sent):
    assert finder.results == [] and finder.query is None and finder.query_box is None
    assert finder.canvas.display_size == (H, W) and all(v.display_size == (H, W) for v in finder.target_views)
    seen = []
    finder.status.observe(lambda change: seen.append(change["new"]), names="value")
    changes = []
    finder.observe(lambda change: changes.append(change["name"]), names=["results", "query_box"])
    drag(finder.canvas, (40, 30), (80, 70))
    assert "working" in seen[0]  # shown before the search ran
    assert any("target 2/2" in s for s in seen)
    assert finder.query_box == BOX and {"results", "query_box"} <= set(changes)
    assert np.array_equal(finder.query, picture(0)[30:70, 40:80])
    expected = find_query(picture(0), [picture(1), picture(2)], query_box=BOX, engine=untrained_query_engine)
    assert len(finder.results) == 2 and all(isinstance(r, QueryResult) for r in finder.results)
    for i, (got, want) in enumerate(zip(finder.results, expected)):
        assert np.array_equal(finder.heatmaps[i], want.heatmap) and finder.heatmaps[i].shape == (H, W)
        assert np.array_equal(finder.boxes[i], want.boxes) and 1 <= len(finder.boxes[i]) <= 5
        assert finder.scores[i].shape == (len(finder.boxes[i]),)
        overlay = finder.target_views[i]._overlay_rgba["heat"]
        assert np.array_equal(overlay, heat_to_rgba(want.heatmap, finder.threshold.value))
        assert "annotations" in finder.target_views[i]._marks
        assert finder.labels[i][0] == f"#1 {want.scores[0]:.2f}"
    drawn = texts(sent)
    assert "query" in drawn  # the query box on the source
    for labels in finder.labels:
        assert set(labels) <= set(drawn)  # rank and score of every box
    assert "annotations" in finder.canvas._marks
    assert "search:" in finder.status.value and "b91c1c" not in finder.status.value
    assert bytes(finder.query_view.value).startswith(b"\x89PNG")


def test_threshold_hides_low_heat_and_opacity_scales_the_heat_layers(finder):
    finder.set_query_box(BOX)
    heat = finder.heatmaps[0]
    t = float((heat.min() + heat.max()) / 2)
    bar = finder.colorbar_view.value
    finder.threshold.value = t
    alpha = finder.target_views[0]._overlay_rgba["heat"][..., 3]
    assert ((alpha == 0) == (heat < t)).all()
    assert 0 < (alpha == 0).mean() < 1  # part hidden, part shown
    assert finder.colorbar_view.value != bar  # the colour bar shows the hidden range
    finder.threshold.value = 0.0
    assert (finder.target_views[0]._overlay_rgba["heat"][..., 3] > 0).all()
    finder.opacity.value = 0.3
    assert all(v._opacity["heat"] == 0.3 for v in finder.target_views)
    assert QUERY_BOX_COLOR not in BOX_COLORS and len(set(BOX_COLORS)) == len(BOX_COLORS)


def test_the_scale_menu_shows_one_scales_map(finder):
    finder.set_query_box(BOX)
    assert list(finder.scale.options) == ["fused", *[f"{s:g}x" for s in SCALES]]
    fused = finder.target_views[1]._overlay_rgba["heat"].copy()
    finder.threshold.value = 0.0
    finder.scale.value = "2x"
    k = list(SCALES).index(2.0)
    expected = finder.results[1].scale_heatmap(k)
    assert np.array_equal(finder.heat(1), expected) and expected.shape == (H, W)
    assert np.array_equal(finder.target_views[1]._overlay_rgba["heat"], heat_to_rgba(expected, 0.0))
    assert not np.array_equal(finder.target_views[1]._overlay_rgba["heat"], fused)
    finder.scale.value = "fused"
    assert np.array_equal(finder.heat(1), finder.heatmaps[1])


def test_a_click_inside_a_box_zooms_to_it(finder, sent):
    finder.set_query_box(BOX)
    view = finder.target_views[1]
    boxes = finder.boxes[1]
    x0, y0, x1, y1 = boxes[0]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    rank = box_at(boxes, cx, cy)
    feed(view, "mousedown", cx, cy)
    assert finder.zoom == (1, rank) and finder.zoom_box == tuple(int(v) for v in boxes[rank])
    size = finder.zoom_view.display_size
    region = zoom_region(finder.zoom_box, (H, W), size)
    expected = zoom_picture(finder.targets[1], finder.heatmaps[1], region, size, finder.threshold.value,
                            opacity=finder.opacity.value)
    assert finder.zoomed.shape == size + (3,) and np.array_equal(finder.zoomed, expected)
    assert np.array_equal(finder.zoom_view._overlay_rgba["picture"][..., :3], expected)
    assert finder.zoom_area.layout.display == "flex" and finder.labels[1][rank] in finder.zoom_label.value
    # the zoom follows the heat menu and the threshold
    finder.threshold.value = 0.9
    assert not np.array_equal(finder.zoomed, expected)
    # a click outside every box changes nothing
    ys, xs = np.mgrid[:H, :W]
    outside = [(x, y) for x, y in zip(xs.ravel(), ys.ravel()) if box_at(boxes, x + 0.5, y + 0.5) is None]
    if outside:
        feed(view, "mousedown", outside[0][0] + 0.5, outside[0][1] + 0.5)
        assert finder.zoom == (1, rank) and "inside a box" in finder.status.value
    finder.reset_zoom_button.click()
    assert finder.zoom is None and finder.zoom_box is None and finder.zoomed is None
    assert finder.zoom_area.layout.display == "none"
    with pytest.raises(IndexError):
        finder.zoom_to(1, 99)


def test_an_invalid_box_shows_the_error_and_keeps_the_results(finder):
    finder.set_query_box(BOX)
    results, box = finder.results, finder.query_box
    drag(finder.canvas, (10, 10), (13.2, 13.2))  # a drag (3.2 px), but a 3x3 px query is too small
    assert "4x4" in finder.status.value and "b91c1c" in finder.status.value
    assert finder.results == results and all(a is b for a, b in zip(finder.results, results))
    assert finder.query_box == box and np.array_equal(finder.query, picture(0)[30:70, 40:80])
    assert np.array_equal(finder.target_views[0]._overlay_rgba["heat"], heat_to_rgba(results[0].heatmap, 0.25))
    finder.set_query_box((W + 5, 0, W + 40, 20))  # off the image
    assert "outside" in finder.status.value and finder.query_box == box
    assert len(finder.history) == 2  # no state for the failures


def test_undo_and_redo_restore_earlier_queries_without_searching_again(finder):
    assert finder.undo_button.disabled and finder.redo_button.disabled
    finder.set_query_box(BOX)
    first = finder.results
    finder.set_query_box((10, 20, 60, 60))
    second = finder.results
    assert finder.query_box == (10, 20, 60, 60) and not finder.undo_button.disabled
    finder.undo_button.click()
    assert finder.query_box == BOX and all(a is b for a, b in zip(finder.results, first))
    assert np.array_equal(finder.target_views[0]._overlay_rgba["heat"], heat_to_rgba(first[0].heatmap, 0.25))
    finder.redo_button.click()
    assert finder.query_box == (10, 20, 60, 60) and all(a is b for a, b in zip(finder.results, second))
    finder.undo()
    finder.undo()
    assert finder.results == [] and finder.query_box is None
    assert "annotations" not in finder.target_views[0]._marks and "heat" not in finder.target_views[0]._overlay_rgba
    finder.undo()
    assert "nothing to undo" in finder.status.value


def test_top_k_and_the_search_button(finder):
    finder.search_button.click()  # nothing to search yet
    assert "no query" in finder.status.value and finder.results == []
    finder.set_query_box(BOX)
    finder.top_k.value = 2  # searches again
    assert all(len(b) <= 2 for b in finder.boxes) and len(finder.history) == 3
    finder.undo()
    assert finder.top_k.value == 5 and len(finder.history) == 2  # the slider follows the state, no new search


def test_save_and_load_the_query_box(finder, untrained_query_engine, tmp_path):
    finder.set_query_box(BOX)
    path = finder.save(tmp_path / "query")
    assert json.loads(path.read_text())["boxes"] == [list(map(float, BOX))]
    again = QueryFinder(picture(0), [picture(1), picture(2)], engine=untrained_query_engine)
    again.load(path)
    assert again.query_box == BOX and "loaded" in again.status.value
    assert all(np.array_equal(a, b) for a, b in zip(again.heatmaps, finder.heatmaps))
    assert "annotations" in again.target_views[0]._marks
    stranger = QueryFinder(picture(3), picture(1), engine=untrained_query_engine)
    with pytest.raises(ValueError, match="another image"):
        stranger.load(path)
    assert stranger.results == [] and "not loaded" in stranger.status.value


def test_a_separate_query_image_is_searched_at_once(untrained_query_engine):
    query = picture(0)[30:70, 40:80]
    finder = QueryFinder(None, picture(1), query=query, engine=untrained_query_engine, top_k=3)
    assert np.array_equal(finder.image, query) and np.array_equal(finder.query, query)
    assert finder.query_box is None and len(finder.results) == 1 and len(finder.boxes[0]) <= 3
    expected = find_query(query, picture(1), engine=untrained_query_engine, top_k=3)
    assert np.array_equal(finder.heatmaps[0], expected.heatmap)
    finder.set_query_box((0, 0, 20, 20))  # a box on the query image searches that part
    assert np.array_equal(finder.query, query[:20, :20]) and finder.query_box == (0, 0, 20, 20)
    big = QueryFinder(None, picture(1)[:30, :30], query=query, engine=untrained_query_engine)
    assert "larger than" in big.status.value and big.results == []
    with pytest.raises(ValueError, match="source"):
        QueryFinder(None, picture(1))
    with pytest.raises(ValueError, match="not both"):
        QueryFinder(picture(0), picture(1), query=query, query_box=BOX)
    with pytest.raises(ValueError, match="empty"):
        QueryFinder(picture(0), [])
