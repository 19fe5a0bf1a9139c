"""``SegmentExplorer``: every pixel's class, and the candidate segments behind it.

The widget runs ``pipelines.semantic.segment_semantic`` on its image and shows the
label map over it, with a legend (class colour, name, share of the pixels) whose
check boxes choose the classes drawn. The "show" menu switches between the class
overlay and one class's probability map (with a colour bar); the "labelling"
buttons switch between the two ways segment scores become pixel classes ("vote",
"best"; each is computed once, the image's features come from the engine's cache).
Click a pixel: the segments covering it are listed (id, the candidate layer that
made it, area, three most probable classes) and outlined on the image, the best
one (highest top probability) in white and thicker, the others in magenta.

Every number comes from ``pipelines.semantic``, every picture from
``segwidgets.render`` (``render.semantic``); this module only routes events and draws.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import traitlets

from ..core.annotations import Annotations
from ..core.clicks import Click
from ..core.crops import CropWindow
from ..pipelines.semantic import CLASS_NAMES, LABELLINGS, segment_semantic
from ..render import (
    class_colors, class_shares, colorbar, encode_png, label_overlay, legend_entries, map_to_rgba, segment_outlines,
    segment_table_html,
)
from .base import ImageView

#: The "show" menu's entry for the class overlay (the others are ``probability_view(name)``).
CLASSES = "classes"
#: Colour map of the probability views.
PROBABILITY_COLORMAP = "viridis"
#: Fill colour of the marker at the selected pixel (white rim; not a class or outline colour).
POINT_COLOR = "#111827"


def probability_view(name: str) -> str:
    """The "show" menu's label of one class's probability map, e.g. ``"probability: skin"``."""
    return f"probability: {name}"


class SegmentExplorer(ImageView):
    """Per-pixel classes of one image, and the segments that voted for them.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB array, PIL image or path
        (RGBA drops alpha, grayscale is repeated; see ``core.image.as_rgb_image``).
    engine : core.engine.Engine, optional
        Runs the semantic network (default: the process-wide engine, whose cache keeps
        the image's features, so switching the labelling does not encode it again).
    segments : optional
        Your own segments instead of the automatic candidates (an (H, W) int label image,
        an (N, H, W) bool array or a list of (H, W) bool masks; see ``segment_semantic``).
    labelling : {"vote", "best"}
        How segment scores become pixel classes (the "labelling" buttons).
    candidates : dict, optional
        Keyword arguments for ``pipelines.segments.candidate_segments``.
    visible_classes : sequence of str or int, optional
        Classes drawn in the overlay at first (default: all).
    max_display_size : int
        Longest side the image is shown at, screen pixels (overlays are sent at that size).

    Attributes
    ----------
    result : pipelines.semantic.SemanticResult or None (observable)
        The shown result (None when segmentation failed; the status line says why).
    labels : (H, W) int32 or None
        ``result.labels``.
    class_names : tuple of str
    selected_point : (x, y) float or None (observable)
        The last pixel clicked (or passed to :meth:`select`), image pixels.
    selected_segments : list of int (observable)
        Ids of the segments covering it, best first (``result.segments_at(x, y)``).
    segment_rows : list of dict
        What the segment table lists for them: ``id``, ``layer`` (its source's name),
        ``layer_index``, ``area`` (pixels at the working size), ``share`` (of the image),
        ``classes`` (three ``(name, probability)``).
    visible_classes : tuple of str (observable)
        The classes drawn in the class overlay, in class order. Assign names or indices;
        an unknown class raises ``traitlets.TraitError`` (:meth:`show_classes` shows it in
        the status line instead).
    labelling : str
        The labelling of the shown result ("vote" or "best").
    shares : (C,) float64 or None
        Fraction of the pixels labelled with each class.
    """

    opacity_layers = ("labels",)  # the outlines stay opaque
    result = traitlets.Any(allow_none=True)
    selected_point = traitlets.Any(allow_none=True)
    selected_segments = traitlets.List(traitlets.Int())
    visible_classes = traitlets.Tuple()

    def __init__(self, image, *, engine=None, segments=None, labelling: str = "vote", candidates: dict | None = None,
                 visible_classes=None, max_display_size: int = 768):
        if labelling not in LABELLINGS:
            raise ValueError(f"labelling must be one of {LABELLINGS}, got {labelling!r}")
        self.class_names = tuple(CLASS_NAMES)
        self.labelling_buttons = widgets.ToggleButtons(options=list(LABELLINGS), value=labelling,
                                                       description="labelling",
                                                       tooltips=["vote of the covering segments, each weighted by score / sqrt(area)",
                                                                 "the most confident covering segment"],
                                                       style={"button_width": "60px"})
        self.show_menu = widgets.Dropdown(options=self._show_options(), value=CLASSES, description="show",
                                          layout={"width": "280px"})
        self.clear_button = widgets.Button(description="clear", icon="times", tooltip="clear the selected pixel",
                                           layout={"width": "80px"})
        super().__init__(image, overlays=("labels", "outlines"), interaction="click",
                         max_display_size=max_display_size,
                         controls=[self.labelling_buttons, self.show_menu, self.clear_button])
        self.opacity.value = 0.6
        self.engine = engine
        self.candidates = dict(candidates or {})
        self._segments = segments
        self._results: dict[str, object] = {}  # labelling -> result, for the current segments
        self._display: dict[tuple, np.ndarray] = {}  # display-size copies of the shown result's arrays
        self._layer_of = None
        self._areas = None
        self._syncing = False
        self.shares = None

        # legend with one check box per class, colour bar, segment table
        self.class_boxes = [widgets.Checkbox(value=True, indent=False, layout={"width": "22px"})
                            for _ in self.class_names]
        self.legend_labels = [widgets.HTML() for _ in self.class_names]
        self.all_button = widgets.Button(description="all", layout={"width": "60px"}, tooltip="show every class")
        self.none_button = widgets.Button(description="none", layout={"width": "60px"}, tooltip="hide every class")
        legend = widgets.VBox(
            [widgets.HTML("<b>classes</b> (share of the pixels)")]
            + [widgets.HBox([box, label], layout={"align_items": "center"})
               for box, label in zip(self.class_boxes, self.legend_labels)]
            + [widgets.HBox([self.all_button, self.none_button])],
            layout={"margin": "0 0 0 12px"})
        self.colorbar_view = widgets.Image(value=encode_png(colorbar(PROBABILITY_COLORMAP, 200, 12)), format="png",
                                           layout={"width": "200px", "height": "12px"})
        self.colorbar_row = widgets.HBox([widgets.HTML("probability&nbsp;0&nbsp;"), self.colorbar_view,
                                          widgets.HTML("&nbsp;1")],
                                         layout={"align_items": "center", "display": "none"})
        self.segments_title = widgets.HTML("click a pixel to list the segments covering it")
        self.segments_view = widgets.HTML()
        toolbar, canvas = self.children
        self.children = [toolbar, self.colorbar_row, widgets.HBox([canvas, legend]), self.segments_title,
                         self.segments_view]

        self.visible_classes = self.class_names if visible_classes is None else tuple(visible_classes)
        self.observe(self._on_visible_classes, "visible_classes")
        for box in self.class_boxes:
            box.observe(self._on_class_box, "value")
        self.all_button.on_click(lambda _: self.show_classes(self.class_names))
        self.none_button.on_click(lambda _: self.show_classes(()))
        self.labelling_buttons.observe(self._on_labelling_buttons, "value")
        self.show_menu.observe(lambda _: self.draw(), "value")
        self.clear_button.on_click(lambda _: self.clear_selection())
        self._sync_classes()
        self.segment()

    # -- what is shown ------------------------------------------------------------------
    @property
    def labels(self) -> np.ndarray | None:
        return None if self.result is None else self.result.labels

    @property
    def labelling(self) -> str:
        return self.result.labelling if self.result is not None else self.labelling_buttons.value

    @property
    def segment_rows(self) -> list[dict]:
        """One entry per selected segment, best first (what the segment table shows)."""
        result = self.result
        if result is None or not self.selected_segments:
            return []
        if self._layer_of is None:
            self._layer_of = result.segments.layer_of()
            self._areas = result.segments.areas()
        h, w = result.working_size
        rows = []
        for k in self.selected_segments:
            layer = int(self._layer_of[k])
            rows.append({"id": int(k), "layer": result.segments.sources[layer], "layer_index": layer,
                         "area": int(self._areas[k]), "share": float(self._areas[k]) / (h * w),
                         "classes": result.top_classes(k, 3)})
        return rows

    # -- user actions -------------------------------------------------------------------
    def segment(self) -> None:
        """Segment the image (again) with the current labelling and segments; the status line
        shows "working..." meanwhile and any error afterwards (the shown result is kept)."""
        self._results.clear()
        self._run(self.labelling_buttons.value)

    def set_labelling(self, labelling: str) -> None:
        """Show the ``"vote"`` or ``"best"`` labelling (as the buttons do; computed once each)."""
        if labelling not in LABELLINGS:
            self.show_status(f"labelling must be one of {LABELLINGS}, got {labelling!r}", error=True)
            return
        self._run(labelling)

    def set_segments(self, segments) -> None:
        """Classify your own segments (masks or a label image, see ``segment_semantic``) instead of the
        automatic candidates; ``None`` goes back to the candidates. A failure (masks of the wrong size,
        an empty mask) shows in the status line and keeps the shown result."""
        out = {}
        labelling = self.labelling_buttons.value
        if self.attempt("segmentation", lambda: out.update(result=self._segment(labelling, segments))):
            self._segments = segments
            self._results = {labelling: out["result"]}
            self._adopt(out["result"])

    def select(self, x: float, y: float) -> None:
        """List and outline the segments covering image pixel ``(x, y)``, as a click there does.
        A point outside the image (or no result yet) shows an error; the selection is kept."""
        if self.result is None:
            self.show_status("nothing to select: the segmentation has not run (see the message above)", error=True)
            return
        out = {}
        if not self.attempt("select", lambda: out.update(ids=self.result.segments_at(x, y))):
            return
        self.selected_point = (float(x), float(y))
        self.selected_segments = list(out["ids"])
        with self.canvas.hold():
            self._draw_outlines()
            self.draw_marks()
        self._show_selection()
        self._report_selection()

    def clear_selection(self) -> None:
        """Forget the selected pixel and its segments."""
        self.selected_point = None
        self.selected_segments = []
        with self.canvas.hold():
            self._draw_outlines()
            self.draw_marks()
        self._show_selection()
        self.show_status("selection cleared; click a pixel to see the segments covering it")

    def show_classes(self, classes) -> None:
        """Draw only ``classes`` (names or indices) in the class overlay; an unknown class shows an
        error in the status line and changes nothing."""
        if self.attempt("show classes", lambda: setattr(self, "visible_classes", tuple(classes))):
            self.show_status(f"showing {len(self.visible_classes)} of {len(self.class_names)} classes")

    # -- ImageView hooks ----------------------------------------------------------------
    def on_click(self, x: float, y: float, positive: bool) -> None:
        self.select(x, y)

    def draw(self) -> None:
        """Redraw the overlay, the outlines and the selected pixel (one message to the browser)."""
        with self.canvas.hold():
            self._apply_opacity(redraw=False)
            self._draw_overlay()
            self._draw_outlines()
            self.draw_marks()

    def draw_marks(self) -> None:
        """A marker at the selected pixel."""
        if self.selected_point is None:
            self.canvas.clear_marks("annotations")
        else:
            self.canvas.draw_points([(*self.selected_point, True)], radius=4, colors=(POINT_COLOR, POINT_COLOR))

    def annotations(self) -> Annotations:
        if self.selected_point is None:
            return Annotations()
        return Annotations(clicks=(Click(*self.selected_point),))

    def restore(self, annotations: Annotations) -> None:
        if not annotations.clicks:
            raise ValueError("these annotations hold no selected pixel")
        if self.result is None:
            raise ValueError("nothing to select: the segmentation has not run")
        click = annotations.clicks[-1]
        ids = self.result.segments_at(click.x, click.y)  # raises before any change
        self.selected_point = (float(click.x), float(click.y))
        self.selected_segments = list(ids)
        self._show_selection()

    # -- internals --------------------------------------------------------------------
    def _show_options(self) -> list[str]:
        return [CLASSES, *map(probability_view, self.class_names)]

    def _segment(self, labelling: str, segments):
        result = segment_semantic(self.image, segments, engine=self.engine, labelling=labelling,
                                  candidates=self.candidates or None)
        if tuple(result.class_names) != self.class_names:  # other weights, other classes
            raise ValueError(f"this explorer shows the classes {self.class_names}, the result has {result.class_names}")
        return result

    def _run(self, labelling: str) -> None:
        """Show the result for ``labelling`` (computed once per labelling and set of segments)."""
        out = {}

        def compute():
            cached = self._results.get(labelling)
            out["result"] = cached if cached is not None else self._segment(labelling, self._segments)

        if self.attempt(f"semantic segmentation ({labelling})", compute):
            self._results[labelling] = out["result"]
            self._adopt(out["result"])
        else:  # the buttons go back to the shown labelling
            self._set_buttons(self.result.labelling if self.result is not None else labelling)

    def _adopt(self, result) -> None:
        """Show a new result: overlay, legend, and the selection at the same pixel."""
        self.result = result
        self._display.clear()
        self._layer_of = self._areas = None
        self.shares = class_shares(result.labels, len(self.class_names))
        self._set_buttons(result.labelling)
        if self.selected_point is not None:
            self.selected_segments = list(result.segments_at(*self.selected_point))
        self._sync_classes()
        self._show_selection()
        self.draw()
        self._report_result()

    def _set_buttons(self, labelling: str) -> None:
        self._syncing = True
        try:
            self.labelling_buttons.value = labelling
        finally:
            self._syncing = False

    def _display_array(self, key, make) -> np.ndarray:
        if key not in self._display:
            self._display[key] = make()
        return self._display[key]

    def _display_labels(self) -> np.ndarray:
        return self._display_array(("labels",), lambda: self.canvas.to_display(self.result.labels, order=0))

    def _display_mask(self, segment: int) -> np.ndarray:
        """Segment ``segment`` at the display size, resampled from the working size (never the full image)."""
        def make():
            result = self.result
            window = CropWindow.whole(result.working_size, size=self.canvas.display_size)
            return window.to_local_mask(result.segments.mask(segment))

        return self._display_array(("mask", segment), make)

    def _visible_indices(self) -> list[int]:
        return [self.class_names.index(name) for name in self.visible_classes]

    def _draw_overlay(self) -> None:
        shown = self.show_menu.value
        self.colorbar_row.layout.display = "none" if shown == CLASSES else "flex"
        if self.result is None:
            self.canvas.clear_overlay("labels")
        elif shown == CLASSES:
            self.canvas.set_overlay("labels", label_overlay(self._display_labels(), self._visible_indices(),
                                                            n_classes=len(self.class_names), opacity=1.0))
        else:
            k = self._show_options().index(shown) - 1
            values = self._display_array(("probability", k),
                                         lambda: self.canvas.to_display(self.result.probabilities[k], order=1))
            self.canvas.set_overlay("labels", map_to_rgba(values, PROBABILITY_COLORMAP, 1.0, 0.0, 1.0))

    def _draw_outlines(self) -> None:
        if self.result is None or not self.selected_segments:
            self.canvas.clear_overlay("outlines")
            return
        masks = [self._display_mask(k) for k in self.selected_segments]
        self.canvas.set_overlay("outlines", segment_outlines(masks, highlight=0))

    def _show_selection(self) -> None:
        if self.selected_point is None or self.result is None:
            self.segments_title.value = "click a pixel to list the segments covering it"
            self.segments_view.value = ""
            return
        x, y = self.selected_point
        self.segments_title.value = (f"<b>{len(self.selected_segments)} segment(s) covering pixel ({x:.0f}, {y:.0f})"
                                     f"</b>, best first (outlined: best in white, others in magenta; area at the "
                                     f"working size {self.result.working_size[1]}x{self.result.working_size[0]})")
        self.segments_view.value = segment_table_html(self.segment_rows, self.class_names)

    def _sync_classes(self) -> None:
        """Check boxes and legend text from :attr:`visible_classes` and :attr:`shares`."""
        visible = self._visible_indices()
        self._syncing = True
        try:
            for i, box in enumerate(self.class_boxes):
                box.value = i in visible
        finally:
            self._syncing = False
        for label, entry in zip(self.legend_labels, legend_entries(self.class_names, self.shares, visible,
                                                                    class_colors(len(self.class_names)))):
            label.value = entry

    def _report_result(self) -> None:
        result = self.result
        t = result.timings
        parts = ", ".join(f"{name} {1000 * t[name]:.0f} ms" for name in ("features", "segments", "classify", "labels")
                          if name in t)
        self.show_status(f"{result.labelling}: {result.segments.count} segments in {len(result.segments.sources)} "
                         f"layer(s); {1000 * t.get('total', 0.0):.0f} ms ({parts}); "
                         "click a pixel to see the segments covering it")

    def _report_selection(self) -> None:
        result = self.result
        x, y = self.selected_point
        label = int(result.labels[int(y), int(x)])
        p = float(result.probabilities[label, int(y), int(x)])
        text = f"pixel ({x:.0f}, {y:.0f}): {self.class_names[label]} ({p:.2f}); "
        if self.selected_segments:
            best = self.segment_rows[0]
            name, q = best["classes"][0]
            text += (f"{len(self.selected_segments)} segment(s) cover it, best #{best['id']} ({best['layer']}): "
                     f"{name} {q:.2f}")
        else:
            text += "no segment covers it (labelled background)"
        self.show_status(text)

    @traitlets.validate("visible_classes")
    def _valid_classes(self, proposal):
        chosen = set()
        for item in proposal["value"]:
            if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                if not 0 <= item < len(self.class_names):
                    raise traitlets.TraitError(f"class index {item} out of range 0..{len(self.class_names) - 1}")
                chosen.add(self.class_names[int(item)])
            elif item in self.class_names:
                chosen.add(item)
            else:
                raise traitlets.TraitError(f"unknown class {item!r}; classes: {', '.join(self.class_names)}")
        return tuple(name for name in self.class_names if name in chosen)

    def _on_visible_classes(self, change) -> None:
        self._sync_classes()
        if self.show_menu.value == CLASSES:
            self._draw_overlay()

    def _on_class_box(self, change) -> None:
        if not self._syncing:
            self.visible_classes = tuple(name for name, box in zip(self.class_names, self.class_boxes) if box.value)

    def _on_labelling_buttons(self, change) -> None:
        if not self._syncing:
            self.set_labelling(change["new"])
