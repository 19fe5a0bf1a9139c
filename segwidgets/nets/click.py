"""Click segmentation network: RGB + click distance planes + previous mask."""
from __future__ import annotations

import torch

from .objectness import ObjectnessNet

#: Extra input planes: positive-click proximity, negative-click proximity, previous mask.
CLICK_PLANES = 3
#: Proximity falls from 1 at a click to 0 at this fraction of the input's longest side.
CLICK_RADIUS = 0.15


def click_planes(clicks: torch.Tensor, size: tuple[int, int], previous: torch.Tensor | None = None,
                 radius: float = CLICK_RADIUS) -> torch.Tensor:
    """Encode clicks as (N, 3, H, W) planes.

    Parameters
    ----------
    clicks : (N, K, 3) float tensor
        ``(x, y, sign)`` per click in input pixels (pixel centres at +0.5);
        sign +1 positive, -1 negative, 0 padding (ignored).
    size : (H, W)
    previous : (N, 1, H, W) float in [0, 1], optional
        The previous mask (zeros when absent).
    radius : float
        Truncation distance as a fraction of ``max(H, W)``.

    Returns
    -------
    (N, 3, H, W): ``1 - min(d / r, 1)`` with ``d`` the distance to the nearest
    positive (plane 0) / negative (plane 1) click, and the previous mask (plane 2).
    """
    n = clicks.shape[0]
    h, w = size
    device = clicks.device
    ys = torch.arange(h, device=device, dtype=torch.float32) + 0.5
    xs = torch.arange(w, device=device, dtype=torch.float32) + 0.5
    r = radius * max(h, w)
    planes = []
    for sign in (1.0, -1.0):
        chosen = clicks[..., 2] == sign  # (N, K)
        dy = ys.view(1, 1, h, 1) - clicks[..., 1].view(n, -1, 1, 1)
        dx = xs.view(1, 1, 1, w) - clicks[..., 0].view(n, -1, 1, 1)
        d = torch.sqrt(dy**2 + dx**2)  # (N, K, H, W)
        d = torch.where(chosen.view(n, -1, 1, 1), d, torch.full_like(d, float("inf")))
        nearest = d.min(dim=1).values if d.shape[1] else torch.full((n, h, w), float("inf"), device=device)
        planes.append(1 - (nearest / r).clamp(max=1))
    prev = previous[:, 0].float() if previous is not None else torch.zeros((n, h, w), device=device)
    return torch.stack(planes + [prev], dim=1)


class ClickNet(ObjectnessNet):
    """The objectness architecture with three extra input planes (:func:`click_planes`).

    ``forward(x)`` takes (N, 6, H, W): RGB in [0, 1] then the planes, and returns
    (N, 2, H, W) logits: object probability and object-edge probability.
    """

    def __init__(self):
        super().__init__(extra_channels=CLICK_PLANES)
