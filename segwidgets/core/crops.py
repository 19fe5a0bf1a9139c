"""Crop-and-resize and paste-back between an image and a network's square input.

Boxes are ``(x0, y0, x1, y1)`` in pixel-edge coordinates of the full image
(floats allowed; they may extend past the image, which reads as zeros).
Both directions use one affine map, so a crop and its paste-back agree to
the sub-pixel.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _theta(box, width: int, height: int, flip: bool = False) -> torch.Tensor:
    """Affine map from output-normalised coordinates to input-normalised ones."""
    x0, y0, x1, y1 = (float(v) for v in box)
    ax, bx = (x1 - x0) / width, (x0 + x1) / width - 1.0
    ay, by = (y1 - y0) / height, (y0 + y1) / height - 1.0
    if flip:
        ax = -ax
    return torch.tensor([[ax, 0.0, bx], [0.0, ay, by]], dtype=torch.float32)


def crop_resize(image: torch.Tensor, box, size: tuple[int, int], flip: bool = False, mode: str = "bilinear") -> torch.Tensor:
    """Sample ``box`` of a (C, H, W) tensor onto a (C, size[0], size[1]) grid.

    Outside the image reads as 0. ``flip`` mirrors the crop left-right.
    """
    c, h, w = image.shape
    theta = _theta(box, w, h, flip).to(image.device)[None]
    grid = F.affine_grid(theta, (1, c, *size), align_corners=False)
    return F.grid_sample(image[None].float(), grid.to(image.device), mode=mode, padding_mode="zeros", align_corners=False)[0]


def paste_back(crop: torch.Tensor, box, image_size: tuple[int, int], mode: str = "bilinear") -> torch.Tensor:
    """Inverse of :func:`crop_resize`: a (C, h, w) crop resampled into a (C, H, W) image frame.

    Pixels outside ``box`` are 0. ``image_size`` is ``(H, W)``.
    """
    c, ch, cw = crop.shape
    height, width = image_size
    x0, y0, x1, y1 = (float(v) for v in box)
    # Full-image normalised coordinate -> crop normalised coordinate.
    ax, ay = width / (x1 - x0), height / (y1 - y0)
    bx = (width - (x0 + x1)) / (x1 - x0)
    by = (height - (y0 + y1)) / (y1 - y0)
    theta = torch.tensor([[[ax, 0.0, bx], [0.0, ay, by]]], dtype=torch.float32, device=crop.device)
    grid = F.affine_grid(theta, (1, c, height, width), align_corners=False)
    return F.grid_sample(crop[None].float(), grid, mode=mode, padding_mode="zeros", align_corners=False)[0]


def square_box(box, scale: float = 1.0) -> tuple[float, float, float, float]:
    """The square box with the same centre as ``box`` and side ``scale * max(width, height)``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = scale * max(x1 - x0, y1 - y0) / 2
    return (cx - half, cy - half, cx + half, cy + half)
