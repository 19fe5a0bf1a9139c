"""Running a dense network on a crop of an image and mapping its output back.

Shared by the pipelines. Boxes are ``(x0, y0, x1, y1)`` floats in pixels of the
full image; a crop may extend past the image (that part reads as zeros,
exactly as in training).
"""
from __future__ import annotations

import numpy as np
import torch

from ..core.crops import crop_resize, paste_back
from ..core.device import to_numpy

SIDES = ("left", "top", "right", "bottom")


def net_input_size(box, net_size: int) -> tuple[int, int]:
    """(h, w) of the network input for ``box``: longest side ``net_size``, aspect kept."""
    bw, bh = box[2] - box[0], box[3] - box[1]
    scale = net_size / max(bw, bh)
    return max(8, int(round(bh * scale))), max(8, int(round(bw * scale)))


def image_tensor(image: np.ndarray, device, dtype=torch.float32) -> torch.Tensor:
    """(H, W, 3) uint8 -> (3, H, W) float in [0, 1] on ``device``."""
    array = np.ascontiguousarray(image)
    if not array.flags.writeable:  # torch warns on read-only buffers (e.g. arrays viewing a PIL image)
        array = array.copy()
    return torch.from_numpy(array).to(device).permute(2, 0, 1).to(dtype) / 255.0


def crop_input(image_t: torch.Tensor, box, net_size: int, extra: torch.Tensor | None = None) -> torch.Tensor:
    """The (1, C, h, w) network input for ``box`` (extra full-image planes are cropped alike)."""
    size = net_input_size(box, net_size)
    x = crop_resize(image_t, box, size)
    if extra is not None:
        x = torch.cat([x, crop_resize(extra.to(x.dtype), box, size)], dim=0)
    return x[None]


def region_of(box, image_shape) -> tuple[int, int, int, int]:
    """Integer ``(x0, y0, x1, y1)`` of ``box`` clipped to the image: where the crop has pixels."""
    h, w = image_shape[:2]
    x0, y0 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x1, y1 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    return x0, y0, x1, y1


def maps_to_region(maps: torch.Tensor, box, region) -> np.ndarray:
    """Network maps (C, h, w) over ``box`` resampled onto the pixels of ``region``: (C, H_r, W_r) float32."""
    x0, y0, x1, y1 = region
    shifted = (box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0)
    return to_numpy(paste_back(maps.float(), shifted, (y1 - y0, x1 - x0))).astype(np.float32)


def region_to_frame(array: np.ndarray, region, image_shape, dtype) -> np.ndarray:
    """An (H, W) array of ``dtype``, zero except ``region``, which holds ``array``."""
    x0, y0, x1, y1 = region
    out = np.zeros(image_shape[:2], dtype)
    out[y0:y1, x0:x1] = array
    return out


def touched_sides(refinement: np.ndarray, box, image_shape, threshold: float, band: int) -> tuple[str, ...]:
    """Sides of ``box`` where refinement pixels (> ``threshold``) come within ``band``
    pixels of the crop edge, among the sides that still lie inside the image (those can grow).

    ``refinement`` is the (h, w) map at network resolution over ``box``.
    """
    h, w = image_shape[:2]
    can_grow = {"left": box[0] > 0, "top": box[1] > 0, "right": box[2] < w, "bottom": box[3] < h}
    hot = refinement > threshold
    strips = {"left": hot[:, :band], "top": hot[:band, :], "right": hot[:, -band:], "bottom": hot[-band:, :]}
    return tuple(side for side in SIDES if can_grow[side] and strips[side].any())


def grow_box(box, sides, step: float, image_shape) -> tuple[float, float, float, float]:
    """``box`` grown by ``step`` x its size on each of ``sides``, not past the image border."""
    h, w = image_shape[:2]
    x0, y0, x1, y1 = box
    dx, dy = step * (x1 - x0), step * (y1 - y0)
    if "left" in sides:
        x0 = min(x0, max(0.0, x0 - dx))
    if "top" in sides:
        y0 = min(y0, max(0.0, y0 - dy))
    if "right" in sides:
        x1 = max(x1, min(float(w), x1 + dx))
    if "bottom" in sides:
        y1 = max(y1, min(float(h), y1 + dy))
    return (x0, y0, x1, y1)
