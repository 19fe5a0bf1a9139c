"""The view base every segwidgets widget builds on.

``WidgetBase``: a status line and :meth:`~WidgetBase.attempt`, which shows
"working..." at once, runs an action and, if it fails, shows the error and keeps
the widget's state (the action changes state only once it has succeeded).

``ImageView`` (a ``WidgetBase`` over one image) adds the ``ImageCanvas``, a view
menu over a result's map fields (masks in colour, maps through a colormap),
opacity, save/load of the user's edits through ``core.annotations``, and the
pointer interactions widgets need, chosen by ``interaction``:

- ``"click"``: left click = object, right or shift-click = background -> :meth:`on_click`;
- ``"stroke"``: drag a brush of ``brush_radius`` image pixels -> :meth:`on_stroke`
  with a ``core.strokes.Stroke`` (previewed while dragging);
- ``"box"``: drag a rectangle -> :meth:`on_box` with ``(x0, y0, x1, y1)``.

Mouse moves are throttled in the browser (ipyevents); a new view of the widget
(displayed twice, or the page reloaded) is redrawn by the canvas. Views only:
no math here, everything is computed by pipelines and pictured by ``render``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from ..core.annotations import Annotations, load_annotations, save_annotations
from ..core.strokes import Stroke
from ..render import colorbar, encode_png, value_range
from .canvas import ImageCanvas, KeyEvent, PointerEvent, show_status, status_text

INTERACTIONS = ("click", "stroke", "box")
#: What a stroke paints by default: left button foreground, right button (or shift) background.
STROKE_FOREGROUND, STROKE_BACKGROUND = 255, 0


@dataclass(frozen=True)
class MapView:
    """One entry of the view menu: a field of the widget's result and how to show it.

    kind : {"mask", "map"}
        A bool mask in colour, or a float map through ``colormap`` (``vmin``/``vmax``
        default to [0, 1] for maps in that range, else the map's own range).
    """

    field: str
    kind: str = "map"
    colormap: str = "viridis"
    vmin: float | None = None
    vmax: float | None = None


class ColorBar(widgets.HBox):
    """The colour bar of the map views: the colormap between its two end values; hidden for masks."""

    def __init__(self, width: int = 160, height: int = 10):
        self.low, self.high = widgets.HTML(), widgets.HTML()
        self.bar = widgets.Image(format="png", layout={"width": f"{width}px", "height": f"{height}px"})
        self._size = (width, height)
        self.colormap = None
        self.range = None
        super().__init__([self.low, self.bar, self.high], layout={"align_items": "center", "display": "none"})

    def show(self, view: "MapView", values) -> None:
        """Show the bar of ``view`` for ``values`` (its value range), or hide it for masks and absent maps."""
        if view.kind != "map" or values is None:
            self.layout.display = "none"
            self.range = None
            return
        low, high = value_range(values, view.vmin, view.vmax)
        if view.colormap != self.colormap:
            self.bar.value = encode_png(colorbar(view.colormap, *self._size))
            self.colormap = view.colormap
        self.low.value, self.high.value = f"{low:.3g}&nbsp;", f"&nbsp;{high:.3g}"
        self.range = (low, high)
        self.layout.display = "flex"


class WidgetBase(widgets.VBox):
    """A box with a status line; actions run through :meth:`attempt` keep state on error."""

    def __init__(self, children=(), status: widgets.HTML | None = None, **kwargs):
        self.status = status if status is not None else widgets.HTML(value="")
        super().__init__(children=list(children), **kwargs)

    def show_status(self, text: str, error: bool = False) -> None:
        """Show a line of text (red for errors)."""
        show_status(self.status, text, error)

    @property
    def status_text(self) -> str:
        """The status line as plain text (``status.value`` is its HTML)."""
        return status_text(self.status)

    def attempt(self, what: str, action) -> bool:
        """Show "working: ``what``..." at once, run ``action()``; on an exception show it and
        return False (the caller's state is untouched: change it only after success)."""
        self.show_status(f"working: {what}...")
        try:
            action()
        except Exception as exc:  # shown to the user, state kept
            self.show_status(f"{what} failed: {type(exc).__name__}: {exc}", error=True)
            return False
        return True


class ImageView(WidgetBase):
    """A widget over one image: canvas, view menu, opacity, pointer interactions, save/load.

    With the pointer over the image: the wheel zooms, a drag with the middle button (or with Alt
    held) pans, Escape shows the whole image, and in widgets with ``undo``/``redo`` methods
    Ctrl+Z undoes and Ctrl+Shift+Z redoes (Cmd on a Mac).

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB array, PIL image or path.
    views : dict of label -> MapView, optional
        What the view menu offers (fields of :attr:`result`); no menu when None.
    overlays : sequence of str
        Overlay layer names (``"mask"`` and ``"map"`` are used by the view menu).
    interaction : {"click", "stroke", "box"}
    brush_radius : float
        Stroke brush radius in image pixels.
    min_box_size : float
        Smallest box side, in display pixels, that counts as a drag (smaller is ignored).
    controls : sequence of widgets
        Put in the toolbar before the view menu and opacity.
    max_display_size : int
        Longest side the image is shown at, screen pixels.
    """

    result = None  # subclasses keep their latest result here (fields named by ``views``)
    #: Overlay layers the opacity slider scales (subclasses with other overlays name theirs).
    opacity_layers: tuple[str, ...] = ("map", "mask")

    def __init__(self, image, views: dict[str, MapView] | None = None, overlays=("map", "mask"),
                 interaction: str = "click", brush_radius: float = 10.0, min_box_size: float = 3.0, controls=(),
                 max_display_size: int = 1024):
        if interaction not in INTERACTIONS:
            raise ValueError(f"interaction must be one of {INTERACTIONS}, got {interaction!r}")
        self.canvas = ImageCanvas(image, overlays=overlays, max_display_size=max_display_size)
        self.image = self.canvas.image
        self.interaction = interaction
        self.brush_radius = float(brush_radius)
        self.min_box_size = float(min_box_size)
        self.views = dict(views or {})
        self.view = None
        toolbar = list(controls)
        self.outline = None
        self.colorbar = None
        if self.views:
            self.view = widgets.Dropdown(options=list(self.views), description="show", layout={"width": "240px"})
            self.view.observe(lambda _: self.draw(), "value")
            toolbar.append(self.view)
            if any(v.kind == "mask" for v in self.views.values()):
                self.outline = widgets.Checkbox(False, description="outline", indent=False, layout={"width": "80px"},
                                                tooltip="show masks as their edge instead of filled")
                self.outline.observe(lambda _: self.draw(), "value")
                toolbar.append(self.outline)
            if any(v.kind == "map" for v in self.views.values()):
                self.colorbar = ColorBar()
                toolbar.append(self.colorbar)
        self.opacity = widgets.FloatSlider(0.5, min=0.0, max=1.0, step=0.05, description="opacity",
                                           layout={"width": "240px"})
        self.opacity.observe(lambda change: self._apply_opacity(), "value")
        toolbar.append(self.opacity)
        self._stroke: Stroke | None = None
        self._box_start: tuple[float, float] | None = None
        self.canvas.on_pointer(self._on_pointer)
        self.canvas.on_key(self._on_key)
        super().__init__(children=[widgets.HBox(toolbar), self.canvas], status=self.canvas.status)

    # -- what subclasses provide -------------------------------------------------------
    def view_values(self, view: MapView):
        """The array to show for ``view`` (default: that field of :attr:`result`, None without one)."""
        return None if self.result is None else getattr(self.result, view.field)

    def draw_marks(self) -> None:
        """Draw the persistent marks (clicks, boxes) on the annotation layer (default: none)."""

    def on_click(self, x: float, y: float, positive: bool) -> None:
        """A click at image ``(x, y)`` ("click" interaction)."""

    def on_stroke(self, stroke: Stroke) -> None:
        """A finished brush stroke ("stroke" interaction)."""

    def on_box(self, box: tuple[float, float, float, float]) -> None:
        """A finished box drag ("box" interaction), image pixels, clipped to the image."""

    def stroke_value(self, event: PointerEvent) -> int:
        """What a stroke started by ``event`` paints (default 255 left button, 0 right or shift)."""
        return STROKE_BACKGROUND if event.button == "right" or event.shift else STROKE_FOREGROUND

    def stroke_color(self, value: int) -> str:
        """CSS colour of the preview of a stroke painting ``value`` (default green for 255, else red)."""
        return "rgba(34,197,94,0.6)" if value == STROKE_FOREGROUND else "rgba(239,68,68,0.6)"

    def annotations(self) -> Annotations:
        """The user's edits, for :meth:`save`."""
        return Annotations()

    def restore(self, annotations: Annotations) -> str | None:
        """Adopt edits read by :meth:`load` (raise to refuse them; nothing changes then); may return a
        note that :meth:`load` adds to its status line."""

    # -- drawing -------------------------------------------------------------------------
    def draw(self) -> None:
        """Redraw the chosen view and the marks (one message to the browser)."""
        with self.canvas.hold():
            self._apply_opacity(redraw=False)
            if self.view is not None:
                view = self.views[self.view.value]
                values = self.view_values(view)
                other = "map" if view.kind == "mask" else "mask"
                self.canvas.clear_overlay(other)
                if values is None:
                    self.canvas.clear_overlay(view.kind)
                elif view.kind == "mask":
                    self.canvas.set_mask_overlay("mask", values, opacity=1.0,
                                                 outline=bool(self.outline is not None and self.outline.value))
                else:
                    self.canvas.set_map_overlay("map", values, view.colormap, 1.0, view.vmin, view.vmax)
                if self.colorbar is not None:
                    self.colorbar.show(view, values)
            self.draw_marks()

    def _apply_opacity(self, redraw: bool = True) -> None:
        with self.canvas.hold():
            for name in self.opacity_layers:
                if name in self.canvas.layer_names:
                    self.canvas.set_opacity(name, self.opacity.value, redraw=redraw)

    # -- save / load -----------------------------------------------------------------------
    def save(self, path):
        """Write the edits (``path``.json, masks as PNG beside it); returns the JSON path."""
        written = save_annotations(path, self.image, self.annotations())
        self.show_status(f"saved to {os.fspath(written)}")
        return written

    def load(self, path) -> None:
        """Restore edits written by :meth:`save` for this same image.

        Raises ``ValueError`` (a file for another image, or a damaged one) or
        ``FileNotFoundError``; the widget is unchanged then and says why.
        """
        try:
            annotations = load_annotations(path, self.image)
            note = self.restore(annotations)
        except Exception as exc:
            self.show_status(f"not loaded: {exc}", error=True)
            raise
        self.draw()
        self.show_status(f"loaded {os.fspath(path)}" + (f"; {note}" if note else ""))

    # -- keys and pointer interactions ----------------------------------------------------
    def _on_key(self, key: KeyEvent) -> None:
        if (key.ctrl or key.meta) and key.key.lower() == "z":
            action = getattr(self, "redo" if key.shift else "undo", None)
            if action is not None:
                action()

    def _on_pointer(self, event: PointerEvent) -> None:
        if self.interaction == "click":
            self._click(event)
        elif self.interaction == "stroke":
            self._drag_stroke(event)
        else:
            self._drag_box(event)

    def _click(self, event: PointerEvent) -> None:
        if event.kind != "down" or event.button not in ("left", "right"):
            return
        if not event.inside:
            self.show_status("click outside the image ignored", error=True)
            return
        self.on_click(event.x, event.y, positive=event.button == "left" and not event.shift)

    def _clamped(self, event: PointerEvent) -> tuple[float, float]:
        """The event's position moved onto the image (drags may leave it)."""
        h, w = self.image.shape[:2]
        return float(np.clip(event.x, 0, np.nextafter(w, 0))), float(np.clip(event.y, 0, np.nextafter(h, 0)))

    def _drag_stroke(self, event: PointerEvent) -> None:
        if event.kind == "down" and event.button in ("left", "right"):
            if not event.inside:
                self.show_status("strokes start on the image", error=True)
                return
            self._stroke = Stroke((self._clamped(event),), self.brush_radius, self.stroke_value(event))
            self._preview_stroke()
        elif self._stroke is not None and event.kind == "move":
            self._stroke = self._stroke.extended(self._clamped(event))
            self._preview_stroke()
        elif self._stroke is not None and event.kind in ("up", "leave"):
            stroke = self._stroke if event.kind == "leave" else self._stroke.extended(self._clamped(event))
            self._stroke = None
            self.canvas.clear_marks("preview")
            self.on_stroke(stroke)

    def _preview_stroke(self) -> None:
        stroke, canvas = self._stroke, self.canvas
        points = canvas.display.to_local_points(stroke.points)
        width = 2 * stroke.radius * canvas.display_scale
        color = self.stroke_color(stroke.value)

        def draw():
            layer = canvas.layer("preview")
            layer.fill_style = color
            layer.fill_circle(points[0, 0], points[0, 1], width / 2)
            if len(points) > 1:
                layer.stroke_style = color
                layer.line_width = width
                layer.line_cap = "round"
                layer.line_join = "round"
                layer.stroke_lines(points.tolist())

        canvas.set_marks("preview", draw)

    def _drag_box(self, event: PointerEvent) -> None:
        if event.kind == "down" and event.button == "left":
            if not event.inside:
                self.show_status("boxes start on the image", error=True)
                return
            self._box_start = self._clamped(event)
        elif self._box_start is not None and event.kind == "move":
            self._preview_box(self._box_from(event))
        elif self._box_start is not None and event.kind in ("up", "leave"):
            box = self._box_from(event)
            self._box_start = None
            self.canvas.clear_marks("preview")
            side = min(box[2] - box[0], box[3] - box[1]) * self.canvas.display_scale
            if side < self.min_box_size:
                self.show_status("box too small: drag to draw a box", error=True)
                return
            self.on_box(box)

    def _box_from(self, event: PointerEvent) -> tuple[float, float, float, float]:
        (xa, ya), (xb, yb) = self._box_start, self._clamped(event)
        return (min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb))

    def _preview_box(self, box) -> None:
        canvas = self.canvas
        (x0, y0), (x1, y1) = canvas.display.to_local_points([box[:2], box[2:]])

        def draw():
            layer = canvas.layer("preview")
            layer.stroke_style = "#facc15"
            layer.line_width = 2 / canvas.zoom  # 2 screen pixels at any zoom
            layer.stroke_rect(x0, y0, x1 - x0, y1 - y0)

        canvas.set_marks("preview", draw)
