"""Query-search pictures: thresholded heat maps, a colour bar, box labels, zoomed regions (no UI).

Used by ``widgets.query_finder`` and usable in scripts: everything takes and
returns numpy arrays (boxes are ``(x0, y0, x1, y1)`` image pixels, half-open).
"""
from __future__ import annotations

import numpy as np

from ..core.crops import CropWindow
from .colors import map_to_rgba
from .composite import checkerboard, composite
from .matte import region_picture

#: Default colour map of heat maps (dark purple -> red -> yellow).
HEAT_COLORMAP = "inferno"
#: Outline colours of the found boxes by rank (best first; cool colours, none of them in ``inferno``).
BOX_COLORS = ("#22d3ee", "#a3e635", "#60a5fa", "#f8fafc", "#2dd4bf")
#: Outline colour of the query box on its source image.
QUERY_BOX_COLOR = "#facc15"


def heat_to_rgba(heat: np.ndarray, threshold: float = 0.0, colormap: str = HEAT_COLORMAP,
                 opacity: float = 1.0) -> np.ndarray:
    """An (H, W) heat map in [0, 1] through ``colormap`` (range fixed to [0, 1]); pixels below
    ``threshold`` are transparent. Returns (H, W, 4) uint8."""
    heat = np.asarray(heat, np.float32)
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    shown = np.where(heat >= threshold, heat, np.nan) if threshold > 0 else heat
    return map_to_rgba(shown, colormap, opacity, vmin=0.0, vmax=1.0)


def colorbar(colormap: str = HEAT_COLORMAP, width: int = 200, height: int = 12, threshold: float = 0.0,
             tile: int = 4) -> np.ndarray:
    """A horizontal colour bar for values 0 (left) .. 1 (right), (height, width, 3) uint8.

    The part below ``threshold`` (not shown on the maps) is a grey checkerboard.
    """
    if width < 2 or height < 1:
        raise ValueError(f"a colour bar needs width >= 2 and height >= 1, got {width}x{height}")
    ramp = np.repeat(np.linspace(0.0, 1.0, width, dtype=np.float32)[None], height, axis=0)
    return composite(checkerboard((height, width), tile), heat_to_rgba(ramp, threshold, colormap, 1.0))


def box_labels(scores) -> list[str]:
    """``"#rank score"`` text for boxes ranked best first, e.g. ``["#1 0.83", "#2 0.41"]``."""
    return [f"#{rank} {float(score):.2f}" for rank, score in enumerate(np.asarray(scores).reshape(-1), start=1)]


def box_color(rank: int) -> str:
    """CSS outline colour of the box of 0-based ``rank`` (the palette repeats after :data:`BOX_COLORS`)."""
    return BOX_COLORS[rank % len(BOX_COLORS)]


def box_at(boxes, x: float, y: float) -> int | None:
    """Index of the box holding the point ``(x, y)`` (image pixels), or None.

    Of several boxes holding it, the smallest (then the better ranked, i.e. the
    lower index): a click on a small box inside a larger one picks the small one.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    inside = (boxes[:, 0] <= x) & (x < boxes[:, 2]) & (boxes[:, 1] <= y) & (y < boxes[:, 3])
    if not inside.any():
        return None
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    candidates = np.nonzero(inside)[0]
    return int(candidates[np.argmin(area[candidates])])  # argmin keeps the first (best ranked) of equal areas


def zoom_region(box, image_size: tuple[int, int], panel_size: tuple[int, int],
                margin: float = 0.25) -> tuple[float, float, float, float]:
    """The region a ``panel_size`` = (h, w) zoom panel shows for ``box``: the box grown by
    ``margin`` x its size on each side, then to the panel's aspect ratio, moved inside the
    image where it fits (centred on the box when larger than the image)."""
    h, w = (float(v) for v in image_size[:2])
    ph, pw = (float(v) for v in panel_size[:2])
    x0, y0, x1, y1 = (float(v) for v in box)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"a box needs x1 > x0 and y1 > y0, got {box!r}")
    bw, bh = (x1 - x0) * (1 + 2 * margin), (y1 - y0) * (1 + 2 * margin)
    if bw / bh < pw / ph:
        bw = bh * pw / ph
    else:
        bh = bw * ph / pw
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    nx0 = cx - bw / 2 if bw >= w else min(max(cx - bw / 2, 0.0), w - bw)
    ny0 = cy - bh / 2 if bh >= h else min(max(cy - bh / 2, 0.0), h - bh)
    return (nx0, ny0, nx0 + bw, ny0 + bh)


def zoom_picture(image: np.ndarray, heat: np.ndarray | None, region, size: tuple[int, int],
                 threshold: float = 0.0, colormap: str = HEAT_COLORMAP, opacity: float = 0.6) -> np.ndarray:
    """``region`` (x0, y0, x1, y1) of ``image`` with its heat map over it (as on the canvas:
    below ``threshold`` not shown, alpha ``opacity``) on a ``size`` = (h, w) grid, (h, w, 3) uint8.

    Only the pixels the region touches are coloured and blended, so zooming into a large
    image costs the region, not the image. Enlarged pixels show as blocks.
    """
    image = np.asarray(image)
    window = CropWindow(region, size, image.shape[:2])
    x0, y0, x1, y1 = window.region
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"the region {tuple(region)!r} lies outside the {image.shape[1]}x{image.shape[0]} image")
    crop = image[y0:y1, x0:x1]
    if heat is not None:
        heat = np.asarray(heat, np.float32)
        if heat.shape != image.shape[:2]:
            raise ValueError(f"the heat map {heat.shape} does not fit the {image.shape[:2]} image")
        crop = composite(crop, heat_to_rgba(heat[y0:y1, x0:x1], threshold, colormap, opacity))
    rx0, ry0, rx1, ry1 = window.box
    return region_picture(crop, (rx0 - x0, ry0 - y0, rx1 - x0, ry1 - y0), size)
