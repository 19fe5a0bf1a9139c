import numpy as np
import pytest

from segwidgets.eval import boundary_f_score, iou


def test_iou_known_answers():
    a = np.zeros((4, 4), bool)
    a[:2] = True
    b = np.zeros((4, 4), bool)
    b[1:3] = True
    assert iou(a, b) == pytest.approx(4 / 12)
    ignore = np.zeros((4, 4), bool)
    ignore[2] = True
    assert iou(a, b, ignore) == pytest.approx(4 / 8)
    assert iou(np.zeros((2, 2), bool), np.zeros((2, 2), bool)) == 1.0
    with pytest.raises(ValueError):
        iou(a, np.zeros((3, 3), bool))


def test_boundary_f_score_tolerance():
    a = np.zeros((40, 40), bool)
    a[10:30, 10:30] = True
    shifted = np.roll(a, 2, axis=1)
    assert boundary_f_score(a, a) == 1.0
    assert boundary_f_score(a, shifted, tolerance=2) == 1.0
    assert boundary_f_score(a, np.roll(a, 5, axis=1), tolerance=2) < 0.8
    assert boundary_f_score(a, np.zeros_like(a)) == 0.0
