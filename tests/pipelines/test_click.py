import numpy as np
import pytest
import torch
from scipy import ndimage

from segwidgets.core.clicks import Click
from segwidgets.core.engine import Engine
from segwidgets.eval.metrics import iou
from segwidgets.pipelines import click as click_module
from segwidgets.pipelines.click import (MODEL_NAME, ClickController, ClickPredictor, click_disc_radii,
                                       merge_local_change)

from ..conftest import ring_image
from .oracle import BrightClickNet, FailingNet
from .test_boundary_aware import bright_disc


@pytest.fixture
def net():
    return BrightClickNet()


@pytest.fixture
def engine(net):
    """A CPU engine whose click model is ``net``."""
    e = Engine("cpu")
    e.set_model(MODEL_NAME, net)
    return e


@pytest.fixture
def predictor(engine):
    p = ClickPredictor(engine, net_size=128)
    image, _ = bright_disc()
    p.set_image(image)
    return p


def test_predict_before_set_image_is_a_runtime_error():
    e = Engine("cpu")
    e.set_model(MODEL_NAME, BrightClickNet())
    with pytest.raises(RuntimeError, match="set_image"):
        ClickPredictor(e).predict([Click(1, 1)])


def test_first_click_sees_the_whole_image_then_zooms(predictor, net):
    _, disc = bright_disc()
    first = predictor.predict([Click(80, 60)])
    assert first.crop == (0, 0, 160, 120)
    assert iou(first.mask, disc) > 0.95 and iou(first.net_mask, disc) > 0.85
    # The click plane peaks at the click: input pixel of (80, 60) in a 160x160 square crop at 128 px.
    x = net.inputs[-1]
    assert x.shape[1] == 6
    peak = np.unravel_index(torch.argmax(x[0, 3]).item(), x.shape[-2:])
    assert abs(peak[1] - 80 * 128 / 160) <= 1 and abs(peak[0] - (60 + 20) * 128 / 160) <= 1
    second = predictor.predict([Click(80, 60), Click(100, 60, False)], first.mask)
    x0, y0, x1, y1 = second.crop
    assert (x1 - x0) < 160, "the second click zooms to the object"
    assert not second.mask[60, 100], "a negative click's pixel is background"
    assert second.mask.sum() < first.mask.sum()
    assert net.inputs[-1][0, 5].max() == 1.0  # the previous mask arrives as the last plane


def test_result_fields(predictor):
    r = predictor.predict([Click(80, 60)])
    for name in ("probability", "boundary", "refinement"):
        arr = getattr(r, name)
        assert arr.shape == (120, 160) and arr.dtype == np.float32
    np.testing.assert_allclose(r.refinement, r.probability * r.boundary, atol=1e-6)
    assert r.refined and r.trace is not None
    assert set(r.timings) == {"network", "graph_cut", "total"}


def test_unrefined_mask_is_the_network_mask(engine):
    p = ClickPredictor(engine, net_size=128, refine=False)
    p.set_image(bright_disc()[0])
    r = p.predict([Click(80, 60)])
    assert r.trace is None and np.array_equal(r.mask, r.net_mask)


@pytest.mark.parametrize("clicks", [[], [Click(500, 10)], [(80, 60)]])
def test_bad_clicks_raise(predictor, clicks):
    with pytest.raises(ValueError):
        predictor.predict(clicks)


def test_controller_undo_redo_and_errors_keep_state(predictor):
    c = ClickController(predictor)
    assert not c.mask.any()
    c.add_click(80, 60)
    m1 = c.mask.copy()
    c.add_click(100, 60, positive=False)
    assert c.mask.sum() < m1.sum()
    c.undo()
    assert np.array_equal(c.mask, m1) and len(c.clicks) == 1 and c.can_redo and c.can_undo
    c.redo()
    assert len(c.clicks) == 2
    with pytest.raises(ValueError):
        c.add_click(999, 0)
    assert len(c.clicks) == 2
    predictor.engine.set_model(MODEL_NAME, FailingNet())
    before = c.mask.copy()
    with pytest.raises(RuntimeError, match="exploded"):
        c.add_click(70, 60)
    assert np.array_equal(c.mask, before) and len(c.clicks) == 2 and len(c.history) == 3  # the empty start + 2
    c.reset()
    assert not c.clicks and not c.mask.any()
    with pytest.raises(RuntimeError):
        c.undo()


def test_controller_add_clicks_is_one_prediction_and_one_undo_step(predictor):
    c = ClickController(predictor)
    c.add_click(80, 60)
    one = c.mask.copy()
    calls = []
    predict = predictor.predict
    predictor.predict = lambda clicks, previous=None, **kw: calls.append(len(clicks)) or predict(clicks, previous, **kw)
    result = c.add_clicks([Click(100, 60, positive=False), Click(70, 60)])
    assert calls == [3] and c.clicks[1:] == (Click(100, 60, False), Click(70, 60)) and np.array_equal(c.mask, result.mask)
    same = ClickController(predictor)  # the same clicks one at a time end on the same clicks
    for click in c.clicks:
        same.add_click(click.x, click.y, click.positive)
    assert same.clicks == c.clicks and len(same.history) == 4 and len(c.history) == 3
    c.undo()  # both new clicks go in one step
    assert c.clicks == (Click(80, 60),) and np.array_equal(c.mask, one)
    for bad in ([], [Click(999, 0)], [Click(70, 60), Click(-5, 3)]):  # nothing changes on error
        with pytest.raises(ValueError):
            c.add_clicks(bad)
        assert c.clicks == (Click(80, 60),) and len(c.history) == 2


class ConstantClickNet(torch.nn.Module):
    """Answers every input with the same object logit everywhere (and no edges)."""

    def __init__(self, logit: float):
        super().__init__()
        self.logit = logit

    def forward(self, x):
        n, _, h, w = x.shape
        return torch.cat([torch.full((n, 1, h, w), self.logit), torch.full((n, 1, h, w), -8.0)], 1)


@pytest.mark.parametrize("refine", [False, True])
def test_monotone_clicks_correct_the_mask_in_their_own_direction(predictor, refine):
    predictor.refine = refine
    first = predictor.predict([Click(80, 60)])
    assert 0 < first.mask.sum() < first.mask.size
    clicks = {False: [Click(80, 60), Click(100, 60, positive=False)], True: [Click(80, 60), Click(10, 10)]}
    for positive, logit in ((False, 8.0), (True, -8.0)):  # a network that grows on "no", shrinks on "yes"
        predictor.engine.set_model(MODEL_NAME, ConstantClickNet(logit))
        predictor.monotone = True
        kept = predictor.predict(clicks[positive], first.mask).mask
        predictor.monotone = False
        loose = predictor.predict(clicks[positive], first.mask).mask
        if positive:  # a positive click never removes pixels
            assert kept[first.mask].all() and not loose[first.mask].all()
        else:  # a negative click never adds any
            assert not (kept & ~first.mask).any() and (loose & ~first.mask).any()
            assert not refine or not kept[60, 100]  # the graph cut fixes its own pixel as background


def test_local_merge_applies_only_the_change_that_holds_the_click():
    previous = np.zeros((20, 30), bool)
    previous[5:15, 5:15] = True
    new = previous.copy()
    new[5:15, 15:18] = True   # grown next to the click (touches it diagonally too)
    new[8:10, 8:10] = False   # a hole elsewhere, not connected to the growth
    new[2, 25] = True         # a far blob
    merged = merge_local_change(new, previous, Click(16.5, 10.5))
    expected = previous.copy()
    expected[5:15, 15:18] = True
    assert np.array_equal(merged, expected)
    # a change of both signs in one connected piece is taken whole
    new2 = previous.copy()
    new2[5:15, 15:18] = True
    new2[5:15, 14] = False
    assert np.array_equal(merge_local_change(new2, previous, Click(14.5, 7.5)), new2)
    # the click's own pixel unchanged: the whole change is applied
    assert np.array_equal(merge_local_change(new, previous, Click(1.5, 1.5)), new)


def test_local_predictor_keeps_the_previous_mask_away_from_the_click(predictor):
    first = predictor.predict([Click(80, 60)])
    assert first.mask[50:71, 55:76].all()  # inside the bright disc
    previous = first.mask.copy()
    previous[50:71, 55:76] = False  # a notch the next click fills
    previous[0:4, 0:4] = True       # a stray piece the network's answer drops
    clicks = [Click(80, 60), Click(65.5, 60.5)]
    predictor.monotone = False
    loose = predictor.predict(clicks, previous).mask
    predictor.local = True
    local = predictor.predict(clicks, previous).mask
    assert loose[50:71, 55:76].all() and not loose[0:4, 0:4].any()
    assert local[50:71, 55:76].all() and local[0:4, 0:4].all()


def test_controller_restore_then_correct(predictor):
    c = ClickController(predictor)
    saved = np.zeros((120, 160), bool)
    saved[40:80, 60:100] = True
    c.restore([Click(80, 60)], saved)
    assert np.array_equal(c.mask, saved) and c.result is None
    c.add_click(100, 60, positive=False)
    assert len(c.clicks) == 2 and not c.mask[60, 100]


def test_controller_restore_with_replay_keeps_the_saved_mask(predictor):
    c = ClickController(predictor)
    c.add_click(80, 60)
    made = c.mask.copy()
    saved = made.copy()
    saved[:5, :5] = ~saved[:5, :5]  # the user's saved mask differs from what a replay gives
    fresh = ClickController(predictor)
    assert fresh.restore([Click(80, 60)], saved, replay=True) == 25
    assert np.array_equal(fresh.mask, saved)                       # the saved work wins
    assert fresh.result is not None and np.array_equal(fresh.result.mask, made)  # maps of the replay
    assert fresh.restore([Click(80, 60)], made, replay=True) == 0
    with pytest.raises(ValueError):
        fresh.restore([Click(500, 60)], saved, replay=True)         # outside the image: nothing changes
    assert np.array_equal(fresh.mask, made) and len(fresh.clicks) == 1


def test_stray_blobs_neither_widen_the_zoom_nor_survive():
    from segwidgets.pipelines.click import keep_clicked_components

    mask = np.zeros((40, 60), bool)
    mask[10:20, 10:20] = True  # clicked object
    mask[30:35, 50:55] = True  # stray blob
    kept = keep_clicked_components(mask, [Click(15, 15)])
    assert kept[15, 15] and not kept[32, 52]
    # Offset masks (a crop starting at image pixel (5, 5)).
    assert keep_clicked_components(mask, [Click(57, 37)], origin=(5, 5))[32, 52]
    assert np.array_equal(keep_clicked_components(mask, [Click(40, 5)]), mask)  # no hit: unchanged


def test_zoom_box_follows_the_clicked_part(predictor):
    previous = np.zeros((120, 160), bool)
    previous[40:80, 60:100] = True
    previous[110:118, 0:8] = True  # stray false positive in a corner
    box = predictor.zoom_window([Click(80, 60)], previous).box
    assert box[0] > 40 and box[2] < 120, box


def test_set_image_computes_superpixels_once_and_clicks_crop_them(predictor, monkeypatch):
    from segwidgets.graphcut import edge_superpixels
    from segwidgets.graphcut.solver import _dense_ids

    np.testing.assert_array_equal(predictor._superpixels, edge_superpixels(predictor.image))
    calls = []
    monkeypatch.setattr("segwidgets.graphcut.solver.edge_superpixels", lambda *a, **k: calls.append(a))
    first = predictor.predict([Click(80, 60)])
    second = predictor.predict([Click(80, 60), Click(100, 60, False)], first.mask)
    assert calls == []  # no cut computed superpixels of its own
    checked = 0
    for result in (first, second):
        if any(s.move_set in ("hybrid", "superpixels") for s in result.trace):
            checked += 1
            x0, y0, x1, y1 = result.trace_box
            r0, r1, c0, c1 = (np.flatnonzero((result.trace.superpixels >= 0).any(1))[[0, -1]] + [0, 1]).tolist() + \
                (np.flatnonzero((result.trace.superpixels >= 0).any(0))[[0, -1]] + [0, 1]).tolist()
            crop = predictor._superpixels[y0:y1, x0:x1][r0:r1, c0:c1]
            np.testing.assert_array_equal(result.trace.superpixels[r0:r1, c0:c1], _dense_ids(crop))
    assert checked, "no cut used superpixel moves"
    # Large images: no whole-image pass (each cut computes its own, or runs at a working resolution).
    monkeypatch.setattr(click_module, "SUPERPIXELS_MAX_PIXELS", 100)
    predictor.set_image(predictor.image)
    assert predictor._superpixels is None


def test_focus_pass_reruns_the_network_closer_to_the_corrected_part(predictor, net):
    first = predictor.predict([Click(80, 60)])
    assert first.focus_window is None  # nothing to correct yet: one pass
    calls = len(net.inputs)
    second = predictor.predict([Click(80, 60), Click(100, 60, False)], first.mask)
    assert len(net.inputs) == calls + 2  # the zoom pass, then the focus pass
    focus = second.focus_window
    fx0, fy0, fx1, fy1 = focus.box
    zx0, zy0, zx1, zy1 = second.window.box
    assert fx0 <= 100 <= fx1 and fy0 <= 60 <= fy1, "the focus crop holds the newest click"
    assert (fx1 - fx0) <= 0.6 * (zx1 - zx0), "and is much smaller than the zoom crop"
    zoom_input, focus_input = net.inputs[-2], net.inputs[-1]
    assert focus_input.shape[-2:] == zoom_input.shape[-2:]  # same network size: more pixels per image pixel
    # The focus pass's previous-mask plane is the zoom pass's answer: the removed disc around the click is empty.
    centre = focus.to_local_points(np.array([[100.5, 60.5]]))[0].round().astype(int)
    assert focus_input[0, 5, centre[1], centre[0]] == 0 and focus_input[0, 5].max() == 1
    assert not second.mask[60, 100] and second.mask[60, 70]


def test_focus_off_is_one_pass_per_click(engine, net):
    p = ClickPredictor(engine, net_size=128, focus=None)
    p.set_image(bright_disc()[0])
    first = p.predict([Click(80, 60)])
    second = p.predict([Click(80, 60), Click(100, 60, False)], first.mask)
    assert len(net.inputs) == 2 and second.focus_window is None


def test_focus_window_is_skipped_when_it_would_not_be_smaller(predictor):
    previous = np.zeros((120, 160), bool)
    previous[30:90, 50:110] = True
    window = predictor.zoom_window([Click(80, 60)], previous)
    x0, y0, x1, y1 = window.region
    grown = np.ones((y1 - y0, x1 - x0), np.float32)  # the click changed the whole crop
    assert predictor.focus_window([Click(80, 60), Click(45, 25)], previous, window, grown) is None
    small = previous[y0:y1, x0:x1].astype(np.float32)
    small[60 - y0 - 3:60 - y0 + 3, 115 - x0 - 5:115 - x0 + 1] = 1  # a 6 px change next to the object
    focus = predictor.focus_window([Click(80, 60), Click(115, 60)], previous, window, small)
    fx0, fy0, fx1, fy1 = focus.box
    assert fx1 - fx0 == pytest.approx(48)  # at least FOCUS_MIN_SIDE pixels
    assert fx0 < 115 < fx1 and fy0 < 60 < fy1


def test_detail_pass_sharpens_the_edge_with_tiles_along_it(engine, net):
    image, disc = bright_disc()
    coarse = ClickPredictor(engine, net_size=48, refine=False, focus=None, detail=None)
    coarse.set_image(image)
    before = coarse.predict([Click(80, 60)])
    detailed = ClickPredictor(engine, net_size=48, refine=False, focus=None, detail=1.0)
    detailed.set_image(image)
    calls = len(net.inputs)
    after = detailed.predict([Click(80, 60)])
    tiles = after.detail_windows
    assert before.detail_windows == () and 0 < len(tiles) <= click_module.DETAIL_MAX_TILES
    assert len(net.inputs) == calls + 1 + len(tiles)  # the zoom pass, then one pass per tile
    edge = disc ^ ndimage.binary_erosion(disc)
    for tile in tiles:
        x0, y0, x1, y1 = tile.region
        assert max(x1 - x0, y1 - y0) <= 48, "tiles are detail x net_size image pixels: no down-sampling"
        assert edge[y0:y1, x0:x1].any(), "every tile holds part of the mask's edge"
    # The 160 px crop shrunk 3.3x into 48 px blurs the disc's edge; the tiles see it at full resolution.
    assert iou(after.net_mask, disc) > iou(before.net_mask, disc) + 0.02
    assert iou(after.net_mask, disc) > 0.97


def test_focus_pass_is_skipped_where_the_detail_pass_ran(engine, net):
    image, disc = bright_disc()
    p = ClickPredictor(engine, net_size=48, refine=False, detail=1.0)
    p.set_image(image)
    first = p.predict([Click(80, 60)])
    calls = len(net.inputs)
    second = p.predict([Click(80, 60), Click(100, 60, False)], first.mask)
    assert second.detail_windows and second.focus_window is None
    assert len(net.inputs) == calls + 1 + len(second.detail_windows)  # the zoom pass and the tiles only
    assert not second.mask[60, 100]


def detail_predictor(engine, **options):
    """On the 160 px disc image at 48 px: the first click's detail pass runs (the crop is 3.3 tiles wide)."""
    p = ClickPredictor(engine, net_size=48, **{"refine": False, "focus": None, "detail": 1.0, **options})
    p.set_image(bright_disc()[0])
    return p


def test_a_quick_prediction_leaves_the_detail_pass_for_later(engine, net):
    p = detail_predictor(engine)
    quick = p.predict([Click(80, 60)], quick=True)
    assert quick.detail_pending and quick.detail_windows == () and len(net.inputs) == 1
    without = detail_predictor(engine, detail=None).predict([Click(80, 60)])
    assert np.array_equal(quick.mask, without.mask) and not without.detail_pending
    calls = len(net.inputs)
    full = p.predict([Click(80, 60)])  # the same clicks again: the detailed answer
    assert full.detail_windows and not full.detail_pending
    assert len(net.inputs) == calls + len(full.detail_windows)  # the zoom pass is reused: only the tiles run
    fresh = detail_predictor(engine).predict([Click(80, 60)])
    np.testing.assert_array_equal(full.probability, fresh.probability)
    assert np.array_equal(full.mask, fresh.mask) and not np.array_equal(full.mask, quick.mask)
    calls = len(net.inputs)
    p.predict([Click(80, 60)], previous_mask=full.mask)  # another previous mask: the zoom pass runs again
    assert len(net.inputs) > calls + 1


def test_a_quick_answer_is_final_where_the_detail_pass_would_not_run(predictor):
    result = predictor.predict([Click(80, 60)], quick=True)  # 160 px crop at 128 px: no finer tiles
    assert not result.detail_pending and result.detail_windows == ()


def test_controller_swaps_a_quick_answer_for_the_detailed_one_in_place(engine, net):
    c = ClickController(detail_predictor(engine, refine=True))
    quick = c.add_clicks([Click(80, 60)], quick=True)
    assert quick.detail_pending and c.detail_pending and len(c.history) == 2
    detailed = c.refine_detail()
    assert detailed.detail_windows and c.result is detailed and len(c.history) == 2  # same undo step
    assert not c.detail_pending and c.refine_detail() is None
    twin = ClickController(detail_predictor(engine, refine=True))
    twin.add_click(80, 60)
    assert np.array_equal(twin.mask, c.mask)
    # a later click (or undo, reset) before the detailed answer: nothing is refined any more
    c.add_clicks([Click(70, 60)], quick=True)
    assert c.detail_pending
    c.add_click(60, 60)
    assert not c.detail_pending and c.refine_detail() is None
    c.undo()
    assert c.refine_detail() is None and len(c.clicks) == 2
    # a failing detail pass keeps the quick answer
    c.reset()
    quick = c.add_clicks([Click(80, 60)], quick=True)
    c.predictor.engine.set_model(MODEL_NAME, FailingNet())
    with pytest.raises(RuntimeError, match="model exploded"):
        c.refine_detail()
    assert c.result is quick and c.detail_pending


def test_detail_pass_is_on_by_default_at_the_image_resolution(engine):
    assert ClickPredictor(engine).detail == click_module.DETAIL_SCALE == 1.0


def test_detail_pass_is_skipped_when_tiles_would_not_be_finer(engine, net):
    p = ClickPredictor(engine, net_size=32, refine=False, focus=None, detail=4.0)  # 128 px tiles, 160 px crop
    p.set_image(bright_disc()[0])
    r = p.predict([Click(80, 60)])
    assert r.detail_windows == () and len(net.inputs) == 1


def test_detail_pass_is_skipped_on_crops_too_wide_for_its_tiles(engine, net, monkeypatch):
    monkeypatch.setattr(click_module, "DETAIL_MAX_GAIN", 4.0)
    p = ClickPredictor(engine, net_size=32, refine=False, focus=None, detail=1.0)
    p.set_image(bright_disc(h=240, w=320, centre=(160, 120), radius=60)[0])  # 320 px crop, 32 px tiles
    assert p.predict([Click(160, 120)]).detail_windows == () and len(net.inputs) == 1
    monkeypatch.setattr(click_module, "DETAIL_MAX_GAIN", 10.0)
    assert p.predict([Click(160, 120)]).detail_windows != ()


def test_feather_fades_only_at_edges_inside_the_image():
    from segwidgets.pipelines.click import _feather

    inside = _feather((20, 40), 0.2, (10, 10, 50, 30), (100, 100))
    assert inside[0, 20] < 0.1 and inside[-1, 20] < 0.1 and inside[10, 0] < 0.1 and inside[10, -1] < 0.1
    assert inside[10, 20] == 1 and inside.min() >= 0 and inside.max() <= 1
    at_corner = _feather((20, 40), 0.2, (0, 0, 40, 20), (100, 100))  # left and top edges are the image's
    assert at_corner[0, 0] == 1 and at_corner[0, 20] == 1 and at_corner[-1, 20] < 0.1 and at_corner[10, -1] < 0.1


@pytest.mark.parametrize("options, name", [({"focus": 0.5}, "focus"), ({"focus": -2}, "focus"),
                                           ({"focus": float("inf")}, "focus"), ({"net_size": 16}, "net_size"),
                                           ({"net_size": 200.5}, "net_size"), ({"zoom": 0}, "zoom"),
                                           ({"holes": "fil"}, "holes"), ({"holes": None}, "holes"),
                                           ({"detail": -1}, "detail"), ({"detail": float("inf")}, "detail")])
def test_bad_predictor_options_are_refused(engine, options, name):
    with pytest.raises(ValueError, match=name):
        ClickPredictor(engine, **options)


@pytest.mark.parametrize("focus", [None, 0, 1, 3.5])
def test_focus_off_or_at_least_one_is_accepted(engine, focus):
    assert ClickPredictor(engine, focus=focus).focus == focus


def test_disc_radii_shrink_only_near_clicks_of_the_other_sign():
    clicks = [Click(80, 60), Click(100, 60, positive=False), Click(102, 60), Click(110, 60), Click(100, 60)]
    # 80: far from the background click (20 px); 100 (negative): 2 px from 102 and 0 px from the last click;
    # 102: 2 px from it; 110: 10 px; the last, on the background click's pixel: 0
    assert click_disc_radii(clicks, 3) == [3.0, 0.0, 1.0, 3.0, 0.0]
    assert click_disc_radii(clicks[:1], 3) == [3.0]


def test_discs_are_disjoint_and_the_newest_click_takes_a_shared_pixel(predictor):
    pos, neg = predictor.click_discs([Click(80, 60), Click(100, 60, positive=False)], (120, 160))
    assert pos.sum() == neg.sum() == 29 and pos[60, 83] and neg[63, 100]  # far apart: full 3 px discs
    pos, neg = predictor.click_discs([Click(80, 60), Click(100, 60, positive=False), Click(104, 60)], (120, 160))
    assert not (pos & neg).any()
    assert neg[60, 101] and not neg[60, 103] and pos[60, 103] and not pos[60, 101]  # 2 px discs, 4 px apart
    assert pos[60, 102] and not neg[60, 102]  # the pixel both reach goes to the newest click
    for positive_last in (True, False):
        first, last = Click(100, 60, positive=not positive_last), Click(100, 60, positive=positive_last)
        pos, neg = predictor.click_discs([Click(80, 60), first, last], (120, 160))
        assert (pos if positive_last else neg)[60, 100] and not (neg if positive_last else pos)[60, 100]
    pos, neg = predictor.click_discs([Click(80, 60), Click(100, 60, positive=False)], (40, 40), origin=(90, 50))
    assert neg[10, 10] and neg[10, 7] and not pos.any()  # crop coordinates; the first click lies outside


def test_an_object_click_next_to_a_background_click_takes_effect(predictor):
    """The protocol (and a user) may click the object right beside an earlier background click:
    that click must change the mask, not leave it as it was (it used to, and the next click came
    back to the same pixel)."""
    clicks = [Click(80, 60), Click(100, 60, positive=False)]
    first = predictor.predict(clicks[:1])
    second = predictor.predict(clicks, first.mask)
    assert not second.mask[60, 100]
    third = predictor.predict(clicks + [Click(101, 61)], second.mask)
    assert third.mask[61, 101] and not third.mask[60, 100]  # each keeps its own pixel


@pytest.mark.parametrize("holes, inside_is_object", [(None, False), ("fill", True), ("network", False)])
def test_a_hole_the_network_sees_stays_open_by_default(engine, holes, inside_is_object):
    """A bright ring around a dark inside (the bright-pixel network sees the hole): hole filling
    used to make the inside object, where no background click could clear it."""
    image, ring = ring_image()
    p = ClickPredictor(engine, net_size=128, **({} if holes is None else {"holes": holes}))
    p.set_image(image)
    r = p.predict([Click(50, 17)])  # on the ring, above the hole
    inside = r.mask[35:46, 45:56]  # well inside the ring's 11 px hole
    assert r.refined
    assert inside.all() if inside_is_object else (not inside.any() and iou(r.mask, ring) > 0.95)
