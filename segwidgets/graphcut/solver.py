"""Iterated graph cut with GMM colour models (GrabCut-style joint optimisation).

Energy, for a labelling L (True = object) and colour models theta::

    E(L, theta) = sum_i U_i(L_i) + gamma * sum_(i,j) w(i, j) [L_i != L_j]

over 8-connected neighbours, with
``U_i(l) = (1 - prior_weight) * C_l(z_i) + prior_weight * (-log p_i(l))``,
``C_l`` the colour cost of label l's Gaussian mixture (``-log sum_k w_k N_k(z)``,
or ``min_k -log(w_k N_k(z))`` with ``color_model="component"``), and ``p_i`` an
optional per-pixel prior probability of the object (e.g. a network's).

Each iteration (1) refits both mixtures to the current labelling (one EM step,
or a maximum-likelihood fit of hard component assignments), then (2) cuts: it
finds the labelling of least energy within a *move set* that contains the
current labelling, exactly, by max-flow. Each step lowers E or keeps it, so the
recorded energies never increase.

Move sets (``multiscale=True``, the default) are what make the solver fast.
A cut at full resolution over every free pixel is the slow part of GrabCut
(max-flow on a few hundred thousand nodes), so each iteration instead cuts
within a smaller set of labellings:

1. ``"coarse"`` (first iteration): a cut on a grid of 3x3-pixel blocks whose
   edges follow the contrast of the blocks' mean colours -- the usual
   coarse-image approximation. Its labelling is then scored with the true energy.
2. ``"hybrid"`` (the next iterations, 60% of the budget): uncertain pixels --
   those whose colour prefers the other label, or within two pixels of the
   boundary -- move one by one; every other free pixel moves with its
   superpixel part (a watershed region of the colour gradient, about 6x6
   pixels and bordered by colour edges, split by the current labelling).
3. ``"band"`` (the rest): only free pixels within four pixels of the boundary move.

Moves 2 and 3 are exact: the full-resolution energy restricted to such moves is
again a graph (unaries are sums, edges sum the pixel edges between groups), so
max-flow finds its exact minimum, and the set always contains the current
labelling. Hence the recorded energy never rises from the first iteration on.
``"superpixels"`` (parts only) and ``"all"`` (every pixel) are also available
to :meth:`GraphCutSolver.step`. With ``multiscale=False`` every iteration is
the plain full-resolution cut. Its graph is the same each time but for the
terminal capacities, so the max-flow is warm-started from the previous
iteration's flow (:class:`WarmMinCut`): the same cut, 3-10x faster after the first.
"""
from __future__ import annotations

import dataclasses
import time
from typing import NamedTuple

import maxflow
import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed

from ..core.image import as_map, as_rgb_image
from .gmm import (
    color_features, feature_sums, kmeans_centres, label_costs, mixture_from_sums,
    nearest_centre, responsibilities, unique_colors,
)
from .init import Initialisation, make_initialisation
from .pairwise import NEIGHBOUR_OFFSETS, contrast_scale, cut_cost, pair_slices, pairwise_weights
from .resolution import block_mean, upscale_mask, working_scale
from .settings import GraphCutSettings, resolve_settings
from .trace import GraphCutTrace, IterationState
from .unary import prior_costs


class CutGraph(NamedTuple):
    """An s-t graph: ``n_nodes`` nodes, undirected edges ``first[e]``-``second[e]`` of
    ``capacities[e]`` (both directions) and terminal capacities per node: ``source``
    (paid when the node ends on the sink = background side) and ``sink`` (paid on the
    source = object side)."""

    n_nodes: int
    first: np.ndarray
    second: np.ndarray
    capacities: np.ndarray
    source: np.ndarray
    sink: np.ndarray


_KMEANS_SAMPLES = 8000  # pixels drawn per model to seed the colour models


#: Move sets (see the module notes).
MOVE_SETS = ("all", "coarse", "superpixels", "hybrid", "band")
LATER_MOVE = "hybrid"
FIRST_MOVE = "coarse"
COARSE_FRACTION = 0.6  # share of a run's iterations before the narrow-band moves
COARSE_BLOCK = 3  # block side of the first cut's coarse grid, in pixels
BAND_WIDTH = 4  # pixels either side of the boundary that a band move may relabel
SUPERPIXEL_AREA = 36  # mean superpixel size in pixels


def graph_cut(
    image,
    *,
    box=None,
    mask=None,
    trimap=None,
    fg_seeds=None,
    bg_seeds=None,
    prior=None,
    refinement=None,
    settings: GraphCutSettings | None = None,
    callback=None,
    superpixels=None,
    **overrides,
) -> GraphCutTrace:
    """Segment an object by iterated graph cuts and record every iteration.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB array, PIL image or path (see ``core.image.as_rgb_image``).
    box : (x0, y0, x1, y1), optional
        Object bounding box in pixels (half-open). Outside is fixed background.
    mask : (H, W) bool, optional
        Initial labelling; no pixel fixed.
    trimap : (H, W) uint8, optional
        0 fixed background, 255 fixed object, 128 unknown.
    fg_seeds, bg_seeds : (H, W) bool, optional
        Extra pixels fixed to object / background (clicks, scribbles).
    prior : (H, W) float32 in [0, 1], optional
        Per-pixel object probability blended into the unary term (``settings.prior_weight``).
    refinement : (H, W) float32 in [0, 1], optional
        Refinement map R (high on object edges) for the boundary-aware term.
    settings : GraphCutSettings, optional
        Every parameter of the optimisation (default ``GraphCutSettings()``).
    callback : callable, optional
        ``callback(state: IterationState)`` after every iteration; returning
        ``False`` stops the optimisation.
    superpixels : (H, W) int array, optional
        The partition the superpixel moves use (any non-negative ids, e.g. a crop of
        :func:`edge_superpixels` of a larger image); computed from ``image`` when omitted.
        Ignored when the image is cut at a working resolution (``settings.max_pixels``).
    **overrides
        Fields of :class:`GraphCutSettings` to change, e.g. ``gamma=10,
        max_iterations=5`` (shorthand for ``settings=settings.replace(...)``).

    Returns
    -------
    GraphCutTrace
        ``trace.final_mask`` is the (H, W) bool result; ``trace.settings`` the
        settings it ran with.

    Raises
    ------
    ValueError
        Bad image/box/mask/trimap/maps, an initial labelling with no object or
        no background pixels to learn colours from, or invalid settings.
    TypeError
        An unknown setting name.
    """
    settings = resolve_settings(settings, overrides)
    image = as_rgb_image(image)
    h, w = image.shape[:2]
    init = make_initialisation((h, w), box=box, mask=mask, trimap=trimap, fg_seeds=fg_seeds, bg_seeds=bg_seeds)
    if settings.max_pixels is not None and h * w > settings.max_pixels:
        return _graph_cut_large(image, init, prior, refinement, settings, callback)
    solver = GraphCutSolver(image, prior=prior, refinement=refinement, settings=settings, initialisation=init,
                            superpixels=superpixels)
    return solver.run(callback=callback)


def _graph_cut_large(image, init: Initialisation, prior, refinement, settings: GraphCutSettings, callback):
    """The iterations on ``scale`` x ``scale`` block means (under ``settings.max_pixels`` pixels),
    then one exact full-resolution cut in which only the pixels of the blocks next to the working
    edge are free. Returns the full-resolution trace with the other as ``working_trace``."""
    h, w = image.shape[:2]
    scale = working_scale((0, 0, w, h), settings.max_pixels)
    prior = None if prior is None else as_map(prior, (h, w), "prior")
    refinement = None if refinement is None else as_map(refinement, (h, w), "refinement")
    fixed_fg = block_mean(init.fixed_foreground, scale) > 0.5
    fixed_bg = (block_mean(init.fixed_background, scale) > 0.5) & ~fixed_fg
    small_init = Initialisation((block_mean(init.labels, scale) > 0.5) | fixed_fg, fixed_fg, fixed_bg,
                                init.labels_from_color)
    working = GraphCutSolver(
        block_mean(image, scale), prior=None if prior is None else block_mean(prior, scale),
        refinement=None if refinement is None else block_mean(refinement, scale),
        settings=settings.replace(max_pixels=None), initialisation=small_init,
    ).run(callback=callback)
    labels = upscale_mask(working.final_mask, scale, (h, w))
    # The band: block-level pixels next to the working edge, brought up to full resolution.
    edge_blocks = _near_boundary(working.final_mask, 1)
    band = upscale_mask(edge_blocks, scale, (h, w), threshold=0.0) & init.free
    labels = (labels | init.fixed_foreground) & ~init.fixed_background
    fixed_fg, fixed_bg = init.fixed_foreground | (labels & ~band), init.fixed_background | (~labels & ~band)
    if not (band.any() and labels.any() and not labels.all() and settings.max_iterations):
        return GraphCutTrace(  # nothing left to decide at full resolution
            initial_mask=labels, fixed_foreground=fixed_fg, fixed_background=fixed_bg, iterations=(), converged=True,
            settings=settings, image=image, prior=prior, refinement=refinement, working_trace=working,
            working_scale=scale,
        )
    band_cut = settings.replace(multiscale=False, max_pixels=None)  # one exact cut
    trace = GraphCutSolver(image, prior=prior, refinement=refinement, settings=band_cut,
                           initialisation=Initialisation(labels, fixed_fg, fixed_bg)).run(max_iterations=1)
    # The trace records the settings the caller asked for.
    return dataclasses.replace(trace, settings=trace.settings.replace(multiscale=settings.multiscale,
                                                                      max_pixels=settings.max_pixels),
                               working_trace=working, working_scale=scale)


class GraphCutSolver:
    """The iterated graph cut as an object you can run, step and continue.

    ``GraphCutSolver(image, settings=..., box=...).run()`` is what :func:`graph_cut`
    does (same arguments, see there). Keep the solver to add iterations later
    (:meth:`run` again, or :meth:`step`), or rebuild one from a finished trace
    with :meth:`resume`; both continue exactly where the recorded run stopped.
    :meth:`restart` re-runs a trace's problem with other settings.
    """

    def __init__(
        self, image, *, box=None, mask=None, trimap=None, fg_seeds=None, bg_seeds=None, prior=None,
        refinement=None, settings: GraphCutSettings | None = None, initialisation: Initialisation | None = None,
        superpixels=None,
    ):
        image = as_rgb_image(image)
        h, w = image.shape[:2]
        settings = resolve_settings(settings, {})
        init = initialisation or make_initialisation(
            (h, w), box=box, mask=mask, trimap=trimap, fg_seeds=fg_seeds, bg_seeds=bg_seeds
        )
        self.image = image
        self.prior = None if prior is None else as_map(prior, (h, w), "prior")
        self.refinement = None if refinement is None else as_map(refinement, (h, w), "refinement")
        if settings.pairwise is None:
            settings = settings.replace(pairwise="boundary" if self.refinement is not None else "contrast")
        if settings.pairwise != "contrast" and self.refinement is None:
            raise ValueError(f"pairwise={settings.pairwise!r} needs a refinement map (HxW float in [0, 1])")
        self.settings = settings
        self.initialisation = init
        self._problem = _Problem(image, init, self.prior, self.refinement, settings, superpixels)
        self.labels = self._problem.initial_labels
        self.states: list[IterationState] = []
        self.converged = False
        self._early_phase = None  # coarse/hybrid moves still to come; decided by the first run

    @classmethod
    def restart(cls, trace: GraphCutTrace, settings: GraphCutSettings | None = None, **changes) -> "GraphCutSolver":
        """A new solver on ``trace``'s image, prior, refinement and initialisation,
        with ``settings`` (default: the trace's) and ``changes`` to them (e.g. ``gamma=10``)."""
        if trace.image is None:
            raise ValueError("this trace does not hold its image; it cannot be restarted or resumed")
        init = Initialisation(trace.initial_mask, trace.fixed_foreground, trace.fixed_background)
        return cls(
            trace.image, prior=trace.prior, refinement=trace.refinement,
            settings=resolve_settings(settings or trace.settings, changes), initialisation=init,
        )

    @classmethod
    def resume(cls, trace: GraphCutTrace) -> "GraphCutSolver":
        """A solver in the state ``trace`` ended in: the next iteration is the one
        the original run would have made (at full resolution)."""
        solver = cls.restart(trace)
        solver.states = list(trace.iterations)
        solver._early_phase = False
        if trace.iterations:
            last = trace.iterations[-1]
            solver.labels = last.mask
            solver._problem.set_state(last.mask, [last.background_model, last.foreground_model])
        return solver

    def step(self, move: str | None = None) -> IterationState:
        """Run one iteration and record it.

        ``move``: one of :data:`MOVE_SETS` (see the module notes); by default
        the next one of the coarse-to-fine schedule. Every move but ``"coarse"``
        is exact and cannot raise the energy.
        """
        if move is None:
            move = self._next_move()
        if move not in MOVE_SETS:
            raise ValueError(f"move must be one of {MOVE_SETS}, got {move!r}")
        start = time.perf_counter()
        problem = self._problem
        new_labels, unary_energy, movable = problem.iterate(self.labels, move)
        pairwise_energy = problem.pairwise_energy(new_labels)
        state = IterationState(
            index=len(self.states) + 1, mask=new_labels, energy=unary_energy + pairwise_energy,
            unary_energy=unary_energy, pairwise_energy=pairwise_energy,
            changed_pixels=int((new_labels != self.labels).sum()), foreground_model=problem.models[1],
            background_model=problem.models[0], seconds=time.perf_counter() - start, move_set=move,
            movable_pixels=movable,
        )
        self.labels = new_labels
        self.states.append(state)
        return state

    def _next_move(self) -> str:
        if not self.states:
            return FIRST_MOVE if self._early_phase else "all"
        if self._early_phase:
            return LATER_MOVE
        return "band" if self.settings.multiscale else "all"

    def run(self, max_iterations: int | None = None, tolerance: float | None = None, callback=None) -> GraphCutTrace:
        """Run up to ``max_iterations`` more iterations (default ``settings.max_iterations``);
        returns the whole trace so far.

        A multiscale run makes a coarse first cut, hybrid moves for 60% of the
        budget (or until they settle), then band moves. Stops early once a
        full-resolution iteration changes fewer than ``tolerance`` (default
        ``settings.tolerance``) times the free pixels (``0`` runs them all), or
        when ``callback(state)`` returns False.
        """
        max_iterations = self.settings.max_iterations if max_iterations is None else max_iterations
        tolerance = self.settings.tolerance if tolerance is None else tolerance
        if max_iterations < 0:
            raise ValueError(f"max_iterations must be >= 0, got {max_iterations}")
        if self._early_phase is None:
            self._early_phase = self.settings.multiscale and max_iterations >= 2
        if not self._problem.free.any():
            max_iterations = 0  # every pixel fixed: the constraints are the answer
        self.converged = False
        for n in range(1, max_iterations + 1):
            state = self.step()
            if callback is not None and callback(state) is False:
                break
            settled = state.changed_pixels < tolerance * self._problem.n_free or (tolerance > 0 and state.changed_pixels == 0)
            if settled and not self._early_phase:
                self.converged = True
                break
            if self._early_phase and (settled or n >= COARSE_FRACTION * max_iterations):
                self._early_phase = False
        return self.trace()

    @property
    def last_graph(self) -> CutGraph | None:
        """The s-t graph of the last full-resolution (``"all"``) cut: one node per free
        pixel of the region in raster order (None before such a cut). For inspection and
        for comparing max-flow solvers on the same graphs (``benchmarks/bench_graphcut.py``)."""
        return self._problem.last_graph

    def trace(self) -> GraphCutTrace:
        """The record so far (a new frozen object; the solver keeps going)."""
        problem = self._problem
        return GraphCutTrace(
            initial_mask=problem.initial_labels, fixed_foreground=self.initialisation.fixed_foreground,
            fixed_background=self.initialisation.fixed_background, iterations=tuple(self.states),
            converged=self.converged, settings=self.settings, pairwise_weights=problem.weights,
            superpixels=problem.superpixels, region=problem.region, image=self.image, prior=self.prior,
            refinement=self.refinement,
        )


class _Problem:
    """State shared by the iterations.

    Colour costs are computed per distinct colour; per-pixel work is confined to
    the region (bounding box of the free pixels plus a one-pixel ring). Pixels
    outside the region are fixed, so they enter the models and the energy only
    through per-colour pixel counts computed once.
    """

    def __init__(self, image, init, prior, refinement, settings, superpixels=None):
        h, w = image.shape[:2]
        self.shape = (h, w)
        if superpixels is not None:
            superpixels = np.asarray(superpixels)
            if superpixels.shape != (h, w) or superpixels.dtype.kind not in "iu" or (superpixels < 0).any():
                raise ValueError(f"superpixels must be an ({h}, {w}) array of non-negative integer ids, got "
                                 f"{superpixels.dtype} {superpixels.shape}")
        self._given_superpixels = superpixels
        self.k = settings.n_components
        self.gamma = settings.gamma
        self.min_variance = settings.min_variance
        self.color_model = settings.color_model
        self.free = init.free
        self.n_free = int(self.free.sum())
        self._image = image
        colors, index = unique_colors(image)
        self.n_colors = len(colors)
        self._colors = colors
        self.features = color_features(colors)  # (10, U) float32 for costs
        self.features64 = color_features(colors, np.float64)  # for exact sufficient statistics
        # Only edges touching a free pixel can ever be cut by a move; the rest of
        # the image keeps zero weight (those edges add a constant to E).
        self.region = _free_region(self.free) if self.n_free else (0, h, 0, w)
        region = (slice(self.region[0], self.region[1]), slice(self.region[2], self.region[3]))
        self.weights = np.zeros((4, h, w), np.float32)
        # The contrast scale comes from the whole image (GrabCut's definition), not the crop.
        beta_c = contrast_scale(image) if settings.pairwise != "boundary" else None
        self.weights[(slice(None),) + region] = pairwise_weights(
            image[region], settings.pairwise, None if refinement is None else refinement[region], settings.beta,
            beta_c,
        )
        self.index = index[region]
        self.region_free = self.free[region]
        inside = np.zeros((h, w), bool)
        inside[region] = True
        outside_labels = init.labels & ~inside
        outside = ~inside
        # Pixel counts per colour and label outside the region (fixed for good).
        self.out_counts = [
            np.bincount(index[outside & ~outside_labels], minlength=self.n_colors).astype(np.float64),
            np.bincount(index[outside & outside_labels], minlength=self.n_colors).astype(np.float64),
        ]
        self.region_counts = np.bincount(self.index.reshape(-1), minlength=self.n_colors).astype(np.float64)
        self.prior_weight = settings.prior_weight if prior is not None else 0.0  # no prior map: colour alone
        self.prior_region = None
        self.prior_outside_energy = 0.0
        if prior is not None:
            costs = prior_costs(prior, self.prior_weight)  # (background, object)
            self.prior_region = (costs[0][region], costs[1][region])
            self.prior_outside_energy = float(
                costs[1][outside & outside_labels].sum(dtype=np.float64) + costs[0][outside & ~outside_labels].sum(dtype=np.float64)
            )
        rng = np.random.default_rng(settings.seed)
        labels = init.labels
        if init.labels_from_color:
            self.models = self._initial_models(image, index, labels, ~self.free, rng)
            u_bg, u_fg = self._region_unary(self._color_costs()[1:])
            labels = labels.copy()
            labels[region] = np.where(self.region_free, u_fg < u_bg, labels[region])
        else:
            self.models = self._initial_models(image, index, labels, np.ones_like(labels), rng)
        self.initial_labels = labels
        self._assignments = None
        self._superpixels = None
        self._warm_cut = None  # the "all" move's (GroupStructure, WarmMinCut), built on first use
        self.last_graph = None

    def _initial_models(self, image, index, labels, use, rng):
        """k-means colour models from the pixels of each label (sampled), every colour assigned."""
        models = []
        for value, name in ((False, "background"), (True, "object")):
            pick = use & (labels == value)
            n = int(pick.sum())
            if not n:
                raise ValueError(
                    f"the initial labelling has no {name} pixels to learn its colours from "
                    "(e.g. a box covering the whole image, or an empty mask)"
                )
            pixels = np.flatnonzero(pick)
            if n > _KMEANS_SAMPLES:
                pixels = rng.choice(pixels, _KMEANS_SAMPLES, replace=False)
            centres = kmeans_centres(image.reshape(-1, 3)[pixels], self.k, rng)
            counts = np.bincount(index[pick], minlength=self.n_colors).astype(np.float64)
            assignments = nearest_centre(self._colors, centres)
            models.append(mixture_from_sums(feature_sums(self.features64, assignments, self.k, counts), None, self.min_variance))
        return models

    def pairwise_energy(self, labels):
        """gamma times the weight of the cut edges (all inside the region)."""
        r0, r1, c0, c1 = self.region
        return self.gamma * cut_cost(labels[r0:r1, c0:c1], self.weights[:, r0:r1, c0:c1])

    def _color_costs(self):
        """Component costs (2K, U) (background rows first) and each model's colour cost, (U,) each."""
        coefficients = np.concatenate([m.cost_coefficients() for m in self.models], axis=1)  # (10, 2K)
        costs = coefficients.T @ self.features
        k = self.k
        return costs, label_costs(costs[:k], self.color_model), label_costs(costs[k:], self.color_model)

    def _region_unary(self, best):
        """Unary costs (background, object) of the region's pixels, two (h, w) float32."""
        out = []
        for label in (0, 1):
            u = best[label][self.index]
            if self.prior_region is not None:
                u = (1 - self.prior_weight) * u + self.prior_region[label]
            out.append(u)
        return out

    def set_state(self, labels: np.ndarray, models) -> None:
        """Adopt ``labels`` and ``models`` [background, object] as if an iteration had just ended."""
        self.models = list(models)
        costs = self._color_costs()[0]
        self._remember(labels, costs)

    def _remember(self, labels, costs):
        """Pixel counts per colour and label, and each colour's best components, for the next refit."""
        r0, r1, c0, c1 = self.region
        fg_counts = np.bincount(self.index[labels[r0:r1, c0:c1]], minlength=self.n_colors)
        self._counts = (self.out_counts[0] + self.region_counts - fg_counts, self.out_counts[1] + fg_counts)
        k = self.k
        if self.color_model == "component":  # hard assignment: each colour to its best component
            self._assignments = (costs[:k].argmin(0), costs[k:].argmin(0))
        else:  # EM: each colour shared among components by posterior probability
            self._assignments = (responsibilities(costs[:k]), responsibilities(costs[k:]))

    def _refit(self, label: int):
        """Maximum-likelihood (hard) or EM (soft) update of one colour model from the remembered state."""
        counts, assignments = self._counts[label], self._assignments[label]
        if self.color_model == "component":
            sums = feature_sums(self.features64, assignments, self.k, counts)
        else:
            sums = (assignments * counts) @ self.features64.T  # (K, 10) weighted sufficient statistics
        return mixture_from_sums(sums, self.models[label], self.min_variance)

    def iterate(self, labels: np.ndarray, move: str):
        """Refit the models (except on the first call) and cut within the move set.

        Returns the new (H, W) labels, their unary energy and the number of movable pixels.
        """
        if self._assignments is not None:
            self.models = [self._refit(label) for label in (0, 1)]
        costs, best_bg, best_fg = self._color_costs()
        u_bg, u_fg = self._region_unary((best_bg, best_fg))
        r0, r1, c0, c1 = self.region
        region_labels, movable = self._cut(labels[r0:r1, c0:c1], u_bg, u_fg, move)
        new = labels.copy()
        new[r0:r1, c0:c1] = region_labels
        self._remember(new, costs)
        unary_energy = float((1 - self.prior_weight) * (self._counts[0] @ best_bg + self._counts[1] @ best_fg))
        if self.prior_region is not None:
            unary_energy += self.prior_outside_energy + float(
                np.where(region_labels, self.prior_region[1], self.prior_region[0]).sum(dtype=np.float64)
            )
        return new, unary_energy, movable

    @property
    def superpixels(self):
        """(H, W) int32 superpixel index of every pixel of the free region, -1 elsewhere
        (None until a superpixel move has run)."""
        if self._superpixels is None:
            return None
        r0, r1, c0, c1 = self.region
        full = np.full(self.shape, -1, np.int32)
        full[r0:r1, c0:c1] = self._superpixels
        return full

    def _coarse_blocks(self, movable):
        """Blocks of COARSE_BLOCK x COARSE_BLOCK pixels and the edges of the coarse
        image between them: contrast of the blocks' mean colours (GrabCut's formula
        on the downsampled image), scaled by the block side so a coarse boundary
        costs about what the fine boundary it stands for does."""
        r0, r1, c0, c1 = self.region
        s = COARSE_BLOCK
        h, w = r1 - r0, c1 - c0
        hb, wb = -(-h // s), -(-w // s)
        blocks = (np.arange(h)[:, None] // s) * wb + np.arange(w)[None, :] // s
        ids = blocks[movable]
        counts = np.bincount(ids, minlength=hb * wb)
        crop = self._image[r0:r1, c0:c1][movable].astype(np.float64)
        means = np.stack([np.bincount(ids, weights=crop[:, c], minlength=hb * wb) for c in range(3)], 1)
        means = (means / np.maximum(counts, 1)[:, None]).reshape(hb, wb, 3)
        present = (counts > 0).reshape(hb, wb)
        firsts, seconds, sq = [], [], []
        index = np.arange(hb * wb).reshape(hb, wb)
        for dy, dx in NEIGHBOUR_OFFSETS:
            first, second = pair_slices(dy, dx, hb, wb)
            both = present[first] & present[second]
            firsts.append(index[first][both])
            seconds.append(index[second][both])
            sq.append((((means[first] - means[second]) ** 2).sum(-1))[both])
        lengths = [np.full(len(f), 1.0 if dy == 0 or dx == 0 else 1 / np.sqrt(2)) for f, (dy, dx) in zip(firsts, NEIGHBOUR_OFFSETS)]
        sq_all, length = np.concatenate(sq), np.concatenate(lengths)
        beta_c = 1.0 / (2.0 * sq_all.mean()) if len(sq_all) and sq_all.mean() > 0 else 0.0
        caps = self.gamma * s * length * np.exp(-beta_c * sq_all)
        return blocks, hb * wb, (np.concatenate(firsts), np.concatenate(seconds), caps)

    def _region_superpixels(self):
        if self._superpixels is None:
            r0, r1, c0, c1 = self.region
            if self._given_superpixels is not None:
                self._superpixels = _dense_ids(self._given_superpixels[r0:r1, c0:c1])
            else:
                self._superpixels = edge_superpixels(self._image[r0:r1, c0:c1])
        return self._superpixels

    def _cut(self, current, u_bg, u_fg, move: str):
        """Labels of the region after the cut within the move set, and the movable count."""
        movable = self.region_free
        if move == "band":
            movable = movable & _near_boundary(current, BAND_WIDTH)
        new = current.copy()
        n_movable = int(movable.sum())
        if not n_movable:
            return new, 0
        if move == "all":  # the same graph every iteration: warm-start the max-flow
            if self._warm_cut is None:
                groups = _pixel_groups(movable, n_movable)
                r0, r1, c0, c1 = self.region
                structure = GroupStructure(current, movable, groups, n_movable, self.gamma * self.weights[:, r0:r1, c0:c1],
                                           aggregate=False)
                self._warm_cut = (structure, WarmMinCut())
            structure, cut = self._warm_cut
            self.last_graph = structure.graph(u_bg, u_fg)
            new[movable] = cut.solve(self.last_graph)
            return new, n_movable
        group_edges = None
        if move == "coarse":
            groups, n_groups, group_edges = self._coarse_blocks(movable)
        elif move == "hybrid":
            # Uncertain pixels (colour prefers the other label, or near the boundary)
            # move one by one; the rest move as superpixel parts.
            disagree = np.where(current, u_fg > u_bg, u_bg > u_fg)
            uncertain = disagree | _near_boundary(current, 2)
            single = movable & uncertain
            parts = 2 * self._region_superpixels() + current
            n_parts = int(parts.max()) + 1
            groups = parts.astype(np.int64)
            groups[single] = n_parts + np.arange(int(single.sum()))
            n_groups = n_parts + int(single.sum())
        elif move == "superpixels":
            # Split each superpixel by the current labelling: every part moves as a
            # unit, and keeping the current labelling stays possible (so E cannot rise).
            groups = 2 * self._region_superpixels() + current
            n_groups = int(groups.max()) + 1
        else:  # every movable pixel is its own node
            groups, n_groups = _pixel_groups(movable, n_movable), n_movable
        r0, r1, c0, c1 = self.region
        group_labels = _solve_groups(
            current, movable, groups, n_groups, u_bg, u_fg, self.gamma * self.weights[:, r0:r1, c0:c1],
            aggregate=move in ("superpixels", "hybrid"), group_edges=group_edges,
        )
        new[movable] = group_labels[groups[movable]]
        return new, n_movable


def _pixel_groups(movable: np.ndarray, n_movable: int) -> np.ndarray:
    """(h, w) int64 group ids giving every movable pixel its own group, in raster order."""
    groups = np.zeros(movable.shape, np.int64)
    groups[movable] = np.arange(n_movable)
    return groups


def _near_boundary(labels: np.ndarray, radius: int) -> np.ndarray:
    """(h, w) bool: pixels with a differently labelled pixel within ``radius`` (Chebyshev)."""
    size = 2 * radius + 1
    return ndimage.maximum_filter(labels, size) != ndimage.minimum_filter(labels, size)


def _solve_groups(current, movable, groups, n_groups, u_bg, u_fg, edge_weights, aggregate, group_edges=None):
    """Exact min cut over labellings where the movable pixels of each group share
    a label and every other pixel keeps its ``current`` label (see :class:`GroupStructure`).
    Returns (n_groups,) bool label per group (True = object)."""
    structure = GroupStructure(current, movable, groups, n_groups, edge_weights, aggregate, group_edges)
    return min_cut(structure.graph(u_bg, u_fg))


class GroupStructure:
    """The part of a move's s-t graph that does not depend on the colour models:
    the edges between groups, and the terminal capacities from edges to pixels that
    keep their label. :meth:`graph` adds the unary costs.

    Parameters
    ----------
    current, movable : (h, w) bool
    groups : (h, w) int, group id in ``[0, n_groups)`` (read where movable)
    n_groups : int
    edge_weights : (4, h, w) pairwise weights including gamma
    aggregate : bool
        Sum parallel edges between the same two groups (needed when groups hold
        several pixels; pixel groups have none).
    group_edges : (first, second, capacity) arrays, optional
        Edges between groups to use *instead of* the pixel edges between them
        (the coarse first cut's approximation). Edges to pixels that keep their
        label stay exact.
    """

    def __init__(self, current, movable, groups, n_groups, edge_weights, aggregate, group_edges=None):
        h, w = current.shape
        self.n_groups = n_groups
        self.movable = movable
        self.ids = groups[movable]
        # Terminal capacities: a node on the source side is object and pays its sink capacity.
        source = np.zeros(n_groups)
        sink = np.zeros(n_groups)
        pairs, caps = [], []
        for d, (dy, dx) in enumerate(NEIGHBOUR_OFFSETS):
            first, second = pair_slices(dy, dx, h, w)
            wgt = edge_weights[d][first]
            m1, m2 = movable[first], movable[second]
            g1, g2 = groups[first], groups[second]
            # An edge to a pixel that keeps its label becomes a terminal capacity of the movable end.
            for m_this, m_other, g_this, other in ((m1, m2, g1, current[second]), (m2, m1, g2, current[first])):
                one_sided = m_this & ~m_other
                to_object = one_sided & other  # cut when this end is background: source capacity
                to_background = one_sided & ~other
                source += np.bincount(g_this[to_object], weights=wgt[to_object], minlength=n_groups)
                sink += np.bincount(g_this[to_background], weights=wgt[to_background], minlength=n_groups)
            if group_edges is None:
                both = m1 & m2 & (g1 != g2)
                pairs.append((g1[both], g2[both]))
                caps.append(wgt[both])
        if group_edges is not None:
            pairs, caps = [group_edges[:2]], [group_edges[2]]
        first_ids = np.concatenate([p[0] for p in pairs]).astype(np.int64)
        second_ids = np.concatenate([p[1] for p in pairs]).astype(np.int64)
        caps = np.concatenate(caps).astype(np.float64)
        if aggregate and len(caps):
            lo, hi = np.minimum(first_ids, second_ids), np.maximum(first_ids, second_ids)
            keys, inverse = np.unique(lo * n_groups + hi, return_inverse=True)
            caps = np.bincount(inverse, weights=caps)
            first_ids, second_ids = keys // n_groups, keys % n_groups
        self.first, self.second, self.capacities = first_ids, second_ids, caps
        self.edge_source, self.edge_sink = source, sink

    def graph(self, u_bg, u_fg) -> CutGraph:
        """The move's graph for unary costs ``u_bg``, ``u_fg`` ((h, w) each)."""
        source = self.edge_source + np.bincount(self.ids, weights=u_bg[self.movable], minlength=self.n_groups)
        sink = self.edge_sink + np.bincount(self.ids, weights=u_fg[self.movable], minlength=self.n_groups)
        base = np.minimum(source, sink)  # a constant per node: only the difference decides
        return CutGraph(self.n_groups, self.first, self.second, self.capacities, source - base, sink - base)


def min_cut(graph: CutGraph) -> np.ndarray:
    """(n,) bool: the source (object) side of a minimum s-t cut of ``graph``, by PyMaxflow (Boykov-Kolmogorov)."""
    return WarmMinCut().solve(graph)


class WarmMinCut:
    """Minimum cuts of a sequence of graphs that differ only in their terminal
    capacities (the colour models change between iterations, the edges do not).

    The first :meth:`solve` builds the max-flow graph; later ones add the change
    of each node's terminal capacities to the residual graph and go on from the
    flow already found (dynamic graph cuts, Kohli and Torr, ICCV 2005): the same
    exact minimum cut, several times faster once the flow has settled.
    """

    def __init__(self):
        self._graph = None

    def solve(self, graph: CutGraph) -> np.ndarray:
        """(n,) bool source (object) side of a minimum cut of ``graph``."""
        if self._graph is None:
            g = maxflow.Graph[float](graph.n_nodes, len(graph.capacities))
            self._nodes = g.add_nodes(graph.n_nodes)
            if len(graph.capacities):
                g.add_edges(self._nodes[graph.first], self._nodes[graph.second], graph.capacities, graph.capacities)
            g.add_grid_tedges(self._nodes, graph.source, graph.sink)
            self._graph, self._edges = g, (graph.first, graph.second, graph.capacities)
        else:
            if graph.capacities is not self._edges[2] and not (
                np.array_equal(graph.first, self._edges[0]) and np.array_equal(graph.second, self._edges[1])
                and np.array_equal(graph.capacities, self._edges[2])
            ):
                raise ValueError("WarmMinCut.solve: the graph's edges changed; only terminal capacities may change")
            # Negative changes are fine: max-flow keeps only each node's source-minus-sink residual.
            self._graph.add_grid_tedges(self._nodes, graph.source - self._terminals[0], graph.sink - self._terminals[1])
        self._terminals = (graph.source, graph.sink)
        self._graph.maxflow()
        return ~self._graph.get_grid_segments(self._nodes)


def edge_superpixels(image: np.ndarray, area: int = SUPERPIXEL_AREA) -> np.ndarray:
    """Superpixels whose borders lie on colour edges: watershed of the colour
    gradient magnitude from a regular grid of markers (one per ``area`` pixels).

    The borders follow gradient ridges, which is where the contrast-sensitive
    pairwise term is cheap, so restricting a cut to superpixel borders costs
    little. Returns (h, w) int32 ids in ``[0, n)``. Any partition keeps the
    superpixel moves exact, so one computed for a whole image can be passed
    (``superpixels=``) to the cuts of its crops, saving the watershed per cut.
    """
    h, w = image.shape[:2]
    z = image.astype(np.float32)
    gradient = np.zeros((h, w), np.float32)
    for axis in (0, 1):
        gradient += (ndimage.sobel(z, axis=axis) ** 2).sum(-1)
    step = max(2, int(round(np.sqrt(area))))
    markers = np.zeros((h, w), np.int32)
    ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step]
    markers[ys, xs] = np.arange(1, ys.size + 1).reshape(ys.shape)
    return (watershed(gradient, markers) - 1).astype(np.int32)


def _dense_ids(ids: np.ndarray) -> np.ndarray:
    """The same partition with its ids renumbered to ``[0, n)`` (int32), in order of the old ids."""
    present = np.zeros(int(ids.max()) + 1, bool)
    present[ids] = True
    renumber = np.cumsum(present, dtype=np.int32) - 1
    return renumber[ids]


def _free_region(free: np.ndarray):
    """Bounding rows/cols of the free pixels, grown by one pixel (a ring of fixed ones)."""
    rows = np.flatnonzero(free.any(1))
    cols = np.flatnonzero(free.any(0))
    h, w = free.shape
    return (max(0, rows[0] - 1), min(h, rows[-1] + 2), max(0, cols[0] - 1), min(w, cols[-1] + 2))
