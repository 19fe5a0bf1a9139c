"""Click segmentation network: RGB + click distance planes + previous mask."""
from __future__ import annotations

import torch

from .objectness import ObjectnessNet
from .planes import PROXIMITY_RADIUS, proximity_planes

#: Extra input planes: positive-click proximity, negative-click proximity, previous mask.
CLICK_PLANES = 3


def click_planes(clicks: torch.Tensor, size: tuple[int, int], previous: torch.Tensor | None = None,
                 radius: float = PROXIMITY_RADIUS) -> torch.Tensor:
    """Encode a batch of clicks as (N, 3, H, W) planes (training; inference goes through the engine).

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
    (N, 3, H, W): proximity to the nearest positive (plane 0) / negative (plane 1)
    click (see ``nets.planes.proximity_planes``), and the previous mask (plane 2).
    """
    n = clicks.shape[0]
    h, w = size
    planes = [proximity_planes(clicks[..., :2], clicks[..., 2] == sign, size, radius) for sign in (1.0, -1.0)]
    prev = previous[:, 0].float() if previous is not None else torch.zeros((n, h, w), device=clicks.device)
    return torch.stack(planes + [prev], dim=1)


class ClickNet(ObjectnessNet):
    """The objectness architecture with three extra input planes (:func:`click_planes`).

    ``forward(x)`` takes (N, 6, H, W): RGB in [0, 1] then the planes, and returns
    (N, 2, H, W) logits: object probability and object-edge probability.
    """

    def __init__(self):
        super().__init__(extra_channels=CLICK_PLANES)
