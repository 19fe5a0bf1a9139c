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


@pytest.fixture
def busy(engine):
    """A segmenter whose deferred prediction steps wait in ``steps`` until the test runs them
    (like clicks reaching a kernel that is still computing), with its predictions counted."""
    steps = []
    seg = ClickSegmenter(bright_disc()[0], predictor=ClickPredictor(engine, net_size=128), defer=steps.append)
    predictor, calls = seg.controller.predictor, []
    predict = predictor.predict
    predictor.predict = lambda clicks, previous=None, **kw: calls.append(tuple(clicks)) or predict(clicks, previous,
                                                                                                   **kw)
    seg.drawn = []
    draw_points = seg.canvas.draw_points
    seg.canvas.draw_points = lambda points, **kw: seg.drawn.append(list(points)) or draw_points(points, **kw)
    return seg, steps, calls


def xyp(clicks):
    return [(c.x, c.y, c.positive) for c in clicks]


def test_clicks_while_busy_are_drawn_at_once_and_run_as_one_prediction(busy):
    seg, steps, calls = busy
    press(seg, 80, 60)
    press(seg, 100, 60, button=2)
    press(seg, 70, 60, shiftKey=True)
    assert len(steps) == 1 and calls == []           # one deferred step for all three, nothing predicted yet
    assert seg.clicks == () and len(seg.pending) == 3
    assert [len(points) for points in seg.drawn[-3:]] == [1, 2, 3]  # each dot drawn as its click arrived
    assert seg.drawn[-1] == [(80.0, 60.0, True), (100.0, 60.0, False), (70.0, 60.0, False)]
    assert seg.status_text.startswith("working...") and "3 click(s) waiting" in seg.status_text
    assert "one prediction" in seg.status_text and not seg.undo_button.disabled and seg.redo_button.disabled
    steps.pop()()
    assert len(calls) == 1 and len(calls[0]) == 3    # ONE prediction, with every waiting click
    assert xyp(seg.clicks) == [(80.0, 60.0, True), (100.0, 60.0, False), (70.0, 60.0, False)]
    assert seg.pending == () and seg.mask[60, 80] and not seg.mask[60, 100]
    assert "the last 3 clicks ran as one prediction" in seg.status_text
    seg.undo()                                       # one undo step for the batch
    assert seg.clicks == () and not seg.mask.any()
    seg.redo()
    assert len(seg.clicks) == 3 and len(calls) == 1  # redo replays the stored state, no new prediction


def test_clicks_made_during_a_prediction_become_the_next_step(busy):
    seg, steps, calls = busy
    press(seg, 80, 60)
    steps.pop()()
    press(seg, 100, 60, button=2)
    press(seg, 95, 60, button=2)
    assert len(steps) == 1 and len(seg.drawn[-1]) == 3  # the done click and the two waiting ones
    steps.pop()()
    assert [len(c) for c in calls] == [1, 3] and len(seg.clicks) == 3
    seg.undo()
    assert xyp(seg.clicks) == [(80.0, 60.0, True)]


def test_undo_redo_reset_and_failures_while_clicks_wait(busy, engine):
    seg, steps, calls = busy
    press(seg, 80, 60)
    steps.pop()()
    press(seg, 100, 60, button=2)
    press(seg, 95, 60, button=2)
    seg.undo()                                       # removes the newest waiting click only
    assert xyp(seg.pending) == [(100.0, 60.0, False)] and len(seg.clicks) == 1 and len(seg.drawn[-1]) == 2
    seg.redo()                                       # refused: the waiting click starts a new step
    assert "nothing to redo" in seg.status_text and len(seg.pending) == 1
    steps.pop()()
    assert len(calls) == 2 and len(seg.clicks) == 2
    before = seg.mask.copy()
    engine.set_model(MODEL_NAME, FailingNet())
    press(seg, 60, 60)
    press(seg, 65, 60)
    steps.pop()()                                    # the step fails: both dropped, state kept, error shown
    assert "exploded" in seg.status_text and "b91c1c" in seg.status.value
    assert len(seg.clicks) == 2 and seg.pending == () and np.array_equal(seg.mask, before)
    assert len(seg.drawn[-1]) == 2                   # the failed clicks' dots are gone
    press(seg, 60, 60)
    seg.reset()
    assert seg.pending == () and seg.clicks == ()
    steps.pop()()                                    # a step with nothing left to do predicts nothing
    assert len(calls) == 3


def test_add_click_from_code_predicts_at_once_with_the_waiting_clicks(busy):
    seg, steps, calls = busy
    press(seg, 80, 60)
    seg.add_click(100, 60, positive=False)
    assert [len(c) for c in calls] == [2] and len(seg.clicks) == 2 and seg.pending == ()
    steps.pop()()
    assert len(calls) == 1
    seg.add_click(500, 60)                           # outside: refused, nothing queued
    assert "outside" in seg.status_text and seg.pending == () and len(calls) == 1


def test_clicks_queued_in_a_running_event_loop_share_one_prediction(engine):
    """The default deferral inside a kernel-like asyncio loop: the clicks waiting in the queue,
    between many other messages of the canvas (ipycanvas sends every mouse move, each costing the
    kernel about half a millisecond), all go into the one deferred prediction."""
    import asyncio
    import time

    seg = ClickSegmenter(bright_disc()[0], predictor=ClickPredictor(engine, net_size=128))
    predict, calls = seg.controller.predictor.predict, []
    seg.controller.predictor.predict = lambda clicks, previous=None, **kw: calls.append(len(clicks)) or predict(
        clicks, previous, **kw)

    def mouse_move():
        seg.canvas.canvas._handle_custom_msg({"event": "mouse_move", "x": 5, "y": 5}, [])
        time.sleep(0.0005)

    queue = []                                           # the comm messages waiting in the kernel's queue
    for x, button in ((80, 0), (100, 2), (70, 0)):
        queue.append(lambda x=x, button=button: press(seg, x, 60, button))
        queue += [mouse_move] * 120                      # 60 ms of other messages after each click

    async def kernel():
        loop = asyncio.get_running_loop()

        def handle_next():                               # one message per loop turn, as the kernel does
            queue.pop(0)()
            if queue:
                loop.call_soon(handle_next)

        loop.call_soon(handle_next)
        await asyncio.sleep(1.5)

    asyncio.run(kernel())
    assert calls == [3] and len(seg.clicks) == 3 and seg.pending == ()  # one prediction took all three


def test_ctrl_z_and_ctrl_shift_z_undo_and_redo(seg):
    seg.add_click(80, 60)
    seg.add_click(100, 60, positive=False)
    seg.canvas._handle_dom_event({"type": "keydown", "key": "z", "ctrlKey": True})
    assert len(seg.clicks) == 1
    seg.canvas._handle_dom_event({"type": "keydown", "key": "Z", "ctrlKey": True, "shiftKey": True})
    assert len(seg.clicks) == 2
    seg.canvas._handle_dom_event({"type": "keydown", "key": "z", "metaKey": True})  # Cmd+Z on a Mac
    assert len(seg.clicks) == 1
    seg.canvas._handle_dom_event({"type": "keydown", "key": "z"})                   # a plain z does nothing
    assert len(seg.clicks) == 1


def test_clicks_on_a_zoomed_view_land_on_image_pixels(seg):
    seg.canvas.zoom_at(4, 0, 0)                        # 160 x 120 image, shown 1:1, now 4x from its corner
    press(seg, 322, 242)
    assert xyp(seg.clicks) == [(80.5, 60.5, True)] and seg.mask[60, 80]


def test_a_canvas_click_shows_the_quick_answer_then_the_detailed_one(engine):
    steps = []  # deferred steps, run by hand
    seg = ClickSegmenter(bright_disc()[0], predictor=ClickPredictor(engine, net_size=48), defer=steps.append)
    press(seg, 80, 60)
    steps.pop(0)()
    quick = seg.result
    assert quick.detail_pending and "adding detail" in seg.status_text and len(steps) == 1
    steps.pop(0)()
    assert seg.result is not quick and seg.result.detail_windows and seg.result.clicks == quick.clicks
    assert "with detail" in seg.status_text and not seg.controller.detail_pending
    assert len(seg.controller.history) == 2  # still one undo step
    # a click made before the detail step: the step is skipped and the click runs from the quick mask
    press(seg, 70, 60)
    steps.pop(0)()
    second_quick = seg.result
    assert second_quick.detail_pending
    press(seg, 60, 60, button=2)
    detail_step, click_step = steps
    steps.clear()
    detail_step()
    assert seg.result is second_quick and len(seg.pending) == 1
    click_step()  # the third click's quick answer, corrected from the second's quick mask
    assert len(seg.clicks) == 3 and seg.result.clicks == seg.clicks and len(seg.controller.history) == 4
    # from code, add_click gives the detailed answer at once; the third click's late detail step then does nothing
    assert len(steps) == 1
    seg.reset()
    seg.add_click(80, 60)
    detailed = seg.result
    assert detailed.detail_windows and len(steps) == 1
    steps.pop()()
    assert seg.result is detailed and len(seg.clicks) == 1


def test_quick_first_can_be_turned_off(engine):
    steps = []
    seg = ClickSegmenter(bright_disc()[0], predictor=ClickPredictor(engine, net_size=48), defer=steps.append,
                         quick_first=False)
    press(seg, 80, 60)
    steps.pop()()
    assert seg.result.detail_windows and not steps


def test_undo_before_the_detail_step_then_redo_brings_the_detail_step_back(engine):
    steps = []
    seg = ClickSegmenter(bright_disc()[0], predictor=ClickPredictor(engine, net_size=48), defer=steps.append)
    press(seg, 80, 60)
    steps.pop()()
    quick = seg.result
    seg.undo()  # before the detail step ran
    steps.pop()()
    assert seg.clicks == () and seg.result is None
    seg.redo()
    assert seg.result is quick and "adding detail" in seg.status_text and len(steps) == 1
    steps.pop()()
    assert seg.result.detail_windows and seg.result.clicks == quick.clicks and len(seg.controller.history) == 2
