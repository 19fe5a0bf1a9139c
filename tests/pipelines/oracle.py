"""A stand-in network with a known answer: object = bright pixels.

It lets pipeline tests check crop handling, expansion and the graph cut
without trained weights.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BrightObjectNet(nn.Module):
    """Logits (N, 2, H, W): P high where the mean RGB (first 3 planes) > 0.5, B high on P's edge."""

    def __init__(self):
        super().__init__()
        self.calls = []  # (h, w) of every input seen
        self.batches = []  # and its batch size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(tuple(x.shape[-2:]))
        self.batches.append(x.shape[0])
        bright = (x[:, :3].mean(1, keepdim=True) > 0.5).float()
        edge = (F.max_pool2d(bright, 5, 1, 2) + F.max_pool2d(-bright, 5, 1, 2)).clamp(0, 1)
        return torch.cat([16 * (bright - 0.5), 16 * (edge - 0.5)], dim=1)


class BrightClickNet(nn.Module):
    """Click-net stand-in on (N, 6, H, W) inputs: object = bright pixels away from negative clicks."""

    def __init__(self):
        super().__init__()
        self.inputs = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x.detach().clone())
        bright = (x[:, :3].mean(1, keepdim=True) > 0.5).float()
        obj = bright * (x[:, 4:5] < 0.5).float()
        edge = (F.max_pool2d(obj, 5, 1, 2) + F.max_pool2d(-obj, 5, 1, 2)).clamp(0, 1)
        return torch.cat([16 * (obj - 0.5), 16 * (edge - 0.5)], dim=1)


class FailingNet(nn.Module):
    def forward(self, x):
        raise RuntimeError("model exploded")
