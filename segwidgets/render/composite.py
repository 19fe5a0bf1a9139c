"""Compositing: overlays over an image, and cut-outs over a checkerboard."""
from __future__ import annotations

import numpy as np


def composite(image: np.ndarray, *overlays: np.ndarray) -> np.ndarray:
    """Alpha-blend RGBA overlays (bottom first) over an (H, W, 3) uint8 image; returns (H, W, 3) uint8."""
    out = image.astype(np.float32)
    for rgba in overlays:
        alpha = rgba[..., 3:4].astype(np.float32) / 255.0
        out = out * (1 - alpha) + rgba[..., :3].astype(np.float32) * alpha
    return out.round().astype(np.uint8)


def checkerboard(shape: tuple[int, int], tile: int = 16, light: int = 204, dark: int = 153) -> np.ndarray:
    """(H, W, 3) uint8 grey checkerboard: the usual backdrop that shows transparency."""
    yy, xx = np.indices(shape[:2])
    cells = ((yy // tile + xx // tile) % 2).astype(bool)
    return np.repeat(np.where(cells, dark, light).astype(np.uint8)[..., None], 3, axis=2)


def checkerboard_composite(foreground: np.ndarray, alpha: np.ndarray, tile: int = 16) -> np.ndarray:
    """``alpha * F + (1 - alpha) * checkerboard``: a cut-out or matte as it would look on
    any background, (H, W, 3) uint8.

    Parameters
    ----------
    foreground : (H, W, 3) uint8 colours (an image, or estimated foreground colours).
    alpha : (H, W) float in [0, 1] (a matte) or bool (a mask).
    """
    foreground = np.asarray(foreground)
    alpha = np.asarray(alpha, np.float32)
    if alpha.shape != foreground.shape[:2]:
        raise ValueError(f"alpha of shape {alpha.shape} does not fit the {foreground.shape[:2]} image")
    a = np.clip(alpha, 0, 1)[..., None]
    out = a * foreground.astype(np.float32) + (1 - a) * checkerboard(alpha.shape, tile).astype(np.float32)
    return out.round().astype(np.uint8)
