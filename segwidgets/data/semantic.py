"""The clothing-parsing classes: ``seg/ccp_person`` garment labels grouped into 8 classes.

The grouping goes by the label *names* in the dataset's ``label_names.txt`` (so a
re-numbered file still maps right): every name must belong to exactly one group.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .folders import DEFAULT_DATA_ROOT, list_pairs
from .readers import label_names, load_label_map
from .split import split_pairs

#: Output classes, in the networks' channel order.
CLASS_NAMES = ("background", "skin", "hair", "upper clothes", "lower clothes", "dress", "footwear",
               "bags and accessories")

#: ccp_person label names per class (``null`` is the unlabelled background).
CLASS_GROUPS = {
    "background": ("null",),
    "skin": ("skin",),
    "hair": ("hair",),
    "upper clothes": ("blazer", "blouse", "bodysuit", "bra", "cape", "cardigan", "coat", "hoodie", "intimate",
                      "jacket", "jumper", "shirt", "suit", "sweater", "sweatshirt", "swimwear", "t-shirt", "top",
                      "vest"),
    "lower clothes": ("jeans", "leggings", "panties", "pants", "shorts", "skirt", "stockings", "tights"),
    "dress": ("dress", "romper"),
    "footwear": ("boots", "clogs", "flats", "heels", "loafers", "pumps", "sandals", "shoes", "sneakers", "socks",
                 "wedges"),
    "bags and accessories": ("accessories", "bag", "belt", "bracelet", "earrings", "glasses", "gloves", "hat",
                             "necklace", "purse", "ring", "scarf", "sunglasses", "tie", "wallet", "watch"),
}

#: The default dataset.
CCP_PERSON = DEFAULT_DATA_ROOT / "seg" / "ccp_person"


def class_lookup(names: list[str]) -> np.ndarray:
    """(len(names),) uint8: the class index of each label value, from the label names.

    Raises
    ------
    ValueError
        A name in no group (or in two), so a changed label file cannot be mapped silently.
    """
    group_of = {}
    for index, class_name in enumerate(CLASS_NAMES):
        for name in CLASS_GROUPS[class_name]:
            if name in group_of:
                raise ValueError(f"label {name!r} is in two classes")
            group_of[name] = index
    unknown = [name for name in names if name not in group_of]
    if unknown:
        raise ValueError(f"labels in no class group: {unknown}")
    return np.array([group_of[name] for name in names], np.uint8)


@dataclass
class LabelledImage:
    """One image (H, W, 3) uint8 and its class map (H, W) uint8 (indices into :data:`CLASS_NAMES`)."""

    image: np.ndarray
    classes: np.ndarray
    name: str


def labelled_pairs(folder=CCP_PERSON, split: str = "train") -> list[tuple[Path, Path]]:
    """``(image, label map)`` paths of one split of a labelled dataset (the shared split rule)."""
    folder = Path(folder)
    return split_pairs(list_pairs(folder / "images", folder / "labels"), split)


def load_labelled(folder=CCP_PERSON, split: str = "train", limit: int | None = None) -> list[LabelledImage]:
    """Read a split of ``folder`` with label maps grouped into :data:`CLASS_NAMES`."""
    from PIL import Image

    folder = Path(folder)
    lookup = class_lookup(label_names(folder))
    out = []
    for image_path, label_path in labelled_pairs(folder, split)[:limit or None]:
        with Image.open(image_path) as pil:
            image = np.ascontiguousarray(np.asarray(pil.convert("RGB")))
        labels = load_label_map(label_path)
        if labels.max() >= len(lookup):
            raise ValueError(f"{os.fspath(label_path)!r}: label {labels.max()} beyond label_names.txt")
        if labels.shape != image.shape[:2]:
            raise ValueError(f"{os.fspath(label_path)!r}: label map {labels.shape} for an image of {image.shape[:2]}")
        out.append(LabelledImage(image, lookup[labels], image_path.stem))
    return out
