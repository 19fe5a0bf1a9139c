"""``TrimapPainter``: paint a trimap over an image, then matte it.

Brushes paint known foreground (255), known background (0) or unknown (128);
the eraser returns pixels to the trimap the painter started from (the ``trimap``
argument, or all background). Left button paints with the chosen brush, right
button or shift-drag erases. The "fill" tool flood-fills the 4-connected
region of equal trimap value under a click with the chosen brush (right click:
the region returns to the start). "from mask" builds the whole trimap from a
mask or a ``ClickSegmenter``'s mask, with an unknown band of "band px" on each
side of the edge. "matte" runs ``pipelines.matting.estimate_alpha`` and shows
the result in a ``MatteViewer`` below.

Editing is ``core.trimap.TrimapEditor`` (undo stack), pictures come from
``segwidgets.render``; this module only draws and routes events.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import traitlets

from ..core.annotations import Annotations
from ..core.image import as_mask, as_trimap
from ..core.strokes import Stroke
from ..core.trimap import BACKGROUND, ERASE, FOREGROUND, UNKNOWN, TrimapEditor, blank_trimap, trimap_counts
from ..pipelines.matting import estimate_alpha, trimap_from_mask
from ..render import TRIMAP_COLORS, trimap_to_rgba
from .base import ImageView
from .canvas import PointerEvent
from .matte_viewer import MatteViewer

#: The brush menu: label -> what the brush applies.
BRUSHES = {"foreground": FOREGROUND, "background": BACKGROUND, "unknown": UNKNOWN, "eraser": ERASE}
#: Tools: "brush" paints strokes, "fill" flood-fills the region under a click.
TOOLS = ("brush", "fill")


class TrimapPainter(ImageView):
    """Paint a trimap (known foreground / known background / unknown) and matte the image.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB array, PIL image or path.
    trimap : (H, W) uint8 (0 / 128 / 255) or float (0 / 0.5 / 1), optional
        Where painting starts; default all background (0). The eraser and "reset"
        return to it.
    engine : core.engine.Engine, optional
        Runs the matting networks (default: the process-wide engine).
    brush_radius : float
        Initial brush radius in image pixels (the "brush px" slider).
    band_px : int
        Initial half-width of the unknown band made by :meth:`from_mask` (the "band px" slider).
    max_display_size : int
        Longest side the image is shown at, screen pixels.
    viewer_size : int
        Longest side of the matte viewer's main view, screen pixels.
    history_limit : int, optional
        Most trimaps kept for undo (each costs H x W bytes).

    Attributes
    ----------
    trimap : (H, W) uint8, read-only
        The current trimap: 0 background, 128 unknown, 255 foreground
        (observable: ``painter.observe(fn, "trimap")``; copy it to change it).
    result : pipelines.matting.MattingResult or None
        The last matte (observable); its ``trimap`` field is the trimap it used.
    viewer : MatteViewer or None
        Shows :attr:`result`, below the painter, after the first matte.
    editor : core.trimap.TrimapEditor
        Trimap and undo stack, usable without the widget.
    mask_source : (H, W) bool mask, mask-holding object or None
        What "from mask" reads (the last one given to :meth:`from_mask`; read again at each press).
    """

    opacity_layers = ("trimap",)
    trimap = traitlets.Any()
    result = traitlets.Any(allow_none=True)

    def __init__(self, image, trimap=None, *, engine=None, brush_radius: float = 10.0, band_px: int = 10,
                 max_display_size: int = 1024, viewer_size: int = 512, history_limit: int | None = 64):
        self.brush = widgets.ToggleButtons(options=list(BRUSHES.items()), value=FOREGROUND, description="brush",
                                           style={"button_width": "100px"})
        self.tool = widgets.ToggleButtons(options=TOOLS, value="brush", description="tool",
                                          style={"button_width": "60px"})
        self.brush_size = widgets.FloatSlider(float(brush_radius), min=0.5, max=max(100.0, float(brush_radius)),
                                              step=0.5, description="brush px", layout={"width": "260px"})
        self.band = widgets.IntSlider(int(band_px), min=1, max=max(100, int(band_px)), description="band px",
                                      continuous_update=False, layout={"width": "260px"})
        self.from_mask_button = widgets.Button(description="from mask", icon="magic", disabled=True,
                                               tooltip="trimap from the mask given to from_mask()",
                                               layout={"width": "110px"})
        self.undo_button = widgets.Button(description="undo", icon="undo", layout={"width": "80px"})
        self.redo_button = widgets.Button(description="redo", icon="repeat", layout={"width": "80px"})
        self.reset_button = widgets.Button(description="reset", icon="trash", layout={"width": "80px"})
        self.matte_button = widgets.Button(description="matte", icon="play", button_style="primary",
                                           layout={"width": "100px"})
        super().__init__(image, overlays=("trimap",), interaction="stroke", brush_radius=brush_radius,
                         max_display_size=max_display_size, controls=[self.brush, self.tool])
        shape = self.image.shape[:2]
        initial = blank_trimap(shape) if trimap is None else as_trimap(trimap, shape)
        self.editor = TrimapEditor(initial, history_limit=history_limit)
        self.engine = engine
        self.viewer_size = viewer_size
        self.viewer = None
        self.mask_source = None
        self.viewer_area = widgets.VBox()
        toolbar, canvas = self.children
        toolbar.children = (*toolbar.children, self.brush_size)
        edits = widgets.HBox([self.band, self.from_mask_button, self.undo_button, self.redo_button, self.reset_button,
                              self.matte_button])
        self.children = [toolbar, edits, canvas, self.viewer_area]
        self.brush_size.observe(self._on_brush_size, "value")
        self.tool.observe(self._on_tool, "value")
        self.from_mask_button.on_click(lambda _: self.from_mask(self.mask_source))
        self.undo_button.on_click(lambda _: self.undo())
        self.redo_button.on_click(lambda _: self.redo())
        self.reset_button.on_click(lambda _: self.reset())
        self.matte_button.on_click(lambda _: self.matte())
        self.result = None
        self._sync()
        self.show_status("drag to paint with the brush (right button or shift: erase); 'fill' fills a region; "
                         "then press 'matte'")

    # -- user actions ------------------------------------------------------------------
    def paint(self, stroke: Stroke) -> None:
        """Apply a brush ``stroke`` (``core.strokes.Stroke`` in image pixels; value 0 / 128 / 255,
        or ``core.trimap.ERASE``) as if the user painted it. Errors show in the status line."""
        self._edit(lambda: self.editor.paint(stroke), "paint")

    def fill(self, x: float, y: float, value: int | None = None) -> None:
        """Flood-fill the region of equal trimap value under image pixel ``(x, y)`` with
        ``value`` (default: the chosen brush; ``ERASE``: back to the start), as a fill-tool
        click does. A point outside the image shows an error; the trimap is kept."""
        value = self.brush.value if value is None else value
        self._edit(lambda: self.editor.fill((x, y), value), "fill")

    def from_mask(self, source, band_px: int | None = None) -> None:
        """Make the trimap from a mask: foreground inside, background outside, unknown within
        ``band_px`` pixels of the edge (``pipelines.matting.trimap_from_mask``), as one undoable edit.

        Parameters
        ----------
        source : (H, W) bool mask (or integer, > 0 is object), or an object with a ``.mask``
            of that kind, such as a ``ClickSegmenter`` on this image (its mask is read now and at
            each press of "from mask", which then uses this source).
        band_px : int, optional
            Half-width of the unknown band; default the "band px" slider (which is set to it).

        An empty mask, another size or another image show an error; the trimap is kept.
        """
        band = self.band.value if band_px is None else band_px
        changed = {}

        def apply():
            if source is None:
                raise ValueError("no mask given: call from_mask(mask_or_segmenter) first")
            if int(band) != band or band < 1:
                raise ValueError(f"band_px must be a whole number of pixels >= 1, got {band!r}")
            other = getattr(source, "image", None)
            if isinstance(other, np.ndarray) and not np.array_equal(other, self.image):
                raise ValueError(f"{type(source).__name__} shows another image than this painter")
            mask = getattr(source, "mask", source)
            if mask is None:
                raise ValueError(f"{type(source).__name__} has no mask yet")
            mask = as_mask(mask, self.image.shape[:2], "mask")
            if not mask.any():
                raise ValueError("the mask is empty: there is no object to make a trimap of")
            changed["value"] = self.editor.replace(trimap_from_mask(mask, int(band)))

        if not self.attempt("trimap from mask", apply):
            return
        self.mask_source = source
        self.from_mask_button.disabled = False
        if band_px is not None:
            self.band.max = max(self.band.max, int(band))
            self.band.value = int(band)
        self._sync()
        self._report("trimap from mask" if changed["value"] else "trimap from mask: nothing changed")

    def undo(self) -> None:
        self._edit(self.editor.undo, "undo")

    def redo(self) -> None:
        self._edit(self.editor.redo, "redo")

    def reset(self) -> None:
        """Back to the trimap painting started from (nothing to undo afterwards)."""
        self._edit(self.editor.reset, "reset")

    def matte(self) -> None:
        """Run ``estimate_alpha`` on the image and the trimap; show the result below.

        Progress shows in the status line; a failure (e.g. a trimap without unknown,
        foreground or background pixels) shows there too, and the trimap, the last
        result and the viewer are kept.
        """
        out = {}

        def progress(done, total):
            self.show_status(f"working: matte, window {done}/{total}...")

        def run():
            result = estimate_alpha(self.image, self.trimap, engine=self.engine, callback=progress)
            if self.viewer is None:
                out["viewer"] = MatteViewer(result, max_display_size=self.viewer_size)
            else:
                self.viewer.set_result(result)
            out["result"] = result

        if not self.attempt("matte", run):
            return
        if "viewer" in out:
            self.viewer = out["viewer"]
            self.viewer_area.children = [self.viewer]
        self.result = out["result"]
        t = self.result.timings
        self.show_status(f"matte: {len(self.result.windows)} window(s), {1000 * t['total']:.0f} ms "
                         f"(background {1000 * t['background']:.0f}, foreground {1000 * t['foreground']:.0f}, "
                         f"alpha {1000 * t['alpha']:.0f} ms)")

    # -- ImageView hooks -----------------------------------------------------------------
    def on_stroke(self, stroke: Stroke) -> None:
        self.paint(stroke)

    def on_click(self, x: float, y: float, positive: bool) -> None:
        # only with the fill tool (interaction "click"); right or shift-click erases the region
        self.fill(x, y, None if positive else ERASE)

    def stroke_value(self, event: PointerEvent) -> int:
        return ERASE if event.button == "right" or event.shift else self.brush.value

    def stroke_color(self, value: int) -> str:
        r, g, b = TRIMAP_COLORS.get(value, (255, 255, 255))  # the eraser previews in white
        return f"rgba({r},{g},{b},0.6)"

    def draw(self) -> None:
        with self.canvas.hold():
            super().draw()
            self.canvas.set_overlay("trimap", trimap_to_rgba(self.canvas.to_display(self.trimap, order=0)))

    def annotations(self) -> Annotations:
        return Annotations(trimap=np.asarray(self.trimap))

    def restore(self, annotations: Annotations) -> None:
        if annotations.trimap is None:
            raise ValueError("these annotations hold no trimap")
        self.editor.restore(annotations.trimap)
        self._sync()

    # -- internals --------------------------------------------------------------------
    def _edit(self, action, verb: str) -> None:
        changed = {}
        if self.attempt(verb, lambda: changed.update(value=action())):
            self._sync()
            self._report(verb if changed["value"] is not False else f"{verb}: nothing changed")

    def _report(self, what: str) -> None:
        counts = trimap_counts(self.trimap)
        total = self.trimap.size
        shares = ", ".join(f"{name} {100 * n / total:.1f}%" for name, n in counts.items())
        self.show_status(f"{what}; {shares}")

    def _sync(self) -> None:
        if self.trimap is not self.editor.trimap:  # states are immutable: same object, same trimap
            self.trimap = self.editor.trimap
        self.undo_button.disabled = not self.editor.can_undo
        self.redo_button.disabled = not self.editor.can_redo
        self.draw()

    def _on_brush_size(self, change) -> None:
        self.brush_radius = float(change["new"])

    def _on_tool(self, change) -> None:
        self.interaction = "click" if change["new"] == "fill" else "stroke"
