"""``ClickSegmenter``: click on an object, get its mask, correct it with more clicks.

Left click adds an object click, right click or shift-click a background click.
Everything is computed by ``pipelines.click`` (``ClickController`` keeps the
undo stack); this module only draws and routes events.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import traitlets
from PIL import Image

from ..core.clicks import Click
from ..core.image import image_hash
from ..pipelines.click import ClickController, ClickPredictor
from .canvas import ImageCanvas

#: What the overlay selector offers: label -> (result attribute, kind).
VIEWS = {
    "mask": ("mask", "mask"),
    "network mask": ("net_mask", "mask"),
    "probability P": ("probability", "map"),
    "boundary B": ("boundary", "map"),
    "refinement R = P*B": ("refinement", "map"),
}


class ClickSegmenter(widgets.VBox):
    """Interactive click segmentation of one image.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB array, PIL image or path.
    engine : core.engine.Engine, optional
        Shared inference engine (default: the process-wide one).
    predictor : pipelines.click.ClickPredictor, optional
        Use your own predictor (settings, refinement on/off); overrides ``engine``.
    max_display_size : int
        Longest side the image is shown at, screen pixels.

    Attributes
    ----------
    mask : (H, W) bool
        The current mask (observable: ``seg.observe(fn, "mask")``).
    clicks : tuple of core.clicks.Click
        The clicks behind ``mask`` (observable).
    result : pipelines.click.ClickResult or None
        Everything the last prediction computed (observable).
    controller : pipelines.click.ClickController
        Undo stack and predictor, usable without the widget.
    """

    mask = traitlets.Any(allow_none=True)
    clicks = traitlets.Tuple()
    result = traitlets.Any(allow_none=True)

    def __init__(self, image, engine=None, predictor: ClickPredictor | None = None, max_display_size: int = 1024):
        self.canvas = ImageCanvas(image, overlays=("map", "mask"), max_display_size=max_display_size)
        self.image = self.canvas.image
        predictor = predictor or ClickPredictor(engine)
        predictor.set_image(self.image)
        self.controller = ClickController(predictor)
        self.view = widgets.Dropdown(options=list(VIEWS), value="mask", description="show", layout={"width": "240px"})
        self.opacity = widgets.FloatSlider(0.5, min=0.0, max=1.0, step=0.05, description="opacity",
                                           layout={"width": "240px"})
        self.undo_button = widgets.Button(description="undo", icon="undo", layout={"width": "80px"})
        self.redo_button = widgets.Button(description="redo", icon="repeat", layout={"width": "80px"})
        self.reset_button = widgets.Button(description="reset", icon="trash", layout={"width": "80px"})
        self.undo_button.on_click(lambda _: self._edit(self.controller.undo, "undone"))
        self.redo_button.on_click(lambda _: self._edit(self.controller.redo, "redone"))
        self.reset_button.on_click(lambda _: self._edit(self.controller.reset, "reset"))
        self.view.observe(lambda _: self._draw(), "value")
        self.opacity.observe(lambda change: self._set_opacity(change["new"]), "value")
        self.canvas.on_pointer(self._on_pointer)
        controls = widgets.HBox([self.undo_button, self.redo_button, self.reset_button, self.view, self.opacity])
        super().__init__(children=[controls, self.canvas])
        self._sync()
        self.canvas.show_status("left click: object, right or shift-click: background")

    # -- user actions ------------------------------------------------------------
    def add_click(self, x: float, y: float, positive: bool = True) -> None:
        """Add a click at image pixel ``(x, y)`` as if the user clicked there.

        Errors (a click outside the image, a model failure) appear in the status
        line; the previous mask and clicks are kept.
        """
        try:
            result = self.controller.add_click(x, y, positive)
        except Exception as exc:  # shown to the user; state is untouched
            self.canvas.show_status(f"click not applied: {type(exc).__name__}: {exc}", error=True)
            return
        self._sync()
        t = result.timings
        self.canvas.show_status(
            f"{len(self.clicks)} click(s); {self.mask.sum()} px; {1000 * t['total']:.0f} ms "
            f"(network {1000 * t['network']:.0f} ms, graph cut {1000 * t['graph_cut']:.0f} ms)"
        )

    def undo(self) -> None:
        self._edit(self.controller.undo, "undone")

    def redo(self) -> None:
        self._edit(self.controller.redo, "redone")

    def reset(self) -> None:
        self._edit(self.controller.reset, "reset")

    def save(self, path) -> Path:
        """Write the clicks (``path``, JSON) and the mask (same name, ``.png``); returns the JSON path."""
        path = Path(path).with_suffix(".json")
        mask_path = path.with_suffix(".png")
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(self.mask.astype(np.uint8) * 255).save(mask_path)
        payload = {"image_shape": list(self.image.shape[:2]), "image_hash": image_hash(self.image),
                   "clicks": [{"x": c.x, "y": c.y, "positive": c.positive} for c in self.clicks],
                   "mask": mask_path.name}
        path.write_text(json.dumps(payload, indent=1))
        return path

    def load(self, path) -> None:
        """Restore clicks and mask written by :meth:`save` (for this same image).

        Raises ``ValueError`` for a file made for another image; nothing changes then.
        """
        path = Path(path).with_suffix(".json")
        payload = json.loads(path.read_text())
        if tuple(payload["image_shape"]) != self.image.shape[:2] or payload.get("image_hash") != image_hash(self.image):
            raise ValueError(f"{os.fspath(path)} was saved for another image "
                             f"(shape {payload['image_shape']}, this one {list(self.image.shape[:2])})")
        with Image.open(path.parent / payload["mask"]) as pil:
            mask = np.asarray(pil.convert("L")) > 127
        clicks = [Click(float(d["x"]), float(d["y"]), bool(d["positive"])) for d in payload["clicks"]]
        self.controller.restore(clicks, mask)
        self._sync()
        self.canvas.show_status(f"loaded {len(clicks)} click(s) from {path.name}")

    def debug(self):
        """An ``IterationSlider`` over the last click's graph-cut iterations (crop coordinates)."""
        from .iteration_slider import IterationSlider

        if self.result is None or self.result.trace is None:
            raise RuntimeError("no graph-cut run to show yet: click on the image first (with refinement on)")
        return IterationSlider(self.result.trace)

    # -- internals ---------------------------------------------------------------
    def _on_pointer(self, event) -> None:
        if event.kind != "down" or event.button not in ("left", "right"):
            return
        if not event.inside:
            self.canvas.show_status("click outside the image ignored", error=True)
            return
        self.add_click(event.x, event.y, positive=event.button == "left" and not event.shift)

    def _edit(self, action, verb: str) -> None:
        try:
            action()
        except RuntimeError as exc:
            self.canvas.show_status(str(exc), error=True)
            return
        self._sync()
        self.canvas.show_status(f"{verb}: {len(self.clicks)} click(s)")

    def _sync(self) -> None:
        state = self.controller.states[-1]
        self.mask = self.controller.mask
        self.clicks = state.clicks
        self.result = state.result
        self.undo_button.disabled = not self.controller.can_undo
        self.redo_button.disabled = not self.controller.can_redo
        self._draw()

    def _set_opacity(self, value: float) -> None:
        with self.canvas.hold():
            self.canvas.set_opacity("mask", value)
            self.canvas.set_opacity("map", value)

    def _draw(self) -> None:
        attribute, kind = VIEWS[self.view.value]
        with self.canvas.hold():
            self.canvas.set_opacity("mask", self.opacity.value)
            self.canvas.set_opacity("map", self.opacity.value)
            if kind == "mask":
                self.canvas.clear_overlay("map")
                source = self.mask if attribute == "mask" or self.result is None else getattr(self.result, attribute)
                self.canvas.set_mask_overlay("mask", source, opacity=1.0)
            else:
                self.canvas.clear_overlay("mask")
                if self.result is None:
                    self.canvas.clear_overlay("map")
                else:
                    self.canvas.set_map_overlay("map", getattr(self.result, attribute), opacity=1.0)
            self.canvas.draw_points([(c.x, c.y, c.positive) for c in self.clicks])
