"""The number-of-clicks (NoC) protocol of interactive segmentation.

After each prediction the next click goes where the error is thickest (see
``segwidgets.core.click_simulation``: the maximum of the distance transform of
the false-negative and false-positive regions, never on the image frame),
positive on missed object, negative on false object. This is the protocol of
RITM and the papers before it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..core.click_simulation import next_click
from ..core.clicks import Click
from .metrics import iou


def simulate_clicks(
    predict: Callable[[list[Click]], np.ndarray],
    target: np.ndarray,
    ignore: np.ndarray | None = None,
    max_clicks: int = 20,
    stop_iou: float | None = None,
    min_clicks: int = 5,
) -> tuple[list[float], list[Click]]:
    """Run the protocol on one image.

    ``predict(clicks)`` gets all clicks so far (``core.clicks.Click`` at pixel
    centres, image coordinates) and returns the (H, W) bool mask.
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
