"""Losses for per-pixel maps (all take logits and {0, 1} targets of shape (N, 1, H, W))."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """1 - Dice of the sigmoid map and the target, averaged over the batch."""
    p = torch.sigmoid(logits).flatten(1)
    t = target.flatten(1)
    dice = (2 * (p * t).sum(1) + eps) / (p.sum(1) + t.sum(1) + eps)
    return (1 - dice).mean()


def map_loss(logits: torch.Tensor, target: torch.Tensor, pos_weight: float = 1.0, weight=None) -> torch.Tensor:
    """Binary cross-entropy (positives weighted by ``pos_weight``) plus soft Dice."""
    bce = F.binary_cross_entropy_with_logits(
        logits, target, weight=weight, pos_weight=torch.tensor(pos_weight, device=logits.device)
    )
    return bce + soft_dice_loss(logits, target)


def edge_weights(edges: torch.Tensor, edge_weight: float) -> torch.Tensor | None:
    """Per-pixel loss weights: 1, and ``1 + edge_weight`` in the edge band ``edges`` ({0, 1}); None when
    ``edge_weight`` is 0. A thin part is all edge band, so its pixels then count more."""
    return 1 + edge_weight * edges if edge_weight else None


def batch_iou(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample IoU of ``logits > 0`` against the target, (N,)."""
    pred = (logits > 0).flatten(1)
    t = target.flatten(1) > 0.5
    inter = (pred & t).sum(1).float()
    union = (pred | t).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))
