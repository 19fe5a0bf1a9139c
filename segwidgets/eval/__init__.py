"""Evaluation: segmentation metrics (numpy only), alpha-matte errors (``eval.matting``: SAD, MSE,
gradient, connectivity) and the number-of-clicks protocol (``eval.noc``).

Datasets are read through ``segwidgets.data``.
"""
from .matting import connectivity_error, gradient_error, matting_errors, mse, sad
from .metrics import boundary_f_score, class_ious, confusion_matrix, iou, mean_iou

__all__ = ["iou", "boundary_f_score", "confusion_matrix", "class_ious", "mean_iou", "sad", "mse", "gradient_error", "connectivity_error", "matting_errors"]
