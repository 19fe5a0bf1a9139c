"""The number-of-clicks (NoC) protocol of interactive segmentation.

After each prediction the next click goes where the error is thickest: at the
maximum of the distance transform of the false-negative and false-positive
regions (taken to the image border as well), positive when that point was
missed object, negative when it was false object. The image border counts as
far from nothing (masks are padded), so a click never lands on the frame.
This is the protocol of RITM and the papers before it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import ndimage

from .metrics import iou


@dataclass(frozen=True)
class SimulatedClick:
    """A click the protocol placed: ``(x, y)`` pixel (column, row) and its sign."""

    x: int
    y: int
    positive: bool


def _inner_distance(region: np.ndarray) -> np.ndarray:
    """Distance to the nearest pixel outside ``region`` (the image border counts as outside)."""
    padded = np.pad(region, 1, constant_values=False)
    return ndimage.distance_transform_edt(padded)[1:-1, 1:-1]


def next_click(prediction: np.ndarray, target: np.ndarray, ignore: np.ndarray | None = None) -> SimulatedClick | None:
    """The protocol's next click for (H, W) bool ``prediction`` against ``target``; None when nothing is wrong."""
    valid = ~ignore if ignore is not None else np.ones_like(target)
    missed = target & ~prediction & valid
    false = prediction & ~target & valid
    if not missed.any() and not false.any():
        return None
    d_missed, d_false = _inner_distance(missed), _inner_distance(false)
    positive = d_missed.max() >= d_false.max()
    d = d_missed if positive else d_false
    y, x = np.unravel_index(np.argmax(d), d.shape)
    return SimulatedClick(int(x), int(y), bool(positive))


def first_click(target: np.ndarray, rng: np.random.Generator | None = None, depth: float = 0.5) -> SimulatedClick:
    """A positive click inside ``target`` at least ``depth`` x its deepest distance from the edge
    (random among those with ``rng``; the deepest point without)."""
    d = _inner_distance(target)
    if rng is None:
        y, x = np.unravel_index(np.argmax(d), d.shape)
    else:
        ys, xs = np.nonzero(d >= depth * d.max())
        i = rng.integers(len(ys))
        y, x = ys[i], xs[i]
    return SimulatedClick(int(x), int(y), True)


def simulate_clicks(
    predict: Callable[[list[SimulatedClick]], np.ndarray],
    target: np.ndarray,
    ignore: np.ndarray | None = None,
    max_clicks: int = 20,
    stop_iou: float | None = None,
    min_clicks: int = 5,
) -> tuple[list[float], list[SimulatedClick]]:
    """Run the protocol on one image.

    ``predict(clicks)`` gets all clicks so far and returns the (H, W) bool mask.
    Stops after ``max_clicks``, when nothing is wrong any more, or (when
    ``stop_iou`` is given) once the IoU reaches it after at least ``min_clicks``.

    Returns ``(ious, clicks)``: IoU after click 1, 2, ... and the clicks placed.
    """
    clicks = [next_click(np.zeros_like(target), target, ignore)]
    ious: list[float] = []
    while True:
        mask = predict(list(clicks))
        ious.append(iou(mask, target, ignore))
        if len(clicks) >= max_clicks or (stop_iou is not None and len(clicks) >= min_clicks and ious[-1] >= stop_iou):
            return ious, clicks
        click = next_click(mask, target, ignore)
        if click is None:
            return ious, clicks
        clicks.append(click)


def number_of_clicks(ious: list[float], threshold: float, max_clicks: int = 20) -> int:
    """Clicks needed to reach ``threshold`` IoU (``max_clicks`` when never reached)."""
    for i, value in enumerate(ious[:max_clicks]):
        if value >= threshold:
            return i + 1
    return max_clicks


def iou_after(ious: list[float], clicks: int) -> float:
    """IoU after ``clicks`` clicks; a curve that stopped early (target reached) keeps its last value."""
    return ious[min(clicks, len(ious)) - 1]
