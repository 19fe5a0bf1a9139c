"""Batch outputs on disk: atomic PNG writes, the resume check, and the summary table."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
from PIL import Image

#: Columns of ``summary.csv``.
SUMMARY_COLUMNS = ("name", "status", "seconds", "value", "message")


def output_path(out_dir, name: str, kind: str) -> Path:
    return Path(out_dir) / f"{name}_{kind}.png"


def write_png_atomic(path, array: np.ndarray) -> None:
    """Write (H, W) uint8 ``array`` as a PNG at ``path`` via a temporary file and a rename, so the
    path holds either nothing or a complete image, whatever interrupts the write."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        Image.fromarray(np.ascontiguousarray(array)).save(tmp, format="PNG")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def outputs_complete(out_dir, name: str, kinds, image_size: tuple[int, int] | None = None) -> bool:
    """Whether every ``<name>_<kind>.png`` exists and decodes (and, given ``image_size`` (H, W), has it)."""
    for kind in kinds:
        path = output_path(out_dir, name, kind)
        if not path.is_file():
            return False
        try:
            with Image.open(path) as image:
                image.load()
                if image_size is not None and image.size != (image_size[1], image_size[0]):
                    return False
        except (OSError, ValueError):
            return False
    return True


def write_summary(out_dir, rows: list[dict]) -> Path:
    """``summary.csv`` in ``out_dir`` (atomically), one row per image, columns :data:`SUMMARY_COLUMNS`."""
    path = Path(out_dir) / "summary.csv"
    tmp = path.with_name(f".summary.csv.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, SUMMARY_COLUMNS)
        writer.writeheader()
        for row in sorted(rows, key=lambda r: r["name"]):
            writer.writerow({k: row.get(k, "") for k in SUMMARY_COLUMNS})
    os.replace(tmp, path)
    return path


def read_summary(out_dir) -> list[dict]:
    """The rows of ``out_dir/summary.csv`` (empty when there is none)."""
    path = Path(out_dir) / "summary.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
