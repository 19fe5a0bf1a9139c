"""Graph-cut engine: GMM colour models, pairwise terms, PyMaxflow solve, iteration trace.

Needs no torch. Entry point: :func:`graph_cut`.
"""
from .gmm import GaussianMixture, fit_gaussian_mixture, kmeans_assignments
from .init import Initialisation, make_initialisation
from .pairwise import PAIRWISE_KINDS, boundary_weights, contrast_weights, cut_cost, pairwise_weights
from .postprocess import clean_mask, fill_holes, remove_small_components
from .solver import GraphCutSolver, graph_cut
from .trace import GraphCutTrace, IterationState

__all__ = [
    "GaussianMixture", "fit_gaussian_mixture", "kmeans_assignments", "Initialisation", "make_initialisation",
    "PAIRWISE_KINDS", "boundary_weights", "contrast_weights", "cut_cost", "pairwise_weights",
    "clean_mask", "fill_holes", "remove_small_components", "graph_cut", "GraphCutSolver", "GraphCutTrace", "IterationState",
]
