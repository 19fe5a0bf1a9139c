"""Boundary-aware object segmentation: probability (P) and boundary (B) networks,
the refinement map R = P * B, crop expansion and a joint graph-cut optimisation.

Steps of :func:`segment_object`:

1. Find the object: a user box, a user point, or automatically the most
   prominent connected region of P on the whole image (size x centrality x
   confidence).
2. Crop a square around it with a margin and run both networks on the crop.
3. Crop expansion: while R has pixels near a crop side that still lies inside
   the image, grow the crop on that side and run the networks again.
4. Iterated graph cut on the final crop: colour GMM unary blended with -log P,
   pairwise term cheap to cut where R (and the colour contrast) says edge;
   holes filled.
5. Map the mask back to the full image.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import ndimage

from ..core.crops import square_box
from ..core.engine import get_default_engine, register_model
from ..core.image import as_box, as_rgb_image
from ..graphcut import fill_holes, graph_cut
from ..graphcut.trace import GraphCutTrace
from ..nets import ObjectnessNet
from ._crops import crop_input, grow_box, image_tensor, maps_to_region, region_of, region_to_frame, touched_sides
from ._refine import uncertain_region

#: Images whose pixel values vary less than this (standard deviation, levels) have nothing to segment.
BLANK_STD = 2.0

MODEL_NAME = "objectness"
WEIGHTS_FILE = "objectness.safetensors"
register_model(MODEL_NAME, ObjectnessNet, WEIGHTS_FILE)


@dataclass(frozen=True)
class CropStep:
    """One pass of the networks during crop expansion.

    Attributes
    ----------
    box : (x0, y0, x1, y1) floats
        The crop in full-image pixels (may extend past the image; that part is zeros).
    touched : tuple of str
        Sides ("left", "top", "right", "bottom") where R came within the threshold
        of the crop edge; the next crop grows on these. Empty for the last step.
    probability, boundary : (h, w) float32
        P and B at network resolution over ``box``.
    """

    box: tuple[float, float, float, float]
    touched: tuple[str, ...]
    probability: np.ndarray = field(repr=False)
    boundary: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class BoundaryAwareResult:
    """Everything :func:`segment_object` computed.

    Attributes
    ----------
    mask : (H, W) bool
        The final object mask in full-image pixels.
    probability, boundary, refinement : (H, W) float32 in [0, 1]
        P, B and R = P * B from the final crop, resampled to full-image pixels
        (0 outside the crop).
    net_mask : (H, W) bool
        ``probability > 0.5``: the networks alone, without the graph cut.
    object_box : (x0, y0, x1, y1) int or None
        The box the object was located in (the user's, or found); None if no object.
    source : {"box", "point", "auto"}
    crop : (x0, y0, x1, y1) int
        The final crop clipped to the image: where the graph cut ran.
    crop_history : tuple of CropStep
        Every crop the networks saw, first to last.
    trace : GraphCutTrace or None
        The graph-cut iterations, in ``crop`` coordinates (``trace[i].mask`` is
        the crop-sized mask); None when the graph cut was skipped.
    timings : dict
        Seconds spent in "locate", "networks", "graph_cut" and "total".
    warnings : tuple of str
        What went wrong without raising (e.g. no object found).
    """

    mask: np.ndarray
    probability: np.ndarray
    boundary: np.ndarray
    refinement: np.ndarray
    net_mask: np.ndarray
    object_box: tuple[int, int, int, int] | None
    source: str
    crop: tuple[int, int, int, int]
    crop_history: tuple[CropStep, ...]
    trace: GraphCutTrace | None
    timings: dict
    warnings: tuple[str, ...] = ()

    def crop_slices(self) -> tuple[slice, slice]:
        """``(rows, cols)`` slices of the crop, e.g. ``image[result.crop_slices()]``."""
        x0, y0, x1, y1 = self.crop
        return slice(y0, y1), slice(x0, x1)


def _run_networks(model, image_t, box, net_size, device, dtype):
    """P and B (2, h, w) torch over ``box``."""
    with torch.inference_mode():
        x = crop_input(image_t, box, net_size).to(dtype)
        return torch.sigmoid(model(x)[0].float())


def locate_object(probability: np.ndarray, point=None, min_area: float = 0.002, threshold: float = 0.5):
    """Pick the most prominent object region of a whole-image probability map.

    Parameters
    ----------
    probability : (H, W) float32 in [0, 1]
    point : (x, y), optional
        Prefer the region containing (or nearest to) this pixel.
    min_area : float
        Smallest region kept, as a fraction of the image.
    threshold : float
        P above which a pixel is object.

    Returns
    -------
    (x0, y0, x1, y1) int box of the chosen region, or None when there is none.
    Regions are scored by ``sqrt(area) * centrality * mean P`` (centrality: 1 at
    the image centre, 0 at a corner).
    """
    h, w = probability.shape
    labels, n = ndimage.label(probability > threshold)
    if n == 0:
        return None
    index = np.arange(1, n + 1)
    areas = ndimage.sum_labels(np.ones_like(probability), labels, index) / (h * w)
    confidence = ndimage.mean(probability, labels, index)
    centres = np.array(ndimage.center_of_mass(np.ones_like(probability), labels, index)).reshape(-1, 2)
    if point is not None:
        px, py = point
        hit = labels[int(py), int(px)]
        if hit:
            chosen = hit
        else:
            distance = np.hypot(centres[:, 0] - py, centres[:, 1] - px)
            near = (distance < 0.15 * np.hypot(h, w)) & (areas >= min_area)
            if not near.any():
                return None
            chosen = index[near][np.argmin(distance[near])]
    else:
        offset = np.hypot((centres[:, 0] - h / 2) / (h / 2), (centres[:, 1] - w / 2) / (w / 2)) / np.sqrt(2)
        score = np.sqrt(areas) * (1 - offset) * confidence
        score[areas < min_area] = -1
        if score.max() < 0:
            return None
        chosen = index[np.argmax(score)]
    ys, xs = np.nonzero(labels == chosen)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def segment_object(
    image,
    box=None,
    point=None,
    *,
    engine=None,
    net_size: int = 224,
    margin: float = 0.2,
    expand: bool = True,
    max_expansions: int = 4,
    expand_step: float = 0.25,
    touch_threshold: float = 0.25,
    touch_band: float = 0.02,
    refine: bool = True,
    band: float | None = 0.05,
    pairwise: str = "combined",
    prior_weight: float = 0.7,
    gamma: float = 10.0,
    beta: float = 1.0,
    iterations: int = 5,
    callback=None,
) -> BoundaryAwareResult:
    """Segment one object with the boundary-aware method.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB array, PIL image or path (see ``core.image.as_rgb_image``).
    box : (x0, y0, x1, y1), optional
        The object's box in image pixels (half-open). Pixels outside it are
        fixed background in the graph cut.
    point : (x, y), optional
        A pixel on the object; it becomes a fixed object pixel.
        With neither box nor point the most prominent object is found automatically.
    engine : core.engine.Engine, optional
        Where the networks run (default: the shared engine; its ``"objectness"``
        model loads ``segwidgets/weights/objectness.safetensors``).
    net_size : int
        Longest side of the network input, pixels (the networks were trained on
        224 px crops; they are most accurate near that scale).
    margin : float
        Crop margin on each side, as a fraction of the object box's longest side.
    expand, max_expansions, expand_step : bool, int, float
        Crop expansion: at most ``max_expansions`` growths, each by ``expand_step``
        x the crop's size on every touched side.
    touch_threshold, touch_band : float
        R above ``touch_threshold`` within ``touch_band`` x the network input's
        longest side of a crop edge counts as touching it.
    refine : bool
        Run the graph cut (False: the result's mask is ``net_mask``).
    band : float or None
        Confine the graph cut to pixels within ``band`` x the crop's longest side
        (at least 3 px) of the ``P > 0.5`` edge or with 0.2 < P < 0.8; the rest
        keeps the networks' label as a hard constraint. None frees the whole crop.
    pairwise : {"boundary", "combined", "contrast"}
        Pairwise term: R alone, R times colour contrast, or colour contrast only.
    prior_weight : float in [0, 1]
        Weight of ``-log P`` against the colour GMM cost in the unary term.
    gamma, beta : float
        Pairwise weight and boundary-term strength (see ``graphcut.graph_cut``).
    iterations : int
        Maximum graph-cut iterations (stops earlier on convergence).
    callback : callable, optional
        ``callback(state)`` after each graph-cut iteration.

    Returns
    -------
    BoundaryAwareResult
        With an empty mask and a warning when there is no object: a blank image
        (pixel standard deviation below :data:`BLANK_STD`) or no region of P above 0.5.

    Raises
    ------
    ValueError
        Bad image, a box outside the image or of zero area, a point outside the image.
    FileNotFoundError, core.weights.WeightsError
        Missing or mismatched weights (the message names the file).
    """
    t_start = time.perf_counter()
    image = as_rgb_image(image)
    h, w = image.shape[:2]
    if box is not None:
        box = as_box(box, (h, w))
    if point is not None:
        px, py = _as_point(point, (h, w))
    engine = engine or get_default_engine()
    model = engine.model(MODEL_NAME)
    device, dtype = engine.device, engine.dtype
    image_t = image_tensor(image, device)
    notes: list[str] = []
    timings = {}

    source = "box" if box is not None else "point" if point is not None else "auto"

    def no_object(message, full=None, whole=None, maps=None):
        warnings.warn(message, stacklevel=3)
        empty = np.zeros((h, w), bool)
        zeros = np.zeros((h, w), np.float32)
        p_full, b_full = (full[0], full[1]) if full is not None else (zeros, zeros)
        history = (CropStep(whole, (), *_np(maps)),) if maps is not None else ()
        return BoundaryAwareResult(
            mask=empty, probability=p_full, boundary=b_full, refinement=p_full * b_full, net_mask=empty,
            object_box=None, source=source, crop=(0, 0, w, h), crop_history=history, trace=None,
            timings={"total": time.perf_counter() - t_start}, warnings=(message,),
        )

    if float(image.std()) < BLANK_STD:
        return no_object(f"no object found: the image is blank (pixel standard deviation < {BLANK_STD} levels)")
    object_box = box
    if object_box is None:
        whole = square_box((0, 0, w, h))
        maps = _run_networks(model, image_t, whole, net_size, device, dtype)
        full = maps_to_region(maps, whole, (0, 0, w, h))
        object_box = locate_object(full[0], None if point is None else (px, py))
        if object_box is None and point is not None:
            side = 0.25 * min(h, w)  # nothing confident under the point: look around it
            object_box = as_box((px - side, py - side, px + side, py + side), (h, w))
            notes.append("no confident object region at the point; searched a window around it")
        if object_box is None:
            return no_object("no object found: the probability network found no region above 0.5", full, whole, maps)
    timings["locate"] = time.perf_counter() - t_start

    # Crop, run the networks, grow the crop while R runs into its sides.
    t0 = time.perf_counter()
    crop_box = square_box(object_box, 1 + 2 * margin)
    history = []
    for attempt in range(max_expansions + 1):
        maps = _run_networks(model, image_t, crop_box, net_size, device, dtype)
        probability, boundary = _np(maps)
        band = max(2, int(round(touch_band * max(probability.shape))))
        touched = touched_sides(probability * boundary, crop_box, (h, w), touch_threshold, band) if expand else ()
        if attempt == max_expansions:
            touched = ()
        history.append(CropStep(crop_box, touched, probability, boundary))
        if not touched:
            break
        crop_box = grow_box(crop_box, touched, expand_step, (h, w))
    region = region_of(crop_box, (h, w))
    x0, y0, x1, y1 = region
    p_region, b_region = maps_to_region(maps, crop_box, region)
    r_region = p_region * b_region
    timings["networks"] = time.perf_counter() - t0

    # Joint optimisation on the crop.
    t0 = time.perf_counter()
    net_region = p_region > 0.5
    outside_box = np.zeros_like(net_region)
    if box is not None:
        outside_box[:] = True
        bx0, by0, bx1, by1 = box
        outside_box[max(0, by0 - y0):max(0, by1 - y0), max(0, bx0 - x0):max(0, bx1 - x0)] = False
        net_region &= ~outside_box
    if net_region.any():
        free = uncertain_region(p_region, None if band is None else max(3.0, band * max(p_region.shape)))
        start = net_region
    else:  # the networks see nothing: plain colour segmentation of the box (or the crop)
        free = np.ones_like(net_region)
        start = ~outside_box
        notes.append("the probability network found no object in the crop; the graph cut starts from the box")
    fg_seeds = net_region & ~free
    bg_seeds = outside_box | (~net_region & ~free)
    if point is not None and x0 <= px < x1 and y0 <= py < y1:
        fg_seeds[py - y0, px - x0] = True
        bg_seeds[py - y0, px - x0] = False
        start[py - y0, px - x0] = True
    mask_region, trace = net_region, None
    if refine:
        try:
            trace = graph_cut(
                image[y0:y1, x0:x1], mask=start, fg_seeds=fg_seeds, bg_seeds=bg_seeds, prior=p_region,
                prior_weight=prior_weight, refinement=r_region, pairwise=pairwise, gamma=gamma, beta=beta,
                max_iterations=iterations, callback=callback,
            )
            mask_region = fill_holes(trace.final_mask)
        except ValueError as exc:  # degenerate start (e.g. P > 0.5 over the whole crop): keep the networks' mask
            notes.append(f"graph cut skipped: {exc}")
    timings["graph_cut"] = time.perf_counter() - t0

    def full_frame(region_array, dtype_):
        return region_to_frame(region_array, region, (h, w), dtype_)

    net_mask = full_frame(p_region > 0.5, bool)
    timings["total"] = time.perf_counter() - t_start
    for note in notes:
        warnings.warn(note, stacklevel=2)
    return BoundaryAwareResult(
        mask=full_frame(mask_region, bool), probability=full_frame(p_region, np.float32),
        boundary=full_frame(b_region, np.float32), refinement=full_frame(r_region, np.float32), net_mask=net_mask,
        object_box=tuple(int(v) for v in object_box), source=source, crop=region, crop_history=tuple(history),
        trace=trace, timings=timings, warnings=tuple(notes),
    )


def _np(maps: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    arr = maps.detach().float().cpu().numpy()
    return arr[0], arr[1]


def _as_point(point, shape) -> tuple[int, int]:
    """Validate an ``(x, y)`` pixel; ``ValueError`` when malformed or outside the image."""
    h, w = shape
    try:
        x, y = (float(v) for v in point)
    except (TypeError, ValueError):
        raise ValueError(f"expected a point (x, y) of two numbers, got {point!r}") from None
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"point {point!r} lies outside the {w}x{h} (width x height) image")
    return int(x), int(y)
