"""Working resolution for large images: whole-pixel block means down, bilinear masks back up.

A 12 MP photo is cut on blocks of ``scale`` x ``scale`` pixels (the smallest whole
scale under a pixel budget) and the mask brought back to full resolution; both
:func:`graphcut.graph_cut` and ``pipelines.refine`` use these.
"""
from __future__ import annotations

import numpy as np
from PIL import Image


def working_scale(window, max_pixels: int | None) -> int:
    """The smallest whole block side that brings the ``(x0, y0, x1, y1)`` window under
    ``max_pixels`` pixels (1 when it already is, or when ``max_pixels`` is None)."""
    area = (window[2] - window[0]) * (window[3] - window[1])
    if max_pixels is None or area <= max_pixels:
        return 1
    return int(np.ceil(np.sqrt(area / max_pixels)))


def block_mean(array: np.ndarray, scale: int) -> np.ndarray:
    """Mean of each ``scale`` x ``scale`` block of ``array`` ((h, w) or (h, w, 3) uint8 RGB; blocks
    cut by the edge average the pixels they hold), by PIL's box reduction (fast on 12 MP):
    (ceil(h / scale), ceil(w / scale)[, 3]); uint8 for an RGB image, float32 otherwise."""
    if array.ndim == 3:
        return np.asarray(Image.fromarray(np.ascontiguousarray(array)).reduce(scale))
    plane = Image.fromarray(np.ascontiguousarray(array, dtype=np.float32), mode="F")
    return np.asarray(plane.reduce(scale))


def upscale_mask(mask: np.ndarray, scale: int, shape, threshold: float = 0.5) -> np.ndarray:
    """A working-resolution mask at full resolution ``shape`` (h, w): bilinear interpolation of
    the block labels above ``threshold`` (0.5: edges run smoothly between blocks instead of in
    ``scale``-pixel steps; 0: every pixel a labelled block reaches)."""
    h, w = shape
    plane = Image.fromarray(mask.astype(np.float32), mode="F")
    return np.asarray(plane.resize((w, h), Image.BILINEAR)) > threshold
