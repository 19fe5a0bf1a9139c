"""The real mattes in the shared data, and which ones may be trained on.

``matting/alphamatting_dev``: images GT01..GT13 with ``alpha/`` and two trimaps
(``trimap1/`` narrow, ``trimap2/`` wide). GT01..GT08 are for fine-tuning;
GT09..GT13 and the lemur (``matting/lemur``) are never trained on, so they
measure how the networks do on mattes they have not seen.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .folders import DEFAULT_DATA_ROOT
from .readers import load_alpha, load_trimap

#: Real mattes the training command may use (fine-tuning).
FINETUNE_MATTES = tuple(f"GT{i:02d}" for i in range(1, 9))
#: Real mattes kept out of training, for evaluation only.
UNSEEN_MATTES = tuple(f"GT{i:02d}" for i in range(9, 14))
#: The trimap folders of ``alphamatting_dev``.
ALPHAMATTING_TRIMAPS = ("trimap1", "trimap2")


@dataclass
class MattingExample:
    """One image with its ground-truth alpha and trimaps.

    image : (H, W, 3) uint8 RGB; alpha : (H, W) float32 in [0, 1];
    trimaps : {name: (H, W) uint8 in {0, 128, 255}}.
    """

    name: str
    image: np.ndarray
    alpha: np.ndarray
    trimaps: dict = field(default_factory=dict)


def _rgb(path: Path) -> np.ndarray:
    if not path.exists():
        raise FileNotFoundError(f"matting image not found: {os.fspath(path)}")
    with Image.open(path) as pil:
        return np.asarray(pil.convert("RGB"))


def load_alphamatting(folder=None, names=FINETUNE_MATTES, skip_missing: bool = False) -> list[MattingExample]:
    """Read ``names`` (e.g. :data:`FINETUNE_MATTES`) from an ``alphamatting_dev`` layout folder.

    A name without an image is a ``FileNotFoundError``, or skipped with ``skip_missing``.
    Only the files of ``names`` are opened.
    """
    folder = Path(folder or DEFAULT_DATA_ROOT / "matting" / "alphamatting_dev")
    examples = []
    for name in names:
        if skip_missing and not (folder / "images" / f"{name}.png").exists():
            continue
        trimaps = {t: load_trimap(folder / t / f"{name}.png") for t in ALPHAMATTING_TRIMAPS
                   if (folder / t / f"{name}.png").exists()}
        examples.append(MattingExample(name, _rgb(folder / "images" / f"{name}.png"),
                                       load_alpha(folder / "alpha" / f"{name}.png"), trimaps))
    return examples


def load_lemur(folder=None) -> MattingExample:
    """The lemur (``lemur.png``, ``lemur_alpha.png``, ``lemur_trimap.png``): evaluation only."""
    folder = Path(folder or DEFAULT_DATA_ROOT / "matting" / "lemur")
    return MattingExample("lemur", _rgb(folder / "lemur.png"), load_alpha(folder / "lemur_alpha.png"),
                          {"trimap": load_trimap(folder / "lemur_trimap.png")})
