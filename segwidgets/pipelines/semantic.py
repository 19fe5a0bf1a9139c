"""Semantic segmentation by convolutional feature masking: a class for every pixel.

The ``semantic`` network (``nets.semantic.FeatureMaskingNet``) encodes the image
once (``Engine.features``, cached under the image's content hash). Candidate
segments (``pipelines.segments``: Felzenszwalb at several scales, SLIC and merges
of neighbouring SLIC regions, or masks the user gives) are projected onto the
stride-16 feature grid and classified in one batched pass, each by its masked
features and by its box on the unmasked features. Per-pixel classes come from the
scored segments covering each pixel (``labelling``):

- ``"vote"`` (default): the mean of the covering segments' class probabilities,
  each weighted by its top probability over the square root of its area, so confident
  and tight segments count more than large ones that straddle two classes;
- ``"best"``: the probabilities of the covering segment whose top probability is highest.

(Chosen on the 100 validation images of ``ccp_person``: mean IoU 0.661 with the area term,
0.631 for the plain score-weighted vote, 0.600 for "best"; ``benchmarks/bench_semantic.py``
scores both labellings on the test split.)

Images larger than :data:`WORKING_SIDE` are segmented at that size; labels and
probabilities come back at the image's own size.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..core.crops import CropWindow
from ..core.engine import get_default_engine
from ..core.image import as_rgb_image, image_hash
from .segments import Segments, candidate_segments, grid_boxes, project_to_grid, segments_from_masks

#: Images are segmented with their longest side at most this many pixels.
WORKING_SIDE = 512
#: Input pixels per feature-grid cell (``nets.semantic.SEMANTIC_STRIDE``; tested to agree).
STRIDE = 16
#: Receptive-field centre of grid cell 0, in input pixels (stacked 3x3 stride-2 convolutions padded by 1).
CENTRE_OFFSET = 0.0
#: The class names (``data.semantic.CLASS_NAMES``, repeated here so the pipeline needs no data module).
CLASS_NAMES = ("background", "skin", "hair", "upper clothes", "lower clothes", "dress", "footwear",
               "bags and accessories")
LABELLINGS = ("vote", "best")


@dataclass(frozen=True)
class SemanticResult:
    """Classes for every pixel of one image, with every intermediate.

    Attributes
    ----------
    labels : (H, W) int32
        Class index of each pixel (into ``class_names``).
    probabilities : (C, H, W) float32 in [0, 1]
        Per-class probability of each pixel (sums to 1 over C).
    class_names : tuple of str
    segments : Segments
        The candidate segments as label layers at the working size ``working_size``:
        ``segments.layers`` is (L, h, w) int32 with segment ids (``-1``: not covered);
        :meth:`segment_mask` gives one at the image's size.
    segment_scores : (N, C) float32
        Class probabilities of each segment (softmax of the network's scores).
    features : (F, gh, gw) float32
        The encoder's feature maps the segments mask (stride 16 at the working size).
    grid_masks : (N, gh, gw) bool
        Each segment projected onto the feature grid (what multiplied the features).
    labelling : str
        How pixel classes were read from the segments ("vote" or "best").
    working_size : (h, w)
    timings : dict
        Seconds: "features" and "segments" (~0 when cached: both depend on the image alone), "classify",
        "labels", "total".
    """

    labels: np.ndarray
    probabilities: np.ndarray
    class_names: tuple
    segments: Segments
    segment_scores: np.ndarray
    features: np.ndarray = field(repr=False)
    grid_masks: np.ndarray = field(repr=False)
    labelling: str = "vote"
    working_size: tuple = (0, 0)
    timings: dict = field(default_factory=dict)

    @property
    def image_size(self) -> tuple[int, int]:
        return tuple(self.labels.shape)

    def _window(self) -> CropWindow:
        return CropWindow.whole(self.image_size, size=self.working_size)

    def segment_mask(self, segment: int) -> np.ndarray:
        """(H, W) bool: segment ``segment`` at the image's size."""
        return self._window().to_frame_mask(self.segments.mask(segment))

    def segments_at(self, x: float, y: float) -> list[int]:
        """Ids of the segments covering image pixel ``(x, y)``, highest top probability first.

        Raises ``ValueError`` for a point outside the image.
        """
        h, w = self.image_size
        if not (0 <= x < w and 0 <= y < h):
            raise ValueError(f"point ({x}, {y}) is outside the {w}x{h} image")
        sy, sx = self.working_size[0] / h, self.working_size[1] / w
        ids = self.segments.covering(min(int(x * sx), self.working_size[1] - 1), min(int(y * sy), self.working_size[0] - 1))
        return sorted(ids.tolist(), key=lambda i: -float(self.segment_scores[i].max()))

    def top_classes(self, segment: int, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable classes of one segment as ``(name, probability)``."""
        scores = self.segment_scores[segment]
        order = np.argsort(-scores)[:k]
        return [(self.class_names[i], float(scores[i])) for i in order]

    def class_mask(self, name_or_index) -> np.ndarray:
        """(H, W) bool: pixels labelled with one class (by name or index)."""
        index = self.class_names.index(name_or_index) if isinstance(name_or_index, str) else int(name_or_index)
        return self.labels == index


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, C) logits, float32."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def pixel_probabilities(segments: Segments, scores: np.ndarray, labelling: str = "vote") -> np.ndarray:
    """(C, h, w) float32 per-pixel class probabilities from segment scores.

    Parameters
    ----------
    segments : Segments
        (L, h, w) label layers.
    scores : (N, C)
        Class probabilities of each segment.
    labelling : {"vote", "best"}
        ``"vote"``: mean over the segments covering a pixel of their probabilities, segment
        ``i`` weighted by ``max(scores[i]) / sqrt(area_i)`` (area in pixels of the layers).
        ``"best"``: the probabilities of the covering segment with the highest top probability.
        Pixels no segment covers are background (class 0) with probability 1.
    """
    if labelling not in LABELLINGS:
        raise ValueError(f"labelling must be one of {LABELLINGS}, got {labelling!r}")
    n, c = scores.shape
    h, w = segments.shape
    confidence = scores.max(axis=1)
    vote_weight = confidence / np.sqrt(np.maximum(segments.areas(), 1))
    total = np.zeros((h, w, c), np.float32)
    weight = np.zeros((h, w), np.float32)
    best = np.full((h, w), -1.0, np.float32)
    for layer in segments.layers:
        covered = layer >= 0
        ids = np.where(covered, layer, 0)
        if labelling == "vote":
            layer_weight = np.where(covered, vote_weight[ids], 0.0).astype(np.float32)
            total += scores[ids] * layer_weight[..., None]
            weight += layer_weight
        else:
            layer_conf = np.where(covered, confidence[ids], 0.0).astype(np.float32)
            better = covered & (layer_conf > best)
            total[better] = scores[ids[better]]
            best[better] = layer_conf[better]
            weight[better] = 1.0
    uncovered = weight <= 0
    total[uncovered] = 0.0
    total[uncovered, 0] = 1.0
    weight[uncovered] = 1.0
    return np.ascontiguousarray((total / weight[..., None]).transpose(2, 0, 1))


def segment_grid(segments: Segments, grid_shape) -> tuple[np.ndarray, np.ndarray]:
    """``segments`` on the semantic network's stride-16 feature grid of ``grid_shape`` (gh, gw): projected
    masks (N, gh, gw) bool (``segments.project_to_grid``) and their inclusive cell boxes (N, 4) int."""
    masks, _ = project_to_grid(segments, grid_shape, STRIDE, CENTRE_OFFSET)
    return masks, grid_boxes(masks)


def classify_segments(features: np.ndarray, segments: Segments, *, engine) -> tuple[np.ndarray, np.ndarray]:
    """Project ``segments`` onto the grid of ``features`` (F, gh, gw) and score them.

    Returns ``(scores (N, C) float32 probabilities, grid masks (N, gh, gw) bool)``.
    """
    grid_masks, boxes = segment_grid(segments, features.shape[-2:])
    logits = engine.apply("semantic", "classify", features[None], grid_masks.astype(np.float32),
                          boxes.astype(np.float32))
    return softmax(np.asarray(logits, np.float32)), grid_masks


def segment_semantic(image, segments=None, *, engine=None, labelling: str = "vote",
                     candidates: dict | None = None) -> SemanticResult:
    """Give every pixel of ``image`` a class by feature masking of candidate segments.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB array, PIL image or path
        (RGBA drops alpha, grayscale is repeated; see ``core.image.as_rgb_image``).
    segments : optional
        Your own segments instead of the automatic candidates: an (H, W) int label image
        (labels >= 0; negative = no segment), an (N, H, W) bool array or a list of (H, W)
        bool masks (e.g. from the click segmenter), at the image's size. Segment ``i`` of
        ``segment_scores`` is mask ``i`` (or label value order for a label image).
        Pixels no segment covers are labelled background.
    engine : Engine, optional
        Default: the process-wide engine (its cache keeps each image's features).
    labelling : {"vote", "best"}
        How segments' scores become pixel classes (see the module docstring).
    candidates : dict, optional
        Keyword arguments for ``pipelines.segments.candidate_segments`` (scales, SLIC count).

    Returns
    -------
    SemanticResult

    Raises
    ------
    ValueError
        A bad image, segments of the wrong shape or dtype, an empty mask, an unknown labelling.
    """
    if labelling not in LABELLINGS:
        raise ValueError(f"labelling must be one of {LABELLINGS}, got {labelling!r}")
    image = as_rgb_image(image)
    h, w = image.shape[:2]
    if min(h, w) < STRIDE:
        raise ValueError(f"the image is {w}x{h} px; semantic segmentation needs at least {STRIDE} px on each side")
    engine = engine or get_default_engine()
    window = CropWindow.whole((h, w), max_side=WORKING_SIDE)
    t0 = time.perf_counter()
    given = None
    if segments is not None:  # validate before any work, at the image's size
        given = segments_from_masks(segments, (h, w))
    (features,) = engine.features("semantic", image, max_side=WORKING_SIDE)
    t1 = time.perf_counter()
    if given is None:
        def make_candidates() -> Segments:
            working = np.clip(window.to_local_map(image), 0, 255).round().astype(np.uint8)
            made = candidate_segments(working, **(candidates or {}))
            made.layers.flags.writeable = False  # shared by every result on this image
            return made

        # Candidates depend on the image alone: cached beside its features (evicted with the model's entries).
        key = ("segments", "semantic", image_hash(image), window.size, repr(sorted((candidates or {}).items())))
        chosen = engine.cache.get_or_compute(key, make_candidates)
    else:
        chosen = Segments(np.stack([_shrink_labels(layer, window) for layer in given.layers]), given.sources)
    t2 = time.perf_counter()
    scores, grid_masks = classify_segments(features, chosen, engine=engine)
    t3 = time.perf_counter()
    local = pixel_probabilities(chosen, scores, labelling)
    if window.is_identity:
        probabilities = local
    else:
        probabilities = np.stack([window.to_frame_map(p) for p in local])
        probabilities /= np.maximum(probabilities.sum(axis=0, keepdims=True), 1e-6)
    labels = probabilities.argmax(axis=0).astype(np.int32)
    t4 = time.perf_counter()
    timings = {"features": t1 - t0, "segments": t2 - t1, "classify": t3 - t2, "labels": t4 - t3, "total": t4 - t0}
    return SemanticResult(labels, probabilities.astype(np.float32, copy=False), CLASS_NAMES, chosen, scores,
                          features, grid_masks, labelling, window.size, timings)


def _shrink_labels(layer: np.ndarray, window: CropWindow) -> np.ndarray:
    """An image-size label layer on the working grid (nearest pixel, so ids stay ids)."""
    return window.to_local_map(layer, order=0) if not window.is_identity else layer
