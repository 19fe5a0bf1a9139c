import pytest

from segwidgets.core.history import History


def test_undo_redo_and_a_new_push_drops_the_redo_branch():
    h = History("empty")
    assert h.current == "empty" and not h.can_undo and not h.can_redo
    h.push("a")
    h.push("b")
    assert h.states == ("empty", "a", "b")
    assert h.undo() == "a" and h.can_redo
    assert h.redo() == "b" and not h.can_redo
    h.undo()
    h.push("c")
    assert h.states == ("empty", "a", "c") and not h.can_redo
    with pytest.raises(RuntimeError, match="nothing to redo"):
        h.redo()


def test_undo_past_the_start_raises_and_reset_clears():
    h = History(0)
    with pytest.raises(RuntimeError, match="nothing to undo"):
        h.undo()
    h.push(1)
    h.push(2)
    h.undo()
    assert h.reset() == 0 and len(h) == 1 and not h.can_redo
    assert h.reset(initial=10) == 10
    h.push(11)
    h.reset()
    assert h.current == 10


def test_limit_drops_the_oldest_states():
    h = History(0, limit=3)
    for i in range(1, 6):
        h.push(i)
    assert h.states == (3, 4, 5)
    h.undo()
    h.undo()
    assert h.current == 3 and not h.can_undo
    with pytest.raises(ValueError):
        History(0, limit=0)
