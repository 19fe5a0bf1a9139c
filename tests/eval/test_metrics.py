import numpy as np
import pytest
from PIL import Image

from segwidgets.eval import boundary_f_score, iou, list_pairs, load_mask


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


def test_mask_conventions_and_pairs(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    Image.fromarray(np.zeros((3, 3, 3), np.uint8)).save(tmp_path / "images" / "a.jpg")
    gray = np.array([[0, 128, 255]] * 3, np.uint8)
    Image.fromarray(gray).save(tmp_path / "masks" / "a.png")
    obj, ignore = load_mask(tmp_path / "masks" / "a.png")
    assert obj[0].tolist() == [False, False, True] and ignore[0].tolist() == [False, True, False]
    palette = Image.fromarray(np.array([[0, 1, 255]], np.uint8), mode="P")
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * (3 * 254))
    palette.save(tmp_path / "p.png")
    obj, ignore = load_mask(tmp_path / "p.png")
    assert obj[0].tolist() == [False, True, False] and ignore[0].tolist() == [False, False, True]
    assert [p[0].name for p in list_pairs(tmp_path / "images", tmp_path / "masks")] == ["a.jpg"]
    Image.fromarray(np.zeros((3, 3, 3), np.uint8)).save(tmp_path / "images" / "b.jpg")
    with pytest.raises(FileNotFoundError, match="b.png"):
        list_pairs(tmp_path / "images", tmp_path / "masks")
