import numpy as np
import pytest

from segwidgets.core.strokes import Stroke
from segwidgets.core.trimap import (
    ERASE, TrimapEditor, blank_trimap, flood_fill, paint, region_at, trimap_counts,
)


def rings():
    """6x8: background with an unknown ring around a 2x2 foreground core, plus a detached
    unknown pixel at (x=7, y=0) touching the ring only diagonally."""
    t = np.zeros((6, 8), np.uint8)
    t[1:5, 1:5] = 128
    t[2:4, 2:4] = 255
    t[0, 7] = 128
    t[1, 6] = 128  # diagonal neighbour of (7, 0): not 4-connected to it
    return t


def test_region_is_4_connected_and_uses_x_y_order():
    t = rings()
    ring = region_at(t, (1.5, 1.2))  # x=1, y=1: on the ring
    expected = (t == 128)
    expected[0, 7] = expected[1, 6] = False
    assert np.array_equal(ring, expected)
    assert np.array_equal(region_at(t, (7, 0)), np.eye(1, 48, 7, dtype=bool).reshape(6, 8))  # alone
    core = region_at(t, (3, 2))
    assert core.sum() == 4 and core[2:4, 2:4].all()
    # x is the column: (x=6, y=1) is the unknown pixel, (x=1, y=6) would be outside the 6-row image
    assert region_at(t, (6, 1)).sum() == 1
    with pytest.raises(ValueError, match="outside"):
        region_at(t, (1, 6))


def test_flood_fill_fills_only_the_region_and_returns_a_new_trimap():
    t = rings()
    before = t.copy()
    out = flood_fill(t, (0, 0), 255)
    assert np.array_equal(t, before)  # the input is untouched
    background = before == 0
    assert (out[background] == 255).all()  # the background is one 4-connected region here
    assert np.array_equal(out[~background], before[~background])
    out = flood_fill(t, (2.9, 3.9), 0)  # the core becomes background
    assert (out[2:4, 2:4] == 0).all() and trimap_counts(out)["foreground"] == 0
    for bad in ((-1, 0), (8, 0), (0, 6), (np.nan, 1)):
        with pytest.raises(ValueError, match="outside"):
            flood_fill(t, bad, 255)
    with pytest.raises(ValueError, match="trimap value"):
        flood_fill(t, (0, 0), 100)


def test_erase_returns_pixels_to_the_base():
    base = rings()
    painted = paint(base, Stroke(((0.5, 0.5), (7.5, 0.5)), radius=0.6, value=255))  # the top row
    assert (painted[0] == 255).all() and np.array_equal(painted[1:], base[1:])
    erased = paint(painted, Stroke(((3.5, 0.5),), radius=0.6, value=ERASE), base=base)
    assert erased[0, 3] == base[0, 3] == 0 and erased[0, 2] == 255
    assert np.array_equal(flood_fill(painted, (0, 0), ERASE, base=base)[0], base[0])
    with pytest.raises(ValueError, match="base"):
        paint(painted, Stroke(((3.5, 0.5),), radius=1, value=ERASE))


def test_paint_puts_the_stroke_value_under_the_brush():
    t = blank_trimap((10, 12))
    out = paint(t, Stroke(((2.5, 5.5), (9.5, 5.5)), radius=1.0, value=128))
    assert (out[5, 2:10] == 128).all() and out[5, 0] == 0 and out[3, 5] == 0
    unknown = int((out == 128).sum())
    assert unknown == 8 * 3 and trimap_counts(out) == {"foreground": 0, "unknown": unknown, "background": 120 - unknown}
    with pytest.raises(ValueError, match="trimap value"):
        paint(t, Stroke(((2, 2),), 1, value=7))
    with pytest.raises(ValueError, match="may hold only"):
        paint(np.full((3, 3), 5, np.uint8), Stroke(((1, 1),), 1, value=0))


def test_editor_undo_redo_reset_and_no_op_edits():
    start = rings()
    editor = TrimapEditor(start)
    assert not editor.can_undo and not editor.trimap.flags.writeable
    assert editor.fill((0, 0), 255)
    filled = editor.trimap
    assert not editor.fill((0, 0), 255)  # the same again changes nothing: no undo step
    assert editor.paint(Stroke(((3.5, 3.5),), 1.0, ERASE)) is False  # erasing unchanged pixels
    assert editor.paint(Stroke(((3.5, 3.5),), 0.6, 0))
    assert editor.trimap[3, 3] == 0
    editor.undo()
    assert np.array_equal(editor.trimap, filled)
    editor.undo()
    assert np.array_equal(editor.trimap, start) and not editor.can_undo
    editor.redo()
    assert np.array_equal(editor.trimap, filled) and editor.can_redo
    with pytest.raises(RuntimeError, match="nothing to undo"):
        TrimapEditor(start).undo()
    editor.replace(np.full(start.shape, 0.5))  # float trimaps are accepted
    assert (editor.trimap == 128).all() and not editor.can_redo
    editor.reset()
    assert np.array_equal(editor.trimap, start) and not editor.can_undo


def test_editor_restore_validates_first():
    editor = TrimapEditor(blank_trimap((6, 8)))
    editor.fill((0, 0), 128)
    with pytest.raises(ValueError, match="shape"):
        editor.restore(np.zeros((5, 8), np.uint8))
    assert (editor.trimap == 128).all() and editor.can_undo  # kept
    editor.restore(rings())
    assert np.array_equal(editor.trimap, rings())
    editor.undo()
    assert (editor.trimap == 0).all()  # back to the base, not to the pre-restore edit
