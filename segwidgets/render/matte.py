"""Pictures of a matte: alpha as grey, colours as uint8, backdrops, zoomed regions, split views.

Pure functions from arrays to (h, w, 3) uint8 RGB pictures, used by the matte
viewer and usable in scripts. numpy, Pillow, matplotlib's colour names and the
shared crop transform only.
"""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

from ..core.crops import CropWindow
from ..core.image import as_rgb_image
from .composite import checkerboard

#: Kinds of backdrop (:func:`backdrop_kind`); ``CHECKERBOARD`` is also the backdrop that shows transparency.
CHECKERBOARD, COLOR, IMAGE = "checkerboard", "colour", "image"


def to_rgb8(colors: np.ndarray) -> np.ndarray:
    """(H, W, 3) float colours in [0, 1] -> (H, W, 3) uint8 (rounded, clipped); uint8 passes through."""
    colors = np.asarray(colors)
    if colors.ndim != 3 or colors.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) colours, got shape {colors.shape}")
    if colors.dtype == np.uint8:
        return colors
    return np.clip(np.round(colors.astype(np.float32) * 255), 0, 255).astype(np.uint8)


def alpha_to_rgb(alpha: np.ndarray) -> np.ndarray:
    """(H, W) alpha in [0, 1] -> (H, W, 3) uint8 grey (0 black, 1 white)."""
    alpha = np.asarray(alpha, np.float32)
    if alpha.ndim != 2:
        raise ValueError(f"expected an (H, W) alpha matte, got shape {alpha.shape}")
    grey = np.clip(np.round(alpha * 255), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def parse_color(color) -> tuple[int, int, int]:
    """A colour as ``(r, g, b)`` ints in 0..255.

    Accepts ``(r, g, b)`` numbers in 0..255, ``"#rrggbb"`` / ``"#rgb"`` or a CSS / matplotlib
    colour name (``"white"``). ``ValueError`` for anything else.
    """
    if isinstance(color, str):
        from matplotlib.colors import to_rgb

        try:
            return tuple(int(round(v * 255)) for v in to_rgb(color))
        except ValueError:
            raise ValueError(f"not a colour: {color!r} (expected '#rrggbb', a colour name or (r, g, b))") from None
    values = np.asarray(color, dtype=float) if _is_triple(color) else None
    if values is None or not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 255:
        raise ValueError(f"a colour is (r, g, b) in 0..255, '#rrggbb' or a colour name; got {color!r}")
    return tuple(int(round(v)) for v in values)


def backdrop_for(backdrop, shape: tuple[int, int], tile: int = 16) -> np.ndarray:
    """The (H, W, 3) uint8 picture a matte is composited over.

    Parameters
    ----------
    backdrop : "checkerboard", a colour (see :func:`parse_color`) or an image
        (array, PIL image or path to an existing file; RGBA / grey converted as ``core.image.as_rgb_image``
        says, resized to ``shape`` when it differs, aspect not kept).
    shape : (H, W) of the matte.
    tile : checkerboard cell side in pixels.
    """
    h, w = (int(v) for v in shape[:2])
    kind = backdrop_kind(backdrop)
    if kind == CHECKERBOARD:
        return checkerboard((h, w), tile)
    if kind == COLOR:
        return np.broadcast_to(np.asarray(parse_color(backdrop), np.uint8), (h, w, 3)).copy()
    image = as_rgb_image(backdrop)
    if image.shape[:2] != (h, w):  # Pillow's filter repeats the edge pixels (no dark border)
        image = np.asarray(Image.fromarray(image).resize((w, h), Image.Resampling.BILINEAR))
    return image


def backdrop_kind(backdrop) -> str:
    """How :func:`backdrop_for` reads ``backdrop`` (no validation): ``"checkerboard"``,
    ``"colour"`` (``(r, g, b)``, or a string that is not an existing file) or ``"image"``."""
    if isinstance(backdrop, str):
        if backdrop == CHECKERBOARD:
            return CHECKERBOARD
        return IMAGE if os.path.isfile(backdrop) else COLOR
    return COLOR if _is_triple(backdrop) else IMAGE


def aspect_box(box, image_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """``box`` (x0, y0, x1, y1) grown about its centre to the image's aspect ratio, then
    moved inside the image where it fits (the whole image when it is larger).

    What a view of the image's shape shows when zoomed to ``box`` without stretching.
    """
    h, w = (float(v) for v in image_size[:2])
    x0, y0, x1, y1 = (float(v) for v in box)
    bw, bh = x1 - x0, y1 - y0
    if bw <= 0 or bh <= 0:
        raise ValueError(f"a box needs x1 > x0 and y1 > y0, got {box!r}")
    if bw / bh < w / h:
        bw = bh * w / h
    else:
        bh = bw * h / w
    if bw >= w or bh >= h:
        return (0.0, 0.0, w, h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    nx0 = min(max(cx - bw / 2, 0.0), w - bw)
    ny0 = min(max(cy - bh / 2, 0.0), h - bh)
    return (nx0, ny0, nx0 + bw, ny0 + bh)


def region_picture(picture: np.ndarray, box, size: tuple[int, int]) -> np.ndarray:
    """The ``box`` (x0, y0, x1, y1, image pixels) of an (H, W, 3) uint8 picture on an
    ``size`` = (h, w) grid: antialiased when shrinking, nearest pixels when enlarging
    (so zoomed pixels show as blocks). Returns (h, w, 3) uint8."""
    picture = np.asarray(picture)
    window = CropWindow(box, size, picture.shape[:2])
    enlarging = min(window.scale) > 1
    out = window.to_local_map(picture, order=0 if enlarging else 1, antialias=True)
    return out if out.dtype == np.uint8 else np.clip(np.round(out), 0, 255).astype(np.uint8)


def split_picture(left: np.ndarray, right: np.ndarray, fraction: float, line=(255, 255, 255)) -> np.ndarray:
    """Two same-size (h, w, 3) uint8 pictures side by side at a split: columns left of
    ``round(fraction * w)`` from ``left``, the rest from ``right``, and a one-pixel
    ``line`` (None: no line) on the first column of ``right``'s part when the split
    lies inside the picture."""
    left, right = np.asarray(left), np.asarray(right)
    if left.shape != right.shape or left.ndim != 3:
        raise ValueError(f"expected two (h, w, 3) pictures of one size, got {left.shape} and {right.shape}")
    if not 0 <= fraction <= 1:
        raise ValueError(f"the split fraction must be in [0, 1], got {fraction}")
    w = left.shape[1]
    split = int(round(fraction * w))
    out = right.copy()
    out[:, :split] = left[:, :split]
    if line is not None and 0 < split < w:
        out[:, split] = np.asarray(line, np.uint8)[:3]
    return out


def _is_triple(value) -> bool:
    """Whether ``value`` reads as one (r, g, b) colour (not an image)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, np.ndarray)):
        return False
    return np.ndim(value) == 1 and len(value) == 3
