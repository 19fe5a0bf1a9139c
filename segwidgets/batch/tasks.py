"""What one batch task does to one image: the pipelines a batch can run, each a pure function.

Each task reads one input image (and its per-image extras: a box, a trimap path), runs a
pipeline and returns the outputs to write as small uint8 arrays (masks, alphas, heat maps,
label maps: a few hundred kB per image, never traces or feature maps) and one summary
number. Tasks run in the client process or on a Dask worker; the engine comes from the
caller (one per process, so models load once per worker).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: The pipelines ``batch.run`` accepts.
PIPELINES = ("boundary_aware", "matting", "query", "semantic")


@dataclass(frozen=True)
class Task:
    """One image of a batch and what it needs.

    Attributes
    ----------
    name : str
        The image's file stem; outputs are ``<name>_<kind>.png``.
    image : str
        Path of the input image.
    box : (x0, y0, x1, y1) or None
        Object box (boundary-aware box mode).
    trimap : str or None
        Path of the trimap (matting).
    """

    name: str
    image: str
    box: tuple | None = None
    trimap: str | None = None


@dataclass
class TaskResult:
    """What a task sends back: ``outputs`` (kind -> (H, W) uint8) and ``value`` (mask area, score...)."""

    outputs: dict = field(default_factory=dict)
    value: float | None = None
    note: str = ""


def output_kinds(pipeline: str) -> tuple[str, ...]:
    """The output files each image of ``pipeline`` gets (``<name>_<kind>.png``)."""
    return {"boundary_aware": ("mask",), "matting": ("alpha",), "query": ("heat",), "semantic": ("labels",)}[pipeline]


def _load_image(path: str) -> np.ndarray:
    from ..core.image import as_rgb_image

    return as_rgb_image(path)  # raises ValueError naming the file for unreadable images


def run_task(pipeline: str, task: Task, params: dict, engine) -> TaskResult:
    """Run ``pipeline`` on ``task``; raises on bad input (the caller records the error and goes on)."""
    image = _load_image(task.image)
    if pipeline == "boundary_aware":
        from ..pipelines.boundary_aware import segment_object

        result = segment_object(image, box=task.box, engine=engine, **params)
        mask = result.mask
        return TaskResult({"mask": (mask * 255).astype(np.uint8)}, float(mask.mean()), "; ".join(result.warnings))
    if pipeline == "matting":
        from ..data.readers import load_trimap
        from ..pipelines.matting import estimate_alpha

        if task.trimap is None:
            raise FileNotFoundError(f"no trimap for {os.fspath(task.image)!r}")
        result = estimate_alpha(image, load_trimap(task.trimap), engine=engine, **params)
        alpha = np.clip(np.round(result.alpha * 255), 0, 255).astype(np.uint8)
        return TaskResult({"alpha": alpha}, float(result.alpha.mean()))
    if pipeline == "query":
        from ..pipelines.query import find_query

        params = dict(params)
        query = _load_image(params.pop("query"))
        result = find_query(query, image, params.pop("query_box", None), engine=engine, **params)
        heat = np.clip(np.round(result.heatmap * 255), 0, 255).astype(np.uint8)
        score = float(result.scores[0]) if len(result.scores) else 0.0
        box = ",".join(str(int(v)) for v in result.boxes[0]) if len(result.boxes) else ""
        return TaskResult({"heat": heat}, score, f"best box {box}" if box else "")
    if pipeline == "semantic":
        from ..pipelines.semantic import segment_semantic

        result = segment_semantic(image, engine=engine, **params)
        return TaskResult({"labels": result.labels.astype(np.uint8)}, float((result.labels > 0).mean()))
    raise ValueError(f"unknown pipeline {pipeline!r}; expected one of {PIPELINES}")


def read_boxes(path) -> dict[str, tuple]:
    """Boxes per image stem from a CSV (``name,x0,y0,x1,y1`` rows, a header line allowed) or a JSON
    object (``{"name": [x0, y0, x1, y1]}``)."""
    import csv
    import json

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"boxes file not found: {os.fspath(path)!r}")
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{os.fspath(path)!r}: expected a JSON object of name -> [x0, y0, x1, y1]")
        return {Path(k).stem: tuple(float(v) for v in box) for k, box in data.items()}
    boxes = {}
    with open(path, newline="") as f:
        for number, row in enumerate(csv.reader(f), 1):
            if not row or (number == 1 and not _is_number(row[-1])):
                continue  # blank line or header
            if len(row) != 5:
                raise ValueError(f"{os.fspath(path)!r} line {number}: expected name,x0,y0,x1,y1, got {row}")
            boxes[Path(row[0]).stem] = tuple(float(v) for v in row[1:])
    return boxes


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
