"""``Click``: the one click type of the package (user, simulator and predictor alike).

Coordinates are continuous image pixels: pixel ``(i, j)`` (column, row) covers
``i <= x < i + 1``, ``j <= y < j + 1``. A click marks the pixel it falls in.
Undo lives in ``core.history``; the protocol's simulated clicks in
``core.click_simulation``.
"""
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

    @property
    def centre(self) -> tuple[float, float]:
        """``(x, y)`` of the centre of the clicked pixel."""
        return int(self.x) + 0.5, int(self.y) + 0.5

    def to_dict(self) -> dict:
        """JSON-ready ``{"x", "y", "positive"}``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, item) -> "Click":
        """The inverse of :meth:`to_dict`; ``ValueError`` for a malformed entry."""
        try:
            return cls(float(item["x"]), float(item["y"]), bool(item["positive"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"a click needs numbers x, y and a boolean positive, got {item!r}") from exc
