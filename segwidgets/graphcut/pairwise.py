"""Pairwise (smoothness) terms over the 8-connected pixel grid.

Every edge between pixel p and its neighbour q = p + offset carries a weight
w(p, q) >= 0; cutting it (labels differ) costs ``gamma * w``. Weights are stored
as an array of shape (4, H, W): one plane per forward offset in
:data:`NEIGHBOUR_OFFSETS`, indexed by the first pixel p (zero where q falls
outside the image). Diagonal edges are divided by sqrt(2) so the cut length
approximates the Euclidean boundary length.
"""
from __future__ import annotations

import numpy as np

#: Forward neighbour offsets (dy, dx): right, down, down-right, down-left.
NEIGHBOUR_OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1))
_DISTANCE = np.array([1.0, 1.0, np.sqrt(2.0), np.sqrt(2.0)], np.float32)

PAIRWISE_KINDS = ("contrast", "boundary", "combined")


def pair_slices(dy: int, dx: int, h: int, w: int):
    """Slices (first, second) selecting every pixel p and its neighbour p + (dy, dx)."""
    ys0, ys1 = slice(0, h - dy), slice(dy, h)
    if dx >= 0:
        xs0, xs1 = slice(0, w - dx), slice(dx, w)
    else:
        xs0, xs1 = slice(-dx, w), slice(0, w + dx)
    return (ys0, xs0), (ys1, xs1)


def neighbour_differences(values: np.ndarray, reduce) -> np.ndarray:
    """Apply ``reduce(a_p, a_q)`` to every neighbour pair; (4, H, W) float32, 0 off-image."""
    h, w = values.shape[:2]
    out = np.zeros((4, h, w), np.float32)
    for i, (dy, dx) in enumerate(NEIGHBOUR_OFFSETS):
        first, second = pair_slices(dy, dx, h, w)
        out[i][first] = reduce(values[first], values[second])
    return out


def edge_validity(h: int, w: int) -> np.ndarray:
    """(4, H, W) bool: True where the neighbour q = p + offset lies inside the image."""
    return neighbour_differences(np.zeros((h, w), np.float32), lambda a, b: 1.0) > 0


def contrast_scale(image: np.ndarray) -> float:
    """GrabCut's ``beta_c = 1 / (2 <|z_p - z_q|^2>)``, the mean over all 8-neighbour
    pairs of the image: the contrast term adapts to the image's overall contrast."""
    z = image.astype(np.float32)
    total, count = 0.0, 0
    h, w = image.shape[:2]
    for dy, dx in NEIGHBOUR_OFFSETS:
        first, second = pair_slices(dy, dx, h, w)
        d = z[first] - z[second]
        total += float(np.einsum("ijk,ijk->", d, d, dtype=np.float64))
        count += d.shape[0] * d.shape[1]
    mean_sq = total / count if count else 0.0
    return 0.0 if mean_sq <= 0 else 1.0 / (2.0 * mean_sq)


def contrast_weights(image: np.ndarray, beta_c: float | None = None) -> np.ndarray:
    """GrabCut's contrast-sensitive weights ``exp(-beta_c |z_p - z_q|^2) / dist(p, q)``.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB.
    beta_c : float, optional
        Contrast scale; default :func:`contrast_scale` of ``image``. Pass the
        whole image's when weighting a crop of it.

    Returns
    -------
    (4, H, W) float32 weights in [0, 1].
    """
    z = image.astype(np.float32)
    sq = neighbour_differences(z, lambda a, b: ((a - b) ** 2).sum(-1))
    valid = edge_validity(*image.shape[:2])
    if beta_c is None:
        beta_c = contrast_scale(image)
    weights = np.exp(-beta_c * sq) / _DISTANCE[:, None, None]
    weights[~valid] = 0.0
    return weights.astype(np.float32)


def boundary_weights(refinement: np.ndarray, beta: float = 1.0) -> np.ndarray:
    """Boundary-aware weights ``max(0, 1 - beta (R_p + R_q) / 2) / dist(p, q)``.

    Pixels with a high refinement value R (likely object edge) are cheap to cut.

    Parameters
    ----------
    refinement : (H, W) float array in [0, 1].
    beta : float >= 0
        How strongly a high R lowers the cut cost; at ``beta = 1`` an edge with
        R = 1 on both sides is free to cut.

    Returns
    -------
    (4, H, W) float32 weights in [0, 1].
    """
    r = refinement.astype(np.float32)
    mean_r = neighbour_differences(r, lambda a, b: 0.5 * (a + b))
    weights = np.maximum(0.0, 1.0 - beta * mean_r) / _DISTANCE[:, None, None]
    weights[~edge_validity(*r.shape)] = 0.0
    return weights.astype(np.float32)


def pairwise_weights(
    image: np.ndarray, kind: str = "contrast", refinement=None, beta: float = 1.0, beta_c: float | None = None
) -> np.ndarray:
    """Pairwise weights of the chosen kind, (4, H, W) float32.

    ``kind``: ``"contrast"`` (colour edges), ``"boundary"`` (refinement map
    edges) or ``"combined"`` (their product: cheap where either says edge).
    ``beta_c``: contrast scale (see :func:`contrast_weights`).
    """
    if kind not in PAIRWISE_KINDS:
        raise ValueError(f"pairwise must be one of {PAIRWISE_KINDS}, got {kind!r}")
    if kind == "contrast":
        return contrast_weights(image, beta_c)
    if refinement is None:
        raise ValueError(f"pairwise={kind!r} needs a refinement map (HxW float in [0, 1])")
    if kind == "boundary":
        return boundary_weights(refinement, beta)
    # Both planes carry the 1/dist factor; take it out once.
    return contrast_weights(image, beta_c) * boundary_weights(refinement, beta) * _DISTANCE[:, None, None]


def cut_cost(labels: np.ndarray, weights: np.ndarray) -> float:
    """Sum of edge weights whose two pixels have different labels (no gamma).

    Parameters
    ----------
    labels : (H, W) bool
    weights : (4, H, W) float
    """
    h, w = labels.shape
    total = 0.0
    for i, (dy, dx) in enumerate(NEIGHBOUR_OFFSETS):
        first, second = pair_slices(dy, dx, h, w)
        total += float(weights[i][first][labels[first] != labels[second]].sum(dtype=np.float64))
    return total
