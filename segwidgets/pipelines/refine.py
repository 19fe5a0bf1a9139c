"""The one refinement step every pipeline shares: a network's maps refined by the graph cut.

``refine_with_graph_cut`` takes a probability map P and a boundary map B (the
refinement map is R = P * B), the pixels the user fixed (:class:`Seeds`) and the
graph-cut settings; it confines the optimisation to where the network is unsure
and returns the mask with the recorded trace. The click and boundary-aware
pipelines call it; matting trimaps and semantic segments can call it the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..graphcut import GraphCutSettings, GraphCutTrace, fill_holes, graph_cut
from ..graphcut.resolution import block_mean, upscale_mask, working_scale

#: The graph-cut window keeps at least this many pixels around what may change (colour context).
MIN_WINDOW_MARGIN = 8
#: A graph-cut window larger than this many pixels is cut at a reduced working resolution
#: (whole-pixel block averages) and its mask brought back to full resolution (12 MP photos).
MAX_CUT_PIXELS = 600_000

#: The note of a cut that found no network object to start from (:attr:`Refinement.notes`).
NO_NETWORK_OBJECT = "the network found no object here; the graph cut starts from everything the seeds allow"


@dataclass(frozen=True)
class Seeds:
    """Pixels the user fixed, as (H, W) bool masks (None: none). They must not overlap:
    the caller decides which wins (e.g. the later click)."""

    object: np.ndarray | None = None
    background: np.ndarray | None = None


@dataclass(frozen=True)
class Refinement:
    """What :func:`refine_with_graph_cut` produced.

    Attributes
    ----------
    mask : (H, W) bool
        The refined mask (holes filled), or the starting mask when the graph cut was skipped.
    trace : GraphCutTrace or None
        The graph-cut iterations, in the coordinates of ``window``; None when skipped.
    window : (x0, y0, x1, y1) int or None
        Where the graph cut ran, in pixels of the input arrays.
    scale : int
        The trace's pixels are ``scale`` x ``scale`` blocks of input pixels (1: full
        resolution; more when the input had over ``max_pixels`` pixels). ``window`` is in
        input pixels either way.
    notes : tuple of str
        What the caller may want to warn about: the network saw no object (the cut
        started from the seeds), or the cut could not run (no colours to learn from).
    """

    mask: np.ndarray = field(repr=False)
    trace: GraphCutTrace | None = field(repr=False)
    window: tuple[int, int, int, int] | None
    notes: tuple[str, ...] = ()
    scale: int = 1


def uncertain_region(probability: np.ndarray, band_px: float | None, low: float = 0.2, high: float = 0.8) -> np.ndarray:
    """Pixels the graph cut may relabel: within ``band_px`` of the ``P > 0.5``
    edge, or with ``low < P < high``. ``band_px=None`` frees every pixel.

    Parameters
    ----------
    probability : (H, W) float32 in [0, 1]
    band_px : float or None
        Half-width of the band around the network's mask edge, pixels.

    Returns
    -------
    (H, W) bool
    """
    if band_px is None:
        return np.ones(probability.shape, bool)
    mask = probability > 0.5
    edge = mask ^ ndimage.binary_erosion(mask, border_value=1)
    near = ndimage.distance_transform_edt(~edge) <= band_px if edge.any() else np.zeros_like(mask)
    return near | ((probability > low) & (probability < high))


#: Accepted values of ``holes`` (see :func:`fill_object_holes`).
HOLE_MODES = ("fill", "network", "keep")


def check_hole_mode(holes) -> str:
    """``holes`` if it is one of :data:`HOLE_MODES`, else ``ValueError`` naming them."""
    if holes not in HOLE_MODES:
        raise ValueError(f"holes must be one of {HOLE_MODES}, got {holes!r}")
    return holes


def fill_object_holes(mask: np.ndarray, network: np.ndarray, holes: str = "fill") -> np.ndarray:
    """``mask`` (H, W) bool with the background regions it encloses filled as ``holes`` says.

    ``"fill"``: every enclosed region becomes object; ``"network"``: only the enclosed pixels
    that ``network`` ((H, W) bool, the network's object mask) holds; ``"keep"``: none.
    """
    if holes == "keep":
        return mask
    filled = fill_holes(mask)
    return filled if holes == "fill" else mask | (filled & network)


def refine_with_graph_cut(
    image: np.ndarray,
    probability: np.ndarray,
    boundary: np.ndarray,
    seeds: Seeds | None = None,
    settings: GraphCutSettings | None = None,
    *,
    band_px: float | None = None,
    network_mask: np.ndarray | None = None,
    empty_start: str = "allowed",
    window_margin: float | None = None,
    max_pixels: int | None = MAX_CUT_PIXELS,
    callback=None,
    superpixels: np.ndarray | None = None,
    holes: str = "fill",
) -> Refinement:
    """Refine a network's object probability with the iterated graph cut.

    The network's mask (``P > 0.5``, or ``network_mask``) is the starting labelling
    and, outside the uncertain band, a hard constraint; inside the band the colour
    models (blended with ``-log P``) and the pairwise term (cheap where R = P * B
    says edge) decide. User seeds are hard constraints everywhere.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB
    probability, boundary : (H, W) float32 in [0, 1]
        P and B on the same pixels as ``image``.
    seeds : Seeds, optional
        Pixels fixed to object / background (clicks, a box's outside, a point).
    settings : GraphCutSettings, optional
        Graph-cut parameters (the prior is P, the refinement map R = P * B).
    band_px : float or None
        Only pixels within ``band_px`` of the ``P > 0.5`` edge, or with 0.2 < P < 0.8,
        may change (see :func:`uncertain_region`); None frees every unseeded pixel.
    network_mask : (H, W) bool, optional
        The network's answer when it is not plain ``P > 0.5`` (e.g. only the clicked parts).
    empty_start : {"allowed", "seeds"}
        When the network sees no object: ``"allowed"`` starts from every pixel the
        background seeds allow, all free (a colour segmentation of that region: a box
        or a crop around a point); ``"seeds"`` starts from the object seeds with only the
        uncertain band free (a click is a tiny seed, not a region).
    window_margin : float or None
        Run the cut only on the box around the pixels that may change, grown by this
        fraction of the image's longest side (at least :data:`MIN_WINDOW_MARGIN` px):
        cheaper for small objects, and the colour models stay local. None: the whole input.
    max_pixels : int or None
        Inputs with more pixels are refined at a working resolution of ``scale`` x ``scale``
        pixel blocks (the smallest whole ``scale`` that brings them under ``max_pixels``):
        the image and maps become block means, a block is a background seed where all its
        pixels are and an object seed where any is (a click's disc stays a seed). The mask
        is brought back to full resolution by interpolation, with the full-resolution seeds
        re-imposed; ``Refinement.scale`` says the trace's pixels are blocks. None: always
        full resolution.
    callback : callable, optional
        ``callback(state)`` after each graph-cut iteration.
    superpixels : (H, W) int array, optional
        Superpixels of ``image`` for the graph cut's superpixel moves (see
        ``graphcut.edge_superpixels``): computed once per image by a caller that refines
        many crops of it, instead of once per cut. Not used at a working resolution.
    holes : {"fill", "network", "keep"}
        Background regions the refined mask encloses (:func:`fill_object_holes`): ``"fill"``
        makes them object; ``"network"`` only their pixels the network calls object (a hole
        the network sees, such as a wheel's inside, stays open); ``"keep"`` leaves them.

    Returns
    -------
    Refinement
        Without a trace (mask = the start) when no pixel may change, the start is
        all object or all background, or there are no colours to learn a model from.
    """
    h, w = probability.shape
    none = np.zeros((h, w), bool)
    seeds = seeds or Seeds()
    fg = none if seeds.object is None else seeds.object
    bg = none if seeds.background is None else seeds.background
    if (fg & bg).any():
        raise ValueError("object and background seeds overlap; decide which wins before refining")
    if empty_start not in ("allowed", "seeds"):
        raise ValueError(f"empty_start must be 'allowed' or 'seeds', got {empty_start!r}")
    check_hole_mode(holes)
    scale = working_scale((0, 0, w, h), max_pixels)
    if scale > 1:
        return _refine_at_working_resolution(
            image, probability, boundary, fg, bg, scale, band_px, network_mask, settings=settings,
            empty_start=empty_start, window_margin=window_margin, callback=callback, holes=holes,
        )
    net = (probability > 0.5 if network_mask is None else network_mask) & ~bg
    notes = ()
    if net.any() or empty_start == "seeds":
        free = uncertain_region(probability, band_px)
        start = (net | fg) & ~bg
    else:  # the network sees nothing: a colour segmentation of what the seeds allow
        free = ~(fg | bg)
        start = ~bg
        notes = (NO_NETWORK_OBJECT,)
    fixed_fg = (net & ~free) | fg
    fixed_bg = (bg | (~net & ~free)) & ~fg
    movable = ~(fixed_fg | fixed_bg)
    if not movable.any() or start.all() or not start.any():  # nothing for the cut to decide
        return Refinement(start, None, None, notes)
    window = _window(movable, window_margin)
    rows, cols = slice(window[1], window[3]), slice(window[0], window[2])
    try:
        trace = graph_cut(
            image[rows, cols], mask=start[rows, cols], fg_seeds=fixed_fg[rows, cols], bg_seeds=fixed_bg[rows, cols],
            prior=probability[rows, cols], refinement=(probability * boundary)[rows, cols], settings=settings,
            callback=callback, superpixels=None if superpixels is None else superpixels[rows, cols],
        )
    except ValueError as exc:  # e.g. no background colours to learn from: keep the network's answer
        return Refinement(start, None, None, notes + (f"graph cut skipped: {exc}",))
    mask = start.copy()
    mask[rows, cols] = trace.final_mask
    return Refinement(fill_object_holes(mask, net | fg, holes), trace, window, notes)


def _refine_at_working_resolution(image, probability, boundary, fg, bg, scale, band_px, network_mask, **options):
    """:func:`refine_with_graph_cut` on ``scale`` x ``scale`` block means of the inputs, its mask
    brought back to full resolution with the full-resolution seeds ``fg``, ``bg`` ((H, W) bool)
    re-imposed."""
    h, w = probability.shape
    small_fg = block_mean(fg, scale) > 0  # a click's disc stays a seed
    small_bg = (block_mean(bg, scale) == 1) & ~small_fg  # blocks the seeds only partly cover are free
    net = probability > 0.5 if network_mask is None else network_mask
    small = refine_with_graph_cut(
        block_mean(image, scale), block_mean(probability, scale), block_mean(boundary, scale),
        Seeds(small_fg, small_bg), band_px=None if band_px is None else max(1.0, band_px / scale),
        network_mask=block_mean(net, scale) > 0.5, max_pixels=None, **options,
    )
    mask = (upscale_mask(small.mask, scale, (h, w)) | fg) & ~bg
    window = None
    if small.window is not None:
        x0, y0, x1, y1 = small.window
        window = (x0 * scale, y0 * scale, min(w, x1 * scale), min(h, y1 * scale))
    return Refinement(mask, small.trace, window, small.notes, scale)


def _window(movable: np.ndarray, margin: float | None) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)``: the whole array, or the box around ``movable`` grown by ``margin``."""
    h, w = movable.shape
    if margin is None:
        return 0, 0, w, h
    ys, xs = np.nonzero(movable)
    pad = max(MIN_WINDOW_MARGIN, int(margin * max(h, w)))
    return max(0, xs.min() - pad), max(0, ys.min() - pad), min(w, xs.max() + 1 + pad), min(h, ys.max() + 1 + pad)
