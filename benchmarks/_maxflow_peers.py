"""Max-flow solvers compared on the same graphs (``bench_graphcut.py --solver-images``).

Each adapter takes a :class:`segwidgets.graphcut.CutGraph` and returns
``(labels, build_seconds, solve_seconds)`` with labels True on the source
(object) side. PyMaxflow is the package's solver; ``thinhpf`` (Hochbaum
pseudoflow) and ``thinmaxflow`` (Boykov-Kolmogorov, one call per edge) are
benchmark-only peers, skipped when not installed.
"""
from __future__ import annotations

import importlib
import importlib.util
import time

import numpy as np

from segwidgets.graphcut import WarmMinCut, min_cut


def cut_energy(graph, labels) -> float:
    """Energy of a labelling: the terminal capacities it pays plus the cut edges."""
    unary = np.where(labels, graph.sink, graph.source).sum()
    return float(unary + graph.capacities[labels[graph.first] != labels[graph.second]].sum())


def pymaxflow(graph):
    start = time.perf_counter()
    labels = min_cut(graph)
    return labels, 0.0, time.perf_counter() - start  # build and solve in one call


HPF_SCALE = 16.0  # capacity units per energy unit for thinhpf's int32 (keeps total flow far below 2^31)


def thinhpf(graph):
    hpf_module = importlib.import_module("thinhpf")
    start = time.perf_counter()
    n = graph.n_nodes
    # int32 capacities (scaled, rounded): on float32 ones thinhpf gave wrong cuts on these graphs (capacities
    # span 1e-19..1e3) and never finished on some; the rounding shows in the energy gap column.
    solver = hpf_module.hpf(n + 2, 2 * len(graph.capacities) + 2 * n, "int32")
    solver.add_node(n + 2)
    solver.set_source(n)
    solver.set_sink(n + 1)
    nodes = np.arange(n, dtype=np.uint32)
    first, second = graph.first.astype(np.uint32), graph.second.astype(np.uint32)
    # Every array stays referenced until the cut is read: thinhpf keeps pointers into them
    # (temporaries freed early gave wrong cuts and crashes).
    def scaled(values):
        return np.round(values * HPF_SCALE).astype(np.int32)

    edges = [(first, second, scaled(graph.capacities)), (second, first, scaled(graph.capacities)),
             (np.full(n, n, np.uint32), nodes, scaled(graph.source)), (nodes, np.full(n, n + 1, np.uint32), scaled(graph.sink))]
    for i, j, capacities in edges:
        solver.add_edges(i, j, capacities)
    built = time.perf_counter()
    solver.mincut()
    labels = np.fromiter((solver.what_label(i) for i in range(n)), np.int32, n) == solver.what_label(n)  # source's side
    return labels, built - start, time.perf_counter() - built


def thinmaxflow(graph):
    module = importlib.import_module("thinmaxflow")
    start = time.perf_counter()
    g = module.GraphFloat(graph.n_nodes, len(graph.capacities))
    g.add_node(graph.n_nodes)
    for a, b, c in zip(graph.first.tolist(), graph.second.tolist(), graph.capacities.tolist()):
        g.add_edge(a, b, c, c)  # no vectorised call
    for i, (s, t) in enumerate(zip(graph.source.tolist(), graph.sink.tolist())):
        g.add_tweights(i, s, t)
    built = time.perf_counter()
    g.maxflow()
    labels = np.fromiter((g.what_segment(i) == 0 for i in range(graph.n_nodes)), bool, graph.n_nodes)
    return labels, built - start, time.perf_counter() - built


SOLVERS = {"PyMaxflow (fresh graph)": pymaxflow, "thinhpf (pseudoflow)": thinhpf, "thinmaxflow": thinmaxflow}


def available(name) -> bool:
    module = {"thinhpf (pseudoflow)": "thinhpf", "thinmaxflow": "thinmaxflow"}.get(name)
    return module is None or importlib.util.find_spec(module) is not None


def compare(sequences: list[list]) -> list[list]:
    """Rows ``[solver, cuts, median build s, median solve s, median total s, worst relative energy gap]`` over
    ``sequences`` (one list of graphs per image: the exact cuts of successive iterations, same edges,
    new terminal capacities). "PyMaxflow warm-started" solves each sequence as the package does."""
    rows = []
    reference = {}
    for name, solve in SOLVERS.items():
        if not available(name):
            rows.append([name + " (not installed)", 0, float("nan"), float("nan"), float("nan"), float("nan")])
            continue
        builds, solves, gaps = [], [], []
        for i, graphs in enumerate(sequences):
            for j, graph in enumerate(graphs):
                labels, build, seconds = solve(graph)
                energy = cut_energy(graph, labels)
                reference.setdefault((i, j), energy)
                gaps.append(abs(energy - reference[(i, j)]) / max(1.0, abs(reference[(i, j)])))
                builds.append(build)
                solves.append(seconds)
        rows.append([name, len(solves), float(np.median(builds)), float(np.median(solves)),
                     float(np.median(np.add(builds, solves))), float(max(gaps))])
    solves, gaps = [], []
    for i, graphs in enumerate(sequences):
        warm = WarmMinCut()
        for j, graph in enumerate(graphs):
            start = time.perf_counter()
            labels = warm.solve(graph)
            solves.append(time.perf_counter() - start)
            gaps.append(abs(cut_energy(graph, labels) - reference[(i, j)]) / max(1.0, abs(reference[(i, j)])))
    rows.append(["PyMaxflow warm-started (used)", len(solves), 0.0, float(np.median(solves)), float(np.median(solves)),
                 float(max(gaps))])
    return rows
