"""Alpha matte errors as alphamatting.com defines them (Rhemann et al., CVPR 2009), over the unknown region.

All functions take the predicted and true alpha as (H, W) floats in [0, 1] and a
trimap (H, W) whose value 128 marks the unknown region (or a bool mask of it).
Reported scales follow the common evaluation code of the matting literature:
SAD, gradient and connectivity errors are sums divided by 1000; MSE is the mean
over the unknown pixels.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.measure import label

#: Gaussian-derivative scale of the gradient error (pixels).
GRADIENT_SIGMA = 1.4
#: Threshold step and the minimum distance that counts in the connectivity error.
CONNECTIVITY_STEP, CONNECTIVITY_THETA = 0.1, 0.15


def _inputs(prediction, target, region):
    prediction = np.asarray(prediction, np.float64)
    target = np.asarray(target, np.float64)
    if prediction.shape != target.shape or prediction.ndim != 2:
        raise ValueError(f"expected two (H, W) alpha mattes of one shape, got {prediction.shape} and {target.shape}")
    region = np.asarray(region)
    if region.shape != target.shape:
        raise ValueError(f"expected a trimap or mask of shape {target.shape}, got {region.shape}")
    unknown = region if region.dtype == bool else region == 128
    return prediction, target, unknown


def sad(prediction, target, trimap) -> float:
    """Sum of absolute differences over the unknown region, / 1000."""
    p, t, unknown = _inputs(prediction, target, trimap)
    return float(np.abs(p - t)[unknown].sum() / 1000)


def mse(prediction, target, trimap) -> float:
    """Mean squared difference over the unknown pixels (0 when there are none)."""
    p, t, unknown = _inputs(prediction, target, trimap)
    return float(((p - t) ** 2)[unknown].mean()) if unknown.any() else 0.0


def gradient_magnitude(alpha: np.ndarray, sigma: float = GRADIENT_SIGMA) -> np.ndarray:
    """|grad alpha| from first-order Gaussian derivative filters of scale ``sigma``."""
    dx = ndimage.gaussian_filter(alpha, sigma, order=(0, 1))
    dy = ndimage.gaussian_filter(alpha, sigma, order=(1, 0))
    return np.hypot(dx, dy)


def gradient_error(prediction, target, trimap, sigma: float = GRADIENT_SIGMA) -> float:
    """Sum over the unknown region of the squared difference of gradient magnitudes, / 1000."""
    p, t, unknown = _inputs(prediction, target, trimap)
    diff = gradient_magnitude(p, sigma) - gradient_magnitude(t, sigma)
    return float((diff ** 2)[unknown].sum() / 1000)


def connectivity_error(prediction, target, trimap, step: float = CONNECTIVITY_STEP,
                       theta: float = CONNECTIVITY_THETA) -> float:
    """How much each pixel's connection to the main foreground body differs, summed over unknown, / 1000.

    For thresholds ``l = step, 2 step, ..., 1`` the largest 8-connected component of
    ``(prediction >= l) & (target >= l)`` is the body; a pixel's level ``l_i`` is the
    last threshold at which it was still part of the body. Then
    ``phi(a) = 1 - (a - l_i) [a - l_i >= theta]`` and the error is
    ``sum |phi(prediction) - phi(target)|``.
    """
    p, t, unknown = _inputs(prediction, target, trimap)
    levels = np.full(p.shape, -1.0)
    thresholds = np.arange(0, 1 + step / 2, step)
    for previous, threshold in zip(thresholds[:-1], thresholds[1:]):
        both = (p >= threshold) & (t >= threshold)
        components = label(both, connectivity=2)
        body = np.zeros_like(both)
        if components.max() > 0:
            sizes = np.bincount(components.ravel())
            sizes[0] = 0
            body = components == sizes.argmax()
        levels[(levels == -1) & ~body] = previous
    levels[levels == -1] = 1.0
    p_d, t_d = p - levels, t - levels
    p_phi = 1 - p_d * (p_d >= theta)
    t_phi = 1 - t_d * (t_d >= theta)
    return float(np.abs(p_phi - t_phi)[unknown].sum() / 1000)


def matting_errors(prediction, target, trimap) -> dict:
    """``{"sad", "mse", "grad", "conn"}`` of one matte (see the functions above)."""
    return {"sad": sad(prediction, target, trimap), "mse": mse(prediction, target, trimap),
            "grad": gradient_error(prediction, target, trimap),
            "conn": connectivity_error(prediction, target, trimap)}
