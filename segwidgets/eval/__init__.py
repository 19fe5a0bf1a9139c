"""Evaluation: segmentation metrics (numpy only) and the number-of-clicks protocol (``eval.noc``).

Datasets are read through ``segwidgets.data``.
"""
from .metrics import boundary_f_score, iou

__all__ = ["iou", "boundary_f_score"]
