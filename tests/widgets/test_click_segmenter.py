import numpy as np
import pytest

from segwidgets.core.engine import Engine
from segwidgets.pipelines.click import MODEL_NAME, ClickPredictor
from segwidgets.widgets.click_segmenter import VIEWS, ClickSegmenter

from ..pipelines.oracle import BrightClickNet, FailingNet
from ..pipelines.test_boundary_aware import bright_disc
from .test_canvas import event


@pytest.fixture
def engine():
    e = Engine("cpu")
    e.set_model(MODEL_NAME, BrightClickNet())
    return e


@pytest.fixture
def seg(engine):
    return ClickSegmenter(bright_disc()[0], predictor=ClickPredictor(engine, net_size=128))


def press(seg, x, y, button=0, **keys):
    h, w = seg.canvas.display_size
    seg.canvas._handle_dom_event(event("mousedown", x, y, button=button, width=w, height=h, **keys))


def test_left_right_and_shift_clicks(seg):
    seen = []
    seg.observe(lambda change: seen.append(change["name"]), names=["mask", "clicks", "result"])
    press(seg, 80, 60)
    assert seg.clicks[-1].positive and seg.mask[60, 80]
    assert {"mask", "clicks", "result"} <= set(seen)
    press(seg, 100, 60, button=2)
    assert not seg.clicks[-1].positive and not seg.mask[60, 100]
    press(seg, 70, 60, shiftKey=True)
    assert not seg.clicks[-1].positive and len(seg.clicks) == 3
    assert "ms" in seg.canvas.status.value


def test_undo_redo_reset_buttons(seg):
    assert seg.undo_button.disabled
    seg.add_click(80, 60)
    first = seg.mask.copy()
    seg.add_click(100, 60, positive=False)
    seg.undo_button.click()
    assert np.array_equal(seg.mask, first) and not seg.redo_button.disabled
    seg.redo_button.click()
    assert len(seg.clicks) == 2
    seg.reset_button.click()
    assert not seg.clicks and not seg.mask.any()


def test_failures_show_in_status_and_keep_state(seg, engine):
    seg.add_click(80, 60)
    before = seg.mask.copy()
    engine.set_model(MODEL_NAME, FailingNet())
    seg.add_click(90, 60)
    assert "exploded" in seg.canvas.status.value and "b91c1c" in seg.canvas.status.value
    assert np.array_equal(seg.mask, before) and len(seg.clicks) == 1
    seg.undo()
    seg.undo()
    assert "nothing to undo" in seg.canvas.status.value


def test_every_view_draws(seg):
    seg.add_click(80, 60)
    for view in VIEWS:
        seg.view.value = view
        layer = "mask" if VIEWS[view].kind == "mask" else "map"
        assert layer in seg.canvas._overlay_rgba
    seg.opacity.value = 0.2
    assert seg.canvas._opacity["map"] == 0.2


def test_save_and_load_round_trip(seg, engine, tmp_path):
    seg.add_click(80, 60)
    seg.add_click(100, 60, positive=False)
    path = seg.save(tmp_path / "work")
    other = ClickSegmenter(bright_disc()[0], predictor=ClickPredictor(engine, net_size=128))
    other.load(path)
    assert other.clicks == seg.clicks and np.array_equal(other.mask, seg.mask)
    # the clicks were replayed: the maps and the graph-cut trace are back, so debug() and the P/B/R views work
    assert other.result is not None and other.result.trace is not None
    np.testing.assert_array_equal(other.result.probability, seg.result.probability)
    assert other.debug().trace is other.result.trace
    assert "2 click(s) replayed" in other.status.value
    other.undo()  # each replayed click is undoable
    assert len(other.clicks) == 1
    other.redo()
    other.add_click(70, 60)  # corrections continue from the loaded mask
    assert len(other.clicks) == 3
    stranger = ClickSegmenter(np.zeros((50, 50, 3), np.uint8), predictor=ClickPredictor(engine, net_size=128))
    with pytest.raises(ValueError, match="another image"):
        stranger.load(path)
    assert not stranger.clicks


def test_debug_opens_the_iteration_slider(seg):
    with pytest.raises(RuntimeError):
        seg.debug()
    seg.add_click(80, 60)
    slider = seg.debug()
    assert slider.trace is seg.result.trace


def test_mask_colour_outline_and_colour_bar(seg):
    from segwidgets.render import MASK_COLOR

    seg.add_click(80, 60)
    seg.view.value = "mask"
    filled = seg.canvas._overlay_rgba["mask"]
    shown = filled[..., 3] > 0
    assert shown.any() and {tuple(c) for c in filled[shown][:, :3]} == {MASK_COLOR}  # blue, not the red of the dots
    assert seg.colorbar.layout.display == "none"            # masks have no colour bar
    seg.outline.value = True
    outlined = seg.canvas._overlay_rgba["mask"]
    assert 0 < (outlined[..., 3] > 0).sum() < shown.sum()   # only the edge
    seg.view.value = "probability P"
    assert seg.colorbar.layout.display == "flex" and seg.colorbar.range == (0.0, 1.0)
    assert seg.colorbar.bar.value                            # the colormap picture
