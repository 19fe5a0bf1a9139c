"""``ClickSegmenter``: click on an object, get its mask, correct it with more clicks.

Left click adds an object click, right click or shift-click a background click.
Everything is computed by ``pipelines.click`` (``ClickController`` keeps the
undo stack); this module only draws and routes events, on ``base.ImageView``.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import traitlets

from ..core.annotations import Annotations
from ..pipelines.click import ClickController, ClickPredictor
from .base import ImageView, MapView

#: What the view menu offers: label -> a field of the result.
VIEWS = {
    "mask": MapView("mask", "mask"),
    "network mask": MapView("net_mask", "mask"),
    "probability P": MapView("probability"),
    "boundary B": MapView("boundary"),
    "refinement R = P*B": MapView("refinement"),
}


class ClickSegmenter(ImageView):
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
        self.undo_button = widgets.Button(description="undo", icon="undo", layout={"width": "80px"})
        self.redo_button = widgets.Button(description="redo", icon="repeat", layout={"width": "80px"})
        self.reset_button = widgets.Button(description="reset", icon="trash", layout={"width": "80px"})
        super().__init__(image, views=VIEWS, interaction="click", max_display_size=max_display_size,
                         controls=[self.undo_button, self.redo_button, self.reset_button])
        predictor = predictor or ClickPredictor(engine)
        predictor.set_image(self.image)
        self.controller = ClickController(predictor)
        self.undo_button.on_click(lambda _: self.undo())
        self.redo_button.on_click(lambda _: self.redo())
        self.reset_button.on_click(lambda _: self.reset())
        self._sync()
        self.show_status("left click: object, right or shift-click: background")

    # -- user actions ------------------------------------------------------------
    def add_click(self, x: float, y: float, positive: bool = True) -> None:
        """Add a click at image pixel ``(x, y)`` as if the user clicked there.

        Errors (a click outside the image, a model failure) appear in the status
        line; the previous mask and clicks are kept.
        """
        if not self.attempt("click", lambda: self.controller.add_click(x, y, positive)):
            return
        self._sync()
        t = self.result.timings
        self.show_status(
            f"{len(self.clicks)} click(s); {self.mask.sum()} px; {1000 * t['total']:.0f} ms "
            f"(network {1000 * t['network']:.0f} ms, graph cut {1000 * t['graph_cut']:.0f} ms)"
        )

    def undo(self) -> None:
        self._edit(self.controller.undo, "undo")

    def redo(self) -> None:
        self._edit(self.controller.redo, "redo")

    def reset(self) -> None:
        self._edit(self.controller.reset, "reset")

    def debug(self):
        """An ``IterationSlider`` over the last click's graph-cut iterations (crop coordinates)."""
        from .iteration_slider import IterationSlider

        if self.result is None or self.result.trace is None:
            raise RuntimeError("no graph-cut run to show yet: click on the image first (with refinement on)")
        return IterationSlider(self.result.trace)

    # -- ImageView hooks -----------------------------------------------------------
    def on_click(self, x: float, y: float, positive: bool) -> None:
        self.add_click(x, y, positive)

    def view_values(self, view: MapView):
        if view.field == "mask":
            return self.mask  # also after a load, when there is no result
        return super().view_values(view)

    def draw_marks(self) -> None:
        self.canvas.draw_points([(c.x, c.y, c.positive) for c in self.clicks])

    def annotations(self) -> Annotations:
        return Annotations(clicks=self.clicks, mask=self.mask)

    def restore(self, annotations: Annotations) -> str | None:
        """Load saved clicks and mask; the clicks are replayed so the P, B and R views and ``debug()``
        work again (the saved mask stays the current one). Returns a note for the status line."""
        mask = annotations.mask if annotations.mask is not None else np.zeros(self.image.shape[:2], bool)
        differ = self.controller.restore(annotations.clicks, mask, replay=True)
        self._sync()
        if differ is None:
            return None
        return (f"{len(self.clicks)} click(s) replayed for the maps" +
                (f"; kept the saved mask ({differ} px differ from the replay)" if differ else ""))

    # -- internals ---------------------------------------------------------------
    def _edit(self, action, verb: str) -> None:
        if self.attempt(verb, action):
            self._sync()
            self.show_status(f"{verb}: {len(self.clicks)} click(s)")

    def _sync(self) -> None:
        state = self.controller.state
        self.mask = self.controller.mask
        self.clicks = state.clicks
        self.result = state.result
        self.undo_button.disabled = not self.controller.can_undo
        self.redo_button.disabled = not self.controller.can_redo
        self.draw()
