"""The model registry: one table of every network the engine can run.

Each entry names the ``nn.Module`` class (imported on first use, so importing
this table costs nothing), its weights file in ``segwidgets/weights/``, the
extra input planes it takes after RGB and the maps it returns. Pipelines ask the
engine for a model by name; nothing registers itself as an import side effect.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Plane:
    """One extra input plane of a network, given to ``Engine.infer`` by name.

    kind : {"points", "mask", "map"}
        ``"points"``: an (N, 2) array of image ``(x, y)`` pixels, rendered as a proximity
        plane (1 at a point, falling to 0 at ``nets.planes.PROXIMITY_RADIUS`` x the input's
        longest side); ``"mask"``: an (H, W) bool image-size mask; ``"map"``: an (H, W)
        float image-size map in [0, 1].
    """

    name: str
    kind: str

    def __post_init__(self):
        if self.kind not in ("points", "mask", "map"):
            raise ValueError(f"plane kind must be 'points', 'mask' or 'map', got {self.kind!r}")


@dataclass(frozen=True)
class ModelSpec:
    """How to build and call one network.

    Attributes
    ----------
    module : str or callable
        ``"package.module:ClassName"`` (imported on first use) or a factory returning
        an ``nn.Module``.
    weights : str or path or None
        A ``.safetensors`` file; bare names are looked up in ``segwidgets/weights/``.
    planes : tuple of Plane
        Extra input planes, in the order they follow RGB.
    outputs : tuple of str
        Names of the output channels; each is returned by ``Engine.infer`` as an
        (h, w) map after the sigmoid.
    """

    module: object
    weights: object = None
    planes: tuple[Plane, ...] = ()
    outputs: tuple[str, ...] = ("probability",)

    def build(self):
        """A fresh module instance (untrained)."""
        if isinstance(self.module, str):
            path, _, name = self.module.partition(":")
            return getattr(importlib.import_module(path), name)()
        return self.module()

    @property
    def plane_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.planes)


#: Every network the package ships. Names are what pipelines pass to the engine.
MODELS: dict[str, ModelSpec] = {
    # Boundary-aware segmentation: object probability P and object-edge probability B.
    "objectness": ModelSpec(
        "segwidgets.nets.objectness:ObjectnessNet", "objectness.safetensors", outputs=("probability", "boundary"),
    ),
    # Click segmentation: RGB + positive / negative click proximity + the previous mask.
    "click": ModelSpec(
        "segwidgets.nets.click:ClickNet", "click.safetensors",
        planes=(Plane("positive_clicks", "points"), Plane("negative_clicks", "points"), Plane("previous_mask", "mask")),
        outputs=("probability", "boundary"),
    ),
}
