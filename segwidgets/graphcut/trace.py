"""The record of an iterated graph cut: one state per iteration.

The iteration slider replays these states; it never re-runs the solver to
show a past step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.crops import CropWindow
from .gmm import GaussianMixture, color_features, unique_colors
from .settings import GraphCutSettings
from .unary import color_unary_difference, prior_costs


@dataclass(frozen=True)
class IterationState:
    """One iteration of the joint optimisation, after its cut.

    Attributes
    ----------
    index : int
        1-based iteration number.
    mask : (H, W) bool
        Labelling after this iteration's cut (True = object).
    energy, unary_energy, pairwise_energy : float
        ``energy = unary_energy + pairwise_energy`` in nats, for this mask under
        the colour models the cut used. ``pairwise_energy`` includes gamma.
    changed_pixels : int
        Pixels whose label differs from the previous iteration's (or the initial) mask.
    foreground_model, background_model : GaussianMixture
        The colour models fitted at the start of this iteration and used by its cut.
    seconds : float
        Wall time of this iteration (model fit, unary, cut), in seconds.
    move_set : str
        Which labellings this cut chose from: ``"all"`` (every free pixel on its
        own), ``"coarse"`` (3x3 blocks, approximate pairwise; first iteration),
        ``"hybrid"`` (uncertain pixels on their own, the rest by superpixel part),
        ``"superpixels"`` (superpixel parts) or ``"band"`` (pixels near the
        boundary). See ``graphcut.solver``.
    movable_pixels : int
        Free pixels this cut was allowed to relabel (the move set's size).
    """

    index: int
    mask: np.ndarray
    energy: float
    unary_energy: float
    pairwise_energy: float
    changed_pixels: int
    foreground_model: GaussianMixture
    background_model: GaussianMixture
    seconds: float
    move_set: str = "all"
    movable_pixels: int = 0

    # Maps derived on demand from the recorded models (no iteration is re-run).
    @property
    def unary(self) -> np.ndarray:
        """(H, W) float32: object minus background unary cost under this iteration's models, nats."""
        return self._trace.unary_map(self.index - 1)

    @property
    def pairwise_weights(self) -> np.ndarray:
        """(4, H, W) float32 edge weights (without gamma); the same for every iteration."""
        return self._trace.pairwise_weights

    @property
    def pairwise_map(self) -> np.ndarray:
        """(H, W) float32 mean edge weight per pixel (low = cheap to cut); see ``GraphCutTrace.pairwise_map``."""
        return self._trace.pairwise_map()

    @property
    def added(self) -> np.ndarray:
        """(H, W) bool: pixels this iteration moved into the object."""
        return self._trace.changed_pixels(self.index - 1)[0]

    @property
    def removed(self) -> np.ndarray:
        """(H, W) bool: pixels this iteration moved out of the object."""
        return self._trace.changed_pixels(self.index - 1)[1]

    def to_row(self) -> dict:
        """Scalars of this state as a flat dict (for tables and plots)."""
        return {
            "iteration": self.index,
            "energy": self.energy,
            "unary_energy": self.unary_energy,
            "pairwise_energy": self.pairwise_energy,
            "changed_pixels": self.changed_pixels,
            "foreground_pixels": int(self.mask.sum()),
            "seconds": self.seconds,
            "move_set": self.move_set,
            "movable_pixels": self.movable_pixels,
        }


@dataclass(frozen=True)
class GraphCutTrace:
    """Everything an iterated graph cut did, iteration by iteration.

    Index it like a list (``trace[0]`` is the first iteration) or iterate over it.

    Attributes
    ----------
    initial_mask : (H, W) bool
        The labelling before the first iteration.
    fixed_foreground, fixed_background : (H, W) bool
        Hard constraints no iteration could flip.
    iterations : tuple of IterationState
    converged : bool
        True when the changed fraction fell below the tolerance before the
        iteration limit.
    settings : GraphCutSettings
        The parameters of the run (with the pairwise kind resolved).
    pairwise_weights : (4, H, W) float32
        Edge weights per neighbour direction, without gamma (see ``graphcut.pairwise``);
        zero outside the free pixels' bounding box (edges there join two fixed
        pixels and only add a constant to the energy).
    superpixels : (H, W) int32 or None
        Superpixel index per pixel of the free region (-1 elsewhere) when a
        superpixel move ran.
    region : (row0, row1, col0, col1)
        The optimised window: bounding box of the free pixels plus one pixel.
    image : (H, W, 3) uint8
        The image the optimisation ran on (a reference, not a copy).
    prior : (H, W) float32 or None
        The prior probability map, if one was blended in.
    refinement : (H, W) float32 or None
        The refinement map of the boundary-aware term, if one was given.
    working_trace : GraphCutTrace or None
        On an image over ``settings.max_pixels`` pixels: the iterations at the working
        resolution (``working_scale`` x ``working_scale`` pixel blocks); this trace then
        holds the full-resolution cut in a band along their edge. None otherwise.
    working_scale : int
        Block side of ``working_trace`` (1 when there is none).
    """

    initial_mask: np.ndarray
    fixed_foreground: np.ndarray
    fixed_background: np.ndarray
    iterations: tuple[IterationState, ...]
    converged: bool
    settings: GraphCutSettings = field(default_factory=GraphCutSettings)
    pairwise_weights: np.ndarray | None = field(default=None, repr=False)
    superpixels: np.ndarray | None = field(default=None, repr=False)
    region: tuple[int, int, int, int] | None = None
    image: np.ndarray | None = field(default=None, repr=False)
    prior: np.ndarray | None = field(default=None, repr=False)
    refinement: np.ndarray | None = field(default=None, repr=False)
    working_trace: "GraphCutTrace | None" = field(default=None, repr=False)
    working_scale: int = 1

    def __post_init__(self):
        # Let each state derive its maps (state.unary, ...) from this trace's image and settings.
        for state in self.iterations:
            object.__setattr__(state, "_trace", self)

    def __len__(self) -> int:
        return len(self.iterations)

    def __getitem__(self, i) -> IterationState:
        return self.iterations[i]

    def __iter__(self):
        return iter(self.iterations)

    @property
    def final_mask(self) -> np.ndarray:
        """(H, W) bool: the last iteration's mask (the initial one if none ran)."""
        return self.iterations[-1].mask if self.iterations else self.initial_mask

    @property
    def energies(self) -> np.ndarray:
        """(n_iterations,) float64 total energy per iteration."""
        return np.array([s.energy for s in self.iterations], np.float64)

    def unary_map(self, i: int = -1, size: tuple[int, int] | None = None) -> np.ndarray:
        """Object cost minus background cost per pixel under iteration ``i``'s
        colour models (and the prior, if any), float32 in nats.

        Negative where the unary term prefers the object. Derived from the
        recorded models, so no iteration is re-run.

        Parameters
        ----------
        i : int
            Iteration index (0-based, negative from the end).
        size : (h, w), optional
            Evaluate only at the pixel under the centre of each cell of an h x w grid
            over the image (a display-size map: exact values, no blending); default
            every pixel, (H, W).
        """
        state = self.iterations[i]
        features, index, display = self._color_table(size)
        difference = color_unary_difference(
            state.background_model, state.foreground_model, features, self.settings.color_model
        )[index]
        weight = self.settings.prior_weight
        if self.prior is not None and weight > 0:
            prior = self.prior if display is None else display.to_local_map(self.prior, order=0)
            prior_bg, prior_fg = prior_costs(prior, weight)
            difference = (1 - weight) * difference + (prior_fg - prior_bg)
        return difference.astype(np.float32)

    def _color_table(self, size):
        """Distinct colours (as cost features) of the image, or of its nearest-pixel display copy,
        each pixel's colour index and the display window (None at full size): computed once per
        size, so later maps cost one small product."""
        tables = self.__dict__.setdefault("_color_tables", {})
        key = None if size is None else (int(size[0]), int(size[1]))
        if key not in tables:
            display = None if key is None else CropWindow.whole(self.image.shape[:2], key)
            pixels = self.image if display is None else display.to_local_map(self.image, order=0)
            colors, index = unique_colors(pixels)
            tables[key] = (color_features(colors), index, display)
        return tables[key]

    def pairwise_map(self) -> np.ndarray:
        """Mean weight of each pixel's edges to its 8 neighbours, (H, W) float32 in [0, 1]
        (diagonals counted at full length). Low values are cheap to cut: object edges.
        NaN outside the optimised region, where no edge can be cut."""
        cached = getattr(self, "_pairwise_map", None)
        if cached is not None:
            return cached
        from .pairwise import NEIGHBOUR_OFFSETS, pair_slices

        weights = self.pairwise_weights
        _, h, w = weights.shape
        total = np.zeros((h, w), np.float32)
        count = np.zeros((h, w), np.float32)
        for d, (dy, dx) in enumerate(NEIGHBOUR_OFFSETS):
            first, second = pair_slices(dy, dx, h, w)
            plane = weights[d][first] * (np.sqrt(2.0) if dy and dx else 1.0)
            total[first] += plane
            total[second] += plane
            count[first] += 1
            count[second] += 1
        out = total / np.maximum(count, 1)
        if self.region is not None:
            r0, r1, c0, c1 = self.region
            inside = np.zeros((h, w), bool)
            inside[r0:r1, c0:c1] = True
            out[~inside] = np.nan
        out.flags.writeable = False  # cached and shared: read-only
        object.__setattr__(self, "_pairwise_map", out)
        return out

    def changed_pixels(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Pixels iteration ``i`` added to and removed from the object: two (H, W) bool."""
        before = self.initial_mask if i == 0 or i == -len(self.iterations) else self.iterations[i - 1].mask
        after = self.iterations[i].mask
        return after & ~before, before & ~after

    def to_table(self):
        """Per-iteration scalars: a pandas DataFrame if pandas is installed, else a list of dicts."""
        rows = [s.to_row() for s in self.iterations]
        try:
            import pandas as pd
        except ImportError:
            return rows
        return pd.DataFrame(rows)
