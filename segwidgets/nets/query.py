"""The query-object finder: shared feature extractor, correlation layer and scale fusion.

One MobileNetV2 trunk (cut at stride 16) embeds both the query and the search
image into :data:`EMBED_CHANNELS` signed features on a stride-8 grid (the
stride-8 stage plus the upsampled stride-16 stage, mixed by 1x1 convolutions),
so small objects still span a few cells. The query's feature map is the kernel
of a normalised cross-correlation over the search features
(:func:`normalized_cross_correlation`, one grouped convolution for a batch of
pairs). The query is embedded at several scales; the per-scale correlation maps
and their max over the query's extent (:func:`spread_over_extent`: where a
window of the query's size peaks, every pixel under it votes) go through a small
dilated conversion network (:class:`ScaleFusion`) with a few channels of the
search features, which outputs the fused heat-map logits.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .encoder import ENCODER_CHANNELS, MobileNetV2Encoder
from .objectness import pad_to_stride

#: The grid the correlation runs on, in input pixels per cell.
QUERY_STRIDE = 8
#: Channels of the embedding the correlation compares.
EMBED_CHANNELS = 64
#: How many query scales the fusion network takes (one map each, in the order of
#: ``pipelines.query.SCALES``); fixed with the weights.
SCALE_COUNT = 5
#: Search-feature channels the fusion network sees beside the correlation maps.
CONTEXT_CHANNELS = 8
#: A query wider than this many cells is correlated on a coarser grid (both feature maps
#: average-pooled by the smallest factor that brings it under), then upsampled: the cost of
#: a correlation grows with the kernel's area, and large objects need no 8 px precision.
MAX_KERNEL_CELLS = 10


def normalized_cross_correlation(query: torch.Tensor, support: torch.Tensor, search: torch.Tensor,
                                 eps: float = 1e-4) -> torch.Tensor:
    """Cosine similarity between each query kernel and every search window under it.

    Parameters
    ----------
    query : (N, C, kh, kw)
        Query features, zero outside ``support`` (kernels of different sizes padded to one).
    support : (N, 1, kh, kw)
        1 on the query's cells, 0 on padding.
    search : (N, C, H, W)
        Search features, pair ``i`` is ``(query[i], search[i])``.

    Returns
    -------
    (N, 1, H, W)
        ``<q, s_window> / (|q| |s_window|)`` with the kernel centred on each cell
        (zero padding outside the search grid), in [-1, 1]. The N pairs run as one
        grouped convolution (the batch folded into channels), not a loop.
    """
    n, c, kh, kw = query.shape
    if search.shape[:2] != (n, c) or support.shape != (n, 1, kh, kw):
        raise ValueError(f"shapes do not pair up: query {tuple(query.shape)}, support {tuple(support.shape)}, "
                         f"search {tuple(search.shape)}")
    h, w = search.shape[-2:]
    query = query * support
    pad = (kh // 2, kw // 2)
    folded = search.reshape(1, n * c, h, w)
    dot = F.conv2d(folded, query, padding=pad, groups=n)[..., :h, :w]
    energy = F.conv2d((search * search).sum(1).reshape(1, n, h, w), support, padding=pad, groups=n)[..., :h, :w]
    query_norm = query.flatten(1).norm(dim=1).view(1, n, 1, 1)
    scale = eps * support.flatten(1).sum(1).view(1, n, 1, 1) * c  # keeps empty windows (padding) near 0
    ncc = dot / (query_norm * torch.sqrt(energy.clamp_min(0) + scale) + 1e-6)
    return ncc.reshape(n, 1, h, w)


def pooled_correlation(query: torch.Tensor, support: torch.Tensor, search: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`normalized_cross_correlation` and :func:`spread_over_extent` of one scale's batch, on a grid
    coarse enough that the largest query spans at most :data:`MAX_KERNEL_CELLS`; both (N, 1, H, W)."""
    h, w = search.shape[-2:]
    inside = support > 0
    extent = int(max(inside.any(3).sum(-1).max(), inside.any(2).sum(-1).max()))
    factor = max(1, -(-extent // MAX_KERNEL_CELLS))
    if factor > 1:
        counts = F.avg_pool2d(support, factor, ceil_mode=True)
        query = F.avg_pool2d(query * support, factor, ceil_mode=True) / counts.clamp_min(1e-6)
        support = (counts > 0.25).to(query.dtype)
        search = F.avg_pool2d(search, factor, ceil_mode=True)
    ncc = normalized_cross_correlation(query, support, search)
    extents = [(int(s[0].any(1).sum()), int(s[0].any(0).sum())) for s in support > 0]
    spread = spread_over_extent(ncc, extents)
    if factor > 1:
        ncc = F.interpolate(ncc, scale_factor=factor, mode="bilinear", align_corners=False)[..., :h, :w]
        spread = F.interpolate(spread, scale_factor=factor, mode="bilinear", align_corners=False)[..., :h, :w]
    return ncc, spread


def spread_over_extent(scores: torch.Tensor, extents) -> torch.Tensor:
    """Max of ``scores`` over a query-sized window around each cell, (N, 1, H, W).

    ``extents``: per pair the kernel's ``(kh, kw)`` cells; a cell takes the best
    score of any window position whose query footprint covers it, so a peak at
    the object's centre marks the object's whole extent.
    """
    out = []
    for i, (kh, kw) in enumerate(extents):
        kh, kw = int(kh) | 1, int(kw) | 1  # odd, so the window is centred
        out.append(F.max_pool2d(scores[i:i + 1], (kh, kw), stride=1, padding=(kh // 2, kw // 2)))
    return torch.cat(out)


class ScaleFusion(nn.Module):
    """The conversion network: per-scale correlation maps (+ their spread) and context -> heat-map logits."""

    def __init__(self, scales: int = SCALE_COUNT, context: int = CONTEXT_CHANNELS, width: int = 32):
        super().__init__()
        layers, channels = [], 2 * scales + context
        for dilation in (1, 2, 4, 8):
            layers += [nn.Conv2d(channels, width, 3, padding=dilation, dilation=dilation), nn.BatchNorm2d(width),
                       nn.ReLU(inplace=True)]
            channels = width
        layers.append(nn.Conv2d(width, 1, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return self.body(maps)


class QueryNet(nn.Module):
    """Siamese embedding + multi-scale correlation + fusion.

    ``encode(x)``: (N, 3, H, W) RGB in [0, 1] -> ``[embedding (N, EMBED_CHANNELS, ceil(H/8), ceil(W/8)),
    context (N, CONTEXT_CHANNELS, same)]``; the engine caches this per search image.
    ``heatmaps(query_features, supports, search_embedding, search_context)``: lists (one entry per
    scale) of (N, C, kh, kw) query embeddings and (N, 1, kh, kw) supports -> ``(per-scale correlation
    (N, S, h, w), fused logits (N, 1, h, w))`` on the stride-8 grid.
    """

    def __init__(self):
        super().__init__()
        self.encoder = MobileNetV2Encoder(depth=4)
        c8, c16 = ENCODER_CHANNELS[2], ENCODER_CHANNELS[3]
        self.embed = nn.Sequential(
            nn.Conv2d(c8 + c16, 96, 1, bias=False), nn.BatchNorm2d(96), nn.ReLU(inplace=True),
            nn.Conv2d(96, EMBED_CHANNELS, 1),
        )
        self.context = nn.Sequential(nn.Conv2d(EMBED_CHANNELS, CONTEXT_CHANNELS, 1), nn.BatchNorm2d(CONTEXT_CHANNELS),
                                     nn.ReLU(inplace=True))
        self.fusion = ScaleFusion()

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        h, w = x.shape[-2:]
        x, _ = pad_to_stride(x, 16)
        _, _, f8, f16 = self.encoder(x)
        up = F.interpolate(f16, size=f8.shape[-2:], mode="bilinear", align_corners=False)
        grid = (-(-h // QUERY_STRIDE), -(-w // QUERY_STRIDE))
        embedding = self.embed(torch.cat([f8, up], 1))[..., :grid[0], :grid[1]]
        return [embedding, self.context(embedding)]

    def heatmaps(self, query_features, supports, search_embedding: torch.Tensor, search_context: torch.Tensor):
        if len(query_features) != SCALE_COUNT or len(supports) != SCALE_COUNT:
            raise ValueError(f"expected {SCALE_COUNT} query scales, got {len(query_features)} features and "
                             f"{len(supports)} supports")
        correlations, spreads = [], []
        for query, support in zip(query_features, supports):
            ncc, spread = pooled_correlation(query, support, search_embedding)
            correlations.append(ncc)
            spreads.append(spread)
        per_scale = torch.cat(correlations, 1)
        logits = self.fusion(torch.cat([per_scale, torch.cat(spreads, 1), search_context], 1))
        return per_scale, logits

    def forward(self, search: torch.Tensor, query_features, supports) -> tuple[torch.Tensor, torch.Tensor]:
        """Training entry: search images (N, 3, H, W) and encoded query lists -> (per-scale maps, logits)."""
        embedding, context = self.encode(search)
        return self.heatmaps(query_features, supports, embedding, context)

