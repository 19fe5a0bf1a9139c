"""Clicks and a click history with undo/redo (no UI, no torch)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Click:
    """A user click at pixel ``(x, y)`` of the original image.

    ``positive=True`` marks the object, ``False`` the background.
    """

    x: float
    y: float
    positive: bool = True

    def __post_init__(self):
        if not (math.isfinite(self.x) and math.isfinite(self.y)):
            raise ValueError(f"click coordinates must be finite numbers, got ({self.x}, {self.y})")

    def check_inside(self, shape) -> "Click":
        """Return self, or raise ``ValueError`` if outside an image of ``shape`` (H, W[, C])."""
        h, w = shape[:2]
        if not (0 <= self.x < w and 0 <= self.y < h):
            raise ValueError(f"click at (x={self.x}, y={self.y}) is outside the {w}x{h} (width x height) image")
        return self

    @property
    def pixel(self) -> tuple[int, int]:
        """``(row, col)`` index of the clicked pixel."""
        return int(self.y), int(self.x)


class ClickHistory:
    """An ordered list of clicks with undo and redo.

    Undo moves the last click to the redo stack; adding a new click clears it
    (like a text editor).
    """

    def __init__(self, clicks=()):
        self._clicks: list[Click] = list(clicks)
        self._redo: list[Click] = []

    @property
    def clicks(self) -> tuple[Click, ...]:
        return tuple(self._clicks)

    def __len__(self) -> int:
        return len(self._clicks)

    def __iter__(self):
        return iter(self._clicks)

    def add(self, click: Click) -> None:
        self._clicks.append(click)
        self._redo.clear()

    @property
    def can_undo(self) -> bool:
        return bool(self._clicks)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> Click:
        """Remove and return the last click; ``RuntimeError`` when there is none."""
        if not self._clicks:
            raise RuntimeError("nothing to undo: there are no clicks")
        click = self._clicks.pop()
        self._redo.append(click)
        return click

    def redo(self) -> Click:
        """Re-add the last undone click; ``RuntimeError`` when there is none."""
        if not self._redo:
            raise RuntimeError("nothing to redo")
        click = self._redo.pop()
        self._clicks.append(click)
        return click

    def reset(self) -> None:
        self._clicks.clear()
        self._redo.clear()

    def to_list(self) -> list[dict]:
        """JSON-ready list of ``{"x", "y", "positive"}`` dicts."""
        return [asdict(c) for c in self._clicks]

    @classmethod
    def from_list(cls, items) -> "ClickHistory":
        return cls(Click(float(d["x"]), float(d["y"]), bool(d["positive"])) for d in items)
