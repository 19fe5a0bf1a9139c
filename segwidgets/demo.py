"""Headless demo: run the graph-cut engine on a sample image and write every
intermediate map as a PNG panel (``python -m segwidgets demo --out DIR``).

The pictures come from ``segwidgets.render``; this module only runs and writes.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from .core.image import as_box, as_rgb_image
from .graphcut import fill_holes, graph_cut
from .render import overview_sheet, trace_panels

#: The bundled sample: scikit-image's astronaut (NASA, public domain) and a box around her.
SAMPLE_BOX = (120, 20, 430, 512)


def sample_image() -> np.ndarray:
    """(512, 512, 3) uint8: scikit-image's ``astronaut`` sample."""
    from skimage import data

    return data.astronaut()


def run_demo(out, image=None, box=None, iterations: int = 8) -> list[Path]:
    """Segment ``image`` (default: the sample) inside ``box`` and save panels to ``out``.

    Returns the written paths. Panels: the input with its box, the initial mask,
    superpixels, pairwise weights, each iteration's mask with its changed pixels,
    the final unary cost map, the colour models, the energy plot, the final mask,
    the filled mask, the cut-out, an overview sheet, and ``trace.json``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if image is None:
        image, box = sample_image(), box or SAMPLE_BOX
    image = as_rgb_image(image)
    if box is None:
        h, w = image.shape[:2]
        box = (w * 0.1, h * 0.1, w * 0.9, h * 0.9)
    box = as_box(box, image.shape[:2])
    trace = graph_cut(image, box=box, max_iterations=iterations)
    panels = trace_panels(image, trace, box)
    final = trace.final_mask
    panels["08_final_mask"] = (final * 255).astype(np.uint8)
    panels["09_filled_mask"] = (fill_holes(final) * 255).astype(np.uint8)
    cutout = np.concatenate([image, (fill_holes(final) * 255).astype(np.uint8)[..., None]], axis=2)
    written = []
    for name, array in panels.items():
        path = out / f"{name}.png"
        Image.fromarray(array).save(path)
        written.append(path)
    path = out / "10_cutout.png"
    Image.fromarray(cutout).save(path)  # RGBA: transparent background
    written.append(path)
    path = out / "overview.png"
    Image.fromarray(overview_sheet(panels)).save(path)
    written.append(path)
    path = out / "trace.json"
    path.write_text(json.dumps({"box": list(box), "settings": trace.settings.to_dict(), "iterations": [s.to_row() for s in trace]}, indent=2))
    written.append(path)
    return written
