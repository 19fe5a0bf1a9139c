"""``ImageCanvas``: the drawing surface every segwidgets widget builds on.

An image layer, named overlay layers, an annotation layer and a preview layer
(ipycanvas ``MultiCanvas``), pointer events with button and modifier keys
reported in original-image coordinates (ipyevents, mouse-move throttled in the
browser), key presses, zoom and pan, and a status line.

- Big images are shown at a capped display size through a
  ``core.crops.CropWindow`` (the transform the pipelines use): overlays are
  resized to it before they are sent, so full-resolution arrays never travel.
- Layers travel as lossless PNG binary buffers (never JPEG, never base64).
- Every redraw is batched into one message (``hold``).
- Every layer's last content is kept, so a new view of the widget (displayed
  twice, or the page reloaded) is redrawn when its front end says it is ready.
- Zoom and pan (mouse wheel about the pointer, drag with the middle button or
  with Alt held, Escape for the whole image) replay the kept layers under a
  canvas transform; only the image layer is resampled again, from the original
  image, so its detail shows. Pointer events stay in original-image pixels.
  Key presses reach the kernel while the pointer is over the canvas (ipyevents
  gives the canvas the keyboard focus then, and takes it away when it leaves).
"""
from __future__ import annotations

import asyncio
import contextlib
import html
import re
import time
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from ipycanvas import MultiCanvas, hold_canvas
from ipyevents import Event

from ..core.crops import CropWindow
from ..core.image import as_rgb_image
from ..render import MASK_COLOR, encode_png, map_to_rgba, mask_outline_rgba, mask_to_rgba, rgb_to_rgba
from ._ipycanvas import draw_png

_BUTTONS = {0: "left", 1: "middle", 2: "right"}
_HOLD_DEPTH = 0  # nesting of ImageCanvas.hold() blocks (all canvases share one ipycanvas manager)
_KINDS = {"mousedown": "down", "mousemove": "move", "mouseup": "up", "mouseleave": "leave"}
_RESERVED = ("image", "annotations", "preview")
#: Zoom factor of one wheel event (the browser sends at most one per ``move_throttle_ms``).
ZOOM_STEP = 1.25
#: The deepest zoom: one original-image pixel covers this many canvas pixels.
MAX_PIXEL_SIZE = 8.0
#: :meth:`ImageCanvas.after_events` runs its step once no browser event of the canvas has been
#: handled for this long (events waiting in the kernel's queue are handled well under 1 ms apart;
#: live mouse moves come one per screen frame, 7-16 ms apart) ...
QUIET_S = 0.005
#: ... or this long after it was asked, if events never pause.
MAX_WAIT_S = 1.0


def show_status(line: widgets.HTML, text: str, error: bool = False) -> None:
    """Show escaped ``text`` in an HTML status ``line`` (red for errors): every widget's status line."""
    color = "#b91c1c" if error else "#374151"
    line.value = f'<span style="color:{color}">{html.escape(text)}</span>'


def status_text(line: widgets.HTML) -> str:
    """The plain text of a status ``line`` (what :func:`show_status` showed, without its markup)."""
    return html.unescape(re.sub(r"<[^>]*>", "", line.value))


@dataclass(frozen=True)
class PointerEvent:
    """A pointer event in original-image coordinates.

    Attributes
    ----------
    kind : {"down", "move", "up", "leave"}
    x, y : float
        Position in pixels of the original image (continuous: pixel (i, j)
        covers ``i <= x < i + 1``, ``j <= y < j + 1``).
    button : {"left", "middle", "right"} or None
        The button that changed (None for moves).
    shift, ctrl, alt, meta : bool
        Modifier keys held.
    inside : bool
        Whether the position lies on the image.
    """

    kind: str
    x: float
    y: float
    button: str | None = None
    shift: bool = False
    ctrl: bool = False
    alt: bool = False
    meta: bool = False
    inside: bool = True


@dataclass(frozen=True)
class KeyEvent:
    """A key pressed while the pointer is over the canvas.

    Attributes
    ----------
    key : str
        The browser's ``KeyboardEvent.key`` (e.g. ``"z"``, ``"Z"`` with shift, ``"Escape"``).
    shift, ctrl, alt, meta : bool
        Modifier keys held.
    """

    key: str
    shift: bool = False
    ctrl: bool = False
    alt: bool = False
    meta: bool = False


class ImageCanvas(widgets.VBox):
    """An image with overlay layers, pointer events and a status line.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB array, PIL image or path.
    overlays : sequence of str
        Names of the overlay layers, bottom to top.
    max_display_size : int
        Longest side, in screen pixels, the image is shown at (default 1024).
    move_throttle_ms : int
        Minimum time between two mouse-move (and two wheel) events sent by the browser.

    Attributes
    ----------
    image : (H, W, 3) uint8, the original image.
    display : CropWindow, the whole image on the screen grid. Overlays, marks and
        previews are drawn in its (display) pixels, whatever the zoom.
    display_size : (h, w) of the shown image.
    display_scale : float, display pixels per image pixel (<= 1).
    view : CropWindow, the part of the image the canvas shows now on the same grid
        (``display`` until the user zooms).
    max_zoom : float, the deepest zoom (one image pixel on :data:`MAX_PIXEL_SIZE` canvas pixels).
    status : ipywidgets.HTML, the status line.
    """

    def __init__(self, image, overlays=("mask",), max_display_size: int = 1024, move_throttle_ms: int = 40):
        self.image = as_rgb_image(image)
        if len(set(overlays)) != len(overlays) or set(overlays) & set(_RESERVED):
            raise ValueError(f"overlay names must be unique and not one of {_RESERVED}, got {list(overlays)}")
        self.display = CropWindow.whole(self.image.shape[:2], max_side=max_display_size)
        self.display_size = self.display.size
        self.display_scale = self.display.scale[0]
        self.view = self.display
        self.max_zoom = max(1.0, MAX_PIXEL_SIZE / self.display_scale)
        self._pan_from: tuple[float, float] | None = None  # canvas position of a view drag
        self._redraw_due = False  # a redraw for a new view is on its way
        self._last_event = 0.0  # time.monotonic() when the last browser event of this canvas was handled
        self.layer_names = ("image", *overlays, "annotations", "preview")
        h, w = self.display_size
        self.canvas = MultiCanvas(len(self.layer_names), width=w, height=h)
        self.canvas.layout.width = f"{w}px"
        self.canvas.layout.height = f"{h}px"
        self._overlay_rgba: dict[str, np.ndarray] = {}
        self._opacity: dict[str, float] = {name: 1.0 for name in overlays}
        self._layer_png: dict[str, bytes] = {}  # what each image-like layer shows now, for replays
        self._marks: dict[str, object] = {}  # vector layers: how to draw them again
        self._pointer_callbacks = widgets.CallbackDispatcher()
        self._key_callbacks = widgets.CallbackDispatcher()
        # Clicks and keys are never throttled; moves and wheel turns are, in the browser. Right-click's
        # menu, middle-click scrolling and the page's own use of the keys (while the pointer is over
        # the canvas) are suppressed.
        self._button_events = Event(
            source=self.canvas, watched_events=["mousedown", "mouseup", "mouseleave", "contextmenu"],
            prevent_default_action=True,
        )
        self._move_events = Event(
            source=self.canvas, watched_events=["mousemove"], throttle_or_debounce="throttle", wait=move_throttle_ms,
        )
        self._wheel_events = Event(
            source=self.canvas, watched_events=["wheel"], prevent_default_action=True,
            throttle_or_debounce="throttle", wait=move_throttle_ms,
        )
        self._key_events = Event(source=self.canvas, watched_events=["keydown"], ignore_modifier_key_events=True,
                                 prevent_default_action=True)
        for events in (self._button_events, self._move_events, self._wheel_events, self._key_events):
            events.on_dom_event(self._handle_dom_event)
        self.canvas.on_msg(self._note_event)  # ipycanvas' own events (it sends every mouse move)
        self.status = widgets.HTML(value="")
        super().__init__(children=[self.canvas, self.status])
        display_rgb = self.display.to_local_map(self.image, antialias=True).round().astype(np.uint8)
        self._put("image", encode_png(rgb_to_rgba(display_rgb)))
        self.canvas.on_client_ready(self.redraw)

    # -- drawing ---------------------------------------------------------------
    @contextlib.contextmanager
    def hold(self):
        """Batch every draw call inside the block into one message to the browser.

        Re-entrant: only the outermost block sends (ipycanvas' own ``hold_canvas``
        would flush at every nested exit).
        """
        global _HOLD_DEPTH
        if _HOLD_DEPTH:
            _HOLD_DEPTH += 1
            try:
                yield
            finally:
                _HOLD_DEPTH -= 1
            return
        _HOLD_DEPTH = 1
        try:
            with hold_canvas():
                yield
        finally:
            _HOLD_DEPTH = 0

    def layer(self, name: str):
        """The ipycanvas ``Canvas`` of layer ``name`` (for vector drawing by views)."""
        if name not in self.layer_names:
            raise KeyError(f"no layer {name!r}; layers: {list(self.layer_names)}")
        return self.canvas[self.layer_names.index(name)]

    def redraw(self, *_) -> None:
        """Send every layer again, under the current zoom and pan (also what a new view of
        the widget needs to show it)."""
        zoom = self.zoom
        left, top = self.display.to_local_points(self.view.box[:2])[0]
        with self.hold():
            for name in self.layer_names:
                layer = self.layer(name)
                layer.reset_transform()
                layer.clear()
                if name == "image" and self.view != self.display:
                    draw_png(layer, self._view_png())  # the original's detail, in canvas pixels
                    continue
                layer.set_transform(zoom, 0, 0, zoom, -left * zoom, -top * zoom)  # display -> canvas pixels
                if name in self._layer_png:
                    draw_png(layer, self._layer_png[name])
                elif name in self._marks:
                    self._marks[name]()

    def to_display(self, values: np.ndarray, order: int = 1) -> np.ndarray:
        """Resize an (H, W[, C]) array of the original image's size to the display size.

        ``order=0`` (nearest) for masks and RGBA overlays, 1 (antialiased bilinear) for maps.
        """
        if values.shape[:2] == tuple(self.display_size):
            return values
        if values.shape[:2] != self.image.shape[:2]:
            raise ValueError(f"expected an array of the image's size {self.image.shape[:2]}, got {values.shape[:2]}")
        out = self.display.to_local_map(values, order=order, antialias=True)
        return out.round().astype(values.dtype) if order == 1 and values.dtype == np.uint8 else out

    def set_overlay(self, name: str, rgba: np.ndarray) -> None:
        """Show an (H, W, 4) uint8 RGBA array (image size or display size) on layer ``name``."""
        rgba = np.asarray(rgba)
        if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 4) uint8 RGBA overlay, got {rgba.shape} {rgba.dtype}")
        self._check_overlay(name)
        self._overlay_rgba[name] = self.to_display(rgba, order=0)
        self._redraw_overlay(name)

    def set_encoded_overlay(self, name: str, png: bytes) -> None:
        """Show already-encoded display-size RGBA PNG bytes on layer ``name`` (for
        views that cache their layers; the layer's opacity setting is not applied)."""
        if not bytes(png[:8]).startswith(b"\x89PNG"):
            raise ValueError("expected PNG bytes")
        self._check_overlay(name)
        self._overlay_rgba.pop(name, None)
        self._put(name, bytes(png))

    def set_mask_overlay(self, name: str, mask: np.ndarray, color=MASK_COLOR, opacity: float = 0.5,
                         outline: bool = False) -> None:
        """Show an (H, W) bool mask in ``color`` on layer ``name``, filled or (``outline``) as its edge."""
        local = self.to_display(np.asarray(mask, bool), order=0)
        picture = mask_outline_rgba(local, color, 3, opacity) if outline else mask_to_rgba(local, color, opacity)
        self.set_overlay(name, picture)

    def set_map_overlay(self, name: str, values: np.ndarray, colormap: str = "viridis", opacity: float = 0.6,
                        vmin: float | None = None, vmax: float | None = None) -> None:
        """Show an (H, W) float map through a colormap on layer ``name`` (``vmin``/``vmax``: see
        ``render.map_to_rgba``)."""
        values = np.asarray(values, np.float32)
        self.set_overlay(name, map_to_rgba(self.to_display(values, order=1), colormap, opacity, vmin, vmax))

    def clear_overlay(self, name: str) -> None:
        self._check_overlay(name)
        self._overlay_rgba.pop(name, None)
        self._redraw_overlay(name)

    def set_opacity(self, name: str, opacity: float, redraw: bool = True) -> None:
        """Scale layer ``name``'s alpha by ``opacity`` in [0, 1] (kept for later overlays);
        ``redraw=False`` only records it for the next overlay."""
        if not 0 <= opacity <= 1:
            raise ValueError(f"opacity must be in [0, 1], got {opacity}")
        self._opacity[name] = opacity
        if redraw:
            self._redraw_overlay(name)

    def draw_points(self, points, radius: float = 5.0, colors=("#22c55e", "#ef4444")) -> None:
        """Draw markers at original-image ``(x, y, positive)`` points on the annotation layer
        (first colour for positive points, second for negative), replacing earlier ones.
        ``radius`` is in screen pixels: markers keep their size when the view is zoomed."""
        points = [(float(x), float(y), bool(p)) for x, y, p in points]

        def draw():
            layer = self.layer("annotations")
            layer.line_width = 1 / self.zoom
            for positive in (True, False):
                xy = np.array([(x, y) for x, y, p in points if p == positive], np.float64).reshape(-1, 2)
                if len(xy):
                    xy = self.display.to_local_points(xy)
                    layer.fill_style = colors[0] if positive else colors[1]
                    layer.fill_circles(xy[:, 0], xy[:, 1], radius / self.zoom)
                    layer.stroke_style = "white"
                    layer.stroke_circles(xy[:, 0], xy[:, 1], radius / self.zoom)

        self.set_marks("annotations", draw)

    def set_marks(self, name: str, draw) -> None:
        """Make ``draw()`` (vector calls on ``self.layer(name)``) the content of a layer:
        it runs now, on a cleared layer, and again whenever the canvas is redrawn."""
        self._marks[name] = draw
        layer = self.layer(name)
        with self.hold():
            layer.clear()
            draw()

    def clear_marks(self, name: str) -> None:
        self._marks.pop(name, None)
        self.layer(name).clear()

    def _check_overlay(self, name: str) -> None:
        if name in _RESERVED or name not in self.layer_names:
            raise KeyError(f"no overlay layer {name!r}; overlays: {[n for n in self.layer_names if n not in _RESERVED]}")

    def _put(self, name: str, png: bytes | None) -> None:
        layer = self.layer(name)
        with self.hold():
            layer.clear()
            if png is None:
                self._layer_png.pop(name, None)
            else:
                self._layer_png[name] = png
                draw_png(layer, png)

    def _redraw_overlay(self, name: str) -> None:
        rgba = self._overlay_rgba.get(name)
        if rgba is None:
            self._put(name, None)
            return
        opacity = self._opacity.get(name, 1.0)
        if opacity < 1.0:
            rgba = rgba.copy()
            rgba[..., 3] = (rgba[..., 3] * opacity).round().astype(np.uint8)
        self._put(name, encode_png(rgba))

    def _view_png(self) -> bytes:
        """The part of the original image in :attr:`view`, at canvas size: pixels as blocks
        once one covers more than a canvas pixel, else antialiased."""
        order = 0 if self.view.scale[0] >= 1 else 1
        rgb = self.view.to_local_map(self.image, order=order, antialias=True)
        return encode_png(rgb.round().astype(np.uint8))  # opaque: RGB encodes faster than RGBA

    # -- zoom and pan ----------------------------------------------------------
    @property
    def zoom(self) -> float:
        """Magnification over the whole-image display (1: the whole image is shown)."""
        return self.view.scale[0] / self.display.scale[0]

    def zoom_at(self, factor: float, canvas_x: float, canvas_y: float) -> None:
        """Zoom by ``factor`` (> 1 in, < 1 out; between 1 and :attr:`max_zoom` in all) keeping the
        image point under canvas pixel ``(canvas_x, canvas_y)`` where it is."""
        zoom = float(np.clip(self.zoom * factor, 1.0, self.max_zoom))
        (x, y), = self.display.to_local_points(self.view.to_frame_points([(canvas_x, canvas_y)]))
        self._set_view(zoom, x - canvas_x / zoom, y - canvas_y / zoom)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the picture by ``(dx, dy)`` canvas pixels (it stops at the image's edges)."""
        (left, top), = self.display.to_local_points(self.view.box[:2])
        self._set_view(self.zoom, left - dx / self.zoom, top - dy / self.zoom)

    def reset_view(self) -> None:
        """Show the whole image again (Escape)."""
        self._set_view(1.0, 0.0, 0.0)

    def _set_view(self, zoom: float, left: float, top: float) -> None:
        """Show the display grid magnified ``zoom`` times from display pixel ``(left, top)``
        (moved so that the view stays on the image); redraw if that changes the view."""
        h, w = self.display_size
        left = float(np.clip(left, 0.0, w - w / zoom))
        top = float(np.clip(top, 0.0, h - h / zoom))
        box = self.display.to_frame_box((left, top, left + w / zoom, top + h / zoom))
        whole = zoom < 1 + 1e-9  # not a rounding error's worth of zoom
        view = self.display if whole else CropWindow(box, self.display_size, self.image.shape[:2])
        if view != self.view:
            self.view = view
            if not self._redraw_due:  # wheel turns and drags that arrive meanwhile share one redraw
                self._redraw_due = True
                self.after_events(self._deferred_redraw)

    def _deferred_redraw(self) -> None:
        self._redraw_due = False
        self.redraw()

    # -- status ----------------------------------------------------------------
    def show_status(self, text: str, error: bool = False) -> None:
        """Show a line of text under the image (red for errors)."""
        show_status(self.status, text, error)

    @property
    def status_text(self) -> str:
        """The status line as plain text (``status.value`` is its HTML)."""
        return status_text(self.status)

    # -- pointer and key events ------------------------------------------------
    def on_pointer(self, callback, remove: bool = False) -> None:
        """Call ``callback(event: PointerEvent)`` on pointer down, move, up and leave (not for the
        drags that pan the view)."""
        self._pointer_callbacks.register_callback(callback, remove=remove)

    def on_key(self, callback, remove: bool = False) -> None:
        """Call ``callback(event: KeyEvent)`` for each key pressed while the pointer is over the
        canvas (Escape has already reset the view then; lone modifier keys are not reported)."""
        self._key_callbacks.register_callback(callback, remove=remove)

    def to_image_xy(self, canvas_x: float, canvas_y: float) -> tuple[float, float]:
        """Canvas pixel coordinates (under the current zoom and pan) -> original-image coordinates."""
        x, y = self.view.to_frame_points([(canvas_x, canvas_y)])[0]
        return float(x), float(y)

    def _canvas_xy(self, event: dict) -> tuple[float, float]:
        """An ipyevents mouse event's position in canvas pixels."""
        # relativeX/Y are CSS pixels; the canvas may be drawn scaled, so map via its box.
        box_w = event.get("boundingRectWidth") or self.display_size[1]
        box_h = event.get("boundingRectHeight") or self.display_size[0]
        return (float(event.get("relativeX", 0.0)) * self.display_size[1] / box_w,
                float(event.get("relativeY", 0.0)) * self.display_size[0] / box_h)

    def after_events(self, step) -> None:
        """Run ``step()`` once the browser events already waiting for this canvas have been handled.

        The kernel handles comm messages (the browser's events) one at a time; those sent while it
        computes wait in its queue and are handled back to back once it is free. So the step waits,
        from the kernel's event loop, until no event of this canvas has come for :data:`QUIET_S`
        (at most :data:`MAX_WAIT_S`). Where no event loop runs in this thread (a script, a test)
        it runs before this method returns.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            step()
            return
        deadline = time.monotonic() + MAX_WAIT_S

        def check():
            now = time.monotonic()
            if now - self._last_event < QUIET_S and now < deadline:
                loop.call_later(QUIET_S - (now - self._last_event), check)
            else:
                step()

        loop.call_later(QUIET_S, check)

    def _note_event(self, *_) -> None:
        self._last_event = time.monotonic()

    def _handle_dom_event(self, event: dict) -> None:
        self._note_event()
        kind = event.get("type")
        if kind == "keydown":
            key = KeyEvent(key=str(event.get("key", "")), shift=bool(event.get("shiftKey")),
                           ctrl=bool(event.get("ctrlKey")), alt=bool(event.get("altKey")),
                           meta=bool(event.get("metaKey")))
            if key.key == "Escape":
                self.reset_view()
            self._key_callbacks(key)
            return
        if kind == "wheel":
            if event.get("deltaY"):
                self.zoom_at(ZOOM_STEP ** -np.sign(event["deltaY"]), *self._canvas_xy(event))
            return
        kind = _KINDS.get(kind)
        if kind is None:
            return  # contextmenu: only suppressed
        cx, cy = self._canvas_xy(event)
        button = None if kind == "move" else _BUTTONS.get(event.get("button"))
        if kind == "down" and (button == "middle" or (button == "left" and event.get("altKey"))):
            self._pan_from = (cx, cy)  # a view drag starts
            return
        if self._pan_from is not None:  # the browser may drop the last moves (throttle): up and leave count too
            self.pan_by(cx - self._pan_from[0], cy - self._pan_from[1])
            self._pan_from = (cx, cy) if kind == "move" else None
            return
        x, y = self.to_image_xy(cx, cy)
        h, w = self.image.shape[:2]
        pointer = PointerEvent(
            kind=kind, x=x, y=y, button=button,
            shift=bool(event.get("shiftKey")), ctrl=bool(event.get("ctrlKey")), alt=bool(event.get("altKey")),
            meta=bool(event.get("metaKey")), inside=0 <= x < w and 0 <= y < h,
        )
        self._pointer_callbacks(pointer)
