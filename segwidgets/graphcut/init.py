"""Initial labelling and hard constraints for the graph cut.

Exactly one of box, mask or trimap gives the initial labelling; seeds (pixels
the user fixed, e.g. painted or clicked) may be added to any of them, or used
alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.image import as_box, as_mask


@dataclass(frozen=True)
class Initialisation:
    """Where the optimisation starts and what it may not change.

    Attributes
    ----------
    labels : (H, W) bool
        Initial labelling (True = object). ``None`` pixels do not exist: seeds-only
        starts get their free pixels labelled by the colour models (see solver).
    fixed_foreground, fixed_background : (H, W) bool
        Hard constraints; never both True for one pixel.
    labels_from_color : bool
        True when the free pixels have no initial label (seeds only) and the
        solver should label them by colour before the first cut.
    """

    labels: np.ndarray
    fixed_foreground: np.ndarray
    fixed_background: np.ndarray
    labels_from_color: bool = False

    @property
    def free(self) -> np.ndarray:
        return ~(self.fixed_foreground | self.fixed_background)


TRIMAP_BACKGROUND, TRIMAP_UNKNOWN, TRIMAP_FOREGROUND = 0, 128, 255


def make_initialisation(
    shape: tuple[int, int],
    *,
    box=None,
    mask=None,
    trimap=None,
    fg_seeds=None,
    bg_seeds=None,
) -> Initialisation:
    """Build the initial labelling and hard constraints.

    Parameters
    ----------
    shape : (H, W)
    box : (x0, y0, x1, y1), optional
        Pixels outside the box are fixed background; inside start as object.
    mask : (H, W) bool, optional
        Initial labelling; nothing fixed.
    trimap : (H, W) uint8, optional
        0 = fixed background, 255 = fixed object, 128 = unknown (starts as object).
    fg_seeds, bg_seeds : (H, W) bool, optional
        Pixels fixed to object / background, added on top of the above.

    Raises
    ------
    ValueError
        Bad shapes or dtypes; more than one of box/mask/trimap; no starting
        information at all; contradictory seeds; every pixel fixed to a single
        label; an empty trimap (no definite region).
    """
    h, w = shape
    given = [name for name, v in (("box", box), ("mask", mask), ("trimap", trimap)) if v is not None]
    if len(given) > 1:
        raise ValueError(f"give only one of box, mask or trimap; got {', '.join(given)}")
    fixed_fg = np.zeros(shape, bool)
    fixed_bg = np.zeros(shape, bool)
    labels = np.zeros(shape, bool)
    from_color = False
    if box is not None:
        x0, y0, x1, y1 = as_box(box, shape)
        labels[y0:y1, x0:x1] = True
        fixed_bg[:] = True
        fixed_bg[y0:y1, x0:x1] = False
    elif mask is not None:
        labels = as_mask(mask, shape).copy()
    elif trimap is not None:
        trimap = np.asarray(trimap)
        if trimap.shape != (h, w) or trimap.dtype != np.uint8:
            raise ValueError(f"expected a trimap of shape {(h, w)} and dtype uint8 (0/128/255), got {trimap.shape} {trimap.dtype}")
        fixed_fg = trimap == TRIMAP_FOREGROUND
        fixed_bg = trimap == TRIMAP_BACKGROUND
        if not fixed_fg.any() and not fixed_bg.any():
            raise ValueError("trimap has no definite foreground (255) or background (0) pixels; paint some before running")
        labels = ~fixed_bg
    elif fg_seeds is None and bg_seeds is None:
        raise ValueError("nothing to start from: give a box, a mask, a trimap or seeds")
    else:
        from_color = True
    if fg_seeds is not None:
        fg = as_mask(fg_seeds, shape, "fg_seeds")
        fixed_fg = fixed_fg | fg
        fixed_bg = fixed_bg & ~fg  # a user's seed overrides an implicit constraint (e.g. outside the box)
    if bg_seeds is not None:
        bg = as_mask(bg_seeds, shape, "bg_seeds")
        if (bg & fixed_fg).any():
            raise ValueError("some pixels are seeded as both object and background")
        fixed_bg = fixed_bg | bg
    if from_color and (not fixed_fg.any() or not fixed_bg.any()):
        raise ValueError("seeds alone need both object and background seeds to learn the two colour models")
    free = ~(fixed_fg | fixed_bg)
    if not free.any() and not (fixed_fg.any() and fixed_bg.any()):
        which = "object" if fixed_fg.any() else "background"
        raise ValueError(f"every pixel is fixed to {which}: there is nothing to segment")
    labels = (labels & free) | fixed_fg
    return Initialisation(labels=labels, fixed_foreground=fixed_fg, fixed_background=fixed_bg, labels_from_color=from_color)
