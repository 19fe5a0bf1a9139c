"""The shared core: validation, coordinates, editing state and the inference engine.

- ``image``: image / mask / map / box / point validation (numpy + Pillow).
- ``crops``: ``CropWindow``, the one crop / resize transform for points, boxes,
  masks and maps (networks, pipelines and the canvas all use it).
- ``clicks``, ``click_simulation``, ``strokes``: the editing primitives;
  ``history``: the one undo stack; ``annotations``: edits saved with the image's
  content hash.
- ``models``: the registry table of networks; ``device``: device, precision and
  the CPU thread policy; ``engine``: the only numpy <-> torch gateway
  (``Engine.infer``, ``Engine.features`` with its per-image cache).

Torch-dependent parts (``device``, ``engine``, ``weights``) load on first use, so
torch-free layers (``graphcut``, ``render``) import the rest cheaply.
"""
from .annotations import Annotations, load_annotations, save_annotations
from .clicks import Click
from .crops import CropWindow, square_box
from .history import History
from .image import TRIMAP_VALUES, as_box, as_mask, as_map, as_point, as_rgb_image, as_trimap, box_from_mask, image_hash
from .models import MODELS, ModelSpec, Plane
from .strokes import Stroke

__all__ = [
    "Annotations", "load_annotations", "save_annotations", "Click", "CropWindow", "square_box", "History",
    "as_box", "as_mask", "as_map", "as_point", "as_rgb_image", "as_trimap", "TRIMAP_VALUES", "box_from_mask", "image_hash",
    "MODELS", "ModelSpec",
    "Plane", "Stroke", "Engine", "FeatureCache", "get_default_engine", "choose_device", "load_weights",
    "save_weights", "WeightsError",
]

_LAZY = {
    "Engine": "engine", "FeatureCache": "engine", "get_default_engine": "engine", "choose_device": "device",
    "load_weights": "weights", "save_weights": "weights", "WeightsError": "weights",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
