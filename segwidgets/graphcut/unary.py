"""Unary-term helpers shared by the solver, the trace and the views."""
from __future__ import annotations

import numpy as np

from .gmm import GaussianMixture, label_costs

PRIOR_EPS = 1e-6  # prior probabilities are clipped to [eps, 1 - eps] before the log


def prior_costs(prior: np.ndarray, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """``weight * -log(1 - p)`` and ``weight * -log(p)``: the prior's cost of
    labelling each pixel background and object, two arrays shaped like ``prior``."""
    p = np.clip(prior, PRIOR_EPS, 1 - PRIOR_EPS)
    return weight * -np.log1p(-p), weight * -np.log(p)


def color_unary_difference(
    background: GaussianMixture, foreground: GaussianMixture, features: np.ndarray, color_model: str
) -> np.ndarray:
    """Object minus background colour cost for (10, N) colour features, (N,) float32 nats."""
    costs = [label_costs(m.cost_coefficients().T @ features, color_model) for m in (background, foreground)]
    return costs[1] - costs[0]
