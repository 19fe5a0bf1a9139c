"""Semantic segmentation by convolutional feature masking, and the per-pixel baseline.

:class:`FeatureMaskingNet` computes the image's feature maps once (``encode``: the
MobileNetV2 stride-16 stage with the upsampled stride-32 stage, mixed to
:data:`FEATURE_CHANNELS` non-negative channels) and classifies any number of
segments from them (``classify``): each segment's mask, already projected onto
the stride-16 grid, multiplies the feature maps; spatial pyramid pooling
(6x6, 3x3, 2x2, 1x1 max pooling over the segment's box on the grid) and two fully
connected layers give the segment pathway; the same pooling over the same box of
the unmasked maps gives the box pathway; both are concatenated and classified.
All segments go through one batched forward pass (in chunks that bound memory).

:class:`PixelHeadNet` is the standard alternative on the same features: a
convolutional head scoring every grid cell, upsampled to the pixels.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .encoder import ENCODER_CHANNELS, MobileNetV2Encoder
from .objectness import pad_to_stride

#: Input pixels per feature-grid cell.
SEMANTIC_STRIDE = 16
#: Channels of the feature maps the segments mask.
FEATURE_CHANNELS = 64
#: Spatial pyramid pooling levels (bins per side).
PYRAMID_LEVELS = (6, 3, 2, 1)
#: Pooled cells per channel, all levels together.
PYRAMID_CELLS = sum(level * level for level in PYRAMID_LEVELS)
#: The classes, in output order (the ``ccp_person`` labels grouped; see ``data.semantic``).
CLASS_COUNT = 8
#: Segments per chunk of the batched pass (bounds the masked copies of the feature maps).
SEGMENT_CHUNK = 128


class SemanticFeatures(nn.Module):
    """MobileNetV2 to stride 32; stride-16 maps + upsampled stride-32 maps -> (N, FEATURE_CHANNELS, H/16, W/16) >= 0."""

    def __init__(self):
        super().__init__()
        self.encoder = MobileNetV2Encoder(depth=5)
        self.mix = nn.Sequential(
            nn.Conv2d(ENCODER_CHANNELS[3] + ENCODER_CHANNELS[4], FEATURE_CHANNELS, 1, bias=False),
            nn.BatchNorm2d(FEATURE_CHANNELS), nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        x, _ = pad_to_stride(x, 32)
        *_, f16, f32 = self.encoder(x)
        up = upsample_centred(f32, f16.shape[-2:])
        grid = (-(-h // SEMANTIC_STRIDE), -(-w // SEMANTIC_STRIDE))
        return self.mix(torch.cat([f16, up], 1))[..., :grid[0], :grid[1]]


def upsample_centred(coarse: torch.Tensor, size) -> torch.Tensor:
    """Double the grid of a stride-32 map onto the stride-16 grid, keeping receptive-field centres.

    Stride-32 cell k is centred on input pixel 32 k and stride-16 cell j on 16 j (stacked 3x3
    stride-2 convolutions padded by 1 centre output j on input 2 j), so cell j samples the coarse
    map at k = j / 2: bilinear with aligned corners onto 2 K - 1 cells, the last row and column
    repeated up to ``size`` (h, w).
    """
    k_h, k_w = coarse.shape[-2:]
    up = F.interpolate(coarse, size=(2 * k_h - 1, 2 * k_w - 1), mode="bilinear", align_corners=True)
    return F.pad(up, (0, size[1] - up.shape[-1], 0, size[0] - up.shape[-2]), mode="replicate")


def pyramid_pool(features: torch.Tensor, boxes: torch.Tensor, image_index: torch.Tensor) -> torch.Tensor:
    """Spatial pyramid max pooling of boxes on feature maps.

    Each level L splits the box into L x L bins, bin i spanning rows
    ``floor(i h / L)`` to ``ceil((i + 1) h / L)`` of the box's h rows (likewise columns): exactly
    the bins of ``torchvision.ops.roi_pool`` with spatial scale 1 (bins overlap when the box
    is not a multiple of L; a box smaller than L repeats cells). Parts of a box outside the map
    pool nothing; a bin wholly outside is 0. Pure PyTorch, so inference never imports
    torchvision (about 70 MB more per Jupyter kernel).

    Parameters
    ----------
    features : (B, C, gh, gw)
    boxes : (N, 4) integer-valued
        ``(x0, y0, x1, y1)`` inclusive grid-cell bounds (a box with x1 < x0 is one column wide).
    image_index : (N,)
        Which of the B maps each box pools.

    Returns
    -------
    (N, C * sum(level ** 2 for level in PYRAMID_LEVELS))
        Per box, the levels in :data:`PYRAMID_LEVELS` order, each flattened channel-major.
    """
    grid_h, grid_w = features.shape[-2:]
    pooled = []
    # One small crop per box: adaptive max pooling over the crop has exactly the bins above.
    for (x0, y0, x1, y1), b in zip(boxes.round().long().tolist(), image_index.long().tolist()):
        y_end, x_end = y0 + max(y1 - y0 + 1, 1), x0 + max(x1 - x0 + 1, 1)
        crop = features[b, :, max(y0, 0):max(min(y_end, grid_h), 0), max(x0, 0):max(min(x_end, grid_w), 0)]
        outside = (max(-x0, 0), max(x_end - grid_w, 0), max(-y0, 0), max(y_end - grid_h, 0))
        if crop.numel() == 0:
            pooled.append(features.new_zeros(features.shape[1] * PYRAMID_CELLS))
            continue
        if any(outside):  # padding with -inf keeps the outside out of every max; all-outside bins -> 0
            crop = F.pad(crop, outside, value=float("-inf"))
        levels = torch.cat([F.adaptive_max_pool2d(crop, level).flatten() for level in PYRAMID_LEVELS])
        pooled.append(levels.masked_fill(torch.isneginf(levels), 0.0) if any(outside) else levels)
    if not pooled:
        return features.new_zeros((0, features.shape[1] * PYRAMID_CELLS))
    return torch.stack(pooled)


def _pathway(channels: int, width: int) -> nn.Sequential:
    inputs = channels * PYRAMID_CELLS
    return nn.Sequential(nn.Linear(inputs, width), nn.ReLU(inplace=True), nn.Dropout(0.2),
                         nn.Linear(width, width), nn.ReLU(inplace=True))


class FeatureMaskingNet(nn.Module):
    """Feature masking segment classifier.

    ``encode(x)``: (B, 3, H, W) RGB in [0, 1] -> (B, FEATURE_CHANNELS, ceil(H/16), ceil(W/16)) features
    (cached per image by the engine).
    ``classify(features, masks, boxes[, image_index])``: features (B, C, gh, gw), projected segment masks
    (N, gh, gw) in {0, 1}, inclusive grid boxes (N, 4) and the image each segment belongs to (N,) (all 0 when
    omitted) -> class logits (N, CLASS_COUNT).
    """

    def __init__(self, classes: int = CLASS_COUNT, width: int = 256):
        super().__init__()
        self.features = SemanticFeatures()
        self.segment_pathway = _pathway(FEATURE_CHANNELS, width)
        self.box_pathway = _pathway(FEATURE_CHANNELS, width)
        self.classifier = nn.Linear(2 * width, classes)

    @property
    def encoder(self) -> MobileNetV2Encoder:
        return self.features.encoder

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def classify(self, features: torch.Tensor, masks: torch.Tensor, boxes: torch.Tensor,
                 image_index: torch.Tensor | None = None) -> torch.Tensor:
        if features.ndim == 3:
            features = features[None]
        n = masks.shape[0]
        if masks.shape[1:] != features.shape[-2:] or boxes.shape != (n, 4):
            raise ValueError(f"masks {tuple(masks.shape)} and boxes {tuple(boxes.shape)} do not fit features "
                             f"{tuple(features.shape)}")
        if image_index is None:
            image_index = torch.zeros(n, device=features.device, dtype=torch.long)
        image_index = image_index.long()
        logits = []
        for start in range(0, n, SEGMENT_CHUNK):
            part = slice(start, start + SEGMENT_CHUNK)
            index, box = image_index[part], boxes[part]
            masked = features[index] * masks[part, None].to(features.dtype)
            own = torch.arange(masked.shape[0], device=features.device)
            segment = self.segment_pathway(pyramid_pool(masked, box, own))
            context = self.box_pathway(pyramid_pool(features, box, index))
            logits.append(self.classifier(torch.cat([segment, context], 1)))
        return torch.cat(logits) if logits else features.new_zeros((0, self.classifier.out_features))

    def forward(self, x: torch.Tensor, masks: torch.Tensor, boxes: torch.Tensor, image_index: torch.Tensor) -> torch.Tensor:
        """Training entry: images (B, 3, H, W) and their segments -> logits (N, CLASS_COUNT)."""
        return self.classify(self.encode(x), masks, boxes, image_index)


class PixelHeadNet(nn.Module):
    """The per-pixel alternative: the same features, a 3x3 + 1x1 convolutional head per grid cell,
    bilinear upsampling to the input. ``forward(x)``: (B, 3, H, W) -> logits (B, CLASS_COUNT, H, W)."""

    def __init__(self, classes: int = CLASS_COUNT):
        super().__init__()
        self.features = SemanticFeatures()
        self.head = nn.Sequential(
            nn.Conv2d(FEATURE_CHANNELS, FEATURE_CHANNELS, 3, padding=1, bias=False), nn.BatchNorm2d(FEATURE_CHANNELS),
            nn.ReLU(inplace=True), nn.Dropout2d(0.1), nn.Conv2d(FEATURE_CHANNELS, classes, 1),
        )

    @property
    def encoder(self) -> MobileNetV2Encoder:
        return self.features.encoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.features(x))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
