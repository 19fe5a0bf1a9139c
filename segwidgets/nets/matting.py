"""The three networks of learning-based sampling matting.

1. :class:`BackgroundNet`: RGB + trimap (4 planes) -> background colours behind the object;
2. :class:`ForegroundNet`: RGB + trimap + background (7 planes) -> foreground colours;
3. :class:`AlphaNet`: RGB + trimap + background + foreground (10 planes) -> alpha.

Each is a MobileNetV2 encoder cut at stride 16 (matting needs local context, not
whole-scene semantics; it keeps each network near 1 M parameters) and a
deconvolution decoder back to the input resolution, whose last block sees the raw
input planes again so fine structure (hair) is not lost to the encoder's strides.
The trimap plane holds 0 (background), 0.5 (unknown) and 1 (foreground).
"""
from __future__ import annotations

import torch
from torch import nn

from .decoder import SharedDecoder, UpBlock
from .encoder import ENCODER_CHANNELS, MobileNetV2Encoder
from .objectness import pad_to_stride

#: Encoder stages kept (down to stride 16) and the matching input padding.
MATTING_DEPTH = 4
MATTING_STRIDE = 2 ** MATTING_DEPTH


def analytic_alpha(rgb: torch.Tensor, foreground: torch.Tensor, background: torch.Tensor,
                   eps: float = 1e-3) -> torch.Tensor:
    """Alpha solving the compositing equation ``I = a F + (1 - a) B`` in least squares, (N, 1, H, W).

    ``a = <I - B, F - B> / |F - B|^2`` clipped to [0, 1]; all inputs (N, 3, H, W) in [0, 1].
    """
    diff = foreground - background
    a = ((rgb - background) * diff).sum(1, keepdim=True) / ((diff * diff).sum(1, keepdim=True) + eps)
    return a.clamp(0, 1)


class MattingNet(nn.Module):
    """Encoder-decoder from ``in_planes`` input planes (RGB in [0, 1] first) to ``out_channels`` logits.

    ``forward(x)``: (N, in_planes, H, W), any H, W -> (N, out_channels, H, W) logits.
    ``with_analytic_alpha``: the full-resolution block also sees :func:`analytic_alpha`
    of planes 0:3 (image), 7:10 (foreground) and 4:7 (background).
    ``half_resolution_encoder``: the encoder and decoder run on the input shrunk 2x
    (a quarter of their cost); two x2 blocks, each seeing the raw planes at its
    resolution, bring the result back to full resolution.
    """

    def __init__(self, in_planes: int, out_channels: int, with_analytic_alpha: bool = False,
                 half_resolution_encoder: bool = False, widths=(64, 32), head_widths=(24, 12)):
        super().__init__()
        self.in_planes = in_planes
        self.with_analytic_alpha = with_analytic_alpha
        self.half_resolution_encoder = half_resolution_encoder
        channels = ENCODER_CHANNELS[:MATTING_DEPTH]
        self.encoder = MobileNetV2Encoder(extra_channels=in_planes - 3, depth=MATTING_DEPTH)
        self.decoder = SharedDecoder(widths=widths, encoder_channels=channels)  # stride 16 -> 4
        raw = in_planes + int(with_analytic_alpha)
        self.up2 = UpBlock(self.decoder.out_channels, channels[0], head_widths[0])  # stride 4 -> 2
        # With the encoder on a half-size input, one more x2 step (with the half-size raw planes) first.
        self.up_half = UpBlock(head_widths[0], raw, head_widths[0]) if half_resolution_encoder else None
        self.up1 = UpBlock(head_widths[0], raw, head_widths[1])  # -> input resolution, with the raw planes
        self.logits = nn.Conv2d(head_widths[1], out_channels, 1)

    def _raw(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The raw planes a full-resolution block sees: the input (and its analytic alpha), kept apart
        (``UpBlock`` fuses them without concatenating)."""
        if not self.with_analytic_alpha:
            return (x,)
        return x, analytic_alpha(x[:, :3], x[:, 7:10], x[:, 4:7])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stride = MATTING_STRIDE * (2 if self.half_resolution_encoder else 1)
        padded, (h, w) = pad_to_stride(x, stride)
        if self.half_resolution_encoder:
            half = torch.nn.functional.avg_pool2d(padded, 2)
            features = self.encoder(half)
            y = self.up_half(self.up2(self.decoder(features), features[0]), *self._raw(half))
        else:
            features = self.encoder(padded)
            y = self.up2(self.decoder(features), features[0])
        return self.logits(self.up1(y, *self._raw(padded)))[..., :h, :w]


class BackgroundNet(MattingNet):
    """RGB + trimap -> background colour logits (N, 3, H, W)."""

    def __init__(self):
        super().__init__(in_planes=4, out_channels=3)


class ForegroundNet(MattingNet):
    """RGB + trimap + background -> foreground colour logits (N, 3, H, W)."""

    def __init__(self):
        super().__init__(in_planes=7, out_channels=3)


class AlphaNet(MattingNet):
    """RGB + trimap + background + foreground -> alpha logit (N, 1, H, W).

    Its encoder runs at half resolution (the full-resolution blocks keep the detail):
    this network runs at full resolution on every unknown pixel, so its cost is the
    pipeline's cost.
    """

    def __init__(self):
        super().__init__(in_planes=10, out_channels=1, with_analytic_alpha=True, half_resolution_encoder=True)
