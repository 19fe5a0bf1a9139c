"""Query-object search: where does the query object appear in other images?

The ``query`` network (``nets.query.QueryNet``) embeds the search image once
(``Engine.features``: cached under the image's content hash, so a second query
on the same image does not encode it again) and the query at each scale of
:data:`SCALES` around its base size (also cached, so one query searched over
many images is encoded once per scale). Per scale, the query's features are a
kernel correlated over the search features (normalised cross-correlation, one
grouped convolution); the per-scale maps go through the learned fusion network
to the fused heat map. Boxes are read off the grid: local maxima of the best
per-scale correlation, ranked by it; each box is the query's size at the scale
that correlates best there (interpolated between scales), or, with
``extent="heat"``, the heat map's region around the peak.

Search images larger than :data:`WORKING_SIDE` are searched at that size;
boxes and the heat map come back in the original image's pixels.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy import ndimage

from ..core.engine import get_default_engine
from ..core.image import as_box, as_rgb_image

#: Query sizes tried, relative to the base size (fixed with the trained fusion network).
SCALES = (0.5, 0.71, 1.0, 1.41, 2.0)
#: Grid the correlation runs on (search-image pixels per cell, at the working size).
STRIDE = 8
#: Search images are encoded with their longest side at most this many pixels.
WORKING_SIDE = 512
#: The query's base size (longest side, working pixels) is kept within this fraction of the
#: working image's shorter side (so the largest scale still fits) and at least MIN_QUERY_SIDE.
MAX_BASE_FRACTION = 0.4
MIN_QUERY_SIDE = 24
#: With ``extent="heat"``, the heat map's region above this value around a peak gives that box's extent.
HEAT_THRESHOLD = 0.5
#: Boxes overlapping a better one by more than this IoU are dropped.
NMS_IOU = 0.3
#: The highlight keeps this much brightness far from the object.
DIM_LEVEL = 0.3


@dataclass(frozen=True)
class QueryResult:
    """Where the query appears in one search image.

    Attributes
    ----------
    heatmap : (H, W) float32 in [0, 1]
        The fused heat map at the search image's size: how likely each pixel belongs to the query object.
    scale_heatmaps : (S, h, w) float32 in [0, 1]
        One map per scale: the normalised cross-correlation of the query at that scale
        (negative values shown as 0), at the working size ``working_size`` (h, w)
        (use :meth:`scale_heatmap` for one at the search image's size).
    scales : tuple of float
        The query's size at each map, relative to ``base_side``.
    query_sizes : (S, 2) int
        The query's (height, width) in working pixels at each scale.
    boxes : (N, 4) int
        ``(x0, y0, x1, y1)`` in search-image pixels (half-open), best first.
    scores : (N,) float32
        The best correlation over scales at each box's centre (cosine similarity of the
        features, negative values as 0), in [0, 1].
    box_scales : (N,) float32
        The (interpolated) scale each box's size follows.
    highlight : (H, W, 3) uint8
        The search image with pixels away from the object dimmed.
    search : (H, W, 3) uint8
        The search image.
    query : (h, w, 3) uint8
        The query as searched (cut from its image when a box was given).
    base_side : float
        The query's longest side at scale 1, in working pixels.
    working_size : (h, w)
        Size the search image was encoded at.
    timings : dict
        Seconds: "query" (encoding the query), "search" (encoding the image; ~0 when cached),
        "correlate" (correlation and fusion), "total".
    """

    heatmap: np.ndarray
    scale_heatmaps: np.ndarray
    scales: tuple
    query_sizes: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    box_scales: np.ndarray
    highlight: np.ndarray
    search: np.ndarray = field(repr=False)
    query: np.ndarray = field(repr=False)
    base_side: float = 0.0
    working_size: tuple = (0, 0)
    timings: dict = field(default_factory=dict)

    @property
    def best_box(self) -> tuple[int, int, int, int]:
        """The top box ``(x0, y0, x1, y1)``."""
        return tuple(int(v) for v in self.boxes[0])

    def scale_heatmap(self, index: int) -> np.ndarray:
        """Scale ``index``'s map at the search image's size, (H, W) float32 in [0, 1]."""
        return _resize_map(self.scale_heatmaps[index], self.search.shape[:2])

    def mask(self, threshold: float = 0.5) -> np.ndarray:
        """(H, W) bool: the heat map above ``threshold``."""
        return self.heatmap > threshold


def cut_query(image, query_box) -> np.ndarray:
    """The ``(x0, y0, x1, y1)`` region of ``image`` (pixels, half-open) as an RGB array.

    Raises ``ValueError`` for an empty box or one outside the image.
    """
    image = as_rgb_image(image)
    x0, y0, x1, y1 = as_box(query_box, image.shape[:2])
    if x1 - x0 < 4 or y1 - y0 < 4:
        raise ValueError(f"the query box {tuple(query_box)!r} is {x1 - x0}x{y1 - y0} px; draw one of at least 4x4 px")
    return np.ascontiguousarray(image[y0:y1, x0:x1])


def working_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """(h, w) a search image of ``shape`` is encoded at (longest side at most WORKING_SIDE)."""
    h, w = shape
    f = min(1.0, WORKING_SIDE / max(h, w))
    return max(1, round(h * f)), max(1, round(w * f))


def scaled_sizes(query_hw, base_side: float, search_hw, scales=SCALES, min_side: int = MIN_QUERY_SIDE,
                 max_fraction: float = 0.75) -> list[tuple[int, int]]:
    """(h, w) in pixels of the query at each scale: its longest side ``base_side * scale``.

    Clamped so the longest side is at least ``min_side`` (three grid cells) and the
    query fits within ``max_fraction`` of the search image's height and width.
    Training (``train.query``) sizes its queries with this too.
    """
    qh, qw = query_hw
    sh, sw = search_hw
    sizes = []
    for scale in scales:
        f = base_side * scale / max(qh, qw)
        f = max(f, min_side / max(qh, qw))
        f = min(f, max_fraction * sh / qh, max_fraction * sw / qw)
        sizes.append((max(8, round(qh * f)), max(8, round(qw * f))))
    return sizes


def scale_plan(query_hw, search_hw, object_size: float | None = None):
    """How a query of ``query_hw`` is searched in an image of ``search_hw`` (both (h, w) pixels).

    Returns ``(work_hw, base, sizes)``: the working size of the search image, the query's
    base size (longest side at scale 1, working pixels: ``object_size``, default the query's
    own longest side, scaled like the search image, kept between MIN_QUERY_SIDE and
    MAX_BASE_FRACTION of the working image's shorter side) and its (h, w) at each of SCALES.
    """
    work_hw = working_shape(search_hw)
    factor = work_hw[0] / search_hw[0]
    base = (object_size if object_size is not None else max(query_hw)) * factor
    base = float(np.clip(base, MIN_QUERY_SIDE, max(MIN_QUERY_SIDE, MAX_BASE_FRACTION * min(work_hw))))
    return work_hw, base, scaled_sizes(query_hw, base, work_hw)


def find_query(query, search, query_box=None, *, engine=None, object_size: float | None = None,
               top_k: int = 5, extent: str = "scale"):
    """Find the query object in one search image or a list of them.

    Parameters
    ----------
    query : (h, w, 3) uint8 RGB array, PIL image or path
        The object to look for; with ``query_box``, the image to cut it from.
    search : image or list of images
        Where to look; a list gives a list of results.
    query_box : (x0, y0, x1, y1), optional
        The object's box in ``query`` (pixels, half-open).
    engine : Engine, optional
        Default: the process-wide engine (its cache keeps each image's features).
    object_size : float, optional
        Expected longest side of the object in the search image, in its pixels. Default: the
        query's own size (photos of similar resolution), kept between 24 px and 0.4x the
        search image's shorter side (at working size); :data:`SCALES` span 0.5..2x around it.
    top_k : int
        How many boxes to return (fewer when fewer peaks stand out).
    extent : {"scale", "heat"}
        How big each box is: the query's size at the best-correlating scale ("scale", default)
        or the heat map's region around the peak ("heat"; the scale's size where there is
        none); see :func:`grid_boxes`.

    Returns
    -------
    QueryResult, or a list of them for a list of search images.

    Raises
    ------
    ValueError
        Bad images (not uint8 RGB/RGBA/grayscale), an empty or outside query box, a query
        larger than a search image, ``top_k`` < 1.
    FileNotFoundError
        The ``query`` network's weights are missing.
    """
    engine = engine or get_default_engine()
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if extent not in ("heat", "scale"):
        raise ValueError(f"extent must be 'heat' or 'scale', got {extent!r}")
    query = cut_query(query, query_box) if query_box is not None else as_rgb_image(query)
    if min(query.shape[:2]) < 4:
        raise ValueError(f"the query is {query.shape[1]}x{query.shape[0]} px; it needs at least 4x4 px")
    many = isinstance(search, (list, tuple))
    images = [as_rgb_image(s) for s in (search if many else [search])]
    for i, image in enumerate(images):
        if query.shape[0] > image.shape[0] or query.shape[1] > image.shape[1]:
            where = f"search image {i}" if many else "the search image"
            raise ValueError(f"the query ({query.shape[1]}x{query.shape[0]} px) is larger than {where} "
                             f"({image.shape[1]}x{image.shape[0]} px); crop the query or pass a larger image")
    results = [_search_one(engine, query, image, object_size, top_k, extent) for image in images]
    return results if many else results[0]


def _search_one(engine, query: np.ndarray, search: np.ndarray, object_size, top_k: int, extent: str) -> QueryResult:
    t0 = time.perf_counter()
    work_hw, base, sizes = scale_plan(query.shape[:2], search.shape[:2], object_size)

    features, supports = [], []
    for h, w in sizes:
        scaled = np.asarray(Image.fromarray(query).resize((w, h), Image.BILINEAR, reducing_gap=2.0))
        embedding = engine.features("query", scaled)[0]
        features.append(embedding[None])
        supports.append(np.ones((1, 1) + embedding.shape[-2:], np.float32))
    t1 = time.perf_counter()
    embedding, context = engine.features("query", search, max_side=WORKING_SIDE)
    t2 = time.perf_counter()
    per_scale, logits = engine.apply("query", "heatmaps", features, supports, embedding[None], context[None])
    per_scale, fused = per_scale[0], 1.0 / (1.0 + np.exp(-logits[0, 0]))
    boxes, scores, box_scales = grid_boxes(fused, per_scale, sizes, search.shape[:2], work_hw, top_k, extent)
    heatmap = _resize_map(fused, search.shape[:2], grid_of=work_hw)
    scale_maps = np.stack([_resize_map(np.clip(m, 0, 1), work_hw, grid_of=work_hw) for m in per_scale])
    t3 = time.perf_counter()
    return QueryResult(
        heatmap=heatmap, scale_heatmaps=scale_maps, scales=SCALES, query_sizes=np.array(sizes, int),
        boxes=boxes, scores=scores, box_scales=box_scales,
        highlight=highlight(search, heatmap, boxes[0] if len(boxes) else None),
        search=search, query=query, base_side=base, working_size=work_hw,
        timings={"query": t1 - t0, "search": t2 - t1, "correlate": t3 - t2, "total": t3 - t0},
    )


def grid_boxes(fused: np.ndarray, per_scale: np.ndarray, sizes, image_hw, work_hw, top_k: int = 5,
               extent: str = "scale", heat_threshold: float = HEAT_THRESHOLD):
    """Boxes from the stride-8 grid maps.

    Parameters
    ----------
    fused : (gh, gw) fused heat in [0, 1]; per_scale : (S, gh, gw) correlations;
    sizes : S query (h, w) in working pixels; image_hw, work_hw : search image and working sizes.
    extent : {"scale", "heat"}
        ``"scale"`` (default): each box is the query's size at the scale that correlates best
        at the peak (interpolated between scales by a parabola), centred on the peak.
        ``"heat"``: the box of the region of ``fused > heat_threshold`` that holds the peak,
        as "scale" where the peak lies in no such region. "heat" matched the synthetic
        pairs better, "scale" real video-frame pairs (the heat map, trained on pasted whole
        objects, spreads over neighbouring things there): see the model card.

    Returns
    -------
    boxes (N, 4) int in image pixels, scores (N,) float32, box_scales (N,) float32; best first,
    overlapping boxes (IoU > NMS_IOU) dropped.

    Candidates are the local maxima of the best correlation over scales (a peak sits at the
    object's centre, where the whole query lines up), ranked by that correlation, which is
    also the score (clipped to [0, 1]); centre and scale are refined by a parabola through
    the neighbouring cells / scales.
    """
    if extent not in ("heat", "scale"):
        raise ValueError(f"extent must be 'heat' or 'scale', got {extent!r}")
    best = per_scale.max(0)
    peaks = (best == ndimage.maximum_filter(best, size=3, mode="constant", cval=-np.inf)) & (best > 0)
    ys, xs = np.nonzero(peaks)
    order = np.argsort(-best[ys, xs], kind="stable")
    log_sizes = np.log(np.asarray(sizes, float))  # (S, 2)
    f = image_hw[0] / work_hw[0], image_hw[1] / work_hw[1]
    regions = None
    if extent == "heat":
        heat = _resize_map(fused, work_hw, grid_of=work_hw)
        regions, _ = ndimage.label(heat > heat_threshold)
        region_boxes = ndimage.find_objects(regions)
    boxes, scores, scales = [], [], []
    for i in order:
        y, x = ys[i], xs[i]
        cx = (x + 0.5 + _parabola(best, y, x, axis=1)) * STRIDE
        cy = (y + 0.5 + _parabola(best, y, x, axis=0)) * STRIDE
        k = int(per_scale[:, y, x].argmax())
        dk = _parabola(per_scale[:, y, x][:, None], k, 0, axis=0)
        kk = float(np.clip(k + dk, 0, len(sizes) - 1))
        lo, t = int(math.floor(kk)), kk - math.floor(kk)
        hi = min(lo + 1, len(sizes) - 1)
        bh, bw = np.exp(log_sizes[lo] * (1 - t) + log_sizes[hi] * t)
        box = np.array([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2])
        if regions is not None:
            label = regions[min(int(cy), work_hw[0] - 1), min(int(cx), work_hw[1] - 1)]
            if label:
                rows, cols = region_boxes[label - 1]
                box = np.array([cols.start, rows.start, cols.stop, rows.stop], float)
        box = box * [f[1], f[0], f[1], f[0]]
        box = np.clip(np.round(box), 0, [image_hw[1], image_hw[0], image_hw[1], image_hw[0]]).astype(int)
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        if any(box_iou(box, other) > NMS_IOU for other in boxes):
            continue
        boxes.append(box)
        scores.append(float(np.clip(best[y, x], 0, 1)))
        scales.append(math.exp(math.log(SCALES[lo]) * (1 - t) + math.log(SCALES[hi]) * t))
        if len(boxes) == top_k:
            break
    return (np.array(boxes, int).reshape(-1, 4), np.array(scores, np.float32), np.array(scales, np.float32))


def _parabola(values: np.ndarray, y: int, x: int, axis: int) -> float:
    """Offset in (-0.5, 0.5) of the vertex of a parabola through the cell and its two neighbours along ``axis``."""
    n = values.shape[axis]
    i = (y, x)[axis]
    if i == 0 or i == n - 1:
        return 0.0
    step = np.array([0, 0])
    step[axis] = 1
    a, b, c = values[y - step[0], x - step[1]], values[y, x], values[y + step[0], x + step[1]]
    denominator = a - 2 * b + c
    if denominator >= 0:
        return 0.0
    return float(np.clip(0.5 * (a - c) / denominator, -0.5, 0.5))


def box_iou(a, b) -> float:
    """Intersection over union of two ``(x0, y0, x1, y1)`` boxes (half-open pixels)."""
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def highlight(image: np.ndarray, heatmap: np.ndarray, box=None) -> np.ndarray:
    """``image`` dimmed to :data:`DIM_LEVEL` away from the object: full brightness inside ``box``
    and where the heat map is high, (H, W, 3) uint8."""
    weight = np.clip(heatmap * 2.0, 0.0, 1.0)
    if box is not None:
        x0, y0, x1, y1 = (int(v) for v in box)
        weight[y0:y1, x0:x1] = 1.0
    factor = DIM_LEVEL + (1.0 - DIM_LEVEL) * weight
    return (image * factor[..., None] + 0.5).astype(np.uint8)


def _resize_map(grid: np.ndarray, out_hw, grid_of=None) -> np.ndarray:
    """Bilinear resize of a stride-8 grid map (or a working-size map) to ``out_hw``.

    With ``grid_of`` (the working size the grid was computed for), the grid's cells
    are taken to cover STRIDE x STRIDE working pixels each, so the partial last cell
    is cropped rather than stretched.
    """
    grid = np.ascontiguousarray(grid, np.float32)
    h, w = out_hw
    if grid_of is not None:
        box = (0.0, 0.0, grid_of[1] / STRIDE, grid_of[0] / STRIDE)
    else:
        box = (0.0, 0.0, float(grid.shape[1]), float(grid.shape[0]))
    resized = Image.fromarray(grid, "F").resize((w, h), Image.BILINEAR, box=box)
    return np.clip(np.asarray(resized, np.float32), 0.0, 1.0)
