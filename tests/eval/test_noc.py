import numpy as np
import pytest

from segwidgets.core.clicks import Click
from segwidgets.eval.noc import iou_after, number_of_clicks, simulate_clicks


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


def test_predict_gets_core_clicks_at_pixel_centres():
    target = np.zeros((9, 9), bool)
    target[2:7, 2:7] = True  # one deepest pixel: (4, 4)
    seen = []

    def predict(clicks):
        seen.append(list(clicks))
        return target.copy()

    ious, clicks = simulate_clicks(predict, target)
    assert ious == [1.0]
    assert seen == [[Click(4.5, 4.5, True)]] and clicks == [Click(4.5, 4.5, True)]
    assert all(type(c) is Click for c in seen[0])


def test_protocol_stops_at_max_clicks_and_clicks_the_remaining_error():
    target = np.zeros((20, 20), bool)
    target[4:16, 4:16] = True

    ious, clicks = simulate_clicks(lambda clicks: np.zeros_like(target), target, max_clicks=3)
    assert ious == [0.0, 0.0, 0.0] and len(clicks) == 3
    # Nothing changes between predictions, so every click is the same deepest missed pixel.
    assert all(c == clicks[0] and c.positive for c in clicks)
