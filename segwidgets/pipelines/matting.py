"""Learning-based sampling matting: trimap -> background -> foreground -> alpha.

Three networks run in order on windows around the trimap's unknown region
(``core.crops.CropWindow``); the alpha network at full resolution, the colour
networks at half (:data:`COLOR_SCALE`):

1. ``matting_background``: RGB + trimap -> the background colours behind the object;
2. ``matting_foreground``: RGB + trimap + background -> the foreground colours;
3. ``matting_alpha``: RGB + trimap + background + foreground -> alpha;

then a colour guided filter (``core.filters.guided_filter``) fits the network's alpha
to the image's local colour lines, recovering edges and gaps the network smoothed,
and values within :data:`REFINE_STRETCH` of 0 / 1 are taken to 0 / 1 (the network's
own alpha stays in ``MattingResult.network_alpha``).

Known pixels keep their known values (alpha 0 / 1, the image's own colour as the
known background / foreground). Only windows that hold unknown pixels are run, so
a 12 MP photo with a thin unknown band costs what its band costs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy import ndimage

from ..core.crops import CropWindow
from ..core.engine import get_default_engine
from ..core.filters import guided_filter, resize_bilinear
from ..core.image import as_mask, as_rgb_image, as_trimap
from ..core.trimap import BACKGROUND, FOREGROUND, UNKNOWN

#: The colour networks run on the window shrunk by this factor (their output is enlarged back).
COLOR_SCALE = 0.5
#: Registry names of the three networks, in the order they run.
STAGES = ("matting_background", "matting_foreground", "matting_alpha")
#: A single window is used while the unknown region's box (plus margin) has at most this many pixels.
MAX_WINDOW_PIXELS = 1_500_000
#: Otherwise square tiles of this side (pixels), each run with ``margin`` pixels of context around it.
TILE = 384
#: Guided-filter refinement of the alpha network's output: window radius (pixels) and regularisation.
#: Chosen on the fine-tuning mattes GT01..GT08 only (SAD 5.02 -> 4.57, MSE 0.0089 -> 0.0055 there).
REFINE_RADIUS = 12
REFINE_EPS = 1e-5
#: The filtered alpha's values within this of 0 / 1 are the filter's ripple over flat regions:
#: [t, 1 - t] is stretched onto [0, 1] (:func:`stretch_alpha`). Chosen on GT01..GT08 only
#: (SAD 3.87 -> 3.33 / 4.30 -> 3.69 with trimap1 / trimap2, MSE 0.0049 -> 0.0045 / 0.0044 -> 0.0044).
REFINE_STRETCH = 0.05


@dataclass(frozen=True)
class MattingResult:
    """The matte and the colours that produced it.

    Attributes
    ----------
    alpha : (H, W) float32 in [0, 1]
        Opacity of the foreground; the trimap's known pixels keep 0 / 1.
    network_alpha : (H, W) float32 in [0, 1]
        The alpha network's output before the guided-filter refinement (equal to
        ``alpha`` when ``estimate_alpha(..., refine=False)``).
    foreground : (H, W, 3) float32 in [0, 1]
        Foreground colours: the image where the trimap says foreground, the foreground
        network's estimate in the unknown region, 0 in the known background.
    background : (H, W, 3) float32 in [0, 1]
        Background colours: the image in the known background, the background network's
        estimate inside the windows (behind the object), 0 in known foreground outside them.
    trimap : (H, W) uint8
        The trimap used: 0 background, 128 unknown, 255 foreground.
    image : (H, W, 3) uint8
        The input image.
    windows : tuple of (x0, y0, x1, y1)
        Image regions the networks ran on (each with its context margin).
    timings : dict
        Seconds per network ("background", "foreground", "alpha"), for the guided filter
        ("refine") and "total".
    """

    alpha: np.ndarray
    network_alpha: np.ndarray
    foreground: np.ndarray
    background: np.ndarray
    trimap: np.ndarray
    image: np.ndarray = field(repr=False)
    windows: tuple
    timings: dict

    def composite(self, new_background) -> np.ndarray:
        """The foreground over ``new_background``: ``alpha F + (1 - alpha) new_background``.

        Parameters
        ----------
        new_background : (h, w, 3) uint8 image (resized to the image's size when it differs),
            or a colour ``(r, g, b)`` in 0..255.

        Returns
        -------
        (H, W, 3) uint8
        """
        h, w = self.alpha.shape
        values = np.asarray(new_background)
        if values.ndim == 1 and values.shape == (3,):
            if np.any(values < 0) or np.any(values > 255):
                raise ValueError(f"a background colour is (r, g, b) in 0..255, got {values.tolist()}")
            back = np.broadcast_to(values.astype(np.float32) / 255, (h, w, 3))
        else:
            image = as_rgb_image(new_background)
            if image.shape[:2] != (h, w):
                image = np.asarray(Image.fromarray(image).resize((w, h), Image.BILINEAR))
            back = np.asarray(image, np.float32) / 255
        a = self.alpha[..., None]
        out = a * self.foreground + (1 - a) * back
        return np.clip(np.round(out * 255), 0, 255).astype(np.uint8)

    def cutout(self) -> np.ndarray:
        """(H, W, 4) uint8 RGBA: the foreground colours with alpha as opacity."""
        rgba = np.concatenate([self.foreground, self.alpha[..., None]], axis=2)
        return np.clip(np.round(rgba * 255), 0, 255).astype(np.uint8)


def trimap_from_mask(mask, band_px: int = 10) -> np.ndarray:
    """A trimap from a binary mask: ``band_px`` pixels on each side of its outline are unknown.

    Parameters
    ----------
    mask : (H, W) bool (or integer, > 0 is object)
    band_px : int
        Half-width of the unknown band in pixels (on each side of the edge), >= 1.

    Returns
    -------
    (H, W) uint8: 0 background, 128 unknown, 255 foreground.
    """
    mask = np.asarray(mask)
    mask = as_mask(mask, mask.shape[:2])
    if band_px < 1:
        raise ValueError(f"band_px must be >= 1, got {band_px}")
    trimap = np.where(mask, FOREGROUND, BACKGROUND).astype(np.uint8)
    # The pixels on both sides of the outline; the band reaches band_px - 1 further on each side.
    edge = (mask ^ ndimage.binary_erosion(mask, border_value=1)) | (ndimage.binary_dilation(mask) & ~mask)
    if not edge.any():
        return trimap
    # The distance transform only where the band can reach: cost follows the outline, not the photo.
    ys, xs = np.nonzero(edge)
    y0, x0 = max(0, ys.min() - band_px - 1), max(0, xs.min() - band_px - 1)
    y1, x1 = min(mask.shape[0], ys.max() + band_px + 2), min(mask.shape[1], xs.max() + band_px + 2)
    near = ndimage.distance_transform_edt(~edge[y0:y1, x0:x1]) < band_px
    trimap[y0:y1, x0:x1][near] = UNKNOWN
    return trimap


def stretch_alpha(alpha: np.ndarray, margin: float) -> np.ndarray:
    """``alpha`` with [margin, 1 - margin] mapped linearly onto [0, 1] and clipped there.

    Parameters
    ----------
    alpha : (H, W) float
        Values roughly in [0, 1] (a filter's output may overshoot).
    margin : float in [0, 0.5)
        Values at most ``margin`` become 0, at least ``1 - margin`` become 1.

    Returns
    -------
    (H, W) float32 in [0, 1]
    """
    if not 0 <= margin < 0.5:
        raise ValueError(f"margin must be in [0, 0.5), got {margin}")
    return np.clip((alpha - margin) / (1 - 2 * margin), 0, 1).astype(np.float32)


def check_trimap(trimap, shape) -> np.ndarray:
    """:func:`core.image.as_trimap`, plus: it must hold unknown, known foreground and known background pixels."""
    trimap = as_trimap(trimap, shape)
    for value, what in ((UNKNOWN, "unknown (128)"), (FOREGROUND, "known foreground (255)"),
                        (BACKGROUND, "known background (0)")):
        if not (trimap == value).any():
            raise ValueError(f"the trimap has no {what} pixels; matting needs unknown, foreground and background "
                             "regions (paint them, or use trimap_from_mask)")
    return trimap


def plan_windows(unknown: np.ndarray, margin: int, tile: int = TILE,
                 max_pixels: int = MAX_WINDOW_PIXELS) -> list[tuple[CropWindow, tuple[int, int, int, int]]]:
    """Where to run the networks: ``(window, core)`` pairs covering every unknown pixel.

    One window (the unknown pixels' box grown by ``margin``) while it has at most
    ``max_pixels`` pixels; else ``tile`` x ``tile`` cores on a grid over that box,
    only those holding unknown pixels, each grown by ``margin`` for context.
    Windows are at scale 1 (full resolution); a window's result is kept on its core.
    """
    h, w = unknown.shape
    rows, cols = np.nonzero(unknown.any(axis=1))[0], np.nonzero(unknown.any(axis=0))[0]
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)

    def window(core):
        x0, y0, x1, y1 = core
        region = (max(0, x0 - margin), max(0, y0 - margin), min(w, x1 + margin), min(h, y1 + margin))
        return CropWindow(region, (region[3] - region[1], region[2] - region[0]), (h, w))

    whole = window(box)
    if whole.size[0] * whole.size[1] <= max_pixels:
        return [(whole, whole.region)]
    plans = []
    for y0 in range(box[1], box[3], tile):
        for x0 in range(box[0], box[2], tile):
            core = (x0, y0, min(x0 + tile, box[2]), min(y0 + tile, box[3]))
            if unknown[core[1]:core[3], core[0]:core[2]].any():
                plans.append((window(core), core))
    return plans


def estimate_alpha(image, trimap, *, engine=None, margin: int = 32, tile: int = TILE,
                   max_window_pixels: int = MAX_WINDOW_PIXELS, refine: bool = True,
                   callback=None) -> MattingResult:
    """Alpha matte, foreground and background colours of ``image`` given a trimap.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB (or PIL image / path)
    trimap : (H, W) uint8 with 0 / 128 / 255, or float with 0 / 0.5 / 1
        Background, unknown, foreground. It needs all three (``ValueError`` otherwise,
        also for another size or other values).
    engine : core.engine.Engine, optional
        Default: the process-wide engine.
    margin : int
        Context pixels around the unknown region (or each tile) that the networks see.
    tile, max_window_pixels : int
        Tiling of large unknown regions (see :func:`plan_windows`).
    refine : bool
        Refine the network's alpha with the colour guided filter (:data:`REFINE_RADIUS`,
        :data:`REFINE_EPS`) inside each window, then :func:`stretch_alpha` by
        :data:`REFINE_STRETCH`; known pixels are never changed.
    callback : callable, optional
        ``callback(done, total)`` after each window (for progress bars).

    Returns
    -------
    MattingResult
    """
    started = time.perf_counter()
    image = as_rgb_image(image)
    trimap = check_trimap(trimap, image.shape[:2])
    engine = engine or get_default_engine()
    known_fg, known_bg = trimap == FOREGROUND, trimap == BACKGROUND
    alpha = known_fg.astype(np.float32)
    network_alpha = alpha.copy()
    # Known colours written straight into the outputs: no full-frame float copy of a 12 MP photo.
    foreground, background = np.zeros(image.shape, np.float32), np.zeros(image.shape, np.float32)
    np.divide(image, np.float32(255), out=foreground, where=known_fg[..., None])
    np.divide(image, np.float32(255), out=background, where=known_bg[..., None])
    timings = dict.fromkeys(("background", "foreground", "alpha", "refine"), 0.0)
    plans = plan_windows(trimap == UNKNOWN, margin, tile, max_window_pixels)
    for index, (window, core) in enumerate(plans):
        rows, cols = window.region_slices
        local = _run_window(engine, image[rows, cols], trimap[rows, cols], timings, refine)
        cx0, cy0, cx1, cy1 = core
        x0, y0 = window.region[:2]
        inner = slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0)
        target = slice(cy0, cy1), slice(cx0, cx1)
        alpha[target], network_alpha[target], foreground[target], background[target] = (v[inner] for v in local)
        if callback is not None:
            callback(index + 1, len(plans))
    timings["total"] = time.perf_counter() - started
    return MattingResult(alpha, network_alpha, foreground, background, trimap, image, tuple(w.region for w, _ in plans),
                         {k: round(v, 4) for k, v in timings.items()})


def _run_window(engine, image, trimap, timings, refine):
    """The three networks (and the refinement) on one window; known pixels keep their known values.

    The colour networks run at :data:`COLOR_SCALE` (colours behind and in front of an
    edge vary slowly), the alpha network at full resolution.
    """
    rgb = image.astype(np.float32) / 255
    plane = np.where(trimap == UNKNOWN, 0.5, trimap == FOREGROUND).astype(np.float32)
    known_fg, known_bg = (trimap == FOREGROUND)[..., None], (trimap == BACKGROUND)[..., None]
    h, w = trimap.shape
    small = CropWindow.whole((h, w), size=(max(1, round(h * COLOR_SCALE)), max(1, round(w * COLOR_SCALE))))
    t = time.perf_counter()
    background = resize_bilinear(engine.infer(STAGES[0], image, small, trimap=plane)["background"], (h, w))
    background = np.where(known_bg, rgb, background)
    timings["background"] += time.perf_counter() - t
    t = time.perf_counter()
    foreground = resize_bilinear(engine.infer(STAGES[1], image, small, trimap=plane, background=background)["foreground"], (h, w))
    foreground = np.where(known_fg, rgb, foreground)
    timings["foreground"] += time.perf_counter() - t
    t = time.perf_counter()
    alpha = engine.infer(STAGES[2], image, trimap=plane, background=background, foreground=foreground)["alpha"]
    timings["alpha"] += time.perf_counter() - t
    unknown = trimap == UNKNOWN
    network_alpha = np.where(unknown, alpha, plane).astype(np.float32)
    alpha = network_alpha
    if refine:
        t = time.perf_counter()
        fitted = stretch_alpha(guided_filter(rgb, network_alpha, REFINE_RADIUS, REFINE_EPS), REFINE_STRETCH)
        alpha = np.where(unknown, fitted, plane).astype(np.float32)
        timings["refine"] += time.perf_counter() - t
    foreground = np.where(known_bg, 0, foreground).astype(np.float32)
    return alpha, network_alpha, foreground, background.astype(np.float32)

