"""Hard constraints that confine the graph cut to where the network is unsure."""
from __future__ import annotations

import numpy as np
from scipy import ndimage


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
