"""IterationSlider: step through a graph-cut trace, panel by panel.

It replays recorded states (it never re-runs the solver to show a past step),
can continue the optimisation live ("one more iteration"), and can re-run it
with other parameters from the same initialisation, keeping earlier runs for
comparison.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import traitlets
from ipycanvas import MultiCanvas

from ..graphcut import PAIRWISE_KINDS, GraphCutSolver, GraphCutTrace
from ..render import (
    CHANGE_PALETTE, change_labels, colormap_palette, encode_indexed_png, encode_png, energy_plot, map_to_index,
    model_swatches_html, unary_limit,
)
from ._ipycanvas import draw_png
from .base import WidgetBase
from .canvas import ImageCanvas

UNARY_PALETTE = colormap_palette("RdBu_r", 0.85)  # blue: object cheaper, red: background cheaper



# Widths that fit their text (no "re-ru..."), labels that are not cut ("compone..."), rows that wrap instead of
# overflowing a window with JupyterLab's file browser open.
_FIT = widgets.Layout(width="auto")
_LABEL = {"description_width": "initial"}
_FIELD = widgets.Layout(width="auto", max_width="220px")
_WRAP = widgets.Layout(display="flex", flex_flow="row wrap", align_items="center", grid_gap="8px")

class IterationSlider(WidgetBase):
    """Step through the iterations of a :class:`GraphCutTrace`.

    Parameters
    ----------
    trace : GraphCutTrace
        From :func:`segwidgets.graphcut.graph_cut` (or a pipeline's result).
    image : (H, W, 3) uint8, optional
        The image the trace ran on; default ``trace.image``.
    max_display_size : int
        Longest side of each image panel, in screen pixels.

    Attributes
    ----------
    iteration : int (traitlet, observable)
        The shown iteration, 1-based.
    trace : GraphCutTrace
        The trace being shown (changes after "one more iteration" or a re-run).
    history : list of GraphCutTrace
        Earlier runs, oldest first, kept for comparison after a re-run.

    Panels for the selected iteration: the mask; the pixels it added (green) and
    removed (red); the unary cost map (object minus background, red = prefers
    background, blue = prefers object); the pairwise weight map (dark = cheap to
    cut); both colour models as swatches (width = weight); and the energy plot
    with a marker at the iteration.
    """

    iteration = traitlets.Int(1)

    def __init__(self, trace: GraphCutTrace, image=None, max_display_size: int = 512):
        if not isinstance(trace, GraphCutTrace):
            raise TypeError(f"expected a GraphCutTrace, got {type(trace).__name__}")
        image = trace.image if image is None else image
        if image is None:
            raise ValueError("the trace holds no image: pass the image it ran on")
        self.history: list[GraphCutTrace] = []
        self._trace = trace
        self._solver = None
        self._cache: dict = {}
        self.mask_view = ImageCanvas(image, overlays=("mask",), max_display_size=max_display_size)
        if self.mask_view.image.shape[:2] != trace.initial_mask.shape:
            raise ValueError(f"image of shape {self.mask_view.image.shape[:2]} does not match the trace's {trace.initial_mask.shape}")
        self.unary_view = ImageCanvas(image, overlays=("unary",), max_display_size=max_display_size)
        self.pairwise_view = ImageCanvas(image, overlays=("pairwise",), max_display_size=max_display_size)
        self.models_view = widgets.HTML()
        self.energy_view = MultiCanvas(2, width=480, height=260)
        self.energy_view.layout.width, self.energy_view.layout.height = "480px", "260px"
        self.slider = widgets.IntSlider(min=1, max=max(1, len(trace)), value=1, description="iteration", continuous_update=True)
        self.previous_button = widgets.Button(description="◀", layout=widgets.Layout(width="40px"), tooltip="previous iteration")
        self.next_button = widgets.Button(description="▶", layout=widgets.Layout(width="40px"), tooltip="next iteration")
        self.more_button = widgets.Button(description="run one more iteration", icon="play", layout=_FIT)
        self.gamma = widgets.BoundedFloatText(value=trace.settings.gamma, min=0, max=1e6, description="gamma",
                                             style=_LABEL, layout=_FIELD)
        self.beta = widgets.BoundedFloatText(value=trace.settings.beta, min=0, max=100, description="beta",
                                            style=_LABEL, layout=_FIELD)
        self.components = widgets.BoundedIntText(value=trace.settings.n_components, min=1, max=20,
                                                 description="components", style=_LABEL, layout=_FIELD)
        kinds = PAIRWISE_KINDS if trace.refinement is not None else ("contrast",)
        self.pairwise = widgets.Dropdown(options=kinds, value=trace.settings.pairwise, description="pairwise",
                                         style=_LABEL, layout=_FIELD)
        self.rerun_button = widgets.Button(description="re-run with these parameters", icon="refresh", layout=_FIT)
        self.comparison = widgets.HTML()
        self.slider.observe(self._on_slider, names="value")
        self.previous_button.on_click(lambda _: self.step(-1))
        self.next_button.on_click(lambda _: self.step(+1))
        self.more_button.on_click(lambda _: self.run_one_more())
        self.rerun_button.on_click(lambda _: self.rerun())
        for view in (self.mask_view, self.unary_view, self.pairwise_view):
            view.status.layout.display = "none"

        def titled(title, view):
            return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), view])

        panels = widgets.Box(
            [
                titled("mask, added (green) / removed (red)", self.mask_view),
                titled("unary: object − background cost (blue prefers object)", self.unary_view),
                titled("pairwise weight (dark = cheap to cut)", self.pairwise_view),
                widgets.VBox([widgets.HTML("<b>energy</b>"), self.energy_view, widgets.HTML("<b>colour models</b>"), self.models_view]),
            ],
            layout=_WRAP,  # two panels a row on a wide screen, fewer when the window is narrow
        )
        controls = widgets.HBox([self.previous_button, self.slider, self.next_button, self.more_button], layout=_WRAP)
        parameters = widgets.HBox([self.gamma, self.beta, self.components, self.pairwise, self.rerun_button],
                                  layout=_WRAP)
        status = widgets.HTML()
        super().__init__(children=[controls, panels, parameters, status, self.comparison], status=status)
        self.energy_view.on_client_ready(lambda *_: self._redraw_energy())  # a new view starts blank
        self._set_trace(trace, show=len(trace))

    # -- public API ---------------------------------------------------------------
    @property
    def trace(self) -> GraphCutTrace:
        return self._trace

    def show(self, iteration: int) -> None:
        """Show recorded iteration ``iteration`` (1-based) in every panel."""
        if not self._trace.iterations:
            self.show_status("this trace has no iterations", error=True)
            return
        if not 1 <= iteration <= len(self._trace):
            raise ValueError(f"iteration must be in 1..{len(self._trace)}, got {iteration}")
        state = self._trace[iteration - 1]
        mask_png, unary_png = self._layers(iteration)
        with self.mask_view.hold():
            self.mask_view.set_encoded_overlay("mask", mask_png)
            self.unary_view.set_encoded_overlay("unary", unary_png)
            self._draw_marker(iteration)
        self.models_view.value = model_swatches_html(
            [("object", state.foreground_model), ("background", state.background_model)])
        self.iteration = iteration
        if self.slider.value != iteration:
            self.slider.value = iteration
        self.show_status(
            f"iteration {iteration}/{len(self._trace)} ({state.move_set} move, {state.movable_pixels} movable pixels): "
            f"energy {state.energy:,.1f} = unary {state.unary_energy:,.1f} + pairwise {state.pairwise_energy:,.1f}; "
            f"{state.changed_pixels} pixels changed"
        )

    def step(self, delta: int) -> None:
        """Move ``delta`` iterations forward (negative: back), clamped to the trace."""
        if self._trace.iterations:
            self.show(int(np.clip(self.iteration + delta, 1, len(self._trace))))

    @property
    def settings(self):
        """The ``GraphCutSettings`` the editors describe: the shown trace's, with gamma,
        beta, components and pairwise kind as edited (what :meth:`rerun` uses)."""
        return self._trace.settings.replace(
            pairwise=self.pairwise.value, gamma=float(self.gamma.value), beta=float(self.beta.value),
            n_components=int(self.components.value),
        )

    def run_one_more(self) -> None:
        """Continue the optimisation from the last recorded state by one iteration."""
        def step():
            solver = self._solver
            if solver is None or len(solver.states) != len(self._trace):
                solver = GraphCutSolver.resume(self._trace)
            solver.step()
            self._solver = solver

        if self.attempt("one more iteration", step):  # on failure the shown trace is kept
            self._set_trace(self._solver.trace(), show=len(self._solver.states), keep_solver=True)

    def rerun(self) -> None:
        """Re-run from the same initialisation with the parameters in the widget;
        the current trace moves to :attr:`history`."""
        old = self._trace
        runs = {}

        def run():
            solver = GraphCutSolver.restart(old, settings=self.settings)
            runs["trace"], runs["solver"] = solver.run(max(1, len(old)), tolerance=0.0), solver

        if self.attempt("re-run (the previous trace is kept if it fails)", run):
            self.history.append(old)
            self._solver = runs["solver"]
            self._set_trace(runs["trace"], show=len(runs["trace"]), keep_solver=True)

    # -- internals ----------------------------------------------------------------
    def _set_trace(self, trace: GraphCutTrace, show: int, keep_solver: bool = False) -> None:
        self._trace = trace
        if not keep_solver:
            self._solver = None
        self._cache = {}
        self._render_static()
        self.slider.max = max(1, len(trace))
        self._render_comparison()
        if trace.iterations:
            self.show(show)
        else:
            self.show_status("this trace has no iterations (every pixel was fixed)", error=True)

    def _layers(self, iteration: int):
        """PNG bytes of an iteration's two layers (mask with changes; unary map),
        at display size, derived from the trace once and cached."""
        if iteration not in self._cache:
            size = self.mask_view.display_size
            labels = change_labels(self._trace, iteration - 1, size)
            unary = self._trace.unary_map(iteration - 1, size=size)
            limit = self._unary_limit
            self._cache[iteration] = (
                encode_indexed_png(labels, CHANGE_PALETTE),
                encode_indexed_png(map_to_index(unary, -limit, limit), UNARY_PALETTE),
            )
        return self._cache[iteration]

    def _render_static(self) -> None:
        """Panels that do not change between iterations: pairwise map, energy plot."""
        trace = self._trace
        self.pairwise_view.set_map_overlay("pairwise", trace.pairwise_map(), "magma", 0.9, vmin=0, vmax=1)
        self._unary_limit = unary_limit(trace)  # one colour scale for every iteration, so steps compare
        self._energy_png, self._marker_x, self._marker_span = None, {}, (0, 0)
        if trace.iterations:
            rgba, self._marker_x, self._marker_span = energy_plot(trace)
            self._energy_png = encode_png(rgba)
        self._redraw_energy()

    def _redraw_energy(self) -> None:
        with self.mask_view.hold():
            self.energy_view[0].clear()
            if self._energy_png is not None:
                draw_png(self.energy_view[0], self._energy_png)
            self._draw_marker(self.iteration)

    def _draw_marker(self, iteration: int) -> None:
        layer = self.energy_view[1]
        layer.clear()
        if iteration in self._marker_x:
            layer.stroke_style = "#dc2626"
            layer.line_width = 2
            top, bottom = self._marker_span
            layer.stroke_line(self._marker_x[iteration], top, self._marker_x[iteration], bottom)

    def _render_comparison(self) -> None:
        runs = self.history + [self._trace]
        if len(runs) < 2:
            self.comparison.value = ""
            return
        rows = "".join(
            f"<tr><td>{'current' if t is self._trace else f'run {i + 1}'}</td><td>{t.settings.pairwise}</td>"
            f"<td>{t.settings.gamma}</td><td>{t.settings.beta}</td><td>{t.settings.n_components}</td>"
            f"<td>{len(t)}</td><td>{t[-1].energy:,.1f}</td><td>{int(t.final_mask.sum())}</td></tr>"
            for i, t in enumerate(runs) if t.iterations
        )
        self.comparison.value = (
            "<table><tr><th>run</th><th>pairwise</th><th>gamma</th><th>beta</th><th>components</th>"
            f"<th>iterations</th><th>final energy</th><th>object pixels</th></tr>{rows}</table>"
        )

    def _on_slider(self, change) -> None:
        if change["new"] != self.iteration:
            self.show(change["new"])
