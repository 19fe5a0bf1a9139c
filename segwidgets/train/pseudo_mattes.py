"""Pseudo-ground-truth mattes of the ``seg/`` images, for matting training.

The data README's second way to realistic partial transparency: a classical
matting method (closed-form matting, ``pymatting``) run on each train-split image
with a trimap made from its object mask, then the foreground colours estimated
from that alpha. A sample then composites ``(F, alpha)`` onto another image's
background, so its ground truth is exact for the composite even where closed-form
erred on the photo, and the alpha has the photo's own hair, fur and fabric
rather than a blurred outline.

``python -m segwidgets.train pseudo-mattes --out runs/pseudo_mattes`` writes, for
every train-split image (fit and validation parts; the test split is never read),
``OUT/<dataset>/<stem>_alpha.png`` (uint8 alpha) and ``<stem>_fg.png`` (uint8 RGB
foreground), and ``OUT/summary.json``. A matte whose opaque part disagrees with
the mask (IoU of ``alpha > 0.5`` with it below :data:`MIN_MASK_IOU`) is dropped:
closed-form then followed a wrong colour edge, and the sample would teach that.

pymatting is a benchmark extra (``pip install -e ".[bench]"``): only this
data-preparation command needs it, never inference.
"""
from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage
from tqdm.auto import tqdm

from ..data import dataset_folders, list_pairs, load_mask, split_pairs

#: Unknown band of the trimap, pixels on each side of the mask's outline (images are <= 512 px).
DEFAULT_BAND_PX = 10
#: A matte is kept when ``alpha > 0.5`` overlaps the mask at least this much (IoU).
MIN_MASK_IOU = 0.9


def _pymatting():
    try:
        import pymatting
    except ImportError as error:  # a benchmark-only extra: say how to get it
        raise ImportError("pseudo mattes need pymatting (closed-form matting): "
                          'pip install -e ".[bench]"') from error
    return pymatting


def band_trimap(mask: np.ndarray, band_px: int) -> np.ndarray:
    """(H, W) float64 trimap of a bool mask: 1 inside it eroded by ``band_px``, 0 outside it dilated
    by ``band_px``, 0.5 in between."""
    mask = np.asarray(mask, bool)
    trimap = np.full(mask.shape, 0.5)
    trimap[ndimage.binary_erosion(mask, iterations=band_px)] = 1.0
    trimap[~ndimage.binary_dilation(mask, iterations=band_px)] = 0.0
    return trimap


def pseudo_matte(image: np.ndarray, mask: np.ndarray, band_px: int = DEFAULT_BAND_PX):
    """Closed-form alpha and estimated foreground of one photo around its object mask.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB
    mask : (H, W) bool object mask
    band_px : int
        Unknown band on each side of the outline, pixels.

    Returns
    -------
    alpha : (H, W) float32 in [0, 1]
    foreground : (H, W, 3) float32 in [0, 1]
    mask_iou : float
        IoU of ``alpha > 0.5`` with ``mask`` (how far closed-form moved the outline).
    """
    pm = _pymatting()
    rgb = np.asarray(image, np.float64) / 255.0
    trimap = band_trimap(mask, band_px)
    if not ((trimap == 1).any() and (trimap == 0).any()):
        return None, None, 0.0  # the object fills the band or the frame: nothing known on one side
    alpha = np.clip(pm.estimate_alpha_cf(rgb, trimap), 0, 1)
    foreground = np.clip(pm.estimate_foreground_ml(rgb, alpha), 0, 1)
    opaque = alpha > 0.5
    iou = float((opaque & mask).sum() / max((opaque | mask).sum(), 1))
    return alpha.astype(np.float32), foreground.astype(np.float32), iou


def _single_threaded() -> None:
    # Set before the worker imports pymatting: one numba thread per worker process, the workers share the cores.
    os.environ["NUMBA_NUM_THREADS"] = "1"


def _one(job) -> dict:
    image_path, mask_path, out_dir, band_px = job
    alpha_path, fg_path = out_dir / f"{image_path.stem}_alpha.png", out_dir / f"{image_path.stem}_fg.png"
    record = {"name": f"{out_dir.name}/{image_path.stem}"}
    if alpha_path.exists() and fg_path.exists():  # resumed run: done before
        return {**record, "kept": True, "resumed": True}
    with Image.open(image_path) as pil:
        image = np.asarray(pil.convert("RGB"))
    mask, _ = load_mask(mask_path)
    if not mask.any():
        return {**record, "kept": False, "why": "empty mask"}
    alpha, foreground, iou = pseudo_matte(image, mask, band_px)
    record["mask_iou"] = round(iou, 4)
    if alpha is None or iou < MIN_MASK_IOU:
        return {**record, "kept": False, "why": "no known side" if alpha is None else "disagrees with mask"}
    Image.fromarray(np.round(foreground * 255).astype(np.uint8)).save(fg_path)
    Image.fromarray(np.round(alpha * 255).astype(np.uint8)).save(alpha_path)  # written last: marks it done
    record["mixed"] = round(float(((alpha > 0.01) & (alpha < 0.99)).mean()), 4)
    return {**record, "kept": True}


def make_pseudo_mattes(data, out, band_px: int = DEFAULT_BAND_PX, workers: int = 2, limit: int | None = None) -> dict:
    """Write the pseudo mattes of the train split of every dataset under ``data`` into ``out``.

    Resumable (images with both files are skipped). Returns the summary also written to
    ``out/summary.json``: images seen, kept, dropped (and why), per dataset.
    """
    _pymatting()
    out = Path(out)
    jobs = []
    for folder in dataset_folders(data):
        (out / folder.name).mkdir(parents=True, exist_ok=True)
        pairs = split_pairs(list_pairs(folder / "images", folder / "masks"), "train")  # never the test split
        jobs += [(image, mask, out / folder.name, band_px) for image, mask in (pairs[:limit] if limit else pairs)]
    if workers > 1:  # spawned, not forked: numba's OpenMP runtime refuses to run in a forked child
        pool = ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"), initializer=_single_threaded)
        with pool:
            records = list(tqdm(pool.map(_one, jobs, chunksize=4), total=len(jobs), desc="pseudo mattes"))
    else:
        records = [_one(job) for job in tqdm(jobs, desc="pseudo mattes")]
    summary = {"band_px": band_px, "min_mask_iou": MIN_MASK_IOU, "images": len(records),
               "kept": sum(r["kept"] for r in records), "datasets": {}}
    for record in records:
        entry = summary["datasets"].setdefault(record["name"].split("/")[0], {"images": 0, "kept": 0, "dropped": {}})
        entry["images"] += 1
        entry["kept"] += record["kept"]
        if not record["kept"]:
            entry["dropped"][record["why"]] = entry["dropped"].get(record["why"], 0) + 1
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def load_pseudo_mattes(folder, names) -> dict:
    """``{item name: (foreground (H, W, 3) uint8, alpha (H, W) float32)}`` for the ``names``
    (``train.data.Item.name``, "dataset/stem") that have a pseudo matte under ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no pseudo-matte folder {folder} (make it with: python -m segwidgets.train "
                                f"pseudo-mattes --out {folder})")
    found = {}
    for name in names:
        alpha_path, fg_path = folder / f"{name}_alpha.png", folder / f"{name}_fg.png"
        if alpha_path.exists() and fg_path.exists():
            with Image.open(fg_path) as fg, Image.open(alpha_path) as alpha:
                found[name] = (np.asarray(fg.convert("RGB")), np.asarray(alpha.convert("L"), np.float32) / 255.0)
    return found
