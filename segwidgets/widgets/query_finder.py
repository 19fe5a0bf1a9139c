"""``QueryFinder``: drag a box around an object, see where it appears in other images.

Drag a box on the source image: ``pipelines.query.find_query`` searches every
target image for what the box holds, and each target shows the heat map (through
a colour map, with a colour bar; heat below the threshold is not shown) and the
top-k boxes with their rank and score. The "heat" menu shows the fused map or the
correlation map of one query scale. Click inside a box on a target to see that
region enlarged in the zoom panel below ("reset zoom" closes it). Undo / redo step
through the query boxes (each with its results, nothing is recomputed), and
``save`` / ``load`` keep the query box with the source image's hash.

A separate query image (``query=...``) is searched at once; dragging a box on the
source (or, without a source, on the query image itself) replaces it.

Every number comes from ``pipelines.query``, every picture from
``segwidgets.render``; this module only routes events and draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import ipywidgets as widgets
import numpy as np
import traitlets

from ..core.annotations import Annotations
from ..core.crops import CropWindow
from ..core.history import History
from ..core.image import as_box, as_rgb_image
from ..pipelines.query import SCALES, find_query
from ..render import (
    HEAT_COLORMAP, QUERY_BOX_COLOR, box_at, box_color, box_labels, colorbar, encode_png, heat_to_rgba, region_picture,
    rgb_to_rgba, zoom_picture, zoom_region,
)
from .base import ImageView
from .canvas import ImageCanvas, PointerEvent

#: The "heat" menu's entry for the fused map (the others are the scales, e.g. "0.5x").
FUSED = "fused"


@dataclass(frozen=True)
class QueryState:
    """One entry of the undo stack: a query and what it found (never recomputed on undo).

    query_image : the image the query was cut from (or the query itself), None before any search.
    query_box : (x0, y0, x1, y1) int in ``query_image``, or None (the whole image is the query).
    results : one ``QueryResult`` per target.
    top_k : how many boxes were asked for.
    """

    query_image: np.ndarray | None = None
    query_box: tuple[int, int, int, int] | None = None
    results: tuple = ()
    top_k: int = 5


def scale_label(scale: float) -> str:
    """The "heat" menu's label of a query scale, e.g. ``0.5`` -> ``"0.5x"``."""
    return f"{scale:g}x"


class QueryFinder(ImageView):
    """Find the object in a box of one image in other images, with heat maps and top-k boxes.

    Parameters
    ----------
    source : (H, W, 3) uint8 RGB array, PIL image, path, or None
        The image to drag the query box on. None: ``query`` is shown there instead
        (the whole query is searched at once; a box dragged on it searches that part).
    targets : image or list of images
        Where to look; one canvas per image.
    query : image, optional
        A separate query image, searched at once (as the whole object).
    query_box : (x0, y0, x1, y1), optional
        An initial box on ``source`` (pixels, half-open), searched at once; not with
        both ``source`` and ``query``.
    engine : core.engine.Engine, optional
        Runs the query network (default: the process-wide engine; its cache keeps each
        target's features, so a new box only encodes the query).
    top_k : int
        Boxes per target (the "top k" slider).
    object_size : float, optional
        Expected longest side of the object in the targets, pixels (see ``find_query``).
    threshold : float in [0, 1]
        Heat below it is not shown (the "threshold" slider).
    colormap : str
        Matplotlib colour map of the heat maps.
    max_display_size : int
        Longest side each image is shown at, screen pixels.
    zoom_size : int
        Width of the zoom panel, screen pixels (its height is 3/4 of it).
    history_limit : int, optional
        Most queries kept for undo (each with its results).

    Attributes
    ----------
    results : list of pipelines.query.QueryResult (observable)
        One per target, empty before the first search.
    query : (h, w, 3) uint8 or None
        The query image as searched (cut from the source when a box was given).
    query_box : (x0, y0, x1, y1) int or None (observable)
        The box on the source image the query was cut from (None: a separate query).
    heatmaps, boxes, scores : lists, one entry per target
        ``results[i].heatmap`` ((H, W) float32), ``.boxes`` ((N, 4) int), ``.scores`` ((N,) float32).
    labels : list of list of str
        The text drawn by each target's boxes (``"#rank score"``).
    targets : list of (H, W, 3) uint8
        The target images.
    target_views : list of ImageCanvas
        One canvas per target (heat on layer "heat", boxes on "annotations").
    zoom : (target, rank) or None
        The box shown in the zoom panel (0-based indices).
    zoom_box : (x0, y0, x1, y1) int or None (observable)
        That box, in the target's pixels.
    zoomed : (h, w, 3) uint8 or None
        What the zoom panel shows (the region around ``zoom_box``, heat blended in).
    history : core.history.History of QueryState
        The undo stack.
    """

    opacity_layers = ()  # the opacity slider scales the targets' heat layers (see _apply_opacity)
    results = traitlets.Any()
    query_box = traitlets.Any(allow_none=True)
    zoom_box = traitlets.Any(allow_none=True)

    def __init__(self, source, targets, *, query=None, query_box=None, engine=None, top_k: int = 5,
                 object_size: float | None = None, threshold: float = 0.25, colormap: str = HEAT_COLORMAP,
                 max_display_size: int = 512, zoom_size: int = 320, history_limit: int | None = 32):
        if source is None and query is None:
            raise ValueError("give a source image to drag the query box on, or a query image (query=...)")
        if source is not None and query is not None and query_box is not None:
            raise ValueError("query_box is a box on source: give query_box or a separate query, not both")
        if int(top_k) != top_k or top_k < 1:
            raise ValueError(f"top_k must be a whole number >= 1, got {top_k!r}")
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        many = isinstance(targets, (list, tuple))
        targets = list(targets) if many else [targets]
        if not targets:
            raise ValueError("targets is empty: give one image or a list of images to search")
        query_image = None if query is None else as_rgb_image(query)

        self.scale = widgets.Dropdown(options=[FUSED, *map(scale_label, SCALES)], value=FUSED, description="heat",
                                      layout={"width": "180px"})
        self.threshold = widgets.FloatSlider(float(threshold), min=0.0, max=1.0, step=0.01, description="threshold",
                                             layout={"width": "280px"})
        self.top_k = widgets.IntSlider(int(top_k), min=1, max=max(10, int(top_k)), description="top k",
                                       continuous_update=False, layout={"width": "260px"})
        self.search_button = widgets.Button(description="search", icon="search", button_style="primary",
                                            tooltip="search again (the current query, top k boxes)",
                                            layout={"width": "100px"})
        self.undo_button = widgets.Button(description="undo", icon="undo", layout={"width": "80px"})
        self.redo_button = widgets.Button(description="redo", icon="repeat", layout={"width": "80px"})
        self.reset_zoom_button = widgets.Button(description="reset zoom", icon="search-minus",
                                                layout={"width": "120px"})
        super().__init__(query_image if source is None else source, overlays=(), interaction="box",
                         max_display_size=max_display_size, controls=[self.scale, self.threshold])
        self.opacity.value = 0.6
        self.engine = engine
        self.object_size = object_size
        self.colormap = colormap
        self.target_views = [ImageCanvas(t, overlays=("heat",), max_display_size=max_display_size) for t in targets]
        self.targets = [view.image for view in self.target_views]
        for i, view in enumerate(self.target_views):
            view.status.layout.display = "none"
            view.on_pointer(partial(self._on_target_pointer, i))
        self._query = self.image if source is None else query_image  # a separate query, searched as a whole
        self.history: History[QueryState] = History(QueryState(top_k=int(top_k)), limit=history_limit)
        self._heat_cache: dict[tuple, np.ndarray] = {}
        self._syncing = False
        self.zoom = None
        self.zoomed = None

        # colour bar, query preview, zoom panel
        self.colorbar_view = widgets.Image(format="png", layout={"width": "200px", "height": "12px"})
        colorbar_row = widgets.HBox([widgets.HTML("heat&nbsp;0&nbsp;"), self.colorbar_view, widgets.HTML("&nbsp;1")],
                                    layout={"align_items": "center"})
        self.query_view = widgets.Image(format="png")
        zh, zw = max(1, round(0.75 * zoom_size)), int(zoom_size)
        self.zoom_view = ImageCanvas(np.zeros((zh, zw, 3), np.uint8), overlays=("picture",), max_display_size=zw)
        self.zoom_view.status.layout.display = "none"
        self.zoom_label = widgets.HTML()
        self.zoom_area = widgets.VBox([widgets.HBox([self.zoom_label, self.reset_zoom_button],
                                                    layout={"align_items": "center", "grid_gap": "8px"}),
                                       self.zoom_view], layout={"display": "none"})
        toolbar, canvas = self.children
        actions = widgets.HBox([self.top_k, self.search_button, self.undo_button, self.redo_button, colorbar_row],
                               layout={"align_items": "center", "grid_gap": "4px"})
        source_box = widgets.VBox([widgets.HTML("<b>source</b>: drag a box around the object"), canvas])
        query_box_view = widgets.VBox([widgets.HTML("<b>query</b>"), self.query_view])
        target_boxes = [widgets.VBox([widgets.HTML(f"<b>target {i + 1}</b>: click a box to zoom"), view])
                        for i, view in enumerate(self.target_views)]
        self.children = [toolbar, actions, widgets.HBox([source_box, query_box_view], layout={"grid_gap": "12px"}),
                         widgets.HBox(target_boxes, layout={"flex_flow": "row wrap", "grid_gap": "12px"}),
                         self.zoom_area]

        self.scale.observe(lambda _: self._draw_heat(), "value")
        self.threshold.observe(self._on_threshold, "value")
        self.top_k.observe(self._on_top_k, "value")
        self.search_button.on_click(lambda _: self.search())
        self.undo_button.on_click(lambda _: self.undo())
        self.redo_button.on_click(lambda _: self.redo())
        self.reset_zoom_button.on_click(lambda _: self.reset_zoom())
        self._draw_colorbar()
        self._sync()
        if query_box is not None:
            self.set_query_box(query_box)
        elif self._query is not None:
            self._run("search", lambda: self._search(self._query, None, self.top_k.value))
        else:
            self.show_status("drag a box around the object on the source image")

    # -- what is shown -------------------------------------------------------------------
    @property
    def query(self) -> np.ndarray | None:
        results = self.history.current.results
        return results[0].query if results else None

    @property
    def heatmaps(self) -> list[np.ndarray]:
        return [r.heatmap for r in self.results]

    @property
    def boxes(self) -> list[np.ndarray]:
        return [r.boxes for r in self.results]

    @property
    def scores(self) -> list[np.ndarray]:
        return [r.scores for r in self.results]

    @property
    def labels(self) -> list[list[str]]:
        return [box_labels(r.scores) for r in self.results]

    def heat(self, target: int) -> np.ndarray:
        """The map target ``target`` shows now, (H, W) float32 in [0, 1] at its size, before the
        threshold: the fused heat map or, with a scale chosen in the "heat" menu, that scale's map."""
        key = (target, self.scale.value, "full")
        if key not in self._heat_cache:
            result = self.results[target]
            if self.scale.value == FUSED:
                self._heat_cache[key] = result.heatmap
            else:
                self._heat_cache[key] = result.scale_heatmap(self._scale_index())
        return self._heat_cache[key]

    # -- user actions -------------------------------------------------------------------
    def set_query_box(self, box) -> None:
        """Search for what ``box`` = (x0, y0, x1, y1) of the source image holds (pixels,
        half-open), as a box drag does. A failure (a box too small or off the image, a query
        larger than a target, missing weights) shows in the status line; the previous query and
        results are kept."""
        self._run("search", lambda: self._search(self.image, as_box(box, self.image.shape[:2]), self.top_k.value))

    def set_query(self, query) -> None:
        """Search for a separate query image (the whole image is the object)."""
        self._run("search", lambda: self._search(as_rgb_image(query), None, self.top_k.value))

    def search(self) -> None:
        """Search again for the current query, with the current "top k"."""
        state = self.history.current

        def again():
            if state.query_image is None:
                raise ValueError("no query yet: drag a box around the object on the source image")
            return self._search(state.query_image, state.query_box, self.top_k.value)

        self._run("search", again)

    def undo(self) -> None:
        """Back to the previous query and its results (nothing is recomputed)."""
        if self.attempt("undo", self.history.undo):
            self._sync()
            self._report("undo")

    def redo(self) -> None:
        if self.attempt("redo", self.history.redo):
            self._sync()
            self._report("redo")

    def zoom_to(self, target: int, rank: int) -> None:
        """Show box ``rank`` (0 = best) of target ``target`` enlarged in the zoom panel, as a click
        inside that box does. ``IndexError`` for a box or target that does not exist."""
        if not 0 <= target < len(self.results):
            raise IndexError(f"no target {target}: {len(self.results)} target(s) with results")
        boxes = self.results[target].boxes
        if not 0 <= rank < len(boxes):
            raise IndexError(f"target {target} has {len(boxes)} box(es), no box {rank}")
        previous = self.zoom
        self.zoom = (target, rank)
        self.zoom_box = tuple(int(v) for v in boxes[rank])
        with self.canvas.hold():
            self._draw_zoom()
            self._draw_boxes(target)
            if previous is not None and previous[0] != target:
                self._draw_boxes(previous[0])
        x0, y0, x1, y1 = self.zoom_box
        self.show_status(f"target {target + 1}, box {self.labels[target][rank]}: x {x0}..{x1}, y {y0}..{y1}; "
                         "'reset zoom' closes the zoom panel")

    def reset_zoom(self) -> None:
        """Close the zoom panel."""
        previous = self.zoom
        self.zoom = None
        self.zoom_box = None
        with self.canvas.hold():
            self._draw_zoom()
            if previous is not None:
                self._draw_boxes(previous[0])

    # -- ImageView hooks ----------------------------------------------------------------
    def on_box(self, box) -> None:
        self.set_query_box(box)

    def draw_marks(self) -> None:
        """The query box on the source image."""
        state = self.history.current
        if state.query_box is None or state.query_image is not self.image:
            self.canvas.clear_marks("annotations")
            return
        x0, y0, x1, y1 = self.canvas.display.to_local_box(state.query_box)

        def draw():
            layer = self.canvas.layer("annotations")
            layer.stroke_style = QUERY_BOX_COLOR
            layer.line_width = 3
            layer.stroke_rect(x0, y0, x1 - x0, y1 - y0)
            _label(layer, "query", x0, y0, QUERY_BOX_COLOR)

        self.canvas.set_marks("annotations", draw)

    def draw(self) -> None:
        """Redraw everything: query box, heat maps, boxes, zoom panel (one message)."""
        with self.canvas.hold():
            self._apply_opacity(redraw=False)
            self.draw_marks()
            self._draw_heat()

    def annotations(self) -> Annotations:
        state = self.history.current
        if state.query_box is None or state.query_image is not self.image:
            return Annotations()
        return Annotations(boxes=(tuple(float(v) for v in state.query_box),))

    def restore(self, annotations: Annotations) -> None:
        if not annotations.boxes:
            raise ValueError("these annotations hold no query box")
        box = as_box(annotations.boxes[-1], self.image.shape[:2])
        self.history.push(self._search(self.image, box, self.top_k.value))  # raises before any change
        self._sync(draw=False)  # load() draws

    def _apply_opacity(self, redraw: bool = True) -> None:
        with self.canvas.hold():
            for view in getattr(self, "target_views", ()):
                view.set_opacity("heat", self.opacity.value, redraw=redraw)
            if redraw and getattr(self, "zoom", None) is not None:
                self._draw_zoom()

    # -- internals --------------------------------------------------------------------
    def _search(self, query_image: np.ndarray, box, top_k: int) -> QueryState:
        """Run ``find_query`` on every target (the engine caches the query's features, so one
        query is encoded once); raises on failure, changing nothing."""
        results, n = [], len(self.targets)
        for i, target in enumerate(self.targets):
            if n > 1:
                self.show_status(f"working: search, target {i + 1}/{n}...")
            results.append(find_query(query_image, target, query_box=box, engine=self.engine,
                                      object_size=self.object_size, top_k=int(top_k)))
        return QueryState(query_image, None if box is None else tuple(int(v) for v in box), tuple(results), int(top_k))

    def _run(self, what: str, make_state) -> None:
        out = {}
        if self.attempt(what, lambda: out.update(state=make_state())):
            self.history.push(out["state"])
            self._sync()
            self._report(what)

    def _report(self, what: str) -> None:
        state = self.history.current
        if not state.results:
            self.show_status(f"{what}: no query; drag a box around the object on the source image")
            return
        h, w = state.results[0].query.shape[:2]
        best = ", ".join(f"{r.scores[0]:.2f}" if len(r.scores) else "-" for r in state.results)
        ms = 1000 * sum(r.timings.get("total", 0.0) for r in state.results)
        self.show_status(f"{what}: query {w}x{h} px; best score per target {best}; {ms:.0f} ms; "
                         "click a box on a target to zoom")

    def _sync(self, draw: bool = True) -> None:
        state = self.history.current
        self._heat_cache.clear()
        self.zoom = None
        self.zoom_box = None
        self.query_box = state.query_box
        self.results = list(state.results)
        self._syncing = True
        try:
            if state.results:
                labels = [FUSED, *map(scale_label, state.results[0].scales)]
                if list(self.scale.options) != labels:
                    self.scale.options = labels  # a new ``scales`` (other weights): back to "fused"
                    self.scale.value = FUSED
            if state.results and self.top_k.value != state.top_k:
                self.top_k.max = max(self.top_k.max, state.top_k)
                self.top_k.value = state.top_k
        finally:
            self._syncing = False
        self.undo_button.disabled = not self.history.can_undo
        self.redo_button.disabled = not self.history.can_redo
        self._draw_query()
        if draw:
            self.draw()

    def _scale_index(self) -> int:
        return list(self.scale.options).index(self.scale.value) - 1

    def _display_heat(self, target: int) -> np.ndarray:
        key = (target, self.scale.value, "display")
        if key not in self._heat_cache:
            self._heat_cache[key] = self.target_views[target].to_display(self.heat(target), order=1)
        return self._heat_cache[key]

    def _draw_heat(self) -> None:
        """Heat maps and boxes on every target, and the zoom panel."""
        with self.canvas.hold():
            for i, view in enumerate(self.target_views):
                if i < len(self.results):
                    view.set_overlay("heat", heat_to_rgba(self._display_heat(i), self.threshold.value, self.colormap))
                else:
                    view.clear_overlay("heat")
                self._draw_boxes(i)
            self._draw_zoom()

    def _draw_boxes(self, target: int) -> None:
        view = self.target_views[target]
        if target >= len(self.results):
            view.clear_marks("annotations")
            return
        boxes = [view.display.to_local_box(b) for b in self.results[target].boxes]
        labels = self.labels[target]
        zoomed = self.zoom[1] if self.zoom is not None and self.zoom[0] == target else None

        def draw():
            layer = view.layer("annotations")
            for rank in reversed(range(len(boxes))):  # the best box last, on top
                x0, y0, x1, y1 = boxes[rank]
                color = box_color(rank)
                layer.stroke_style = color
                layer.line_width = 4 if rank == zoomed else (3 if rank == 0 else 2)
                layer.stroke_rect(x0, y0, x1 - x0, y1 - y0)
                _label(layer, labels[rank], x0, y0, color)

        view.set_marks("annotations", draw)

    def _draw_zoom(self) -> None:
        if self.zoom is None:
            self.zoomed = None
            self.zoom_area.layout.display = "none"
            self.zoom_view.clear_overlay("picture")
            self.zoom_view.clear_marks("annotations")
            return
        target, rank = self.zoom
        image = self.targets[target]
        size = self.zoom_view.display_size
        region = zoom_region(self.zoom_box, image.shape[:2], size)
        self.zoomed = zoom_picture(image, self.heat(target), region, size, self.threshold.value, self.colormap,
                                   self.opacity.value)
        x0, y0, x1, y1 = CropWindow(region, size, image.shape[:2]).to_local_box(self.zoom_box)
        label = self.labels[target][rank]
        color = box_color(rank)

        def draw():
            layer = self.zoom_view.layer("annotations")
            layer.stroke_style = color
            layer.line_width = 2
            layer.stroke_rect(x0, y0, x1 - x0, y1 - y0)

        with self.canvas.hold():
            self.zoom_view.set_overlay("picture", rgb_to_rgba(self.zoomed))
            self.zoom_view.set_marks("annotations", draw)
        self.zoom_label.value = f"<b>target {target + 1}, box {label}</b> ({self.scale.value})"
        self.zoom_area.layout.display = "flex"

    def _draw_query(self) -> None:
        query = self.query
        if query is None:
            self.query_view.value = b""
            self.query_view.layout.display = "none"
            return
        h, w = query.shape[:2]
        size = CropWindow.whole((h, w), max_side=160).size
        self.query_view.value = encode_png(region_picture(query, (0, 0, w, h), size))
        self.query_view.layout.display = ""

    def _draw_colorbar(self) -> None:
        self.colorbar_view.value = encode_png(colorbar(self.colormap, 200, 12, self.threshold.value))

    def _on_threshold(self, change) -> None:
        self._draw_colorbar()
        self._draw_heat()

    def _on_top_k(self, change) -> None:
        if not self._syncing and self.history.current.query_image is not None:
            self.search()

    def _on_target_pointer(self, target: int, event: PointerEvent) -> None:
        if event.kind != "down" or event.button != "left" or not event.inside:
            return
        if target >= len(self.results):
            self.show_status("nothing to zoom yet: drag a box around the object on the source image", error=True)
            return
        rank = box_at(self.results[target].boxes, event.x, event.y)
        if rank is None:
            self.show_status("click inside a box to zoom to it")
            return
        self.zoom_to(target, rank)


def _label(layer, text: str, x: float, y: float, color: str) -> None:
    """``text`` in ``color`` on a dark strip at the top-left corner of a box (display pixels)."""
    layer.font = "12px sans-serif"
    layer.text_baseline = "top"
    layer.fill_style = "rgba(15,23,42,0.75)"
    layer.fill_rect(x, y, 7 * len(text) + 6, 15)
    layer.fill_style = color
    layer.fill_text(text, x + 3, y + 1)
