"""Turning maps and masks into RGBA overlays, and PNG encoding (no UI imports).

Overlays are always RGBA and always PNG on the wire: maps must reach the
screen without JPEG artefacts.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def map_to_rgba(values: np.ndarray, colormap: str = "viridis", opacity: float = 0.6, vmin=None, vmax=None) -> np.ndarray:
    """Colour an (H, W) map with a matplotlib colormap.

    Parameters
    ----------
    values : (H, W) float array; NaN pixels become transparent.
    colormap : matplotlib colormap name.
    opacity : float in [0, 1], alpha of every coloured pixel.
    vmin, vmax : value range mapped to the colormap's ends; default [0, 1] for
        maps already in [0, 1], else the map's own finite min and max.

    Returns
    -------
    (H, W, 4) uint8 RGBA.
    """
    from matplotlib import colormaps

    values = np.asarray(values, np.float32)
    if values.ndim != 2:
        raise ValueError(f"expected an (H, W) map, got shape {values.shape}")
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    finite = np.isfinite(values)
    if vmin is None or vmax is None:
        lo, hi = (float(values[finite].min()), float(values[finite].max())) if finite.any() else (0.0, 1.0)
        if lo >= 0 and hi <= 1:
            lo, hi = 0.0, 1.0
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    scale = 255.0 / (vmax - vmin) if vmax > vmin else 0.0
    index = np.clip((np.where(finite, values, vmin) - vmin) * scale, 0, 255).round().astype(np.uint8)
    table = (colormaps[colormap](np.linspace(0, 1, 256)) * 255).round().astype(np.uint8)
    rgba = table[index]
    rgba[..., 3] = np.where(finite, round(opacity * 255), 0)
    return rgba


def colormap_palette(colormap: str, opacity: float = 1.0) -> np.ndarray:
    """(256, 4) uint8 RGBA palette of a matplotlib colormap at ``opacity``."""
    from matplotlib import colormaps

    table = (colormaps[colormap](np.linspace(0, 1, 256)) * 255).round().astype(np.uint8)
    table[:, 3] = round(opacity * 255)
    return table


def map_to_index(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Quantise a map to palette indices 0..255 over [vmin, vmax] (uint8, same shape)."""
    scale = 255.0 / (vmax - vmin) if vmax > vmin else 0.0
    return np.clip((np.asarray(values, np.float32) - vmin) * scale, 0, 255).round().astype(np.uint8)


def encode_indexed_png(index: np.ndarray, palette: np.ndarray) -> bytes:
    """PNG bytes of an (H, W) uint8 index image with an (n <= 256, 4) RGBA palette.

    Lossless, and several times faster to encode (and smaller) than RGBA: the
    form used for overlays that change at every step.
    """
    palette = np.asarray(palette, np.uint8)
    image = Image.fromarray(np.ascontiguousarray(index, np.uint8), mode="P")
    image.putpalette(palette[:, :3].reshape(-1).tolist())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", transparency=bytes(palette[:, 3].tolist()), compress_level=1)
    return buffer.getvalue()


def mask_to_rgba(mask: np.ndarray, color=(255, 64, 64), opacity: float = 0.5) -> np.ndarray:
    """(H, W) bool mask -> (H, W, 4) uint8: ``color`` at ``opacity`` where True, transparent elsewhere."""
    mask = np.asarray(mask, bool)
    if mask.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got shape {mask.shape}")
    rgba = np.zeros(mask.shape + (4,), np.uint8)
    rgba[mask, :3] = np.asarray(color, np.uint8)[:3]
    rgba[mask, 3] = round(opacity * 255)
    return rgba


def rgb_to_rgba(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> opaque (H, W, 4) uint8."""
    return np.concatenate([image, np.full(image.shape[:2] + (1,), 255, np.uint8)], axis=2)


def encode_png(rgba: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 4) or (H, W, 3) uint8 array (lossless)."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def stack_rgba(*layers: np.ndarray) -> np.ndarray:
    """Alpha-composite RGBA layers (first at the bottom) into one (H, W, 4) uint8 RGBA."""
    out_rgb = np.zeros(layers[0].shape[:2] + (3,), np.float32)
    out_a = np.zeros(layers[0].shape[:2] + (1,), np.float32)
    for rgba in layers:
        a = rgba[..., 3:4].astype(np.float32) / 255.0
        out_rgb = rgba[..., :3] * a + out_rgb * (1 - a)  # premultiplied "over"
        out_a = a + out_a * (1 - a)
    rgb = np.where(out_a > 0, out_rgb / np.maximum(out_a, 1e-6), 0)
    return np.concatenate([rgb, out_a * 255], axis=2).round().astype(np.uint8)


def composite(image: np.ndarray, *overlays: np.ndarray) -> np.ndarray:
    """Alpha-blend RGBA overlays over an (H, W, 3) uint8 image; returns (H, W, 3) uint8."""
    out = image.astype(np.float32)
    for rgba in overlays:
        alpha = rgba[..., 3:4].astype(np.float32) / 255.0
        out = out * (1 - alpha) + rgba[..., :3].astype(np.float32) * alpha
    return out.round().astype(np.uint8)
