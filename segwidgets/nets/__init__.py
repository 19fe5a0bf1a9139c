"""torch ``nn.Module`` definitions only (no I/O, no numpy)."""
from .decoder import MapHead, SharedDecoder, UpBlock
from .encoder import ENCODER_CHANNELS, MobileNetV2Encoder
from .objectness import ObjectnessNet, pad_to_stride
from .click import CLICK_PLANES, ClickNet, click_planes

__all__ = ["CLICK_PLANES", "ClickNet", "click_planes", "MapHead", "SharedDecoder", "UpBlock", "ENCODER_CHANNELS", "MobileNetV2Encoder", "ObjectnessNet", "pad_to_stride"]
