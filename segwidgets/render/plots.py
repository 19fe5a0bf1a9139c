"""Off-screen matplotlib figures of a graph-cut trace (no UI imports, no pyplot state)."""
from __future__ import annotations

import numpy as np


def energy_plot(trace, figsize=(4.8, 2.6), dpi: int = 100, title: str | None = None):
    """Energy per iteration: total and unary (left axis), pairwise and changed pixels (right).

    Returns
    -------
    rgba : (h, w, 4) uint8 image of the figure.
    columns : dict iteration -> x pixel column of that iteration in ``rgba``.
    rows : (top, bottom) pixel rows of the plot area, for drawing a marker.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    table = [s.to_row() for s in trace]
    x = [r["iteration"] for r in table]
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    ax.plot(x, [r["energy"] for r in table], "o-", label="total")
    ax.plot(x, [r["unary_energy"] for r in table], "s--", label="unary")
    ax.set_xlabel("iteration")
    ax.set_ylabel("energy (nats)")
    right = ax.twinx()
    right.plot(x, [r["pairwise_energy"] for r in table], "^:", color="tab:green", label="pairwise")
    right.bar(x, [r["changed_pixels"] for r in table], alpha=0.15, color="gray", label="changed pixels")
    right.set_ylabel("pairwise / changed px")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # iterations are whole numbers
    # One legend for both axes (the triangles and bars live on the right one), below the plot, not over the data.
    handles, labels = ax.get_legend_handles_labels()
    more_handles, more_labels = right.get_legend_handles_labels()
    fig.legend(handles + more_handles, labels + more_labels, loc="lower center", ncol=4, fontsize=7, frameon=False)
    if title:
        ax.set_title(title)
    if x:
        ax.set_xlim(0.5, max(x) + 0.5)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba()).copy()
    height = rgba.shape[0]
    columns = {i: float(ax.transData.transform((i, 0))[0]) for i in x}
    extent = ax.get_window_extent()
    return rgba, columns, (height - extent.y1, height - extent.y0)
