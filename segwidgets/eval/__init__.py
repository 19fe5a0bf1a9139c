"""Metrics and dataset readers for evaluation (numpy only)."""
from .io import list_pairs, load_mask, split_pairs
from .metrics import boundary_f_score, iou

__all__ = ["list_pairs", "load_mask", "split_pairs", "iou", "boundary_f_score"]
