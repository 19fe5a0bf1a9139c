"""Maps and masks as RGBA pictures (no UI imports).

Overlays are always RGBA: maps must reach the screen without JPEG artefacts.
"""
from __future__ import annotations

import numpy as np

#: Palette of a mask-change picture (see ``panels.change_labels``): 0 outside,
#: 1 object, 2 added by the step (green), 3 removed by the step (red).
CHANGE_PALETTE = np.array([[0, 0, 0, 0], [64, 128, 255, 115], [0, 200, 0, 242], [230, 0, 0, 242]], np.uint8)

#: Trimap colours by value: known background (dark blue), unknown (yellow), known foreground (green).
TRIMAP_COLORS = {0: (30, 58, 138), 128: (250, 204, 21), 255: (34, 197, 94)}


def colormap_table(colormap: str) -> np.ndarray:
    """(256, 4) uint8 RGBA table of a matplotlib colormap."""
    from matplotlib import colormaps

    return (colormaps[colormap](np.linspace(0, 1, 256)) * 255).round().astype(np.uint8)


def map_to_index(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """Quantise a map to palette indices 0..255 over [vmin, vmax] (uint8, same shape)."""
    scale = 255.0 / (vmax - vmin) if vmax > vmin else 0.0
    return np.clip((np.asarray(values, np.float32) - vmin) * scale, 0, 255).round().astype(np.uint8)


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
    values = np.asarray(values, np.float32)
    if values.ndim != 2:
        raise ValueError(f"expected an (H, W) map, got shape {values.shape}")
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    finite = np.isfinite(values)
    vmin, vmax = value_range(values, vmin, vmax)
    rgba = colormap_table(colormap)[map_to_index(np.where(finite, values, vmin), vmin, vmax)]
    rgba[..., 3] = np.where(finite, round(opacity * 255), 0)
    return rgba


def colormap_palette(colormap: str, opacity: float = 1.0) -> np.ndarray:
    """(256, 4) uint8 RGBA palette of a matplotlib colormap at ``opacity`` (for indexed PNGs)."""
    table = colormap_table(colormap)
    table[:, 3] = round(opacity * 255)
    return table


#: Default mask colour: blue (Okabe-Ito), far in hue from the green and red click dots and from the
#: orange, skin and wood tones a red overlay vanished into.
MASK_COLOR = (0, 114, 178)


def value_range(values: np.ndarray, vmin=None, vmax=None) -> tuple[float, float]:
    """The ``(vmin, vmax)`` :func:`map_to_rgba` maps to the colormap's ends: the given ones, else [0, 1] for
    maps in [0, 1], else the map's finite min and max."""
    values = np.asarray(values, np.float32)
    if vmin is None or vmax is None:
        finite = np.isfinite(values)
        lo, hi = (float(values[finite].min()), float(values[finite].max())) if finite.any() else (0.0, 1.0)
        if lo >= 0 and hi <= 1:
            lo, hi = 0.0, 1.0
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    return float(vmin), float(vmax)


def mask_outline_rgba(mask: np.ndarray, color=MASK_COLOR, width: int = 2, opacity: float = 1.0) -> np.ndarray:
    """(H, W) bool mask -> (H, W, 4) uint8: its outline, ``width`` pixels inside the mask's edge, in ``color``
    (with a white line outside it, so it shows on dark and bright images alike); transparent elsewhere."""
    from scipy.ndimage import binary_dilation, binary_erosion
    from skimage.morphology import disk

    mask = np.asarray(mask, bool)
    if mask.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got shape {mask.shape}")
    square = np.ones((3, 3), bool)
    inner = mask & ~binary_erosion(mask, square, border_value=0)  # the image border counts as an edge
    if width > 1:
        inner = binary_dilation(inner, disk(int(width) - 1)) & mask
    outer = binary_dilation(mask, square) & ~mask
    rgba = np.zeros(mask.shape + (4,), np.uint8)
    rgba[outer] = (255, 255, 255, round(opacity * 255))
    rgba[inner, :3] = np.asarray(color, np.uint8)[:3]
    rgba[inner, 3] = round(opacity * 255)
    return rgba


def mask_to_rgba(mask: np.ndarray, color=MASK_COLOR, opacity: float = 0.5) -> np.ndarray:
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


def trimap_to_rgba(trimap: np.ndarray, opacity: float = 1.0, colors=None) -> np.ndarray:
    """(H, W) uint8 trimap (0 / 128 / 255) -> (H, W, 4) uint8 RGBA, one colour per class.

    Parameters
    ----------
    trimap : (H, W) uint8, values 0 (background), 128 (unknown), 255 (foreground).
    opacity : float in [0, 1], alpha of every pixel.
    colors : dict value -> (r, g, b), optional; default :data:`TRIMAP_COLORS`.
        Other values are drawn transparent.
    """
    trimap = np.asarray(trimap)
    if trimap.ndim != 2:
        raise ValueError(f"expected an (H, W) trimap, got shape {trimap.shape}")
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    palette = np.zeros((256, 4), np.uint8)
    for value, color in (TRIMAP_COLORS if colors is None else colors).items():
        palette[int(value), :3] = np.asarray(color, np.uint8)[:3]
        palette[int(value), 3] = round(opacity * 255)
    return palette[trimap.astype(np.uint8)]
