"""Boundary-aware object segmentation: probability (P) and boundary (B) networks,
the refinement map R = P * B, crop expansion and a joint graph-cut optimisation.

:func:`segment_object` is three named steps, each usable on its own:

1. :func:`locate` -- find the object: a user box, a user point, or automatically
   the most prominent connected region of P on the whole image (size x
   centrality x confidence), with every region at least half as prominent
   (``join``). The whole-image pass depends on the image alone,
   so the engine caches it per image.
2. :func:`expand_crop` -- crop a square around it with a margin (a
   ``core.crops.CropWindow``) and run both networks on it; while R has pixels
   near a crop side that still lies inside the image, grow the crop on that
   side and run them again. Every pass averages the maps of the networks in
   ``models`` (:data:`MODEL_NAMES`: three trained differently).
3. :func:`refine_crop` -- the shared graph-cut step (``pipelines.refine``) on the
   final crop: colour GMM unary blended with -log P, pairwise term cheap to cut
   where R (and the colour contrast) says edge; a box's outside and a point are
   hard constraints; holes filled. The result is mapped back to the full image.

numpy in, :class:`BoundaryAwareResult` out; tensors stay inside the engine.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage
from skimage.transform import resize

from ..core.crops import CropWindow
from ..core.engine import get_default_engine
from ..core.image import as_box, as_point, as_rgb_image
from ..graphcut import GraphCutSettings, GraphCutTrace
from .refine import MAX_CUT_PIXELS, NO_NETWORK_OBJECT, Refinement, Seeds, check_hole_mode, refine_with_graph_cut

#: Images whose pixel values vary less than this (standard deviation, levels) have nothing to segment.
BLANK_STD = 2.0

MODEL_NAME = "objectness"

#: The networks whose P and B are averaged (registry names, ``core.models.MODELS``): the shipped weights, a 6000-step
#: run from the ImageNet encoder and a fine-tune with a stronger edge weight (model card). Chosen on the validation
#: split: with beta 0.5, mean IoU of the full pipeline over 3 datasets x 2 modes 0.9046 -> 0.9103 against the first
#: alone, every row up. ``segment_object(models="objectness")`` runs one network (a third of the network time).
MODEL_NAMES = (MODEL_NAME, "objectness_long", "objectness_edge6")

#: Longest side of the network input, pixels. The networks were trained on 224 px crops; with mirror averaging,
#: 256 beat 224 (and 192, 288) on the validation split: mean IoU of the full pipeline 0.8882 -> 0.8931.
NET_SIZE = 256

#: What the graph cut does with background regions its mask encloses (``pipelines.refine.fill_object_holes``):
#: "network" fills only where P > 0.5, so holes the networks see stay open. Chosen on the validation split
#: (mean IoU (b) over 3 datasets x 2 modes 0.8931 -> 0.8968 against filling every hole, no row down).
HOLES = "network"

#: Automatic mode boxes every region of P scoring at least this x the most prominent one (:func:`locate_object`):
#: objects P sees in two parts, or two of like prominence. Chosen on the validation split (automatic rows' mean
#: IoU (b) +0.0038 against the best region alone, no row down; 0.3 gave +0.0031).
JOIN = 0.5

#: A value for ``box_min_fill`` (off by default): when P > 0.5 covers less than this fraction of the user's box, the
#: networks missed what was boxed and the graph cut segments the box by colour from a neutral prior
#: (:func:`refine_crop`). Over the train split of all six seg/ folders no object covered less than 11 % of its tight
#: box (1st percentile 18.5 %). With the shipped weights it never triggers on the validation split; with weights
#: that miss objects (the long run of the model card) it turned empty masks into IoU 0.97 and 0.81.
BOX_MIN_FILL = 0.1

#: Graph-cut settings of the joint optimisation (chosen on the validation split).
DEFAULT_GRAPH_CUT = GraphCutSettings(pairwise="combined", prior_weight=0.7, gamma=10.0, beta=0.5, max_iterations=5)


@dataclass(frozen=True)
class CropStep:
    """One pass of the networks during crop expansion.

    Attributes
    ----------
    window : CropWindow
        The crop (``window.box`` in full-image pixels, may extend past the image,
        that part is zeros) and the network input size.
    touched : tuple of str
        Sides ("left", "top", "right", "bottom") where R came within the threshold
        of the crop edge; the next crop grows on these. Empty for the last step.
    probability, boundary : (h, w) float32
        P and B at network resolution over the window.
    """

    window: CropWindow
    touched: tuple[str, ...]
    probability: np.ndarray = field(repr=False)
    boundary: np.ndarray = field(repr=False)

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The crop ``(x0, y0, x1, y1)`` in full-image pixels."""
        return self.window.box


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
        the crop-sized mask, or a mask of ``trace_scale`` x ``trace_scale`` pixel
        blocks for large crops); None when the graph cut was skipped.
    trace_scale : int
        1, or the block side the graph cut worked at on a large crop (over
        ``pipelines.refine.MAX_CUT_PIXELS`` pixels, e.g. a 12 MP photo).
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
    trace_scale: int = 1

    def crop_slices(self) -> tuple[slice, slice]:
        """``(rows, cols)`` slices of the crop, e.g. ``image[result.crop_slices()]``."""
        x0, y0, x1, y1 = self.crop
        return slice(y0, y1), slice(x0, x1)


def check_join(join) -> None:
    """``ValueError`` unless ``join`` is None or a number in (0, 1] (see :func:`locate_object`)."""
    number = isinstance(join, (int, float, np.number)) and not isinstance(join, bool)
    if join is not None and not (number and 0 < join <= 1):
        raise ValueError(f"join must be None or a number in (0, 1], got {join!r}")


def locate_object(probability: np.ndarray, point=None, min_area: float = 0.002, threshold: float = 0.5,
                  join: float | None = None):
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
    join : float in (0, 1], optional
        Without ``point``: also box every region scoring at least ``join`` x the best
        one's (an object P sees in two parts, or two objects of like prominence).
        None: the best region alone.

    Returns
    -------
    (x0, y0, x1, y1) int box of the chosen region(s), or None when there is none.
    Regions are scored by ``sqrt(area) * centrality * mean P`` (centrality: 1 at
    the image centre, 0 at a corner).
    """
    check_join(join)
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
        chosen = index[score >= join * score.max()] if join is not None else index[np.argmax(score)]
    ys, xs = np.nonzero(np.isin(labels, chosen))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def network_sizes(net_size) -> tuple[int, ...]:
    """``net_size`` (an int, or several) as sizes in increasing order; the largest is the maps' grid."""
    sizes = (net_size,) if np.ndim(net_size) == 0 else tuple(net_size)
    if not sizes or any(isinstance(s, bool) or int(s) != s or int(s) < 32 for s in sizes):
        raise ValueError(f"net_size must be an int >= 32 or a sequence of them, got {net_size!r}")
    return tuple(sorted({int(s) for s in sizes}))


def infer_maps(engine, image: np.ndarray, window: CropWindow, sizes=(NET_SIZE,), mirror: bool = False,
               cache: bool = False, models=MODEL_NAMES) -> tuple[np.ndarray, np.ndarray]:
    """P and B of ``window``'s box, averaged over networks and over network inputs of several sizes.

    Parameters
    ----------
    engine : core.engine.Engine
    image : (H, W, 3) uint8
    window : CropWindow
        The box, on the grid the maps are returned on (usually at the largest size).
    sizes : sequence of int
        Longest side of each network input, pixels; the box is the same for all.
    mirror : bool
        Mirror-average each pass too (``Engine.infer``).
    cache : bool
        Keep each pass in the engine's per-image cache (image-only inputs).
    models : sequence of str
        Registry names of the networks whose maps are averaged (all take RGB alone and
        return ``probability`` and ``boundary``).

    Returns
    -------
    probability, boundary : (h, w) float32 in [0, 1] on ``window.size``
    """
    total_p = total_b = 0.0
    for size in sizes:
        crop = CropWindow.fit(window.box, window.image_size, size)
        for maps in engine.infer_each(models, image, crop, cache=cache, mirror=mirror):  # the crop is cut once
            p, b = maps["probability"], maps["boundary"]
            if p.shape != tuple(window.size):  # same box, other grid: bilinear onto the window's
                p = resize(p, window.size, order=1, mode="edge", anti_aliasing=False)
                b = resize(b, window.size, order=1, mode="edge", anti_aliasing=False)
            total_p, total_b = total_p + p, total_b + b
    passes = len(sizes) * len(models)
    return ((total_p / passes).astype(np.float32, copy=False), (total_b / passes).astype(np.float32, copy=False))


def model_names(models) -> tuple[str, ...]:
    """``models`` (one registry name or a sequence of them) as a non-empty tuple; raises ``ValueError``."""
    names = (models,) if isinstance(models, str) else tuple(models) if isinstance(models, (list, tuple)) else None
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"models must be a model name or a non-empty sequence of them, got {models!r}")
    return names


def locate(engine, image: np.ndarray, box=None, point=None, net_size: int | tuple[int, ...] = NET_SIZE,
           mirror: bool = False, join: float | None = JOIN, models=MODEL_NAMES):
    """Step 1: the object's box -- the user's, or found in the whole-image P.

    Parameters
    ----------
    engine : core.engine.Engine
    image : (H, W, 3) uint8
    box : (x0, y0, x1, y1) int, optional
        A validated user box: returned as is.
    point : (x, y), optional
        Prefer the region under this pixel; when P has none there, a window around it.
    net_size : int or sequence of int
        Longest side of the whole-image network input; several sizes are averaged
        (:func:`infer_maps`).
    mirror : bool
        Average the network's answers on the image and its mirror image (``Engine.infer``).
    join : float or None
        Without box or point: box every region of P scoring at least ``join`` x the best
        one's (:func:`locate_object`; default :data:`JOIN`); None, the best region alone.
    models : str or sequence of str
        The networks whose maps are averaged (default :data:`MODEL_NAMES`).

    Returns
    -------
    object_box : (x0, y0, x1, y1) int or None
        None when nothing was found.
    whole : CropStep or None
        The whole-image pass (None with a user box).
    notes : list of str
    """
    if box is not None:
        return box, None, []
    h, w = image.shape[:2]
    sizes = network_sizes(net_size)
    window = CropWindow.square((0, 0, w, h), (h, w), sizes[-1])
    probability, boundary = infer_maps(engine, image, window, sizes, mirror, cache=True,  # image-only: once per image
                                       models=model_names(models))
    whole = CropStep(window, (), probability, boundary)
    object_box = locate_object(window.to_frame_map(probability), point, join=join)
    notes = []
    if object_box is None and point is not None:
        side = 0.25 * min(h, w)  # nothing confident under the point: look around it
        px, py = point
        object_box = as_box((px - side, py - side, px + side, py + side), (h, w))
        notes.append("no confident object region at the point; searched a window around it")
    return object_box, whole, notes


def expand_crop(engine, image: np.ndarray, object_box, net_size: int | tuple[int, ...] = NET_SIZE, margin: float = 0.2,
                expand: bool = True, max_expansions: int = 4, expand_step: float = 0.25, touch_threshold: float = 0.25,
                touch_band: float = 0.02, mirror: bool = False, models=MODEL_NAMES) -> list[CropStep]:
    """Step 2: run the networks on a square crop around ``object_box``, growing it
    while R = P * B runs into a side that lies inside the image.

    Returns every :class:`CropStep`, first to last (the last one touched nothing,
    or ``max_expansions`` was reached). See :func:`segment_object` for the parameters.
    """
    h, w = image.shape[:2]
    sizes = network_sizes(net_size)
    models = model_names(models)
    window = CropWindow.square(object_box, (h, w), sizes[-1], scale=1 + 2 * margin)
    steps = []
    for attempt in range(max_expansions + 1):
        probability, boundary = infer_maps(engine, image, window, sizes, mirror, models=models)
        band = max(2, int(round(touch_band * max(probability.shape))))
        touched = window.touched_sides(probability * boundary > touch_threshold, band) if expand else ()
        if attempt == max_expansions:
            touched = ()
        steps.append(CropStep(window, touched, probability, boundary))
        if not touched:
            break
        window = window.grown(touched, expand_step)
    return steps


def refine_crop(image: np.ndarray, window: CropWindow, probability: np.ndarray, boundary: np.ndarray, box=None,
           point=None, band: float | None = None, settings: GraphCutSettings | None = None,
           callback=None, max_cut_pixels: int | None = MAX_CUT_PIXELS, holes: str = HOLES,
           box_min_fill: float | None = None) -> Refinement:
    """Step 3: the shared graph-cut refinement on the crop's pixels.

    ``probability`` and ``boundary`` are (H_r, W_r) maps on ``window.region``; a
    box's outside is fixed background and a point a fixed object pixel. The
    returned mask and trace are in region coordinates. With a box whose pixels are
    less than ``box_min_fill`` P > 0.5 (None: never), the networks missed the boxed
    object: the cut starts from the whole box with a neutral prior (0.5) inside it,
    so colours and the pairwise term decide (as GrabCut from a box), and says so in
    ``Refinement.notes``.
    """
    x0, y0, x1, y1 = window.region
    outside_box = np.zeros(probability.shape, bool)
    if box is not None:
        outside_box[:] = True
        bx0, by0, bx1, by1 = box
        outside_box[max(0, by0 - y0):max(0, by1 - y0), max(0, bx0 - x0):max(0, bx1 - x0)] = False
    on_point = np.zeros_like(outside_box)
    if point is not None and x0 <= point[0] < x1 and y0 <= point[1] < y1:
        on_point[int(point[1]) - y0, int(point[0]) - x0] = True  # the user's point wins over the box
    band_px = None if band is None else max(3.0, band * max(probability.shape))
    fill = box_fill(probability, outside_box) if box is not None and box_min_fill is not None else None
    missed = fill is not None and fill < box_min_fill
    prior = np.where(outside_box, probability, np.float32(0.5)) if missed else probability
    refined = refine_with_graph_cut(
        image[y0:y1, x0:x1], prior, boundary, Seeds(on_point, outside_box & ~on_point),
        settings or DEFAULT_GRAPH_CUT, band_px=band_px, callback=callback, max_pixels=max_cut_pixels, holes=holes,
    )
    if not missed:
        return refined
    note = (f"the networks found little object in the box (P > 0.5 on {fill:.0%} of it, under {box_min_fill:.0%}); "
            "the graph cut segmented the box by colour")
    return replace(refined, notes=(note,) + tuple(n for n in refined.notes if n != NO_NETWORK_OBJECT))


def box_fill(probability: np.ndarray, outside_box: np.ndarray) -> float:
    """Fraction of the box's pixels (``~outside_box``, (H, W) bool) where ``probability`` > 0.5."""
    inside = ~outside_box
    return float((probability[inside] > 0.5).mean()) if inside.any() else 0.0


def segment_object(
    image,
    box=None,
    point=None,
    *,
    engine=None,
    net_size: int | tuple[int, ...] = NET_SIZE,
    margin: float = 0.2,
    expand: bool = True,
    max_expansions: int = 4,
    expand_step: float = 0.25,
    touch_threshold: float = 0.25,
    touch_band: float = 0.02,
    refine: bool = True,
    band: float | None = None,
    settings: GraphCutSettings | None = None,
    max_cut_pixels: int | None = MAX_CUT_PIXELS,
    mirror: bool = True,
    holes: str = HOLES,
    join: float | None = JOIN,
    box_min_fill: float | None = None,
    models=MODEL_NAMES,
    callback=None,
) -> BoundaryAwareResult:
    """Segment one object with the boundary-aware method (:func:`locate`, :func:`expand_crop`, :func:`refine_crop`).

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
        Where the networks run (default: the shared engine; each of ``models`` loads
        its file in ``segwidgets/weights/``, e.g. ``objectness.safetensors``).
    net_size : int or sequence of int
        Longest side of the network input, pixels (default :data:`NET_SIZE`; the
        networks were trained on 224 px crops). Several sizes: every pass runs at
        each and P and B are averaged on the largest one's grid (:func:`infer_maps`).
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
        keeps the networks' label as a hard constraint. None (default) frees the
        whole crop: what the benchmarked settings were chosen with.
    settings : GraphCutSettings, optional
        Graph-cut parameters; default :data:`DEFAULT_GRAPH_CUT` (combined pairwise term,
        prior weight 0.7, gamma 10, beta 0.5, at most 5 iterations).
    max_cut_pixels : int or None
        Crops with more pixels are refined at a reduced working resolution and the
        mask brought back to full resolution (see ``pipelines.refine``); None: always
        at full resolution (slow on 12 MP photos).
    mirror : bool
        Run each network pass on the crop and on its mirror image and average P and B
        (``Engine.infer(mirror=True)``): twice the network time. Chosen on the validation
        split (mean IoU of the full pipeline over 3 datasets x 2 modes +0.004, boundary
        F-score +0.008), not on the test split.
    holes : {"fill", "network", "keep"}
        Background regions the refined mask encloses: made object, made object only where
        P > 0.5 (holes the networks see stay open; the default, :data:`HOLES`), or left as
        they are (``pipelines.refine.fill_object_holes``).
    join : float in (0, 1] or None
        Automatic mode only (no box, no point): the crop covers every region of P > 0.5
        scoring at least ``join`` x the most prominent one (an object P sees in two
        parts, or two objects of like prominence; default :data:`JOIN`); None: the most
        prominent alone.
    box_min_fill : float in [0, 1] or None
        Box mode only: when P > 0.5 covers less than this fraction of the box, the
        networks missed the boxed object and the graph cut segments the box by colour
        from a neutral prior, with a warning (e.g. :data:`BOX_MIN_FILL`; default None: never).
    models : str or sequence of str
        Registry names of the networks whose P and B are averaged (default
        :data:`MODEL_NAMES`: the three shipped objectness networks); ``"objectness"``
        runs one, at a third of the network time.
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
        Bad image, a box outside the image or of zero area, a point outside the image,
        a ``join`` outside (0, 1], a ``box_min_fill`` outside [0, 1], an empty ``models``.
    FileNotFoundError, core.weights.WeightsError
        Missing or mismatched weights of any of ``models`` (the message names the file).
    """
    t_start = time.perf_counter()
    image = as_rgb_image(image)
    h, w = image.shape[:2]
    box = None if box is None else as_box(box, (h, w))
    point = None if point is None else tuple(int(v) for v in as_point(point, (h, w)))
    engine = engine or get_default_engine()
    network_sizes(net_size)  # a bad size fails here, before any work
    check_hole_mode(holes)
    check_join(join)
    if box_min_fill is not None and not 0 <= box_min_fill <= 1:
        raise ValueError(f"box_min_fill must be in [0, 1] or None, got {box_min_fill}")
    models = model_names(models)
    for model in models:
        engine.model(model)  # missing weights fail here, before any work
    source = "box" if box is not None else "point" if point is not None else "auto"

    if float(image.std()) < BLANK_STD:
        return _no_object(f"no object found: the image is blank (pixel standard deviation < {BLANK_STD} levels)",
                          (h, w), source, None, t_start)
    object_box, whole, notes = locate(engine, image, box, point, net_size, mirror, join, models)
    if object_box is None:
        return _no_object("no object found: the probability network found no region above 0.5", (h, w), source,
                          whole, t_start)
    timings = {"locate": time.perf_counter() - t_start}

    t0 = time.perf_counter()
    steps = expand_crop(engine, image, object_box, net_size, margin, expand, max_expansions, expand_step,
                        touch_threshold, touch_band, mirror, models)
    window = steps[-1].window
    p_region = window.to_frame_map(steps[-1].probability)
    b_region = window.to_frame_map(steps[-1].boundary)
    timings["networks"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    net_region = p_region > 0.5
    mask_region, trace, trace_scale = net_region, None, 1
    if refine:
        refined = refine_crop(image, window, p_region, b_region, box, point, band, settings, callback, max_cut_pixels,
                              holes=holes, box_min_fill=box_min_fill)
        mask_region, trace, trace_scale = refined.mask, refined.trace, refined.scale
        notes += refined.notes
    timings["graph_cut"] = time.perf_counter() - t0

    timings["total"] = time.perf_counter() - t_start
    for note in notes:
        warnings.warn(note, stacklevel=2)
    return BoundaryAwareResult(
        mask=window.paste(mask_region), probability=window.paste(p_region), boundary=window.paste(b_region),
        refinement=window.paste(p_region * b_region), net_mask=window.paste(net_region),
        object_box=tuple(int(v) for v in object_box), source=source, crop=window.region,
        crop_history=tuple(steps), trace=trace, timings=timings, warnings=tuple(notes), trace_scale=trace_scale,
    )


def _no_object(message: str, shape, source: str, whole: CropStep | None, t_start: float) -> BoundaryAwareResult:
    """An empty result with a warning; keeps the whole-image pass when there was one."""
    warnings.warn(message, stacklevel=3)
    h, w = shape
    empty = np.zeros((h, w), bool)
    p = b = np.zeros((h, w), np.float32)
    if whole is not None:
        p, b = whole.window.to_frame_map(whole.probability), whole.window.to_frame_map(whole.boundary)
    return BoundaryAwareResult(
        mask=empty, probability=p, boundary=b, refinement=p * b, net_mask=empty, object_box=None, source=source,
        crop=(0, 0, w, h), crop_history=() if whole is None else (whole,), trace=None,
        timings={"total": time.perf_counter() - t_start}, warnings=(message,),
    )
