"""Extra input planes rendered from points (torch only, batched)."""
from __future__ import annotations

import torch

#: Proximity falls from 1 at a point to 0 at this fraction of the input's longest side.
PROXIMITY_RADIUS = 0.15


def proximity_planes(points: torch.Tensor, chosen: torch.Tensor, size: tuple[int, int],
                     radius: float = PROXIMITY_RADIUS) -> torch.Tensor:
    """``1 - min(d / r, 1)`` with ``d`` the distance to the nearest chosen point, (N, H, W).

    Parameters
    ----------
    points : (N, K, 2) float tensor
        ``(x, y)`` in input pixels, continuous (pixel centres at +0.5).
    chosen : (N, K) bool tensor
        Which points count (padding is False); a sample with none gets a zero plane.
    size : (H, W)
    radius : float
        ``r`` as a fraction of ``max(H, W)``.
    """
    n = points.shape[0]
    h, w = size
    device = points.device
    ys = torch.arange(h, device=device, dtype=torch.float32) + 0.5
    xs = torch.arange(w, device=device, dtype=torch.float32) + 0.5
    if points.shape[1] == 0:
        return torch.zeros((n, h, w), device=device)
    dy = ys.view(1, 1, h, 1) - points[..., 1].float().view(n, -1, 1, 1)
    dx = xs.view(1, 1, 1, w) - points[..., 0].float().view(n, -1, 1, 1)
    d = torch.sqrt(dy**2 + dx**2)  # (N, K, H, W)
    d = torch.where(chosen.view(n, -1, 1, 1), d, torch.full_like(d, float("inf")))
    return 1 - (d.min(dim=1).values / (radius * max(h, w))).clamp(max=1)
