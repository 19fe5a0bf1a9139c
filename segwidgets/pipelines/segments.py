"""Candidate segments and their projection onto a network's feature grid.

Segments are stored as *layers*: (L, h, w) int32 label images in which every
segment is one label of one layer, labels are global ids ``0..N-1`` and ``-1``
marks pixels a layer leaves uncovered. An over-segmentation (Felzenszwalb, SLIC,
a merge of neighbouring regions) is one layer covering every pixel; masks a user
supplies are packed into as few layers as keep them from overlapping. A layer
costs ``h * w`` integers however many segments it holds, so hundreds of segments
of a 512 px image take a few megabytes, not one full-size mask each.

:func:`project_to_grid` implements the feature-masking layer's projection: each
mask pixel goes to the activation whose receptive-field centre is nearest, and an
activation is kept when at least half of the pixels assigned to it are in the mask.
No torch here: the network (``nets.semantic``) gets the projected masks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from skimage.segmentation import felzenszwalb, slic

#: Felzenszwalb scales (larger: fewer, bigger regions), one layer each.
FELZENSZWALB_SCALES = (100, 300, 1000)
#: Approximate SLIC superpixel count for one layer.
SLIC_SEGMENTS = 150
#: Neighbouring SLIC superpixels whose mean colours differ by less than this (0..255 RGB
#: distance) are merged into one region of the merged layer.
MERGE_COLOUR_DISTANCE = 18.0
#: Smallest Felzenszwalb region, as a fraction of the image's area.
MIN_REGION_FRACTION = 3e-4


@dataclass(frozen=True)
class Segments:
    """Candidate segments as label layers.

    Attributes
    ----------
    layers : (L, h, w) int32
        Global segment ids ``0..count-1``; ``-1`` where a layer covers nothing.
    sources : tuple of str
        What made each layer (``"felzenszwalb-300"``, ``"slic-150"``, ``"merged"``, ``"user"``).
    """

    layers: np.ndarray
    sources: tuple[str, ...]

    @property
    def count(self) -> int:
        """How many segments (N)."""
        return int(self.layers.max()) + 1 if self.layers.size else 0

    @property
    def shape(self) -> tuple[int, int]:
        """(h, w) of the label layers."""
        return tuple(self.layers.shape[1:])

    def layer_of(self) -> np.ndarray:
        """(N,) int: the layer each segment lives in."""
        owner = np.full(self.count, -1, np.int64)
        for index, layer in enumerate(self.layers):
            ids = np.unique(layer[layer >= 0])
            owner[ids] = index
        return owner

    def mask(self, segment: int) -> np.ndarray:
        """(h, w) bool mask of one segment."""
        if not 0 <= segment < self.count:
            raise IndexError(f"segment {segment} out of range 0..{self.count - 1}")
        return (self.layers == segment).any(axis=0)

    def areas(self) -> np.ndarray:
        """(N,) int64 pixel count of each segment."""
        labels = self.layers[self.layers >= 0]
        return np.bincount(labels, minlength=self.count)

    def covering(self, x: int, y: int) -> np.ndarray:
        """Ids of the segments covering pixel ``(x, y)`` (one per layer that covers it)."""
        ids = self.layers[:, y, x]
        return ids[ids >= 0]


def _stack(label_images, sources) -> Segments:
    """Relabel each layer's labels to consecutive global ids and stack."""
    layers, offset = [], 0
    for labels in label_images:
        labels = np.asarray(labels)
        covered = labels >= 0
        _, dense = np.unique(labels[covered], return_inverse=True)
        layer = np.full(labels.shape, -1, np.int32)
        layer[covered] = dense.reshape(-1) + offset
        offset += int(dense.max()) + 1 if dense.size else 0
        layers.append(layer)
    return Segments(np.stack(layers), tuple(sources))


def candidate_segments(image: np.ndarray, *, felzenszwalb_scales=FELZENSZWALB_SCALES,
                       slic_segments: int = SLIC_SEGMENTS, merge_distance: float | None = MERGE_COLOUR_DISTANCE) -> Segments:
    """Over-segmentations of ``image`` at several scales, plus merges of neighbouring regions.

    Parameters
    ----------
    image : (h, w, 3) uint8
    felzenszwalb_scales : sequence of float
        One Felzenszwalb graph segmentation layer per scale (``sigma`` 0.8, smallest
        region :data:`MIN_REGION_FRACTION` of the area).
    slic_segments : int
        A SLIC layer of about this many superpixels (0 for none).
    merge_distance : float or None
        A layer of SLIC superpixels merged with their neighbours while their mean colours
        are closer than this (region adjacency graph, ``skimage.graph.cut_threshold``);
        None for none.

    Returns
    -------
    Segments
        Usually several hundred segments for a 512 px image.
    """
    h, w = image.shape[:2]
    min_size = max(8, int(MIN_REGION_FRACTION * h * w))
    labels, sources = [], []
    for scale in felzenszwalb_scales:
        labels.append(felzenszwalb(image, scale=scale, sigma=0.8, min_size=min_size))
        sources.append(f"felzenszwalb-{scale:g}")
    if slic_segments:
        superpixels = slic(image, n_segments=slic_segments, compactness=10, start_label=0)
        labels.append(superpixels)
        sources.append(f"slic-{slic_segments}")
        if merge_distance is not None:
            labels.append(merge_neighbours(superpixels, image, merge_distance))
            sources.append("merged")
    return _stack(labels, sources)


def merge_neighbours(labels: np.ndarray, image: np.ndarray, distance: float) -> np.ndarray:
    """Merge touching regions of a label image whose mean colours are closer than ``distance``.

    The same cut as ``skimage.graph.cut_threshold`` on ``skimage.graph.rag_mean_color`` (edges
    between 4-neighbouring regions weighted by the Euclidean distance of their mean colours; the
    connected components of the edges under ``distance``), computed with array operations: the
    networkx graph behind ``rag_mean_color`` took a second per 512 px image, this takes milliseconds.

    Returns
    -------
    (h, w) int64 label image of the merged regions, labels 0..M-1.
    """
    labels = np.asarray(labels, np.int64)
    n = int(labels.max()) + 1
    counts = np.bincount(labels.ravel(), minlength=n).astype(np.float64)
    means = np.stack([np.bincount(labels.ravel(), weights=image[..., c].ravel().astype(np.float64), minlength=n)
                      for c in range(image.shape[2])], 1) / np.maximum(counts, 1)[:, None]
    pairs = np.concatenate([
        np.stack([labels[:, :-1].ravel(), labels[:, 1:].ravel()], 1),
        np.stack([labels[:-1, :].ravel(), labels[1:, :].ravel()], 1),
    ])
    pairs = np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0)
    close = np.linalg.norm(means[pairs[:, 0]] - means[pairs[:, 1]], axis=1) < distance
    a, b = pairs[close].T
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    return component[labels]


def segments_from_masks(masks, shape: tuple[int, int]) -> Segments:
    """User segments: a label image (h, w) int (labels >= 0, negative = none), or masks (N, h, w) bool
    or a list of (h, w) bool, packed greedily into non-overlapping layers.

    Raises
    ------
    ValueError
        Wrong shapes or dtypes, or no segment at all.
    """
    if isinstance(masks, np.ndarray) and masks.ndim == 2:
        if masks.shape != tuple(shape):
            raise ValueError(f"segments label image must be {tuple(shape)}, got {masks.shape}")
        if not np.issubdtype(masks.dtype, np.integer):
            raise ValueError(f"a segments label image must hold integers, got dtype {masks.dtype}")
        if not (masks >= 0).any():
            raise ValueError("the segments label image has no label >= 0")
        return _stack([masks.astype(np.int64)], ["user"])
    masks = list(masks)
    if not masks:
        raise ValueError("no segments given (an empty list)")
    packed: list[np.ndarray] = []
    for index, mask in enumerate(masks):
        mask = np.asarray(mask)
        if mask.shape != tuple(shape) or mask.dtype != bool:
            raise ValueError(f"segment {index}: expected an {tuple(shape)} bool mask, got {mask.dtype} {mask.shape}")
        if not mask.any():
            raise ValueError(f"segment {index} is empty")
        for layer in packed:
            if not (layer[mask] >= 0).any():
                layer[mask] = index
                break
        else:
            layer = np.full(shape, -1, np.int64)
            layer[mask] = index
            packed.append(layer)
    # Global ids follow the order given, so segment_scores[i] belongs to masks[i].
    return Segments(np.stack(packed).astype(np.int32), ("user",) * len(packed))


def nearest_cells(length: int, cells: int, stride: int, offset: float = 0.0) -> np.ndarray:
    """(length,) int: for each pixel 0..length-1, the grid cell whose receptive-field centre
    (at ``offset + stride * j`` pixels) is nearest; ties go to the later cell."""
    index = np.floor((np.arange(length) - offset) / stride + 0.5).astype(np.int64)
    return np.clip(index, 0, cells - 1)


def project_to_grid(segments: Segments, grid_shape: tuple[int, int], stride: int, offset: float = 0.0,
                    threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Project every segment onto a feature grid.

    Each pixel is assigned to the activation whose receptive-field centre is nearest
    (:func:`nearest_cells`); an activation is in the projected mask when the fraction of its
    pixels inside the segment is at least ``threshold``. A segment too small to reach the
    threshold anywhere keeps the one activation with the largest fraction, so no segment
    vanishes.

    Parameters
    ----------
    segments : Segments
        Label layers of shape (L, h, w).
    grid_shape : (gh, gw)
        The feature grid.
    stride : int
        Input pixels per grid cell.
    offset : float
        Input pixel position of cell 0's receptive-field centre (0 for stacks of
        3x3 stride-2 convolutions padded by 1, whose output ``j`` is centred on input ``2 j``).

    Returns
    -------
    masks : (N, gh, gw) bool
    fractions : (N, gh, gw) float32
        The fraction of each activation's pixels inside each segment.
    """
    h, w = segments.shape
    gh, gw = grid_shape
    rows = nearest_cells(h, gh, stride, offset)
    cols = nearest_cells(w, gw, stride, offset)
    cell = (rows[:, None] * gw + cols[None, :]).reshape(-1)
    cell_pixels = np.bincount(cell, minlength=gh * gw).astype(np.float32)
    n = segments.count
    counts = np.zeros((n, gh * gw), np.float32)
    for layer in segments.layers:
        labels = layer.reshape(-1)
        covered = labels >= 0
        flat = np.bincount(labels[covered].astype(np.int64) * (gh * gw) + cell[covered], minlength=n * gh * gw)
        counts += flat.reshape(n, gh * gw)
    fractions = counts / np.maximum(cell_pixels, 1)[None]
    masks = fractions >= threshold
    empty = ~masks.any(axis=1)
    if empty.any():
        best = fractions[empty].argmax(axis=1)
        masks[np.nonzero(empty)[0], best] = True
    return masks.reshape(n, gh, gw), fractions.reshape(n, gh, gw)


def grid_boxes(masks: np.ndarray) -> np.ndarray:
    """(N, 4) int ``(x0, y0, x1, y1)`` inclusive cell bounds of each projected (N, gh, gw) mask."""
    rows = masks.any(axis=2)
    cols = masks.any(axis=1)
    y0 = rows.argmax(axis=1)
    y1 = rows.shape[1] - 1 - rows[:, ::-1].argmax(axis=1)
    x0 = cols.argmax(axis=1)
    x1 = cols.shape[1] - 1 - cols[:, ::-1].argmax(axis=1)
    return np.stack([x0, y0, x1, y1], axis=1)
