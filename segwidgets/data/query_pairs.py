"""Synthetic query/search pairs for the query-object finder, made from the ``seg/`` masks.

A pair is a *query* (the box around an object in its own photo, as a user would
draw it) and a *search* image: a background from another photo onto which the
same object is pasted, distorted (scale, rotation, shear, aspect, blur, lighting,
noise), among distractor cut-outs (some recoloured to the object's mean colour,
some from the same dataset, so of the same kind) and, sometimes, partly hidden
behind another cut-out. The target is the pasted object's visible mask and the
box of the whole pasted object.

Training draws pairs on the fly from the train split; the benchmark's
development set is drawn once, with a fixed seed, from the **test** split
(:func:`write_dev_set` / :func:`read_dev_set`), so it is never trained on.

numpy and Pillow only (no torch).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from tqdm.auto import tqdm

from .folders import dataset_folders, list_pairs
from .readers import load_mask
from .split import split_pairs

#: Pasted size / query size is drawn log-uniformly from this range.
SCALE_RANGE = (0.5, 2.0)
#: Version of the development set's recipe (a folder of another version is rebuilt, not reused).
DEV_SET_VERSION = 1


@dataclass
class Cutout:
    """One object of a ``seg/`` set: its photo, mask and tight box ``(x0, y0, x1, y1)`` (half-open)."""

    image: np.ndarray
    mask: np.ndarray
    box: tuple[int, int, int, int]
    dataset: str
    name: str

    @property
    def mean_color(self) -> np.ndarray:
        """(3,) float mean RGB of the object's pixels, 0..255."""
        return self.image[self.mask].mean(axis=0)


@dataclass
class QueryPair:
    """A query and the search image it should be found in.

    query : (h, w, 3) uint8, the object's box in its own photo (with a little context).
    search : (H, W, 3) uint8, the composite.
    mask : (H, W) bool, the pasted object's visible pixels.
    box : (x0, y0, x1, y1) int, half-open, the whole pasted object (hidden parts included).
    scale : pasted size / query size.
    """

    query: np.ndarray
    search: np.ndarray
    mask: np.ndarray
    box: tuple[int, int, int, int]
    scale: float


def load_cutouts(root, split: str, limit: int | None = None, min_area: float = 0.01,
                 progress: bool = True) -> list[Cutout]:
    """Every object of the ``split`` of each dataset under ``root`` (``seg/`` layout).

    Masks covering less than ``min_area`` of their image are skipped (too small to
    be a query); so are masks whose box is the whole photo (no box to draw).
    """
    pairs = []
    for folder in dataset_folders(root):
        chosen = split_pairs(list_pairs(folder / "images", folder / "masks"), split)
        pairs += [(folder.name, p) for p in (chosen[:limit] if limit else chosen)]
    cutouts = []
    for dataset, (image_path, mask_path) in tqdm(pairs, desc=f"cut-outs ({split})", disable=not progress):
        mask, _ = load_mask(mask_path)
        if mask.mean() < min_area:
            continue
        ys, xs = np.nonzero(mask)
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        if box[2] - box[0] >= mask.shape[1] and box[3] - box[1] >= mask.shape[0]:
            continue
        with Image.open(image_path) as pil:
            image = np.asarray(pil.convert("RGB"))
        cutouts.append(Cutout(np.ascontiguousarray(image), mask, box, dataset, image_path.stem))
    if not cutouts:
        raise ValueError(f"no usable objects in the {split!r} split under {os.fspath(root)!r}")
    return cutouts


def _log_uniform(rng, low, high) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def _background(rng, cutouts: list[Cutout], exclude: Cutout, shape: tuple[int, int]) -> np.ndarray:
    """A random crop of another photo, resized to ``shape`` (H, W), as float32 0..255."""
    while True:
        other = cutouts[rng.integers(len(cutouts))]
        if other is not exclude:
            break
    h, w = other.image.shape[:2]
    aspect = shape[1] / shape[0]
    crop_h = min(h, int(w / aspect)) * rng.uniform(0.6, 1.0)
    crop_w = crop_h * aspect
    y0, x0 = rng.uniform(0, h - crop_h + 1e-6), rng.uniform(0, w - crop_w + 1e-6)
    pil = Image.fromarray(other.image).resize((shape[1], shape[0]), Image.BILINEAR,
                                              box=(x0, y0, x0 + crop_w, y0 + crop_h))
    out = np.asarray(pil, np.float32)
    return out[:, ::-1].copy() if rng.random() < 0.5 else out


def _warped_object(rng, cutout: Cutout, side: float, distort: bool, blur: bool):
    """The cut-out's object warped so its box's longest side is ``side`` px (times the distortion).

    Returns ``rgb`` (h, w, 3) float32 and ``alpha`` (h, w) float32 in [0, 1] (soft edge).
    """
    x0, y0, x1, y1 = cutout.box
    bw, bh = x1 - x0, y1 - y0
    s = side / max(bw, bh)
    angle = math.radians(rng.uniform(-12, 12)) if distort else 0.0
    shear = rng.uniform(-0.12, 0.12) if distort else 0.0
    stretch = _log_uniform(rng, 0.85, 1.18) if distort else 1.0
    # Forward map: centred object -> scale (with aspect stretch) -> shear -> rotate.
    a = np.array([[s * stretch, 0.0], [0.0, s / stretch]])
    a = np.array([[1.0, shear], [0.0, 1.0]]) @ a
    a = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]) @ a
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], float) - [(x0 + x1) / 2, (y0 + y1) / 2]
    mapped = corners @ a.T
    out_w = max(2, int(math.ceil(np.ptp(mapped[:, 0]))) + 2)
    out_h = max(2, int(math.ceil(np.ptp(mapped[:, 1]))) + 2)
    inverse = np.linalg.inv(a)
    # PIL wants output -> input: input = inverse @ (out - out_centre) + box_centre
    cx, cy = out_w / 2, out_h / 2
    offset = np.array([(x0 + x1) / 2, (y0 + y1) / 2]) - inverse @ [cx, cy]
    coeffs = (inverse[0, 0], inverse[0, 1], offset[0], inverse[1, 0], inverse[1, 1], offset[1])
    rgba = np.dstack([cutout.image, cutout.mask.astype(np.uint8) * 255])
    warped = Image.fromarray(rgba, "RGBA").transform((out_w, out_h), Image.AFFINE, coeffs, Image.BILINEAR)
    if blur and rng.random() < 0.3:
        warped = warped.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.5)))
    array = np.asarray(warped, np.float32)
    return array[..., :3], array[..., 3] / 255.0


def _relight(rng, rgb: np.ndarray) -> np.ndarray:
    """Brightness, contrast, per-channel gain and gamma changes of a 0..255 float image."""
    rgb = rgb / 255.0
    rgb = rgb ** _log_uniform(rng, 0.7, 1.4)
    rgb = rgb * rng.uniform(0.7, 1.3) * rng.uniform(0.9, 1.1, 3)
    mean = rgb.mean()
    rgb = (rgb - mean) * rng.uniform(0.75, 1.25) + mean
    return np.clip(rgb, 0, 1) * 255.0


def _paste(canvas: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """Composite ``rgb`` with ``alpha`` onto ``canvas`` (in place) with its top-left at ``(x, y)``, clipped."""
    H, W = canvas.shape[:2]
    h, w = alpha.shape
    cx0, cy0, cx1, cy1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    a = alpha[cy0 - y:cy1 - y, cx0 - x:cx1 - x, None]
    region = canvas[cy0:cy1, cx0:cx1]
    region *= 1 - a
    region += a * rgb[cy0 - y:cy1 - y, cx0 - x:cx1 - x]


def _alpha_on_canvas(shape, alpha: np.ndarray, x: int, y: int) -> np.ndarray:
    out = np.zeros(shape, np.float32)
    _paste(out[..., None], np.ones(alpha.shape + (1,), np.float32), alpha, x, y)
    return out


def make_pair(rng: np.random.Generator, cutouts: list[Cutout], search_shape=(256, 256),
              query_side: tuple[float, float] | None = (40, 160), scale_range=SCALE_RANGE,
              max_distractors: int = 3, occlusion_p: float = 0.4, similar_color_p: float = 0.5,
              noise_p: float = 0.5) -> QueryPair:
    """One query/search pair (see the module docstring).

    Parameters
    ----------
    search_shape : (H, W)
        Size of the search composite in pixels.
    query_side : (low, high) or None
        The query's longest side is drawn from this range (the photo is resized to
        it); None keeps the object's own size in its photo.
    scale_range : (low, high)
        Pasted size / query size, log-uniform (clamped so the object fits the canvas).
    """
    H, W = search_shape
    target = cutouts[rng.integers(len(cutouts))]
    x0, y0, x1, y1 = target.box
    native = max(x1 - x0, y1 - y0)
    query_len = native if query_side is None else rng.uniform(*query_side)
    query_len = min(query_len, 0.5 * min(H, W))
    # The query: the object's box with 0..8 % context per side, resized as drawn.
    margin = rng.uniform(0, 0.08, 4) * [x1 - x0, y1 - y0, x1 - x0, y1 - y0]
    qbox = (max(0.0, x0 - margin[0]), max(0.0, y0 - margin[1]),
            min(float(target.image.shape[1]), x1 + margin[2]), min(float(target.image.shape[0]), y1 + margin[3]))
    f = query_len / native
    qw, qh = max(8, round((qbox[2] - qbox[0]) * f)), max(8, round((qbox[3] - qbox[1]) * f))
    query = np.asarray(Image.fromarray(target.image).resize((qw, qh), Image.BILINEAR, box=qbox,
                                                           reducing_gap=2.0))

    canvas = _background(rng, cutouts, target, (H, W))
    scale = _log_uniform(rng, *scale_range)
    side = float(np.clip(scale * query_len, 0.1 * min(H, W), 0.7 * min(H, W)))
    scale = side / query_len
    rgb, alpha = _warped_object(rng, target, side, distort=True, blur=True)
    rgb = _relight(rng, rgb)
    h, w = alpha.shape
    x, y = int(rng.integers(0, max(1, W - w + 1))), int(rng.integers(0, max(1, H - h + 1)))

    # Distractors first (behind the object), some of the same kind, some of the object's colour.
    same_kind = [c for c in cutouts if c.dataset == target.dataset and c is not target]
    for _ in range(int(rng.integers(0, max_distractors + 1))):
        pool = same_kind if same_kind and rng.random() < 0.5 else cutouts
        other = pool[rng.integers(len(pool))]
        if other is target:
            continue
        d_rgb, d_alpha = _warped_object(rng, other, side * _log_uniform(rng, 0.6, 1.5), distort=True, blur=True)
        if rng.random() < similar_color_p:
            d_rgb = np.clip(d_rgb + (target.mean_color - other.mean_color), 0, 255)
        dh, dw = d_alpha.shape
        _paste(canvas, d_rgb, d_alpha, int(rng.integers(-dw // 4, W - dw // 2)), int(rng.integers(-dh // 4, H - dh // 2)))

    _paste(canvas, rgb, alpha, x, y)
    full = _alpha_on_canvas((H, W), alpha, x, y) > 0.5
    visible = full.copy()
    if rng.random() < occlusion_p:
        for _ in range(3):  # an occluder that hides 10..50 % of the object, or none
            other = cutouts[rng.integers(len(cutouts))]
            if other is target:
                continue
            o_rgb, o_alpha = _warped_object(rng, other, side * rng.uniform(0.5, 1.0), distort=True, blur=False)
            oh, ow = o_alpha.shape
            ox = int(x + w / 2 + rng.uniform(-0.8, 0.8) * w / 2 - ow / 2)
            oy = int(y + h / 2 + rng.uniform(-0.8, 0.8) * h / 2 - oh / 2)
            cover = _alpha_on_canvas((H, W), o_alpha, ox, oy) > 0.5
            hidden = (full & cover).sum() / max(1, full.sum())
            if 0.1 <= hidden <= 0.5:
                _paste(canvas, o_rgb, o_alpha, ox, oy)
                visible = full & ~cover
                break
    if rng.random() < noise_p:
        canvas += rng.normal(0, rng.uniform(1, 8), canvas.shape).astype(np.float32)
    ys, xs = np.nonzero(full)
    if len(xs) == 0:  # the object fell outside the canvas (degenerate warp): draw again
        return make_pair(rng, cutouts, search_shape, query_side, scale_range, max_distractors,
                         occlusion_p, similar_color_p, noise_p)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    search = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    return QueryPair(query, search, visible, box, float(scale))


# -- the development set ----------------------------------------------------------------------------
def write_dev_set(folder, root, count: int = 300, seed: int = 0, progress: bool = True, split: str = "test") -> Path:
    """Draw the benchmark's development pairs from the **test** split of ``root`` and save them.

    (``split="validation"`` draws the same kind of pairs from the training's validation
    part, for design decisions that must not look at the test split.)

    Search composites are 512 x 384 or 384 x 512 (the photos' usual size), the
    queries keep the object's own size in its photo (capped at half the search
    side), pasted at 0.5..2x. Writes ``query/NNNN.png``, ``search/NNNN.png``,
    ``mask/NNNN.png`` and ``pairs.json`` (boxes, scales, seed, version).
    """
    folder = Path(folder)
    cutouts = load_cutouts(root, split, progress=progress)
    rng = np.random.default_rng(seed)
    for sub in ("query", "search", "mask"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    records = []
    for i in tqdm(range(count), desc="development pairs", disable=not progress):
        shape = (384, 512) if rng.random() < 0.6 else (512, 384)
        pair = make_pair(rng, cutouts, shape, query_side=None)
        name = f"{i:04d}"
        Image.fromarray(pair.query).save(folder / "query" / f"{name}.png")
        Image.fromarray(pair.search).save(folder / "search" / f"{name}.png")
        Image.fromarray(pair.mask.astype(np.uint8) * 255).save(folder / "mask" / f"{name}.png")
        records.append({"name": name, "box": list(pair.box), "scale": round(pair.scale, 4)})
    manifest = {"version": DEV_SET_VERSION, "seed": seed, "count": count, "split": split, "root": os.fspath(root),
                "pairs": records}
    tmp = folder / "pairs.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, folder / "pairs.json")  # written last: a folder with pairs.json is complete
    return folder


def read_dev_set(folder, limit: int | None = None) -> list[QueryPair]:
    """The pairs saved by :func:`write_dev_set` (the first ``limit`` when given)."""
    folder = Path(folder)
    manifest = json.loads((folder / "pairs.json").read_text())
    pairs = []
    for record in manifest["pairs"][:limit]:
        name = record["name"]
        read = lambda sub: np.asarray(Image.open(folder / sub / f"{name}.png"))  # noqa: E731
        pairs.append(QueryPair(read("query"), read("search"), read("mask") > 127, tuple(record["box"]), record["scale"]))
    return pairs


def dev_set(folder, root, count: int = 300, seed: int = 0, progress: bool = True,
            split: str = "test") -> list[QueryPair]:
    """The saved development set in ``folder``, drawn first when missing or of another recipe/seed/count/split."""
    folder = Path(folder)
    manifest = folder / "pairs.json"
    if manifest.exists():
        saved = json.loads(manifest.read_text())
        if (saved.get("version"), saved.get("seed"), saved.get("count"), saved.get("split", "test")) == (
                DEV_SET_VERSION, seed, count, split):
            return read_dev_set(folder)
    write_dev_set(folder, root, count, seed, progress, split)
    return read_dev_set(folder)
