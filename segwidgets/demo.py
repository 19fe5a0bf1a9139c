"""Headless demo: run the graph-cut engine on a sample image and write every
intermediate map as a PNG panel (``python -m segwidgets demo --out DIR``)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .core.image import as_box, as_rgb_image
from .graphcut import GraphCutTrace, fill_holes, graph_cut
from .widgets.overlay import composite, map_to_rgba, mask_to_rgba
from .widgets.plots import energy_plot

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
    panels: dict[str, np.ndarray] = {}
    boxed = Image.fromarray(image)
    ImageDraw.Draw(boxed).rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=(255, 255, 0), width=3)
    panels["00_input_box"] = np.asarray(boxed)
    panels["01_initial_mask"] = composite(image, mask_to_rgba(trace.initial_mask, opacity=0.5))
    if trace.superpixels is not None:
        from skimage.segmentation import mark_boundaries

        sp = trace.superpixels
        panels["02_superpixels"] = (mark_boundaries(image, np.where(sp >= 0, sp, sp.max() + 1), color=(1, 1, 0)) * 255).astype(np.uint8)
    panels["03_pairwise_weights"] = composite(image // 3, map_to_rgba(trace.pairwise_map(), "magma", 1.0))
    for i, state in enumerate(trace):
        added, removed = trace.changed_pixels(i)
        panels[f"04_iteration_{state.index:02d}_{state.move_set}"] = composite(
            image, mask_to_rgba(state.mask, (64, 128, 255), 0.45), mask_to_rgba(added, (0, 220, 0), 0.9),
            mask_to_rgba(removed, (255, 0, 0), 0.9),
        )
    unary = trace.unary_map()
    limit = float(np.percentile(np.abs(unary), 99)) or 1.0
    panels["05_unary_object_minus_background"] = map_to_rgba(unary, "RdBu_r", 1.0, vmin=-limit, vmax=limit)[..., :3]
    panels["06_colour_models"] = _models_panel(trace)
    panels["07_energy"] = energy_plot(trace, figsize=(6, 3.2), title="graph-cut energy per iteration")[0][..., :3]
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
    _overview(panels).save(path)
    written.append(path)
    path = out / "trace.json"
    path.write_text(json.dumps({"box": list(box), "settings": trace.settings, "iterations": [s.to_row() for s in trace]}, indent=2))
    written.append(path)
    return written


def _models_panel(trace: GraphCutTrace) -> np.ndarray:
    """Colour swatches of both GMMs (final iteration), bar width = mixing weight."""
    state = trace[-1]
    rows = []
    for model in (state.foreground_model, state.background_model):
        row = np.full((40, 400, 3), 255, np.uint8)
        x = 0
        for weight, mean in sorted(zip(model.weights, model.means), key=lambda t: -t[0]):
            width = int(round(weight * 400))
            row[:, x : x + width] = np.clip(mean, 0, 255).astype(np.uint8)
            x += width
        rows.append(row)
    return np.concatenate([rows[0], np.full((8, 400, 3), 255, np.uint8), rows[1]], axis=0)


def _overview(panels: dict[str, np.ndarray], tile: int = 256, columns: int = 5) -> Image.Image:
    names = list(panels)
    rows = -(-len(names) // columns)
    sheet = Image.new("RGB", (columns * tile, rows * (tile + 16)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, name in enumerate(names):
        image = Image.fromarray(panels[name]).convert("RGB")
        image.thumbnail((tile, tile))
        x, y = (i % columns) * tile, (i // columns) * (tile + 16)
        sheet.paste(image, (x, y + 16))
        draw.text((x + 2, y + 2), name, fill=(0, 0, 0))
    return sheet
