"""Edge-aware filtering of maps by the image: the (fast) colour guided filter, and bilinear resizing."""
from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage


def resize_bilinear(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an (h, w) or (h, w, C) float array to ``shape`` (pixel centres aligned, edges clamped).

    Returns float32 of shape ``shape`` (+ (C,)); the input itself when it already has that size.
    """
    if values.shape[:2] == tuple(shape):
        return values
    size = (shape[1], shape[0])
    if values.ndim == 2:
        return np.asarray(Image.fromarray(np.ascontiguousarray(values, np.float32)).resize(size, Image.BILINEAR))
    return np.stack([resize_bilinear(values[..., c], shape) for c in range(values.shape[2])], axis=2)


def _box(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean over the (2 radius + 1)^2 window around each pixel (edges reflected)."""
    side = 2 * radius + 1
    return ndimage.uniform_filter(values, size=(side, side) + (1,) * (values.ndim - 2), mode="reflect")


def guided_filter(guide: np.ndarray, values: np.ndarray, radius: int = 12, eps: float = 1e-5,
                  subsample: int = 2) -> np.ndarray:
    """Colour guided filter (He et al.): ``values`` smoothed, but following the edges of ``guide``.

    In every (2 radius + 1)^2 window the output is an affine function of the guide's
    colour, ``a . I + b``, fitted to ``values`` by ridge regression (``eps``). For an
    alpha matte this is the colour-line model of closed-form matting applied locally:
    it sharpens a soft network alpha along the image's own edges and hairs.

    Parameters
    ----------
    guide : (H, W, 3) float in [0, 1]
        The image, RGB.
    values : (H, W) float
        The map to filter (e.g. alpha in [0, 1]).
    radius : int
        Window radius in pixels of the full-resolution image (>= 1).
    eps : float
        Regularisation of the per-window fit, in squared colour units (0..1 scale):
        smaller keeps finer colour edges.
    subsample : int
        The fit runs on every ``subsample``-th pixel (the "fast guided filter"),
        its coefficients are enlarged back bilinearly; 1 is the exact filter.

    Returns
    -------
    (H, W) float32, not clipped.
    """
    if guide.ndim != 3 or guide.shape[2] != 3 or guide.shape[:2] != values.shape:
        raise ValueError(f"guide must be (H, W, 3) and values (H, W) of the same size, got {guide.shape} and "
                         f"{values.shape}")
    if radius < 1 or subsample < 1:
        raise ValueError(f"radius and subsample must be >= 1, got {radius} and {subsample}")
    guide = np.asarray(guide, np.float32)
    values = np.asarray(values, np.float32)
    # The fit in float64: a window of two colours has a rank-one covariance, and its cofactors
    # cancel to ~eps, below float32's resolution for small eps.
    small_guide = guide[::subsample, ::subsample].astype(np.float64)
    small_values = values[::subsample, ::subsample].astype(np.float64)
    r = max(1, round(radius / subsample))
    mean_i = _box(small_guide, r)
    mean_p = _box(small_values, r)
    cov_ip = _box(small_guide * small_values[..., None], r) - mean_i * mean_p[..., None]
    # The windows' colour covariance (symmetric 3x3 per pixel) + eps I, inverted by cofactors.
    var = {}
    for i, j in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)):
        var[i, j] = _box(small_guide[..., i] * small_guide[..., j], r) - mean_i[..., i] * mean_i[..., j]
        if i == j:
            var[i, j] += eps
    c00 = var[1, 1] * var[2, 2] - var[1, 2] ** 2
    c01 = var[0, 2] * var[1, 2] - var[0, 1] * var[2, 2]
    c02 = var[0, 1] * var[1, 2] - var[0, 2] * var[1, 1]
    c11 = var[0, 0] * var[2, 2] - var[0, 2] ** 2
    c12 = var[0, 1] * var[0, 2] - var[0, 0] * var[1, 2]
    c22 = var[0, 0] * var[1, 1] - var[0, 1] ** 2
    det = var[0, 0] * c00 + var[0, 1] * c01 + var[0, 2] * c02
    x, y, z = cov_ip[..., 0], cov_ip[..., 1], cov_ip[..., 2]
    slope = np.stack([c00 * x + c01 * y + c02 * z, c01 * x + c11 * y + c12 * z,
                      c02 * x + c12 * y + c22 * z], axis=2) / det[..., None]
    offset = mean_p - (slope * mean_i).sum(axis=2)
    shape = values.shape
    slope = resize_bilinear(_box(slope, r).astype(np.float32), shape)
    offset = resize_bilinear(_box(offset, r).astype(np.float32), shape)
    return (slope * guide).sum(axis=2) + offset
