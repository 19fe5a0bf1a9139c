"""``ClickSegmenter``: click on an object, get its mask, correct it with more clicks.

Left click adds an object click, right click or shift-click a background click.
Everything is computed by ``pipelines.click`` (``ClickController`` keeps the
undo stack); this module only draws and routes events, on ``base.ImageView``.

Clicks made while a prediction runs are never queued silently: each is drawn
at once and the status line says "working...". All clicks waiting when the
next prediction starts run together in that one prediction and become one undo
step (see :class:`ClickSegmenter`). A canvas click first shows the predictor's
quick answer and then, in a second deferred step, the detailed one.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import traitlets

from ..core.annotations import Annotations
from ..core.clicks import Click
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

    Left click: object; right click or shift-click: background. Wheel: zoom; middle- or
    Alt-drag: pan; Escape: whole image; Ctrl+Z / Ctrl+Shift+Z: undo / redo.

    Clicks made while a prediction runs: a click on the canvas is drawn at once, the status
    line says "working...", and the click waits in :attr:`pending`. The prediction runs from a
    deferred step (``defer``) that takes every pending click: all the clicks made while the
    kernel was busy are kept, in order, and run together in one prediction, which is one undo
    step. Undo while clicks wait removes the newest waiting click; redo waits until they have
    run; reset and load drop them. :meth:`add_click` (from code) predicts at once, together with
    any waiting clicks.

    Two steps per canvas click (``quick_first=True``): the quick answer (no detail pass,
    ``ClickPredictor.predict(quick=True)``) is drawn first, and the detailed one replaces it in
    a second deferred step, in the same undo step; clicks made before that step runs skip it
    (they start from the quick mask). :meth:`add_click` always gives the detailed answer.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB array, PIL image or path.
    engine : core.engine.Engine, optional
        Shared inference engine (default: the process-wide one).
    predictor : pipelines.click.ClickPredictor, optional
        Use your own predictor (settings, refinement on/off); overrides ``engine``.
    max_display_size : int
        Longest side the image is shown at, screen pixels.
    defer : callable, optional
        ``defer(step)`` arranges for ``step()`` to run later; default the canvas'
        ``after_events``: in a kernel, once the events already waiting have been handled;
        elsewhere at once.
    quick_first : bool
        Show each canvas click's quick answer before the detailed one (see above).

    Attributes
    ----------
    mask : (H, W) bool
        The current mask (observable: ``seg.observe(fn, "mask")``).
    clicks : tuple of core.clicks.Click
        The clicks behind ``mask`` (observable).
    pending : tuple of core.clicks.Click
        Canvas clicks drawn but not yet predicted (empty once the deferred step has run).
    result : pipelines.click.ClickResult or None
        Everything the last prediction computed (observable).
    controller : pipelines.click.ClickController
        Undo stack and predictor, usable without the widget.
    """

    mask = traitlets.Any(allow_none=True)
    clicks = traitlets.Tuple()
    result = traitlets.Any(allow_none=True)

    def __init__(self, image, engine=None, predictor: ClickPredictor | None = None, max_display_size: int = 1024,
                 defer=None, quick_first: bool = True):
        self.undo_button = widgets.Button(description="undo", icon="undo", layout={"width": "80px"})
        self.redo_button = widgets.Button(description="redo", icon="repeat", layout={"width": "80px"})
        self.reset_button = widgets.Button(description="reset", icon="trash", layout={"width": "80px"})
        super().__init__(image, views=VIEWS, interaction="click", max_display_size=max_display_size,
                         controls=[self.undo_button, self.redo_button, self.reset_button])
        predictor = predictor or ClickPredictor(engine)
        predictor.set_image(self.image)
        self.controller = ClickController(predictor)
        self.pending: tuple[Click, ...] = ()
        self._defer = defer or self.canvas.after_events
        self._step_due = False  # a deferred step is on its way
        self.quick_first = quick_first
        self.undo_button.on_click(lambda _: self.undo())
        self.redo_button.on_click(lambda _: self.redo())
        self.reset_button.on_click(lambda _: self.reset())
        self._sync()
        self.show_status("left click: object, right or shift-click: background; wheel: zoom, middle-drag: pan")

    # -- user actions ------------------------------------------------------------
    def add_click(self, x: float, y: float, positive: bool = True) -> None:
        """Add a click at image pixel ``(x, y)`` and predict now (together with any
        :attr:`pending` clicks: one prediction, one undo step).

        Errors (a click outside the image, a model failure) appear in the status
        line; the previous mask and clicks are kept.
        """
        if self._queue(x, y, positive):
            self._predict_pending(quick=False)

    def undo(self) -> None:
        """Remove the newest waiting click, or go back one step."""
        if self.pending:
            self.pending = self.pending[:-1]
            self.draw_marks()
            self._enable_buttons()
            self.show_status(f"undo: removed a waiting click; {len(self.pending)} still waiting")
            return
        self._edit(self.controller.undo, "undo")

    def redo(self) -> None:
        """Re-apply the last undone step (not while clicks wait: they start a new step)."""
        if self.pending:
            self.show_status("redo: nothing to redo, new clicks are waiting", error=True)
            return
        self._edit(self.controller.redo, "redo")

    def reset(self) -> None:
        """No clicks, empty mask, empty undo stack; waiting clicks are dropped."""
        self.pending = ()
        self._edit(self.controller.reset, "reset")

    def debug(self):
        """An ``IterationSlider`` over the last click's graph-cut iterations (crop coordinates)."""
        from .iteration_slider import IterationSlider

        if self.result is None or self.result.trace is None:
            raise RuntimeError("no graph-cut run to show yet: click on the image first (with refinement on)")
        return IterationSlider(self.result.trace)

    # -- ImageView hooks -----------------------------------------------------------
    def on_click(self, x: float, y: float, positive: bool) -> None:
        """A canvas click: drawn and made pending now, predicted by the deferred step."""
        if self._queue(x, y, positive) and not self._step_due:
            self._step_due = True
            self._defer(self._deferred_step)

    def view_values(self, view: MapView):
        if view.field == "mask":
            return self.mask  # also after a load, when there is no result
        return super().view_values(view)

    def draw_marks(self) -> None:
        self.canvas.draw_points([(c.x, c.y, c.positive) for c in self.clicks + self.pending])

    def annotations(self) -> Annotations:
        return Annotations(clicks=self.clicks, mask=self.mask)

    def restore(self, annotations: Annotations) -> str | None:
        """Load saved clicks and mask; the clicks are replayed so the P, B and R views and ``debug()``
        work again (the saved mask stays the current one). Returns a note for the status line."""
        mask = annotations.mask if annotations.mask is not None else np.zeros(self.image.shape[:2], bool)
        differ = self.controller.restore(annotations.clicks, mask, replay=True)
        self.pending = ()
        self._sync()
        if differ is None:
            return None
        return (f"{len(self.clicks)} click(s) replayed for the maps" +
                (f"; kept the saved mask ({differ} px differ from the replay)" if differ else ""))

    # -- internals ---------------------------------------------------------------
    def _queue(self, x: float, y: float, positive: bool) -> bool:
        """Check a click, add it to :attr:`pending`, draw it and say so; False (and an error
        in the status line) for a click outside the image."""
        try:
            click = Click(float(x), float(y), bool(positive)).check_inside(self.image.shape)
        except ValueError as exc:
            self.show_status(f"click ignored: {exc}", error=True)
            return False
        self.pending += (click,)
        self.draw_marks()
        self._enable_buttons()
        self.show_status(f"working... {len(self.pending)} click(s) waiting; all run together as one prediction "
                         "(one undo step)")
        return True

    def _deferred_step(self) -> None:
        self._step_due = False
        self._predict_pending(quick=self.quick_first)

    def _predict_pending(self, quick: bool) -> None:
        """One prediction for the clicks so far plus every pending click, pushed as one undo step;
        on failure the pending clicks are dropped and the previous state kept. A quick answer
        that left the detail pass out schedules :meth:`_detail_step`."""
        batch, self.pending = self.pending, ()
        if not batch:
            return  # undone, reset or already run by add_click
        action = lambda: self.controller.add_clicks(batch, quick=quick)  # noqa: E731
        if not self.attempt(f"{len(batch)} click(s) as one prediction", action):
            self.draw_marks()  # the dropped clicks' dots go
            self._enable_buttons()
            return
        self._sync()
        self.show_status(self._timing_note() + self._schedule_detail()
                         + (f"; the last {len(batch)} clicks ran as one prediction (one undo step)"
                            if len(batch) > 1 else ""))

    def _schedule_detail(self) -> str:
        """Defer :meth:`_detail_step` when the current state is a quick answer; a note for the status line."""
        if not self.controller.detail_pending:
            return ""
        self._defer(self._detail_step)
        return "; adding detail..."

    def _detail_step(self) -> None:
        """The detailed answer in place of the quick one, unless new clicks are waiting (they run
        from the quick mask) or the state moved on (``ClickController.refine_detail`` then does nothing)."""
        if self.pending or not self.controller.detail_pending:
            return
        if self.attempt("detail pass", self.controller.refine_detail):
            self._sync()
            self.show_status(self._timing_note() + f"; with detail ({len(self.result.detail_windows)} tiles)")

    def _timing_note(self) -> str:
        t = self.result.timings
        return (f"{len(self.clicks)} click(s); {self.mask.sum()} px; {1000 * t['total']:.0f} ms "
                f"(network {1000 * t['network']:.0f} ms, graph cut {1000 * t['graph_cut']:.0f} ms)")

    def _edit(self, action, verb: str) -> None:
        if self.attempt(verb, action):
            self._sync()
            # e.g. a redo back to a quick answer that was undone before its detail step
            self.show_status(f"{verb}: {len(self.clicks)} click(s)" + self._schedule_detail())

    def _enable_buttons(self) -> None:
        self.undo_button.disabled = not (self.pending or self.controller.can_undo)
        self.redo_button.disabled = bool(self.pending) or not self.controller.can_redo

    def _sync(self) -> None:
        state = self.controller.state
        self.mask = self.controller.mask
        self.clicks = state.clicks
        self.result = state.result
        self._enable_buttons()
        self.draw()
