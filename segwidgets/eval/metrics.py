"""Segmentation metrics on (H, W) bool masks."""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def iou(prediction: np.ndarray, target: np.ndarray, ignore: np.ndarray | None = None) -> float:
    """Intersection over union of two (H, W) bool masks, skipping ``ignore`` pixels.

    Two empty masks score 1.0 (nothing to find, nothing found).
    """
    prediction, target = np.asarray(prediction, bool), np.asarray(target, bool)
    if prediction.shape != target.shape:
        raise ValueError(f"mask shapes differ: {prediction.shape} vs {target.shape}")
    if ignore is not None:
        keep = ~np.asarray(ignore, bool)
        prediction, target = prediction & keep, target & keep
    union = np.logical_or(prediction, target).sum()
    return 1.0 if union == 0 else float(np.logical_and(prediction, target).sum() / union)


def _boundary(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, structure=np.ones((3, 3), bool), border_value=0)


def boundary_f_score(prediction: np.ndarray, target: np.ndarray, tolerance: float = 2.0) -> float:
    """F-measure of boundary pixels matched within ``tolerance`` pixels (Euclidean).

    Precision: fraction of predicted boundary pixels within the tolerance of the
    true boundary; recall: the converse. Two empty boundaries score 1.0.
    """
    pb, tb = _boundary(np.asarray(prediction, bool)), _boundary(np.asarray(target, bool))
    if not pb.any() and not tb.any():
        return 1.0
    if not pb.any() or not tb.any():
        return 0.0
    dist_to_t = ndimage.distance_transform_edt(~tb)
    dist_to_p = ndimage.distance_transform_edt(~pb)
    precision = float((dist_to_t[pb] <= tolerance).mean())
    recall = float((dist_to_p[tb] <= tolerance).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
