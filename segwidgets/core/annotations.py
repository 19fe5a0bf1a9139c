"""Saving and loading a user's edits (clicks, boxes, strokes, masks, trimaps) with the image they belong to.

A save writes ``NAME.json`` plus, when present, ``NAME.mask.png`` and
``NAME.trimap.png`` next to it. The JSON records the image's shape and content
hash, and loading refuses annotations made for another image. Every file is
written to a temporary name and renamed, so an interrupted save never leaves a
half-written file over a good one.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .clicks import Click
from .image import as_mask, as_rgb_image, image_hash
from .strokes import Stroke

FORMAT = "segwidgets-annotations"
VERSION = 1
TRIMAP_VALUES = (0, 128, 255)


@dataclass(frozen=True)
class Annotations:
    """A user's edits of one image.

    Attributes
    ----------
    clicks : tuple of Click
    boxes : tuple of (x0, y0, x1, y1) float, image pixels
    strokes : tuple of Stroke
    mask : (H, W) bool or None
    trimap : (H, W) uint8 with values 0 / 128 / 255, or None
    """

    clicks: tuple[Click, ...] = ()
    boxes: tuple[tuple[float, float, float, float], ...] = ()
    strokes: tuple[Stroke, ...] = ()
    mask: np.ndarray | None = field(default=None, repr=False)
    trimap: np.ndarray | None = field(default=None, repr=False)


def annotation_path(path) -> Path:
    """``path`` with a ``.json`` suffix (``work/cat`` and ``work/cat.json`` name the same save)."""
    path = Path(path)
    return path if path.suffix == ".json" else path.with_name(path.name + ".json")


def save_annotations(path, image, annotations: Annotations) -> Path:
    """Write ``annotations`` of ``image`` to ``path`` (``.json``; masks as PNG beside it).

    Returns the JSON path. ``ValueError`` for a mask or trimap that does not fit the image.
    """
    image = as_rgb_image(image)
    shape = image.shape[:2]
    path = annotation_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stem = path.name[: -len(".json")]
    payload = {
        "format": FORMAT, "version": VERSION,
        "image": {"shape": list(shape), "hash": image_hash(image)},
        "clicks": [c.to_dict() for c in annotations.clicks],
        "boxes": [[float(v) for v in box] for box in annotations.boxes],
        "strokes": [s.to_dict() for s in annotations.strokes],
        "mask": None, "trimap": None,
    }
    if annotations.mask is not None:
        mask = as_mask(annotations.mask, shape, "mask")
        payload["mask"] = f"{stem}.mask.png"
        _write_atomic(path.parent / payload["mask"], lambda f: Image.fromarray(mask.astype(np.uint8) * 255).save(f, "PNG"))
    if annotations.trimap is not None:
        trimap = _check_trimap(np.asarray(annotations.trimap), shape, "trimap")
        payload["trimap"] = f"{stem}.trimap.png"
        _write_atomic(path.parent / payload["trimap"], lambda f: Image.fromarray(trimap).save(f, "PNG"))
    _write_atomic(path, lambda f: f.write(json.dumps(payload, indent=1).encode()))
    return path


def load_annotations(path, image) -> Annotations:
    """Read annotations saved by :func:`save_annotations` for this same ``image``.

    Raises
    ------
    FileNotFoundError
        The JSON file (or a PNG it names) does not exist.
    ValueError
        The file is not a readable segwidgets annotation file, or it was saved for
        another image (different shape or content); the message names the file.
    """
    image = as_rgb_image(image)
    shape = image.shape[:2]
    path = annotation_path(path)
    if not path.exists():
        raise FileNotFoundError(f"annotation file not found: {os.fspath(path)}")
    try:
        payload = json.loads(path.read_text())
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError("it does not say it is one")
        if payload.get("version") != VERSION:
            raise ValueError(f"version {payload.get('version')!r}, this segwidgets reads version {VERSION}")
        saved_shape = tuple(payload["image"]["shape"])
        saved_hash = payload["image"]["hash"]
        clicks = tuple(Click.from_dict(c) for c in payload["clicks"])
        boxes = tuple(_box(b) for b in payload["boxes"])
        strokes = tuple(Stroke.from_dict(s) for s in payload["strokes"])
    except KeyError as exc:
        raise ValueError(f"{os.fspath(path)} is not a readable segwidgets annotation file: it lacks the field {exc}") from exc
    except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
        raise ValueError(f"{os.fspath(path)} is not a readable segwidgets annotation file: {exc}") from exc
    if saved_shape != shape or saved_hash != image_hash(image):
        why = f"shape {list(saved_shape)}, this one {list(shape)}" if saved_shape != shape else "same shape, other pixels"
        raise ValueError(f"{os.fspath(path)} was saved for another image ({why})")
    mask = trimap = None
    if payload.get("mask"):
        mask = _read_png(_beside(path, payload["mask"]), shape) > 127
    if payload.get("trimap"):
        trimap_path = _beside(path, payload["trimap"])
        trimap = _check_trimap(_read_png(trimap_path, shape), shape, os.fspath(trimap_path))
    return Annotations(clicks, boxes, strokes, mask, trimap)


def _beside(path: Path, name) -> Path:
    """The file ``name`` a state file refers to, which must lie in the state file's own folder
    (a state file from elsewhere must not make us read arbitrary files)."""
    if not isinstance(name, str):
        raise ValueError(f"{os.fspath(path)}: expected a file name for the mask/trimap, got {name!r}")
    folder = path.parent.resolve()
    target = (folder / name).resolve()
    if target.parent != folder:
        raise ValueError(f"{os.fspath(path)} refers to {name!r}, outside its own folder; "
                         "mask and trimap files must sit beside the state file")
    return target


def _box(values) -> tuple[float, float, float, float]:
    box = tuple(float(v) for v in values)
    if len(box) != 4:
        raise ValueError(f"a box needs four numbers (x0, y0, x1, y1), got {values!r}")
    return box


def _check_trimap(trimap: np.ndarray, shape, name: str) -> np.ndarray:
    if trimap.shape != tuple(shape) or trimap.dtype != np.uint8:
        raise ValueError(f"expected {name} of shape {tuple(shape)} and dtype uint8, got {trimap.shape} {trimap.dtype}")
    if not np.isin(trimap, TRIMAP_VALUES).all():
        raise ValueError(f"{name} may only hold the values {TRIMAP_VALUES}")
    return trimap


def _read_png(path: Path, shape) -> np.ndarray:
    if not path.exists():
        raise FileNotFoundError(f"annotation image not found: {os.fspath(path)}")
    try:
        with Image.open(path) as pil:
            values = np.asarray(pil.convert("L"))
    except (OSError, UnidentifiedImageError) as exc:
        raise ValueError(f"could not read {os.fspath(path)}: {exc}") from exc
    if values.shape != tuple(shape):
        raise ValueError(f"{os.fspath(path)} is {values.shape}, the image is {tuple(shape)}")
    return values


def _write_atomic(path: Path, write) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
