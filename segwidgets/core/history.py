"""One undo stack for every editing state (clicks, trimap strokes, boxes), no UI.

States are immutable snapshots (frozen dataclasses, tuples, read-only arrays):
``push`` adds one on top, ``undo`` steps back, ``redo`` forward, and a new push
after an undo drops the redo branch, as in a text editor.
"""
from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class History(Generic[T]):
    """An undo stack of states, the current one on top.

    Parameters
    ----------
    initial : T
        The state before any edit; :meth:`reset` returns to it.
    limit : int, optional
        Most states kept (the oldest are dropped first; the initial one goes too),
        so a long session on a large image cannot fill the memory. None: no bound.
    """

    def __init__(self, initial: T, limit: int | None = None):
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be >= 1 (or None), got {limit}")
        self._initial = initial
        self.limit = limit
        self._states: list[T] = [initial]
        self._redo: list[T] = []

    def __len__(self) -> int:
        return len(self._states)

    @property
    def current(self) -> T:
        return self._states[-1]

    @property
    def states(self) -> tuple[T, ...]:
        """Every kept state, oldest first; the last is :attr:`current`."""
        return tuple(self._states)

    @property
    def can_undo(self) -> bool:
        return len(self._states) > 1

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def push(self, state: T) -> T:
        """Make ``state`` current; the redo branch is dropped. Returns ``state``."""
        self._states.append(state)
        self._redo.clear()
        if self.limit is not None and len(self._states) > self.limit:
            del self._states[: len(self._states) - self.limit]
        return state

    def replace(self, state: T) -> T:
        """Put ``state`` in place of the current one (a finished version of the same edit): no new
        undo step, the redo branch kept. Returns ``state``."""
        self._states[-1] = state
        return state

    def undo(self) -> T:
        """Step back; returns the new current state. ``RuntimeError`` when there is nothing to undo."""
        if not self.can_undo:
            raise RuntimeError("nothing to undo")
        self._redo.append(self._states.pop())
        return self.current

    def redo(self) -> T:
        """Step forward again; returns the new current state. ``RuntimeError`` when there is nothing to redo."""
        if not self._redo:
            raise RuntimeError("nothing to redo")
        self._states.append(self._redo.pop())
        return self.current

    def reset(self, initial: T | None = None) -> T:
        """Back to the initial state (or a new one), with nothing to undo or redo."""
        if initial is not None:
            self._initial = initial
        self._states = [self._initial]
        self._redo.clear()
        return self.current
