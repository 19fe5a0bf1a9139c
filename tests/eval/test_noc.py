import numpy as np
import pytest

from segwidgets.eval.noc import first_click, iou_after, next_click, number_of_clicks, simulate_clicks


def test_next_click_goes_to_the_centre_of_the_thickest_error():
    target = np.zeros((40, 60), bool)
    target[10:30, 10:50] = True
    pred = np.zeros_like(target)
    c = next_click(pred, target)
    # Every pixel on the rectangle's middle rows 10 px from the long sides is equally deep.
    assert c.positive and c.y in (19, 20) and 19 <= c.x <= 40
    pred = target.copy()
    pred[0:8, 0:60] = True  # false band at the top, 8 px thick (touching the border)
    c = next_click(pred, target)
    assert not c.positive and c.y in (3, 4)
    assert next_click(target, target) is None


def test_ignored_pixels_never_get_clicks():
    target = np.zeros((20, 20), bool)
    target[5:15, 5:15] = True
    ignore = np.zeros_like(target)
    ignore[5:15, 5:15] = True
    assert next_click(np.zeros_like(target), target, ignore) is None


def test_first_click_is_deep_inside():
    target = np.zeros((50, 50), bool)
    target[10:40, 10:40] = True
    rng = np.random.default_rng(0)
    for _ in range(20):
        c = first_click(target, rng)
        assert 17 <= c.x <= 32 and 17 <= c.y <= 32


def test_protocol_with_a_known_predictor():
    target = np.zeros((30, 30), bool)
    target[5:25, 5:25] = True
    # Each click reveals a 10x10 quarter of the square: IoU 0.25, 0.5, 0.75, 1.
    def predict(clicks):
        mask = np.zeros_like(target)
        for i in range(len(clicks)):
            r, c = divmod(i, 2)
            mask[5 + 10 * r:15 + 10 * r, 5 + 10 * c:15 + 10 * c] = True
        return mask

    ious, clicks = simulate_clicks(predict, target, max_clicks=20, stop_iou=0.9)
    assert ious == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert all(c.positive for c in clicks)
    assert number_of_clicks(ious, 0.85) == 4 and number_of_clicks(ious, 0.5) == 2
    assert number_of_clicks([0.1, 0.2], 0.9, max_clicks=20) == 20
    assert iou_after(ious, 3) == pytest.approx(0.75) and iou_after(ious, 5) == pytest.approx(1.0)
