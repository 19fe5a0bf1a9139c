"""Probability + boundary networks sharing one MobileNetV2 encoder."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .decoder import MapHead, SharedDecoder
from .encoder import MobileNetV2Encoder

#: Inputs are padded so that H and W are multiples of this.
STRIDE = 32


def pad_to_stride(x: torch.Tensor, stride: int = STRIDE) -> tuple[torch.Tensor, tuple[int, int]]:
    """Zero-pad (N, C, H, W) on the bottom/right to multiples of ``stride``; returns the original (H, W)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % stride, (-w) % stride
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph))
    return x, (h, w)


class ObjectnessNet(nn.Module):
    """Two maps per pixel: object probability (P) and object-edge probability (B).

    One MobileNetV2 encoder and a shared deconvolution trunk down to stride 4,
    then two heads (probability, boundary) that each upsample to the input
    resolution.

    ``forward(x)`` takes (N, 3 + extra_channels, H, W), RGB in [0, 1] (any H, W),
    and returns (N, 2, H, W) logits: channel 0 for P, channel 1 for B.
    ``encode(x)`` returns the encoder's five feature maps (strides 2..32 of the
    input padded to a multiple of 32): what the engine caches per image.
    """

    def __init__(self, extra_channels: int = 0):
        super().__init__()
        self.encoder = MobileNetV2Encoder(extra_channels)
        self.decoder = SharedDecoder()
        self.probability_head = MapHead(self.decoder.out_channels)
        self.boundary_head = MapHead(self.decoder.out_channels)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.encoder(pad_to_stride(x)[0])

    def decode(self, features: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        """(N, 2, h, w) logits from :meth:`encode`'s features of an (h, w) input."""
        trunk = self.decoder(features)
        logits = torch.cat(
            [self.probability_head(trunk, features[0]), self.boundary_head(trunk, features[0])], dim=1
        )
        return logits[..., : size[0], : size[1]]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x), tuple(x.shape[-2:]))
