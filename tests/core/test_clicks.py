import math

import pytest

from segwidgets.core.clicks import Click, ClickHistory


def test_undo_redo_and_new_click_clears_redo():
    history = ClickHistory()
    a, b, c = Click(1, 2), Click(3, 4, positive=False), Click(5, 6)
    history.add(a)
    history.add(b)
    assert history.undo() == b and history.clicks == (a,)
    assert history.redo() == b and history.clicks == (a, b)
    history.undo()
    history.add(c)
    assert not history.can_redo and history.clicks == (a, c)
    with pytest.raises(RuntimeError, match="nothing to redo"):
        history.redo()
    history.reset()
    with pytest.raises(RuntimeError, match="nothing to undo"):
        history.undo()


def test_round_trip_and_validation():
    history = ClickHistory([Click(1.5, 2.0), Click(3, 4, False)])
    assert ClickHistory.from_list(history.to_list()).clicks == history.clicks
    with pytest.raises(ValueError, match="outside"):
        Click(10, 2).check_inside((5, 10, 3))
    assert Click(9.9, 4.9).check_inside((5, 10)).pixel == (4, 9)
    with pytest.raises(ValueError, match="finite"):
        Click(math.nan, 1)
