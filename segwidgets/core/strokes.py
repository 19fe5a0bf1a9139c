"""``Stroke``: a brush stroke in image pixels (trimap painting, scribbles), no UI.

A stroke is a polyline of ``(x, y)`` points painted with a disc brush of
``radius`` pixels and carries the value it paints (e.g. a trimap level
0 / 128 / 255). Coordinates are continuous: pixel ``(i, j)`` covers
``i <= x < i + 1``; a pixel is painted when its centre is within ``radius`` of
the polyline.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from skimage.draw import disk, polygon


@dataclass(frozen=True)
class Stroke:
    """A brush stroke.

    Attributes
    ----------
    points : tuple of (x, y)
        The pointer path in image pixels (at least one point).
    radius : float
        Brush radius in image pixels (> 0).
    value : int
        What the stroke paints (e.g. 0 background, 128 unknown, 255 foreground).
    """

    points: tuple[tuple[float, float], ...]
    radius: float
    value: int = 255

    def __post_init__(self):
        points = tuple((float(x), float(y)) for x, y in self.points)
        if not points or not all(math.isfinite(v) for p in points for v in p):
            raise ValueError(f"a stroke needs at least one finite (x, y) point, got {self.points!r}")
        if not (math.isfinite(self.radius) and self.radius > 0):
            raise ValueError(f"brush radius must be a positive number of pixels, got {self.radius}")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "radius", float(self.radius))
        object.__setattr__(self, "value", int(self.value))

    def extended(self, point) -> "Stroke":
        """This stroke with ``point`` (x, y) appended."""
        return Stroke(self.points + ((float(point[0]), float(point[1])),), self.radius, self.value)

    def mask(self, shape: tuple[int, int]) -> np.ndarray:
        """(H, W) bool: the pixels the stroke paints on an image of ``shape``."""
        h, w = shape[:2]
        out = np.zeros((h, w), bool)
        # scikit-image indexes pixel centres at integers: continuous coordinate - 0.5.
        centres = np.asarray(self.points) - 0.5
        r = self.radius
        for x, y in centres:
            out[disk((y, x), r, shape=(h, w))] = True
        for (xa, ya), (xb, yb) in zip(centres[:-1], centres[1:]):
            length = math.hypot(xb - xa, yb - ya)
            if length == 0:
                continue
            nx, ny = -(yb - ya) / length * r, (xb - xa) / length * r  # normal, brush-radius long
            rows = [ya + ny, yb + ny, yb - ny, ya - ny]
            cols = [xa + nx, xb + nx, xb - nx, xa - nx]
            out[polygon(rows, cols, shape=(h, w))] = True
        return out

    def to_dict(self) -> dict:
        return {"points": [list(p) for p in self.points], "radius": self.radius, "value": self.value}

    @classmethod
    def from_dict(cls, item) -> "Stroke":
        """The inverse of :meth:`to_dict`; ``ValueError`` for a malformed entry."""
        try:
            return cls(tuple(tuple(p) for p in item["points"]), item["radius"], item.get("value", 255))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"a stroke needs points [[x, y], ...], a radius and a value, got {item!r}") from exc
