"""The base canvas every segwidgets widget builds on.

An image layer, named overlay layers and an annotation layer (ipycanvas
``MultiCanvas``), pointer events with button and modifier keys reported in
original-image coordinates (ipyevents, mouse-move throttled in the browser),
and a status line.

- Big images are shown at a capped display size; overlays are resized to it
  before they are sent, so full-resolution arrays never travel.
- Layers travel as RGBA PNG binary buffers (never JPEG, never base64).
- Every redraw is batched into one message (``hold_canvas``).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from ipycanvas import MultiCanvas, hold_canvas
from ipycanvas.canvas import COMMANDS
from ipyevents import Event

from ..core.image import as_rgb_image, resize_longest_side
from .overlay import encode_png, map_to_rgba, mask_to_rgba, rgb_to_rgba

_BUTTONS = {0: "left", 1: "middle", 2: "right"}
_HOLD_DEPTH = 0  # nesting of ImageCanvas.hold() blocks (all canvases share one ipycanvas manager)
_KINDS = {"mousedown": "down", "mousemove": "move", "mouseup": "up", "mouseleave": "leave"}


def put_png(layer, png: bytes) -> None:
    """Draw PNG bytes at (0, 0) of an ipycanvas ``Canvas`` layer.

    ipycanvas' own ``put_image_data`` re-encodes arrays at zlib level 6 (and RGB
    ones as JPEG); sending our fast, lossless PNG through the same draw command
    avoids both.
    """
    layer._canvas_manager.send_draw_command(layer, COMMANDS["putImageData"], [0, 0], [png])


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
        Minimum time between two mouse-move events sent by the browser.

    Attributes
    ----------
    image : (H, W, 3) uint8, the original image.
    display_size : (h, w) of the shown image.
    display_scale : float, display pixels per image pixel (<= 1).
    status : ipywidgets.HTML, the status line.
    """

    def __init__(self, image, overlays=("mask",), max_display_size: int = 1024, move_throttle_ms: int = 40):
        self.image = as_rgb_image(image)
        if len(set(overlays)) != len(overlays) or "image" in overlays or "annotations" in overlays:
            raise ValueError(f"overlay names must be unique and not 'image' or 'annotations', got {list(overlays)}")
        display, self._transform = resize_longest_side(self.image, max_display_size)
        self.display_size = display.shape[:2]
        self.display_scale = self.display_size[1] / self.image.shape[1]
        self.layer_names = ("image", *overlays, "annotations")
        h, w = self.display_size
        self.canvas = MultiCanvas(len(self.layer_names), width=w, height=h)
        self.canvas.layout.width = f"{w}px"
        self.canvas.layout.height = f"{h}px"
        self._overlay_rgba: dict[str, np.ndarray] = {}
        self._opacity: dict[str, float] = {name: 1.0 for name in overlays}
        self._pointer_callbacks = widgets.CallbackDispatcher()
        # Clicks are never throttled; moves are, in the browser. Right-click's menu is suppressed.
        self._button_events = Event(
            source=self.canvas, watched_events=["mousedown", "mouseup", "mouseleave", "contextmenu"],
            prevent_default_action=True,
        )
        self._move_events = Event(
            source=self.canvas, watched_events=["mousemove"], throttle_or_debounce="throttle", wait=move_throttle_ms,
        )
        self._button_events.on_dom_event(self._handle_dom_event)
        self._move_events.on_dom_event(self._handle_dom_event)
        self.status = widgets.HTML(value="")
        super().__init__(children=[self.canvas, self.status])
        with self.hold():
            put_png(self._layer("image"), encode_png(rgb_to_rgba(display)))

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

    def _layer(self, name: str):
        if name not in self.layer_names:
            raise KeyError(f"no layer {name!r}; layers: {list(self.layer_names)}")
        return self.canvas[self.layer_names.index(name)]

    def to_display(self, values: np.ndarray, order: int = 1) -> np.ndarray:
        """Resize an (H, W[, C]) array of the original image's size to the display size.

        ``order=0`` (nearest) for masks and RGBA overlays, 1 (bilinear) for maps.
        """
        if values.shape[:2] == tuple(self.display_size):
            return values
        if values.shape[:2] != self.image.shape[:2]:
            raise ValueError(f"expected an array of the image's size {self.image.shape[:2]}, got {values.shape[:2]}")
        from ..core.image import ResizeTransform

        return ResizeTransform(tuple(self.display_size), self.image.shape[:2]).map_to_original(values, order)

    def set_overlay(self, name: str, rgba: np.ndarray) -> None:
        """Show an (H, W, 4) uint8 RGBA array (image size or display size) on layer ``name``."""
        rgba = np.asarray(rgba)
        if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 4) uint8 RGBA overlay, got {rgba.shape} {rgba.dtype}")
        if name == "image" or name not in self.layer_names:
            raise KeyError(f"no overlay layer {name!r}; overlays: {list(self.layer_names[1:-1])}")
        self._overlay_rgba[name] = self.to_display(rgba, order=0)
        self._redraw(name)

    def set_encoded_overlay(self, name: str, png: bytes) -> None:
        """Show already-encoded display-size RGBA PNG bytes on layer ``name`` (for
        views that cache their layers; the layer's opacity setting is not applied)."""
        if not bytes(png[:8]).startswith(b"\x89PNG"):
            raise ValueError("expected PNG bytes")
        self._overlay_rgba.pop(name, None)
        layer = self._layer(name)
        with self.hold():
            layer.clear()
            put_png(layer, png)

    def set_mask_overlay(self, name: str, mask: np.ndarray, color=(255, 64, 64), opacity: float = 0.5) -> None:
        """Show an (H, W) bool mask in ``color`` on layer ``name``."""
        self.set_overlay(name, mask_to_rgba(self.to_display(np.asarray(mask, bool), order=0), color, opacity))

    def set_map_overlay(self, name: str, values: np.ndarray, colormap: str = "viridis", opacity: float = 0.6) -> None:
        """Show an (H, W) float map through a colormap on layer ``name``."""
        values = np.asarray(values, np.float32)
        self.set_overlay(name, map_to_rgba(self.to_display(values, order=1), colormap, opacity))

    def clear_overlay(self, name: str) -> None:
        self._overlay_rgba.pop(name, None)
        self._redraw(name)

    def set_opacity(self, name: str, opacity: float) -> None:
        """Scale layer ``name``'s alpha by ``opacity`` in [0, 1] (kept for later overlays)."""
        if not 0 <= opacity <= 1:
            raise ValueError(f"opacity must be in [0, 1], got {opacity}")
        self._opacity[name] = opacity
        self._redraw(name)

    def _redraw(self, name: str) -> None:
        layer = self._layer(name)
        with self.hold():
            layer.clear()
            rgba = self._overlay_rgba.get(name)
            if rgba is not None:
                opacity = self._opacity.get(name, 1.0)
                if opacity < 1.0:
                    rgba = rgba.copy()
                    rgba[..., 3] = (rgba[..., 3] * opacity).round().astype(np.uint8)
                put_png(layer, encode_png(rgba))

    def draw_points(self, points, radius: float = 5.0, colors=("#22c55e", "#ef4444")) -> None:
        """Draw markers at original-image ``(x, y, positive)`` points on the annotation layer
        (first colour for positive points, second for negative), replacing earlier ones."""
        layer = self._layer("annotations")
        with self.hold():
            layer.clear()
            for positive in (True, False):
                xy = np.array([(x, y) for x, y, p in points if bool(p) == positive], np.float64).reshape(-1, 2)
                if len(xy):
                    xy = xy * self.display_scale
                    layer.fill_style = colors[0] if positive else colors[1]
                    layer.fill_circles(xy[:, 0], xy[:, 1], radius)
                    layer.stroke_style = "white"
                    layer.stroke_circles(xy[:, 0], xy[:, 1], radius)

    # -- status ----------------------------------------------------------------
    def show_status(self, text: str, error: bool = False) -> None:
        """Show a line of text under the image (red for errors)."""
        import html

        color = "#b91c1c" if error else "#374151"
        self.status.value = f'<span style="color:{color}">{html.escape(text)}</span>'

    # -- pointer events --------------------------------------------------------
    def on_pointer(self, callback, remove: bool = False) -> None:
        """Call ``callback(event: PointerEvent)`` on pointer down, move, up and leave."""
        self._pointer_callbacks.register_callback(callback, remove=remove)

    def to_image_xy(self, canvas_x: float, canvas_y: float) -> tuple[float, float]:
        """Display (canvas) pixel coordinates -> original-image coordinates."""
        h, w = self.image.shape[:2]
        return canvas_x * w / self.display_size[1], canvas_y * h / self.display_size[0]

    def _handle_dom_event(self, event: dict) -> None:
        kind = _KINDS.get(event.get("type"))
        if kind is None:
            return  # contextmenu: only suppressed
        # relativeX/Y are CSS pixels; the canvas may be drawn scaled, so map via its box.
        box_w = event.get("boundingRectWidth") or self.display_size[1]
        box_h = event.get("boundingRectHeight") or self.display_size[0]
        cx = float(event.get("relativeX", 0.0)) * self.display_size[1] / box_w
        cy = float(event.get("relativeY", 0.0)) * self.display_size[0] / box_h
        x, y = self.to_image_xy(cx, cy)
        h, w = self.image.shape[:2]
        pointer = PointerEvent(
            kind=kind, x=x, y=y, button=None if kind == "move" else _BUTTONS.get(event.get("button")),
            shift=bool(event.get("shiftKey")), ctrl=bool(event.get("ctrlKey")), alt=bool(event.get("altKey")),
            meta=bool(event.get("metaKey")), inside=0 <= x < w and 0 <= y < h,
        )
        self._pointer_callbacks(pointer)
