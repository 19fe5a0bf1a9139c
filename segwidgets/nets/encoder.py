"""MobileNetV2 encoder returning skip features at strides 2, 4, 8, 16 and 32."""
from __future__ import annotations

import torch
from torch import nn

from ..core.fusion import batch_norm_scale
from .mobilenet import mobilenet_v2_features

#: ImageNet statistics the pretrained encoder expects (inputs arrive in [0, 1]).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Channels of the five feature maps, from stride 2 to stride 32.
ENCODER_CHANNELS = (16, 24, 32, 96, 320)

# Index ranges of MobileNetV2's ``features`` (torchvision's layout, built by
# ``mobilenet.mobilenet_v2_features``) that end at each stride (the final 1x1 conv
# to 1280 channels is not built: it only serves the classifier).
_STAGES = ((0, 2), (2, 4), (4, 7), (7, 14), (14, 18))


class MobileNetV2Encoder(nn.Module):
    """MobileNetV2 trunk with optional extra input planes.

    Parameters
    ----------
    depth : int
        How many stages to keep (5: down to stride 32; 4: stop at stride 16, a
        quarter of the parameters, for networks that need local context only).
    extra_channels : int
        Input planes beyond RGB (e.g. click maps). They get their own 3x3
        stride-2 convolution, zero-initialised and added to the RGB stem's
        output before its batch norm, so the pretrained RGB filters are kept
        and the network starts out behaving like the RGB-only one.

    ``forward(x)`` takes (N, 3 + extra_channels, H, W) floats, RGB in [0, 1],
    and returns ``depth`` maps of :data:`ENCODER_CHANNELS` channels at strides
    2, 4, 8, 16, 32 (H and W are padded up to a multiple of ``2 ** depth`` by the caller).
    """

    def __init__(self, extra_channels: int = 0, depth: int = 5):
        super().__init__()
        if not 1 <= depth <= len(_STAGES):
            raise ValueError(f"depth must be 1..{len(_STAGES)}, got {depth}")
        features = mobilenet_v2_features()  # our own builder: no torchvision import
        self.stages = nn.ModuleList(nn.Sequential(*features[a:b]) for a, b in _STAGES[:depth])
        self.channels = ENCODER_CHANNELS[:depth]
        self.extra_channels = extra_channels
        self.extra_stem = None
        if extra_channels:
            self.extra_stem = nn.Conv2d(extra_channels, 32, 3, stride=2, padding=1, bias=False)
            nn.init.zeros_(self.extra_stem.weight)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def load_imagenet(self, state_dict: dict) -> None:
        """Copy torchvision ``mobilenet_v2`` weights (``features.*`` keys) into the trunk."""
        own = self.state_dict()
        mapped = {}
        for (a, b), stage in zip(_STAGES, range(len(self.stages))):
            for i in range(a, b):
                prefix = f"features.{i}."
                for key, value in state_dict.items():
                    if key.startswith(prefix):
                        mapped[f"stages.{stage}.{i - a}.{key[len(prefix):]}"] = value
        missing = [k for k in own if k.startswith("stages.") and k not in mapped]
        if missing:
            raise ValueError(f"ImageNet state dict lacks encoder keys, e.g. {missing[:3]}")
        self.load_state_dict(mapped, strict=False)

    @torch.no_grad()
    def before_batch_norm_fold(self) -> None:
        """Called by ``core.fusion.fold_batch_norms`` before it folds the stem's batch norm into
        the RGB stem: the extra stem's output goes through that batch norm too, so it takes its scale."""
        bn = self.stages[0][0][1]
        if self.extra_stem is not None and isinstance(bn, nn.BatchNorm2d):
            self.extra_stem.weight.mul_(batch_norm_scale(bn).view(-1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        rgb = (x[:, :3] - self.mean) / self.std
        stem = self.stages[0][0]  # Conv-BN-ReLU6 block
        y = stem[0](rgb)
        if self.extra_stem is not None:
            y = y + self.extra_stem(x[:, 3:])
        y = stem[2](stem[1](y))
        outs = []
        for i, stage in enumerate(self.stages):
            y = stage[1:](y) if i == 0 else stage(y)
            outs.append(y)
        return outs
