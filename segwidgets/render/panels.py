"""A graph-cut trace as pictures: per-iteration change labels, colour ranges and the demo's panels."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ..core.crops import CropWindow
from .colors import map_to_rgba, mask_to_rgba
from .composite import composite
from .models import model_swatches
from .plots import energy_plot


def change_labels(trace, i: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """What iteration ``i`` (0-based) did, per pixel: 0 background, 1 object, 2 added, 3 removed.

    ``size``: (h, w) to sample the pixel under each display pixel's centre (exact labels, no
    blending); default every pixel. Show it with ``colors.CHANGE_PALETTE``.
    """
    before = trace.initial_mask if i in (0, -len(trace)) else trace[i - 1].mask
    after = trace[i].mask
    if size is not None:
        display = CropWindow.whole(after.shape, size)
        before, after = display.to_local_map(before, order=0), display.to_local_map(after, order=0)
    labels = after.astype(np.uint8)
    labels[after & ~before] = 2
    labels[before & ~after] = 3
    return labels


def unary_limit(trace, percentile: float = 99.0) -> float:
    """A symmetric colour range ``[-limit, limit]`` (nats) for every iteration's unary map,
    from the last iteration's: one scale, so steps compare."""
    if not trace.iterations:
        return 1.0
    return float(np.percentile(np.abs(trace[-1].unary), percentile)) or 1.0


def trace_panels(image: np.ndarray, trace, box=None) -> dict[str, np.ndarray]:
    """Every intermediate map of a graph-cut run as named (h, w, 3) uint8 pictures.

    Panels: the input (with ``box`` drawn), the initial mask, superpixels (when a
    superpixel move ran), pairwise weights, each iteration's mask with the pixels it
    added (green) and removed (red), the final unary cost map, both colour models and
    the energy plot.
    """
    panels: dict[str, np.ndarray] = {}
    boxed = Image.fromarray(image)
    if box is not None:
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
    if trace.iterations:
        limit = unary_limit(trace)
        panels["05_unary_object_minus_background"] = map_to_rgba(trace.unary_map(), "RdBu_r", 1.0, vmin=-limit, vmax=limit)[..., :3]
        last = trace[-1]
        panels["06_color_models"] = model_swatches([last.foreground_model, last.background_model])
        panels["07_energy"] = energy_plot(trace, figsize=(6, 3.2), title="graph-cut energy per iteration")[0][..., :3]
    return panels


def overview_sheet(panels: dict[str, np.ndarray], tile: int = 256, columns: int = 5) -> np.ndarray:
    """All ``panels`` as thumbnails on one labelled sheet, (rows * (tile + 16), columns * tile, 3) uint8."""
    names = list(panels)
    rows = -(-len(names) // columns)
    sheet = Image.new("RGB", (columns * tile, rows * (tile + 16)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, name in enumerate(names):
        picture = Image.fromarray(panels[name]).convert("RGB")
        picture.thumbnail((tile, tile))
        x, y = (i % columns) * tile, (i // columns) * (tile + 16)
        sheet.paste(picture, (x, y + 16))
        draw.text((x + 2, y + 2), name, fill=(0, 0, 0))
    return np.asarray(sheet)
