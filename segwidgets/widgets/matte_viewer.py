"""``MatteViewer``: look at a matting result -- alpha, colours, and the cut-out on a backdrop.

A main view shows two pictures split by a slider (default: the image left, the
composite right); below it small panels show alpha, foreground, background and
the composite side by side. The composite's backdrop is a checkerboard, a colour
(colour picker) or another image (:meth:`MatteViewer.set_backdrop`). Drag a box
on the main view to zoom every view to that region; "reset zoom" shows the whole
image again. Every picture comes from ``segwidgets.render`` (``render.matte``)
and the result's own ``composite``; this module only routes and draws.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import traitlets

from ..core.crops import CropWindow
from ..core.image import as_box
from ..render import (
    CHECKERBOARD, alpha_to_rgb, aspect_box, backdrop_for, backdrop_kind, parse_color, region_picture, rgb_to_rgba,
    split_picture, to_rgb8,
)
from ..render.matte import COLOR, IMAGE
from .base import ImageView
from .canvas import ImageCanvas

#: What the views can show (keys of :attr:`MatteViewer.pictures`).
PICTURES = ("image", "composite", "alpha", "network_alpha", "foreground", "background")
#: The small panels, left to right.
PANELS = ("alpha", "foreground", "background", "composite")
# The backdrop menu offers CHECKERBOARD and COLOR, and IMAGE once an image was given to ``set_backdrop``.


class MatteViewer(ImageView):
    """Alpha, foreground, background and composite of a matting result, with zoom.

    Parameters
    ----------
    result : pipelines.matting.MattingResult
        What to show (from ``estimate_alpha``; any object with its fields and ``composite``).
    backdrop : "checkerboard", colour or image
        What the composite is shown over (see :meth:`set_backdrop`).
    max_display_size : int
        Longest side of the main view, screen pixels.
    panel_size : int
        Longest side of each small panel, screen pixels.

    Attributes
    ----------
    result : MattingResult (observable)
    alpha : (H, W) float32 in [0, 1], ``result.alpha``.
    foreground, background : (H, W, 3) float32 in [0, 1], the result's colour estimates.
    composite : (H, W, 3) uint8
        ``result.composite(backdrop)``: the foreground over the current backdrop.
    backdrop : "checkerboard", (r, g, b) or (H', W', 3) uint8 image
        The current backdrop.
    pictures : dict of str -> (H, W, 3) uint8
        Every picture the views can show, full resolution: "image", "composite",
        "alpha" (grey), "network_alpha" (grey: the alpha network's output before the
        guided-filter refinement; compare it with "alpha" in the split view), "foreground",
        "background".
    zoom_box : (x0, y0, x1, y1) int or None (observable)
        The region asked for by :meth:`zoom` (None: the whole image).
    view_box : (x0, y0, x1, y1) float
        The region the views show: ``zoom_box`` grown to the image's aspect ratio.
    shown : (h, w, 3) uint8
        What the main view shows now (display size: the two pictures, zoomed and split).
    panels : dict of str -> ImageCanvas
        The small panels, by picture name.
    """

    opacity_layers = ()  # pictures are opaque; no opacity slider
    result = traitlets.Any()
    zoom_box = traitlets.Any(allow_none=True)

    def __init__(self, result, backdrop=CHECKERBOARD, *, max_display_size: int = 512, panel_size: int = 160):
        _check_result(result)
        self.left = widgets.Dropdown(options=PICTURES, value="image", description="left", layout={"width": "200px"})
        self.right = widgets.Dropdown(options=PICTURES, value="composite", description="right",
                                      layout={"width": "200px"})
        self.split = widgets.FloatSlider(0.5, min=0.0, max=1.0, step=0.01, description="split",
                                         layout={"width": "260px"})
        self.backdrop_menu = widgets.Dropdown(options=[CHECKERBOARD, COLOR], value=CHECKERBOARD, description="backdrop",
                                              layout={"width": "220px"})
        self.color = widgets.ColorPicker(value="#ffffff", concise=True, description="colour",
                                         layout={"width": "160px"})
        self.reset_zoom_button = widgets.Button(description="reset zoom", icon="search-minus",
                                                layout={"width": "120px"})
        super().__init__(result.image, overlays=("picture",), interaction="box", max_display_size=max_display_size,
                         controls=[self.left, self.split, self.right])
        self.opacity.layout.display = "none"
        self.panels = {name: ImageCanvas(result.image, overlays=("picture",), max_display_size=panel_size)
                       for name in PANELS}
        for panel in self.panels.values():
            panel.status.layout.display = "none"
        panel_row = widgets.HBox([widgets.VBox([widgets.HTML(f"<b>{name}</b>"), panel])
                                  for name, panel in self.panels.items()], layout={"grid_gap": "8px"})
        toolbar, canvas = self.children
        backdrop_row = widgets.HBox([self.backdrop_menu, self.color, self.reset_zoom_button])
        self.children = [toolbar, backdrop_row, canvas, panel_row]
        self._backdrop = CHECKERBOARD
        self._backdrop_image = None
        self._syncing = False
        self.view_box = (0.0, 0.0, float(self.image.shape[1]), float(self.image.shape[0]))
        self.shown = None
        self.result = result
        self.pictures: dict[str, np.ndarray] = {}
        self._views: dict[tuple, np.ndarray] = {}  # display-size pictures of the current view box
        self.left.observe(lambda _: self._draw_main(), "value")
        self.right.observe(lambda _: self._draw_main(), "value")
        self.split.observe(lambda _: self._draw_main(), "value")
        self.backdrop_menu.observe(self._on_backdrop_menu, "value")
        self.color.observe(self._on_color, "value")
        self.reset_zoom_button.on_click(lambda _: self.reset_zoom())
        self.set_backdrop(backdrop)  # renders and draws
        self.show_status("drag a box on the view to zoom; the slider moves the split")

    # -- what is shown ----------------------------------------------------------------
    @property
    def alpha(self) -> np.ndarray:
        return self.result.alpha

    @property
    def foreground(self) -> np.ndarray:
        return self.result.foreground

    @property
    def background(self) -> np.ndarray:
        return self.result.background

    @property
    def composite(self) -> np.ndarray:
        return self.pictures["composite"]

    @property
    def backdrop(self):
        return self._backdrop

    # -- user actions -------------------------------------------------------------------
    def set_result(self, result) -> None:
        """Show another result of the same image size (backdrop, zoom and split are kept)."""
        _check_result(result)
        if result.alpha.shape != self.image.shape[:2]:
            raise ValueError(f"this viewer shows {self.image.shape[:2]} images; the result is {result.alpha.shape}")
        self.result = result
        self._render(PICTURES)

    def set_backdrop(self, backdrop) -> None:
        """Composite over ``backdrop``: ``"checkerboard"``, a colour (``(r, g, b)`` in 0..255,
        ``"#rrggbb"`` or a colour name) or an image (array, PIL image or path; resized to
        the result's size). ``ValueError`` (also shown in the status line) for anything
        else; the backdrop is kept then."""
        kind = backdrop_kind(backdrop)
        try:  # validated (and an image read and resized once) before anything changes
            if kind == COLOR:
                backdrop = parse_color(backdrop)
            elif kind == IMAGE:
                backdrop = backdrop_for(backdrop, self.image.shape[:2])
        except Exception as exc:
            self.show_status(f"backdrop not changed: {exc}", error=True)
            raise
        self._backdrop = backdrop
        self._syncing = True
        try:
            if kind == IMAGE:
                self._backdrop_image = backdrop
                self.backdrop_menu.options = [CHECKERBOARD, COLOR, IMAGE]
            if kind == COLOR:
                self.color.value = "#{:02x}{:02x}{:02x}".format(*backdrop)
            self.backdrop_menu.value = kind
        finally:
            self._syncing = False
        self._render(("composite",) if self.pictures else PICTURES)  # only the composite depends on the backdrop

    def zoom(self, box) -> None:
        """Show the region ``box`` = (x0, y0, x1, y1) of the image (pixels; clipped to the image,
        grown to its aspect ratio) in every view. ``ValueError`` for a box off the image."""
        box = as_box(box, self.image.shape[:2])
        self.view_box = aspect_box(box, self.image.shape[:2])
        self._views.clear()
        self.zoom_box = box
        self.draw()

    def reset_zoom(self) -> None:
        """Show the whole image again."""
        h, w = self.image.shape[:2]
        self.view_box = (0.0, 0.0, float(w), float(h))
        self._views.clear()
        self.zoom_box = None
        self.draw()

    # -- ImageView hooks ----------------------------------------------------------------
    def on_box(self, box) -> None:
        # The drag is in whole-image coordinates of the canvas; the canvas shows view_box.
        local = self.canvas.display.to_local_box(box)
        shown = CropWindow(self.view_box, self.canvas.display_size, self.image.shape[:2])
        target = shown.to_frame_box(local)
        if self.attempt("zoom", lambda: self.zoom(target)):
            x0, y0, x1, y1 = self.zoom_box
            self.show_status(f"zoomed to x {x0}..{x1}, y {y0}..{y1}; 'reset zoom' shows the whole image")

    def draw(self) -> None:
        """Redraw the main view and every panel (one message to the browser)."""
        if not self.pictures:
            return
        with self.canvas.hold():
            self._draw_main()
            for name, panel in self.panels.items():
                panel.set_overlay("picture", rgb_to_rgba(self._view(name, panel.display_size)))

    # -- internals --------------------------------------------------------------------
    def _render(self, names) -> None:
        """(Re)make the full-resolution pictures ``names`` of the result (the composite on the
        current backdrop), drop their display-size copies, and draw."""
        result = self.result
        makers = {
            "image": lambda: result.image,
            "composite": lambda: result.composite(backdrop_for(self._backdrop, result.alpha.shape)),
            "alpha": lambda: alpha_to_rgb(result.alpha),
            "network_alpha": lambda: alpha_to_rgb(getattr(result, "network_alpha", result.alpha)),
            "foreground": lambda: to_rgb8(result.foreground),
            "background": lambda: to_rgb8(result.background),
        }
        self.pictures = {**self.pictures, **{name: makers[name]() for name in names}}
        self._views = {key: view for key, view in self._views.items() if key[0] not in names}
        self.draw()

    def _view(self, name: str, size) -> np.ndarray:
        """Picture ``name`` over :attr:`view_box` at ``size``, kept until it or the view box changes
        (moving the split or switching panels then costs no resampling of the full picture)."""
        key = (name, tuple(size))
        if key not in self._views:
            self._views[key] = region_picture(self.pictures[name], self.view_box, size)
        return self._views[key]

    def _draw_main(self) -> None:
        if not self.pictures:
            return
        size = self.canvas.display_size
        left, right = self._view(self.left.value, size), self._view(self.right.value, size)
        self.shown = split_picture(left, right, self.split.value)
        self.canvas.set_overlay("picture", rgb_to_rgba(self.shown))

    def _on_backdrop_menu(self, change) -> None:
        if self._syncing:
            return
        kind = change["new"]
        backdrop = {CHECKERBOARD: CHECKERBOARD, COLOR: self.color.value, IMAGE: self._backdrop_image}[kind]
        self.set_backdrop(backdrop)

    def _on_color(self, change) -> None:
        if self._syncing:
            return
        try:
            self.set_backdrop(change["new"])  # picking a colour selects the colour backdrop
        except ValueError:
            pass  # a half-typed colour name: shown in the status line, backdrop kept


def _check_result(result) -> None:
    missing = [f for f in ("alpha", "foreground", "background", "image", "composite") if not hasattr(result, f)]
    if missing:
        raise TypeError(f"expected a MattingResult (from pipelines.matting.estimate_alpha), got "
                        f"{type(result).__name__} without {', '.join(missing)}")
