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


def confusion_matrix(prediction: np.ndarray, target: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) int64 pixel counts: row = true class, column = predicted class.

    ``prediction`` and ``target`` are integer class maps of one shape with values in 0..classes-1.
    """
    prediction, target = np.asarray(prediction), np.asarray(target)
    if prediction.shape != target.shape:
        raise ValueError(f"class map shapes differ: {prediction.shape} vs {target.shape}")
    for name, values in (("prediction", prediction), ("target", target)):
        if values.size and (values.min() < 0 or values.max() >= classes):
            raise ValueError(f"{name} holds classes outside 0..{classes - 1}")
    index = target.astype(np.int64).ravel() * classes + prediction.astype(np.int64).ravel()
    return np.bincount(index, minlength=classes * classes).reshape(classes, classes)


def class_ious(confusion: np.ndarray) -> np.ndarray:
    """(C,) float IoU per class from a confusion matrix (NaN for a class neither present nor predicted)."""
    confusion = np.asarray(confusion, np.float64)
    hits = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - hits
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, hits / union, np.nan)


def mean_iou(confusion: np.ndarray) -> float:
    """Mean over classes of :func:`class_ious`, skipping classes that never occur (NaN)."""
    return float(np.nanmean(class_ious(confusion)))
