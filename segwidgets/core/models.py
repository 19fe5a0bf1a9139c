"""The model registry: one table of every network the engine can run.

Each entry names the ``nn.Module`` class (imported on first use, so importing
this table costs nothing), its weights file in ``segwidgets/weights/``, the
extra input planes it takes after RGB and the maps it returns. Pipelines ask the
engine for a model by name; nothing registers itself as an import side effect.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


#: The kinds of extra input plane the engine renders.
PLANE_KINDS = ("points", "mask", "map", "color")


@dataclass(frozen=True)
class Plane:
    """One extra input plane of a network, given to ``Engine.infer`` by name.

    kind : {"points", "mask", "map", "color"}
        ``"points"``: an (N, 2) array of image ``(x, y)`` pixels, rendered as a proximity
        plane (1 at a point, falling to 0 at ``nets.planes.PROXIMITY_RADIUS`` x the input's
        longest side); ``"mask"``: an (H, W) bool image-size mask; ``"map"``: an (H, W)
        float image-size map in [0, 1]; ``"color"``: an (H, W, 3) float RGB image in
        [0, 1] (three input channels).
    """

    name: str
    kind: str

    def __post_init__(self):
        if self.kind not in PLANE_KINDS:
            raise ValueError(f"plane kind must be one of {PLANE_KINDS}, got {self.kind!r}")

    @property
    def channels(self) -> int:
        """Input channels this plane fills."""
        return 3 if self.kind == "color" else 1


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
    outputs : tuple of str or (str, int)
        Names of the outputs, in channel order: a name is one channel, returned by
        ``Engine.infer`` as an (h, w) map after the sigmoid; ``(name, c)`` is ``c``
        channels, returned as (h, w, c) (e.g. ``("background", 3)``, a colour image).
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

    @property
    def input_channels(self) -> int:
        """RGB plus every plane's channels."""
        return 3 + sum(p.channels for p in self.planes)

    @property
    def output_layout(self) -> tuple[tuple[str, int], ...]:
        """``(name, channels)`` per output, in channel order."""
        return tuple((o, 1) if isinstance(o, str) else (o[0], int(o[1])) for o in self.outputs)


#: Every network the package ships. Names are what pipelines pass to the engine.
MODELS: dict[str, ModelSpec] = {
    # Boundary-aware segmentation: object probability P and object-edge probability B. Three independently
    # trained copies; the pipeline averages their maps (pipelines.boundary_aware.MODEL_NAMES, model card).
    "objectness": ModelSpec(
        "segwidgets.nets.objectness:ObjectnessNet", "objectness.safetensors", outputs=("probability", "boundary"),
    ),
    "objectness_long": ModelSpec(
        "segwidgets.nets.objectness:ObjectnessNet", "objectness_long.safetensors", outputs=("probability", "boundary"),
    ),
    "objectness_edge6": ModelSpec(
        "segwidgets.nets.objectness:ObjectnessNet", "objectness_edge6.safetensors", outputs=("probability", "boundary"),
    ),
    # Click segmentation: RGB + positive / negative click proximity + the previous mask.
    "click": ModelSpec(
        "segwidgets.nets.click:ClickNet", "click.safetensors",
        planes=(Plane("positive_clicks", "points"), Plane("negative_clicks", "points"), Plane("previous_mask", "mask")),
        outputs=("probability", "boundary"),
    ),
    # Sampling matting, three networks run in order (pipelines.matting): trimap plane 0 / 0.5 / 1.
    "matting_background": ModelSpec(
        "segwidgets.nets.matting:BackgroundNet", "matting_background.safetensors",
        planes=(Plane("trimap", "map"),), outputs=(("background", 3),),
    ),
    "matting_foreground": ModelSpec(
        "segwidgets.nets.matting:ForegroundNet", "matting_foreground.safetensors",
        planes=(Plane("trimap", "map"), Plane("background", "color")), outputs=(("foreground", 3),),
    ),
    "matting_alpha": ModelSpec(
        "segwidgets.nets.matting:AlphaNet", "matting_alpha.safetensors",
        planes=(Plane("trimap", "map"), Plane("background", "color"), Plane("foreground", "color")),
        outputs=("alpha",),
    ),
    # Query-object finder: ``encode`` (per-image features, cached by Engine.features) and
    # ``heatmaps`` (multi-scale correlation + fusion, through Engine.apply); see pipelines.query.
    "query": ModelSpec("segwidgets.nets.query:QueryNet", "query.safetensors", outputs=("heat",)),
    # Semantic segmentation by feature masking: ``encode`` (per-image features, cached) and ``classify``
    # (segments projected on the feature grid, through Engine.apply); see pipelines.semantic.
    "semantic": ModelSpec("segwidgets.nets.semantic:FeatureMaskingNet", "semantic.safetensors", outputs=("scores",)),
    # The per-pixel baseline on the same encoder (benchmarks/bench_semantic.py).
    "semantic_pixel": ModelSpec("segwidgets.nets.semantic:PixelHeadNet", "semantic_pixel.safetensors",
                                outputs=(("scores", 8),)),
}
