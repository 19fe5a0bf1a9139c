"""Shared core: device choice, inference engine, image validation, coordinates, clicks.

Torch-dependent parts (``device``, ``engine``, ``weights``) load on first use so that
torch-free layers (``graphcut``) can import ``core.image`` and ``core.clicks`` cheaply.
"""
from .clicks import Click, ClickHistory
from .image import ResizeTransform, as_box, as_mask, as_map, as_rgb_image, box_from_mask, image_hash, resize_longest_side

__all__ = [
    "Click", "ClickHistory", "ResizeTransform", "as_box", "as_mask", "as_map", "as_rgb_image", "box_from_mask",
    "image_hash", "resize_longest_side", "Engine", "FeatureCache", "get_default_engine", "choose_device",
    "to_tensor", "to_numpy", "load_weights", "save_weights", "WeightsError",
]

_LAZY = {
    "Engine": "engine", "FeatureCache": "engine", "get_default_engine": "engine",
    "choose_device": "device", "to_tensor": "device", "to_numpy": "device",
    "load_weights": "weights", "save_weights": "weights", "WeightsError": "weights",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
