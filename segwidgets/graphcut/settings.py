"""``GraphCutSettings``: every parameter of an iterated graph cut in one frozen object.

:func:`graph_cut`, :class:`GraphCutSolver`, its ``restart``, the recorded
``GraphCutTrace.settings``, the pipelines' defaults and the iteration slider's
editors all use this one object, so a parameter is defined (and validated) once.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .gmm import COLOR_MODELS, DEFAULT_MIN_VARIANCE
from .pairwise import PAIRWISE_KINDS


@dataclass(frozen=True)
class GraphCutSettings:
    """Parameters of the iterated graph cut (see ``graphcut.solver`` for the energy).

    Attributes
    ----------
    pairwise : {"contrast", "boundary", "combined"} or None
        Pairwise term: colour contrast, the boundary-aware term from a refinement
        map R, or their product. None: "boundary" when a refinement map is given,
        else "contrast" (the solver records the resolved kind in its trace).
    gamma : float >= 0
        Weight of the pairwise term (GrabCut uses 50).
    beta : float >= 0
        Boundary-aware term strength, ``w = max(0, 1 - beta (R_i + R_j) / 2)``.
    n_components : int >= 1
        Gaussian components per colour model.
    color_model : {"mixture", "component"}
        Unary colour cost: the whole mixture's ``-log sum_k w_k N_k`` refitted by one
        EM step per iteration, or the best single component's cost refitted from
        hard assignments (the GrabCut paper). Both keep the energy non-increasing.
    prior_weight : float in [0, 1]
        Weight of a prior probability map's ``-log p`` against the colour cost
        (ignored when no prior map is given).
    min_variance : float > 0
        Covariance eigenvalue floor, (colour levels)^2.
    multiscale : bool
        Coarse-to-fine move sets (fast) or a plain full-resolution cut every iteration.
    seed : int
        Seed of the k-means initialisation (results are deterministic).
    max_iterations : int >= 0
        Upper bound on iterations of a run.
    tolerance : float >= 0
        Stop once, at full resolution, the fraction of free pixels that changed
        label falls below it; 0 runs exactly ``max_iterations``.
    max_pixels : int >= 1 or None
        :func:`graph_cut` on a larger image iterates at a working resolution of
        whole-pixel blocks under this many pixels, then makes one exact cut at full
        resolution in a band along the edge (``trace.working_trace`` holds the
        working-resolution iterations). None: always full resolution.
    """

    pairwise: str | None = None
    gamma: float = 50.0
    beta: float = 1.0
    n_components: int = 5
    color_model: str = "mixture"
    prior_weight: float = 0.5
    min_variance: float = DEFAULT_MIN_VARIANCE
    multiscale: bool = True
    seed: int = 0
    max_iterations: int = 10
    tolerance: float = 1e-3
    max_pixels: int | None = 1_500_000

    def __post_init__(self):
        problems = []
        if self.pairwise is not None and self.pairwise not in PAIRWISE_KINDS:
            problems.append(f"pairwise must be one of {PAIRWISE_KINDS} or None, got {self.pairwise!r}")
        if self.color_model not in COLOR_MODELS:
            problems.append(f"color_model must be one of {COLOR_MODELS}, got {self.color_model!r}")
        if not self.gamma >= 0:
            problems.append(f"gamma must be >= 0, got {self.gamma}")
        if not self.beta >= 0:
            problems.append(f"beta must be >= 0, got {self.beta}")
        if int(self.n_components) != self.n_components or self.n_components < 1:
            problems.append(f"n_components must be an integer >= 1, got {self.n_components}")
        if not 0 <= self.prior_weight <= 1:
            problems.append(f"prior_weight must be in [0, 1], got {self.prior_weight}")
        if not self.min_variance > 0:
            problems.append(f"min_variance must be > 0, got {self.min_variance}")
        if int(self.max_iterations) != self.max_iterations or self.max_iterations < 0:
            problems.append(f"max_iterations must be an integer >= 0, got {self.max_iterations}")
        if not self.tolerance >= 0:
            problems.append(f"tolerance must be >= 0, got {self.tolerance}")
        if self.max_pixels is not None and (int(self.max_pixels) != self.max_pixels or self.max_pixels < 1):
            problems.append(f"max_pixels must be an integer >= 1 or None, got {self.max_pixels}")
        if problems:
            raise ValueError("invalid graph-cut settings: " + "; ".join(problems))
        for name in ("gamma", "beta", "prior_weight", "min_variance", "tolerance"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("n_components", "seed", "max_iterations"):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "multiscale", bool(self.multiscale))
        if self.max_pixels is not None:
            object.__setattr__(self, "max_pixels", int(self.max_pixels))

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def replace(self, **changes) -> "GraphCutSettings":
        """A copy with ``changes`` applied (validated); unknown names raise ``TypeError`` listing the known ones."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise TypeError(f"unknown graph-cut settings {unknown}; known: {list(self.field_names())}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """The settings as a plain dict (JSON-ready)."""
        return dataclasses.asdict(self)


def resolve_settings(settings: GraphCutSettings | None, overrides: dict) -> GraphCutSettings:
    """``settings`` (default ``GraphCutSettings()``) with keyword ``overrides`` applied."""
    if settings is not None and not isinstance(settings, GraphCutSettings):
        raise TypeError(f"settings must be a GraphCutSettings, got {type(settings).__name__}")
    settings = settings or GraphCutSettings()
    return settings.replace(**overrides) if overrides else settings


def _parse_value(text: str):
    """``"none"`` -> None, ``"true"`` / ``"false"`` -> bool, ``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"a,b"`` -> a tuple
    of those, else the text (a word left as text would be truthy, so the booleans are read first)."""
    if "," in text:
        return tuple(_parse_value(part) for part in text.split(","))
    if text == "none":
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def options_from_strings(items, base: GraphCutSettings) -> dict:
    """Command-line ``KEY=VALUE`` strings -> keyword arguments of a pipeline entry point.

    Graph-cut fields (gamma, prior_weight, pairwise, ...) are collected into a ``settings``
    entry, ``base`` with them applied; other keys pass through (``net_size=224,256`` gives
    a tuple). A string without ``=`` raises ``ValueError``.
    """
    options, graph_cut = {}, {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"expected KEY=VALUE, got {item!r}")
        key, text = item.split("=", 1)
        (graph_cut if key in GraphCutSettings.field_names() else options)[key] = _parse_value(text)
    if graph_cut:
        options["settings"] = base.replace(**graph_cut)
    return options
