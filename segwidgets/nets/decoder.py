"""Deconvolution decoder: transposed convolutions back to input resolution, with skips."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .encoder import ENCODER_CHANNELS


def _conv_bn(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UpBlock(nn.Module):
    """x2 transposed convolution, then a 3x3 conv over it and the skips (if any), as if concatenated.

    ``forward(x, *skips)``: ``x`` (N, cin, h, w) and skips (N, c_i, 2h, 2w) whose channels add up
    to ``cskip`` -> (N, cout, 2h, 2w). The fusing convolution is applied to each part with its slice
    of the weights and the results summed, which equals the convolution of the concatenation
    without building it: in channels-last layout a concatenation along channels is a slow
    per-pixel interleave (it took a third of the matting networks' time at full resolution).
    """

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False)
        self.fuse = _conv_bn(cout + cskip, cout)

    def forward(self, x: torch.Tensor, *skips: torch.Tensor | None) -> torch.Tensor:
        parts = [self.up(x)] + [skip for skip in skips if skip is not None]
        conv = self.fuse[0]
        if len(parts) == 1:
            return self.fuse(parts[0])
        total = sum(part.shape[1] for part in parts)
        if total != conv.in_channels:
            raise ValueError(f"UpBlock: got {total} input channels, expected {conv.in_channels}")
        out, start = None, 0
        for part in parts:
            stop = start + part.shape[1]
            bias = conv.bias if start == 0 else None  # once (a folded batch norm gives the conv a bias)
            term = F.conv2d(part, conv.weight[:, start:stop], bias, conv.stride, conv.padding)
            out, start = term if out is None else out + term, stop
        return self.fuse[1:](out)


class SharedDecoder(nn.Module):
    """Stride 32 -> stride 4 with the encoder's skips; shared by the heads.

    ``forward(features)`` -> (N, widths[-1], H/4, W/4).
    """

    def __init__(self, widths=(96, 64, 40), encoder_channels=ENCODER_CHANNELS):
        super().__init__()
        skips = encoder_channels[-2:-2 - len(widths):-1]  # stride 16, 8, 4
        blocks, cin = [], encoder_channels[-1]
        for width, cskip in zip(widths, skips):
            blocks.append(UpBlock(cin, cskip, width))
            cin = width
        self.blocks = nn.ModuleList(blocks)
        self.out_channels = cin

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = features[-1]
        for block, skip in zip(self.blocks, features[-2::-1]):
            x = block(x, skip)
        return x


class MapHead(nn.Module):
    """Stride 4 -> input resolution (stride-2 skip on the way), one logit map.

    ``forward(x, skip2)`` -> (N, 1, H, W) logits.
    """

    def __init__(self, cin: int, cskip: int = ENCODER_CHANNELS[0], widths=(24, 12)):
        super().__init__()
        self.up2 = UpBlock(cin, cskip, widths[0])
        self.up1 = UpBlock(widths[0], 0, widths[1])
        self.logits = nn.Conv2d(widths[1], 1, 1)

    def forward(self, x: torch.Tensor, skip2: torch.Tensor) -> torch.Tensor:
        return self.logits(self.up1(self.up2(x, skip2)))
