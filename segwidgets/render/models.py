"""Gaussian-mixture colour models as pictures: one bar per component, width = its weight."""
from __future__ import annotations

import html

import numpy as np


def _components(model):
    """(weight, mean RGB) of the non-empty components, heaviest first."""
    return [(float(w), m) for w, m in sorted(zip(model.weights, model.means), key=lambda t: -t[0]) if w > 0]


def model_swatches(models, width: int = 400, height: int = 40, gap: int = 8) -> np.ndarray:
    """(rows, width, 3) uint8: one row of colour bars per model (e.g. object then background).

    ``models``: sequence of ``graphcut.GaussianMixture``; each component is a bar of its
    mean colour, as wide as its mixing weight.
    """
    rows = []
    for model in models:
        row = np.full((height, width, 3), 255, np.uint8)
        x = 0
        for weight, mean in _components(model):
            bar = int(round(weight * width))
            row[:, x: x + bar] = np.clip(mean, 0, 255).astype(np.uint8)
            x += bar
        rows.append(row)
        rows.append(np.full((gap, width, 3), 255, np.uint8))
    return np.concatenate(rows[:-1], axis=0)


def model_swatches_html(named_models, width: int = 300) -> str:
    """HTML rows of colour bars, ``named_models`` = ``[(label, GaussianMixture), ...]``;
    hovering a bar shows its weight and mean colour."""
    rows = []
    for name, model in named_models:
        cells = "".join(
            f'<div title="weight {w:.3f}, mean RGB {tuple(int(round(c)) for c in m)}" '
            f'style="width:{max(2, int(round(w * width)))}px;height:22px;'
            f'background:rgb{tuple(int(np.clip(round(c), 0, 255)) for c in m)}"></div>'
            for w, m in _components(model)
        )
        rows.append(f'<div style="display:flex;align-items:center;gap:4px">'
                    f'<span style="width:80px">{html.escape(name)}</span>{cells}</div>')
    return "".join(rows)
