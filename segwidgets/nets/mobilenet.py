"""The MobileNetV2 feature trunk, built here so that inference never imports torchvision.

torchvision's ``mobilenet_v2().features`` is what the encoder needs, but importing
torchvision costs about 170 MB of resident memory per Jupyter kernel. This module
builds the same stack from plain ``torch.nn`` layers, with the same module tree, so
the state-dict keys and shapes are torchvision's (``0.0.weight``, ``0.1.running_mean``,
``1.conv.0.0.weight``, ``2.conv.3.weight``, ...) and torchvision's ImageNet weights and
every shipped ``segwidgets/weights/*.safetensors`` file load with strict key matching.
"""
from __future__ import annotations

import torch
from torch import nn

#: Inverted residual blocks, one row per group: expansion t, output channels c,
#: repeats n, stride s of the first block in the group (the others have stride 1).
INVERTED_RESIDUAL_SETTING = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
#: Output channels of the stride-2 stem convolution.
STEM_CHANNELS = 32
#: Channels of the final 1x1 convolution (classifier input; only built with ``head=True``).
LAST_CHANNELS = 1280
#: Outputs of torchvision's ImageNet classifier (not built into the trunk; see :func:`mobilenet_v2_features`).
IMAGENET_CLASSES = 1000


def conv_bn_relu6(in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                  groups: int = 1) -> nn.Sequential:
    """Conv (no bias, "same" padding) -> BatchNorm -> ReLU6, as children ``0``, ``1``, ``2``.

    Maps (N, in_channels, H, W) to (N, out_channels, ceil(H / stride), ceil(W / stride)).
    BatchNorm keeps PyTorch's defaults (eps 1e-5, momentum 0.1), as torchvision does.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expansion, 3x3 depthwise, linear 1x1 projection, residual when shapes allow.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : {1, 2}
        Of the depthwise convolution.
    expand_ratio : int
        Hidden channels = ``in_channels * expand_ratio``; 1 leaves out the expansion
        (so the depthwise block is ``conv.0``, as in torchvision).

    ``forward(x)``: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride));
    the input is added back when ``stride == 1`` and ``in_channels == out_channels``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        hidden = in_channels * expand_ratio
        layers = [conv_bn_relu6(in_channels, hidden, kernel_size=1)] if expand_ratio != 1 else []
        layers += [
            conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)
        self.stride = stride
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return x + y if self.use_residual else y


def mobilenet_v2_features(head: bool = False) -> nn.Sequential:
    """MobileNetV2's ``features`` stack, untrained, laid out like torchvision's.

    Parameters
    ----------
    head : bool
        Also append the final 1x1 Conv-BN-ReLU6 to :data:`LAST_CHANNELS` channels
        (index 18). The encoder does not use it, so it is left out by default.

    Returns
    -------
    nn.Sequential
        Children ``0`` (stem: 3x3 stride-2 Conv-BN-ReLU6, 3 -> 32 channels) and
        ``1`` .. ``17`` (:class:`InvertedResidual` blocks of
        :data:`INVERTED_RESIDUAL_SETTING`), plus ``18`` when ``head``.
        (N, 3, H, W) -> (N, 320, ceil(H/32), ceil(W/32)) (1280 channels with ``head``).
        Initialised as torchvision does: convolutions Kaiming-normal (fan out),
        batch norms weight 1 and bias 0. Under the same ``torch.manual_seed`` the weights
        are torchvision's bit for bit: the head and a 1000-class classifier layer are
        always drawn (then dropped when not asked for), so the random stream advances as
        torchvision's does and seeded runs (training, tests) start from the same numbers.
    """
    layers: list[nn.Module] = [conv_bn_relu6(3, STEM_CHANNELS, stride=2)]
    channels = STEM_CHANNELS
    for t, c, n, s in INVERTED_RESIDUAL_SETTING:
        for i in range(n):
            layers.append(InvertedResidual(channels, c, s if i == 0 else 1, t))
            channels = c
    layers.append(conv_bn_relu6(channels, LAST_CHANNELS, kernel_size=1))
    features = nn.Sequential(*layers)
    classifier = nn.Linear(LAST_CHANNELS, IMAGENET_CLASSES)  # only to consume the random numbers torchvision does
    for m in (*features.modules(), classifier):
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
    return features if head else features[:-1]
