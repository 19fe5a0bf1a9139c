"""The trimap painter, driven from Python by feeding the DOM events the browser would send."""
import numpy as np
import pytest

pytest.importorskip("ipycanvas")

from segwidgets.core.engine import Engine  # noqa: E402
from segwidgets.core.strokes import Stroke  # noqa: E402
from segwidgets.core.trimap import ERASE  # noqa: E402
from segwidgets.pipelines.click import MODEL_NAME, ClickPredictor  # noqa: E402
from segwidgets.pipelines.matting import MattingResult, trimap_from_mask  # noqa: E402
from segwidgets.render import TRIMAP_COLORS  # noqa: E402
from segwidgets.widgets import ClickSegmenter, MatteViewer, TrimapPainter  # noqa: E402

from ..pipelines.oracle import BrightClickNet  # noqa: E402
from ..pipelines.test_boundary_aware import bright_disc  # noqa: E402
from .test_canvas import event  # noqa: E402

H, W = 48, 64


@pytest.fixture(scope="module")
def engine(untrained_matting_engine):
    return untrained_matting_engine


def picture(seed=0):
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3)).astype(np.uint8)


def box_mask(x0=16, y0=12, x1=48, y1=36):
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    return mask


@pytest.fixture
def painter(engine):
    return TrimapPainter(picture(), engine=engine, brush_radius=3)


def feed(view, kind, x, y, button=0, **keys):
    """A DOM event at canvas pixel (x, y) (the 48x64 image is shown 1:1)."""
    h, w = view.canvas.display_size
    view.canvas._handle_dom_event(event(kind, x, y, button=button, width=w, height=h, **keys))


def drag(view, points, button=0, **keys):
    feed(view, "mousedown", *points[0], button=button, **keys)
    for p in points[1:-1]:
        feed(view, "mousemove", *p)
    feed(view, "mouseup", *points[-1], button=button, **keys)


def test_strokes_paint_the_chosen_brush_where_the_pointer_went(painter):
    assert painter.canvas.display_size == (H, W)
    changes = []
    painter.observe(lambda change: changes.append(change["new"]), names="trimap")
    drag(painter, [(10.5, 20.5), (20.5, 20.5), (30.5, 20.5)])
    t = painter.trimap
    assert (t[20, 10:31] == 255).all() and (t[18:23, 20] == 255).all()
    assert t[20, 40] == 0 and t[30, 20] == 0 and t[20, 5] == 0  # only near the path
    assert len(changes) == 1 and changes[0] is t
    assert not t.flags.writeable
    painter.brush.value = 128
    painter.brush_size.value = 1.0  # a thinner brush
    drag(painter, [(40.5, 10.5), (40.5, 30.5)])
    assert (painter.trimap[10:31, 40] == 128).all() and painter.trimap[20, 42] == 0
    assert painter.trimap[20, 20] == 255  # the first stroke is still there
    drag(painter, [(15.5, 20.5), (25.5, 20.5)], button=2)  # right button erases: back to the start (background)
    assert (painter.trimap[20, 15:26] == 0).all() and painter.trimap[20, 10] == 255
    assert "unknown" in painter.status.value and "%" in painter.status.value


def test_the_overlay_shows_three_colours_with_opacity(painter):
    painter.from_mask(box_mask(), band_px=3)
    rgba = painter.canvas._overlay_rgba["trimap"]
    assert tuple(rgba[24, 32, :3]) == TRIMAP_COLORS[255]  # inside
    assert tuple(rgba[12, 32, :3]) == TRIMAP_COLORS[128]  # on the edge
    assert tuple(rgba[2, 2, :3]) == TRIMAP_COLORS[0]  # outside
    painter.opacity.value = 0.3
    assert painter.canvas._opacity["trimap"] == 0.3
    assert painter.stroke_color(255) != painter.stroke_color(0) != painter.stroke_color(ERASE)


def test_fill_tool_fills_the_region_under_a_click(painter):
    painter.from_mask(box_mask(), band_px=3)
    before = painter.trimap.copy()
    painter.tool.value = "fill"
    painter.brush.value = 128
    feed(painter, "mousedown", 32, 24)  # inside the foreground core
    core = before == 255
    assert (painter.trimap[core] == 128).all()
    assert np.array_equal(painter.trimap[~core], before[~core])
    painter.brush.value = 255
    feed(painter, "mousemove", 40, 2)
    feed(painter, "mouseup", 40, 2)
    assert np.array_equal(painter.trimap[~core], before[~core])  # moves and releases paint nothing
    painter.brush.value = 128
    feed(painter, "mousedown", 2, 2)  # the background becomes unknown
    assert (painter.trimap == 128).all()
    painter.tool.value = "brush"
    painter.brush.value = 255
    drag(painter, [(5.5, 5.5)])
    assert painter.trimap[5, 5] == 255  # strokes paint again


def test_undo_restores_the_previous_trimap_and_redo_reapplies(painter):
    assert painter.undo_button.disabled and painter.redo_button.disabled
    painter.paint(Stroke(((10.5, 10.5),), 2, 255))
    first = painter.trimap.copy()
    painter.fill(40, 40, 128)
    second = painter.trimap.copy()
    assert not np.array_equal(first, second)
    painter.undo_button.click()
    assert np.array_equal(painter.trimap, first) and not painter.redo_button.disabled
    painter.undo_button.click()
    assert (painter.trimap == 0).all() and painter.undo_button.disabled
    painter.redo_button.click()
    painter.redo_button.click()
    assert np.array_equal(painter.trimap, second) and painter.redo_button.disabled
    painter.undo()
    painter.undo()
    painter.undo()  # nothing left: an error, the trimap kept
    assert "nothing to undo" in painter.status.value and (painter.trimap == 0).all()
    painter.fill(40, 40, 255)
    painter.reset_button.click()
    assert (painter.trimap == 0).all() and painter.undo_button.disabled


def test_a_fill_outside_the_image_is_refused_and_the_trimap_kept(painter):
    painter.fill(10, 10, 255)
    before = painter.trimap.copy()
    painter.fill(W + 5, 10, 0)
    assert "outside" in painter.status.value and "b91c1c" in painter.status.value
    assert np.array_equal(painter.trimap, before)


def test_the_eraser_returns_to_the_starting_trimap(engine):
    start = trimap_from_mask(box_mask(), 3)
    as_float = np.where(start == 128, 0.5, start / 255)  # a float trimap (0 / 0.5 / 1) is accepted
    painter = TrimapPainter(picture(), as_float, engine=engine, brush_radius=2)
    assert np.array_equal(painter.trimap, start)
    painter.brush.value = 0
    drag(painter, [(32.5, 12.5), (32.5, 24.5)])  # across the unknown edge into the core
    assert painter.trimap[12, 32] == 0 and painter.trimap[20, 32] == 0
    painter.brush.value = ERASE
    drag(painter, [(32.5, 12.5), (32.5, 24.5)])
    assert np.array_equal(painter.trimap, start)  # unknown where it was unknown, foreground where foreground
    painter.fill(32, 24, 0)
    painter.tool.value = "fill"
    feed(painter, "mousedown", 32, 24, button=2)  # right click with the fill tool: the region back to the start
    assert painter.trimap[24, 32] == 255 and painter.trimap[2, 2] == 0
    with pytest.raises(ValueError, match="may hold only"):
        TrimapPainter(picture(), np.full((H, W), 7, np.uint8), engine=engine)


def test_from_mask_with_a_mask_and_the_band_slider(painter):
    mask = box_mask()
    painter.from_mask(mask, band_px=4)
    assert np.array_equal(painter.trimap, trimap_from_mask(mask, 4))
    assert painter.band.value == 4 and not painter.from_mask_button.disabled
    painter.band.value = 2
    painter.from_mask_button.click()  # the same mask again, with the slider's band
    assert np.array_equal(painter.trimap, trimap_from_mask(mask, 2))
    painter.undo()
    assert np.array_equal(painter.trimap, trimap_from_mask(mask, 4))
    for bad, why in ((np.zeros((H, W), bool), "empty"), (np.ones((H, W + 1), bool), "shape"),
                     (np.zeros((H, W), np.float32), "threshold")):
        painter.from_mask(bad)
        assert why in painter.status.value and "b91c1c" in painter.status.value
        assert np.array_equal(painter.trimap, trimap_from_mask(mask, 4))
    painter.from_mask(mask, band_px=0)
    assert "band_px" in painter.status.value and painter.band.value == 2  # slider kept


def test_from_mask_reads_a_segmenters_mask_at_each_press(painter):
    class Segmenter:  # what from_mask needs of a ClickSegmenter
        def __init__(self, image, mask):
            self.image, self.mask = image, mask

    seg = Segmenter(painter.image, box_mask())
    painter.from_mask(seg, band_px=3)
    assert np.array_equal(painter.trimap, trimap_from_mask(box_mask(), 3)) and painter.mask_source is seg
    seg.mask = box_mask(0, 0, 20, 20)  # the user corrected the segmentation
    painter.from_mask_button.click()
    assert np.array_equal(painter.trimap, trimap_from_mask(box_mask(0, 0, 20, 20), 3))
    stranger = Segmenter(picture(seed=5), box_mask())
    painter.from_mask(stranger)
    assert "another image" in painter.status.value and painter.mask_source is seg


def test_from_mask_with_a_click_segmenter(engine):
    image, disc = bright_disc(h=H, w=W, centre=(32, 24), radius=12)
    click_engine = Engine("cpu")
    click_engine.set_model(MODEL_NAME, BrightClickNet())
    seg = ClickSegmenter(image, predictor=ClickPredictor(click_engine, net_size=128))
    seg.add_click(32, 24)
    assert seg.mask[24, 32]
    painter = TrimapPainter(image, engine=engine)
    painter.from_mask(seg, band_px=2)
    assert np.array_equal(painter.trimap, trimap_from_mask(seg.mask, 2))
    assert painter.trimap[24, 32] == 255 and painter.trimap[2, 2] == 0 and (painter.trimap == 128).any()
    assert (painter.trimap[disc] > 0).all()  # the bright disc is foreground or unknown, never background


def test_save_load_and_refusing_another_images_annotations(painter, engine, tmp_path):
    painter.from_mask(box_mask(), band_px=3)
    painter.paint(Stroke(((5.5, 5.5),), 2, 128))
    path = painter.save(tmp_path / "matte")
    assert (tmp_path / "matte.trimap.png").exists()
    again = TrimapPainter(picture(), engine=engine)
    again.load(path)
    assert np.array_equal(again.trimap, painter.trimap) and "loaded" in again.status.value
    again.undo()  # undo goes back to the start, as after a fresh painter
    assert (again.trimap == 0).all()
    stranger = TrimapPainter(picture(seed=1), engine=engine)  # same size, other pixels
    stranger.fill(2, 2, 128)
    with pytest.raises(ValueError, match="another image"):
        stranger.load(path)
    assert (stranger.trimap == 128).all() and "not loaded" in stranger.status.value


def test_the_matte_button_shows_progress_a_result_and_a_viewer(painter):
    painter.from_mask(box_mask(), band_px=3)
    seen = []
    painter.status.observe(lambda change: seen.append(change["new"]), names="value")
    results = []
    painter.observe(lambda change: results.append(change["new"]), names="result")
    painter.matte_button.click()
    result = painter.result
    assert isinstance(result, MattingResult) and results == [result]
    assert result.alpha.shape == (H, W) and np.array_equal(result.trimap, painter.trimap)
    assert (result.alpha[painter.trimap == 255] == 1).all() and (result.alpha[painter.trimap == 0] == 0).all()
    assert any("window 1/1" in s for s in seen) and "matte:" in painter.status.value
    assert isinstance(painter.viewer, MatteViewer) and painter.viewer_area.children == (painter.viewer,)
    assert painter.viewer.result is result
    viewer = painter.viewer
    painter.from_mask(box_mask(), band_px=5)
    painter.matte()
    assert painter.viewer is viewer and viewer.result is painter.result is not result  # one viewer, updated


def test_a_bad_trimap_shows_the_error_and_keeps_everything(painter):
    painter.matte()  # all background: no unknown, no foreground
    assert "no unknown" in painter.status.value and "b91c1c" in painter.status.value
    assert painter.result is None and painter.viewer is None and painter.viewer_area.children == ()
    painter.from_mask(box_mask(), band_px=3)
    painter.matte()
    result, viewer = painter.result, painter.viewer
    painter.fill(32, 24, 128)  # the core becomes unknown: no known foreground left
    trimap = painter.trimap.copy()
    painter.matte()
    assert "foreground" in painter.status.value and "b91c1c" in painter.status.value
    assert painter.result is result and painter.viewer is viewer and viewer.result is result
    assert np.array_equal(painter.trimap, trimap)
