"""Graph-cut engine: GMM colour models, pairwise terms, PyMaxflow solve, iteration trace.

Needs no torch. Entry point: :func:`graph_cut`, parameterised by one frozen
:class:`GraphCutSettings`; :class:`GraphCutSolver` runs, steps, resumes and
restarts; every iteration is recorded in a :class:`GraphCutTrace`.
"""
from .gmm import GaussianMixture, fit_gaussian_mixture, kmeans_assignments
from .init import Initialisation, make_initialisation
from .pairwise import PAIRWISE_KINDS, boundary_weights, contrast_weights, cut_cost, pairwise_weights
from .postprocess import clean_mask, fill_holes, remove_small_components
from .settings import GraphCutSettings
from .solver import CutGraph, GraphCutSolver, WarmMinCut, edge_superpixels, graph_cut, min_cut
from .trace import GraphCutTrace, IterationState

__all__ = [
    "GaussianMixture", "fit_gaussian_mixture", "kmeans_assignments", "Initialisation", "make_initialisation",
    "PAIRWISE_KINDS", "boundary_weights", "contrast_weights", "cut_cost", "pairwise_weights",
    "clean_mask", "fill_holes", "remove_small_components", "GraphCutSettings", "graph_cut", "GraphCutSolver",
    "GraphCutTrace", "IterationState", "CutGraph", "WarmMinCut", "min_cut", "edge_superpixels",
]
