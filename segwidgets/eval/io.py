"""Reading image/mask folders in the shared data layout."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def list_pairs(images_dir, masks_dir, limit: int | None = None) -> list[tuple[Path, Path]]:
    """Sorted ``(image, mask)`` path pairs matched by file stem (``NAME.jpg`` <-> ``NAME.png``).

    Raises ``FileNotFoundError`` for a missing folder or an image without a mask.
    """
    images_dir, masks_dir = Path(images_dir), Path(masks_dir)
    for folder in (images_dir, masks_dir):
        if not folder.is_dir():
            raise FileNotFoundError(f"folder not found: {os.fspath(folder)!r}")
    masks = {p.stem: p for p in masks_dir.iterdir() if p.suffix.lower() == ".png"}
    pairs = []
    for image in sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        if image.stem not in masks:
            raise FileNotFoundError(f"no mask {image.stem}.png in {os.fspath(masks_dir)!r} for image {image.name}")
        pairs.append((image, masks[image.stem]))
    return pairs[:limit] if limit else pairs


def load_mask(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a ground-truth mask as ``(object, ignore)``, two (H, W) bool arrays.

    Conventions: palette (mode "P") masks as in DAVIS: 0 background, 255 void
    (ignored), any other index object. Grayscale masks: 0 background, 128
    ignored (the GrabCut dataset's unknown band), values above 128 object.
    """
    with Image.open(path) as pil:
        palette = pil.mode == "P"
        values = np.asarray(pil if palette else pil.convert("L"))
    if palette:
        ignore = values == 255
        return (values > 0) & ~ignore, ignore
    ignore = values == 128
    return values > 128, ignore


#: Every ``TEST_EVERY``-th file (sorted by name, index 0, 10, 20, ...) is in the test split.
TEST_EVERY = 10
#: Within the train split, index ``i % 10 == VALIDATION_REMAINDER`` is held out for validation while training.
VALIDATION_REMAINDER = 5


def split_pairs(pairs: list, split: str) -> list:
    """Select the shared data's split from sorted pairs.

    ``split``: ``"test"`` (index % 10 == 0, the data README's rule), ``"train"``
    (everything else), or, inside train, ``"fit"`` (what is trained on) and
    ``"validation"`` (index % 10 == 5, watched during training).
    """
    rules = {
        "test": lambda i: i % TEST_EVERY == 0,
        "train": lambda i: i % TEST_EVERY != 0,
        "fit": lambda i: i % TEST_EVERY not in (0, VALIDATION_REMAINDER),
        "validation": lambda i: i % TEST_EVERY == VALIDATION_REMAINDER,
    }
    if split not in rules:
        raise ValueError(f"split must be one of {sorted(rules)}, got {split!r}")
    return [pair for i, pair in enumerate(pairs) if rules[split](i)]
