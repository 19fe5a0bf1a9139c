"""Trimap editing, no UI: brush strokes, flood fill and an undo stack.

A trimap is an (H, W) uint8 array: 0 known background, 128 unknown, 255 known
foreground (``core.image.as_trimap``). Every edit returns a new array and
leaves its input untouched.

Besides the three values an edit may apply :data:`ERASE`: the touched pixels
return to a *base* trimap (in ``TrimapEditor``, the trimap editing started from),
so erasing undoes painting where the brush passes, whatever was painted there.
"""
from __future__ import annotations

import numpy as np
from skimage.segmentation import flood

from .history import History
from .image import TRIMAP_VALUES, as_point, as_trimap
from .strokes import Stroke

#: Trimap values (uint8 convention).
BACKGROUND, UNKNOWN, FOREGROUND = TRIMAP_VALUES
#: The value an eraser applies: pixels go back to the base trimap.
ERASE = -1


def blank_trimap(shape: tuple[int, int], value: int = BACKGROUND) -> np.ndarray:
    """An (H, W) uint8 trimap holding ``value`` (0, 128 or 255) everywhere."""
    _check_value(value, allow_erase=False)
    h, w = (int(v) for v in shape[:2])
    return np.full((h, w), value, np.uint8)


def region_at(trimap, point) -> np.ndarray:
    """(H, W) bool: the 4-connected region of equal trimap value holding pixel ``point``.

    Parameters
    ----------
    trimap : (H, W) uint8 trimap (0 / 128 / 255; float 0 / 0.5 / 1 accepted)
    point : (x, y)
        Image pixel coordinates (x right, y down, continuous: pixel ``(i, j)`` covers
        ``i <= x < i + 1``). ``ValueError`` when it lies outside the image.
    """
    trimap = _as_trimap(trimap)
    x, y = as_point(point, trimap.shape, "fill point")
    return flood(trimap, (int(y), int(x)), connectivity=1)


def flood_fill(trimap, point, value: int, base=None) -> np.ndarray:
    """Fill the region of :func:`region_at` ``point`` with ``value``.

    Parameters
    ----------
    trimap : (H, W) uint8 trimap
    point : (x, y) image pixel coordinates; ``ValueError`` outside the image.
    value : {0, 128, 255, ERASE}
        What the region becomes; :data:`ERASE` copies ``base`` there.
    base : (H, W) uint8 trimap, needed with ``ERASE``.

    Returns
    -------
    (H, W) uint8: a new trimap (the input is not changed).
    """
    trimap = _as_trimap(trimap)
    return _apply(trimap, region_at(trimap, point), value, base)


def paint(trimap, stroke: Stroke, base=None) -> np.ndarray:
    """Paint a brush ``stroke`` (``core.strokes.Stroke``) with its ``value``.

    Parameters
    ----------
    trimap : (H, W) uint8 trimap
    stroke : Stroke
        Its ``value`` is 0, 128, 255 or :data:`ERASE` (copies ``base`` where it passes).
    base : (H, W) uint8 trimap, needed for an eraser stroke.

    Returns
    -------
    (H, W) uint8: a new trimap (the input is not changed).
    """
    trimap = _as_trimap(trimap)
    _check_value(stroke.value)  # before rasterising the stroke
    return _apply(trimap, stroke.mask(trimap.shape), stroke.value, base)


def trimap_counts(trimap) -> dict[str, int]:
    """Pixels per class: ``{"foreground": n, "unknown": n, "background": n}``."""
    trimap = _as_trimap(trimap)
    return {name: int(np.count_nonzero(trimap == value))
            for name, value in (("foreground", FOREGROUND), ("unknown", UNKNOWN), ("background", BACKGROUND))}


class TrimapEditor:
    """A trimap under edit with undo / redo, independent of any UI.

    Parameters
    ----------
    initial : (H, W) uint8 trimap (or float 0 / 0.5 / 1)
        Where editing starts: the base the eraser and :meth:`reset` return to.
    history_limit : int, optional
        Most trimaps kept on the undo stack (each costs H x W bytes). None: no bound.

    Every edit returns whether the trimap changed; an edit that changes nothing
    adds no undo step. States are read-only arrays: copy :attr:`trimap` to edit it
    elsewhere.
    """

    def __init__(self, initial, history_limit: int | None = 64):
        initial = np.asarray(initial)
        self.base = _frozen(_as_trimap(initial))
        self.shape = self.base.shape
        self.history: History[np.ndarray] = History(self.base, limit=history_limit)

    @property
    def trimap(self) -> np.ndarray:
        """(H, W) uint8, read-only: the current trimap."""
        return self.history.current

    @property
    def can_undo(self) -> bool:
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.history.can_redo

    def paint(self, stroke: Stroke) -> bool:
        """Apply a brush stroke (value 0 / 128 / 255, or ``ERASE`` back to :attr:`base`)."""
        return self._push(paint(self.trimap, stroke, self.base))

    def fill(self, point, value: int) -> bool:
        """Flood-fill the region under image pixel ``point`` (x, y) with ``value``
        (or ``ERASE``: the region returns to :attr:`base`)."""
        return self._push(flood_fill(self.trimap, point, value, self.base))

    def replace(self, trimap) -> bool:
        """Make ``trimap`` (same shape, validated) the current one, as one undoable edit."""
        return self._push(as_trimap(trimap, self.shape))

    def undo(self) -> None:
        """Back to the trimap before the last edit; ``RuntimeError`` when there is none."""
        self.history.undo()

    def redo(self) -> None:
        """Re-apply the last undone edit; ``RuntimeError`` when there is none."""
        self.history.redo()

    def reset(self) -> None:
        """Back to :attr:`base`, with nothing to undo or redo."""
        self.history.reset()

    def restore(self, trimap) -> None:
        """Continue from a saved ``trimap`` (validated first; nothing changes when it is
        refused); undo then goes back to :attr:`base`."""
        trimap = _frozen(as_trimap(trimap, self.shape))
        self.history.reset()
        self.history.push(trimap)

    def _push(self, trimap: np.ndarray) -> bool:
        if np.array_equal(trimap, self.trimap):
            return False
        self.history.push(_frozen(trimap))
        return True


def _as_trimap(trimap) -> np.ndarray:
    trimap = np.asarray(trimap)
    if trimap.ndim != 2:
        raise ValueError(f"expected an (H, W) trimap, got shape {trimap.shape}")
    return as_trimap(trimap, trimap.shape)


def _check_value(value, allow_erase: bool = True) -> None:
    allowed = TRIMAP_VALUES + ((ERASE,) if allow_erase else ())
    if value not in allowed:
        what = " or ERASE (-1)" if allow_erase else ""
        raise ValueError(f"a trimap value is 0 (background), 128 (unknown) or 255 (foreground){what}; got {value!r}")


def _apply(trimap: np.ndarray, where: np.ndarray, value: int, base) -> np.ndarray:
    _check_value(value)
    if value == ERASE:
        if base is None:
            raise ValueError("erasing needs the base trimap the pixels return to")
        return np.where(where, as_trimap(base, trimap.shape, "base trimap"), trimap).astype(np.uint8)
    out = trimap.copy()
    out[where] = value
    return out


def _frozen(trimap: np.ndarray) -> np.ndarray:
    """A read-only copy (history states must not change under the stack)."""
    out = np.array(trimap, np.uint8, copy=True)
    out.flags.writeable = False
    return out
