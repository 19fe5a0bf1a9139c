"""In-memory image/mask sets and random crops for training.

Images are kept as uint8 arrays; each sample is one resample through
``core.crops.CropWindow`` (the transform inference uses too, so training crops
and inference crops agree), then a flip, so augmentation costs little next to
the network.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm.auto import tqdm

from ..core.crops import CropWindow, square_box
from ..data import dataset_folders, list_pairs, load_mask, split_pairs


@dataclass
class Item:
    """One image (H, W, 3) uint8, its mask (H, W) bool and the object box."""

    image: np.ndarray
    mask: np.ndarray
    box: tuple[int, int, int, int]
    name: str


def load_items(root, split: str, limit: int | None = None, progress: bool = True) -> list[Item]:
    """Read the ``split`` of every dataset under ``root`` (see ``segwidgets.data.dataset_folders`` and ``split_pairs``).

    Masks with no object pixels are skipped (nothing to learn a box from).
    """
    pairs = []
    for folder in dataset_folders(root):
        chosen = split_pairs(list_pairs(folder / "images", folder / "masks"), split)
        pairs += chosen[:limit] if limit else chosen
    items = []
    for image_path, mask_path in tqdm(pairs, desc=f"loading {split}", disable=not progress):
        with Image.open(image_path) as pil:
            image = np.asarray(pil.convert("RGB"))
        mask, _ = load_mask(mask_path)
        if not mask.any():
            continue
        ys, xs = np.nonzero(mask)
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        items.append(Item(np.ascontiguousarray(image), mask, box, f"{image_path.parent.parent.name}/{image_path.stem}"))
    return items


def load_fit_and_validation(args, loader=load_items, what: str = "images") -> tuple[list, list]:
    """The ``fit`` and ``validation`` parts of the train split under ``args.data`` (``args.limit`` per
    folder) read by ``loader``; prints their sizes. The test split is never read."""
    fit = loader(args.data, "fit", limit=args.limit)
    validation = loader(args.data, "validation", limit=args.limit)
    print(f"training on {len(fit)} {what}, validating on {len(validation)} (test split never read)")
    return fit, validation


def edge_band(mask: torch.Tensor, width: int = 2) -> torch.Tensor:
    """Pixels within ``width`` of a mask edge: (N, 1, H, W) float {0, 1} from a {0, 1} mask."""
    k = 2 * width + 1
    dilated = F.max_pool2d(mask, k, stride=1, padding=width)
    eroded = -F.max_pool2d(-mask, k, stride=1, padding=width)
    return (dilated - eroded).clamp(0, 1)


def sample_box(rng: np.random.Generator, item: Item, whole_image_p: float = 0.25, cut_p: float = 0.2):
    """A random square crop box: the whole image, a crop around the object, or one that cuts it."""
    h, w = item.image.shape[:2]
    if rng.random() < whole_image_p:
        box = square_box((0, 0, w, h), rng.uniform(1.0, 1.15))
        shift = 0.05 * (box[2] - box[0])
        dx, dy = rng.uniform(-shift, shift, 2)
        return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)
    scale = rng.uniform(0.7, 1.1) if rng.random() < cut_p else rng.uniform(1.15, 1.9)
    box = square_box(item.box, scale)
    side = box[2] - box[0]
    dx, dy = rng.uniform(-0.1 * side, 0.1 * side, 2)
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)


def color_jitter(rng: np.random.Generator, image: torch.Tensor) -> torch.Tensor:
    """Random brightness, contrast and saturation on a (3, H, W) image in [0, 1]."""
    b, c, s = rng.uniform(0.75, 1.25, 3)
    image = image * b
    mean = image.mean()
    image = (image - mean) * c + mean
    gray = image.mean(dim=0, keepdim=True)
    image = (image - gray) * s + gray
    return image.clamp(0, 1)


def make_batch(rng: np.random.Generator, items: list[Item], batch_size: int, size: int, augment: bool = True, indices=None):
    """Random crops: images (N, 3, S, S) in [0, 1], masks (N, 1, S, S) {0, 1}, edges (N, 1, S, S) {0, 1}."""
    if indices is None:
        indices = rng.integers(0, len(items), batch_size)
    images, masks, inside = [], [], []
    for index in indices:
        item = items[index]
        box = sample_box(rng, item) if augment else square_box(item.box, 1.4)
        flip = augment and rng.random() < 0.5
        window = CropWindow(box, (size, size), item.mask.shape)
        step = -1 if flip else 1  # a left-right mirror of the crop
        image = torch.from_numpy(np.ascontiguousarray(window.to_local_map(item.image)[:, ::step])).permute(2, 0, 1) / 255.0
        masks.append(torch.from_numpy(np.ascontiguousarray(window.to_local_mask(item.mask)[None, :, ::step])).float())
        inside.append(torch.from_numpy(np.ascontiguousarray(window.to_local_mask(np.ones(item.mask.shape, bool))[None, :, ::step])))
        images.append(color_jitter(rng, image) if augment else image)
    masks = torch.stack(masks)
    # Where the image frame cuts the object there is no object edge to learn.
    inside = torch.stack(inside).float()
    edges = edge_band(masks) * (1 - edge_band(inside))
    return torch.stack(images), masks, edges


def folder_means(values, items: list[Item], key: str) -> dict:
    """``{f"{key}_{folder}": mean}`` of per-sample ``values`` grouped by each item's dataset folder (rounded to 4
    places), so a validation log shows how each training set fares."""
    values = np.asarray(values, dtype=float)
    folders = np.array([item.name.split("/")[0] for item in items])
    return {f"{key}_{f}": round(float(values[folders == f].mean()), 4) for f in sorted(set(folders))}


def spread_indices(count: int, limit: int) -> np.ndarray:
    """At most ``limit`` indices spread evenly over ``range(count)``, so a capped validation set draws from every
    dataset folder (the items are in folder order)."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, limit).round().astype(int))

