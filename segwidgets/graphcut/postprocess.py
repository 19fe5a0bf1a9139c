"""Clean-up of a final mask: fill holes, drop small components."""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill background regions fully enclosed by the object.

    Parameters
    ----------
    mask : (H, W) bool

    Returns
    -------
    (H, W) bool, a superset of ``mask``.
    """
    return ndimage.binary_fill_holes(np.asarray(mask, bool))


def remove_small_components(mask: np.ndarray, min_pixels: int = 64, keep_largest: bool = False) -> np.ndarray:
    """Drop 8-connected object components smaller than ``min_pixels``.

    Parameters
    ----------
    mask : (H, W) bool
    min_pixels : int
        Components with fewer pixels are removed.
    keep_largest : bool
        Keep only the largest component (after the size filter).

    Returns
    -------
    (H, W) bool, a subset of ``mask``.
    """
    mask = np.asarray(mask, bool)
    components, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if count == 0:
        return mask.copy()
    sizes = np.bincount(components.ravel(), minlength=count + 1)
    sizes[0] = 0
    keep = sizes >= min_pixels
    if keep_largest and keep.any():
        keep = np.zeros_like(keep)
        keep[sizes.argmax()] = True
    return keep[components]


def clean_mask(mask: np.ndarray, min_pixels: int = 64) -> np.ndarray:
    """``fill_holes`` after ``remove_small_components``: the usual final clean-up."""
    return fill_holes(remove_small_components(mask, min_pixels))
